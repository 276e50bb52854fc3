"""The chain covers everything the register shows; the database enforces the purge rules.

* ``events.mac``: HMAC-SHA256 of the event's hash with the school's key. An event with a MAC
  is hashed with content version 2 (its id and category too), see kiosk/domain/chain.py.
* Reference data (staff and roles, stores, devices, policies, kiosk settings) becomes a
  projection of ``reference_changed`` events: the database applies each one to its table
  (SQLite AFTER INSERT triggers; PostgreSQL a SECURITY DEFINER trigger function), so on
  PostgreSQL the kiosk role only needs SELECT on the lists and SELECT, INSERT on events.
  The baseline event per existing row is recorded by the kiosk at its first write after this
  revision (it needs the school's key for the MACs), see kiosk/services/reference.py.
* SQLite's delete trigger keeps events less than a year old and the newest event of every
  stream that defines current state, whatever a checkpoint or guard row says.
* PostgreSQL: the purge function checks admin, one year, current state; the kiosk role may
  no longer call it, nor INSERT/UPDATE/DELETE the lists.

The trigger and function text lives in kiosk/db/guards.py (``kiosk restore`` puts the SQLite
triggers back from there and checks them).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

from kiosk.db import guards

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = guards.ROLE


def _schema() -> str:
    bind = op.get_bind()
    name = bind.exec_driver_sql("SELECT current_schema()").scalar()
    return bind.dialect.identifier_preparer.quote(str(name))


def _revision_0003() -> ModuleType:
    path = Path(__file__).with_name("0003_purge_checkpoints_and_kiosk_role.py")
    spec = importlib.util.spec_from_file_location("kiosk_revision_0003", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    op.add_column("events", sa.Column("mac", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        guards.install_sqlite(bind)
        return
    op.execute(guards.PG_APPLY_FUNCTION)
    op.execute("DROP TRIGGER IF EXISTS events_apply_reference ON events")
    op.execute(guards.PG_APPLY_TRIGGER)
    op.execute(guards.PG_PURGE_FUNCTION)
    schema = _schema()
    lists = ", ".join(guards.LIST_TABLES)
    for statement in (
        "REVOKE ALL ON FUNCTION kiosk_purge_events(bigint) FROM PUBLIC",
        f"REVOKE EXECUTE ON FUNCTION kiosk_purge_events(bigint) FROM {ROLE}",
        "REVOKE ALL ON FUNCTION kiosk_apply_reference() FROM PUBLIC",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {lists} FROM {ROLE}",
        f"GRANT SELECT ON {lists} TO {ROLE}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON events FROM {ROLE}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
        f"REVOKE INSERT, UPDATE, DELETE ON TABLES FROM {ROLE}",
    ):
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    old = _revision_0003()
    if bind.dialect.name == "sqlite":
        for name in guards.SQLITE_APPLY:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TRIGGER IF EXISTS events_no_delete")
        op.execute(old.SQLITE_DELETE_GUARDED)
        op.execute("ALTER TABLE events DROP COLUMN mac")
        return
    schema = _schema()
    lists = ", ".join(guards.LIST_TABLES)
    op.execute("DROP TRIGGER IF EXISTS events_apply_reference ON events")
    op.execute("DROP FUNCTION IF EXISTS kiosk_apply_reference()")
    op.execute("DROP FUNCTION IF EXISTS kiosk_purge_events(bigint)")
    op.execute(old.PG_PURGE_FUNCTION)
    for statement in (
        "REVOKE ALL ON FUNCTION kiosk_purge_events(bigint) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION kiosk_purge_events(bigint) TO {ROLE}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {lists} TO {ROLE}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLE}",
    ):
        op.execute(statement)
    op.drop_column("events", "mac")

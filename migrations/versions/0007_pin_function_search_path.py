"""PostgreSQL: the register's functions look names up in its own schema, never first in a
session's temporary tables.

Every login may create temporary tables (PostgreSQL grants TEMPORARY to PUBLIC), and a name
is looked up in the session's temporary schema *first* unless the search_path places
``pg_temp`` elsewhere. The functions of revisions 0003, 0005 and 0006 were created with
``SET search_path FROM CURRENT`` (``"$user", public``), so, run in a kiosk login's session:

* ``kiosk_guard_reference`` (0006) read a temporary ``kiosk_settings`` made by the kiosk's
  login instead of the real one: an empty one made the school look "not set up", and the
  login granted itself admin;
* ``kiosk_apply_reference`` (0005, SECURITY DEFINER) wrote to a temporary ``staff_roles``
  whose trigger, a temporary function of the kiosk's login, then ran with the OWNER's rights
  (it deleted events through a guard row and changed the lists directly).

This revision pins each function's search_path to the schema it lives in, then ``pg_temp``
(PostgreSQL's own advice for SECURITY DEFINER functions). ``kiosk verify`` names a function
of the register whose search_path does not end with ``pg_temp`` (kiosk/db/guards.py).

It also adds a CHECK to every ``timestamptz`` column of the register (events and the lists):
a time between 1900 and 9000. ``timestamptz`` holds ``infinity``, years after 9999 and BC
dates, which no reader can load (psycopg builds Python datetimes): one such event, INSERTed
by the kiosk's login without the key, made every later ``kiosk verify`` say "The database
is unavailable" (it could never again say "tampered with"); one such ``retired_at`` through
a list change broke every scan at every kiosk. A row already there that fails the check
(the attack itself, made before this revision) is left (events are append-only), the check
added ``NOT VALID`` for new rows, and `kiosk verify` names such an event as unreadable
(kiosk/services/integrity.py). A list row with such a time from before this revision is not
named: reading the lists fails, and verify says the database is unavailable (the threat
model's "out of reach").

SQLite has no roles and no such lookup, and keeps times as text verify already reads
(garbage is named): nothing changes there.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = (
    "events_append_only()",
    "kiosk_purge_events(bigint)",
    "kiosk_apply_reference()",
    "kiosk_guard_reference()",
)


# Every timestamptz column of the register: (table, column).
TIMES = (
    ("events", "occurred_at"),
    ("events", "due_at"),
    ("staff", "created_at"),
    ("staff", "retired_at"),
    ("stores", "created_at"),
    ("stores", "retired_at"),
    ("devices", "created_at"),
    ("devices", "retired_at"),
    ("policies", "published_at"),
    ("kiosk_settings", "updated_at"),
)
EARLIEST = "1900-01-01 00:00:00+00"
LATEST = "9000-01-01 00:00:00+00"


def _check_name(table: str, column: str) -> str:
    return f"ck_{table}_{column}_readable"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return
    name = bind.exec_driver_sql("SELECT current_schema()").scalar()
    schema = bind.dialect.identifier_preparer.quote(str(name))
    for function in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} SET search_path = {schema}, pg_temp")
    for table, column in TIMES:
        readable = f"{column} IS NULL OR ({column} > '{EARLIEST}' AND {column} < '{LATEST}')"
        unreadable = bind.exec_driver_sql(
            f"SELECT 1 FROM {table} WHERE NOT ({readable}) LIMIT 1"
        ).first()
        # A row already there that no reader can load is the attack itself: it stays (events
        # are append-only), named by verify; the check then guards new rows only.
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {_check_name(table, column)} CHECK "
            f"({readable}){' NOT VALID' if unreadable else ''}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in TIMES:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {_check_name(table, column)}")
    for function in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} SET search_path FROM CURRENT")

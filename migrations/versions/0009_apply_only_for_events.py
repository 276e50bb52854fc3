"""PostgreSQL: the function that applies list changes runs only as the trigger on events.

``kiosk_apply_reference`` (revision 0005) is SECURITY DEFINER: it writes the lists with the
owner's rights, for each ``reference_changed`` event. Revision 0005 revoked EXECUTE on it
from PUBLIC, and that revocation is all that kept it to events: a function made again with
DROP and CREATE, or a dump restored with ``--no-privileges`` (``-x``), is executable by every
role again. The kiosk's login (no school key needed) then made a temporary table of its own,
with an AFTER INSERT trigger calling it, and each row it inserted there was applied to the
lists as the owner: no event in the chain, and no revision 0006 guard (a trigger on events)
to refuse a new PIN hash or an admin.

This revision makes the function refuse to run for any table but the register's ``events``
(``TG_RELID``, the table its trigger is on, looked up in the schema first: the function's
search_path is that schema, then ``pg_temp``). It keeps its search_path (revision 0007), its
owner and its grants. ``kiosk verify`` names a function from before this revision, and a
kiosk role that may execute it (kiosk/db/guards.py).

SQLite: nothing (its triggers are the file's own).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

from kiosk.db import guards

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = "kiosk_apply_reference"
_FIRST = "BEGIN\n    IF t = 'staff' THEN"
# The check comes first: nothing is written for a table that is not the register's events.
_ONLY_FOR_EVENTS = """BEGIN
    IF TG_RELID IS DISTINCT FROM 'events'::regclass THEN
        RAISE EXCEPTION 'kiosk_apply_reference applies list changes only as the trigger on events'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF t = 'staff' THEN"""


def _schema() -> str:
    bind = op.get_bind()
    name = bind.exec_driver_sql("SELECT current_schema()").scalar()
    return bind.dialect.identifier_preparer.quote(str(name))


def _install(source: str) -> None:
    op.execute(source)
    op.execute(f"ALTER FUNCTION {FUNCTION}() SET search_path = {_schema()}, pg_temp")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    assert guards.PG_APPLY_FUNCTION.count(_FIRST) == 1
    _install(guards.PG_APPLY_FUNCTION.replace(_FIRST, _ONLY_FOR_EVENTS))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    _install(guards.PG_APPLY_FUNCTION)  # revision 0005's, its search_path as 0007 left it

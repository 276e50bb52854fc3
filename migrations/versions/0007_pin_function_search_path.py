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
SQLite has no roles and no such lookup: nothing changes there.

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


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return
    name = bind.exec_driver_sql("SELECT current_schema()").scalar()
    schema = bind.dialect.identifier_preparer.quote(str(name))
    for function in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} SET search_path = {schema}, pg_temp")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for function in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} SET search_path FROM CURRENT")

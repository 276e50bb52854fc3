"""PostgreSQL: an event's id may not leap far past the newest event's.

The kiosk gives each event the id after the newest (a few more past corrections that name
ids ahead). Nothing in the database held the kiosk's login to that: with the school key every
kiosk holds, it recorded one event at id 9223372036854775807, the largest a ``bigint`` holds,
chained and MACed as the kiosk would, and no kiosk could record anything after it, for good
(events are append-only). ``kiosk verify`` names such an event since round 17; this revision
refuses it: a BEFORE INSERT trigger on ``events`` (``events_guard_id``) refuses an id more
than 4,294,967,296 past the newest event's. Ids that far on are then 4 billion inserts away.
It refuses an id at or below the newest event's too: the login (no key needed) slipped one
event in below the first (id 0), and every yearly purge, which must remove it with the
events after it, refused the range as not verifying, for good.
A dump restored with ``pg_restore`` loads the rows before it creates the triggers.

The function ``kiosk_guard_event_id`` looks tables up in its schema, then ``pg_temp`` (as
revision 0007 pins the others), and no role may execute it but as the trigger. ``kiosk
verify`` names the trigger or the function missing or changed (kiosk/db/guards.py).

The SQL is this revision's own: a later change to kiosk/db/guards.py does not change what
this revision installed.

SQLite: nothing (a shell with the file can drop any trigger; verify names the event).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = "kiosk_guard_event_id"
TRIGGER = "events_guard_id"

# An id at or below the newest event's is refused: the kiosk always records after the
# newest. numeric: the newest id plus the leap must not overflow a bigint (an event already at
# the largest id leaves every insert refused, as it was).
PG_GUARD_ID_BODY = """
DECLARE
    newest bigint := (SELECT max(id) FROM events);
BEGIN
    IF NEW.id <= newest THEN
        RAISE EXCEPTION
            'event id % is not after the newest event''s (%): the kiosk never gives one',
            NEW.id, newest USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.id > coalesce(newest, 0)::numeric + 4294967296 THEN
        RAISE EXCEPTION 'event id % is far past the newest event''s: the kiosk never gives one',
            NEW.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
"""


def _schema() -> str:
    bind = op.get_bind()
    name = bind.exec_driver_sql("SELECT current_schema()").scalar()
    return bind.dialect.identifier_preparer.quote(str(name))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql "
        f"SET search_path = {_schema()}, pg_temp AS $${PG_GUARD_ID_BODY}$$"
    )
    op.execute(f"REVOKE ALL ON FUNCTION {FUNCTION}() FROM PUBLIC")
    op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON events")
    op.execute(
        f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON events FOR EACH ROW "
        f"EXECUTE FUNCTION {FUNCTION}()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON events")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")

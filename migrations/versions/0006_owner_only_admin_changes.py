"""PostgreSQL: who may act as an admin is changed only by the database owner.

Since revision 0005 the kiosk role changes the lists only through chained
``reference_changed`` events that a SECURITY DEFINER trigger applies. Someone holding the
kiosk's login and the school key could therefore still insert a valid, MACed event that made
them an admin or replaced the PIN hash; ``kiosk verify`` named it afterwards, but the database
applied it. This revision adds a BEFORE INSERT trigger, ``events_guard_reference``, that
refuses such an event from any role that is not the owner of ``events`` (a superuser counts
as the owner), once the school is set up (an admin PIN is set and an active admin exists):

* ``staff``: a change that makes someone an active admin or stops them being one (granting
  or removing the role, retiring or reinstating an admin), or changes an active admin's code
  (half of the console's sign-in);
* ``kiosk_settings``: any change (today only the admin PIN is kept there; the purge's guard
  row is the owner's alone);
* ``policies``: any change to a policy already published (what people acknowledged); a new
  policy is still published from the console.

A row recorded again unchanged (the baseline) is not a change. Other roles, people, stores,
devices and new policies stay the kiosk's to record, as before. On PostgreSQL the office
grants admin and changes the PIN with the owner's ``KIOSK_DATABASE_URL``.

SQLite has no roles: whoever can write the file can drop any trigger, so nothing is added
there; ``kiosk verify`` names a grant or PIN change not recorded by an admin
(docs/threat-model.md).

The SQL is this revision's own (not kiosk/db/guards.py), so that a later change there does not
change what this revision installed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER = "events_guard_reference"
FUNCTION = "kiosk_guard_reference"

PG_GUARD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    t text := NEW.details ->> 'table';
    k text := NEW.details ->> 'key';
    r jsonb := (NEW.details -> 'row')::jsonb;
    was_admin boolean := false;
    will_admin boolean;
    old_code text;
BEGIN
    -- The owner (migrations, the office on the owner's login) and superusers may.
    IF pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID),
                   'USAGE') THEN
        RETURN NEW;
    END IF;
    -- A new school's set-up: until a PIN is set and an active admin exists nobody can sign
    -- in, and the first admins and the PIN are recorded by no one.
    IF NOT EXISTS (SELECT 1 FROM kiosk_settings WHERE key = 'admin_pin')
       OR NOT EXISTS (SELECT 1 FROM staff_roles sr JOIN staff s ON s.id = sr.staff_id
                      WHERE sr.role = 'admin' AND s.retired_at IS NULL) THEN
        RETURN NEW;
    END IF;
    IF t = 'kiosk_settings' THEN
        IF r IS NULL OR jsonb_typeof(r) <> 'object' OR (r ->> 'value') IS DISTINCT FROM (
            SELECT value FROM kiosk_settings WHERE key = k
        ) THEN
            RAISE EXCEPTION 'only the database owner may change the setting %', k
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF t = 'staff' THEN
        SELECT s.code, s.retired_at IS NULL AND EXISTS (
                   SELECT 1 FROM staff_roles sr WHERE sr.staff_id = s.id AND sr.role = 'admin')
          INTO old_code, was_admin
          FROM staff s WHERE s.id = k::int;
        was_admin := coalesce(was_admin, false);
        will_admin := jsonb_typeof(r -> 'roles') = 'array'
                      AND (r -> 'roles') @> '["admin"]'::jsonb
                      AND (r ->> 'retired_at') IS NULL;
        IF was_admin <> will_admin THEN
            RAISE EXCEPTION 'only the database owner may grant or remove admin (staff %)', k
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF was_admin AND (r ->> 'code') IS DISTINCT FROM old_code THEN
            RAISE EXCEPTION 'only the database owner may change an admin''s code (staff %)', k
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF t = 'policies' THEN
        IF EXISTS (
            SELECT 1 FROM policies p WHERE p.id = k::int AND (
                p.title IS DISTINCT FROM r ->> 'title'
                OR p.version IS DISTINCT FROM r ->> 'version'
                OR p.text IS DISTINCT FROM r ->> 'text'
                OR p.sha256 IS DISTINCT FROM r ->> 'sha256'
                OR p.required IS DISTINCT FROM (r ->> 'required')::boolean
                OR p.published_at IS DISTINCT FROM (r ->> 'published_at')::timestamptz)
        ) THEN
            RAISE EXCEPTION 'only the database owner may change a published policy (policy %)',
                k USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END;
$$
"""

PG_GUARD_TRIGGER = (
    f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON events FOR EACH ROW "
    f"WHEN (NEW.kind = 'reference_changed') EXECUTE FUNCTION {FUNCTION}()"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(PG_GUARD_FUNCTION)
    op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON events")
    op.execute(PG_GUARD_TRIGGER)
    op.execute(f"REVOKE ALL ON FUNCTION {FUNCTION}() FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON events")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")

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

The SQL is this revision's own, both the body it installs and the one it puts back on the
way down (revision 0005's): a later change to kiosk/db/guards.py does not change what this
revision installed.

SQLite: nothing (its triggers are the file's own).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = "kiosk_apply_reference"

# The SQL is this revision's own: a later change elsewhere does not change what it installs.
# The check comes first: nothing is written for a table that is not the register's events.
PG_APPLY_BODY = """
DECLARE
    t text := NEW.details ->> 'table';
    k text := NEW.details ->> 'key';
    r jsonb := (NEW.details -> 'row')::jsonb;
BEGIN
    IF TG_RELID IS DISTINCT FROM 'events'::regclass THEN
        RAISE EXCEPTION 'kiosk_apply_reference applies list changes only as the trigger on events'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF t = 'staff' THEN
        INSERT INTO staff (id, code, name, email, line_manager, created_at, retired_at)
        VALUES (k::int, r ->> 'code', r ->> 'name', r ->> 'email', r ->> 'line_manager',
                (r ->> 'created_at')::timestamptz, (r ->> 'retired_at')::timestamptz)
        ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name,
            email = excluded.email, line_manager = excluded.line_manager,
            created_at = excluded.created_at, retired_at = excluded.retired_at;
        DELETE FROM staff_roles WHERE staff_id = k::int;
        INSERT INTO staff_roles (staff_id, role)
        SELECT k::int, jsonb_array_elements_text(r -> 'roles');
    ELSIF t = 'stores' THEN
        INSERT INTO stores (id, code, name, created_at, retired_at)
        VALUES (k::int, r ->> 'code', r ->> 'name', (r ->> 'created_at')::timestamptz,
                (r ->> 'retired_at')::timestamptz)
        ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name,
            created_at = excluded.created_at, retired_at = excluded.retired_at;
    ELSIF t = 'devices' THEN
        INSERT INTO devices (id, tag, kind, description, created_at, retired_at)
        VALUES (k::int, r ->> 'tag', r ->> 'kind', r ->> 'description',
                (r ->> 'created_at')::timestamptz, (r ->> 'retired_at')::timestamptz)
        ON CONFLICT (id) DO UPDATE SET tag = excluded.tag, kind = excluded.kind,
            description = excluded.description, created_at = excluded.created_at,
            retired_at = excluded.retired_at;
    ELSIF t = 'policies' THEN
        INSERT INTO policies (id, title, version, text, sha256, required, published_at)
        VALUES (k::int, r ->> 'title', r ->> 'version', r ->> 'text', r ->> 'sha256',
                (r ->> 'required')::boolean, (r ->> 'published_at')::timestamptz)
        ON CONFLICT (id) DO UPDATE SET title = excluded.title, version = excluded.version,
            text = excluded.text, sha256 = excluded.sha256, required = excluded.required,
            published_at = excluded.published_at;
    ELSIF t = 'kiosk_settings' THEN
        IF r IS NULL OR jsonb_typeof(r) <> 'object' THEN
            DELETE FROM kiosk_settings WHERE key = k;
        ELSE
            INSERT INTO kiosk_settings (key, value, updated_at)
            VALUES (k, r ->> 'value', (r ->> 'updated_at')::timestamptz)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                updated_at = excluded.updated_at;
        END IF;
    ELSE
        RAISE EXCEPTION 'unknown reference table %', t USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
"""

# The body before this revision (revision 0005's), put back on the way down.
PG_APPLY_BODY_BEFORE = """
DECLARE
    t text := NEW.details ->> 'table';
    k text := NEW.details ->> 'key';
    r jsonb := (NEW.details -> 'row')::jsonb;
BEGIN
    IF t = 'staff' THEN
        INSERT INTO staff (id, code, name, email, line_manager, created_at, retired_at)
        VALUES (k::int, r ->> 'code', r ->> 'name', r ->> 'email', r ->> 'line_manager',
                (r ->> 'created_at')::timestamptz, (r ->> 'retired_at')::timestamptz)
        ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name,
            email = excluded.email, line_manager = excluded.line_manager,
            created_at = excluded.created_at, retired_at = excluded.retired_at;
        DELETE FROM staff_roles WHERE staff_id = k::int;
        INSERT INTO staff_roles (staff_id, role)
        SELECT k::int, jsonb_array_elements_text(r -> 'roles');
    ELSIF t = 'stores' THEN
        INSERT INTO stores (id, code, name, created_at, retired_at)
        VALUES (k::int, r ->> 'code', r ->> 'name', (r ->> 'created_at')::timestamptz,
                (r ->> 'retired_at')::timestamptz)
        ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name,
            created_at = excluded.created_at, retired_at = excluded.retired_at;
    ELSIF t = 'devices' THEN
        INSERT INTO devices (id, tag, kind, description, created_at, retired_at)
        VALUES (k::int, r ->> 'tag', r ->> 'kind', r ->> 'description',
                (r ->> 'created_at')::timestamptz, (r ->> 'retired_at')::timestamptz)
        ON CONFLICT (id) DO UPDATE SET tag = excluded.tag, kind = excluded.kind,
            description = excluded.description, created_at = excluded.created_at,
            retired_at = excluded.retired_at;
    ELSIF t = 'policies' THEN
        INSERT INTO policies (id, title, version, text, sha256, required, published_at)
        VALUES (k::int, r ->> 'title', r ->> 'version', r ->> 'text', r ->> 'sha256',
                (r ->> 'required')::boolean, (r ->> 'published_at')::timestamptz)
        ON CONFLICT (id) DO UPDATE SET title = excluded.title, version = excluded.version,
            text = excluded.text, sha256 = excluded.sha256, required = excluded.required,
            published_at = excluded.published_at;
    ELSIF t = 'kiosk_settings' THEN
        IF r IS NULL OR jsonb_typeof(r) <> 'object' THEN
            DELETE FROM kiosk_settings WHERE key = k;
        ELSE
            INSERT INTO kiosk_settings (key, value, updated_at)
            VALUES (k, r ->> 'value', (r ->> 'updated_at')::timestamptz)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                updated_at = excluded.updated_at;
        END IF;
    ELSE
        RAISE EXCEPTION 'unknown reference table %', t USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
"""


def _schema() -> str:
    bind = op.get_bind()
    name = bind.exec_driver_sql("SELECT current_schema()").scalar()
    return bind.dialect.identifier_preparer.quote(str(name))


def _install(body: str) -> None:
    # SECURITY DEFINER as 0005 made it; its search_path as 0007 pinned it. CREATE OR REPLACE
    # keeps its owner and its grants.
    op.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql "
        f"SECURITY DEFINER SET search_path = {_schema()}, pg_temp AS $${body}$$"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    _install(PG_APPLY_BODY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    _install(PG_APPLY_BODY_BEFORE)

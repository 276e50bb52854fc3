"""PostgreSQL: a person's row recorded without its roles does not slip past revision 0006.

Revision 0006's guard (``kiosk_guard_reference``) computed whether a change leaves someone an
active admin as ``jsonb_typeof(roles) = 'array' AND roles @> '["admin"]' AND retired_at IS
NULL``. For a row with no ``roles`` at all that is NULL, not false, and ``was_admin <> NULL``
is not true: the guard let the change through. The apply function then deleted every role
of the person (``jsonb_array_elements_text(NULL)`` gives no row). The kiosk's login (without
the school key too: the database applies what it lets in) took admin from every admin that
way; with no active admin left the school counted as "not set up", and the login then
recorded admins and a PIN of its own.

This revision replaces the guard with one that reads a row without roles as "not an
admin" (so removing an admin that way is refused like any other removal), and compares the
two with ``IS DISTINCT FROM``. The function keeps its search_path (revision 0007: its schema,
then ``pg_temp``), its owner and its grants. ``kiosk verify`` names a guard from before this
revision (kiosk/db/guards.py).

SQLite: nothing (no roles; verify names the list row that differs from the chain).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = "kiosk_guard_reference"

# The SQL is this revision's own: a later change elsewhere does not change what it installs.
PG_GUARD_BODY = """
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
        -- A row without roles (or not an object) leaves the person no role at all: not an
        -- admin. (NULL here let a removal of admin through: was_admin <> NULL is not true.)
        will_admin := coalesce(jsonb_typeof(r -> 'roles') = 'array'
                               AND (r -> 'roles') @> '["admin"]'::jsonb
                               AND (r ->> 'retired_at') IS NULL, false);
        IF was_admin IS DISTINCT FROM will_admin THEN
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
        f"SET search_path = {_schema()}, pg_temp AS $${PG_GUARD_BODY}$$"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    # Revision 0006's guard as 0007 left it (its search_path pinned).
    path = Path(__file__).with_name("0006_owner_only_admin_changes.py")
    spec = importlib.util.spec_from_file_location("kiosk_revision_0006", path)
    assert spec is not None and spec.loader is not None
    former = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(former)
    op.execute(former.PG_GUARD_FUNCTION)
    op.execute(f"ALTER FUNCTION {FUNCTION}() SET search_path = {_schema()}, pg_temp")

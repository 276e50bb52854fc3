"""Retention purges through a recorded checkpoint; a least-privilege role on PostgreSQL.

Triggers: UPDATE and TRUNCATE on ``events`` stay refused on both engines. DELETE is refused
too, except for rows at or below the id in the guard row ``kiosk_settings.events_purge_guard``
(the purge writes it, deletes, and removes it inside one transaction) and, on SQLite, only
while the newest event is a purge checkpoint. See kiosk/services/backup.py and
docs/reliability.md.

PostgreSQL only:

* ``kiosk_purge_events(checkpoint_id)``: a SECURITY DEFINER function owned by the schema
  owner, the only way the kiosk role can remove events. It insists that the newest event is
  the checkpoint and that the checkpoint's count, last hash and SHA-256 digest match the
  events it removes: a purge is never silent.
* ``kiosk_app``: a NOLOGIN group role. It may SELECT and INSERT on ``events`` (no UPDATE,
  DELETE, TRUNCATE, and as a non-owner it cannot disable triggers), use the sequences, read
  ``alembic_version``, change the lists (staff, devices, stores, policies, settings) and
  call ``kiosk_purge_events``. Each kiosk logs in as a role that is a member of it::

      CREATE ROLE kiosk_staffroom LOGIN PASSWORD '...' IN ROLE kiosk_app;

  Creating ``kiosk_app`` needs CREATEROLE; if the owner lacks it, a DBA runs
  ``CREATE ROLE kiosk_app NOLOGIN`` first. The role is cluster-wide, so the downgrade
  revokes this database's grants but leaves the role.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "events are append-only: record a correction instead"
GUARD_KEY = "events_purge_guard"
ROLE = "kiosk_app"
LIST_TABLES = ("staff", "staff_roles", "stores", "devices", "policies", "kiosk_settings")

SQLITE_DELETE_GUARDED = f"""
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
WHEN NOT EXISTS (
    SELECT 1 FROM kiosk_settings
    WHERE key = '{GUARD_KEY}' AND OLD.id <= CAST(value AS INTEGER)
) OR NOT EXISTS (
    SELECT 1 FROM events AS newest
    WHERE newest.id = (SELECT max(id) FROM events)
      AND newest.kind = 'admin_action'
      AND json_extract(newest.details, '$.action') = 'events_purged'
)
BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
"""

SQLITE_DELETE_PLAIN = (
    f"CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
)

PG_APPEND_ONLY_GUARDED = f"""
CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (
            SELECT 1 FROM kiosk_settings
            WHERE key = '{GUARD_KEY}' AND OLD.id <= value::bigint
        ) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
END;
$$
"""

PG_APPEND_ONLY_PLAIN = f"""
CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
END;
$$
"""

PG_PURGE_FUNCTION = f"""
CREATE FUNCTION kiosk_purge_events(checkpoint_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    cp record;
    upto bigint;
    removed bigint;
    digest text;
    last_hash text;
BEGIN
    SELECT id, kind, details INTO cp FROM events WHERE id = checkpoint_id;
    IF NOT FOUND
       OR cp.id <> (SELECT max(id) FROM events)
       OR cp.kind <> 'admin_action'
       OR (cp.details ->> 'action') IS DISTINCT FROM 'events_purged' THEN
        RAISE EXCEPTION 'a purge needs its checkpoint event, recorded just before it'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    upto := (cp.details ->> 'last_removed_id')::bigint;
    SELECT count(*),
           encode(sha256(convert_to(string_agg(hash, E'\\n' ORDER BY id), 'UTF8')), 'hex')
      INTO removed, digest
      FROM events WHERE id <= upto;
    SELECT hash INTO last_hash FROM events WHERE id = upto;
    IF removed = 0
       OR removed <> (cp.details ->> 'removed')::bigint
       OR digest IS DISTINCT FROM (cp.details ->> 'range_digest')
       OR last_hash IS DISTINCT FROM (cp.details ->> 'last_removed_hash') THEN
        RAISE EXCEPTION 'the checkpoint does not describe the events it would remove'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO kiosk_settings (key, value, updated_at) VALUES ('{GUARD_KEY}', upto::text, now());
    DELETE FROM events WHERE id <= upto;
    DELETE FROM kiosk_settings WHERE key = '{GUARD_KEY}';
    RETURN removed;
END;
$$
"""

PG_CREATE_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
        BEGIN
            CREATE ROLE {ROLE} NOLOGIN;
        EXCEPTION
            WHEN duplicate_object THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'the role {ROLE} does not exist and % may not create it',
                    current_user
                    USING HINT = 'As a superuser run: CREATE ROLE {ROLE} NOLOGIN; then upgrade.';
        END;
    END IF;
END
$$
"""


def _pg_grants(schema_sql: str) -> list[str]:
    lists = ", ".join(LIST_TABLES)
    return [
        f"GRANT USAGE ON SCHEMA {schema_sql} TO {ROLE}",
        f"GRANT SELECT, INSERT ON events TO {ROLE}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {lists} TO {ROLE}",
        f"GRANT SELECT ON alembic_version TO {ROLE}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema_sql} TO {ROLE}",
        "REVOKE ALL ON FUNCTION kiosk_purge_events(bigint) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION kiosk_purge_events(bigint) TO {ROLE}",
        # Tables and sequences a later revision creates are usable by the kiosk too; a
        # revision that adds another append-only table revokes UPDATE/DELETE on it.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema_sql} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLE}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema_sql} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {ROLE}",
    ]


def _schema() -> str:
    bind = op.get_bind()
    name = bind.exec_driver_sql("SELECT current_schema()").scalar()
    return bind.dialect.identifier_preparer.quote(str(name))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS events_no_delete")
        op.execute(SQLITE_DELETE_GUARDED)
        return
    op.execute(PG_APPEND_ONLY_GUARDED)
    op.execute(PG_PURGE_FUNCTION)
    op.execute(PG_CREATE_ROLE)
    for statement in _pg_grants(_schema()):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS events_no_delete")
        op.execute(SQLITE_DELETE_PLAIN)
        return
    schema = _schema()
    lists = ", ".join(LIST_TABLES)
    for statement in (
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {ROLE}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
        f"REVOKE USAGE, SELECT ON SEQUENCES FROM {ROLE}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {ROLE}",
        f"REVOKE ALL ON alembic_version FROM {ROLE}",
        f"REVOKE ALL ON {lists} FROM {ROLE}",
        f"REVOKE ALL ON events FROM {ROLE}",
        f"REVOKE ALL ON SCHEMA {schema} FROM {ROLE}",
    ):
        op.execute(statement)
    op.execute("DROP FUNCTION IF EXISTS kiosk_purge_events(bigint)")
    op.execute(PG_APPEND_ONLY_PLAIN)

"""What the database itself enforces: append-only events, the purge rules, and reference
tables kept as a projection of ``reference_changed`` events.

One definition for revision 0005 (which installs it) and for ``kiosk restore`` (which puts
the SQLite triggers back after copying a backup in and checks them). ``missing_guards``
names what is missing on either engine; ``kiosk verify`` reports it.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from sqlalchemy import Connection, bindparam, text

from kiosk.domain.reference import REFERENCE_KIND
from kiosk.domain.text import display_text

MESSAGE = "events are append-only: record a correction instead"
GUARD_KEY = "events_purge_guard"
MIN_RETENTION_DAYS = 365
ROLE = "kiosk_app"
LIST_TABLES = ("staff", "staff_roles", "stores", "devices", "policies", "kiosk_settings")
# PostgreSQL: the schema of the register's tables as the kiosk's own queries find them
# (``events`` through the search_path), where every check of the catalog looks. Not
# ``current_schema()``, the first schema of the search_path that exists: a login may set its
# own (``ALTER ROLE CURRENT_USER SET search_path = pg_temp, public``; the tables are still
# found in public), and verify on that login then looked in another schema, said "the
# function ... is missing" of an honest register, and would not have seen a trigger there.
_SCHEMA = "(SELECT c.relnamespace FROM pg_catalog.pg_class c WHERE c.oid = 'events'::regclass)"
_SCHEMA_NAME = f"(SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.oid = {_SCHEMA})"

# Events that define the current state: never purged (the same rule on both engines, and
# the Python purge stops before the oldest of them). A phone still held (the person's newest
# phone event is a deposit or a move), a device still out (its newest event a sign-out or an
# extension), the newest acknowledgement per person on the list and current policy, the
# newest exemption event when it is a grant, the newest VDU declaration and the newest review
# event per person on the list, the newest reference event per row.
_ACTIVE = "(SELECT 1 FROM staff s WHERE s.id = OLD.staff_id AND s.retired_at IS NULL)"
_SQLITE_LATEST_OF_STREAM = f"""(
    (OLD.kind IN ('phone_deposited', 'phone_moved') AND NOT EXISTS (SELECT 1 FROM events l
        WHERE l.staff_id = OLD.staff_id AND l.category = 'phone' AND l.id > OLD.id))
 OR (OLD.kind IN ('device_signed_out', 'return_extended') AND NOT EXISTS (
        SELECT 1 FROM events l
        WHERE l.device_id = OLD.device_id AND l.category = 'device' AND l.id > OLD.id))
 OR (OLD.category = 'policy' AND EXISTS {_ACTIVE}
     AND OLD.policy_id IN (SELECT max(id) FROM policies GROUP BY title)
     AND NOT EXISTS (SELECT 1 FROM events l
        WHERE l.policy_id = OLD.policy_id AND l.staff_id = OLD.staff_id
          AND l.category = 'policy' AND l.id > OLD.id))
 OR (OLD.kind = 'exemption_granted' AND NOT EXISTS (SELECT 1 FROM events l
        WHERE l.staff_id = OLD.staff_id AND l.category = 'exemption' AND l.id > OLD.id))
 OR (OLD.category IN ('vdu', 'review') AND EXISTS {_ACTIVE} AND NOT EXISTS (
        SELECT 1 FROM events l
        WHERE l.staff_id = OLD.staff_id AND l.category = OLD.category AND l.id > OLD.id))
 OR (OLD.kind = '{REFERENCE_KIND}' AND NOT EXISTS (SELECT 1 FROM events l
        WHERE l.kind = '{REFERENCE_KIND}' AND l.id > OLD.id
          AND json_extract(l.details, '$.table') = json_extract(OLD.details, '$.table')
          AND json_extract(l.details, '$.key') = json_extract(OLD.details, '$.key')))
)"""


def protected_min_sql(dialect: str, *, reference: bool = True) -> str:
    """SQL for the oldest event id that defines the current state (NULL: none); without
    ``reference``, the newest reference event per row is left out (the purge carries those
    rows over first)."""
    if dialect == "sqlite":
        table_of = "json_extract(details, '$.table')"
        key_of = "json_extract(details, '$.key')"
    else:
        table_of = "details ->> 'table'"
        key_of = "details ->> 'key'"
    active = "staff_id IN (SELECT id FROM staff WHERE retired_at IS NULL)"
    return f"""
    SELECT min(m) FROM (
        SELECT e.id AS m FROM events e JOIN (
            SELECT max(id) AS id FROM events WHERE category = 'phone' GROUP BY staff_id
        ) l ON l.id = e.id WHERE e.kind IN ('phone_deposited', 'phone_moved')
        UNION ALL
        SELECT e.id FROM events e JOIN (
            SELECT max(id) AS id FROM events WHERE category = 'device' GROUP BY device_id
        ) l ON l.id = e.id WHERE e.kind IN ('device_signed_out', 'return_extended')
        UNION ALL
        SELECT max(id) FROM events WHERE category = 'policy' AND {active}
            AND policy_id IN (SELECT max(id) FROM policies GROUP BY title)
            GROUP BY staff_id, policy_id
        UNION ALL
        SELECT e.id FROM events e JOIN (
            SELECT max(id) AS id FROM events WHERE category = 'exemption' GROUP BY staff_id
        ) l ON l.id = e.id WHERE e.kind = 'exemption_granted'
        UNION ALL
        SELECT max(id) FROM events WHERE category IN ('vdu', 'review') AND {active}
            GROUP BY category, staff_id
        {"UNION ALL" if reference else ""}
        {f"SELECT max(id) FROM events WHERE kind = '{REFERENCE_KIND}'" if reference else ""}
            {f"GROUP BY {table_of}, {key_of}" if reference else ""}
    ) AS current_state
    """


SQLITE_NO_UPDATE = (
    f"CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
)

# DELETE only: of rows at or below the guard row's id, while the newest event is a purge
# checkpoint that covers the row, of events at least a year old (by the database's clock),
# never the newest event of a stream that defines current state.
SQLITE_NO_DELETE = f"""
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
WHEN NOT EXISTS (
    SELECT 1 FROM kiosk_settings
    WHERE key = '{GUARD_KEY}' AND OLD.id <= CAST(value AS INTEGER)
) OR NOT EXISTS (
    SELECT 1 FROM events AS newest
    WHERE newest.id = (SELECT max(id) FROM events)
      AND newest.kind = 'admin_action'
      AND json_extract(newest.details, '$.action') = 'events_purged'
          AND CAST(json_extract(newest.details, '$.last_removed_id') AS INTEGER) >= OLD.id
) OR OLD.occurred_at >= strftime('%Y-%m-%d %H:%M:%f', 'now', '-{MIN_RETENTION_DAYS} days')
  OR OLD.occurred_at >= (
    SELECT strftime('%Y-%m-%d %H:%M:%f', newest.occurred_at, '-{MIN_RETENTION_DAYS} days')
    FROM events AS newest WHERE newest.id = (SELECT max(id) FROM events)
  )
  OR {_SQLITE_LATEST_OF_STREAM}
BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
"""


def _ts(expr: str) -> str:
    """An ISO 8601 UTC text (as the chain records it) -> SQLite's stored form."""
    return f"substr(replace({expr}, 'T', ' '), 1, 26)"


def _field(name: str) -> str:
    return f"json_extract(NEW.details, '$.row.{name}')"


def _when(table: str) -> str:
    return (
        f"WHEN NEW.kind = '{REFERENCE_KIND}' AND json_extract(NEW.details, '$.table') = '{table}'"
    )


_KEY = "json_extract(NEW.details, '$.key')"

SQLITE_APPLY: dict[str, str] = {
    "events_apply_staff": f"""
CREATE TRIGGER events_apply_staff AFTER INSERT ON events {_when("staff")}
BEGIN
    INSERT INTO staff (id, code, name, email, line_manager, created_at, retired_at)
    VALUES ({_KEY}, {_field("code")}, {_field("name")}, {_field("email")},
            {_field("line_manager")}, {_ts(_field("created_at"))}, {_ts(_field("retired_at"))})
    ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name,
        email = excluded.email, line_manager = excluded.line_manager,
        created_at = excluded.created_at, retired_at = excluded.retired_at;
    DELETE FROM staff_roles WHERE staff_id = {_KEY};
    INSERT INTO staff_roles (staff_id, role)
    SELECT {_KEY}, value FROM json_each(NEW.details, '$.row.roles') WHERE true;
END""",
    "events_apply_stores": f"""
CREATE TRIGGER events_apply_stores AFTER INSERT ON events {_when("stores")}
BEGIN
    INSERT INTO stores (id, code, name, created_at, retired_at)
    VALUES ({_KEY}, {_field("code")}, {_field("name")}, {_ts(_field("created_at"))},
            {_ts(_field("retired_at"))})
    ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name,
        created_at = excluded.created_at, retired_at = excluded.retired_at;
END""",
    "events_apply_devices": f"""
CREATE TRIGGER events_apply_devices AFTER INSERT ON events {_when("devices")}
BEGIN
    INSERT INTO devices (id, tag, kind, description, created_at, retired_at)
    VALUES ({_KEY}, {_field("tag")}, {_field("kind")}, {_field("description")},
            {_ts(_field("created_at"))}, {_ts(_field("retired_at"))})
    ON CONFLICT (id) DO UPDATE SET tag = excluded.tag, kind = excluded.kind,
        description = excluded.description, created_at = excluded.created_at,
        retired_at = excluded.retired_at;
END""",
    "events_apply_policies": f"""
CREATE TRIGGER events_apply_policies AFTER INSERT ON events {_when("policies")}
BEGIN
    INSERT INTO policies (id, title, version, text, sha256, required, published_at)
    VALUES ({_KEY}, {_field("title")}, {_field("version")}, {_field("text")},
            {_field("sha256")}, {_field("required")}, {_ts(_field("published_at"))})
    ON CONFLICT (id) DO UPDATE SET title = excluded.title, version = excluded.version,
        text = excluded.text, sha256 = excluded.sha256, required = excluded.required,
        published_at = excluded.published_at;
END""",
    "events_apply_settings": f"""
CREATE TRIGGER events_apply_settings AFTER INSERT ON events {_when("kiosk_settings")}
BEGIN
    DELETE FROM kiosk_settings
    WHERE key = {_KEY} AND json_type(NEW.details, '$.row') IS NOT 'object';
    INSERT INTO kiosk_settings (key, value, updated_at)
    SELECT {_KEY}, {_field("value")}, {_ts(_field("updated_at"))}
    WHERE json_type(NEW.details, '$.row') = 'object'
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;
END""",
}

SQLITE_TRIGGERS: dict[str, str] = {
    "events_no_update": SQLITE_NO_UPDATE,
    "events_no_delete": SQLITE_NO_DELETE,
    **SQLITE_APPLY,
}

# --- PostgreSQL ---------------------------------------------------------------------------

PG_APPLY_FUNCTION = """
CREATE OR REPLACE FUNCTION kiosk_apply_reference() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
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
$$
"""

PG_APPLY_TRIGGER = (
    "CREATE TRIGGER events_apply_reference AFTER INSERT ON events FOR EACH ROW "
    f"WHEN (NEW.kind = '{REFERENCE_KIND}') EXECUTE FUNCTION kiosk_apply_reference()"
)

# (PG_APPLY_FUNCTION and PG_PURGE_FUNCTION are the functions as revision 0005 made them, with
# ``SET search_path FROM CURRENT``; revision 0007 pins them to ``<schema>, pg_temp``. A later
# revision that creates them again must pin them the same way, or verify names them. Revision
# 0009 replaces the apply function with SQL of its own: this text stays 0005's.)
# The purge: owner only (the kiosk role may not execute it). The database checks what the
# Python code checks: the newest event is the checkpoint, recorded by an admin; the range it
# describes matches (count, last hash, digest); every removed event is at least a year old;
# the newest event of every stream that defines current state is kept.
PG_PURGE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION kiosk_purge_events(checkpoint_id bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    cp record;
    upto bigint;
    removed bigint;
    digest text;
    last_hash text;
    newest_removed timestamptz;
    protected bigint;
BEGIN
    SELECT id, kind, details, staff_id INTO cp FROM events WHERE id = checkpoint_id;
    IF NOT FOUND
       OR cp.id <> (SELECT max(id) FROM events)
       OR cp.kind <> 'admin_action'
       OR (cp.details ->> 'action') IS DISTINCT FROM 'events_purged' THEN
        RAISE EXCEPTION 'a purge needs its checkpoint event, recorded just before it'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF cp.staff_id IS NULL OR NOT EXISTS (
        SELECT 1 FROM staff_roles WHERE staff_id = cp.staff_id AND role = 'admin'
    ) THEN
        RAISE EXCEPTION 'a purge must be recorded by an admin'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    upto := (cp.details ->> 'last_removed_id')::bigint;
    SELECT count(*),
           encode(sha256(convert_to(string_agg(hash, E'\\n' ORDER BY id), 'UTF8')), 'hex'),
           max(occurred_at)
      INTO removed, digest, newest_removed
      FROM events WHERE id <= upto;
    SELECT hash INTO last_hash FROM events WHERE id = upto;
    IF removed = 0
       OR removed <> (cp.details ->> 'removed')::bigint
       OR digest IS DISTINCT FROM (cp.details ->> 'range_digest')
       OR last_hash IS DISTINCT FROM (cp.details ->> 'last_removed_hash') THEN
        RAISE EXCEPTION 'the checkpoint does not describe the events it would remove'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF newest_removed > least(now(), (SELECT occurred_at FROM events WHERE id = checkpoint_id))
                        - interval '{MIN_RETENTION_DAYS} days' THEN
        RAISE EXCEPTION 'the register keeps at least a year: events newer than that would go'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    protected := ({{PROTECTED}});
    IF protected IS NOT NULL AND upto >= protected THEN
        RAISE EXCEPTION 'event % still defines the current state: it is kept', protected
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO kiosk_settings (key, value, updated_at) VALUES ('{GUARD_KEY}', upto::text, now());
    DELETE FROM events WHERE id <= upto;
    DELETE FROM kiosk_settings WHERE key = '{GUARD_KEY}';
    RETURN removed;
END;
$$
"""

PG_PURGE_FUNCTION = PG_PURGE_FUNCTION.replace("{PROTECTED}", protected_min_sql("postgresql"))

PG_TRIGGERS = (
    "events_no_update_delete",
    "events_no_truncate",
    "events_apply_reference",
    # Revision 0006 (its own SQL): admin grants, admins' codes, settings and published
    # policies are the owner's to change.
    "events_guard_reference",
    # Revision 0010: an event's id after the newest event's, and no more than 4,294,967,296
    # past it (one at the largest id left no kiosk an id to record with, for good; one below
    # the first stopped every purge).
    "events_guard_id",
)

# The guards a later revision adds, by name: a register not yet upgraded lacks them, and is
# told what to run.
PG_ADDED_BY = {"events_guard_id": "0010", "kiosk_guard_event_id": "0010"}


def _added(name: str) -> str:
    """After "... is missing": the revision that adds ``name``, and what to run, if any."""
    revision = PG_ADDED_BY.get(name)
    if revision is None:
        return ""
    return (
        f" (revision {revision} adds it: run `kiosk db upgrade` with the owner's "
        "KIOSK_DATABASE_URL)"
    )


# Each trigger as PostgreSQL describes it (pg_get_triggerdef), as revisions 0002, 0005, 0006
# and 0010 create it.
PG_TRIGGER_DEFINITIONS = {
    "events_no_update_delete": "CREATE TRIGGER events_no_update_delete BEFORE DELETE OR UPDATE "
    "ON {events} FOR EACH ROW EXECUTE FUNCTION events_append_only()",
    "events_no_truncate": "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON {events} "
    "FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()",
    "events_apply_reference": "CREATE TRIGGER events_apply_reference AFTER INSERT ON {events} "
    "FOR EACH ROW WHEN (((new.kind)::text = 'reference_changed'::text)) "
    "EXECUTE FUNCTION kiosk_apply_reference()",
    "events_guard_reference": "CREATE TRIGGER events_guard_reference BEFORE INSERT ON {events} "
    "FOR EACH ROW WHEN (((new.kind)::text = 'reference_changed'::text)) "
    "EXECUTE FUNCTION kiosk_guard_reference()",
    "events_guard_id": "CREATE TRIGGER events_guard_id BEFORE INSERT ON {events} "
    "FOR EACH ROW EXECUTE FUNCTION kiosk_guard_event_id()",
}


def install_sqlite(conn: Connection) -> None:
    """(Re)create every SQLite trigger of the register."""
    for name, sql in SQLITE_TRIGGERS.items():
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        conn.exec_driver_sql(sql)


def missing_guards(conn: Connection) -> list[str]:
    """What the database should enforce and does not (missing or disabled triggers; on
    PostgreSQL, kiosk role privileges it should not have). Empty when all is in place."""
    problems: list[str] = []
    if conn.dialect.name == "sqlite":
        found = conn.execute(
            # SQLite reads a schema row's type without regard to case: a row filed as
            # 'TRIGGER' is a working trigger that "type = 'trigger'" would not list.
            text("SELECT name, tbl_name, sql FROM sqlite_master WHERE lower(type) = 'trigger'")
        ).all()
        have = {str(name): " ".join(str(sql).split()) for name, _table, sql in found}
        for name, sql in SQLITE_TRIGGERS.items():
            if name not in have:
                problems.append(f"the trigger {name} is missing")
            elif have[name] != " ".join(sql.split()):
                problems.append(f"the trigger {name} has been changed")
        # Anything else is not the kiosk's: a trigger can drop an event silently (RAISE
        # IGNORE: the kiosk would have confirmed it) or change a list behind the chain.
        for name, table, _sql in found:
            if name not in SQLITE_TRIGGERS:
                problems.append(f"the trigger {name} on {table} is not the kiosk's")
        problems.extend(_sqlite_file_problems(conn))
        return problems
    # The definitions as the kiosk spells them, whatever the session's role or URL asked for
    # (``quote_all_identifiers = on`` quoted every name: each trigger "had been changed").
    conn.execute(text("SELECT set_config('quote_all_identifiers', 'off', true)"))
    rows = {
        str(name): (str(enabled), str(definition), str(schema))
        for name, enabled, definition, schema in conn.execute(
            text(
                "SELECT t.tgname, t.tgenabled, pg_catalog.pg_get_triggerdef(t.oid), "
                "pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_trigger t "
                "JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                "WHERE t.tgrelid = 'events'::regclass AND NOT t.tgisinternal"
            )
        ).tuples()
    }
    for name in PG_TRIGGERS:
        if name not in rows:
            problems.append(f"the trigger {name} is missing{_added(name)}")
            continue
        enabled, definition, schema = rows[name]
        if enabled not in ("O", "A"):
            problems.append(f"the trigger {name} is disabled")
        # There by name is not enough: recreated under its name to fire on nothing (or to
        # call another function), it guards nothing.
        if definition != PG_TRIGGER_DEFINITIONS[name].format(events=f"{schema}.events"):
            problems.append(f"the trigger {name} has been changed")
    for name, table in conn.execute(
        text(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relname IN :tables "
            f"AND c.relnamespace = {_SCHEMA}"
        ).bindparams(bindparam("tables", expanding=True)),
        {"tables": ["events", *LIST_TABLES]},
    ):
        if table != "events" or name not in PG_TRIGGERS:
            problems.append(f"the trigger {name} on {table} is not the kiosk's")
    problems.extend(_hiding_problems(conn))
    problems.extend(_search_path_problems(conn))
    problems.extend(_kiosk_role_problems(conn))
    return problems


def _hiding_problems(conn: Connection) -> list[str]:
    """Row-level security and rules on the register's tables: the kiosk never uses either.
    A policy can hide one person's events from the kiosks' role only (the owner, who may run
    verify, is not bound by it), and a rule acts like a trigger that is not listed as one."""
    tables = {"tables": ["events", *LIST_TABLES]}
    problems = [
        f"the table {name} has row-level security: a policy can hide rows from the kiosks' "
        "login and not from the owner's"
        for (name,) in conn.execute(
            text(
                "SELECT relname FROM pg_class WHERE relname IN :tables AND relrowsecurity "
                f"AND relnamespace = {_SCHEMA} ORDER BY relname"
            ).bindparams(bindparam("tables", expanding=True)),
            tables,
        )
    ]
    problems.extend(
        f"the rule {rule} on {table} is not the kiosk's"
        for rule, table in conn.execute(
            text(
                "SELECT rulename, tablename FROM pg_rules WHERE tablename IN :tables "
                f"AND schemaname = {_SCHEMA_NAME} ORDER BY tablename, rulename"
            ).bindparams(bindparam("tables", expanding=True)),
            tables,
        )
    )
    return problems


# The register's functions (revisions 0003, 0005, 0006, 0010) and, from revision 0007, their
# search_path: the schema, then pg_temp. Without pg_temp last, PostgreSQL looks a table name
# up in the session's temporary schema first: a kiosk login's temporary ``kiosk_settings``
# fooled 0006's guard, and a temporary ``staff_roles`` with a trigger ran the login's own
# code with the owner's rights inside the SECURITY DEFINER function.
PG_FUNCTIONS = (
    "events_append_only",
    "kiosk_purge_events",
    "kiosk_apply_reference",
    "kiosk_guard_reference",
    "kiosk_guard_event_id",
)
# SHA-256 of each function's body (``pg_proc.prosrc``, the text between its ``$$``) as the
# revisions install it: 0003 (events_append_only), 0005 (this module's PG_PURGE_FUNCTION),
# 0008 (the guard 0006 made, mended) and 0009 (the apply function, for events only). CREATE
# OR REPLACE by the owner, or by code run with the owner's rights, kept the name and the
# search_path: an emptied guard let the kiosk's login make itself admin and verify saw
# nothing. A revision that replaces one updates it here (every PostgreSQL test that verifies
# a freshly migrated register checks these).
PG_FUNCTION_DIGESTS = {
    "events_append_only": "1c6d66a50e1645b56388b5e6b7737828244a94287d0e2cbf52225b0d855059ae",
    "kiosk_purge_events": "7c02dd1dc55c67f5219b7cd1c8f6c241d2c7ee130caf616a1cbe7979902b48b0",
    # Revision 0009's own text (0005's, PG_APPLY_FUNCTION, ran for a trigger on any table, a
    # login's temporary one too).
    "kiosk_apply_reference": "38b8f45ffc3807cfadf4905a7aabaae5d6a75286ec2c6e93dd0c9261f461a0ea",
    # Revision 0008's guard (0006's let a row without roles remove admin).
    "kiosk_guard_reference": "1e92308707c98a5018f5fa5e83028ef79556d585740f048808a5e1f2d462b23d",
    # Revision 0010's (an event's id in step with the newest event's).
    "kiosk_guard_event_id": "b3a4684a42bd8f724b2d7b5d90a69c14a84cbc69b26e641514ba9a215256ac1f",
}
# Bodies a revision has since replaced because they let something through: named as such,
# with the revision that replaces them (the owner's `kiosk db upgrade`).
PG_FORMER_DIGESTS = {
    "kiosk_apply_reference": {
        "40fcb333d29970ac29ce429353366b546262a37fcf7a1ae0e337e0ca0fe58dc9": (
            "0009",
            "it runs for a trigger on any table, so a role that may execute it can write the "
            "lists with the owner's rights from a temporary table of its own, with no event",
        ),
    },
    "kiosk_guard_reference": {
        "faa34304542e4d158d882d3c3e2490fa44dd592d84ea28b1893a635e05c2bb9d": (
            "0008",
            "a kiosk login may remove admin from every admin by recording a person's row "
            "without roles, and then record admins and a PIN of its own",
        ),
    },
}


def _digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "replace")).hexdigest()


def _search_path_problems(conn: Connection) -> list[str]:
    """Each function of the register: there, its body the kiosk's, its search_path pinned."""
    found: dict[str, tuple[Any, str]] = {}
    for name, config, source in conn.execute(
        text(
            "SELECT proname, proconfig, prosrc FROM pg_proc WHERE proname IN :names "
            f"AND pronamespace = {_SCHEMA}"
        ).bindparams(bindparam("names", expanding=True)),
        {"names": list(PG_FUNCTIONS)},
    ).tuples():
        # An overload of the same name beside the kiosk's one: the body that matches is kept.
        if name not in found or _digest(source) == PG_FUNCTION_DIGESTS[name]:
            found[name] = (config, str(source))
    register = conn.scalar(text(f"SELECT {_SCHEMA_NAME}"))
    problems = []
    for name in PG_FUNCTIONS:
        if name not in found:
            problems.append(f"the function {name} is missing{_added(name)}")
            continue
        config, source = found[name]
        former = PG_FORMER_DIGESTS.get(name, {}).get(_digest(source))
        if former is not None:
            problems.append(
                f"the function {name} is from before revision {former[0]}: {former[1]} "
                "(run `kiosk db upgrade` with the owner's KIOSK_DATABASE_URL)"
            )
        elif _digest(source) != PG_FUNCTION_DIGESTS[name]:
            problems.append(
                f"the function {name} is not the kiosk's (its body was replaced): the database "
                "may no longer refuse what it should"
            )
        path = next(
            (s.partition("=")[2] for s in config or () if s.startswith("search_path=")),
            "",
        )
        schemas = [part.strip().strip('"').lower() for part in path.split(",")]
        if schemas[-1] != "pg_temp" or schemas.count("pg_temp") != 1:
            problems.append(
                f"the function {name} looks tables up in a session's temporary tables first "
                f"(search_path {path or 'not set'}; it must end with pg_temp): a kiosk "
                "login's temporary table can stand in for the register's"
            )
        elif schemas[:-1] != [str(register).lower()]:
            problems.append(
                f"the function {name} looks tables up in {display_text(', '.join(schemas[:-1]))} "
                f"(search_path {display_text(path)}), not only in the register's schema "
                f"{display_text(register)}: tables there stand in for the register's (an "
                "upgrade run while a schema named after the owner existed pins the functions "
                "to it)"
            )
    return problems


# How many of SQLite's findings are named (it stops at 100 itself).
_INTEGRITY_SHOWN = 5


def _sqlite_file_problems(conn: Connection) -> list[str]:
    """SQLite's own check of the file: every index holds exactly what its table holds.

    Verify walks ``events`` by rowid; the register and the current state find rows through
    the indexes. An index rebuilt without a row (a partial index whose CREATE text is then
    written back through ``writable_schema``) hid a deposit from every listing while the
    walk saw it. ``PRAGMA integrity_check`` compares each index with its table (and finds a
    damaged file too)."""
    found = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check").all()]
    if found == ["ok"]:
        return []
    shown = "; ".join(f[:120] for f in found[:_INTEGRITY_SHOWN])
    more = f" (and {len(found) - _INTEGRITY_SHOWN} more)" if len(found) > _INTEGRITY_SHOWN else ""
    return [
        "the database file fails SQLite's own check (PRAGMA integrity_check: an index that "
        "does not hold what its table holds, a value its column's type would not keep, a "
        f"damaged page): the register and verify may read different events: {shown}{more}"
    ]


# What a role that records events must not be able to do to the tables whose history the
# chain keeps (TRIGGER: a trigger of its own could drop or change rows behind the chain).
_PRIVILEGES = ("UPDATE", "DELETE", "TRUNCATE", "INSERT", "TRIGGER", "REFERENCES")

# Privileges PostgreSQL also grants on single columns (``GRANT UPDATE (role) ON ...``):
# has_table_privilege does not see those. Each column the role may use that way, where the
# role does not hold the privilege on the whole table (named above, or the kiosk's own
# INSERT on events), in column order.
_COLUMN_PRIVILEGES = ("INSERT", "UPDATE", "REFERENCES")
_COLUMN_GRANTS = f"""
    SELECT c.relname, p.privilege, a.attname
    FROM pg_class c
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    CROSS JOIN unnest(CAST(:privileges AS text[])) WITH ORDINALITY AS p(privilege, n)
    WHERE c.relname IN :tables
      AND c.relnamespace = {_SCHEMA}
      AND has_column_privilege(:r, c.oid, a.attnum, p.privilege)
      AND NOT has_table_privilege(:r, c.oid, p.privilege)
    ORDER BY array_position(CAST(:tables_order AS text[]), c.relname::text), p.n, a.attnum
    """

# Rights a role takes up only with ``SET ROLE``: those of a role it is a member of without
# inheriting its rights (NOINHERIT; from PostgreSQL 16 ``GRANT ... WITH INHERIT FALSE``), which
# has_table_privilege does not count for it. (The owner's role is said on its own.) Which
# roles it can SET ROLE to: before PostgreSQL 16 every role it is a member of; from 16 only
# through memberships WITH SET TRUE (pg_has_role's 'SET'; 'MEMBER' counts a membership WITH
# SET FALSE, which SET ROLE refuses). ``{can_set}`` is the one or the other. (A superuser
# role is said once, with the other powers below.)
_SET_ROLE_PRIVILEGES = f"""
    SELECT o.rolname, c.relname, p.privilege
    FROM pg_catalog.pg_roles o
    CROSS JOIN pg_catalog.pg_class c
    CROSS JOIN unnest(CAST(:privileges AS text[])) WITH ORDINALITY AS p(privilege, n)
    WHERE o.rolname <> :r AND NOT o.rolsuper
      AND pg_catalog.pg_has_role(CAST(:r AS name), o.oid, '{{can_set}}')
      AND NOT pg_catalog.pg_has_role(CAST(:r AS name), o.oid, 'USAGE')
      AND c.relname IN :tables AND c.relnamespace = {_SCHEMA}
      AND NOT (c.relname = 'events' AND p.privilege = 'INSERT')
      AND pg_catalog.has_table_privilege(o.oid, c.oid, p.privilege)
      AND NOT pg_catalog.has_table_privilege(CAST(:r AS name), c.oid, p.privilege)
    ORDER BY o.rolname, array_position(CAST(:tables_order AS text[]), c.relname::text), p.n
    """

# The roles a kiosk role can SET ROLE to (``{can_set}`` as above) whose powers come only with
# SET ROLE, never inherited: SUPERUSER, CREATEROLE (up to PostgreSQL 15 a member may grant
# itself any role that is not a superuser's: pg_execute_server_program, the owner's),
# BYPASSRLS; and those that can act as the register's owner. A NOINHERIT kiosk login in a
# NOLOGIN CREATEROLE helper role looked clean, then ran ``SET ROLE helper; GRANT
# pg_execute_server_program TO helper``. The kiosk group is said of itself, the owner's role
# on its own. ``direct``: the role was granted to it (not through another role).
_SET_ROLE_POWERS = """
    SELECT o.rolname, o.rolsuper, o.rolcreaterole, o.rolbypassrls,
           pg_catalog.pg_has_role(o.oid, w.oid, 'MEMBER'),
           EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                   WHERE m.roleid = o.oid AND m.member = r.oid)
    FROM pg_catalog.pg_roles r
    CROSS JOIN pg_catalog.pg_roles o
    CROSS JOIN pg_catalog.pg_roles w
    WHERE r.rolname = :r AND o.oid <> r.oid AND o.rolname <> :group
      AND w.oid = (SELECT relowner FROM pg_catalog.pg_class WHERE oid = 'events'::regclass)
      AND o.oid <> w.oid
      AND pg_catalog.pg_has_role(r.oid, o.oid, '{can_set}')
      AND (o.rolsuper OR o.rolcreaterole OR o.rolbypassrls
           OR pg_catalog.pg_has_role(o.oid, w.oid, 'MEMBER'))
    ORDER BY o.rolname
    """


def _set_role_powers(
    conn: Connection, role: str, who: str, owner: str, can_set: str, said: set[str]
) -> list[str]:
    """The roles ``role`` can SET ROLE to with the powers of :data:`_SET_ROLE_POWERS`, each
    once: one the kiosk group reaches (in ``said``) is not said again of a login in it,
    unless the login was granted it directly."""
    problems = []
    query = text(_SET_ROLE_POWERS.format(can_set=can_set))
    for other, superuser, createrole, bypassrls, acts_as_owner, direct in conn.execute(
        query, {"r": role, "group": ROLE}
    ).tuples():
        if other in said and not direct:
            continue
        if role == ROLE:
            said.add(other)
        powers = [
            said_of
            for has, said_of in (
                (superuser, "is a superuser (no guard of the database stops it)"),
                (
                    createrole,
                    "may create roles (and, up to PostgreSQL 15, give itself any role that is "
                    "not a superuser's: pg_execute_server_program, the owner's)",
                ),
                (bypassrls, "bypasses row-level security"),
                (
                    acts_as_owner and not superuser,  # (a superuser is a member of every role)
                    f"can act as the owner {owner} (a member of its role)",
                ),
            )
            if has
        ]
        how = (
            f"REVOKE {quoted_name(other)} FROM {quoted_name(role)}"
            if direct
            else "a member of it through another role"
        )
        problems.append(f"{who} may SET ROLE {other}, which {'; '.join(powers)} ({how})")
    return problems


# The kiosk group role and every role in it, at any depth: a kiosk's own login is a member,
# and a grant made to that login rather than to the group counts just as much.
_KIOSK_ROLES = """
    WITH RECURSIVE kiosk(oid) AS (
        SELECT oid FROM pg_roles WHERE rolname = :r
        UNION
        SELECT m.member FROM pg_auth_members m JOIN kiosk k ON m.roleid = k.oid
        WHERE {carries_rights}
    )
    SELECT r.rolname, r.rolsuper, r.rolcreaterole, o.rolname,
           r.oid <> o.oid AND pg_has_role(r.oid, o.oid, 'MEMBER')
    FROM kiosk k
    JOIN pg_roles r ON r.oid = k.oid
    CROSS JOIN pg_roles o
    WHERE o.oid = (SELECT relowner FROM pg_class WHERE oid = 'events'::regclass)
    ORDER BY r.rolname <> :r, r.rolname
    """


# Each table and function of the register, the schema it is in and the database, with its
# owner: a kiosk role that owns one (or can act as its owner) is not stopped by anything the
# database enforces on it. An owner may revoke its own privileges, so no privilege check sees
# it (``ALTER TABLE events OWNER TO`` a kiosk login, or the migrations run with a kiosk's URL:
# 0006's guard lets the owner of events through). The owner of the schema or the database
# (from PostgreSQL 15 schema public belongs to ``pg_database_owner``: the database's owner)
# may drop any table or function in it and create its own.
_REGISTER_OWNERS = f"""
    SELECT 1 AS rank, 'table' AS what, c.relname AS name, c.relowner AS owner
    FROM pg_catalog.pg_class c
    WHERE c.relname IN :tables AND c.relkind IN ('r', 'p') AND c.relnamespace = {_SCHEMA}
    UNION ALL
    SELECT 2, 'function', p.proname, p.proowner FROM pg_catalog.pg_proc p
    WHERE p.proname IN :functions AND p.pronamespace = {_SCHEMA}
    UNION ALL
    SELECT 3, 'schema', n.nspname, n.nspowner FROM pg_catalog.pg_namespace n
    WHERE n.oid = {_SCHEMA}
    UNION ALL
    SELECT 4, 'database', d.datname, d.datdba FROM pg_catalog.pg_database d
    WHERE d.datname = pg_catalog.current_database()
    """
_OWNER_MAY = {
    "table": "the database's guards do not stop its owner",
    "function": "its owner may replace it",
    "schema": "it may drop the register's tables and functions and create its own there",
    "database": "it may drop the register's tables and functions and create its own there",
}


def _owner_problems(conn: Connection, role: str, who: str, events_owner: str) -> list[str]:
    """The register's tables and functions, its schema and its database that ``role`` owns,
    or whose owner it can act as (the owner of ``events`` is said once, by the caller)."""
    problems = []
    query = text(
        "SELECT o.what, o.name, pg_catalog.pg_get_userbyid(o.owner), "
        "r.oid = o.owner, pg_catalog.pg_has_role(r.oid, o.owner, 'MEMBER') "
        f"FROM ({_REGISTER_OWNERS}) o CROSS JOIN pg_catalog.pg_roles r WHERE r.rolname = :r "
        "ORDER BY o.rank, o.name"
    ).bindparams(bindparam("tables", expanding=True), bindparam("functions", expanding=True))
    rows = conn.execute(
        query, {"tables": ["events", *LIST_TABLES], "functions": list(PG_FUNCTIONS), "r": role}
    ).tuples()
    for what, name, owner, owns, member in rows:
        if owns:
            problems.append(f"{who} owns the {what} {name}: {_OWNER_MAY[what]}")
        elif member and owner != events_owner:
            problems.append(
                f"{who} can act as the owner {owner} of the {what} {name}: {_OWNER_MAY[what]}"
            )
    return problems


def _kiosk_role_problems(conn: Connection) -> list[str]:
    """What the kiosk's roles (the group and each login in it) may do that they should not.

    The database's own guards (0005's triggers, 0006's owner-only changes) stop the kiosk's
    login, not the owner: a kiosk login that is a superuser, can act as the owner (a member
    of the owner's role: ``SET ROLE`` works even without inheriting its rights), may create
    roles (and on PostgreSQL 15 and older grant itself the owner's), or was granted more on a
    table directly, is named."""
    problems: list[str] = []
    # From PostgreSQL 16 a membership may carry only ADMIN OPTION (the right to grant
    # kiosk_app, which a CREATEROLE owner gets on the roles it creates): such a member is no
    # kiosk login. Before 16 every membership can SET ROLE.
    version = int(conn.scalar(text("SELECT current_setting('server_version_num')")) or 0)
    carries = "m.inherit_option OR m.set_option" if version >= 160000 else "true"
    can_set = "SET" if version >= 160000 else "MEMBER"
    query = text(_KIOSK_ROLES.format(carries_rights=carries))
    said_of_group: set[str] = set()
    set_roles_of_group: set[str] = set()
    grant_options_said: set[tuple[str, str]] = set()
    for name, superuser, createrole, owner, acts_as_owner in conn.execute(
        query, {"r": ROLE}
    ).tuples():
        who = "the kiosk role" if name == ROLE else f"the kiosk login {name}"
        if superuser:
            problems.append(f"{who} is a superuser")
        else:
            # (the group comes first: a login in it is a member through it, said once)
            servers = _server_roles(conn, name)
            problems.extend(
                f"{who} is a member of {server}: {SERVER_ROLES[server]} "
                f"(REVOKE {server} FROM {quoted_name(name)})"
                for server in servers
                if server not in said_of_group
            )
            if name == ROLE:
                said_of_group.update(servers)
        if acts_as_owner:
            problems.append(f"{who} can act as the owner {owner} (a member of its role)")
        if createrole:
            problems.append(f"{who} may create roles")
        problems.extend(_owner_problems(conn, name, who, owner))
        if not superuser:
            problems.extend(_set_role_powers(conn, name, who, owner, can_set, set_roles_of_group))
        if superuser or acts_as_owner:
            continue  # every privilege follows: said once above
        for table in ("events", *LIST_TABLES):
            for privilege in _PRIVILEGES:
                if table == "events" and privilege == "INSERT":
                    continue
                granted = conn.scalar(
                    text("SELECT has_table_privilege(:r, :t, :p)"),
                    {"r": name, "t": table, "p": privilege},
                )
                if granted:
                    problems.append(f"{who} may {privilege} {table}")
        problems.extend(
            f"{who} may {privilege} {table} after SET ROLE {other} (a member of that role, "
            "without inheriting its rights)"
            for other, table, privilege in conn.execute(
                text(_SET_ROLE_PRIVILEGES.format(can_set=can_set)).bindparams(
                    bindparam("tables", expanding=True)
                ),
                {
                    "r": name,
                    "tables": ["events", *LIST_TABLES],
                    "tables_order": ["events", *LIST_TABLES],
                    "privileges": list(_PRIVILEGES),
                },
            ).tuples()
        )
        for (table, holder), privileges in _grant_options(conn, name, can_set).items():
            if (table, holder) in grant_options_said:
                continue  # (the group's, or another login's helper: said once)
            grant_options_said.add((table, holder))
            them = "it" if len(privileges) == 1 else "them"
            held = f"it holds {them}" if holder == name else f"through {holder}, which holds {them}"
            problems.append(
                f"{who} may grant {', '.join(privileges)} on {table} to other roles ({held} "
                "WITH GRANT OPTION): any role it chooses may then read or add to the register "
                f"(REVOKE GRANT OPTION FOR ALL ON {table} FROM {quoted_name(holder)})"
            )
        problems.extend(
            f"{who} may {privilege} {table} ({'column' if len(cols) == 1 else 'columns'} "
            f"{', '.join(cols)})"
            for (table, privilege), cols in _column_grants(conn, name).items()
        )
        if _may_execute(conn, name, "kiosk_purge_events", "bigint"):
            problems.append(f"{who} may call kiosk_purge_events")
        # SECURITY DEFINER: it writes the lists as the owner. From revision 0009 it refuses to
        # run for any table but events; before, a trigger on a login's temporary table ran it.
        if _may_execute(conn, name, "kiosk_apply_reference", ""):
            problems.append(
                f"{who} may call kiosk_apply_reference (it writes the lists with the owner's "
                "rights: REVOKE EXECUTE ON FUNCTION kiosk_apply_reference() FROM PUBLIC)"
            )
        problems.extend(_create_problems(conn, name, who))
        problems.extend(_default_privilege_problems(conn, name, who))
        problems.extend(_large_object_problems(conn, name, who))
    return problems


# Large objects a role owns: any login may make them (``SELECT lo_from_bytea(0, ...)``, no
# right needed) and the register holds none. A kiosk login's fill the server's disk: a few
# hundred of 4 MB each and PostgreSQL stopped (it could not write its log, and did not start
# again until someone made room), every kiosk "unavailable", with nothing saying why.
_LARGE_OBJECTS = """
    SELECT count(*) FROM pg_catalog.pg_largeobject_metadata
    WHERE lomowner = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = :r)
    """


def _large_object_problems(conn: Connection, role: str, who: str) -> list[str]:
    """``role``'s large objects in this database, if it has made any."""
    count = int(conn.scalar(text(_LARGE_OBJECTS), {"r": role}) or 0)
    if not count:
        return []
    them = "a large object" if count == 1 else f"{count:,} large objects"
    literal = "'" + quoted_name(role).replace("'", "''") + "'"
    return [
        f"{who} has made {them} (the register holds none: any login may make them, and they "
        "take room on the server's disk until it is full, which stops the server and every "
        "kiosk). A superuser removes them: SELECT lo_unlink(oid) FROM "
        f"pg_largeobject_metadata WHERE lomowner = {literal}::regrole"
    ]


# Default privileges a role set for the objects it will create (``ALTER DEFAULT PRIVILEGES``:
# any login may set its own, without creating anything). pg_dump keeps them, and only that
# role or a superuser may restore them: the owner's restore of a backup stopped at them.
# Each row's statements that undo it, built from its ACL: in a schema, a row only adds to the
# defaults (REVOKE each); a row for every schema replaces the built-in defaults (acldefault),
# so what it adds is revoked (a grant option added to a default: REVOKE GRANT OPTION FOR) and
# what it took away is granted back. Once a row's ACL is the default again, PostgreSQL
# removes it. Never ``DROP OWNED BY`` the role: it drops every
# object the role owns (the register's own tables, were one owned by a kiosk login by a slip)
# and, for the kiosk role, revokes every grant the register gives every kiosk.
_DEFAULT_PRIVILEGES = """
    WITH d AS (
        SELECT d.defaclobjtype AS kind, d.defaclnamespace AS ns, d.defaclacl AS acl,
               pg_catalog.acldefault(
                   CASE d.defaclobjtype WHEN 'S' THEN 's' ELSE d.defaclobjtype END::"char",
                   d.defaclrole) AS builtin
        FROM pg_catalog.pg_default_acl d
        WHERE d.defaclrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = :r)
    ), changes AS (
        SELECT d.kind, d.ns,
               CASE WHEN d.ns = 0 AND EXISTS (
                   SELECT 1 FROM pg_catalog.aclexplode(d.builtin) b
                   WHERE b.grantee = a.grantee AND b.privilege_type = a.privilege_type)
                    THEN 'REVOKE GRANT OPTION FOR' ELSE 'REVOKE' END AS action,
               a.grantee, a.privilege_type
        FROM d CROSS JOIN LATERAL pg_catalog.aclexplode(d.acl) a
        WHERE d.ns <> 0 OR NOT EXISTS (
            SELECT 1 FROM pg_catalog.aclexplode(d.builtin) b
            WHERE b.grantee = a.grantee AND b.privilege_type = a.privilege_type
              AND b.is_grantable = a.is_grantable)
        UNION ALL
        SELECT d.kind, d.ns, 'GRANT', b.grantee, b.privilege_type
        FROM d CROSS JOIN LATERAL pg_catalog.aclexplode(d.builtin) b
        WHERE d.ns = 0 AND NOT EXISTS (
            SELECT 1 FROM pg_catalog.aclexplode(d.acl) a
            WHERE a.grantee = b.grantee AND a.privilege_type = b.privilege_type)
    )
    SELECT c.kind, coalesce(n.nspname, ''), pg_catalog.quote_ident(coalesce(n.nspname, '')),
           c.action,
           (SELECT rolname FROM pg_catalog.pg_roles WHERE oid = c.grantee),
           pg_catalog.string_agg(c.privilege_type, ', ' ORDER BY c.privilege_type)
    FROM changes c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.ns
    GROUP BY c.kind, n.nspname, c.action, c.grantee
    ORDER BY n.nspname NULLS FIRST, c.kind, c.action DESC, 5
    """
_DEFAULT_KINDS = {
    "r": "tables",
    "S": "sequences",
    "f": "functions",
    "T": "types",
    "n": "schemas",
    "L": "large objects",
}


def quoted_name(name: str) -> str:
    """``name`` as a quoted identifier, for a statement verify prints to be run as it is."""
    return '"' + name.replace('"', '""') + '"'


def _default_privilege_problems(conn: Connection, role: str, who: str) -> list[str]:
    """``role``'s default privileges in this database, if it set any, with the statements
    that remove them (never ``DROP OWNED BY``: see :data:`_DEFAULT_PRIVILEGES`)."""
    rows = conn.execute(text(_DEFAULT_PRIVILEGES), {"r": role}).tuples().all()
    if not rows:
        return []
    kinds = ", ".join(
        dict.fromkeys(
            _DEFAULT_KINDS.get(kind, kind) + (f" in schema {schema}" if schema else "")
            for kind, schema, *_ in rows
        )
    )
    statements = "; ".join(
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {quoted_name(role)}"
        + (f" IN SCHEMA {schema_sql}" if schema else "")
        + f" {action} {privileges} ON {_DEFAULT_KINDS.get(kind, kind).upper()} "
        + ("FROM" if action.startswith("REVOKE") else "TO")
        + (f" {quoted_name(grantee)}" if grantee else " PUBLIC")
        for kind, schema, schema_sql, action, grantee, privileges in rows
    )
    return [
        f"{who} has set default privileges for the {kinds} it would create: a backup of the "
        "database keeps them, and only that login or a superuser may restore them (the "
        "owner's pg_restore stops there, unless it leaves them out as kiosk restore's steps "
        f"do). A superuser removes them: {statements}"
    ]


# PostgreSQL's predefined roles whose members reach past the database: ``COPY ... PROGRAM``
# and ``COPY`` to or from a file on the server run as its operating-system user (postgres),
# which owns the data files and the server's settings. No trigger or privilege of the
# register stops what is done there.
SERVER_ROLES = {
    "pg_execute_server_program": (
        "it may run programs on the database server as its operating-system user (COPY ... "
        "PROGRAM), who can change the register's data files and the server's settings "
        "underneath every guard of the database"
    ),
    "pg_write_server_files": (
        "it may write files on the database server as its operating-system user (COPY ... TO a "
        "file): the register's data files and the server's settings among them, underneath "
        "every guard of the database"
    ),
    "pg_read_server_files": (
        "it may read any file on the database server as its operating-system user (COPY ... "
        "FROM a file): the server's settings and the data of every database on it"
    ),
}
_SERVER_ROLE_MEMBERSHIPS = """
    SELECT rolname FROM pg_catalog.pg_roles
    WHERE rolname IN :servers AND pg_catalog.pg_has_role(CAST(:r AS name), oid, 'MEMBER')
    """


def _server_roles(conn: Connection, role: str) -> list[str]:
    """The roles of :data:`SERVER_ROLES` ``role`` is a member of (at any depth), in order."""
    query = text(_SERVER_ROLE_MEMBERSHIPS).bindparams(bindparam("servers", expanding=True))
    found = {str(r) for (r,) in conn.execute(query, {"servers": list(SERVER_ROLES), "r": role})}
    return [server for server in SERVER_ROLES if server in found]


# Whether a role may execute a function of the register: the function (by its argument
# types) in the register's schema, by oid. Named as text (``'kiosk_apply_reference()'``) it
# was looked up through the session's search_path, and one dropped (by the owner, or by a role
# that owns the schema) raised "function ... does not exist": verify stopped with a database
# error. No such function: no privilege to name (missing_guards names it missing).
_MAY_EXECUTE = f"""
    SELECT pg_catalog.has_function_privilege(CAST(:r AS name), p.oid, 'EXECUTE')
    FROM pg_catalog.pg_proc p
    WHERE p.proname = :f AND pg_catalog.oidvectortypes(p.proargtypes) = :args
      AND p.pronamespace = {_SCHEMA}
    """


def _may_execute(conn: Connection, role: str, function: str, args: str) -> bool:
    """``role`` may execute the register's ``function(args)`` (False: it is not there)."""
    return bool(conn.scalar(text(_MAY_EXECUTE), {"r": role, "f": function, "args": args}))


# The purge calls the register's own ``kiosk_purge_events(bigint)``, found by oid in the
# register's schema and called by its schema-qualified name: not looked up by name through
# the session's search_path, where a dropped function raised a database error and a function
# of the same name planted earlier on the path would have been called instead.
_PURGE_FUNCTION = f"""
    SELECT pg_catalog.quote_ident(n.nspname) || '.kiosk_purge_events',
           pg_catalog.has_function_privilege(current_user, p.oid, 'EXECUTE')
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    WHERE p.proname = 'kiosk_purge_events'
      AND pg_catalog.oidvectortypes(p.proargtypes) = 'bigint'
      AND p.pronamespace = {_SCHEMA}
    """


def purge_function(conn: Connection) -> tuple[str, bool] | None:
    """The register's purge function as a qualified name to call, and whether the current
    login may call it; None when the register has no such function (PostgreSQL only)."""
    row = conn.execute(text(_PURGE_FUNCTION)).first()
    return None if row is None else (str(row[0]), bool(row[1]))


# A role that may create objects in a schema can plant a function there that stands in for
# one the kiosk's queries call (``upper(varchar)`` is a closer match for ``upper(devices.tag)``
# than pg_catalog's ``upper(text)``): whoever runs the query runs it, the owner included, with
# their own rights (CVE-2018-1058). PostgreSQL before 15 lets every role CREATE in ``public``.
# CREATE on the database lets a role make a schema, one named after the owner included (first
# on the owner's search_path: its tables then stand in for the register's).
_CREATE_IN_SCHEMAS = """
    SELECT nspname FROM pg_catalog.pg_namespace
    WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
      AND pg_catalog.has_schema_privilege(CAST(:r AS name), oid, 'CREATE')
    ORDER BY nspname
    """
_CREATE_SAID = (
    "a function it creates there can stand in for one the kiosk's queries call, and runs with "
    "the rights of whoever calls it, the owner's too (PostgreSQL before 15 allows this to "
    "every role in schema public: REVOKE CREATE ON SCHEMA public FROM PUBLIC)"
)


def _create_problems(conn: Connection, role: str, who: str) -> list[str]:
    """The schemas ``role`` may create objects in, and whether it may create schemas."""
    problems = [
        f"{who} may CREATE in schema {schema}: {_CREATE_SAID}"
        for (schema,) in conn.execute(text(_CREATE_IN_SCHEMAS), {"r": role})
    ]
    if conn.scalar(
        text(
            "SELECT pg_catalog.has_database_privilege(CAST(:r AS name), "
            "pg_catalog.current_database(), 'CREATE')"
        ),
        {"r": role},
    ):
        problems.append(
            f"{who} may CREATE schemas in this database: one named after the owner comes first "
            "on the owner's search_path, and its tables and functions stand in for the "
            "register's (REVOKE CREATE ON DATABASE ... FROM PUBLIC and from the kiosk roles)"
        )
    return problems


# Each table of the register on which a role holds a privilege WITH GRANT OPTION: it may give
# that privilege to any role on the server (``GRANT INSERT ON events TO PUBLIC``), none of
# them a kiosk role verify looks at. Read from the table's ACL (aclexplode: is_grantable), so
# the role that holds the option is named, not each member that may use it: "REVOKE GRANT
# OPTION ... FROM <a kiosk login>" removed nothing when the group held it. A holder counts
# when the kiosk role inherits its rights or can SET ROLE to it (``{can_set}``, as for
# :data:`_SET_ROLE_PRIVILEGES`); the owner's own options are said with the owner.
_GRANTABLE = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
_GRANT_OPTIONS = f"""
    SELECT DISTINCT c.relname, g.rolname, p.privilege,
           array_position(CAST(:tables_order AS text[]), c.relname::text) AS t,
           g.rolname <> :r AS other, p.n
    FROM pg_catalog.pg_class c
    CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a
    JOIN pg_catalog.pg_roles g ON g.oid = a.grantee
    JOIN unnest(CAST(:privileges AS text[])) WITH ORDINALITY AS p(privilege, n)
      ON p.privilege = a.privilege_type
    WHERE c.relname IN :tables
      AND c.relnamespace = {_SCHEMA}
      AND a.is_grantable AND a.grantee <> c.relowner
      AND (pg_catalog.pg_has_role(CAST(:r AS name), g.oid, 'USAGE')
           OR pg_catalog.pg_has_role(CAST(:r AS name), g.oid, '{{can_set}}'))
    ORDER BY t, other, g.rolname, p.n
    """


def _grant_options(conn: Connection, role: str, can_set: str) -> dict[tuple[str, str], list[str]]:
    """(table, the role holding the option: ``role`` or one it takes rights from): the
    privileges ``role`` may grant on it to others, in :data:`_GRANTABLE`'s order."""
    tables = ["events", *LIST_TABLES]
    query = text(_GRANT_OPTIONS.format(can_set=can_set)).bindparams(
        bindparam("tables", expanding=True)
    )
    found: dict[tuple[str, str], list[str]] = {}
    for table, holder, privilege, *_order in conn.execute(
        query,
        {"r": role, "tables": tables, "tables_order": tables, "privileges": list(_GRANTABLE)},
    ).tuples():
        found.setdefault((str(table), str(holder)), []).append(str(privilege))
    return found


def _column_grants(conn: Connection, role: str) -> dict[tuple[str, str], list[str]]:
    """(table, privilege): the columns ``role`` was granted it on, one by one."""
    tables = ["events", *LIST_TABLES]
    query = text(_COLUMN_GRANTS).bindparams(bindparam("tables", expanding=True))
    found: dict[tuple[str, str], list[str]] = {}
    for table, privilege, column in conn.execute(
        query,
        {
            "r": role,
            "tables": tables,
            "tables_order": tables,
            "privileges": list(_COLUMN_PRIVILEGES),
        },
    ).tuples():
        found.setdefault((table, privilege), []).append(column)
    return found


# Each kiosk role's own settings (``ALTER ROLE ... SET``, for every database or this one): any
# login may set its own, in force in each of its sessions. The kiosk asks for its own values
# of those that stopped or slowed it (kiosk.db.engine: ``jit``, parallel workers, timeouts...);
# the planner's others (``enable_indexscan = off``, ``random_page_cost = 1e6``) made each
# statement of a big register scan every row, and nothing named them. Each is named with the
# one RESET that removes it, IN DATABASE when it was set for this database only (a RESET ALL
# without it left that one, and with it would take the school's own settings too).
_KIOSK_ROLE_SETTINGS = """
    WITH RECURSIVE kiosk(oid) AS (
        SELECT oid FROM pg_catalog.pg_roles WHERE rolname = :r
        UNION
        SELECT m.member FROM pg_catalog.pg_auth_members m JOIN kiosk k ON m.roleid = k.oid
    )
    SELECT r.rolname, d.datname, s.setconfig
    FROM kiosk k
    JOIN pg_catalog.pg_roles r ON r.oid = k.oid
    JOIN pg_catalog.pg_db_role_setting s ON s.setrole = r.oid
    LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
    WHERE s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database
                                WHERE datname = pg_catalog.current_database()))
    ORDER BY r.rolname, s.setdatabase
    """
# A school's own, never named: README says a school may point its login at a schema of its own
# with ``ALTER ROLE ... SET search_path`` (the kiosk does not ask for one). A RESET of it would
# send every kiosk on that login to "the register's tables cannot be found".
SCHOOL_OWN_SETTINGS = {"search_path"}
_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_$]*(\.[a-z_][a-z0-9_$]*)*")


def _setting_name(name: str) -> str:
    """A setting's name as RESET takes it (quoted when it is not a plain one)."""
    return name if _PLAIN_NAME.fullmatch(name.lower()) else quoted_name(name)


def kiosk_role_settings(conn: Connection, asked: set[str]) -> list[str]:
    """In words, each kiosk role's own settings that the kiosk does not ask for itself
    (``asked``: the names, as :func:`kiosk.db.engine.setting_key` spells them) and are not a
    school's own (:data:`SCHOOL_OWN_SETTINGS`), with the RESET that removes each."""
    if conn.dialect.name != "postgresql":
        return []
    found: dict[str, list[str]] = {}
    resets: dict[str, list[str]] = {}
    for name, database, config in conn.execute(text(_KIOSK_ROLE_SETTINGS), {"r": ROLE}):
        for item in config or ():
            raw = str(item).split("=", 1)[0].strip()
            setting = raw.replace("-", "_").lower()
            if setting in asked or setting in SCHOOL_OWN_SETTINGS:
                continue
            found.setdefault(name, []).append(display_text(item)[:80])
            where = f" IN DATABASE {quoted_name(database)}" if database else ""
            resets.setdefault(name, []).append(
                f"ALTER ROLE {quoted_name(name)}{where} RESET {_setting_name(raw)}"
            )
    return [
        f"{'the kiosk role' if name == ROLE else f'the kiosk login {name}'} has settings of "
        f"its own, in force in each of its sessions: {', '.join(items)}. A login may set its "
        "own; if the kiosks are slow or refuse to record, whoever looks after the database "
        f"can remove them: {'; '.join(resets[name])}"
        for name, items in found.items()
    ]

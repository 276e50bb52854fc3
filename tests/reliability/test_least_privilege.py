"""PostgreSQL: the kiosk logs in as a member of kiosk_app, which may only SELECT and INSERT events.

Migrations run as the owner (here the test cluster's superuser); revision 0003 creates the
NOLOGIN group role ``kiosk_app`` and its grants. A login role in that group records events
through the services, purges only through the checkpointing function, and is refused
UPDATE, DELETE, TRUNCATE, disabling triggers and replication mode.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime

import psycopg
import pytest
from psycopg import errors
from sqlalchemy.engine import make_url

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.errors import RuleViolation
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.helpers import libpq_url
from tests.school import make_ready, make_school

pytestmark = pytest.mark.postgresql

_names = itertools.count()


@pytest.fixture
def kiosk_url(pg_url: str) -> Iterator[str]:
    """A URL for a fresh LOGIN role that is a member of kiosk_app (dropped afterwards)."""
    role = f"kiosk_login_{os.getpid()}_{next(_names)}"
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute(f"CREATE ROLE {role} LOGIN IN ROLE kiosk_app")
    try:
        yield make_url(pg_url).set(username=role).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
            owner.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
            owner.execute(f"DROP ROLE IF EXISTS {role}")


def test_the_kiosk_role_records_through_the_services(kiosk_url: str, clock: FakeClock) -> None:
    settings = Settings(kiosk_name="staffroom", database_url=kiosk_url)
    opened = Services.open(settings)  # the schema is at head: the kiosk role may open it
    services = Services(opened.ctx.engine, settings, clock)
    try:
        make_school(services)
        make_ready(services, "ASMITH")
        services.phones.deposit("ASMITH")
        services.phones.collect("ASMITH")
        services.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
        # Reference changes go through events the database applies (revision 0005).
        services.people.import_staff_csv(b"code,name,roles\nZNEW,Zed New,laptop_user\n")
        services.people.retire_staff("EPATEL", admin_code="CHEAD")
        services.people.add_store("HALL", "Hall drawer", admin_code="CHEAD")
        services.policies.publish("Extra policy", "1", "Read me.", published_by="CHEAD")
        services.admin.set_pin("428613", admin_code="CHEAD")
        assert services.admin.check_pin("428613").ok
        assert "ZNEW" in {p.code for p in services.people.list_staff()}
        assert services.integrity.verify().ok
        # The retention purge is the owner's: the kiosk role may not call it (revision 0005).
        clock.set(datetime(2028, 6, 5, 9, 0, tzinfo=UTC))
        with pytest.raises(RuleViolation, match="only the database owner may purge"):
            services.backup.purge(date(2027, 1, 1), "CHEAD")
        assert services.integrity.verify().ok
    finally:
        services.close()


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        # "permission denied" comes from the grants, before any trigger could answer.
        ("UPDATE events SET kiosk = 'elsewhere'", "permission denied for table events"),
        ("DELETE FROM events", "permission denied for table events"),
        ("TRUNCATE events", "permission denied for table events"),
        ("ALTER TABLE events DISABLE TRIGGER USER", "must be owner of table events"),
        ("SET session_replication_role = replica", "permission denied to set parameter"),
        ("DROP TABLE events", "must be owner of table events"),
        # The purge is the owner's alone (revision 0005).
        (
            "SELECT kiosk_purge_events((SELECT max(id) FROM events))",
            "permission denied for function kiosk_purge_events",
        ),
        # The lists, the roles and the settings (PIN hash, verify witness) are read-only.
        ("UPDATE staff SET name = 'Renamed'", "permission denied for table staff"),
        ("DELETE FROM staff WHERE code = 'EPATEL'", "permission denied for table staff"),
        (
            "INSERT INTO staff (id, code, name, created_at) VALUES (99, 'X', 'X', now())",
            "permission denied for table staff",
        ),
        (
            "INSERT INTO staff_roles (staff_id, role) VALUES (1, 'admin')",
            "permission denied for table staff_roles",
        ),
        ("DELETE FROM staff_roles", "permission denied for table staff_roles"),
        ("UPDATE staff_roles SET role = 'admin'", "permission denied for table staff_roles"),
        ("UPDATE stores SET name = 'x'", "permission denied for table stores"),
        ("DELETE FROM stores", "permission denied for table stores"),
        (
            "INSERT INTO stores (id, code, name, created_at) VALUES (99, 'X', 'X', now())",
            "permission denied for table stores",
        ),
        ("UPDATE devices SET description = 'x'", "permission denied for table devices"),
        ("DELETE FROM devices", "permission denied for table devices"),
        (
            "INSERT INTO devices (id, tag, kind, description, created_at) "
            "VALUES (99, 'X', 'laptop', '', now())",
            "permission denied for table devices",
        ),
        ("UPDATE policies SET text = 'x'", "permission denied for table policies"),
        ("DELETE FROM policies", "permission denied for table policies"),
        (
            "INSERT INTO policies (id, title, version, text, sha256, required, published_at) "
            "VALUES (99, 'X', '1', 'x', 'x', true, now())",
            "permission denied for table policies",
        ),
        ("UPDATE kiosk_settings SET value = '{}'", "permission denied for table kiosk_settings"),
        ("DELETE FROM kiosk_settings", "permission denied for table kiosk_settings"),
        (
            "INSERT INTO kiosk_settings (key, value, updated_at) VALUES ('admin_pin', '{}', now())",
            "permission denied for table kiosk_settings",
        ),
        ("ALTER TABLE staff DISABLE TRIGGER ALL", "must be owner of table staff"),
        ("SELECT kiosk_apply_reference()", "permission denied for function"),
    ],
)
def test_the_kiosk_role_cannot_change_or_remove_events(
    kiosk_url: str, pg_url: str, clock: FakeClock, statement: str, message: str
) -> None:
    services = Services(
        make_engine(kiosk_url), Settings(kiosk_name="staffroom", database_url=kiosk_url), clock
    )
    try:
        make_school(services)
        services.phones.deposit("ASMITH")
        before = services.integrity.verify()
    finally:
        services.close()

    with (
        psycopg.connect(libpq_url(kiosk_url)) as kiosk,
        pytest.raises(errors.InsufficientPrivilege, match=message),
    ):
        kiosk.execute(statement)

    with psycopg.connect(libpq_url(pg_url)) as owner:
        row = owner.execute("SELECT count(*), max(hash) FROM events").fetchone()
    # Nothing changed; the check itself was recorded after it.
    assert row is not None and row[0] == before.events_checked + 1


def test_the_owner_is_still_stopped_by_the_triggers(pg_url: str, clock: FakeClock) -> None:
    """Even the owner needs to disable the triggers first (and that is what verify is for)."""
    services = Services(make_engine(pg_url), Settings(kiosk_name="k", database_url=pg_url), clock)
    try:
        make_school(services)
    finally:
        services.close()
    with psycopg.connect(libpq_url(pg_url)) as owner:
        for statement in ("UPDATE events SET kiosk = 'x'", "DELETE FROM events", "TRUNCATE events"):
            with pytest.raises(errors.InsufficientPrivilege, match="append-only"):
                owner.execute(statement)
            owner.rollback()
        # A guard row alone does not open the door to TRUNCATE or UPDATE.
        owner.execute(
            "INSERT INTO kiosk_settings (key, value, updated_at) "
            "VALUES ('events_purge_guard', '999999', now())"
        )
        for statement in ("UPDATE events SET kiosk = 'x'", "TRUNCATE events"):
            with pytest.raises(errors.InsufficientPrivilege, match="append-only"):
                owner.execute(statement)
            owner.rollback()


def test_kiosk_app_grants(pg_url: str) -> None:
    """What the group role may do, table by table, as PostgreSQL reports it."""
    with psycopg.connect(libpq_url(pg_url)) as owner:
        rows = owner.execute(
            "SELECT table_name, string_agg(privilege_type, ',' ORDER BY privilege_type) "
            "FROM information_schema.role_table_grants WHERE grantee = 'kiosk_app' "
            "GROUP BY table_name ORDER BY table_name"
        ).fetchall()
        can_login = owner.execute(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'kiosk_app'"
        ).fetchone()
    grants = dict(rows)
    assert grants["events"] == "INSERT,SELECT"
    assert grants["alembic_version"] == "SELECT"
    for table in ("staff", "staff_roles", "stores", "devices", "policies", "kiosk_settings"):
        assert grants[table] == "SELECT", table
    assert can_login == (False,)


def test_the_purge_function_enforces_the_rules_itself(pg_url: str, clock: FakeClock) -> None:
    """Even the owner calling kiosk_purge_events directly with a forged checkpoint cannot
    remove recent events, or what defines the current state, or act for a non-admin."""
    from tests.reliability.helpers import Raw
    from tests.reliability.test_attacks import _forge_checkpoint

    clock.set(datetime(2022, 3, 10, 8, 0, tzinfo=UTC))
    services = Services(make_engine(pg_url), Settings(kiosk_name="k", database_url=pg_url), clock)
    try:
        make_school(services)
        services.phones.deposit("ASMITH")
        services.phones.collect("ASMITH")
        services.phones.deposit("BJONES")  # still held
        clock.set(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
        services.phones.deposit("EPATEL")  # recent
    finally:
        services.close()
    with psycopg.connect(libpq_url(pg_url)) as owner:
        staff_ids = dict(owner.execute("SELECT code, id FROM staff").fetchall())
    cases = [
        ("last", None, "recorded by an admin"),  # nobody named
        ("last", staff_ids["CHEAD"], "at least a year"),  # an admin, but recent events would go
        ("held", staff_ids["CHEAD"], "still defines the current state"),  # BJONES's phone
    ]
    for which, staff_id, message in cases:
        with psycopg.connect(libpq_url(pg_url)) as owner:
            db = Raw(owner, sqlite=False)
            ids = [r[0] for r in db.execute("SELECT id FROM events ORDER BY id")]
            held = db.execute(
                "SELECT max(id) FROM events WHERE kind = 'phone_deposited' AND staff_id = %s",
                (staff_ids["BJONES"],),
            )[0][0]
            upto = ids[-1] if which == "last" else held
            checkpoint = _forge_checkpoint(db, upto, staff_id=staff_id, before="2000-01-01")
            with pytest.raises(errors.InsufficientPrivilege, match=message):
                owner.execute("SELECT kiosk_purge_events(%s)", (checkpoint,))
            owner.rollback()

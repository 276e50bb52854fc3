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
        services.people.import_staff_csv(b"code,name,roles\nZNEW,Zed New,laptop_user\n")
        assert services.integrity.verify().ok
        # The retention purge works for the kiosk role too, but only through its checkpoint.
        clock.set(datetime(2028, 6, 5, 9, 0, tzinfo=UTC))
        report = services.backup.purge(date(2027, 1, 1), "CHEAD")
        assert report.removed > 0 and report.checkpoint_event_id is not None
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
        # The purge function refuses a call without its checkpoint as the newest event.
        ("SELECT kiosk_purge_events((SELECT max(id) FROM events))", "a purge needs its checkpoint"),
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
    assert row is not None and row[0] == before.events_checked


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
        assert grants[table] == "DELETE,INSERT,SELECT,UPDATE"
    assert can_login == (False,)

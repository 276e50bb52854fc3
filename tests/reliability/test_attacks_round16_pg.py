"""Round 16 of the red team on the record, on PostgreSQL: what the kiosk's own database login
plants for the kiosks and the office's commands to run into later.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from kiosk.config import Settings
from kiosk.db import migrate
from kiosk.db.engine import make_engine, null_pool_engine
from kiosk.domain.errors import DatabaseUnavailable, KioskError
from kiosk.services.app import Services, prepare_database
from tests.conftest import FakeClock
from tests.pg import Cluster, PgServer, PgUnavailable
from tests.reliability.helpers import libpq_url
from tests.school import make_school

pytestmark = pytest.mark.postgresql

_COUNTER = itertools.count()


def _kiosk(url: str, clock: FakeClock, name: str = "k2") -> Services:
    return Services(make_engine(url), Settings(kiosk_name=name, database_url=url), clock)


def _try(work: Callable[[], object]) -> object:
    try:
        return work()
    except KioskError as exc:
        return exc.message


# --- a list row at the largest id the database allows ------------------------------------


@pytest.mark.parametrize("top", [2**31 - 1, 2**31 - 2])
def test_a_device_planted_at_the_largest_id_does_not_stop_new_devices(
    set_up_school: Services, kiosk_url: str, pg_url: str, clock: FakeClock, top: int
) -> None:
    """The kiosk login, with the school key every kiosk holds, records a device (a list change
    the kiosks may record, chained and MACed: verify has nothing to name) under the id
    2147483647 (or one below it), the largest a PostgreSQL ``integer`` holds. Each new device
    took the id after the largest: "integer out of range" inside the database, so every kiosk
    and the office's own login said "Not recorded: the database is unavailable. Please try
    again" at each device added, for good. A new row now takes an id never used below it."""
    set_up_school.close()
    kiosk = _kiosk(kiosk_url, clock)
    office = _kiosk(pg_url, clock, "office")
    try:
        with kiosk.ctx.write() as uow:
            row = {"tag": "LT-TOP", "kind": "laptop", "description": "", "created_at": uow.now}
            uow.change_reference("devices", top, row | {"retired_at": None})
        added = _try(lambda: kiosk.people.add_device("LT-98", "laptop", admin_code="CHEAD"))
        assert not isinstance(added, str), added
        added = _try(lambda: office.people.add_device("LT-99", "laptop", admin_code="CHEAD"))
        assert not isinstance(added, str), added
        tags = {d.tag for d in office.people.list_devices()}
        assert {"LT-TOP", "LT-98", "LT-99"} <= tags
        assert office.integrity.verify(save=False).ok
    finally:
        kiosk.close()
        office.close()


# --- the shared login's password changed by the login itself ---------------------------------


@pytest.fixture(scope="module")
def password_server() -> Iterator[PgServer]:
    """A cluster of its own where logins other than the superuser need their password over
    TCP (as a school's server does; the tests' own cluster trusts every login)."""
    cluster = Cluster()
    try:
        server = cluster.start()
    except PgUnavailable as exc:
        pytest.fail(f"PostgreSQL tests cannot run: {exc}", pytrace=False)
    try:
        hba = cluster.data / "pg_hba.conf"
        hba.write_text(
            "local all all trust\n"
            "host all postgres 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
        cluster._run("pg_ctl", "-D", str(cluster.data), "-w", "reload")
        yield server
    finally:
        cluster.stop()


def test_a_kiosk_login_that_changes_its_own_password_is_said_in_words(
    password_server: PgServer, clock: FakeClock
) -> None:
    """Any login may change its own password (``ALTER ROLE CURRENT_USER PASSWORD '...'``, or
    psql's ``\\password``), and the school's kiosks share one. Every other kiosk's next
    connection is refused (``FATAL: password authentication failed``): its scans said "Not
    recorded: the database is unavailable. Please try again", and a kiosk starting said the
    same, as if the server or the network were down, for good. Now they say the server refused
    the kiosk's login, that trying again will not help, and what to tell the office."""
    server = password_server
    suffix = f"{os.getpid()}_{next(_COUNTER)}"
    login, database = f"pw_kiosk_{suffix}", f"pw_db_{suffix}"
    admin = f"host={server.host} port={server.port} user={server.user}"
    with psycopg.connect(f"{admin} dbname=postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    engine = null_pool_engine(server.url(database))
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    with psycopg.connect(f"{admin} dbname=postgres", autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {login} LOGIN PASSWORD 'kiosk-pass' IN ROLE kiosk_app")
    kiosk_url = (
        make_url(server.url(database))
        .set(username=login, password="kiosk-pass")
        .render_as_string(hide_password=False)
    )
    services = _kiosk(kiosk_url, clock)
    try:
        make_school(services)
        services.phones.deposit("EPATEL")
        with psycopg.connect(libpq_url(kiosk_url), autocommit=True) as attacker:
            attacker.execute("ALTER ROLE CURRENT_USER PASSWORD 'not-the-schools'")
        services.ctx.engine.dispose()  # the kiosk's pooled connection closed: it must connect
        said = _try(lambda: services.phones.collect("EPATEL"))
        starting = make_engine(kiosk_url)  # a kiosk starting now
        try:
            with pytest.raises(DatabaseUnavailable) as refused:
                prepare_database(starting)
        finally:
            starting.dispose()
    finally:
        services.close()
    assert isinstance(said, str), said
    assert said.startswith("Not recorded: the database server refused this kiosk's login"), said
    assert f'password authentication failed for user "{login}"' in said, said
    assert "Trying again will not help" in said, said
    assert str(refused.value).startswith(
        "The database cannot be opened: the database server refused this kiosk's login"
    ), refused.value

"""Round 8 of the red team on the record.

Each test here failed on the code before its fix (see the commit that added it).
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import errors
from sqlalchemy.engine import make_url

import kiosk
from kiosk.config import Settings
from kiosk.db import migrate
from kiosk.db.engine import make_engine, null_pool_engine
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.pg import PgServer
from tests.reliability.helpers import HAZARDS, Raw, libpq_url, plant_hazard, run_capped
from tests.reliability.test_attacks import _append
from tests.reliability.test_least_privilege import _is_admin, _staff_change
from tests.school import make_school

# --- PostgreSQL: a schema the kiosk's login may create objects in ------------------------------

# Planted by the kiosk's login in ``public`` (no key needed): ``upper(varchar)`` matches the
# kiosk's own ``upper(devices.tag)`` exactly, so PostgreSQL prefers it to pg_catalog's
# ``upper(text)`` whoever runs the query. Run by the owner's session (the office imports the
# roster with the owner's URL, as the README says it must for admin changes), it has the
# owner's rights: it empties revision 0006's guard, keeping its name, trigger and search_path.
_TROJAN = """
CREATE FUNCTION public.upper(character varying) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
    IF pg_catalog.pg_has_role(current_user,
            (SELECT relowner FROM pg_catalog.pg_class WHERE oid = 'public.events'::regclass),
            'USAGE') THEN
        EXECUTE 'CREATE OR REPLACE FUNCTION public.kiosk_guard_reference() RETURNS trigger '
                'LANGUAGE plpgsql SET search_path = public, pg_temp '
                'AS $g$ BEGIN RETURN NEW; END; $g$';
    END IF;
    RETURN pg_catalog.upper($1::text);
END;
$f$
"""


@pytest.mark.postgresql
def test_a_schema_the_kiosk_login_may_create_in_is_named(
    set_up_school: Services, kiosk_url: str, pg_url: str
) -> None:
    """PostgreSQL before 15 lets every role CREATE in schema ``public`` (the register's): the
    kiosk's login planted a function there that the owner's own session then ran, with the
    owner's rights (CVE-2018-1058's pattern), and emptied revision 0006's guard; the login
    then granted itself admin (recorded as by an admin). `kiosk verify` said "Register
    intact" throughout. It now names each schema a kiosk role may create objects in."""
    login = make_url(kiosk_url).username
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")  # PostgreSQL 14's default
    with psycopg.connect(libpq_url(kiosk_url), autocommit=True) as kiosk:
        kiosk.execute(_TROJAN)
    # The office, on the owner's login, adds someone (a code is checked against device tags:
    # upper() on devices.tag).
    office = Services(
        make_engine(pg_url),
        Settings(kiosk_name="office", database_url=pg_url),
        set_up_school.ctx.clock,
    )
    try:
        office.people.add_staff("ZNEW", "Zed New", admin_code="CHEAD")
    finally:
        office.close()
    granted = _grant_admin_as_chead(kiosk_url)

    with psycopg.connect(libpq_url(kiosk_url), autocommit=True) as kiosk:
        kiosk.execute("DROP FUNCTION public.upper(character varying)")  # its tracks covered

    report = set_up_school.integrity.verify(save=False)

    assert granted == [(1,)]  # the attack, as it went before the fix
    assert not report.ok, report.summary
    said = " ".join(report.problems)
    assert "the kiosk role may CREATE in schema public: a function it creates" in said, said
    assert f"the kiosk login {login} may CREATE in schema public" in said


@pytest.mark.postgresql
def test_a_kiosk_role_that_may_create_schemas_is_named(
    set_up_school: Services, kiosk_url: str, pg_url: str
) -> None:
    """CREATE on the database: the kiosk's login may make a schema named after the owner,
    which comes first on the owner's search_path ("$user", public): its own ``events`` view
    then stands in for the register in the owner's sessions. Named, as the grant it is."""
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        database = make_url(pg_url).database
        owner.execute(f'GRANT CREATE ON DATABASE "{database}" TO kiosk_app')

    report = set_up_school.integrity.verify(save=False)

    assert not report.ok
    assert any(
        p.startswith("the kiosk role may CREATE schemas in this database") for p in report.problems
    ), report.problems


# --- PostgreSQL: the register's functions and triggers, there by name but not as installed -------

_EMPTY_GUARD = (
    "CREATE OR REPLACE FUNCTION kiosk_guard_reference() RETURNS trigger LANGUAGE plpgsql "
    "SET search_path = public, pg_temp AS $$ BEGIN RETURN NEW; END; $$"
)
WEAKENED: dict[str, tuple[str, ...]] = {
    "the guard's function emptied": (_EMPTY_GUARD,),
    "the guard's trigger firing on nothing": (
        "DROP TRIGGER events_guard_reference ON events",
        "CREATE TRIGGER events_guard_reference BEFORE INSERT ON events FOR EACH ROW "
        "WHEN (NEW.kind = 'nothing') EXECUTE FUNCTION kiosk_guard_reference()",
    ),
}


def _grant_admin_as_chead(kiosk_url: str) -> list[object]:
    """The kiosk's login with the school key: BJONES made admin, the event naming CHEAD (an
    admin) as its recorder. Returns whether BJONES is an admin in the list afterwards."""
    with psycopg.connect(libpq_url(kiosk_url)) as kiosk:
        db = Raw(kiosk, sqlite=False)
        details = _staff_change("BJONES", roles=["admin", "breakfast_club_lead"])(db)
        chead = db.execute("SELECT id FROM staff WHERE code = 'CHEAD'")[0][0]
        try:
            _append(
                db,
                {
                    "kind": "reference_changed",
                    "category": "reference",
                    "staff_id": chead,
                    "recorded_by_id": chead,
                    "details": details,
                },
            )
            kiosk.commit()
        except errors.InsufficientPrivilege:
            kiosk.rollback()
        return _is_admin(db, "BJONES")


@pytest.mark.postgresql
@pytest.mark.parametrize("weakened", list(WEAKENED))
def test_a_register_function_or_trigger_not_as_installed_is_named(
    set_up_school: Services, kiosk_url: str, pg_url: str, weakened: str
) -> None:
    """Verify checked the register's triggers by name (there, enabled) and its functions by
    their search_path only. Revision 0006's guard emptied (CREATE OR REPLACE, the search_path
    kept), or its trigger recreated under its own name to fire on nothing, by the owner or by
    code run as the owner (the trojan above, its tracks then covered): the kiosk's login,
    with the school key, made itself admin, named as recorded by an admin, and verify said
    "Register intact". Each function's body and each trigger's definition is compared with
    what the kiosk installs."""
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        for statement in WEAKENED[weakened]:
            owner.execute(statement)

    granted = _grant_admin_as_chead(kiosk_url)
    report = set_up_school.integrity.verify(save=False)

    assert granted == [(1,)]  # what the weakened guard let through
    assert not report.ok, report.summary
    said = " ".join(report.problems)
    if "function" in weakened:
        assert "the function kiosk_guard_reference is not the kiosk's" in said, said
    else:
        assert "the trigger events_guard_reference has been changed" in said, said


# --- an anchor file that is a device, a pipe or huge ---------------------------------------------


@pytest.mark.parametrize("what", HAZARDS)
def test_an_anchor_file_that_is_a_device_or_a_pipe_is_refused_in_a_sentence(
    sqlite_url: str, tmp_path: Path, what: str
) -> None:
    """`kiosk verify --anchor FILE` (and `kiosk restore --anchor`) read the whole file: a
    symlink to /dev/zero read and grew until memory ran out, a FIFO waited for ever, so a
    scheduled `verify --anchor` at a planted path never again said anything (round 7 fixed
    the key file, not the anchor). An anchor is read only when it is a regular file of at
    most 64 KiB; otherwise it is refused in a sentence. (Its own process, memory and time
    capped, so that the code before the fix fails instead of taking the machine.)"""
    services = Services(make_engine(sqlite_url), Settings(database_url=sqlite_url), FakeClock())
    try:
        make_school(services)
    finally:
        services.close()
    anchor = tmp_path / "anchor.txt"
    plant_hazard(anchor, what, b"Event: 1\n" * 2**17)
    env = dict(os.environ, KIOSK_DATABASE_URL=sqlite_url)
    argv = [sys.executable, "-m", "kiosk", "verify", "--anchor", str(anchor)]
    done = run_capped(argv, env, "kiosk verify --anchor")

    assert done.returncode == 1
    assert "something unexpected" not in done.stderr and "Traceback" not in done.stderr
    why = "it is larger than 65,536 bytes" if what == "large" else "it is not a regular file"
    assert f"kiosk: The anchor file {anchor} cannot be read ({why}" in done.stderr, done.stderr


# --- PostgreSQL: a kiosk login's own DateStyle ---------------------------------------------------


@pytest.mark.postgresql
@pytest.mark.parametrize("style", ["SQL, DMY", "German", "Postgres, MDY"])
def test_a_kiosk_login_that_sets_its_datestyle_still_records_and_verifies(
    set_up_school: Services, kiosk_url: str, style: str
) -> None:
    """``ALTER ROLE CURRENT_USER SET DateStyle = 'SQL, DMY'`` (any login may, as with
    client_encoding in round 5): psycopg reads times only in ISO style, so every deposit,
    every person's screen and `kiosk verify` of that login's kiosks raised NotImplementedError
    ("can't parse timestamptz with DateStyle ...": "something unexpected went wrong"), and
    verify could never again say anything on that login. The kiosk now asks for ISO when it
    connects, which a role's default does not override."""
    with psycopg.connect(libpq_url(kiosk_url), autocommit=True) as conn:
        conn.execute(f"ALTER ROLE CURRENT_USER SET DateStyle = '{style}'")
    settings = Settings(kiosk_name="staffroom", database_url=kiosk_url)
    services = Services(make_engine(kiosk_url), settings, set_up_school.ctx.clock)
    try:
        services.phones.deposit("BJONES")
        assert services.people.status("BJONES").phone is not None
        assert services.integrity.verify(save=False).ok
    finally:
        services.close()


@pytest.mark.postgresql
def test_deploy_steps_on_a_postgresql_14_public_schema_let_the_owner_migrate(
    pg_server: PgServer,
) -> None:
    """docs/deploy.md's REVOKE CREATE ON SCHEMA public FROM PUBLIC (for PostgreSQL 14 and
    older, where every role may create in ``public``) also took it from the owner there:
    ``public`` belongs to ``postgres`` on 14, so a fresh install could not create the
    register (permission denied for schema public). deploy.md gives the schema to the owner
    first. Here ``public`` is set up as PostgreSQL 14 ships it, then deploy.md's steps."""
    suffix = f"{os.getpid()}_{next(_DEPLOY_COUNTER)}"
    owner, database = f"kiosk_owner_{suffix}", f"kiosk_deploy_{suffix}"
    admin = f"host={pg_server.host} port={pg_server.port} user={pg_server.user}"
    with psycopg.connect(f"{admin} dbname=postgres", autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {owner} LOGIN")
        conn.execute(f"CREATE DATABASE {database} OWNER {owner}")
        conn.execute(  # deploy.md creates it (the template's migration may have already)
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kiosk_app') "
            "THEN CREATE ROLE kiosk_app NOLOGIN; END IF; END $$"
        )
    with psycopg.connect(f"{admin} dbname={database}", autocommit=True) as conn:
        conn.execute("ALTER SCHEMA public OWNER TO postgres")  # as PostgreSQL 14 ships it
        conn.execute("GRANT CREATE, USAGE ON SCHEMA public TO PUBLIC")
        for statement in DEPLOY_PUBLIC_SCHEMA_STEPS:  # docs/deploy.md
            conn.execute(statement.format(owner=owner, database=database))
    url = make_url(pg_server.url(database)).set(username=owner, password=None)
    engine = null_pool_engine(url.render_as_string(hide_password=False))
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


_DEPLOY_COUNTER = itertools.count()
# docs/deploy.md, "On PostgreSQL 14 and older": the same statements, in the same order.
DEPLOY_PUBLIC_SCHEMA_STEPS = (
    "ALTER SCHEMA public OWNER TO {owner}",
    "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    "REVOKE CREATE ON DATABASE {database} FROM PUBLIC",
)


def test_deploy_md_gives_those_steps() -> None:
    text = (Path(kiosk.__file__).resolve().parents[1] / "docs" / "deploy.md").read_text()
    for statement in DEPLOY_PUBLIC_SCHEMA_STEPS:
        assert statement.format(owner="kiosk_owner", database="kiosk") in text, statement

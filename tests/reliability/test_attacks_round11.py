"""Round 11 of the red team on the record.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.engine import make_url

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from tests.reliability.helpers import Raw, libpq_url
from tests.reliability.test_attacks import _append
from tests.reliability.test_least_privilege import _is_admin, _staff_change

# --- PostgreSQL: a kiosk login that owns the register's tables ----------------------------------


@pytest.mark.postgresql
@pytest.mark.parametrize("table", ["events", "staff_roles"])
def test_a_kiosk_login_that_owns_a_register_table_is_named(
    set_up_school: Services, kiosk_url: str, pg_url: str, table: str
) -> None:
    """A database administrator's slip: a register table owned by a kiosk login
    (``ALTER TABLE ... OWNER TO``, or the migrations run with the kiosk's URL). The owner of
    ``events`` steps round revision 0006 (its guard lets the owner through); the owner of a
    list may write it directly. Its owner's privileges are its own to revoke from itself:
    then no privilege check saw anything, and verify (on either login) said "Register
    intact" after the login, with the school key, made itself admin named as recorded by an
    admin."""
    login = make_url(kiosk_url).username
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        row = owner.execute("SELECT current_user").fetchone()
        assert row is not None
        owner.execute(f"ALTER TABLE {table} OWNER TO {login}")
    try:
        _own_and_check(set_up_school, kiosk_url, pg_url, table, login)
    finally:
        with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
            owner.execute(f'REASSIGN OWNED BY {login} TO "{row[0]}"')


def _own_and_check(
    school: Services, kiosk_url: str, pg_url: str, table: str, login: str | None
) -> None:
    with psycopg.connect(libpq_url(kiosk_url)) as kiosk:
        # The login hides what it owns: no privilege of its own left to see.
        kiosk.execute(f"REVOKE ALL ON {table} FROM {login}")
        db = Raw(kiosk, sqlite=False)
        if table == "events":
            chead = db.execute("SELECT id FROM staff WHERE code = 'CHEAD'")[0][0]
            details = _staff_change("BJONES", roles=["admin", "breakfast_club_lead"])(db)
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
            assert _is_admin(db, "BJONES") == [(1,)]
        kiosk.commit()
    for url in (kiosk_url, pg_url):
        checker = Services(
            make_engine(url),
            Settings(kiosk_name="office", database_url=url),
            school.ctx.clock,
        )
        try:
            report = checker.integrity.verify(save=False)
        finally:
            checker.close()
        assert not report.ok, url
        assert f"the kiosk login {login} owns the table {table}" in " ".join(report.problems)


# --- PostgreSQL: a kiosk login that sets its own search_path -------------------------------------


@pytest.mark.postgresql
@pytest.mark.parametrize("path", ["pg_temp, public", "information_schema, public"])
def test_a_kiosk_login_that_sets_its_search_path_does_not_move_verify_elsewhere(
    set_up_school: Services, kiosk_url: str, pg_url: str, path: str
) -> None:
    """``ALTER ROLE CURRENT_USER SET search_path = pg_temp, public`` (any login may, no key
    needed): the kiosk's tables are still found in public, but verify looked for the
    register's functions, extra triggers, rules and row-level security in
    ``current_schema()``, the first schema of the path that exists (the login's temporary
    schema, information_schema): on every kiosk of that login it said "the function
    kiosk_guard_reference is missing" of an honest register, and a trigger that is not the
    kiosk's was not looked for. Verify now looks where ``events`` is."""
    with psycopg.connect(libpq_url(kiosk_url), autocommit=True) as conn:
        conn.execute(f"ALTER ROLE CURRENT_USER SET search_path = {path}")
        conn.execute("CREATE TEMP TABLE scratch (x int)")  # its temporary schema exists
        kiosk = Services(
            make_engine(kiosk_url),
            Settings(kiosk_name="staffroom", database_url=kiosk_url),
            set_up_school.ctx.clock,
        )
        try:
            kiosk.phones.deposit("BJONES")
            assert kiosk.integrity.verify(save=False).ok
            with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
                owner.execute(
                    "CREATE FUNCTION public.quiet() RETURNS trigger LANGUAGE plpgsql "
                    "AS $$ BEGIN RETURN NULL; END $$"
                )
                owner.execute(
                    "CREATE TRIGGER quiet BEFORE INSERT ON public.staff_roles "
                    "FOR EACH ROW EXECUTE FUNCTION public.quiet()"
                )
            report = kiosk.integrity.verify(save=False)
        finally:
            kiosk.close()
    assert report.problems == ("the trigger quiet on staff_roles is not the kiosk's",)


# --- PostgreSQL: a kiosk login that owns the database (and so schema public) ---------------------


@pytest.mark.postgresql
def test_a_kiosk_login_that_owns_the_database_is_named(
    set_up_school: Services, kiosk_url: str, pg_url: str
) -> None:
    """A database administrator's slip: the database created ``OWNER`` the kiosk's login. From
    PostgreSQL 15 schema public belongs to ``pg_database_owner``, so the login owns the schema
    the register is in: it may drop any table or function there and create its own (a
    function standing in for one the kiosk's queries call runs with the rights of whoever
    calls it, the owner's too). Verify named CREATE on the schema and on the database, but an
    owner's privileges are its own to revoke: with them revoked after planting a function,
    verify said "Register intact" on both logins."""
    login = make_url(kiosk_url).username
    database = make_url(pg_url).database
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        row = owner.execute("SELECT current_user").fetchone()
        assert row is not None
        owner.execute(f'ALTER DATABASE "{database}" OWNER TO {login}')
    try:
        with psycopg.connect(libpq_url(kiosk_url), autocommit=True) as kiosk:
            kiosk.execute("GRANT CREATE ON SCHEMA public TO pg_database_owner")
            kiosk.execute(
                "CREATE FUNCTION public.upper(character varying) RETURNS text "
                "LANGUAGE sql AS $$ SELECT pg_catalog.upper($1::text) $$"
            )
            kiosk.execute("REVOKE CREATE ON SCHEMA public FROM pg_database_owner")
            kiosk.execute(f'REVOKE CREATE ON DATABASE "{database}" FROM {login}')
            kiosk.execute(f'REVOKE CREATE ON DATABASE "{database}" FROM PUBLIC')
        for url in (kiosk_url, pg_url):
            checker = Services(
                make_engine(url),
                Settings(kiosk_name="office", database_url=url),
                set_up_school.ctx.clock,
            )
            try:
                report = checker.integrity.verify(save=False)
            finally:
                checker.close()
            assert not report.ok, url
            said = " ".join(report.problems)
            assert f"the kiosk login {login} owns the database {database}" in said
            schema = "the owner pg_database_owner of the schema public"
            assert f"the kiosk login {login} can act as {schema}" in said
    finally:
        with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
            owner.execute(f'ALTER DATABASE "{database}" OWNER TO "{row[0]}"')
            owner.execute(f'REASSIGN OWNED BY {login} TO "{row[0]}"')

"""PostgreSQL: the kiosk logs in as a member of kiosk_app, which may only SELECT and INSERT events.

Migrations run as the owner (here the test cluster's superuser); revision 0003 creates the
NOLOGIN group role ``kiosk_app`` and its grants. A login role in that group records events
through the services, purges only through the checkpointing function, and is refused
UPDATE, DELETE, TRUNCATE, disabling triggers and replication mode.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors
from sqlalchemy.engine import make_url

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.errors import RuleViolation
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.helpers import Raw, libpq_url
from tests.reliability.test_attacks import _append
from tests.reliability.test_cli_reliability import run
from tests.school import make_ready, make_school

pytestmark = pytest.mark.postgresql


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


# --- revision 0006: who may act as an admin is the owner's to change ---------------------------


def _latest_row(db: Raw, table: str, key: object) -> dict[str, Any]:
    """The row the newest ``reference_changed`` event of ``table``/``key`` recorded."""
    for (event_id,) in db.execute(
        "SELECT id FROM events WHERE kind = 'reference_changed' ORDER BY id DESC"
    ):
        details = db.event(event_id)["details"]
        details = details if isinstance(details, dict) else json.loads(details)
        if details["table"] == table and details["key"] == key:
            return dict(details["row"])
    raise AssertionError(f"no reference event for {table} {key}")


def _staff_id(db: Raw, code: str) -> int:
    return int(db.execute("SELECT id FROM staff WHERE code = %s", (code,))[0][0])


def _staff_change(who: str, **changes: Any) -> Callable[[Raw], dict[str, Any]]:
    def details(db: Raw) -> dict[str, Any]:
        key = _staff_id(db, who)
        return {"table": "staff", "key": key, "row": _latest_row(db, "staff", key) | changes}

    return details


def _pin_change(value: str | None) -> Callable[[Raw], dict[str, Any]]:
    def details(db: Raw) -> dict[str, Any]:
        row = None if value is None else {"value": value, "updated_at": "2026-03-10T08:05:00+00:00"}
        return {"table": "kiosk_settings", "key": "admin_pin", "row": row}

    return details


def _policy_text(db: Raw) -> dict[str, Any]:
    key = int(db.execute("SELECT min(id) FROM policies")[0][0])
    row = _latest_row(db, "policies", key) | {"text": "Phones may be kept in class."}
    return {"table": "policies", "key": key, "row": row}


def _guard_row(db: Raw) -> dict[str, Any]:
    row = {"value": "999999", "updated_at": "2026-03-10T08:05:00+00:00"}
    return {"table": "kiosk_settings", "key": "events_purge_guard", "row": row}


def _is_admin(db: Raw, code: str) -> list[Any]:
    """[(1,)] when ``code`` holds the admin role in the list table, [] otherwise."""
    return list(
        db.execute(
            "SELECT 1 FROM staff_roles r JOIN staff s ON s.id = r.staff_id "
            f"WHERE s.code = '{code}' AND r.role = 'admin'"
        )
    )


REFUSED_CHANGES: dict[str, tuple[Callable[[Raw], dict[str, Any]], str]] = {
    "grant admin": (_staff_change("BJONES", roles=["admin", "breakfast_club_lead"]), "admin"),
    "grant admin to a new person": (
        lambda db: {
            "table": "staff",
            "key": int(db.execute("SELECT max(id) FROM staff")[0][0]) + 1,
            "row": _latest_row(db, "staff", _staff_id(db, "BJONES"))
            | {"code": "ZNEW", "name": "Zed New", "roles": ["admin"]},
        },
        "grant or remove admin",
    ),
    "remove admin": (_staff_change("DOFFICE", roles=[]), "grant or remove admin"),
    "retire an admin": (
        _staff_change("DOFFICE", retired_at="2026-03-10T08:05:00+00:00"),
        "grant or remove admin",
    ),
    "an admin's code": (_staff_change("DOFFICE", code="ZZZ1"), "change an admin's code"),
    "the PIN hash": (_pin_change('{"alg": "x", "hash": "00"}'), "the setting admin_pin"),
    "remove the PIN": (_pin_change(None), "the setting admin_pin"),
    "a purge guard row": (_guard_row, "the setting events_purge_guard"),
    "a published policy's text": (_policy_text, "change a published policy"),
}


@pytest.mark.parametrize("change", list(REFUSED_CHANGES))
def test_the_kiosk_role_with_the_key_cannot_change_who_acts_as_an_admin(
    set_up_school: Services, kiosk_url: str, change: str
) -> None:
    """The kiosk's login and the school key: a chained, MACed ``reference_changed`` event
    that grants or removes admin, changes an admin's code, the PIN or another setting, or a
    published policy is refused by the database (before 0006 it was applied)."""
    make_details, message = REFUSED_CHANGES[change]
    before = _snapshot(kiosk_url)
    with psycopg.connect(libpq_url(kiosk_url)) as kiosk:
        db = Raw(kiosk, sqlite=False)
        details = make_details(db)
        with pytest.raises(
            errors.InsufficientPrivilege, match=f"only the database owner.*{message}"
        ):
            _append(db, {"kind": "reference_changed", "category": "reference", "details": details})
    assert _snapshot(kiosk_url) == before
    assert set_up_school.integrity.verify(save=False).ok


def test_the_kiosk_role_still_records_other_list_changes_itself(
    set_up_school: Services, kiosk_url: str
) -> None:
    """What is not the owner's stays the kiosk's: a rename, another role, an admin's row
    recorded again unchanged, a new store; each applied by the database."""
    with psycopg.connect(libpq_url(kiosk_url)) as kiosk:
        db = Raw(kiosk, sqlite=False)
        for make_details in (
            _staff_change("BJONES", name="Ben Jones-Smith"),
            _staff_change("EPATEL", roles=["laptop_user", "slt"]),
            _staff_change("CHEAD"),
            _staff_change("DOFFICE", name="Dina Office-Manager"),
        ):
            details = make_details(db)
            _append(db, {"kind": "reference_changed", "category": "reference", "details": details})
        kiosk.commit()
        names = dict(db.execute("SELECT code, name FROM staff"))
    assert names["BJONES"] == "Ben Jones-Smith"
    assert names["DOFFICE"] == "Dina Office-Manager"
    assert set_up_school.integrity.verify(save=False).ok


def test_the_owner_may_grant_admin_and_verify_names_it_when_no_admin_recorded_it(
    set_up_school: Services, pg_url: str
) -> None:
    with psycopg.connect(libpq_url(pg_url)) as owner:
        db = Raw(owner, sqlite=False)
        details = _staff_change("BJONES", roles=["admin", "breakfast_club_lead"])(db)
        _append(db, {"kind": "reference_changed", "category": "reference", "details": details})
        owner.commit()
        granted = _is_admin(db, "BJONES")
    assert granted == [(1,)]
    report = set_up_school.integrity.verify(save=False)
    assert not report.ok
    assert any("not recorded by an admin" in p for p in report.problems)


def test_the_office_is_told_in_words_to_use_the_owner_login(
    set_up_school: Services, pg_url: str, clock: FakeClock
) -> None:
    """Through the services on the kiosk's login: a sentence, nothing recorded; on the
    owner's login the same change is recorded, named after the admin."""
    services = set_up_school
    kiosk_url = services.settings.database_url
    before = _snapshot(kiosk_url)
    with pytest.raises(RuleViolation, match="owner's KIOSK_DATABASE_URL") as refused:
        services.admin.set_pin("135790", admin_code="CHEAD", current_pin="428613")
    assert "only the database owner may change the setting admin_pin" in str(refused.value)
    with pytest.raises(RuleViolation, match="only the database owner may grant or remove admin"):
        services.people.import_staff_csv(
            b"code,name,roles\nBJONES,Ben Jones,admin\n", admin_code="CHEAD"
        )
    assert _snapshot(kiosk_url) == before
    assert services.admin.check_pin("428613").ok

    owner = Services(make_engine(pg_url), Settings(kiosk_name="office", database_url=pg_url), clock)
    try:
        owner.admin.set_pin("135790", admin_code="CHEAD", current_pin="428613")
        owner.people.import_staff_csv(
            b"code,name,roles\nBJONES,Ben Jones,admin\n", admin_code="CHEAD"
        )
        assert owner.admin.check_pin("135790").ok
        assert owner.integrity.verify(save=False).ok
    finally:
        owner.close()


def _snapshot(url: str) -> tuple[Any, ...]:
    with psycopg.connect(libpq_url(url)) as conn:
        return (
            conn.execute("SELECT count(*), max(hash) FROM events").fetchone(),
            conn.execute("SELECT code, retired_at FROM staff ORDER BY id").fetchall(),
            conn.execute("SELECT staff_id, role FROM staff_roles ORDER BY 1, 2").fetchall(),
            conn.execute("SELECT key, value FROM kiosk_settings ORDER BY key").fetchall(),
            conn.execute("SELECT id, text FROM policies ORDER BY id").fetchall(),
        )


# --- a kiosk login given more than the group's rights ---------------------------------------

# What a database administrator could do to the kiosk's own login (not to the group role
# kiosk_app, whose grants are checked above): (setup, teardown, what verify says).
WIDENED_LOGINS: dict[str, tuple[str, str, str]] = {
    "a member of the owner's role": (
        'GRANT "{owner}" TO {login}; ALTER ROLE {login} NOINHERIT',
        "",
        "the kiosk login {login} can act as the owner {owner} (a member of its role)",
    ),
    "a superuser": (
        "ALTER ROLE {login} SUPERUSER",
        "ALTER ROLE {login} NOSUPERUSER",
        "the kiosk login {login} is a superuser",
    ),
    "may create roles": (
        "ALTER ROLE {login} CREATEROLE",
        "",
        "the kiosk login {login} may create roles",
    ),
    "granted UPDATE on events itself": (
        "GRANT UPDATE ON events TO {login}",
        "REVOKE UPDATE ON events FROM {login}",
        "the kiosk login {login} may UPDATE events",
    ),
    "granted TRIGGER on staff itself": (
        "GRANT TRIGGER ON staff TO {login}",
        "REVOKE TRIGGER ON staff FROM {login}",
        "the kiosk login {login} may TRIGGER staff",
    ),
    "granted UPDATE on one column of staff_roles itself": (
        "GRANT UPDATE (role) ON staff_roles TO {login}",
        "REVOKE UPDATE (role) ON staff_roles FROM {login}",
        "the kiosk login {login} may UPDATE staff_roles (column role)",
    ),
}


@pytest.mark.parametrize("widened", list(WIDENED_LOGINS))
def test_verify_names_a_kiosk_login_with_more_than_the_kiosk_role(
    set_up_school: Services, kiosk_url: str, pg_url: str, widened: str
) -> None:
    """The database's guards stop the kiosk's login, not the owner: a login that may act as
    the owner, is a superuser, may create roles, or was granted more on a table itself, can
    step round them. Verify names it, whichever role the office runs verify as."""
    setup, teardown, said = WIDENED_LOGINS[widened]
    login = make_url(kiosk_url).username
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        name = owner.execute("SELECT current_user").fetchone()
        assert name is not None
        words = {"owner": name[0], "login": login}
        for statement in setup.format(**words).split("; "):
            owner.execute(statement)
        office = Services(
            make_engine(pg_url),
            Settings(kiosk_name="office", database_url=pg_url),
            set_up_school.ctx.clock,
        )
        try:
            report = office.integrity.verify(save=False)
        finally:
            office.close()
            if teardown:
                owner.execute(teardown.format(**words))
    assert not report.ok
    assert said.format(**words) in report.problems, report.problems


def test_a_kiosk_login_in_the_owners_role_steps_round_0006_and_verify_says_how(
    set_up_school: Services, kiosk_url: str, pg_url: str
) -> None:
    """The attack the check above is for: the kiosk's login, made a member of the owner's role
    (inheriting its rights, PostgreSQL's default), grants admin with a chained event that the
    database applies. Verify, on the kiosk's own login, names the grant and the membership
    that allowed it."""
    login = make_url(kiosk_url).username
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        row = owner.execute("SELECT current_user").fetchone()
        assert row is not None
    with psycopg.connect(libpq_url(kiosk_url)) as kiosk:
        db = Raw(kiosk, sqlite=False)
        details = _staff_change("BJONES", roles=["admin", "breakfast_club_lead"])(db)
        with pytest.raises(errors.InsufficientPrivilege, match="only the database owner"):
            _append(db, {"kind": "reference_changed", "category": "reference", "details": details})
        kiosk.rollback()
        with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
            owner.execute(f'GRANT "{row[0]}" TO {login}')
        _append(db, {"kind": "reference_changed", "category": "reference", "details": details})
        kiosk.commit()
        granted = _is_admin(db, "BJONES")
    assert granted == [(1,)]
    report = set_up_school.integrity.verify(save=False)
    assert not report.ok
    problems = " ".join(report.problems)
    assert f"the kiosk login {login} can act as the owner" in problems
    assert "not recorded by an admin" in problems


def test_verify_names_column_grants_that_let_the_kiosk_login_make_an_admin(
    set_up_school: Services,
    kiosk_url: str,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Grants on some columns only (``GRANT UPDATE (role) ON staff_roles``) are not table
    grants: has_table_privilege does not see them. With them the kiosk's login adds an admin
    row round 0006's refusal, or switches a role to admin and back, leaving nothing else to
    name; with UPDATE (value) on kiosk_settings it could change the PIN hash. `kiosk verify`
    names each such grant, on the kiosk's login and on the owner's, anchor or none."""
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute("GRANT UPDATE (role), INSERT (staff_id, role) ON staff_roles TO kiosk_app")
        owner.execute("GRANT UPDATE (value) ON kiosk_settings TO kiosk_app")
    login = make_url(kiosk_url).username
    with psycopg.connect(libpq_url(kiosk_url)) as kiosk:
        db = Raw(kiosk, sqlite=False)
        before = _snapshot(kiosk_url)
        # What the grants allow: admin for a while, then back, as if nothing happened.
        db.execute(
            "UPDATE staff_roles SET role = 'admin' WHERE role = 'laptop_user' AND staff_id = "
            "(SELECT id FROM staff WHERE code = 'EPATEL')"
        )
        assert _is_admin(db, "EPATEL") == [(1,)]
        db.execute(
            "UPDATE staff_roles SET role = 'laptop_user' WHERE role = 'admin' AND staff_id = "
            "(SELECT id FROM staff WHERE code = 'EPATEL')"
        )
        kiosk.commit()
    assert _snapshot(kiosk_url) == before

    anchor = tmp_path / "anchor.txt"
    monkeypatch.setenv("KIOSK_DATABASE_URL", pg_url)
    status, _out, err = run(capsys, "anchor", "--out", str(anchor))
    assert status == 0, err
    said = (
        "Problem: the kiosk role may INSERT staff_roles (columns staff_id, role)",
        "Problem: the kiosk role may UPDATE staff_roles (column role)",
        "Problem: the kiosk role may UPDATE kiosk_settings (column value)",
    )
    for url in (kiosk_url, pg_url):
        monkeypatch.setenv("KIOSK_DATABASE_URL", url)
        status, out, _err = run(capsys, "verify", "--anchor", str(anchor))
        assert status == 1, out
        assert out.startswith("REGISTER TAMPERED WITH"), out
        for line in said:
            assert line in out.splitlines(), out
        # The kiosk's own login is named too: it inherits the group's grants.
        assert f"Problem: the kiosk login {login} may UPDATE staff_roles (column role)" in out

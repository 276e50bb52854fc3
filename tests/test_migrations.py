"""Migrations on SQLite and PostgreSQL: up from empty, down and up with data, one head, the
models match the revisions, the append-only triggers exist at head, a newer schema is refused.

pytest-alembic's built-in tests (single head, upgrade, up/down consistency, models match
the DDL) run here on a fresh empty database of each engine; the tests below them add data
and the checks alembic cannot see (triggers that a batch migration would silently drop).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import DBAPIError

from kiosk.cli import main
from kiosk.config import Settings
from kiosk.db import migrate
from kiosk.db.engine import make_engine, null_pool_engine
from kiosk.db.models import Event
from kiosk.domain.errors import SchemaTooNew
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.pg import PgServer
from tests.school import add_seed_policy, make_ready, make_school

__all__ = [
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_up_down_consistency",
    "test_upgrade",
]

APPEND_ONLY = "append-only"
_counter = itertools.count()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database (no tables at all) on each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = f"kiosk_empty_{os.getpid()}_{next(_counter)}"
    janitor = DatabaseJanitor(
        user=server.user,
        host=server.host,
        port=server.port,
        dbname=name,
        password=server.password,
    )
    with janitor:
        yield server.url(name)


@pytest.fixture
def alembic_config() -> AlembicConfig:
    return migrate.alembic_config()


@pytest.fixture
def alembic_engine(empty_url: str) -> Iterator[Engine]:
    engine = null_pool_engine(empty_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(empty_url: str) -> Iterator[Engine]:
    engine = make_engine(empty_url)
    yield engine
    engine.dispose()


def revisions() -> list[str]:
    """Every revision from the first to head, in order."""
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def services_on(engine: Engine) -> Services:
    url = engine.url.render_as_string(hide_password=False)
    return Services(engine, Settings(kiosk_name="test-kiosk", database_url=url), FakeClock())


def fill(services: Services) -> None:
    """Staff, devices and events of every common kind."""
    make_school(services)
    make_ready(services, "ASMITH")
    services.phones.deposit("ASMITH")
    services.phones.collect("ASMITH")
    services.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")


def event_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())


# --- revisions -----------------------------------------------------------------------------------


def test_revisions_form_one_line_from_base() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1
    chain = revisions()
    assert chain[-1] == migrate.head_revision()
    for older, newer in itertools.pairwise(chain):
        assert script.get_revision(newer).down_revision == older
    assert script.get_revision(chain[0]).down_revision is None


def test_upgrade_from_empty_to_head(engine: Engine) -> None:
    assert table_names(engine) == set()
    before, after = migrate.upgrade(engine)
    assert (before, after) == (None, migrate.head_revision())
    assert {"staff", "staff_roles", "stores", "devices", "policies", "events"} <= table_names(
        engine
    )
    services = services_on(engine)
    assert {s.code for s in services.phones.stores()} == {"STAFFROOM", "DRAWER"}
    # A new school starts with no policy: not the seed school's AUP (issue 16).
    assert list(services.policies.current()) == []


def test_down_and_up_again_with_data(engine: Engine) -> None:
    migrate.upgrade(engine)
    add_seed_policy(engine)  # as a database made before issue 16 has it: it is kept
    services = services_on(engine)
    fill(services)
    events = event_count(engine)
    assert events > 5

    # One step down and back up from head, with data in every table: nothing lost.
    chain = revisions()
    for older in reversed(chain[:-1]):
        migrate.downgrade(engine, older)
        assert migrate.current_revision(engine) == older
        assert event_count(engine) == events
        migrate.upgrade(engine)
        assert migrate.is_at_head(engine)
        assert event_count(engine) == events
        assert services.devices.offsite_now()[0].device.tag == "LAP-001"
        assert [p.version for p in services.policies.current()] == ["Spring 2018"]
        migrate.downgrade(engine, older)  # and continue downwards from here
    # All the way to base drops every table; up again gives a working, seeded database.
    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert table_names(engine) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert migrate.is_at_head(engine)
    assert event_count(engine) == 0
    fill(services)
    assert services.devices.offsite_now()[0].staff.code == "ASMITH"


# --- the start without Alembic: a database already at the shipped head ---------------------------


def test_shipped_head_is_alembic_head() -> None:
    """The head read from the scripts' revision lines is the one Alembic computes."""
    assert migrate.shipped_head() == migrate.head_revision()


def test_at_shipped_head_only_for_exactly_the_head(engine: Engine) -> None:
    assert migrate.recorded_revisions(engine) is None  # no version table yet
    assert not migrate.at_shipped_head(engine)
    migrate.upgrade(engine)
    assert migrate.recorded_revisions(engine) == [migrate.head_revision()]
    assert migrate.at_shipped_head(engine)
    older = revisions()[-2]
    migrate.downgrade(engine, older)
    assert not migrate.at_shipped_head(engine)
    migrate.upgrade(engine)
    with engine.begin() as conn:  # two rows (branches Alembic would have to sort out)
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0001')"))
    assert not migrate.at_shipped_head(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version WHERE version_num = '0001'"))
    _stamp_future(engine)
    assert not migrate.at_shipped_head(engine)


def test_older_schema_is_still_upgraded_by_services_open(engine: Engine, empty_url: str) -> None:
    migrate.upgrade(engine)
    fill(services_on(engine))
    events = event_count(engine)
    migrate.downgrade(engine, revisions()[-2])
    services = Services.open(Settings(database_url=empty_url))
    try:
        assert migrate.is_at_head(engine)
        assert event_count(engine) == events
        assert services.devices.offsite_now()[0].device.tag == "LAP-001"
    finally:
        services.close()


def test_services_open_at_head_does_not_import_alembic(engine: Engine, empty_url: str) -> None:
    """A kiosk starting on a database at head checks it without Alembic (its import costs
    time and memory the kiosk would carry all day); a new database still gets Alembic."""
    probe = (
        "import sys\n"
        "from kiosk.config import Settings\n"
        "from kiosk.services.app import Services\n"
        "services = Services.open(Settings(database_url=sys.argv[1]))\n"
        "services.close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )

    def alembic_modules() -> str:
        proc = subprocess.run(
            [sys.executable, "-c", probe, empty_url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    assert alembic_modules() != "[]"  # empty: upgraded through Alembic
    assert migrate.is_at_head(engine)
    assert alembic_modules() == "[]"  # at head: not imported


# --- the append-only triggers, at head -----------------------------------------------------------


def _refused(engine: Engine, statement: str) -> str:
    with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
        conn.execute(text(statement))
    return str(caught.value.orig)


def test_triggers_exist_at_head_and_refuse_changes(engine: Engine) -> None:
    migrate.upgrade(engine)
    services = services_on(engine)
    fill(services)
    count = event_count(engine)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            names = set(
                conn.scalars(
                    text(
                        "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                        "AND tbl_name = 'events'"
                    )
                )
            )
            assert {"events_no_update", "events_no_delete"} <= names
        else:
            rows = conn.execute(
                text(
                    "SELECT tgname, tgenabled FROM pg_trigger "
                    "WHERE tgrelid = 'events'::regclass AND NOT tgisinternal"
                )
            ).all()
            assert {"events_no_update_delete", "events_no_truncate"} <= {r[0] for r in rows}
            assert all(r[1] == "O" for r in rows)  # enabled

    first_id = services.register.day(FakeClock()().date()).rows[0].event_id
    message = _refused(engine, f"UPDATE events SET kind = 'phone_collected' WHERE id = {first_id}")
    assert APPEND_ONLY in message
    assert APPEND_ONLY in _refused(engine, "UPDATE events SET details = '{}' WHERE id > 0")
    assert APPEND_ONLY in _refused(engine, f"DELETE FROM events WHERE id = {first_id}")
    assert APPEND_ONLY in _refused(engine, "DELETE FROM events")
    if engine.dialect.name == "postgresql":
        assert APPEND_ONLY in _refused(engine, "TRUNCATE events")
        assert APPEND_ONLY in _refused(engine, "TRUNCATE events CASCADE")
    assert event_count(engine) == count
    with engine.connect() as conn:
        kinds = conn.scalars(select(Event.kind).where(Event.id == first_id)).all()
    assert kinds != ["phone_collected"]
    # Appending still works.
    services.devices.return_device("LAP-001")
    assert event_count(engine) == count + 1


# --- a database newer than the code --------------------------------------------------------------


def _stamp_future(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00d_from_the_future'"))


def _snapshot(engine: Engine) -> tuple[str | None, set[str], int]:
    return migrate.current_revision(engine), table_names(engine), event_count(engine)


def test_newer_schema_is_refused_by_services_open(engine: Engine, empty_url: str) -> None:
    migrate.upgrade(engine)
    fill(services_on(engine))
    _stamp_future(engine)
    before = _snapshot(engine)
    with pytest.raises(SchemaTooNew) as caught:
        Services.open(Settings(database_url=empty_url))
    assert "newer version of the kiosk" in caught.value.message
    assert "f00d_from_the_future" in caught.value.message
    assert _snapshot(engine) == before


def test_newer_schema_is_refused_by_kiosk_db_upgrade(
    engine: Engine,
    empty_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    migrate.upgrade(engine)
    fill(services_on(engine))
    _stamp_future(engine)
    before = _snapshot(engine)
    monkeypatch.setenv("KIOSK_DATABASE_URL", empty_url)
    for command in (["db", "upgrade"], ["staff", "list"]):
        assert main(command) == 1
        out, err = capsys.readouterr()
        assert out == ""
        assert err == (
            "kiosk: This database was upgraded by a newer version of the kiosk (revision "
            "f00d_from_the_future). Install the newer kiosk software; nothing was changed.\n"
        )
    assert _snapshot(engine) == before


# --- 0004: the register filtered by staff ---------------------------------------------------------


def _event_indexes(engine: Engine) -> dict[str, list[str | None]]:
    return {
        ix["name"] or "": list(ix["column_names"]) for ix in inspect(engine).get_indexes("events")
    }


def test_0004_indexes_events_by_staff_and_time(engine: Engine) -> None:
    """0004 adds (staff_id, occurred_at); down to 0003 removes it, with the data kept; the
    register's day filtered by staff uses it on SQLite (not the person's whole stream)."""
    from kiosk.domain.timeutil import local_date, local_day_bounds
    from kiosk.services.register import RegisterFilter, _base

    migrate.upgrade(engine)
    services = services_on(engine)
    fill(services)
    events = event_count(engine)
    assert _event_indexes(engine)["ix_events_staff_time"] == ["staff_id", "occurred_at"]
    migrate.downgrade(engine, "0003")
    assert "ix_events_staff_time" not in _event_indexes(engine)
    assert event_count(engine) == events
    migrate.upgrade(engine)
    assert _event_indexes(engine)["ix_events_staff_time"] == ["staff_id", "occurred_at"]

    today = local_date(services.ctx.clock(), services.settings.zone)
    mine = RegisterFilter(staff_code="ASMITH")
    assert services.register.day(today, mine).total >= 2
    if engine.dialect.name == "sqlite":
        start, end = local_day_bounds(today, services.settings.zone)
        stmt = _base(mine).where(Event.occurred_at >= start, Event.occurred_at < end)
        with engine.connect() as conn:
            sql = str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))
            plan = " | ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
        assert "ix_events_staff_time (staff_id=? AND occurred_at>? AND occurred_at<?)" in plan


# --- 0006: admin grants, the PIN and published policies are the owner's (PostgreSQL) ------------


def _guard_trigger(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [
            (str(name), str(enabled))
            for name, enabled in conn.execute(
                text(
                    "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'events'::regclass "
                    "AND tgname = 'events_guard_reference'"
                )
            )
        ]


def test_0006_guards_who_acts_as_an_admin_and_goes_down_cleanly(engine: Engine) -> None:
    """Up: on PostgreSQL a BEFORE INSERT trigger on events (verify names it when missing);
    down to 0005 removes it and its function, data kept; up again puts it back. SQLite: no
    roles to tell apart, nothing changes (the schema is the same both ways)."""
    from kiosk.db.guards import missing_guards

    migrate.upgrade(engine)
    services = services_on(engine)
    fill(services)
    events = event_count(engine)
    postgresql = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        assert missing_guards(conn) == []
    if postgresql:
        assert _guard_trigger(engine) == [("events_guard_reference", "O")]

    migrate.downgrade(engine, "0005")
    assert event_count(engine) == events
    with engine.connect() as conn:
        missing = missing_guards(conn)
        function = (
            conn.execute(text("SELECT to_regproc('kiosk_guard_reference')")).scalar()
            if postgresql
            else None
        )
    if postgresql:
        # 0007 pins the functions' search_path: below it verify names them too.
        # (Functions a later revision mended are named as from before it: tests below.)
        missing = [m for m in missing if " is from before revision " not in m]
        missing = _before_0010(missing)
        assert [m for m in missing if "temporary tables first" not in m] == [
            "the trigger events_guard_reference is missing",
            "the function kiosk_guard_reference is missing",
        ]
        assert _guard_trigger(engine) == [] and function is None
    else:
        assert missing == []

    migrate.upgrade(engine)
    assert migrate.is_at_head(engine)
    assert event_count(engine) == events
    with engine.connect() as conn:
        assert missing_guards(conn) == []
    assert services.integrity.verify(save=False).ok


# --- 0007: the register's functions never look in a session's temporary tables first ---------


def _before_0010(missing: list[str]) -> list[str]:
    """What verify names below revision 0010 but its guard of event ids (named missing, with
    the revision that adds it: test_0010_... below)."""
    added = [m for m in missing if "(revision 0010 adds it: run `kiosk db upgrade`" in m]
    assert len(added) == 2, missing
    return [m for m in missing if m not in added]


def _search_paths(engine: Engine) -> dict[str, list[str] | None]:
    with engine.connect() as conn:
        return {
            str(name): config
            for name, config in conn.execute(
                text(
                    "SELECT proname, proconfig FROM pg_proc WHERE proname IN "
                    "('events_append_only', 'kiosk_purge_events', 'kiosk_apply_reference', "
                    "'kiosk_guard_reference')"
                )
            )
        }


def test_0007_pins_the_functions_search_path_and_goes_down_cleanly(engine: Engine) -> None:
    """Up: on PostgreSQL each function of the register looks in its schema, then pg_temp;
    down to 0006 puts ``FROM CURRENT`` back (verify names each function), data kept; up again
    pins them. SQLite: nothing changes."""
    from kiosk.db.guards import missing_guards

    migrate.upgrade(engine)
    services = services_on(engine)
    fill(services)
    events = event_count(engine)
    postgresql = engine.dialect.name == "postgresql"
    if postgresql:
        paths = _search_paths(engine)
        assert len(paths) == 4
        assert all(c == ["search_path=public, pg_temp"] for c in paths.values()), paths
    migrate.downgrade(engine, "0006")
    assert event_count(engine) == events
    with engine.connect() as conn:
        missing = missing_guards(conn)
    if postgresql:
        # (Below 0008 the guard is 0006's own, named too: test_0008_... below.)
        pinned = _before_0010([m for m in missing if " is from before revision " not in m])
        assert len(pinned) == 4 and all("temporary tables first" in m for m in pinned)
    else:
        assert missing == []
    migrate.upgrade(engine)
    assert migrate.is_at_head(engine)
    with engine.connect() as conn:
        assert missing_guards(conn) == []
    assert services.integrity.verify(save=False).ok


# --- 0008: 0006's guard reads a person's row without roles as "not an admin" ---------------


def _guard_source(engine: Engine) -> tuple[str, list[str] | None]:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT prosrc, proconfig FROM pg_proc WHERE proname = 'kiosk_guard_reference'")
        ).one()
    return str(row[0]), row[1]


def test_0008_mends_the_guard_and_goes_down_cleanly(engine: Engine) -> None:
    """Up: on PostgreSQL the guard is 0008's, its search_path still pinned (0007); down to
    0007 puts 0006's guard back (verify names it, and the revision that replaces it), data
    kept; up again mends it. SQLite: nothing changes."""
    from kiosk.db.guards import missing_guards

    migrate.upgrade(engine)
    services = services_on(engine)
    fill(services)
    events = event_count(engine)
    postgresql = engine.dialect.name == "postgresql"
    if postgresql:
        source, config = _guard_source(engine)
        assert "IS DISTINCT FROM will_admin" in source
        assert config == ["search_path=public, pg_temp"]
    migrate.downgrade(engine, "0007")
    assert event_count(engine) == events
    with engine.connect() as conn:
        missing = missing_guards(conn)
    if postgresql:
        source, config = _guard_source(engine)
        assert "was_admin <> will_admin" in source
        assert config == ["search_path=public, pg_temp"]
        guard = [m for m in missing if "kiosk_apply_reference" not in m]  # 0009: below
        guard = _before_0010(guard)
        assert len(guard) == 1
        assert guard[0].startswith(
            "the function kiosk_guard_reference is from before revision 0008: a kiosk login "
            "may remove admin"
        )
    else:
        assert missing == []
    migrate.upgrade(engine)
    assert migrate.is_at_head(engine)
    with engine.connect() as conn:
        assert missing_guards(conn) == []
    assert services.integrity.verify(save=False).ok


# --- 0009: the apply function runs only as the trigger on events ----------------------------


def test_0009_keeps_the_apply_function_to_events_and_goes_down_cleanly(engine: Engine) -> None:
    """Up: on PostgreSQL the apply function refuses any table but events, its search_path
    still pinned and EXECUTE still not PUBLIC's; down to 0008 puts 0005's back (verify names
    it), data kept; up again. SQLite: nothing changes."""
    from kiosk.db.guards import missing_guards

    def apply_function() -> tuple[str, list[str] | None, bool]:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT prosrc, proconfig, has_function_privilege('public', p.oid, "
                    "'EXECUTE') FROM pg_proc p WHERE proname = 'kiosk_apply_reference'"
                )
            ).one()
        return str(row[0]), row[1], bool(row[2])

    migrate.upgrade(engine)
    services = services_on(engine)
    fill(services)
    events = event_count(engine)
    postgresql = engine.dialect.name == "postgresql"
    if postgresql:
        source, config, public = apply_function()
        assert "TG_RELID IS DISTINCT FROM 'events'::regclass" in source
        assert config == ["search_path=public, pg_temp"] and not public
    migrate.downgrade(engine, "0008")
    assert event_count(engine) == events
    with engine.connect() as conn:
        missing = missing_guards(conn)
    if postgresql:
        source, config, public = apply_function()
        assert "TG_RELID" not in source
        assert config == ["search_path=public, pg_temp"] and not public
        missing = _before_0010(missing)
        assert len(missing) == 1
        assert missing[0].startswith(
            "the function kiosk_apply_reference is from before revision 0009: it runs for a "
            "trigger on any table"
        )
    else:
        assert missing == []
    migrate.upgrade(engine)
    assert migrate.is_at_head(engine)
    with engine.connect() as conn:
        assert missing_guards(conn) == []
    assert services.integrity.verify(save=False).ok


def test_0009_installs_sql_of_its_own_that_verify_knows() -> None:
    """0009's bodies are its own text (a later change to kiosk/db/guards.py does not change
    what it installed, nor stop an upgrade): the one it installs is the body verify expects,
    the one it puts back on the way down a body verify names as from before 0009."""
    import hashlib
    import importlib.util

    from kiosk.db.guards import PG_FORMER_DIGESTS, PG_FUNCTION_DIGESTS
    from kiosk.resources import migrations_dir

    path = migrations_dir() / "versions" / "0009_apply_only_for_events.py"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert not [line for line in lines if line.startswith(("from kiosk", "import kiosk"))]
    spec = importlib.util.spec_from_file_location("kiosk_revision_0009", path)
    assert spec is not None and spec.loader is not None
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)

    def digest(body: str) -> str:
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    assert digest(revision.PG_APPLY_BODY) == PG_FUNCTION_DIGESTS["kiosk_apply_reference"]
    before = PG_FORMER_DIGESTS["kiosk_apply_reference"][digest(revision.PG_APPLY_BODY_BEFORE)]
    assert before[0] == "0009"


# --- 0010: an event's id in step with the newest event's ---------------------------------------


def test_0010_refuses_an_event_id_far_past_the_newest_and_goes_down_cleanly(
    engine: Engine,
) -> None:
    """Up: on PostgreSQL an event more than 4,294,967,296 ids past the newest is refused (one
    at the largest id left no kiosk an id to record with), the owner's too; down to 0009
    takes the trigger and its function away (verify names both missing, with the revision
    that adds them), data kept; up again. SQLite: nothing changes."""
    from kiosk.db.guards import missing_guards

    migrate.upgrade(engine)
    services = services_on(engine)
    fill(services)
    events = event_count(engine)
    postgresql = engine.dialect.name == "postgresql"
    leap = (
        "INSERT INTO events (id, occurred_at, kind, category, kiosk, details, prev_hash, hash) "
        "SELECT id + {step}, occurred_at, kind, category, kiosk, details, hash, hash "
        "FROM events WHERE kind <> 'reference_changed' ORDER BY id DESC LIMIT 1"
    )
    if postgresql:
        said = _refused(engine, leap.format(step=2**32 + 1))
        assert "is far past the newest event's: the kiosk never gives one" in said, said
        assert event_count(engine) == events

    migrate.downgrade(engine, "0009")
    assert event_count(engine) == events
    with engine.connect() as conn:
        missing = missing_guards(conn)
    if postgresql:
        assert missing == [
            "the trigger events_guard_id is missing (revision 0010 adds it: run `kiosk db "
            "upgrade` with the owner's KIOSK_DATABASE_URL)",
            "the function kiosk_guard_event_id is missing (revision 0010 adds it: run `kiosk "
            "db upgrade` with the owner's KIOSK_DATABASE_URL)",
        ]
    else:
        assert missing == []
    migrate.upgrade(engine)
    assert migrate.is_at_head(engine)
    with engine.connect() as conn:
        assert missing_guards(conn) == []
    assert services.integrity.verify(save=False).ok


def test_0010_installs_sql_of_its_own_that_verify_knows() -> None:
    """0010's body is its own text, and the one verify expects."""
    import hashlib
    import importlib.util

    from kiosk.db.guards import PG_FUNCTION_DIGESTS
    from kiosk.resources import migrations_dir

    path = migrations_dir() / "versions" / "0010_event_ids_in_step.py"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert not [line for line in lines if line.startswith(("from kiosk", "import kiosk"))]
    spec = importlib.util.spec_from_file_location("kiosk_revision_0010", path)
    assert spec is not None and spec.loader is not None
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    body = revision.PG_GUARD_ID_BODY
    assert (
        hashlib.sha256(body.encode("utf-8")).hexdigest()
        == (PG_FUNCTION_DIGESTS["kiosk_guard_event_id"])
    )


def test_0010_refuses_the_leap_verify_names_and_no_less() -> None:
    """The trigger's limit is verify's ``ID_LEAP``: an id the database takes is one verify
    does not name as a leap (guard test)."""
    import importlib.util

    from kiosk.resources import migrations_dir
    from kiosk.services.integrity import ID_LEAP

    path = migrations_dir() / "versions" / "0010_event_ids_in_step.py"
    spec = importlib.util.spec_from_file_location("kiosk_revision_0010", path)
    assert spec is not None and spec.loader is not None
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    assert f"coalesce(newest, 0)::numeric + {ID_LEAP} THEN" in revision.PG_GUARD_ID_BODY

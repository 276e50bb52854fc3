"""Round 14 of the red team on the record, on PostgreSQL: what the kiosk's own database login
can do to the register (its own role's settings, its memberships, its grant options).

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

import contextlib
import io
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb
from sqlalchemy import text

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.errors import KioskError
from kiosk.services.app import Services
from kiosk.services.uow import CHAIN_LOCK_KEY
from tests.conftest import FakeClock
from tests.reliability.helpers import libpq_url

pytestmark = pytest.mark.postgresql


def _kiosk(url: str, clock: FakeClock, name: str = "k2") -> Services:
    return Services(make_engine(url), Settings(kiosk_name=name, database_url=url), clock)


@pytest.fixture
def second_kiosk(set_up_school: Services, kiosk_url: str, clock: FakeClock) -> Iterator[str]:
    """The kiosk login's URL once the school is set up (and its first kiosk closed)."""
    set_up_school.close()
    yield kiosk_url


# --- the kiosk login's own settings ----------------------------------------------------------

# Settings any login may give its own role (``ALTER ROLE CURRENT_USER SET ...``); every kiosk
# that connects with it then starts each session with them.
OWN_ROLE_SETTINGS = {
    # every transaction read-only: nothing can be recorded
    "default_transaction_read_only": "on",
    # every statement cancelled after a millisecond
    "statement_timeout": "'1ms'",
    # a session idle a millisecond inside a transaction (the kiosk computing a hash) is ended
    "idle_in_transaction_session_timeout": "'1ms'",
    # a library loaded at the start of each session (from $libdir/plugins): none by that name,
    # so no session starts
    "local_preload_libraries": "'missing_plugin'",
}


@pytest.mark.parametrize("setting", list(OWN_ROLE_SETTINGS))
def test_the_kiosk_login_cannot_stop_every_kiosk_with_its_own_role_settings(
    second_kiosk: str, clock: FakeClock, setting: str
) -> None:
    """One kiosk's login, shared by the school's kiosks, set its own role's defaults: every
    transaction read-only, every statement timing out at once, a session ended as soon as it
    idled inside a transaction, a library to load first that is not there (no session could
    start). Every kiosk using that login then said "Not recorded: the
    database is unavailable. Please try again." at each scan (trying again never helped: the
    database was there), and `kiosk verify` on a kiosk stopped the same way. The kiosk now asks
    for its own values of these when it connects (what a connection asks for wins over the
    role's defaults), as it already did for the lock timeout and the date style."""
    with psycopg.connect(libpq_url(second_kiosk), autocommit=True) as login:
        login.execute(f"ALTER ROLE CURRENT_USER SET {setting} = {OWN_ROLE_SETTINGS[setting]}")
    services = _kiosk(second_kiosk, clock)
    try:
        receipt = services.phones.deposit("EPATEL")
        assert receipt.kind == "phone_deposited"
        report = services.integrity.verify()
        assert report.ok, report.problems
    finally:
        services.close()


@pytest.mark.parametrize("where", ["role", "url"])
def test_the_kiosk_login_cannot_make_verify_cry_wolf_with_its_own_role_settings(
    second_kiosk: str, clock: FakeClock, where: str
) -> None:
    """``ALTER ROLE CURRENT_USER SET quote_all_identifiers = on``: PostgreSQL then quotes
    every name in the definitions it gives back, and `kiosk verify` on a kiosk compared the
    register's triggers with the kiosk's text and said "the trigger events_no_update_delete
    has been changed" (and the three others) of an honest register: the office is told the
    guards were tampered with when they were not, and learns to read past it. The kiosk now
    asks for the setting's default when it connects, and verify for its own reading (the same
    setting in the URL's options changes nothing either)."""
    url = second_kiosk
    if where == "role":
        with psycopg.connect(libpq_url(second_kiosk), autocommit=True) as login:
            login.execute("ALTER ROLE CURRENT_USER SET quote_all_identifiers = on")
    else:
        url = f"{second_kiosk}?options=-c%20quote_all_identifiers%3Don"
    services = _kiosk(url, clock)
    try:
        services.phones.deposit("EPATEL")
        report = services.integrity.verify()
        assert report.ok, report.problems
    finally:
        services.close()


def test_a_kiosk_stuck_inside_a_transaction_does_not_hold_the_register_for_ever(
    second_kiosk: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kiosk's process stuck half-way through a write (the console's laptop put to sleep, a
    hung thread) keeps its transaction, and the chain's lock, open. Since the kiosk asks for
    its own idle-in-transaction limit when it connects (a login's 1 ms may not stand), each
    write asks for a bounded one, not none: the server ends such a session, and the other
    kiosks record again instead of saying "another connection holds the register's write
    lock" until someone finds the laptop. (Then the limit is made a second, not five
    minutes.)"""
    import kiosk.services.uow as uow

    with psycopg.connect(libpq_url(second_kiosk), autocommit=True) as login:
        login.execute("ALTER ROLE CURRENT_USER SET idle_in_transaction_session_timeout = 0")
    kiosk = _kiosk(second_kiosk, clock)
    try:
        with kiosk.ctx.write() as work:
            limit = work.session.scalar(text("SHOW idle_in_transaction_session_timeout"))
    finally:
        kiosk.close()
    assert limit == "5min"

    monkeypatch.setattr(uow, "PG_WRITE_IDLE_LIMIT", "1s")
    monkeypatch.setattr(uow, "PG_LOCK_TIMEOUT_MS", 5000)
    stuck, other = _kiosk(second_kiosk, clock, "stuck"), _kiosk(second_kiosk, clock)
    inside, wake = threading.Event(), threading.Event()

    def hang_inside_a_write() -> None:
        with contextlib.suppress(KioskError), stuck.ctx.write():
            inside.set()
            wake.wait(30)

    hung = threading.Thread(target=hang_inside_a_write)
    hung.start()
    try:
        assert inside.wait(10)
        said = _try(lambda: other.phones.deposit("EPATEL").kind)
    finally:
        wake.set()
        hung.join(30)
        stuck.close()
        other.close()
    assert said == "phone_deposited"


def test_a_slow_reader_of_the_register_csv_gets_all_of_it(
    second_kiosk: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`kiosk register --csv - | less`: the register is read in one transaction, row by row,
    while the office reads the page in front of it. The five-minute idle-in-transaction
    limit the kiosk asked for on every connection ended that session after five minutes:
    the CSV stopped half-way and the office read "The database is unavailable, so this cannot
    be shown. Please try again." (Trying again cannot help a reader who takes their time.)
    Only a write, which holds the chain's lock, is limited now: a read transaction is never
    ended for idling. (Here the write's limit is made a second, and the reader pauses
    2.5 s.)"""
    import kiosk.services.uow as uow

    monkeypatch.setattr(uow, "PG_WRITE_IDLE_LIMIT", "1s", raising=False)
    services = _kiosk(second_kiosk, clock)
    try:
        with services.ctx.read() as session:
            reads = session.scalar(text("SHOW idle_in_transaction_session_timeout"))
        services.phones.deposit("EPATEL")
        services.phones.collect("EPATEL")
        out = _SlowReader()
        try:
            rows = services.register.export_csv(out, clock().date())
            said: object = rows
        except KioskError as exc:
            said = exc.message
    finally:
        services.close()
    assert reads == "0"
    assert out.paused and said == out.getvalue().count("\n") - 1 >= 2, said


class _SlowReader(io.StringIO):
    """Standard output piped to a pager: it blocks while the office reads the first page."""

    def __init__(self) -> None:
        super().__init__()
        self.paused = False

    def write(self, s: str) -> int:
        if self.getvalue() and not self.paused:  # after the header
            self.paused = True
            time.sleep(2.5)
        return super().write(s)


def test_the_kiosk_login_cannot_turn_a_refusal_into_a_lost_connection(
    second_kiosk: str, clock: FakeClock
) -> None:
    """Guard test. ``ALTER ROLE CURRENT_USER SET exit_on_error = on`` (any login may): the
    server then ends the session at any error instead of refusing the one statement. The
    error still carries its code and words, so a PIN change made on a kiosk (the owner's to
    make on PostgreSQL) is still answered with the sentence telling the office to use the
    owner's login, nothing recorded, and the pool opens a new connection for what follows."""
    with psycopg.connect(libpq_url(second_kiosk), autocommit=True) as login:
        login.execute("ALTER ROLE CURRENT_USER SET exit_on_error = on")
    services = _kiosk(second_kiosk, clock)
    try:
        said = _try(
            lambda: services.admin.set_pin("135790", admin_code="CHEAD", current_pin="428613")
        )
        assert services.admin.check_pin("428613").ok
    finally:
        services.close()
    assert isinstance(said, str) and "only the database owner may change the setting" in said
    assert "owner's KIOSK_DATABASE_URL" in said


def test_the_kiosk_login_cannot_end_every_idle_kiosk_session(
    second_kiosk: str, clock: FakeClock
) -> None:
    """``ALTER ROLE CURRENT_USER SET idle_session_timeout = '1ms'`` (PostgreSQL 14 and later;
    any login may): the server ended each of the kiosk's sessions a millisecond after it
    last answered, between one scan and the next and between the pool's check of a connection
    and its use. A kiosk's scans said "Not recorded: the database is unavailable" at random.
    The kiosk now asks for no idle timeout when it connects (to a server that does not know
    the setting, it connects without asking)."""
    with psycopg.connect(libpq_url(second_kiosk), autocommit=True) as login:
        login.execute("ALTER ROLE CURRENT_USER SET idle_session_timeout = '1ms'")
    services = _kiosk(second_kiosk, clock)
    try:
        said = []
        for _ in range(20):
            time.sleep(0.02)
            said.append(_try(lambda: services.phones.deposit("EPATEL").kind))
            time.sleep(0.02)
            said.append(_try(lambda: services.phones.collect("EPATEL").kind))
    finally:
        services.close()
    assert said == ["phone_deposited", "phone_collected"] * 20


def test_a_server_that_does_not_know_a_newer_setting_is_still_reached(
    second_kiosk: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings only newer servers know (idle_session_timeout: PostgreSQL 14;
    transaction_timeout: 17) are asked for when connecting; an older server refuses the whole
    connection over an unknown one ("unrecognized configuration parameter"), so the kiosk
    connects again without it. A server that knows neither names only the first: the kiosk
    connected again without that one, was refused over the second, and said "the database
    is unavailable" (PostgreSQL 13 and older, once transaction_timeout was asked for too).
    (Here the server knows no setting of either name. transaction_timeout itself cannot be
    tried on this server, PostgreSQL 15: every test here connects without it.)"""
    import kiosk.db.engine as engine

    assert engine.PG_NEWER_SETTINGS == {
        "idle_session_timeout": 0,
        "transaction_timeout": 0,
        "jit": "off",
    }
    monkeypatch.setattr(
        engine, "PG_NEWER_SETTINGS", {"kiosk_no_such_setting": 0, "kiosk_nor_this_one": 0}
    )
    services = _kiosk(second_kiosk, clock)
    try:
        assert services.phones.deposit("EPATEL").kind == "phone_deposited"
        services.ctx.engine.dispose()  # (the pool opens a new connection: asked without it)
        assert services.phones.collect("EPATEL").kind == "phone_collected"
    finally:
        services.close()


# How PostgreSQL 13 (which does not know idle_session_timeout) refuses it, in the language of
# the server's lc_messages.
UNKNOWN_SETTING_SAID = {
    "en": 'unrecognized configuration parameter "idle_session_timeout"',
    "de": "nicht erkannter Konfigurationsparameter \u00bbidle_session_timeout\u00ab",
    "fr": "param\u00e8tre de configuration \u00ab idle_session_timeout \u00bb non reconnu",
    "es": "par\u00e1metro de configuraci\u00f3n \u00abidle_session_timeout\u00bb no reconocido",
}


@pytest.mark.parametrize("language", list(UNKNOWN_SETTING_SAID))
def test_an_older_server_speaking_another_language_is_still_reached(
    second_kiosk: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    """A PostgreSQL 13 server whose messages are in German (French, Spanish: lc_messages) does
    not know idle_session_timeout and refuses the connection asking for it, naming it
    \u00bbidle_session_timeout\u00ab, not "idle_session_timeout": the kiosk looked for the
    English quoting, did not see the setting named, and every kiosk said "the database is
    unavailable" for ever. Now the setting is recognised by its bare name. (Here the dialect's
    connect stands in for that server: it refuses a connection that asks for the setting, in
    that language, and connects one that does not.)"""
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    plain = PGDialect_psycopg.connect

    def older_server(self: PGDialect_psycopg, *cargs: Any, **cparams: Any) -> Any:
        if "idle_session_timeout" in str(cparams.get("options", "")):
            raise psycopg.OperationalError(
                'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
                f"FATAL:  {UNKNOWN_SETTING_SAID[language]}"
            )
        return plain(self, *cargs, **cparams)

    monkeypatch.setattr(PGDialect_psycopg, "connect", older_server)
    services = _kiosk(second_kiosk, clock)
    try:
        said = _try(lambda: services.phones.deposit("EPATEL").kind)
    finally:
        services.close()
    assert said == "phone_deposited"


def test_only_a_refusal_of_the_setting_itself_connects_without_it() -> None:
    """The setting is known refused by its SQLSTATE where the driver gives one (42704,
    undefined_object), else by its bare name in any language: not by another error naming it
    (a value refused: 22023), nor by a longer name that contains it."""
    from kiosk.db.engine import setting_unknown

    german = UNKNOWN_SETTING_SAID["de"]
    assert setting_unknown(psycopg.OperationalError(f"FATAL:  {german}"), "idle_session_timeout")
    assert setting_unknown(psycopg.errors.UndefinedObject(german), "idle_session_timeout")
    assert not setting_unknown(
        psycopg.errors.InvalidParameterValue('invalid value for "idle_session_timeout"'),
        "idle_session_timeout",
    )
    assert not setting_unknown(
        psycopg.OperationalError("FATAL:  " + german.replace("»idle", "»kiosk_idle")),
        "idle_session_timeout",
    )
    assert not setting_unknown(psycopg.OperationalError("FATAL:  " + german), "transaction_timeout")


@pytest.mark.parametrize("where", ["role", "url"])
@pytest.mark.parametrize("isolation", ["repeatable read", "serializable"])
def test_the_kiosk_login_cannot_make_a_kiosk_waiting_its_turn_fail_with_its_isolation(
    second_kiosk: str, pg_url: str, clock: FakeClock, isolation: str, where: str
) -> None:
    """``ALTER ROLE CURRENT_USER SET default_transaction_isolation = 'repeatable read'``: a
    kiosk's write transaction then took its snapshot with its first statement, before it
    waited its turn for the chain's lock. Another kiosk's event committed meanwhile was not
    in that snapshot: the waiting kiosk chained on from the head it had seen, gave its event
    the id just taken, and said "Not recorded: the database is unavailable" (two kiosks
    scanning at once, every time). The kiosk now asks for READ COMMITTED when it connects, so
    it reads the head once it holds the lock. (Here the other kiosk is a connection that holds
    the chain's lock while it appends one event; the same isolation asked for in the URL's
    options is kept for reads, not for a write.)"""
    url = second_kiosk
    if where == "role":
        with psycopg.connect(libpq_url(second_kiosk), autocommit=True) as login:
            login.execute(
                f"ALTER ROLE CURRENT_USER SET default_transaction_isolation = '{isolation}'"
            )
    else:
        spelt = isolation.replace(" ", "%5C%20")
        url = f"{second_kiosk}?options=-c%20default_transaction_isolation%3D{spelt}"
    services = _kiosk(url, clock)
    other = psycopg.connect(libpq_url(pg_url), autocommit=True)
    try:
        other.execute("SELECT pg_advisory_lock(%s)", (CHAIN_LOCK_KEY,))
        outcome: list[object] = []
        scan = threading.Thread(
            target=lambda: outcome.append(_try(lambda: services.phones.deposit("EPATEL")))
        )
        scan.start()
        time.sleep(1.0)  # the kiosk waits for the lock, its transaction begun
        _append_copy_of_head(other)
        other.execute("SELECT pg_advisory_unlock(%s)", (CHAIN_LOCK_KEY,))
        scan.join(30)
        assert not scan.is_alive()
        assert getattr(outcome[0], "kind", outcome[0]) == "phone_deposited"
    finally:
        other.close()
        services.close()


def _try(work: Callable[[], object]) -> object:
    try:
        return work()
    except KioskError as exc:
        return exc.message


def _append_copy_of_head(conn: psycopg.Connection[Any]) -> None:
    """One more event after the head (a copy of it, chained on: its MAC is not checked here)."""
    cursor = conn.execute("SELECT * FROM events ORDER BY id DESC LIMIT 1")
    head = cursor.fetchone()
    assert cursor.description is not None and head is not None
    row = dict(zip([d.name for d in cursor.description], head, strict=True))
    row.update(id=row["id"] + 1, prev_hash=row["hash"], hash="ab" * 32, mac=None)
    row["details"] = Jsonb(row["details"])
    conn.execute(
        f"INSERT INTO events ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})",
        list(row.values()),
    )


@pytest.mark.parametrize(
    ("where", "given"),
    [
        ("url", "--statement-timeout=1h"),
        ("url", "--Statement_Timeout=1h"),
        ("url", "-cstatement-timeout=1h"),
        ("url", "-c STATEMENT-TIMEOUT=1h"),
        ("url", "-c search_path=public -c statement_timeout=1h"),
        ("PGOPTIONS", "--statement-timeout=1h"),
    ],
)
def test_a_setting_the_school_gives_in_any_spelling_is_kept(
    second_kiosk: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, where: str, given: str
) -> None:
    """A value the school gives in the URL's options or PGOPTIONS is kept (the kiosk adds its
    own only where none is given). PostgreSQL takes ``--name=value`` as well as ``-c
    name=value``, with dashes for underscores and in any case; the kiosk looked for the name
    as written in its own list, did not see ``--statement-timeout=1h``, and added its own
    ``statement_timeout=0`` after it, which won: the school's limit was silently dropped."""
    url = second_kiosk
    if where == "url":
        url = f"{second_kiosk}?options={urllib.parse.quote(given)}"
    else:
        monkeypatch.setenv("PGOPTIONS", given)
    services = _kiosk(url, clock)
    try:
        with services.ctx.engine.connect() as conn:
            limit = conn.scalar(text("SHOW statement_timeout"))
        receipt = services.phones.deposit("EPATEL")
    finally:
        services.close()
    assert limit == "1h" and receipt.kind == "phone_deposited"


def test_a_setting_whose_name_holds_the_kiosks_is_not_taken_for_it() -> None:
    """``-c deadlock_timeout=2s`` (or any option whose name or value merely contains
    "lock_timeout") was taken for a lock timeout given, and the kiosk asked for none of its
    own: a write waited for ever on a lock another connection held."""
    from kiosk.db.engine import pg_connect_args

    url = "postgresql+psycopg://kiosk@127.0.0.1:1/school"
    for given in ("-c deadlock_timeout=2s", "-c application_name=lock_timeout"):
        options = pg_connect_args(f"{url}?options={urllib.parse.quote(given)}", {})["options"]
        assert options.startswith(f"{given} -c lock_timeout=15000 "), options


def test_a_database_that_accepts_no_changes_is_said_so(second_kiosk: str, clock: FakeClock) -> None:
    """A register that accepts no changes: a read-only standby (the URL pointed at the replica
    after a failover), or read-only asked for in KIOSK_DATABASE_URL (kept: the kiosk adds its
    own settings only where the URL says nothing). Every scan said "Not recorded: the
    database is unavailable. Please try again.": the office looked for a network fault and
    trying again never helped. Now the kiosk says why, and whom to tell."""
    url = f"{second_kiosk}?options=-c%20default_transaction_read_only%3Don"
    services = _kiosk(url, clock)
    try:
        said = _try(lambda: services.phones.deposit("EPATEL"))
    finally:
        services.close()
    assert said == (
        "Not recorded: the database accepts no changes (a read-only standby server, or "
        "read-only asked for in KIOSK_DATABASE_URL or PGOPTIONS). Tell whoever looks after "
        "the database: trying again will not help."
    )


@pytest.mark.parametrize("path", ["''", "pg_catalog", "information_schema", "renamed"])
def test_a_kiosk_login_that_moves_its_search_path_away_is_said_so(
    second_kiosk: str, pg_url: str, clock: FakeClock, path: str
) -> None:
    """``ALTER ROLE CURRENT_USER SET search_path = ''`` (or to a schema without the register):
    the kiosk's queries no longer found the register's tables, and every kiosk sharing the
    login said "the database is unavailable. Please try again" at each scan (the search_path
    cannot simply be asked for when connecting: a school may keep the register in a schema
    of its own and point its kiosks' login at it this way). Now the kiosk says that the
    register's tables cannot be found, and whom to tell. The server's error is the same for
    a table dropped or renamed (``renamed``: the owner renamed events): the words named only
    the search_path, and sent the office to look at the wrong thing; they name both."""
    if path == "renamed":
        with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
            owner.execute("ALTER TABLE events RENAME TO events_gone")
    else:
        with psycopg.connect(libpq_url(second_kiosk), autocommit=True) as login:
            login.execute(f"ALTER ROLE CURRENT_USER SET search_path = {path}")
    services = _kiosk(second_kiosk, clock)
    try:
        said = [
            _try(lambda: services.phones.deposit("EPATEL")),
            _try(lambda: services.people.status("EPATEL")),
        ]
    finally:
        services.close()
        if path == "renamed":
            with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
                owner.execute("ALTER TABLE events_gone RENAME TO events")
    assert said == [
        f"{head}: the register's tables cannot be found: this kiosk's database login no "
        "longer looks where they are (its search_path was changed?), or they have been "
        "removed or renamed. Tell whoever looks after the database: trying again will not "
        "help."
        for head in ("Not recorded", "This cannot be shown")
    ]


# --- memberships that reach past the database ------------------------------------------------

SERVER_ROLES = ("pg_execute_server_program", "pg_write_server_files", "pg_read_server_files")


def _problems(url: str, clock: FakeClock) -> Sequence[str]:
    services = _kiosk(url, clock, name="office")
    try:
        return services.integrity.verify(save=False).problems
    finally:
        services.close()


@pytest.mark.parametrize("grantee", ["login", "group"])
@pytest.mark.parametrize("server_role", SERVER_ROLES)
def test_verify_names_a_kiosk_login_that_may_use_the_servers_files_or_programs(
    second_kiosk: str, pg_url: str, clock: FakeClock, server_role: str, grantee: str
) -> None:
    """PostgreSQL's predefined roles pg_execute_server_program, pg_write_server_files and
    pg_read_server_files let a member run ``COPY ... TO PROGRAM``/``TO`` or ``FROM`` a file on
    the database server as its operating-system user (postgres): a kiosk login in the first
    two can rewrite the register's own data files or the server's settings (trust for its
    own connections, then act as the superuser) underneath every trigger and privilege, the
    third reads any of them. Granted to the kiosk login (or to kiosk_app), `kiosk verify`
    said "OK": it looked at table privileges, ownership, superuser and CREATEROLE only."""
    login = psycopg.conninfo.conninfo_to_dict(libpq_url(second_kiosk))["user"]
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute(f"GRANT {server_role} TO {login if grantee == 'login' else 'kiosk_app'}")
        try:
            problems = _problems(pg_url, clock)
        finally:
            owner.execute(
                f"REVOKE {server_role} FROM {login if grantee == 'login' else 'kiosk_app'}"
            )
    who = f"the kiosk login {login}" if grantee == "login" else "the kiosk role"
    named = [p for p in problems if server_role in p]
    assert named and named[0].startswith(f"{who} is a member of {server_role}"), problems
    assert "database server" in named[0] and "operating-system user" in named[0]
    assert not _problems(pg_url, clock)


# --- grant options ----------------------------------------------------------------------------


def test_verify_names_a_kiosk_login_that_may_pass_its_rights_on(
    second_kiosk: str, pg_url: str, clock: FakeClock
) -> None:
    """The owner granted the kiosk login its INSERT and SELECT on events WITH GRANT OPTION (a
    slip: ``GRANT ALL ... WITH GRANT OPTION`` then narrowed with REVOKE, which leaves the
    option of what is kept). The login then gave INSERT on events to every role on the server
    (``GRANT INSERT ON events TO PUBLIC``): any login of any database user, none of them a
    kiosk, could add events to the register. `kiosk verify` said the register was OK."""
    login = psycopg.conninfo.conninfo_to_dict(libpq_url(second_kiosk))["user"]
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute(f"GRANT SELECT, INSERT ON events TO {login} WITH GRANT OPTION")
    try:
        with psycopg.connect(libpq_url(second_kiosk), autocommit=True) as kiosk:
            kiosk.execute("GRANT INSERT ON events TO PUBLIC")
        problems = _problems(pg_url, clock)
    finally:  # (the login's own grant goes with what it was granted)
        with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
            owner.execute(f"REVOKE ALL ON events FROM {login} CASCADE")
    named = [p for p in problems if "grant" in p.lower() and login in p]
    assert named == [
        f"the kiosk login {login} may grant SELECT, INSERT on events to other roles (it "
        "holds them WITH GRANT OPTION): any role it chooses may then read or add to the "
        f'register (REVOKE GRANT OPTION FOR ALL ON events FROM "{login}")'
    ], problems


@pytest.mark.parametrize("holder", ["group", "helper"])
def test_verify_names_the_role_that_holds_a_grant_option_once(
    second_kiosk: str, pg_url: str, clock: FakeClock, holder: str
) -> None:
    """The grant option held by the kiosk group role (``GRANT SELECT, INSERT ON events TO
    kiosk_app WITH GRANT OPTION``), or by another role a kiosk login is a member of: verify
    said it once for the group and once for each kiosk login, each with "REVOKE GRANT OPTION
    FOR ALL ON events FROM <the login>", which removes nothing (the login does not hold it);
    run as told, verify said the same again. Now the role that holds the option is named,
    once, and its REVOKE is the one that ends it."""
    login = psycopg.conninfo.conninfo_to_dict(libpq_url(second_kiosk))["user"]
    role = "kiosk_app" if holder == "group" else f"{login}_helper"
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        if holder == "helper":
            owner.execute(f"CREATE ROLE {role} NOLOGIN")
            owner.execute(f"GRANT {role} TO {login}")
        owner.execute(f"GRANT SELECT, INSERT ON events TO {role} WITH GRANT OPTION")
        owner.execute(f"CREATE ROLE {login}_b LOGIN IN ROLE kiosk_app")
        try:
            problems = _problems(pg_url, clock)
            said = [p for p in problems if "grant" in p.lower()]
            revoke = f'REVOKE GRANT OPTION FOR ALL ON events FROM "{role}"'
            owner.execute(revoke)
            after = [p for p in _problems(pg_url, clock) if "grant" in p.lower()]
        finally:
            owner.execute(f"DROP ROLE {login}_b")
            owner.execute(f"REVOKE ALL ON events FROM {role} CASCADE")
            if holder == "helper":
                owner.execute(f"DROP ROLE {role}")
            else:
                owner.execute("GRANT SELECT, INSERT ON events TO kiosk_app")
    who = "the kiosk role" if holder == "group" else f"the kiosk login {login}"
    held = "it holds them" if holder == "group" else f"through {role}, which holds them"
    assert said == [
        f"{who} may grant SELECT, INSERT on events to other roles ({held} WITH GRANT "
        f"OPTION): any role it chooses may then read or add to the register ({revoke})"
    ], problems
    assert after == []


# --- rights a kiosk login takes up with SET ROLE -----------------------------------------------


def test_verify_names_what_a_kiosk_login_may_do_after_set_role(
    second_kiosk: str, pg_url: str, clock: FakeClock
) -> None:
    """A kiosk login that is a member of another role without inheriting its rights (NOINHERIT;
    from PostgreSQL 16 also ``GRANT ... WITH INHERIT FALSE``) takes them up with ``SET ROLE``.
    A helper role that may write staff_roles, the kiosk login a member of it: `kiosk verify`
    said OK, since ``has_table_privilege`` counts only inherited rights; the login then ran
    ``SET ROLE helper`` and gave a person admin in staff_roles directly. Now verify names the
    rights and the role they come through before anything is done with them."""
    login = psycopg.conninfo.conninfo_to_dict(libpq_url(second_kiosk))["user"]
    helper = f"{login}_helper"
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute(f"CREATE ROLE {helper} NOLOGIN")
        owner.execute(f"GRANT INSERT, DELETE ON staff_roles TO {helper}")
        owner.execute(f"GRANT {helper} TO {login}")
        owner.execute(f"ALTER ROLE {login} NOINHERIT")
        try:
            problems = _problems(pg_url, clock)
            with psycopg.connect(libpq_url(second_kiosk), autocommit=True) as kiosk:
                kiosk.execute(f"SET ROLE {helper}")
                kiosk.execute("INSERT INTO staff_roles VALUES (2, 'admin')")
        finally:
            owner.execute(f"REVOKE {helper} FROM {login}")
            owner.execute(f"REVOKE ALL ON staff_roles FROM {helper}")
            owner.execute(f"DROP ROLE {helper}")
    assert [p for p in problems if helper in p] == [
        f"the kiosk login {login} may DELETE staff_roles after SET ROLE {helper} (a member of "
        "that role, without inheriting its rights)",
        f"the kiosk login {login} may INSERT staff_roles after SET ROLE {helper} (a member of "
        "that role, without inheriting its rights)",
    ], problems


# What verify says a role reachable by SET ROLE may do, by the role's attribute.
ROLE_ATTRIBUTE_SAID = {
    "CREATEROLE": "may create roles (and, up to PostgreSQL 15, give itself any role that is "
    "not a superuser's: pg_execute_server_program, the owner's)",
    "BYPASSRLS": "bypasses row-level security",
    "SUPERUSER": "is a superuser (no guard of the database stops it)",
}


@pytest.mark.parametrize(
    ("attribute", "inherit"),
    [
        ("CREATEROLE", "NOINHERIT"),
        ("CREATEROLE", "INHERIT"),
        ("BYPASSRLS", "NOINHERIT"),
        ("SUPERUSER", "NOINHERIT"),
    ],
)
def test_verify_names_a_role_with_powers_a_kiosk_login_takes_up_with_set_role(
    second_kiosk: str, pg_url: str, clock: FakeClock, attribute: str, inherit: str
) -> None:
    """A kiosk login that is a member of a NOLOGIN helper role with CREATEROLE (or BYPASSRLS,
    or SUPERUSER): those attributes are never inherited, so the login's own rights looked
    clean and `kiosk verify` said nothing; the login then ran ``SET ROLE helper; GRANT
    pg_execute_server_program TO helper`` and could run programs on the database server.
    Now verify names every role the kiosk login can SET ROLE to that is a superuser, may
    create roles, bypasses row-level security or can act as the register's owner, and what
    to revoke."""
    login = psycopg.conninfo.conninfo_to_dict(libpq_url(second_kiosk))["user"]
    helper = f"{login}_helper"
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute(f"CREATE ROLE {helper} NOLOGIN {attribute}")
        owner.execute(f"GRANT {helper} TO {login}")
        owner.execute(f"ALTER ROLE {login} {inherit}")
        try:
            problems = _problems(pg_url, clock)
            if attribute == "CREATEROLE":  # what it opens on this server (PostgreSQL 15)
                with psycopg.connect(libpq_url(second_kiosk), autocommit=True) as kiosk:
                    kiosk.execute(f"SET ROLE {helper}")
                    kiosk.execute(f"GRANT pg_execute_server_program TO {helper}")
        finally:
            owner.execute(f"REVOKE pg_execute_server_program FROM {helper}")
            owner.execute(f"REVOKE {helper} FROM {login}")
            owner.execute(f"DROP ROLE {helper}")
    assert [p for p in problems if helper in p] == [
        f"the kiosk login {login} may SET ROLE {helper}, which {ROLE_ATTRIBUTE_SAID[attribute]} "
        f'(REVOKE "{helper}" FROM "{login}")'
    ], problems


def test_verify_names_a_role_the_kiosk_group_takes_up_with_set_role_once(
    second_kiosk: str, pg_url: str, clock: FakeClock
) -> None:
    """The same, with the kiosk group role (kiosk_app) in the CREATEROLE helper: every kiosk
    login in the group can SET ROLE to it. Said once, of the group, with the REVOKE that
    removes it (not once a login, with a REVOKE from the login that would change nothing)."""
    login = psycopg.conninfo.conninfo_to_dict(libpq_url(second_kiosk))["user"]
    helper = f"{login}_helper"
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute(f"CREATE ROLE {helper} NOLOGIN CREATEROLE")
        owner.execute(f"GRANT {helper} TO kiosk_app")
        owner.execute(f"CREATE ROLE {login}_b LOGIN IN ROLE kiosk_app")
        try:
            problems = _problems(pg_url, clock)
        finally:
            owner.execute(f"DROP ROLE {login}_b")
            owner.execute(f"DROP ROLE {helper}")
    assert [p for p in problems if helper in p] == [
        f"the kiosk role may SET ROLE {helper}, which {ROLE_ATTRIBUTE_SAID['CREATEROLE']} "
        f'(REVOKE "{helper}" FROM "kiosk_app")'
    ], problems


# --- the id sequences ----------------------------------------------------------------------


def test_the_id_sequences_play_no_part_in_the_chain(
    second_kiosk: str, pg_url: str, clock: FakeClock
) -> None:
    """Guard test. Each table's id column has a sequence (events_id_seq, staff_id_seq...): the
    kiosk login may call nextval on them, and setval where it was granted UPDATE on them (a
    slip). Turned back to 1 or far ahead, they change nothing: the kiosk gives each event the
    id after the chain's head under the chain's lock, never a sequence's, and verify walks the
    chain by its links."""
    login = psycopg.conninfo.conninfo_to_dict(libpq_url(second_kiosk))["user"]
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        head = owner.execute("SELECT max(id) FROM events").fetchone()
        owner.execute(f"GRANT UPDATE ON ALL SEQUENCES IN SCHEMA public TO {login}")
    try:
        with psycopg.connect(libpq_url(second_kiosk), autocommit=True) as kiosk:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                kiosk.execute("INSERT INTO staff (code, name, created_at) VALUES ('X', 'X', now())")
            kiosk.execute("SELECT setval('events_id_seq', 1, false)")
            kiosk.execute("SELECT setval('staff_id_seq', 1, false)")
            kiosk.execute("SELECT nextval('devices_id_seq') FROM generate_series(1, 1000)")
        services = _kiosk(second_kiosk, clock)
        try:
            receipt = services.phones.deposit("EPATEL")
            services.people.add_device("LT-99", "laptop", "Spare", admin_code="CHEAD")
            assert head is not None and receipt.event_id == head[0] + 1
            report = services.integrity.verify()
            assert report.ok, report.problems
        finally:
            services.close()
    finally:
        with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
            owner.execute(f"REVOKE UPDATE ON ALL SEQUENCES IN SCHEMA public FROM {login}")


# --- a transaction held open ----------------------------------------------------------------


def test_an_event_held_uncommitted_at_the_next_id_stops_the_kiosks_in_words(
    second_kiosk: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guard test. The kiosk login begins a transaction, inserts an event at the id after the
    head (chained on, as a kiosk would), and leaves it open for days (or PREPAREs it, where
    the server allows two-phase commit: max_prepared_transactions is 0 by default and in the
    tests' cluster). Its place and time in the chain are fixed when it is inserted, not when
    it commits: no kiosk can record past it meanwhile (each waits on that id, then says "Not
    recorded" in words, with nothing confirmed), and once it commits the kiosks go on after
    it and verify names it (no MAC here), with no broken link."""
    import kiosk.services.uow as uow

    monkeypatch.setattr(uow, "PG_LOCK_TIMEOUT_MS", 1000)
    services = _kiosk(second_kiosk, clock)
    holder = psycopg.connect(libpq_url(second_kiosk))
    try:
        _append_copy_of_head(holder)  # not committed
        held = holder.execute("SELECT max(id) FROM events").fetchone()
        started = time.monotonic()
        said = _try(lambda: services.phones.deposit("EPATEL"))
        assert time.monotonic() - started < 10
        pid = holder.info.backend_pid  # named, with how to end it (round 15)
        assert isinstance(said, str), said
        assert said.startswith(f"Not recorded: {uow.PG_LOCKED}: held by server process {pid} (")
        assert said.endswith(f"pg_terminate_backend({pid}). Please try again in a moment.")
        holder.commit()
        receipt = services.phones.deposit("EPATEL")
        assert held is not None and receipt.event_id == held[0] + 1
        report = services.integrity.verify(save=False)
    finally:
        holder.close()
        services.close()
    assert report.broken_link_count == 0
    assert report.problems == (
        f"event {held[0]} has no MAC although event 1 before it has one: it was added or "
        "rewritten by hand",
    )


def test_a_server_is_asked_only_for_the_settings_its_version_knows(
    second_kiosk: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked for transaction_timeout (PostgreSQL 17) whatever the server, a PostgreSQL 14-16
    server refused each kiosk process's first connection over it, and wrote a FATAL line in
    its log: at every kiosk start and every ``kiosk notify`` (each quarter of an hour), on
    the Debian server most schools run. The kiosk now learns the server's version from its
    first connection and asks only for what that version knows: no connection is refused.
    (idle_session_timeout, which PostgreSQL 14 knows, is still asked for here.)"""
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    plain = PGDialect_psycopg.connect
    asked: list[tuple[str, bool]] = []

    def watched(self: PGDialect_psycopg, *cargs: Any, **cparams: Any) -> Any:
        options = str(cparams.get("options", ""))
        try:
            conn = plain(self, *cargs, **cparams)
        except psycopg.OperationalError:
            asked.append((options, False))
            raise
        asked.append((options, True))
        return conn

    monkeypatch.setattr(PGDialect_psycopg, "connect", watched)
    services = _kiosk(second_kiosk, clock)
    try:
        assert services.phones.deposit("EPATEL").kind == "phone_deposited"
        with services.ctx.engine.connect() as conn:
            version = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one())
            idle = conn.exec_driver_sql("SHOW idle_session_timeout").scalar_one()
    finally:
        services.close()
    assert version < 170000, "this test wants a server older than PostgreSQL 17"
    assert [ok for _options, ok in asked if not ok] == [], asked
    assert not any("transaction_timeout" in options for options, _ok in asked), asked
    assert idle == "0"

"""Red team on the database going away at the worst moment (6 December, round T_down).

* The answer to a COMMIT lost on the way back (the server committed, then the link broke):
  the kiosk said "Not recorded" for a deposit that was stored, and the person's second scan,
  "Phone in / out" again, recorded the phone collected while it sat in the store.
* A lock the database owner holds on the register (``VACUUM FULL``, ``CLUSTER``, a
  migration's ``ALTER TABLE`` left in an open transaction): every read of the kiosk (a badge
  scanned at home) waited for it with no limit, "Recording, please wait" for ever.

* The server gone from the network (a cut cable, a switched-off machine): a scan waited for
  an answer as long as the system's TCP keepalive (two hours).

PostgreSQL only: a local SQLite file cannot lose an answer, and its reads never wait.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.errors import DatabaseUnavailable, KioskError
from kiosk.services.app import Services
from kiosk.services.scan import PhoneScan
from tests.conftest import FakeClock
from tests.reliability.helpers import libpq_url, raw_scalar
from tests.school import make_ready, make_school

pytestmark = pytest.mark.postgresql


# --- a link to the server that loses the answer to a COMMIT ------------------------------------


class LossyLink:
    """A TCP relay between a kiosk and PostgreSQL. Once ``lose_next_commit_answer`` is
    called, the next COMMIT goes through to the server, whose answer (the transaction is
    committed by then) is dropped and the connection cut, as a network that fails at that
    moment would. ``stay_away``: no connection gets through afterwards either."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self._upstream = (parsed.host or "127.0.0.1", int(parsed.port or 5432))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = parsed.set(
            host="127.0.0.1", port=self._listener.getsockname()[1]
        ).render_as_string(hide_password=False)
        self._armed = threading.Event()
        self._away = threading.Event()
        self.stay_away = False
        self.cut = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def lose_next_commit_answer(self, *, stay_away: bool = False) -> None:
        self.stay_away = stay_away
        self._armed.set()

    def back(self) -> None:
        self._away.clear()

    def close(self) -> None:
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._away.is_set():
                client.close()
                continue
            server = socket.create_connection(self._upstream)
            self._sockets += [client, server]
            swallow = threading.Event()
            threading.Thread(target=self._up, args=(client, server, swallow), daemon=True).start()
            threading.Thread(target=self._down, args=(server, client, swallow), daemon=True).start()

    def _up(self, client: socket.socket, server: socket.socket, swallow: threading.Event) -> None:
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                # The COMMIT statement itself (its query text ends there), not a statement
                # naming synchronous_commit (each write transaction's first).
                if self._armed.is_set() and b"COMMIT\x00" in data.upper():
                    self._armed.clear()
                    swallow.set()  # before the server can answer it
                server.sendall(data)
        _shut(server)

    def _down(self, server: socket.socket, client: socket.socket, swallow: threading.Event) -> None:
        with contextlib.suppress(OSError):
            while data := server.recv(65536):
                if swallow.is_set():  # the server answered the COMMIT: committed
                    self.cut.set()
                    if self.stay_away:  # every connection goes, and no new one comes
                        self._away.set()
                        for sock in self._sockets:
                            _shut(sock)
                    break
                client.sendall(data)
        _shut(client)
        _shut(server)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


@pytest.fixture
def school(pg_url: str, clock: FakeClock) -> Iterator[Services]:
    """A school set up from the office (straight to the server)."""
    office = Services(
        make_engine(pg_url), Settings(kiosk_name="office", database_url=pg_url), clock
    )
    make_school(office)
    make_ready(office, "ASMITH")
    try:
        yield office
    finally:
        office.close()


@pytest.fixture
def link(pg_url: str) -> Iterator[LossyLink]:
    relay = LossyLink(pg_url)
    try:
        yield relay
    finally:
        relay.close()


@pytest.fixture
def kiosk(link: LossyLink, clock: FakeClock, school: Services) -> Iterator[Services]:
    """The staff-room kiosk, talking to the server through ``link``."""
    services = Services(
        make_engine(link.url), Settings(kiosk_name="staffroom", database_url=link.url), clock
    )
    services.phones.deposit("BJONES")  # a first write: the school's key and baseline read
    try:
        yield services
    finally:
        services.close()


def phone_events(url: str, code: str) -> list[str]:
    return [
        row[0]
        for row in _rows(
            url,
            "SELECT e.kind FROM events e JOIN staff s ON s.id = e.staff_id "
            "WHERE s.code = %s AND e.kind LIKE 'phone_%%' ORDER BY e.id",
            (code,),
        )
    ]


def _rows(url: str, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq_url(url)) as conn:
        return list(conn.execute(sql, params).fetchall())


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except KioskError as exc:
        return exc


def test_a_deposit_whose_commit_answer_was_lost_is_confirmed_and_not_undone_by_a_retry(
    pg_url: str, link: LossyLink, kiosk: Services
) -> None:
    """The server committed the deposit; its answer never came back. The kiosk said "Not
    recorded: ... Please try again", and the person's second scan collected the phone that
    was in the store. The kiosk now asks the register whether the event is there before it
    answers: it is, so the deposit is confirmed (the one event), and nothing is recorded
    twice or undone. A write the server refused at COMMIT (nothing stored), its answer lost
    too, is still "Not recorded"."""
    # First the server refuses the COMMIT (a deferred check of the owner's that fails at
    # COMMIT; the register's own checks are immediate) and the refusal is lost on the way.
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute(
            "CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$"
        )
        owner.execute(
            "CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON events "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()"
        )
    link.lose_next_commit_answer()
    refused = _outcome(lambda: kiosk.scans.phone_in_or_out("SRK1:S:ASMITH"))
    assert link.cut.is_set(), "the answer to the deposit's COMMIT was never lost"
    assert phone_events(pg_url, "ASMITH") == []
    assert isinstance(refused, DatabaseUnavailable), refused
    assert refused.message.startswith("Not recorded"), refused.message
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as owner:
        owner.execute("DROP TRIGGER refuse_at_commit ON events")
        owner.execute("DROP FUNCTION refuse_at_commit()")

    # Then the server commits the deposit, and its answer is lost.
    link.cut.clear()
    link.lose_next_commit_answer()
    outcome = _outcome(lambda: kiosk.scans.phone_in_or_out("SRK1:S:ASMITH"))
    assert link.cut.is_set(), "the answer to the deposit's COMMIT was never lost"
    assert phone_events(pg_url, "ASMITH") == ["phone_deposited"]  # the server did commit it
    assert isinstance(outcome, PhoneScan), (
        f"the kiosk said {outcome!r} for a deposit that was stored: the person scans again "
        "and the phone in the store is recorded collected"
    )
    assert outcome.receipt is not None
    recorded = raw_scalar(pg_url, f"SELECT kind FROM events WHERE id = {outcome.receipt.event_id}")
    assert recorded == "phone_deposited"
    assert "ASMITH" in {h.staff.code for h in kiosk.phones.phones_now()}
    assert kiosk.integrity.verify(save=False).ok


def test_a_commit_answer_lost_with_the_database_gone_is_not_called_not_recorded(
    pg_url: str, link: LossyLink, kiosk: Services
) -> None:
    """The answer is lost and the database stays away, so the kiosk cannot tell whether the
    deposit was stored. It must not say "Not recorded" (it was): it says it cannot tell, and
    to check before trying again. Once the database is back, the register holds the one
    deposit and the person's screen shows the phone in the store."""
    link.lose_next_commit_answer(stay_away=True)
    outcome = _outcome(lambda: kiosk.scans.phone_in_or_out("SRK1:S:ASMITH"))
    assert link.cut.is_set()
    assert phone_events(pg_url, "ASMITH") == ["phone_deposited"]
    assert isinstance(outcome, DatabaseUnavailable), outcome
    said = f"{outcome.title}: {outcome.message}"
    assert "Not recorded" not in said, f"the kiosk said {said!r} for a deposit that was stored"
    assert "may have been recorded" in outcome.message, said
    link.back()
    status = kiosk.people.status("ASMITH")
    assert status.phone is not None  # the screen the person checks shows it in the store


# --- a lock the owner holds on the register ----------------------------------------------------


def test_a_read_waiting_for_a_lock_the_owner_holds_says_so_in_words_not_a_hang(
    pg_url: str, school: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``LOCK TABLE events IN ACCESS EXCLUSIVE MODE`` (what ``VACUUM FULL``, ``CLUSTER`` or a
    migration's ``ALTER TABLE`` take) in a transaction left open: a badge scanned at home (a
    read) waited with no limit. Writes already waited at most 15 s; reads now too, then say
    so, and answer again once the lock is let go."""
    from kiosk.db import engine

    monkeypatch.setattr(engine, "PG_LOCK_TIMEOUT_MS", 500, raising=False)
    services = Services(
        make_engine(pg_url), Settings(kiosk_name="staffroom", database_url=pg_url), clock
    )
    outcome: list[Any] = []

    def scan() -> None:
        outcome.append(_outcome(lambda: services.people.resolve_scan("SRK1:S:ASMITH")))

    holder = psycopg.connect(libpq_url(pg_url))
    try:
        holder.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        worker = threading.Thread(target=scan, daemon=True)
        worker.start()
        worker.join(timeout=20)
        finished = not worker.is_alive()
    finally:
        holder.rollback()  # lets a waiting read through, so the thread ends either way
        holder.close()
    worker.join(timeout=20)
    try:
        assert finished, "the badge scan was still waiting for the lock"
        assert isinstance(outcome[0], DatabaseUnavailable), outcome
        assert "lock" in outcome[0].message and "try again" in outcome[0].message
        found = services.people.resolve_scan("SRK1:S:ASMITH")  # let go: answered
        assert found.staff is not None and found.staff.staff.code == "ASMITH"
    finally:
        services.close()


# --- the server gone from the network ---------------------------------------------------------


def test_a_server_gone_from_the_network_is_said_in_words_within_seconds_not_a_hang() -> None:
    """The cable to the server is cut (every packet lost; the server never says goodbye):
    a scan waited for its answer as long as the system's TCP keepalive, two hours, with
    "Recording, please wait" on the screen and every later scan queued behind it. With
    keepalives and a TCP user timeout of the kiosk's own, it says "Not recorded" within
    seconds. Run in a network namespace of its own (``tests/reliability/dead_link.py``)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("unshare and ip are needed to cut a link in a network namespace")
    proc = subprocess.run(
        ["unshare", "-n", sys.executable, "-m", "tests.reliability.dead_link", "write"],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=240,
    )
    if proc.returncode != 0 and "unshare" in proc.stderr:
        pytest.skip(f"no network namespace here: {proc.stderr.strip()}")
    said = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-2000:]
    assert said.startswith("ANSWERED"), f"the scan was not answered: {said}"
    seconds = float(said.split()[1])
    assert seconds < 40, said
    assert "DatabaseUnavailable: Not recorded" in said, said


# --- what the kiosk asks of a connection, beside what the URL asks --------------------------------


def _sent_at_connect(url: str, monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    """The parameters the engine hands the driver when it connects (caught before it does)."""
    from sqlalchemy import event

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    engine = make_engine(url)
    sent: dict[str, Any] = {}

    class Caught(Exception):
        pass

    @event.listens_for(engine, "do_connect")
    def catch(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        sent.update(cparams)
        raise Caught

    with pytest.raises(Caught):
        engine.connect()
    engine.dispose()
    return sent


def test_the_kiosks_connection_settings_add_to_those_of_the_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A school's URL may set its own options (a ``search_path``), timeouts or keepalives:
    they are kept, and the kiosk's lock timeout is added to the options, not put in their
    place (SQLAlchemy's connect_args win over the URL's: the schema was lost, and a URL's
    connect_timeout of 30 became 5)."""
    base = "postgresql+psycopg://kiosk@127.0.0.1:1/school"
    url = f"{base}?options=-csearch_path%3Dkiosk&connect_timeout=30&keepalives_idle=60"
    sent = _sent_at_connect(url, monkeypatch)
    assert sent["options"] == (
        "-csearch_path=kiosk -c lock_timeout=15000 -c DateStyle=ISO "
        "-c default_transaction_read_only=off -c statement_timeout=0 "
        "-c idle_in_transaction_session_timeout=0 "
        "-c default_transaction_isolation=read\\ committed -c quote_all_identifiers=off "
        "-c local_preload_libraries= -c max_parallel_workers_per_gather=0 "
        "-c idle_session_timeout=0 "
        "-c transaction_timeout=0 -c jit=off"
    )
    assert sent["connect_timeout"] == "30" and sent["keepalives_idle"] == "60"
    assert sent["client_encoding"] == "utf8" and sent["keepalives"] == 1

    bare = _sent_at_connect(base, monkeypatch, PGOPTIONS="-c statement_timeout=1h")
    # (a statement timeout given is kept: not asked for twice)
    assert bare["options"] == (
        "-c statement_timeout=1h -c lock_timeout=15000 -c DateStyle=ISO "
        "-c default_transaction_read_only=off -c idle_in_transaction_session_timeout=0 "
        "-c default_transaction_isolation=read\\ committed -c quote_all_identifiers=off "
        "-c local_preload_libraries= -c max_parallel_workers_per_gather=0 "
        "-c idle_session_timeout=0 "
        "-c transaction_timeout=0 -c jit=off"
    )
    assert bare["connect_timeout"] == 5


def test_a_postgresql_10_server_is_not_asked_for_jit() -> None:
    """``jit`` exists from PostgreSQL 11: asked of every server (``-c jit=off``), a
    PostgreSQL 10 refused every connection ("unrecognized configuration parameter"). It is
    now asked for only of a server whose version knows it, as the other newer settings are
    (learnt from the first connection, made without them)."""
    from sqlalchemy import create_engine

    from kiosk.db.engine import _connect_to_older_servers, pg_connect_args

    url = "postgresql+psycopg://kiosk@127.0.0.1:1/school"
    engine = create_engine(url)
    refused = engine.dialect.loaded_dbapi.OperationalError
    sent: list[str] = []

    class Info:
        server_version = 100023  # PostgreSQL 10.23

    class Connection:
        info = Info()

        def close(self) -> None:
            pass

    def server_10(*cargs: Any, **cparams: Any) -> Connection:
        options = str(cparams.get("options", ""))
        sent.append(options)
        for name in ("jit", "idle_session_timeout", "transaction_timeout"):
            if f"-c {name}=" in options:
                raise refused(f'unrecognized configuration parameter "{name}"')
        return Connection()

    engine.dialect.connect = server_10  # type: ignore[method-assign]
    _connect_to_older_servers(engine)
    try:
        connected = engine.dialect.connect(**pg_connect_args(url, {}))
    finally:
        engine.dispose()
    assert isinstance(connected, Connection), sent
    assert len(sent) == 1 and "jit" not in sent[0], sent

"""Round 15 of the red team on the record, on PostgreSQL: the kiosk's own database login
against the other kiosks (their locks, their sessions) and the objects it may create.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest

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


def _try(work: Callable[[], object]) -> object:
    try:
        return work()
    except KioskError as exc:
        return exc.message


# --- the register's write lock held by a session left idle -----------------------------------


def test_a_kiosk_names_the_connection_that_holds_the_write_lock(
    second_kiosk: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kiosk login takes the chain's advisory lock at session level
    (``SELECT pg_advisory_lock(...)`` in a database tool) and leaves the session idle: no
    transaction is open, so no idle limit ends it, and every kiosk says "Not recorded ...
    Please try again in a moment" for as long as it stays (days). Neither the kiosk's
    screen nor `kiosk verify` said which connection it was, so whoever looks after the
    database could not end it. Now both name it: its server process, login, program and
    since when, and how to end it."""
    import kiosk.services.uow as uow

    monkeypatch.setattr(uow, "PG_LOCK_TIMEOUT_MS", 300)
    login = psycopg.conninfo.conninfo_to_dict(libpq_url(second_kiosk))["user"]
    holder = psycopg.connect(
        libpq_url(second_kiosk), autocommit=True, application_name="pgAdmin 4 - \x1b[2Jx"
    )
    services = _kiosk(second_kiosk, clock)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (CHAIN_LOCK_KEY,))
        pid = holder.info.backend_pid
        said = _try(lambda: services.phones.deposit("EPATEL"))
        report = services.integrity.verify()
    finally:
        holder.close()
        services.close()
    assert isinstance(said, str) and said.startswith("Not recorded: another connection holds")
    for words in (f"server process {pid}", f"login {login}", "program 'pgAdmin 4 - ?[2Jx'"):
        assert words in said, said
    assert f"SELECT pg_terminate_backend({pid})" in said
    assert "\x1b" not in said
    assert any(f"server process {pid}" in note for note in report.notes), report.notes

"""A kiosk whose clock has gone back (a flat clock battery: the machine starts in 2000, or
at its firmware's date, until it finds the time): what it records carries that time, and
the register then says a phone was collected years before it was deposited. Both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.db.models import Event
from kiosk.domain.errors import KioskError
from kiosk.services.app import Services
from tests.conftest import FakeClock, with_settings
from tests.school import make_school


def events(services: Services) -> int:
    with services.ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Event)).scalar_one())


def test_a_kiosk_whose_clock_went_back_records_nothing_and_says_why(
    services: Services, clock: FakeClock
) -> None:
    make_school(services)
    services.phones.deposit("ASMITH")
    deposited_at = clock.now
    clock.set(datetime(2000, 1, 1, 0, 3, tzinfo=UTC))  # the battery: the clock reset
    before = events(services)
    with pytest.raises(KioskError) as refused:
        services.phones.collect("ASMITH")
    message = refused.value.message
    assert refused.value.title == "Not recorded" and "clock" in message, message
    assert "1 January 2000" in message, message  # what the kiosk's clock says
    assert events(services) == before  # nothing recorded
    # The clock set right: it records again.
    clock.set(deposited_at + timedelta(minutes=5))
    services.phones.collect("ASMITH")
    assert services.phones.phones_now() == ()


def test_a_clock_that_ran_a_day_ahead_and_was_put_right_still_records(
    services: Services, clock: FakeClock
) -> None:
    # An NTP server's bad answer put the kiosk a day ahead for a while; its events carry
    # that day. Put right, its clock reads a day before its own last event: that must not
    # stop an honest kiosk (nobody could set a right clock more right); verify names the
    # events dated out of order.
    make_school(services)
    clock.advance(days=1)
    services.phones.deposit("ASMITH")
    clock.advance(days=-1, minutes=5)
    services.phones.collect("ASMITH")
    assert services.phones.phones_now() == ()


def test_a_clock_set_back_a_few_minutes_still_records(services: Services, clock: FakeClock) -> None:
    # Time found again a few minutes slow (a clock that ran fast, put right): still this
    # kiosk's time, within the minutes verify allows.
    make_school(services)
    services.phones.deposit("ASMITH")
    clock.advance(minutes=-3)
    services.phones.collect("ASMITH")
    assert services.phones.phones_now() == ()


def test_another_kiosks_clock_ahead_does_not_stop_this_one(
    services: Services, clock: FakeClock
) -> None:
    # The hall kiosk's clock runs a day ahead and records; this kiosk, on the right time,
    # records as before (only a kiosk's own last event is its clock's measure).
    make_school(services)
    hall = with_settings(services, kiosk_name="hall-kiosk")
    clock.advance(days=1)
    hall.phones.deposit("EPATEL")
    clock.advance(days=-1, minutes=1)
    services.phones.deposit("ASMITH")
    assert sorted(h.staff.code for h in services.phones.phones_now()) == ["ASMITH", "EPATEL"]


def test_an_event_dated_ahead_that_the_kiosk_did_not_write_does_not_stop_it(
    services: Services, clock: FakeClock
) -> None:
    # The kiosk's database login (no key) inserts an event dated 2030 under this kiosk's
    # name: taken for the kiosk's own last event, it would stop every scan with "this
    # kiosk's clock says ..., before the last event it recorded". Its hash and MAC do not
    # hold, so it measures nothing (verify names it).
    make_school(services)
    with services.ctx.engine.begin() as conn:
        head = conn.execute(text("SELECT max(id), max(hash) FROM events")).one()
        last = conn.execute(text("SELECT hash FROM events WHERE id = :i"), {"i": head[0]})
        conn.execute(
            text(
                "INSERT INTO events (id, occurred_at, kind, category, kiosk, details, "
                "prev_hash, hash, mac) VALUES (:id, :at, 'register_verified', 'admin', "
                ":kiosk, '{}', :prev, :hash, :mac)"
            ),
            {
                "id": head[0] + 1,
                "at": datetime(2030, 1, 1, tzinfo=UTC),
                "kiosk": services.settings.kiosk_name,
                "prev": last.scalar_one(),
                "hash": "f" * 64,
                "mac": "e" * 64,
            },
        )
    services.phones.deposit("ASMITH")
    assert [h.staff.code for h in services.phones.phones_now()] == ["ASMITH"]


def test_another_kiosks_later_event_does_not_hide_this_kiosks_clock_gone_back(
    services: Services, clock: FakeClock
) -> None:
    # Several kiosks on one database: the hall kiosk records after this one; then this
    # kiosk's clock goes back. Its own last event is still the measure.
    make_school(services)
    services.phones.deposit("ASMITH")
    hall = with_settings(services, kiosk_name="hall-kiosk")
    clock.advance(minutes=1)
    hall.phones.deposit("EPATEL")
    clock.set(datetime(2000, 1, 1, tzinfo=UTC))
    with pytest.raises(KioskError, match="this kiosk's clock says"):
        services.phones.collect("ASMITH")


@pytest.mark.postgresql
def test_a_newest_event_dated_infinity_stops_no_write(pg_url: str, clock: FakeClock) -> None:
    # A time no driver can load (infinity, written before revision 0007's CHECK, which is
    # NOT VALID for old rows) on this kiosk's newest event: the clock is not measured
    # against it, and the kiosk records as before (verify names the event).
    services = Services(make_engine(pg_url), Settings(database_url=pg_url), clock)
    try:
        make_school(services)
        with services.ctx.engine.begin() as conn:
            conn.execute(text("ALTER TABLE events DROP CONSTRAINT ck_events_occurred_at_readable"))
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # no guard
            conn.execute(
                text(
                    "UPDATE events SET occurred_at = 'infinity' WHERE id = (SELECT max(id) "
                    "FROM events)"
                )
            )
        services.phones.deposit("ASMITH")
        assert [h.staff.code for h in services.phones.phones_now()] == ["ASMITH"]
    finally:
        services.close()

"""Round 18 of the red team on the record: the yearly purge and what it keeps, and what the
register tells a school afterwards.

Each test here failed on the code before its fix (see the commit that added it), unless it is
marked as a guard test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.test_attacks import said
from tests.reliability.test_tamper import record_shift
from tests.school import make_school

EARLY = datetime(2022, 3, 10, 8, 5, tzinfo=UTC)
LATER = datetime(2024, 6, 5, 9, 0, tzinfo=UTC)

CALENDAR = (
    b"start,end,kind,name\n"
    b"2022-01-04,2022-04-01,term,Spring term 2022\n"
    b"2024-04-15,2024-07-19,term,Summer term 2024\n"
    b"2024-05-27,2024-05-31,holiday,May half term\n"
    b"2024-09-04,2024-12-20,term,Autumn term 2024\n"
)


def test_the_yearly_purge_keeps_the_calendar_and_device_kinds_in_force(
    services: Services, clock: FakeClock
) -> None:
    """The school's calendar and its own kinds of device are the details of the newest
    ``calendar_set`` and ``device_kinds_set`` events. Set once at the start (2022) and not
    changed since, the first yearly purge removed them with the rest of 2022: the tablets
    lost "charged and ready", every weekday was a school day (the half term included), and
    nothing said so; verify said "Register intact"."""
    clock.set(EARLY)
    make_school(services)
    services.school.set_device_kind("tablet", "iPad", needs_charged=True, admin_code="CHEAD")
    services.school.import_calendar("calendar.csv", CALENDAR, admin_code="CHEAD")
    record_shift(services, rounds=1)
    kinds_before = services.school.device_kinds()
    calendar_before = services.school.calendar()
    clock.set(LATER)
    services.phones.deposit("ASMITH")
    services.phones.collect("ASMITH")

    report = services.backup.purge(date(2023, 1, 1), "CHEAD")

    assert report.removed
    assert services.school.device_kinds() == kinds_before
    tablet = services.school.device_kinds().get("tablet")
    assert tablet is not None and tablet.needs_charged
    assert services.school.calendar().entries == calendar_before.entries
    assert not services.school.calendar().is_school_day(date(2024, 5, 28))  # half term
    after = services.integrity.verify(save=False)
    assert after.ok, said(after)

"""Property: on every kiosk screen, a code typed key by key (at a scanner's pace; letters,
digits, ``-./:``, up to 64 characters, bare or with the ``SRK1:`` prefix of a printed badge or
label) and Enter records nothing but the event that code means there, on a real database file
(events counted before and after each code).

What a code means, screen by screen:

* breakfast club: a colleague's staff code (typed, or their badge) logs their phone into the
  drawer, when it is not in a store already;
* the sign-out form, whose reason list has the focus: a reason key 1-4 alone is that reason,
  and Enter signs out (the form's fast path: badge, label, reason, Enter);
* the VDU form, whose date field has the focus: a date (``1-2``, ``3/4``) is the training date;
* everywhere else (home, a person's screen, the return, keeping a device longer, the policy,
  the workstation review, the confirmation): nothing is recorded by a code and Enter.

And a second property: another member of staff's code (typed, in lower case, or their badge)
then Enter, Enter on any screen records only what that person's code and Enter mean on home
(their phone in or out), never the screen's main action for its own person.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.domain.errors import KioskError
from kiosk.domain.scan import ScanKind, parse_scan
from kiosk.domain.when import parse_day
from kiosk.services.app import Services
from kiosk.ui.breakfast import BreakfastScreen
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.person import PersonScreen
from kiosk.ui.policy import PolicyScreen
from kiosk.ui.returns import ExtendScreen, ReturnScreen
from kiosk.ui.signout import SignOutScreen
from kiosk.ui.wellbeing import ReviewScreen, VduScreen
from tests.school import STAFF, make_ready
from tests.ui.keyboard import burst, scanned
from tests.ui.kiosk_support import make_app, press, scan, settle, with_settings
from tests.ui.test_kiosk_typing import events

pytestmark = pytest.mark.ui

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-./:"
KNOWN = [code for code, *_ in STAFF] + ["LAP-001", "LAP-002", "WP-01"]

bare = st.text(alphabet=ALPHABET, min_size=1, max_size=64)
codes = st.one_of(
    bare,
    st.builds(lambda c: "SRK1:" + c, st.text(alphabet=ALPHABET, min_size=1, max_size=59)),
    st.builds(lambda kind, c: f"SRK1:{kind}:{c}", st.sampled_from("SD"), st.sampled_from(KNOWN)),
    st.sampled_from(KNOWN),
    st.sampled_from(["1", "2", "3", "4", "5", "12", "1-2", "3/4", "H", "DPHILLIPS", "epatel"]),
)

Reach = Callable[[Any, Services], Awaitable[None]]


async def _home(pilot: Any, school: Services) -> None:
    pilot.app.go_home()
    await settle(pilot)


async def _person(pilot: Any, school: Services) -> None:
    await _home(pilot, school)
    await scan(pilot, "SRK1:S:EPATEL")
    assert isinstance(pilot.app.screen, PersonScreen)


async def _sign_out(pilot: Any, school: Services) -> None:
    if any(i.device.tag == "LAP-001" for i in school.devices.offsite_now()):
        school.devices.return_device("LAP-001")  # signed out by the last code: back
    await _home(pilot, school)
    await scan(pilot, "SRK1:S:ASMITH")
    await scan(pilot, "SRK1:D:LAP-001")
    assert isinstance(pilot.app.screen, SignOutScreen)
    assert pilot.app.focused.id == "reason"


async def _return(pilot: Any, school: Services) -> None:
    await _home(pilot, school)
    await scan(pilot, "SRK1:D:LAP-002")  # off site (signed out to Esha Patel)
    assert isinstance(pilot.app.screen, ReturnScreen)


async def _extend(pilot: Any, school: Services) -> None:
    await _person(pilot, school)
    await press(pilot, "f4")
    assert isinstance(pilot.app.screen, ExtendScreen)


async def _breakfast(pilot: Any, school: Services) -> None:
    await _home(pilot, school)
    await scan(pilot, "SRK1:S:BJONES")
    await press(pilot, "f5")
    assert isinstance(pilot.app.screen, BreakfastScreen)


async def _policy(pilot: Any, school: Services) -> None:
    await _home(pilot, school)
    await scan(pilot, "SRK1:S:DOFFICE")  # a policy still to read
    await press(pilot, "f7")
    assert isinstance(pilot.app.screen, PolicyScreen)
    await press(pilot, "end")  # read to the end: Enter alone would agree


async def _vdu(pilot: Any, school: Services) -> None:
    await _person(pilot, school)
    pilot.app.push_screen(VduScreen(pilot.app.screen.status.staff))
    await settle(pilot)


async def _review(pilot: Any, school: Services) -> None:
    await _person(pilot, school)
    await press(pilot, "f12")
    assert isinstance(pilot.app.screen, ReviewScreen)


async def _confirmation(pilot: Any, school: Services) -> None:
    await _home(pilot, school)
    await scan(pilot, "SRK1:S:CHEAD")
    await press(pilot, "enter")  # deposit or collect (counted before the code is typed)
    assert isinstance(pilot.app.screen, ConfirmScreen)


SCREENS: dict[str, Reach] = {
    "home": _home,
    "person": _person,
    "sign-out": _sign_out,
    "return": _return,
    "extend": _extend,
    "breakfast": _breakfast,
    "policy": _policy,
    "vdu": _vdu,
    "review": _review,
    "confirmation": _confirmation,
}


def expected(screen: str, code: str, school: Services) -> list[str]:
    """The events ``code`` and Enter mean on ``screen``."""
    if screen == "sign-out" and code in ("1", "2", "3", "4"):
        return ["device_signed_out"]
    if screen == "vdu":
        try:
            parse_day(code, today=school.ctx.clock().date())
        except KioskError:
            return []
        return ["vdu_training_declared"]
    if screen == "breakfast":
        try:
            scanned = parse_scan(code)
        except KioskError:
            return []
        staff = {c for c, *_ in STAFF}
        if (
            scanned.kind is not ScanKind.DEVICE
            and scanned.code in staff
            and school.people.status(scanned.code).phone is None
        ):
            return ["phone_deposited"]
    return []


def _prepare(school: Services) -> Services:
    """Once per test (the database is kept between examples): two people ready to sign out,
    a laptop off site; sign-outs never need a line manager's name here."""
    if school.people.status("ASMITH").vdu_trained_on is None:
        make_ready(school, "ASMITH")
        make_ready(school, "EPATEL")
        school.devices.sign_out("EPATEL", ["LAP-002"], reason="Report writing")
    return with_settings(school, regular_use_threshold=10_000)


@pytest.mark.parametrize("screen", list(SCREENS))
@settings(
    max_examples=2,  # x 10 screens x 3 codes: some 40 s in all
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(typed=st.lists(codes, min_size=3, max_size=3))
def test_a_typed_code_records_only_what_it_means(
    school: Services, screen: str, typed: list[str]
) -> None:
    school = _prepare(school)
    reach = SCREENS[screen]

    async def run() -> None:
        app = make_app(school)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            for code in typed:
                await reach(pilot, school)
                want = expected(screen, code, school)
                before = len(events(school))
                # Key by key, posted at once (stamped microseconds apart, as a scanner's or a
                # fast typist's keys reach the kiosk), whatever the machine's load: with
                # pilot.press a loaded machine put half a second between two keys of
                # "SRK1:S:BJONES", and the scanner watch rightly took "SRK1:S:B" as a scan
                # on its own.
                burst(pilot.app, *code, "⏎")
                await settle(pilot)
                got = [kind for kind, _ in events(school)[before:]]
                assert got == want, (screen, code, got)
        assert app.unexpected_errors == [], app.unexpected_errors

    asyncio.run(run())


# --- a second member of staff walks up ------------------------------------------------------

# Whose each screen is (None: nobody's in particular).
OWNERS = {
    "home": None,
    "person": "EPATEL",
    "sign-out": "ASMITH",
    "return": None,
    "extend": "EPATEL",
    "breakfast": "BJONES",
    "policy": "DOFFICE",
    "vdu": "EPATEL",
    "review": "EPATEL",
    "confirmation": None,
}


def _staff_events(services: Services, after: int) -> list[tuple[str, str | None]]:
    """(kind, staff code) of each event after the first ``after``."""
    from sqlalchemy import select

    from kiosk.db.models import Event, Staff

    with services.ctx.engine.connect() as conn:
        rows = conn.execute(
            select(Event.kind, Staff.code)
            .join(Staff, Staff.id == Event.staff_id, isouter=True)
            .order_by(Event.id)
        ).all()
    return [(str(kind), code) for kind, code in rows[after:]]


@pytest.mark.parametrize("screen", list(SCREENS))
@settings(
    max_examples=1,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    who=st.sampled_from([code for code, *_ in STAFF]),
    form=st.sampled_from(["typed", "lower", "badge"]),
)
def test_a_second_persons_code_then_enter_never_does_the_first_screens_action(
    school: Services, screen: str, who: str, form: str
) -> None:
    """Another member of staff's code, then Enter, on any screen: what is recorded is theirs
    (their phone in or out, as on home), never the screen's main action for its person."""
    school = _prepare(school)
    owner = OWNERS[screen]
    if who == owner:
        who = next(code for code, *_ in STAFF if code != owner)
    typed = {"typed": who, "lower": who.lower(), "badge": f"SRK1:S:{who}"}[form]

    async def run() -> None:
        app = make_app(school)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await SCREENS[screen](pilot, school)
            before = len(events(school))
            if form == "badge":  # a scanner's payload and Enter in one read, then a person's Enter
                scanned(pilot.app, typed)
                await settle(pilot)
                await press(pilot, "enter")
            else:
                await press(pilot, *typed, "enter", "enter")
            await settle(pilot)
            got = _staff_events(school, before)
            assert all(code == who for _, code in got), (screen, typed, got)
            assert {kind for kind, _ in got} <= {"phone_deposited", "phone_collected"}, got
        assert app.unexpected_errors == [], app.unexpected_errors

    asyncio.run(run())

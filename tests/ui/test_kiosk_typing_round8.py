"""Round 8 of the typing red team on the staff kiosk: what a person typing at the kiosk (in
tmux, one key at a time and in bursts) found, each on a real database file, the register
read before and after."""

from __future__ import annotations

import pytest

from kiosk.services.app import Services
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.home import HomeScreen
from kiosk.ui.person import PersonScreen
from kiosk.ui.signout import SignOutScreen
from kiosk.ui.widgets import CodeField
from tests.school import make_ready
from tests.ui.kiosk_support import (
    burst_keys,
    events,
    make_app,
    notice,
    press,
    running,
    scan,
    scan_fast,
    settle,
    type_code,
)

pytestmark = pytest.mark.ui


async def test_f10_on_the_sign_out_form_signs_nothing_out(school: Services) -> None:
    # F10 is "Admin" on the home screen (and the walkthrough's "Ctrl+Q opens the PIN pad like
    # F10"); on the sign-out form it was a hidden "sign out now", shown nowhere on the form.
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await scan_fast(pilot, "SRK1:D:LAP-001")
        assert isinstance(app.screen, SignOutScreen)
        await press(pilot, "down")  # a reason: the form is complete, Enter would record
        assert app.screen.summary_text().startswith("Enter records:")
        await press(pilot, "f10")
        assert isinstance(app.screen, SignOutScreen), notice(app)
        assert school.devices.offsite_now() == ()
        await press(pilot, "enter")  # Enter (or the button) is how it is signed out
    assert [i.device.tag for i in school.devices.offsite_now()] == ["LAP-001"]


async def test_a_code_with_a_letter_that_only_looks_latin_says_which_letter(
    school: Services,
) -> None:
    # "ASMITH" with a Cyrillic TE, U+0422 (another keyboard layout, or copied from a document) was
    # refused as "“ASMI\u0422H” is not a kiosk code": a code that reads as the person's own, with
    # nothing to say what is wrong with it. Now the letter is named; nothing is recorded.
    before = events(school)
    app = make_app(school)
    async with running(app) as pilot:
        await type_code(pilot, "ASMI\u0422H")
        said = notice(app)
        assert "is not a kiosk code" in said
        assert "“\u0422” (CYRILLIC CAPITAL LETTER TE)" in said, said
        assert isinstance(app.screen, HomeScreen)
    assert events(school) == before


async def test_the_next_persons_badge_on_a_screen_leaves_nothing_half_typed(
    school: Services,
) -> None:
    # Alice types a label on her screen and walks away before Enter; Ben scans his badge on
    # it. His screen said "Press Enter to deposit your phone" with Alice's "LAP-001" still in
    # its field: his Enter opened a sign-out of LAP-001 for him instead.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await type_code(pilot, "LAP-001", enter=False)
        await scan(pilot, "SRK1:S:BJONES")
        assert isinstance(app.screen, PersonScreen)
        assert app.screen.status.staff.code == "BJONES"
        assert app.screen.query_one(CodeField).value == ""
        await pilot.pause(0.3)  # he reads his screen: a person takes this long at least
        await press(pilot, "enter")  # what his screen says Enter does
        assert isinstance(app.screen, ConfirmScreen), notice(app)
    assert [kind for kind, _ in events(school)][-1] == "phone_deposited"
    assert school.devices.offsite_now() == ()


async def test_a_code_refused_on_the_last_persons_screen_does_not_eat_the_next_ones_enter(
    school: Services,
) -> None:
    # A refused code disarms the next empty Enter once (the person meant the code, not the
    # screen's action). Alice's refused code, then Ben's badge on her screen: Ben's first
    # Enter did nothing, with nothing on his screen to say why.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await type_code(pilot, "NOSUCH1")
        assert "NOSUCH1" in notice(app)
        await scan(pilot, "SRK1:S:BJONES")
        assert isinstance(app.screen, PersonScreen)
        assert app.screen.status.staff.code == "BJONES"
        await pilot.pause(0.3)  # he reads his screen: a person takes this long at least
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen), notice(app)
    assert [kind for kind, _ in events(school)][-1] == "phone_deposited"


async def test_a_code_ended_by_a_line_feed_is_read(school: Services) -> None:
    # A scanner set to end with a line feed (or a keypad Enter that arrives as one, as in
    # tmux) left a plain code in the field: nothing happened, and the person waited.
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await type_code(pilot, "ASMITH", enter=False)
        await press(pilot, "ctrl+j")
        assert isinstance(app.screen, PersonScreen), notice(app)
        assert app.screen.status.staff.code == "ASMITH"
        # A line feed with nothing typed is no Enter: not the screen's main action (a CR+LF
        # suffix: the CR read the code, the LF must not deposit the phone).
        before = events(school)
        await press(pilot, "ctrl+j")
        assert isinstance(app.screen, PersonScreen)
        assert events(school) == before


async def test_a_plain_code_scanned_with_cr_and_lf_is_read_once(school: Services) -> None:
    make_ready(school, "ASMITH")
    before = events(school)
    app = make_app(school)
    async with running(app) as pilot:
        burst_keys(app, *"ASMITH", "enter", "ctrl+j")
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen), notice(app)
        assert app.screen.status.staff.code == "ASMITH"
        assert app.screen.code_field is not None and app.screen.code_field.value == ""
    assert events(school) == before

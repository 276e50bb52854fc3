"""What an outsider's rehearsal of issue 16's held-out walkthrough found (docs/walkthrough.md):
the installed kiosk on a fresh school, driven in tmux one key at a time. Each test is one thing a
person saw, on a real database file, with the register read before and after."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from time import monotonic

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Button, Checkbox

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from kiosk.ui.base import READ_SECONDS
from kiosk.ui.breakfast import BreakfastScreen
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.person import PersonScreen
from kiosk.ui.policy import PolicyScreen
from kiosk.ui.returns import ExtendScreen, ReturnScreen
from kiosk.ui.signout import SignOutScreen
from kiosk.ui.wellbeing import ReviewScreen
from tests.school import make_ready
from tests.ui.keyboard import typed
from tests.ui.kiosk_support import (
    events,
    make_app,
    notice,
    press,
    running,
    settle,
    type_code,
    wait_for,
)

pytestmark = pytest.mark.ui


async def test_enter_pressed_twice_on_a_policy_does_not_agree_to_the_next_one_unseen(
    school: Services,
) -> None:
    # The walk: a new member of staff types a laptop's tag; two policies are still to be read
    # (the School's, long, and the LA's, short enough to fit on the screen). At the end of the
    # first they press Enter twice (a bouncing key, or a second press to be sure). The second
    # Enter landed on the LA policy as soon as it was shown and recorded it as acknowledged.
    la = school.policies.publish(
        "LA Acceptable Use Policy", "2026", "LA policy.\n\nOne short paragraph.\n", required=True
    )
    app = make_app(school)
    async with running(app) as pilot:
        await type_code(pilot, "epatel")
        await type_code(pilot, "lap-001")
        assert isinstance(app.screen, PolicyScreen)
        scroll = app.screen.query_one("#policy-scroll", VerticalScroll)
        while scroll.scroll_y < scroll.max_scroll_y:
            await pilot.press("pagedown")
            await pilot.pause(0.05)
        agree = app.screen.query_one("#agree", Button)
        await wait_for(pilot, lambda: not agree.disabled)
        # Read, then the double Enter: an Enter within READ_SECONDS of the text appearing is
        # taken for one meant for the screen before (refused), and paging down to the end
        # took longer than that only on a slow enough run.
        await wait_for(pilot, _read(app.screen))
        before = events(school)
        await typed(pilot, "⏎⏎", gap=0.08)  # 80 ms apart, whatever the machine's load
        await settle(pilot)
        # The School policy is agreed; the LA policy is on the screen, not agreed.
        assert [k for k, _ in events(school)[len(before) :]] == ["policy_acknowledged"]
        screen = app.screen
        assert isinstance(screen, PolicyScreen), type(screen).__name__
        assert screen.policy_id == la.id
        await wait_for(pilot, lambda: not screen.query_one("#agree", Button).disabled)
        assert "nothing is agreed yet" in notice(app)
        # Read (a moment), then Enter: now it is agreed.
        await pilot.pause(PolicyScreen.READ_SECONDS)
        await pilot.press("enter")
        await settle(pilot)
    kinds = [k for k, _ in events(school)[len(before) :]]
    assert kinds == ["policy_acknowledged", "policy_acknowledged"]


def _read(screen: object) -> Callable[[], bool]:
    """The policy on ``screen`` has been on the screen for as long as a person reads before
    agreeing (PolicyScreen.READ_SECONDS): Enter now agrees."""
    assert isinstance(screen, PolicyScreen)

    def read() -> bool:
        return (
            screen.shown_at is not None
            and monotonic() >= screen.shown_at + PolicyScreen.READ_SECONDS
        )

    return read


async def test_breakfast_club_with_the_database_away_says_whose_phone_was_not_logged(
    school: Services, kiosk_settings: Settings
) -> None:
    # The walk: the lead logs colleagues by typed codes; the database goes away between two.
    # The kiosk said only "Not recorded: the database is unavailable": with a queue of
    # colleagues at the drawer, the lead could not tell whose phone to log again.
    db_file = Path(make_engine(kiosk_settings.database_url).url.database or "")
    folder = db_file.parent
    moved = folder.with_name(folder.name + "-away")
    app = make_app(school)
    async with running(app) as pilot:
        await type_code(pilot, "bjones")
        await press(pilot, "f5")
        assert isinstance(app.screen, BreakfastScreen)
        await type_code(pilot, "asmith")
        before = events(school)
        folder.rename(moved)
        school.ctx.engine.dispose()
        await type_code(pilot, "epatel")
        assert "Not recorded" in notice(app) and "EPATEL" in notice(app)
        assert "the database is unavailable" in notice(app)
        moved.rename(folder)
        await type_code(pilot, "epatel")
        assert "Esha Patel" in notice(app)
    assert [k for k, _ in events(school)[len(before) :]] == ["phone_deposited"]


async def test_the_charged_box_says_how_to_reach_it_from_the_keyboard(school: Services) -> None:
    # The walk: a work phone typed, reason 3 typed, then Space as the box's label said
    # "(Space)". The Space went into the code field (the box did not have the focus): nothing
    # ticked, and "charge it, then tick the box" did not say how. Tab reaches the box.
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await type_code(pilot, "asmith")
        await type_code(pilot, "wp-01")
        assert isinstance(app.screen, SignOutScreen)
        await type_code(pilot, "3", enter=False)
        await press(pilot, "space")
        charged = app.screen.query_one("#charged", Checkbox)
        assert not charged.value
        said = app.screen.summary_text()
        assert "Tab to the box, then Space" in said, said
        assert "Tab to here, then Space" in str(charged.label)
        for _ in range(6):  # as the words say
            if app.screen.focused is charged:
                break
            await press(pilot, "tab")
        await press(pilot, "space")
        assert charged.value
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
    [item] = school.devices.offsite_now()
    assert item.device.tag == "WP-01"


async def test_moving_the_one_phone_in_the_drawer_is_asked_in_plain_words(
    school: Services,
) -> None:
    # The walk: one colleague logged, then F8: "Move all 1 phone from the drawer to the
    # staff-room store?"
    app = make_app(school)
    async with running(app) as pilot:
        await type_code(pilot, "bjones")
        await press(pilot, "f5")
        await type_code(pilot, "asmith")
        await press(pilot, "f8")
        said = notice(app)
        assert "all 1" not in said
        assert "Move Alice Smith's phone from the drawer to the staff-room store?" in said
        await pilot.pause(READ_SECONDS)  # read (timed by the keys' own clock)
        await press(pilot, "f8")
        assert isinstance(app.screen, ConfirmScreen)
    assert [h.staff.code for h in school.phones.phones_now()] == ["ASMITH"]


async def test_enter_pressed_twice_on_a_review_shows_what_will_be_sent_before_sending(
    school: Services,
) -> None:
    # The walk: "laptop stand" typed on the desk-review screen, then Enter twice (80 ms
    # apart). The first Enter is to show what will be sent, the second to send it: the
    # request was sent before anybody could read what it said.
    app = make_app(school)
    async with running(app) as pilot:
        await type_code(pilot, "epatel")
        await press(pilot, "f12")
        assert isinstance(app.screen, ReviewScreen)
        await type_code(pilot, "laptop stand", enter=False)
        await typed(pilot, "⏎⏎", gap=0.08)  # 80 ms apart, whatever the machine's load
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert "Press Enter again to send it" in notice(app)
        assert school.policies.reviews() == ()
        await pilot.pause(ReviewScreen.READ_SECONDS)  # read it
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
    [review] = school.policies.reviews()
    assert review.needs == "laptop stand"


async def test_another_persons_code_typed_as_the_return_note_is_not_recorded_as_the_condition(
    school: Services,
) -> None:
    # The walk: a laptop's label typed to return it, Tab to the note, and the person walks
    # away; the next one types their staff code there and Enter. The return was recorded
    # with the condition "DPHILLIPS". On the desk-review screen the same code is read as a
    # code; here it must not be stored as what is wrong with the laptop.
    make_ready(school, "ASMITH")
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Planning")
    app = make_app(school)
    async with running(app) as pilot:
        await type_code(pilot, "lap-001")
        assert isinstance(app.screen, ReturnScreen)
        before = events(school)
        await press(pilot, "tab")
        await type_code(pilot, "epatel")
        assert events(school) == before
        assert isinstance(app.screen, PersonScreen)
        assert app.screen.status.staff.code == "EPATEL"
        await press(pilot, "escape")
        # A label typed as the note: said, not stored.
        await type_code(pilot, "lap-001")
        await press(pilot, "tab")
        await type_code(pilot, "LAP-002")
        assert isinstance(app.screen, ReturnScreen)
        assert "not a note on its condition" in notice(app)
        assert events(school) == before
        # A one-word note that is no code is a note.
        for _ in range(7):
            await press(pilot, "backspace")
        await type_code(pilot, "cracked")
        assert isinstance(app.screen, ConfirmScreen)
    [(kind, details)] = events(school)[len(before) :]
    assert kind == "device_returned" and details.get("condition") == "cracked", details


async def test_another_persons_code_typed_as_the_other_reason_does_not_sign_out(
    school: Services,
) -> None:
    # The walk: "Other" chosen on the sign-out form, the person walks away; the next one
    # types their staff code into "Say briefly why" and Enter (Enter signs out from any
    # field): the laptop went off site "for DPHILLIPS".
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await type_code(pilot, "asmith")
        await type_code(pilot, "lap-001")
        assert isinstance(app.screen, SignOutScreen)
        await press(pilot, "up")  # Other
        before = events(school)
        await type_code(pilot, "epatel")
        assert events(school) == before
        assert isinstance(app.screen, PersonScreen)
        assert app.screen.status.staff.code == "EPATEL"
        await press(pilot, "escape")
        # A one-word reason that is no code is a reason.
        await type_code(pilot, "asmith")
        await type_code(pilot, "lap-001")
        await press(pilot, "up")
        await type_code(pilot, "Ofsted")
        assert isinstance(app.screen, ConfirmScreen)
    [item] = school.devices.offsite_now()
    assert item.reason == "Ofsted"


async def test_another_persons_code_typed_as_the_reason_to_keep_a_laptop_longer_is_not_recorded(
    school: Services,
) -> None:
    # The same walk on "Keep a device longer" (F4): the next person's code typed into "Why
    # do you need it longer?" and Enter recorded the extension with that code as the reason.
    make_ready(school, "ASMITH")
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Planning")
    app = make_app(school)
    async with running(app) as pilot:
        await type_code(pilot, "asmith")
        await press(pilot, "f4")
        assert isinstance(app.screen, ExtendScreen)
        await press(pilot, "enter")  # the suggested new return: on to the reason
        before = events(school)
        await type_code(pilot, "epatel")
        assert events(school) == before
        assert isinstance(app.screen, PersonScreen)
        assert app.screen.status.staff.code == "EPATEL"

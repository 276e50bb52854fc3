"""Round 17: a new member of staff and a new school office walk every flow at human speed;
what each screen says afterwards is compared with what the register holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from kiosk.services.app import Services
from kiosk.ui.admin import AdminConsoleScreen
from kiosk.ui.admin.app import AdminApp
from kiosk.ui.app import KioskApp
from kiosk.ui.breakfast import BreakfastScreen
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.person import PersonScreen
from kiosk.ui.policy import PolicyScreen
from kiosk.ui.signout import SignOutScreen
from kiosk.ui.wellbeing import VduScreen
from tests.conftest import START, FakeClock
from tests.school import make_ready, make_school
from tests.ui.admin_support import ConsoleHost, messages, open_services, wait_until
from tests.ui.conftest import ADMIN_PIN
from tests.ui.kiosk_support import (
    events,
    make_app,
    notice,
    press,
    running,
    scan,
    screen_text,
    settle,
    type_code,
)
from tests.ui.test_hostile_round16 import drawn_words

pytestmark = pytest.mark.ui


def _breakfast_log(app: KioskApp) -> str:
    """The running list under the breakfast-club code field (what the lead looks back at)."""
    return str(app.screen.query_one("#bc-entries", Static).visual)


async def test_breakfast_list_keeps_a_refused_code_after_the_next_scan(school: Services) -> None:
    # Ben logs a queue of colleagues at the breakfast-club door, a code and Enter each. He
    # mistypes Esha's code ("epatle"), then types it right, then Alice's. The refusal was
    # shown under the field only until the next code came, a second later: the running list
    # he looks back at showed only the phones logged, so a code refused in the queue (its
    # phone in the drawer, nothing recorded) left no trace on the screen.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        await press(pilot, "f5")
        assert isinstance(app.screen, BreakfastScreen)
        before = len(events(school))
        await type_code(pilot, "epatle")
        await type_code(pilot, "epatel")
        await type_code(pilot, "asmith")
        await type_code(pilot, "asmith")  # her badge again: already in the drawer
        log = _breakfast_log(app)
        assert "Esha Patel: phone into the drawer" in log
        assert "Alice Smith: phone into the drawer" in log
        assert "EPA…" in log.upper() and "NOT RECORDED" in log.upper(), log
        lines = log.splitlines()
        refused = [line for line in lines if "NOT RECORDED" in line.upper()]
        assert len(refused) == 2, log
        assert any("already" in line for line in refused), log
    recorded = [(kind, d.get("store")) for kind, d in events(school)[before:]]
    assert [kind for kind, _ in recorded] == ["phone_deposited", "phone_deposited"]


async def _to_the_vdu_step(pilot: Pilot[None], app: KioskApp) -> None:
    """Alice (a new teacher: the policy and VDU training still to do) types her code, then a
    laptop's tag, reads the policy to its end and agrees: the VDU question is next."""
    await type_code(pilot, "asmith")
    await type_code(pilot, "lap-001")
    assert isinstance(app.screen, PolicyScreen)
    for _ in range(40):
        await pilot.press("pagedown")
    await settle(pilot)
    await press(pilot, "enter")
    assert isinstance(app.screen, VduScreen)


async def test_next_persons_badge_on_a_sign_out_does_not_say_nothing_was_recorded(
    school: Services,
) -> None:
    # Alice agrees the policy and records her VDU training on the way to signing a laptop
    # out, then walks away from the form. Esha scans her badge. The note said "Alice
    # Smith's screen was closed: nothing recorded for them", though her agreement and her
    # training had been recorded: Alice (or the office, told so) would do them again.
    app = make_app(school)
    async with running(app) as pilot:
        await _to_the_vdu_step(pilot, app)
        await type_code(pilot, "today")
        assert isinstance(app.screen, SignOutScreen)
        before = [kind for kind, _ in events(school)]
        assert before[-2:] == ["policy_acknowledged", "vdu_training_declared"]
        await scan(pilot, "SRK1:S:EPATEL")
        assert isinstance(app.screen, PersonScreen)
        said = notice(app)
        assert "nothing recorded for them" not in said, said
        assert said.endswith(
            "Alice Smith's sign-out was not finished: nothing signed out (the policy agreed and "
            "the VDU training are kept)."
        ), said
    assert [kind for kind, _ in events(school)] == before


async def test_next_persons_badge_on_the_vdu_step_says_the_policy_is_kept(
    school: Services,
) -> None:
    # The same, Alice gone from the VDU question after agreeing the policy.
    app = make_app(school)
    async with running(app) as pilot:
        await _to_the_vdu_step(pilot, app)
        await scan(pilot, "SRK1:S:EPATEL")
        assert isinstance(app.screen, PersonScreen)
        said = notice(app)
        assert "nothing recorded for them" not in said, said
        assert "(the policy agreed is kept)" in said and "training" not in said, said


async def test_sign_out_confirmation_says_what_was_recorded_on_the_way(school: Services) -> None:
    # Alice's first laptop sign-out: the policy, then the VDU question, then the form. Each
    # step's "recorded" was shown only under the form as the next step opened over it, each
    # replacing the last: she never saw that her agreement to the policy had been recorded,
    # and the big confirmation named only the laptop.
    app = make_app(school)
    async with running(app) as pilot:
        await _to_the_vdu_step(pilot, app)
        await type_code(pilot, "today")
        assert isinstance(app.screen, SignOutScreen)
        said = notice(app)
        assert "acknowledged" in said and "training recorded" in said, said
        assert ") (" not in said, said  # one time, not "(10 Mar 2026) (08:05)"
        await type_code(pilot, "1")
        assert isinstance(app.screen, ConfirmScreen), notice(app)
        shown = screen_text(app)
        assert "Signed out off site: Laptop LAP-001" in shown
        assert "School Acceptable Use Policy" in shown and "acknowledged" in shown, shown
        assert "training recorded" in shown, shown
    kinds = [kind for kind, _ in events(school)]
    assert kinds[-3:] == ["policy_acknowledged", "vdu_training_declared", "device_signed_out"]


async def test_agreeing_one_of_two_policies_says_the_other_is_still_to_read(
    school: Services,
) -> None:
    # Esha's first morning: two policies to agree (the school's and the LA's). F7 on her
    # screen opens the first; she reads it and agrees. The confirmation said only "School
    # Acceptable Use Policy acknowledged" and went back to the start: nothing said that a
    # second one was still to be agreed, so she left thinking she was done.
    school.policies.publish("LA Acceptable Use Policy", "2026", "# LA AUP\n\nBe kind.\n")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        await press(pilot, "f7")
        assert isinstance(app.screen, PolicyScreen)
        for _ in range(40):
            await pilot.press("pagedown")
        await settle(pilot)
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen), notice(app)
        shown = screen_text(app)
        assert "acknowledged" in shown, shown
        assert "Still to read and agree" in shown and "LA Acceptable Use Policy" in shown, shown
    assert [kind for kind, _ in events(school)].count("policy_acknowledged") == 1


async def test_a_pin_typed_on_breakfast_club_is_not_kept_on_the_screen(school: Services) -> None:
    # Ben leaves breakfast club open. Carol (an admin) presses F10 as on the home screen
    # (nothing happens here) and types the admin PIN and Enter: it is read as a colleague's
    # code and refused. The running list, which keeps refusals for the session, must not
    # keep the PIN on the screen for the next passer-by; nor may the line under the field.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        await press(pilot, "f5")
        assert isinstance(app.screen, BreakfastScreen)
        await press(pilot, "f10")
        await type_code(pilot, ADMIN_PIN)
        log, said = _breakfast_log(app), notice(app)
        assert ADMIN_PIN not in log and ADMIN_PIN not in said, (log, said)
        assert "NOT RECORDED" in log.upper() and "No member of staff has the code" in said, (
            log,
            said,
        )
        await type_code(pilot, "epatle")  # a mistyped code is still listed (its first letters)
        assert "EPA…" in _breakfast_log(app).upper()


async def test_f10_away_from_the_start_screen_says_where_the_admin_pin_pad_is(
    school: Services,
) -> None:
    # F10 is "Admin" on the start screen, and on no other. Pressed on breakfast club (or a
    # person's screen) it did nothing and said nothing: the admin typed the PIN into the
    # colleague's-code field, then scanned their badge, and breakfast club logged the
    # admin's own phone into the drawer. Now the screen says how to get to the PIN pad.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        await press(pilot, "f10")
        assert isinstance(app.screen, PersonScreen)
        assert "Ctrl+Q" in notice(app), notice(app)
        await press(pilot, "f5")
        assert isinstance(app.screen, BreakfastScreen)
        before = len(events(school))
        await press(pilot, "f10")
        assert isinstance(app.screen, BreakfastScreen)
        assert "Ctrl+Q" in notice(app), notice(app)
        assert len(events(school)) == before
        await press(pilot, "escape")
        await press(pilot, "f10")
        assert type(app.screen).__name__ == "PinScreen"


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
async def test_off_site_shows_when_each_device_is_due_back(
    sqlite_url: str, clock: FakeClock, size: tuple[int, int]
) -> None:
    # The office's first week: "what is off site or overdue, and when is it due back?" The
    # Off site tab listed status, device, who, since and the reason; "Expected back" came
    # after the reason, past the right edge of a 100- or 80-column screen, with nothing to
    # say it was there: the office could not see when anything was due.
    services = open_services(sqlite_url, clock)
    try:
        clock.set(START - timedelta(weeks=10))
        make_school(services)
        clock.set(START)
        make_ready(services, "ASMITH")
        services.devices.sign_out(
            "ASMITH",
            ["LAP-001"],
            reason="Planning and marking at home",
            expected_return=START + timedelta(days=2),
        )
        app = ConsoleHost(services)
        async with app.run_test(size=size) as pilot:
            await pilot.press("3")
            await wait_until(
                pilot, lambda: app.screen.query_one("#offsite-table", DataTable).row_count == 1
            )
            await pilot.pause()
            # (Stock Textual measured the row's columns only when next idle, and a frame
            # drawn before that, on a loaded machine, kept "Thu12Mar08" for good.)
            assert "Thu12Mar08:05" in drawn_words(app), drawn_words(app)
    finally:
        services.close()


async def test_undo_right_after_a_refused_code_asks_before_undoing_the_scan_before_it(
    school: Services,
) -> None:
    # Ben logs Esha, then mistypes the next code ("atsmih"): refused, listed at the top as
    # NOT RECORDED. He presses F4 (Undo last) to take the wrong line away: it undid Esha's
    # scan, whose phone is in the drawer, and the register said it was not.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        await press(pilot, "f5")
        await type_code(pilot, "epatel")
        await type_code(pilot, "atsmih")
        before = len(events(school))
        await press(pilot, "f4")
        said = notice(app)
        assert "nothing to undo" in said and "Esha Patel" in said, said
        assert len(events(school)) == before
        await pilot.pause(0.6)  # read (by the keys' own clock), then F4 again: Esha's undone
        await press(pilot, "f4")
        assert "Undone: Esha Patel's scan" in notice(app), notice(app)
    assert [kind for kind, _ in events(school)][-1] == "correction"


async def test_office_sign_in_with_the_fields_the_wrong_way_round_does_not_leave_the_pin_in_view(
    sqlite_url: str, clock: FakeClock
) -> None:
    # The office's first morning with `kiosk admin`: Dina types her code first, into the
    # PIN field (digits only: her letters are dropped without a word), Enter (the cursor
    # moves on), then the PIN into the staff-code field, in clear, and Enter. Before: "Type
    # the admin PIN." and the PIN stayed on the screen in the staff-code field.
    services = open_services(sqlite_url, clock)
    try:
        clock.set(START - timedelta(days=7))
        make_school(services)
        clock.set(START)
        services.admin.set_pin(ADMIN_PIN)
        app = AdminApp(services.settings, services)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: app.focused is app.screen.query_one("#pin", Input))
            await pilot.press(*"doffice", "enter")
            said = " ".join(messages(app))
            assert "digits" in said, said  # her letters were not taken: said so
            assert app.focused is app.screen.query_one("#pin", Input)
            await pilot.press("tab", *ADMIN_PIN, "enter")  # the PIN in the code field
            await pilot.pause()
            assert app.screen.query_one("#code", Input).value == ""
            assert ADMIN_PIN not in drawn_words(app)
            assert app.focused is app.screen.query_one("#pin", Input)
            await pilot.press(*ADMIN_PIN, "enter", *"doffice", "enter")
            await wait_until(pilot, lambda: isinstance(app.screen, AdminConsoleScreen))
    finally:
        services.close()


async def test_the_admin_pin_typed_as_a_code_is_not_shown_on_the_kiosk(school: Services) -> None:
    # Carol, at the staff-room kiosk, types the admin PIN and Enter before pressing F10; then
    # F10, the PIN, and (not sure it was taken) the PIN again where her badge is asked for.
    # Each was refused quoting it: "Not recognised: 246810 is not a staff code or an asset
    # tag", "No member of staff has the code 246810": the PIN in large type in the staff room.
    app = make_app(school)
    async with running(app) as pilot:
        await type_code(pilot, ADMIN_PIN)
        said = notice(app)
        assert said and ADMIN_PIN not in said, said
        assert "not a staff code" in said, said
        await press(pilot, "f10", *ADMIN_PIN, "enter")
        await type_code(pilot, ADMIN_PIN)
        said = notice(app)
        assert said and ADMIN_PIN not in said, said
        assert ADMIN_PIN not in drawn_words(app)
        await type_code(pilot, "CHEAD")  # her code: the admin's choice is offered
        assert "What would you like to do?" in screen_text(app)
    assert not [kind for kind, _ in events(school) if kind.startswith("phone")]


async def test_the_admin_pin_typed_in_a_date_field_is_not_shown_on_the_kiosk(
    school: Services,
) -> None:
    # The final review: the VDU date field has the cursor as its screen opens, and the PIN
    # typed there was refused as "“246810” is not a date I can read", in large type. Every
    # message a kiosk screen shows now masks a PIN-shaped number, whatever quoted it.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await press(pilot, "f8")
        assert isinstance(app.screen, VduScreen)
        await type_code(pilot, ADMIN_PIN)
        said = notice(app)
        assert said and ADMIN_PIN not in said, said
        assert ADMIN_PIN not in drawn_words(app)
    assert not [kind for kind, _ in events(school) if kind == "vdu_training_declared"]

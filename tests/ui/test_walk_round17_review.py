"""Round 17's walkthrough fixes, reviewed: a number shaped like the admin PIN is masked by
its shape wherever the kiosk quotes typed text (one stray key around it included), the
office's CLI still gets the code back, and staff codes that are numbers stay useful."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import Input

from kiosk.domain.errors import DatabaseUnavailable, NotFound
from kiosk.domain.scan import MIN_PIN_LENGTH, may_be_the_pin
from kiosk.services import admin as admin_service
from kiosk.services.app import Services
from kiosk.ui.admin import AdminConsoleScreen
from kiosk.ui.admin.app import AdminApp
from kiosk.ui.base import shown_code
from kiosk.ui.breakfast import BreakfastScreen
from tests.conftest import START, FakeClock
from tests.school import make_school
from tests.ui.admin_support import messages, open_services, wait_until
from tests.ui.conftest import ADMIN_PIN
from tests.ui.kiosk_support import make_app, notice, press, running, scan, type_code
from tests.ui.test_hostile_round16 import drawn_words

pytestmark = pytest.mark.ui

STRAY = (ADMIN_PIN + ".", ADMIN_PIN + "*", "+" + ADMIN_PIN, ADMIN_PIN + "-")


def _breakfast_log(app: object) -> str:
    return str(app.screen.query_one("#bc-entries").visual)  # type: ignore[attr-defined]


def test_one_pin_rule_masks_by_shape_with_a_fixed_width() -> None:
    assert admin_service.MIN_PIN_LENGTH is MIN_PIN_LENGTH
    assert may_be_the_pin("246810.") and may_be_the_pin("+2468101") and not may_be_the_pin("1045")
    short, long = shown_code("246810."), shown_code("24681012345*")
    assert "246810" not in short and "24681012345" not in long
    assert short[:-1] == long[:-1]  # the mask does not give away how many digits
    assert shown_code("1045") == "1045" and shown_code("dhall") == "dhall"


async def test_a_pin_with_a_stray_key_is_not_shown_at_breakfast_club(school: Services) -> None:
    # Carol types the PIN at breakfast club with the numpad's ".", "*", "+" or "-" beside it:
    # the refusal quoted it whole, and the running list kept it for the session.
    app = make_app(school)
    async with running(app, size=(80, 24)) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        await press(pilot, "f5")
        assert isinstance(app.screen, BreakfastScreen)
        await type_code(pilot, "epatel")
        for typed in STRAY:
            await type_code(pilot, typed)
            said = notice(app)
            assert said and ADMIN_PIN not in said, (typed, said)
            assert ADMIN_PIN not in _breakfast_log(app), (typed, _breakfast_log(app))
        await press(pilot, "f4")
        assert ADMIN_PIN not in notice(app), notice(app)
        assert ADMIN_PIN not in drawn_words(app)


async def test_a_pin_with_a_stray_key_is_not_shown_on_the_home_screen(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        for typed in (ADMIN_PIN + ".", ADMIN_PIN + "*"):
            await type_code(pilot, typed)
            said = notice(app)
            assert said and ADMIN_PIN not in said, (typed, said)
            assert ADMIN_PIN not in drawn_words(app)


async def test_the_pin_pad_never_quotes_what_was_typed(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await press(pilot, "f10", *ADMIN_PIN, ".", "enter")
        said = notice(app)
        assert "not a PIN" in said and ADMIN_PIN not in said, said
        await press(pilot, *"dhall", "enter")
        assert "DHALL" not in notice(app).upper(), notice(app)


def test_the_office_gets_the_code_back_in_plain_words(school: Services) -> None:
    # `kiosk staff retire 104523` on the office's terminal: the code is said back.
    with pytest.raises(NotFound) as raised:
        school.people.retire_staff("104523", admin_code="CHEAD")
    assert "No member of staff has the code 104523" in raised.value.message
    assert "may be the admin PIN" not in raised.value.message


async def test_numeric_staff_codes_stay_useful_at_breakfast_club(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A school whose staff codes are payroll numbers. A 4-digit slip is quoted; with the
    # database away, the list names whose phone to log again (the session knows Nina).
    school.people.add_staff("104522", "Nina Numeric", email="n@x.sch.uk", roles=())
    app = make_app(school)
    async with running(app, size=(80, 24)) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        await press(pilot, "f5")
        await type_code(pilot, "104522")  # her phone in
        await type_code(pilot, "1045")  # a slip
        assert "1045" in _breakfast_log(app) and "1045" in notice(app)
        assert "PIN" not in notice(app), notice(app)
        await press(pilot, "f2")  # handing back

        def away(*_a: object, **_k: object) -> None:
            raise DatabaseUnavailable("The database is not answering: nothing was recorded.")

        monkeypatch.setattr(school.phones, "collect", away)
        await type_code(pilot, "104522")
        assert "Nina Numeric" in notice(app), notice(app)
        assert "Nina Numeric" in _breakfast_log(app).split("\n")[0], _breakfast_log(app)


async def test_a_mistyped_payroll_number_on_the_home_screen_says_what_to_do(
    school: Services,
) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await type_code(pilot, "1045")
        said = notice(app)
        assert "1045" in said and "PIN" not in said, said
        await type_code(pilot, "104523")
        said = notice(app)
        assert "104523" not in said and "not a staff code" in said, said


@pytest.mark.parametrize("first", ["dina2", "104522"])
async def test_office_sign_in_never_leaves_the_pin_in_the_code_field(
    sqlite_url: str, clock: FakeClock, first: str
) -> None:
    # Dina types her code first, into the PIN field: its digits are kept ("2", "104522"),
    # Enter moves on, and the PIN goes into the staff-code field in clear. Refused as an
    # unknown code, the PIN field was cleared and the PIN left in view in the code field.
    services = open_services(sqlite_url, clock)
    try:
        clock.set(START - timedelta(days=7))
        make_school(services)
        clock.set(START)
        services.admin.set_pin(ADMIN_PIN)
        app = AdminApp(services.settings, services)
        async with app.run_test(size=(100, 30)) as pilot:
            pin, code = app.screen.query_one("#pin", Input), app.screen.query_one("#code", Input)
            await wait_until(pilot, lambda: app.focused is pin)
            await pilot.press(*first, "enter", *ADMIN_PIN, "enter")
            await wait_until(pilot, lambda: app.focused is pin and not code.value)
            said = " ".join(messages(app))
            assert said and ADMIN_PIN not in said, said
            assert ADMIN_PIN not in drawn_words(app)
            await pilot.press(*ADMIN_PIN, "enter", *"doffice", "enter")
            await wait_until(pilot, lambda: isinstance(app.screen, AdminConsoleScreen))
    finally:
        services.close()


async def test_the_running_list_keeps_one_short_line_per_refusal_and_a_few_dozen_lines(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A colleague's password typed by mistake stayed on the shared screen for the session,
    # quoted twice on two rows; the list was never capped, and each refusal took two rows
    # of the twelve at 80x24 (the phones logged scrolled out of view).
    app = make_app(school)
    async with running(app, size=(80, 24)) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        await press(pilot, "f5")
        await type_code(pilot, "Summer2026")
        log = _breakfast_log(app)
        assert "SUMMER2026" not in log.upper() and "SUM…" in log.upper(), log
        entries = app.screen.query_one("#bc-entries")
        assert entries.size.height == 1, log  # one row
        for n in range(55):
            await type_code(pilot, f"nobody{n}")
        assert len(_breakfast_log(app).splitlines()) == 50
        # Esha's scan not recorded (the database away), then recorded: its refusal goes.
        real = school.phones.deposit

        def away(*_a: object, **_k: object) -> None:
            raise DatabaseUnavailable("The database is not answering: nothing was recorded.")

        monkeypatch.setattr(school.phones, "deposit", away)
        await type_code(pilot, "epatel")
        assert "EPA…" in _breakfast_log(app).splitlines()[0], _breakfast_log(app)
        monkeypatch.setattr(school.phones, "deposit", real)
        await type_code(pilot, "epatel")
        log = _breakfast_log(app)
        assert "Esha Patel: phone into the drawer" in log.splitlines()[0], log
        assert "EPA…" not in log, log


async def test_f10_away_from_the_start_screen_gives_the_way_that_works_everywhere(
    school: Services,
) -> None:
    # "Press Esc, then F10" was half true on a chained step (Esc went back to the sign-out
    # form, where F10 said the same again); Ctrl+Q opens the PIN pad from any screen.
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        await press(pilot, "f5")
        assert isinstance(app.screen, BreakfastScreen)
        await press(pilot, "f10")
        assert "Ctrl+Q" in notice(app), notice(app)
        await press(pilot, "ctrl+q")
        assert type(app.screen).__name__ == "PinScreen"


async def test_a_badge_or_label_printed_with_a_pin_shaped_code_is_masked(
    school: Services,
) -> None:
    # The services say the code back (for the office); the kiosk masks it by its shape.
    app = make_app(school)
    async with running(app) as pilot:
        for payload in (f"SRK1:D:{ADMIN_PIN}", f"SRK1:S:{ADMIN_PIN}"):
            await scan(pilot, payload)
            said = notice(app)
            assert said and ADMIN_PIN not in said, (payload, said)

"""The kiosk at 80x24 and on a large screen, the idle timeout, the high-contrast theme."""

from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.widget import Widget

from kiosk.services.app import Services
from kiosk.ui.breakfast import BreakfastScreen
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.home import HomeScreen
from kiosk.ui.person import PersonScreen
from kiosk.ui.signout import SignOutScreen
from kiosk.ui.widgets import FactList, TouchButton
from tests.reliability.helpers import meddle
from tests.reliability.test_attacks_round6 import _insert_for
from tests.school import make_ready
from tests.ui.kiosk_support import (
    idle,
    make_app,
    notice,
    press,
    running,
    scan,
    scan_fast,
    screen_text,
    with_settings,
)

pytestmark = pytest.mark.ui


def _fully_visible(widget: Widget, size: tuple[int, int]) -> bool:
    region = widget.region
    width, height = size
    return (
        region.height > 0
        and region.width > 0
        and region.x >= 0
        and region.y >= 0
        and region.right <= width
        and region.bottom <= height
    )


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_everything_fits_from_80x24_to_a_large_screen(
    school: Services, size: tuple[int, int]
) -> None:
    make_ready(school, "ASMITH")
    app = make_app(school)
    async with running(app, size=size) as pilot:
        home = app.screen
        for selector in ("#school", "#clock", "#scan", "#emergency", "TouchButton"):
            for widget in home.query(selector):
                assert _fully_visible(widget, size), (selector, widget.region)
        assert "0121 496 0000" in screen_text(app)
        await scan(pilot, "SRK1:S:ASMITH")
        assert isinstance(app.screen, PersonScreen)
        for widget in app.screen.query("TouchButton"):
            if widget.display:
                assert _fully_visible(widget, size), (widget.id, widget.region)
        for selector in ("#person-head", "#person-facts", "#primary"):
            assert _fully_visible(app.screen.query_one(selector), size), selector
        # A sign-out with a laptop and a work phone: the form can be reached whole.
        await scan_fast(pilot, "SRK1:D:LAP-001")
        await scan_fast(pilot, "SRK1:D:WP-01")
        assert isinstance(app.screen, SignOutScreen)
        charged = app.screen.query_one("#charged")
        charged.scroll_visible(animate=False)
        await pilot.pause()
        assert _fully_visible(charged, size)
        await press(pilot, "escape")
        await scan_fast(pilot, "SRK1:S:ASMITH")
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
        assert _fully_visible(app.screen.query_one("#confirm-title"), size)


def _cut_labels(app: object, size: tuple[int, int]) -> list[str]:
    """The shown buttons of the app's screen whose label is not drawn whole (Textual wraps a
    label too long for its button, and the lines past the button's height are not seen:
    "F3 Sign a laptop" for "F3 Sign a laptop out")."""
    cut = []
    for button in app.screen.query(TouchButton):  # type: ignore[attr-defined]
        if not button.display:
            continue
        drawn = button.render_lines(Region(0, 0, *button.outer_size))
        seen = " ".join(" ".join(line.text for line in drawn).split())
        label = " ".join(button.label.plain.split())
        if label not in seen:
            cut.append(f"{size}: {label!r} drawn as {seen!r}")
    return cut


async def test_every_button_label_is_shown_whole_at_every_width(school: Services) -> None:
    """Home, a person's screen and breakfast club, from 80 columns to 200: each button says
    all it does (a grid of buttons goes from three columns to one row only where every label
    fits; at 120 to 149 columns home's six labels were cut short, "F3 Sign a laptop")."""
    make_ready(school, "ASMITH")
    app = make_app(school)
    # Each side of each breakpoint (kiosk.ui.app.KioskApp.HORIZONTAL_BREAKPOINTS), tall and short.
    sizes = [(80, 24), (119, 40), (120, 40), (120, 24), (149, 40), (150, 40), (150, 24), (200, 50)]
    cut: list[str] = []
    async with running(app, size=sizes[0]) as pilot:
        for size in sizes:
            await pilot.resize_terminal(*size)
            await press(pilot, "escape")
            assert isinstance(app.screen, HomeScreen)
            cut += _cut_labels(app, size)
            await scan(pilot, "SRK1:S:ASMITH")
            assert isinstance(app.screen, PersonScreen)
            cut += _cut_labels(app, size)
            await press(pilot, "escape", "f5")
            await scan(pilot, "SRK1:S:BJONES")
            assert isinstance(app.screen, BreakfastScreen)
            cut += _cut_labels(app, size)
            await press(pilot, "escape")
    assert cut == [], "\n".join(cut)


async def test_idle_timeout_returns_home_and_forgets_a_half_typed_code(school: Services) -> None:
    app = make_app(school)  # idle_timeout: 30 s
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await idle(pilot, 25)
        assert isinstance(app.screen, PersonScreen)
        await idle(pilot, 6)
        assert isinstance(app.screen, HomeScreen)
        await pilot.pause(app.DOUBLE_TAP_SECONDS + 0.1)  # home read (a key as it came: dropped)
        await press(pilot, "f3")
        await pilot.press(*"epa")
        assert "Sign a laptop or work phone out" in notice(app)
        await idle(pilot, 31)
        assert app.screen.query_one("#scan").value == ""  # type: ignore[attr-defined]
        assert notice(app) == ""
        assert not any(b.has_class("-armed") for b in app.screen.query("TouchButton"))
    assert school.phones.phones_now() == ()


async def test_high_contrast_theme(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        assert app.theme == "kiosk"
        await press(pilot, "f9")
        assert app.theme == "kiosk-high-contrast"
        assert app.screen.styles.background.hex.upper() == "#000000"
        await pilot.click("#act-contrast")
        await pilot.pause()
        assert app.theme == "kiosk"
        assert app.focused is not None and app.focused.id == "scan"
    app = make_app(school, high_contrast=True)
    async with running(app):
        assert app.theme == "kiosk-high-contrast"


async def test_overdue_is_said_in_words_not_only_in_red(school: Services) -> None:
    make_ready(school, "ASMITH")
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Planning")
    school.ctx.clock.advance(days=2)  # type: ignore[attr-defined]
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        assert "⚠ OVERDUE Laptop LAP-001, due back Wed 11 Mar 08:30" in screen_text(app)
        facts = app.screen.query_one("#person-facts", FactList)
        assert facts.tone_of("Off site") == "overdue"
        red = facts.get_visual_style("fact-list--overdue", partial=True)
        assert red.foreground is not None and red.bold


async def test_an_event_whose_details_cannot_be_read_is_said_on_the_persons_screen(
    school: Services,
) -> None:
    """An exemption "until soon" INSERTed without the key (tests/reliability/
    test_attacks_round6.py): the screen showed nothing for her (a raw ValueError). It shows
    her, without the exemption, says in words that part of her record cannot be read, and
    her phone goes in."""
    make_ready(school, "ASMITH")
    with meddle(school.settings.database_url) as db:
        forged = _insert_for(
            db, "ASMITH", "exemption_granted", "exemption", '{"until": "soon"}', None
        )
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        assert isinstance(app.screen, PersonScreen)
        text = screen_text(app)
        assert "Alice Smith" in text
        assert f"Part of this record cannot be read (event {forged})" in " ".join(text.split())
        assert "Exemption" not in text
        assert app.screen.query_one("#person-facts", FactList).tone_of("Record") == "todo"
    school.phones.deposit("ASMITH")
    assert school.people.status("ASMITH").phone is not None


async def test_idle_timeout_zero_means_never(school: Services) -> None:
    app = make_app(with_settings(school, idle_timeout=0))
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await idle(pilot, 24 * 3600)  # a whole day without input
        assert isinstance(app.screen, PersonScreen)
        assert app.screen.idle_seconds is None  # type: ignore[attr-defined]

"""The person's screen's keys for a mouse or a touch screen (issue 17, the stock scan figure):
drawn by one widget, ``ActionPad``, that looks and answers as the ten buttons it replaced."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.containers import Grid
from textual.geometry import Region
from textual.strip import Strip

from kiosk.services.app import Services
from kiosk.ui.breakfast import BreakfastScreen
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.home import HomeScreen
from kiosk.ui.person import PersonScreen
from kiosk.ui.policy import PolicyScreen
from kiosk.ui.returns import ExtendScreen
from kiosk.ui.signout import SignOutScreen
from kiosk.ui.theme import HIGH_CONTRAST, KIOSK
from kiosk.ui.wellbeing import ReviewScreen, VduScreen
from kiosk.ui.widgets import ActionPad, HeadLine, PadKey, TouchButton
from tests.school import make_ready
from tests.ui.kiosk_support import make_app, running, scan, screen_text, settle

pytestmark = pytest.mark.ui


async def click_key(pilot: Any, name: str) -> None:
    pad = pilot.app.screen.query_one("#person-actions", ActionPad)
    offset = pad.key_offset(name)
    assert offset is not None, f"{name} is not shown: {pad.text!r}"
    await pilot.click("#person-actions", offset=offset)
    await settle(pilot)


@pytest.mark.parametrize(
    ("key", "before", "shown", "says"),
    [
        ("deposit", None, ConfirmScreen, "Phone deposited in the Staff-room secure store"),
        ("deposit_drawer", None, ConfirmScreen, "Administrator's locked drawer"),
        ("collect", "phone", ConfirmScreen, "Phone collected from the Staff-room secure store"),
        ("sign_out", "ready", SignOutScreen, ""),
        ("extend", "laptop", ExtendScreen, ""),
        ("policy", None, PolicyScreen, ""),
        ("vdu", None, VduScreen, ""),
        ("review", None, ReviewScreen, ""),
        ("done", None, HomeScreen, ""),
    ],
)
async def test_a_click_on_each_key_does_what_its_function_key_does(
    school: Services, key: str, before: str | None, shown: type[Any], says: str
) -> None:
    if before == "phone":
        school.phones.deposit("ASMITH")
    elif before == "ready":  # (a sign-out asks for the policy first otherwise)
        make_ready(school, "ASMITH")
    elif before == "laptop":
        make_ready(school, "ASMITH")
        school.devices.sign_out("ASMITH", ["LAP-001"], reason="Planning")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        assert isinstance(app.screen, PersonScreen)
        await click_key(pilot, key)
        assert isinstance(app.screen, shown)
        assert says in screen_text(app)


async def test_the_breakfast_key_is_there_for_the_lead_only(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        pad = app.screen.query_one("#person-actions", ActionPad)
        assert "F5 Breakfast club" not in pad.text
        assert pad.key_offset("breakfast") is None
        await scan(pilot, "SRK1:S:BJONES")
        assert isinstance(app.screen, PersonScreen)
        assert "F5 Breakfast club" in pad.text
        await click_key(pilot, "breakfast")
        assert isinstance(app.screen, BreakfastScreen)


async def test_only_the_keys_that_apply_are_drawn_and_a_gap_does_nothing(
    school: Services,
) -> None:
    school.phones.deposit("ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        pad = app.screen.query_one("#person-actions", ActionPad)
        # The phone is in a store: collect, not deposit (F2 means one or the other).
        assert pad.text.splitlines()[0] == "F2 Collect phone"
        assert pad.key_offset("deposit") is None and pad.key_offset("deposit_drawer") is None
        # Between two keys (the grid's gutter) and below the last row: nothing happens.
        first = pad.key_offset(pad.shown[0])
        second = pad.key_offset(pad.shown[1])
        assert first is not None and second is not None and first.y == second.y
        gap = next(x for x in range(first.x, second.x) if pad.key_at(x, first.y) is None)
        await pilot.click("#person-actions", offset=(gap, first.y))
        await pilot.click("#person-actions", offset=(1, pad.size.height + 1))
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen)
        assert school.people.status("ASMITH").phone is not None


async def touch(pilot: Any, down: tuple[int, int], up: tuple[int, int]) -> None:
    """A finger down at ``down`` and lifted at ``up`` (offsets in the pad), as the terminal
    sends them: through the app, which makes a click of them when both are on one widget."""
    from textual import events

    pad = pilot.app.screen.query_one("#person-actions", ActionPad)
    for kind, (x, y) in ((events.MouseDown, down), (events.MouseUp, up)):
        at_x, at_y = pad.content_region.x + x, pad.content_region.y + y
        pilot.app.post_message(kind(None, at_x, at_y, 0, 0, 1, False, False, False, at_x, at_y))
        await pilot.pause()
    await settle(pilot)


async def test_a_finger_that_slides_from_one_key_to_another_presses_neither(
    school: Services,
) -> None:
    """As with Buttons: down on one key and up on another (or down in a gap) is no press; down
    and up on the same key is."""
    school.phones.deposit("ASMITH")
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        pad = app.screen.query_one("#person-actions", ActionPad)
        first = pad.key_offset(pad.shown[0])  # collect
        second = pad.key_offset(pad.shown[1])
        assert first is not None and second is not None and first.y == second.y
        gap = next(x for x in range(first.x, second.x) if pad.key_at(x, first.y) is None)
        for down, up in ((tuple(second), tuple(first)), ((gap, first.y), tuple(first))):
            await touch(pilot, down, up)  # type: ignore[arg-type]
            assert isinstance(app.screen, PersonScreen), (down, up)
            assert school.people.status("ASMITH").phone is not None
        await touch(pilot, tuple(first), tuple(first))  # type: ignore[arg-type]
        assert isinstance(app.screen, ConfirmScreen)
        assert school.people.status("ASMITH").phone is None


async def test_the_persons_screen_is_a_handful_of_widgets(school: Services) -> None:
    """Shown again for every badge, the kept screen is restyled and laid out whole each
    time on stock Textual: its keys are one widget, not a Grid of ten Buttons; the name and
    the code above them one line, not a Horizontal of two Statics."""
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        screen = app.screen
        assert isinstance(screen, PersonScreen)
        widgets = list(screen.walk_children())
        assert len(widgets) <= 7, [type(w).__name__ for w in widgets]
        assert not screen.query(TouchButton)


async def test_a_long_name_wraps_beside_the_code_and_the_time(school: Services) -> None:
    school.people.add_staff("LONGNAME", "Maximilian " * 12 + "Featherstonehaugh")
    app = make_app(school)
    async with running(app, size=(80, 24)) as pilot:
        await scan(pilot, "SRK1:S:LONGNAME")
        head = app.screen.query_one("#person-head", HeadLine)
        lines = [strip.text for strip in head.render_lines(Region(0, 0, head.size.width, 3))]
        code = "LONGNAME · 08:05"
        assert lines[0].endswith(code) and lines[0].startswith("Maximilian")
        assert head.size.height >= 3  # wrapped, in the width the code leaves
        assert all(len(line.rstrip()) <= head.size.width - len(code) for line in lines[1:])
        assert "Featherstonehaugh" in " ".join(lines)
        assert "Maximilian " * 12 + "Featherstonehaugh" in screen_text(app)


# --- the look: the pad's keys are drawn as TouchButtons in a Grid are -------------------------

KEYS = (PadKey("a", "F2", "Deposit phone"), PadKey("b", "F3", "Sign a device out"))


class SideBySide(App[None]):
    """Two TouchButtons in a Grid above an ActionPad with the same keys, styled as on the
    kiosk (its theme and stylesheet)."""

    CSS_PATH = "../../kiosk/ui/kiosk.tcss"
    CSS = """
    Grid, ActionPad { grid-size: 2; grid-gutter: 0 1; height: auto; }
    """

    def __init__(self, theme: str) -> None:
        super().__init__()
        self._theme_name = theme

    def compose(self) -> ComposeResult:
        with Grid(id="grid"):
            for key in KEYS:
                yield TouchButton(key.label, key=key.key, id=f"button-{key.name}")
        yield ActionPad(KEYS, id="pad")

    def on_mount(self) -> None:
        self.register_theme(KIOSK)
        self.register_theme(HIGH_CONTRAST)
        self.theme = self._theme_name
        self.screen.add_class("kiosk-screen")


def cells(strips: list[Strip]) -> list[list[tuple[str, Any, Any, bool, bool]]]:
    """Each cell of some lines as it is seen: its character, colours, bold and reverse (a
    blank's own colour and weight cannot be seen: only its background)."""
    rows = []
    for strip in strips:
        row = []
        for segment in strip:
            style = segment.style
            assert style is not None
            for char in segment.text:
                if char == " " and not style.reverse:
                    row.append((char, None, style.bgcolor, False, False))
                else:
                    row.append(
                        (char, style.color, style.bgcolor, bool(style.bold), bool(style.reverse))
                    )
        rows.append(row)
    return rows


def drawn(app: SideBySide, widget_id: str, region: Region) -> list[list[Any]]:
    widget = app.query_one(f"#{widget_id}")
    return cells(widget.render_lines(region))


@pytest.mark.parametrize("theme", [KIOSK.name, HIGH_CONTRAST.name])
async def test_a_pad_key_looks_like_a_touch_button_at_rest_hovered_and_pressed(
    theme: str,
) -> None:
    app = SideBySide(theme)
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        pad = app.query_one(ActionPad)
        for key in KEYS:
            button = app.query_one(f"#button-{key.name}", TouchButton)
            assert pad.key_offset(key.name) is not None
            width = button.size.width
            left = button.region.x - app.query_one(Grid).region.x
            face = Region(0, 0, width, 3)

            def pad_key(left: int = left, width: int = width) -> list[list[Any]]:
                return [
                    row[left : left + width]
                    for row in drawn(app, "pad", Region(0, 0, pad.size.width, 3))
                ]

            assert pad_key() == drawn(app, button.id or "", face), f"{key.name} at rest"
            # The mouse over it
            offset = pad.key_offset(key.name)
            assert offset is not None
            await pilot.hover("#pad", offset=offset)
            await pilot.hover(f"#{button.id}", offset=(1, 1))
            await pilot.pause()
            assert pad.hover is None  # the mouse is over the button now
            hovered_button = drawn(app, button.id or "", face)
            await pilot.hover("#pad", offset=offset)
            await pilot.pause()
            assert pad.hover == key.name
            assert pad_key() == hovered_button, f"{key.name} under the mouse"
            if theme == KIOSK.name:  # (lit; the high-contrast theme's black stays black)
                assert hovered_button != drawn(app, button.id or "", face)
            # Pressed: both show it pushed in for a moment.
            button.press()
            pad.press(key.name)
            await pilot.pause()
            assert button.has_class("-active") and pad.pressed == key.name
            assert pad_key() == drawn(app, button.id or "", face), f"{key.name} pressed"
            await pilot.pause(0.3)
            assert pad.pressed is None

"""Display-screen (VDU) training declared, and a workstation review asked for."""

from __future__ import annotations

from functools import partial
from time import monotonic
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from kiosk.domain.errors import KioskError
from kiosk.ui import base
from kiosk.ui.base import StaffScreen
from kiosk.ui.formats import local, parse_day
from kiosk.ui.widgets import Notice, TouchButton, assemble

if TYPE_CHECKING:
    from kiosk.services.views import EventReceipt, StaffInfo

VDU_TEXT = (
    "The policy asks every member of staff to complete training in the correct use of "
    "display screens (VDU): positioning laptops and screens, and posture."
)
REVIEW_TEXT = (
    "If you need a piece of equipment altered or adapted to support your physical health, "
    "the Head Teacher can start a workplace review with the occupational health service."
)


class _FormScreen(StaffScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back", show=False)]

    def __init__(self, staff: StaffInfo, *, chained: bool = False) -> None:
        super().__init__(classes="form-screen")
        self.staff = staff
        self.chained = chained

    def action_back(self) -> None:
        if self.kiosk.busy:
            return
        if self.chained:
            self.dismiss(None)
        else:
            self.app.pop_screen()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            self.tapped()
            self.action_submit()
        elif event.button.id == "back":
            self.action_back()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        raise NotImplementedError

    def _done(self, receipt: EventReceipt) -> None:
        if self.chained:
            self.dismiss(receipt)
        else:
            self.confirm_receipt(receipt)

    def _buttons(self, label: str) -> ComposeResult:
        with Horizontal(classes="form-buttons"):
            yield TouchButton(label, key="Enter", id="submit", variant="primary")
            yield TouchButton("Back", key="Esc", id="back")


class VduScreen(_FormScreen):
    def compose(self) -> ComposeResult:
        with Vertical(classes="form-box"):
            yield Static(
                assemble(("Display-screen (VDU) training: ", "bold"), (self.staff.name, "bold")),
                classes="form-title",
            )
            yield Static(VDU_TEXT, markup=False, classes="form-text")
            if self.chained:
                yield Static(
                    "This is needed before a laptop or work phone goes off site; "
                    "you go back to the sign-out afterwards.",
                    markup=False,
                    classes="form-text",
                )
            yield Static(
                "I have completed the training on (day/month/year):",
                markup=False,
                classes="field-label",
            )
            yield Input(placeholder="e.g. 10/03/2026", id="vdu-date", max_length=30)
            yield Notice(id="notice")
            yield from self._buttons("Record my training")

    def on_mount(self) -> None:
        self.query_one("#vdu-date", Input).focus()

    def action_submit(self) -> None:
        if self.kiosk.busy:
            return
        today = local(self.kiosk.clock(), self.kiosk.settings.zone).date()
        typed = self.query_one("#vdu-date", Input).value
        try:
            day = parse_day(typed, today=today)
        except KioskError as exc:
            self.code_typed_instead(
                typed, owner_id=self.staff.id, refused=partial(self.show_error, exc)
            )
            return
        code = self.staff.code
        self.call(lambda s: s.policies.declare_vdu_training(code, day), self._done)


class ReviewScreen(_FormScreen):
    # An Enter this soon after what will be sent was shown is the second press of a double
    # Enter, not a decision to send it: nobody reads the sentence in less.
    READ_SECONDS = base.READ_SECONDS

    def compose(self) -> ComposeResult:
        with Vertical(classes="form-box"):
            yield Static(
                assemble(("Workstation review: ", "bold"), (self.staff.name, "bold")),
                classes="form-title",
            )
            yield Static(REVIEW_TEXT, markup=False, classes="form-text")
            yield Static(
                "What do you need? (for example: a laptop stand, a different chair)",
                markup=False,
                classes="field-label",
            )
            yield Input(id="needs", max_length=1000)
            yield Notice(id="notice")
            yield from self._buttons("Ask for a review")

    def on_mount(self) -> None:
        self._shown_needs: str | None = None
        self._shown_at = 0.0
        self.query_one("#needs", Input).focus()

    @on(Input.Changed, "#needs")
    def _needs_changed(self) -> None:
        if self._shown_needs is not None:
            self._shown_needs = None
            self.clear_notice()

    def repeat_matters(self, key: str) -> bool:
        # Enter again, once what will be sent is shown, sends it (shown or not when the key
        # comes: it may wait behind a call while it is shown).
        return key in ("enter", "ctrl+m", "ctrl+j")

    def action_submit(self) -> None:
        """The first Enter shows what will be asked; the second sends it (free text: a code
        typed here by mistake and Enter records nothing)."""
        if self.kiosk.busy:
            return
        code, needs = self.staff.code, self.query_one("#needs", Input).value
        if not needs.strip():
            self.show_error("Please say briefly what you need.", title="Not sent")
            return
        if not self.free_text_may_go_on(
            needs,
            instead_of="what you need: say it in words",
            title="Not sent",
            owner_id=self.staff.id,
            again=self.action_submit,
        ):
            return
        if self._shown_needs != needs:
            self._shown_needs = needs
            self._shown_at = monotonic()
            self.show_info(
                f"This records a request for a workstation review: “{needs.strip()}”; "
                "the office sees it in the admin console. Press Enter again to send it "
                "(Esc: back)."
            )
            return
        if self.pressed_at() - self._shown_at < self.READ_SECONDS:
            # What will be sent has only just been shown: it stays, to be read. Timed by the
            # press (an Enter pressed again waits 0.15 s to be told from one held down).
            return
        self.call(lambda s: s.policies.request_workstation_review(code, needs), self._done)

"""Signing laptops and work phones out: a short form, after what the policy asks first."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, RadioButton, RadioSet, Static

from kiosk.domain.errors import InvalidInput, KioskError, MissingAcknowledgement
from kiosk.domain.events import SIGN_OUT_REASONS
from kiosk.ui.base import StaffScreen
from kiosk.ui.formats import clock_time, day_and_time, parse_when
from kiosk.ui.widgets import TODO_MARK, Choice, Notice, Tick, TouchButton, assemble

if TYPE_CHECKING:
    from kiosk.services.people import ScanResult
    from kiosk.services.views import EventReceipt, SignOutCheck, SignOutReceipt

OTHER = SIGN_OUT_REASONS[-1]


class SignOutScreen(StaffScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "done", "Cancel", show=False),
        Binding("enter", "enter", "Sign out", show=False),
        Binding("f10", "submit", "Sign out", show=False),
        *(
            Binding(str(n), f"reason({n - 1})", f"Reason {n}", show=False)
            for n in range(1, len(SIGN_OUT_REASONS) + 1)
        ),
    ]

    def __init__(self, check: SignOutCheck) -> None:
        super().__init__(classes="signout-screen")
        self.check = check
        self.tags = [d.tag for d in check.devices]

    def compose(self) -> ComposeResult:
        staff = self.check.staff
        with VerticalScroll(id="signout", can_focus=False):
            yield Static(
                assemble(("Sign out off site: ", "bold"), (staff.name, "bold")), id="form-title"
            )
            yield Static("", id="prereq", markup=False)
            with Vertical(id="form"):
                yield Static("", id="devices")
                yield Input(
                    placeholder="Scan the label, or type the asset tag and press Enter",
                    id="tag",
                    max_length=40,
                )
                yield Static("Why is it going off site? (1-5)", classes="field-label", markup=False)
                yield RadioSet(
                    *(
                        Choice(f"{n}  {reason}")
                        for n, reason in enumerate(SIGN_OUT_REASONS, start=1)
                    ),
                    id="reason",
                )
                yield Input(placeholder="Say briefly why", id="other-reason", max_length=200)
                yield Static("Expected back (day and time)", classes="field-label", markup=False)
                yield Input(id="due", max_length=40)
                yield Static("", id="manager-label", classes="field-label", markup=False)
                yield Input(placeholder="Name of the line manager", id="manager", max_length=120)
                yield Tick("The work phone is charged and ready to use", id="charged")
        with Vertical(id="form-foot"):
            yield Notice(id="notice")
            with Horizontal(id="form-buttons"):
                yield TouchButton("Sign out", key="Enter", id="submit", variant="primary")
                yield TouchButton("Cancel", key="Esc", id="cancel")

    def on_mount(self) -> None:
        zone = self.kiosk.settings.zone
        self.query_one("#due", Input).value = day_and_time(self.check.default_expected_return, zone)
        self.query_one("#other-reason", Input).display = False
        self._show_check()
        if self._prerequisites():
            self.call_after_refresh(self.start_next_step)

    # --- the check: devices, prerequisites and which fields show ----------------------------

    def _prerequisites(self) -> list[str]:
        steps = [f"policy:{p.id}" for p in self.check.missing_policies]
        if self.check.vdu_missing:
            steps.append("vdu")
        return steps

    def _show_check(self) -> None:
        check = self.check
        devices = self.query_one("#devices", Static)
        if check.devices:
            listed = "\n".join(
                f"  {d.kind_label} {d.tag}" + (f" ({d.description})" if d.description else "")
                for d in check.devices
            )
            devices.update(
                assemble(
                    ("Taking: ", "bold"),
                    "\n",
                    listed,
                    "\n",
                    ("Scan another label to add it to this sign-out.", "italic"),
                )
            )
        else:
            devices.update(
                assemble(
                    ("Scan the label of the laptop or work phone", "bold"), " (or type its tag)."
                )
            )
        tag = self.query_one("#tag", Input)
        tag.display = not check.devices
        manager_needed = check.needs_line_manager
        self.query_one("#manager-label").display = manager_needed
        self.query_one("#manager", Input).display = manager_needed
        if manager_needed:
            self.query_one("#manager-label", Static).update(
                f"This would be your laptop sign-out number {check.recent_laptop_sign_outs + 1} "
                "in 28 days. Laptops are not taken home regularly: which line manager agreed?"
            )
        self.query_one("#charged", Checkbox).display = check.needs_charged
        steps = self._prerequisites()
        prereq = self.query_one("#prereq", Static)
        form = self.query_one("#form")
        prereq.display = bool(steps)
        form.display = not steps
        self.query_one("#submit").display = not steps
        if steps:
            needs = []
            for policy in check.missing_policies:
                needs.append(f"  {TODO_MARK} Read and agree: {policy.title} ({policy.version})")
            if check.vdu_missing:
                needs.append(f"  {TODO_MARK} Record your display-screen (VDU) training")
            prereq.update(
                assemble(
                    ("Before a device goes off site, the policy asks you to:", "bold"),
                    "\n" + "\n".join(needs) + "\n",
                    ("Press Enter to do it now", "bold reverse"),
                    " (you come back here afterwards), or Esc to cancel.",
                )
            )
            self.set_focus(None)
        elif not check.devices:
            tag.focus()
        elif self.focused is None or not self.focused.display or self.focused is tag:
            self.query_one("#reason", RadioSet).focus()

    def _recheck(self, tags: list[str], *, adding: str | None = None) -> None:
        code = self.check.staff.code

        def done(check: SignOutCheck) -> None:
            self.check = check
            self.tags = [d.tag for d in check.devices]
            self.query_one("#tag", Input).value = ""
            self._show_check()
            if adding:
                self.show_info(f"Added {adding}.")

        self.call(lambda s: s.devices.check_sign_out(code, tags), done)

    # --- prerequisites ----------------------------------------------------------------------

    def start_next_step(self) -> None:
        from kiosk.ui.policy import PolicyScreen
        from kiosk.ui.wellbeing import VduScreen

        steps = self._prerequisites()
        if not steps or not self.is_current:
            return
        step = steps[0]
        if step.startswith("policy:"):
            policy_id = int(step.removeprefix("policy:"))
            self.app.push_screen(
                PolicyScreen(self.check.staff, policy_id, chained=True), self._after_step
            )
        else:
            self.app.push_screen(VduScreen(self.check.staff, chained=True), self._after_step)

    def _after_step(self, completed: EventReceipt | bool | None) -> None:
        code, tags = self.check.staff.code, list(self.tags)
        if completed and not isinstance(completed, bool):
            at = clock_time(completed.occurred_at, self.kiosk.settings.zone)
            self.query_one("#notice", Notice).show("ok", f"{completed.summary} ({at}).")

        def done(check: SignOutCheck) -> None:
            self.check = check
            self._show_check()
            if completed and self._prerequisites():
                self.start_next_step()

        self.call(lambda s: s.devices.check_sign_out(code, tags), done)

    # --- keys ---------------------------------------------------------------------------------

    def action_enter(self) -> None:
        if self._prerequisites():
            self.start_next_step()
        else:
            self.action_submit()

    def action_reason(self, index: int) -> None:
        if self._prerequisites():
            return
        buttons = list(self.query(RadioButton))
        if 0 <= index < len(buttons):
            buttons[index].value = True
            self._after_reason(index)

    @on(RadioSet.Changed, "#reason")
    def _reason_changed(self, event: RadioSet.Changed) -> None:
        self._after_reason(event.index)

    def _after_reason(self, index: int) -> None:
        other = self.query_one("#other-reason", Input)
        is_other = SIGN_OUT_REASONS[index] == OTHER
        other.display = is_other
        (other if is_other else self.query_one("#due", Input)).focus()

    @on(Input.Submitted)
    def _field_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "tag":
            text = event.value.strip()
            if text:
                self.handle_scan(text)
            return
        self.action_submit()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            self.action_enter()
        elif event.button.id == "cancel":
            self.action_done()

    # --- a second label -------------------------------------------------------------------

    def handle_scan(self, text: str) -> None:
        self.clear_notice()
        self.call(lambda s: s.people.resolve_scan(text), self._scanned)

    def _scanned(self, result: ScanResult) -> None:
        if result.staff is not None:
            if result.staff.staff.id != self.check.staff.id:
                self.show_error(
                    "Finish or cancel this sign-out first (Esc), then scan the next badge.",
                    title="Not now",
                )
            return
        if result.device is None:
            return
        device = result.device
        if device.device.tag in self.tags:
            self.show_info(f"{device.device.tag} is already on this sign-out.")
            return
        if device.offsite is not None:
            self.show_error(
                f"{device.device.tag} is already signed out to {device.offsite.staff.name}. "
                "It must be returned first.",
                title="Not added",
            )
            return
        self._recheck(
            [*self.tags, device.device.tag],
            adding=f"{device.device.kind_label} {device.device.tag}",
        )

    # --- submitting -----------------------------------------------------------------------

    def _reason(self) -> str:
        index: int = self.query_one("#reason", RadioSet).pressed_index
        if index < 0:
            raise InvalidInput("Choose why it is going off site (press 1 to 5).")
        reason = SIGN_OUT_REASONS[index]
        if reason == OTHER:
            typed = str(self.query_one("#other-reason", Input).value).strip()
            if not typed:
                raise InvalidInput("Please say briefly why it is going off site.")
            return typed
        return reason

    def action_submit(self) -> None:
        if self.kiosk.busy or self._prerequisites():
            return
        check = self.check
        try:
            if not check.devices:
                raise InvalidInput("Scan the label of the laptop or work phone first.")
            reason = self._reason()
            due = parse_when(
                self.query_one("#due", Input).value,
                now=self.kiosk.clock(),
                zone=self.kiosk.settings.zone,
            )
            manager = self.query_one("#manager", Input).value.strip()
            if check.needs_line_manager and not manager:
                raise InvalidInput("Name the line manager who agreed to it.")
            charged = self.query_one("#charged", Checkbox).value
            if check.needs_charged and not charged:
                raise InvalidInput(
                    "Work phones leave site charged and ready: charge it, then tick the box."
                )
        except KioskError as exc:
            self.show_error(exc)
            return
        code, tags = check.staff.code, list(self.tags)
        self.call(
            lambda s: s.devices.sign_out(
                code,
                tags,
                reason=reason,
                expected_return=due,
                line_manager=manager or None,
                charged=charged,
            ),
            self._signed_out,
            self._failed,
        )

    def _signed_out(self, receipt: SignOutReceipt) -> None:
        zone = self.kiosk.settings.zone
        items = ", ".join(f"{d.kind_label} {d.tag}" for d in self.check.devices)
        self.kiosk.confirm(
            f"Signed out off site: {items}",
            [self.check.staff.name, f"Due back {day_and_time(receipt.expected_return, zone)}."],
            receipt.receipts[0].occurred_at if receipt.receipts else None,
        )

    def _failed(self, error: KioskError) -> None:
        self.show_error(error)
        if isinstance(error, MissingAcknowledgement):
            self._after_step(False)

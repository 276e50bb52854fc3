"""Signing laptops and work phones out: a short form, after what the policy asks first.

Each field changes only by its own keys: the reason by the arrows on the reason list, or by a
reason's digit typed as a whole code (the code field holding exactly ``1``..``4`` when Enter
comes: the summary line shows that reason meanwhile, and Enter signs out with it; a digit
followed by more characters is the start of a label or tag), the expected return by what is
typed in it, the line manager by choosing
from the staff list, "charged and ready" by Space or a tap. Anything else typed (a label, a
tag) goes into the form's code field and is read as a code when Enter comes. Enter anywhere
else signs out what the summary line above the buttons says will be recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from time import monotonic
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, RadioButton, RadioSet, Select, Static

from kiosk.domain.errors import InvalidInput, KioskError, MissingAcknowledgement
from kiosk.domain.events import SIGN_OUT_REASONS
from kiosk.domain.rules import check_expected_return
from kiosk.domain.text import display_text, names_told_apart
from kiosk.domain.when import not_a_school_day
from kiosk.ui.base import READ_SECONDS, KioskScreenMixin, StaffScreen
from kiosk.ui.formats import clock_time, day_and_time, parse_when, when_in_words
from kiosk.ui.keys import HeldKeys
from kiosk.ui.widgets import (
    TODO_MARK,
    WARN_MARK,
    Choice,
    CodeField,
    Notice,
    SearchSelect,
    Tick,
    TouchButton,
    assemble,
    plain,
)

if TYPE_CHECKING:
    from kiosk.services.people import ScanResult
    from kiosk.services.views import (
        EventReceipt,
        SignOutCheck,
        SignOutReceipt,
        StaffInfo,
        StaffStatus,
    )

OTHER = SIGN_OUT_REASONS[-1]
# Digit keys choose the listed reasons; "Other" (which asks for words) only by the arrows or a
# tap, so that no digit followed by typed text can record a reason nobody chose.
REASON_KEYS = len(SIGN_OUT_REASONS) - 1
# The form back from a step (the policy, the VDU date) takes no Enter this soon: longer than
# a held key's delay before it repeats (0.25 s to 1 s; X's default 0.66 s), so the repeats of
# the Enter that ended the step sign nothing out with the form unseen (nor do repeats coming
# on, each within READ_SECONDS of the one before).
BACK_READ_SECONDS = 2 * READ_SECONDS


class ReasonSet(RadioSet, inherit_bindings=False):
    """The reason list: the arrows choose the next or previous reason (there is no
    "highlighted but not chosen"); a digit typed goes to the code field (a reason's digit
    alone there, then Enter, is that reason); Enter belongs to the form (it signs out)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,right", "step(1)", "Next reason", show=False),
        Binding("up,left", "step(-1)", "Previous reason", show=False),
    ]

    def choose(self, index: int) -> None:
        buttons = list(self.query(RadioButton))
        if 0 <= index < len(buttons):
            buttons[index].value = True
            self._selected = index

    @property
    def chosen_index(self) -> int:
        """The chosen reason's index (-1: none), as soon as it is chosen (``pressed_index``
        follows a message later)."""
        return next((n for n, b in enumerate(self.query(RadioButton)) if b.value), -1)

    def action_step(self, step: int) -> None:
        count = len(self.query(RadioButton))
        current = self.pressed_index
        self.choose((current + step) % count if current >= 0 else (0 if step > 0 else count - 1))


class ManagerSelect(SearchSelect[str], inherit_bindings=False):
    """The line manager, chosen from the staff list (↓ or Space opens it; type to search);
    Enter belongs to the form."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,space,up", "show_overlay", "Show menu", show=False),
    ]
    OWN_KEYS: ClassVar[frozenset[str]] = frozenset({"space"})

    def action_show_overlay(self) -> None:
        """Opened with nothing chosen yet: the first name (the person's own line manager) is
        highlighted, not the empty prompt; Enter then chooses it."""
        super().action_show_overlay()
        overlay: Any = self.query_one("SelectOverlay")
        if self.is_blank() and overlay.option_count > 1:
            overlay.highlighted = 1


@dataclass(frozen=True)
class Draft:
    """What Enter would record, as the summary line shows it."""

    reason: str
    due: datetime
    manager: str | None
    charged: bool


class SignOutScreen(StaffScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "done", "Cancel", show=False),
        Binding("enter", "enter", "Sign out", show=False),
        # (No function key signs out: F10 is "Admin" on the home screen, and pressed here it
        # signed out what the summary line said, though no key on the form names it.)
    ]

    UNFINISHED_WORDS = "nothing signed out"

    def recorded_here(self) -> list[str]:
        policies = sum(step.startswith("policy:") for step, _ in self._steps_done)
        kept = (
            []
            if not policies
            else ["the policy agreed"]
            if policies == 1
            else [f"the {policies} policies agreed"]
        )
        trained = any(step == "vdu" for step, _ in self._steps_done)
        return kept + (["the VDU training"] if trained else [])

    def __init__(self, check: SignOutCheck) -> None:
        super().__init__(classes="signout-screen")
        self.check = check
        self.tags = [d.tag for d in check.devices]
        self._staff: tuple[StaffInfo, ...] | None = None
        # Each on the staff list (the person signing out too) by code, as the list and the
        # summary name them (``names_told_apart``): at once, not a scan of the list per
        # option (a quarter of a second on the UI thread at 3,000 staff).
        self._shown_as: dict[str, str] = {}
        # A step (a policy, the VDU question) has been shown over the form: the step the form
        # opens as it comes is not opened again once one has been (see on_mount).
        self._step_shown = False
        # When the form came back whole after its steps (time.monotonic(), a key's own clock):
        # an Enter pressed before it, or this soon after, was not meant for "Sign out".
        self._back_at: float | None = None
        self._enter_dropped_at = float("-inf")  # the last Enter take_key dropped
        # The steps recorded on the way (a policy agreed, VDU training) and their receipts'
        # words: said on the form, on the confirmation, and when the form is closed
        # unfinished (they are kept).
        self._steps_done: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        staff = self.check.staff
        with VerticalScroll(id="signout", can_focus=False):
            yield Static(
                assemble(("Sign out off site: ", "bold"), (staff.name, "bold")), id="form-title"
            )
            yield Static("", id="prereq")
            with Vertical(id="form"):
                yield Static("", id="devices")
                yield CodeField(
                    placeholder="Scan the label, or type the asset tag and press Enter",
                    id="tag",
                    max_length=80,
                )
                yield Static(
                    "Why is it going off site? (type 1-4, then Enter; ↑↓ on the list, ↑ for Other)",
                    classes="field-label",
                    markup=False,
                )
                yield ReasonSet(
                    *(
                        Choice(plain(f"{n}  {reason}" if n <= REASON_KEYS else f"   {reason}"))
                        for n, reason in enumerate(SIGN_OUT_REASONS, start=1)
                    ),
                    id="reason",
                )
                yield Input(placeholder="Say briefly why", id="other-reason", max_length=200)
                yield Static(
                    "Expected back (Tab to change it: Fri 15:30, 12/12 9:00, tomorrow)",
                    classes="field-label",
                    markup=False,
                )
                yield Input(id="due", max_length=40)
                yield Static("", id="manager-label", classes="field-label")
                yield ManagerSelect(
                    [], prompt="Choose the line manager who agreed (↓)", id="manager"
                )
                yield Tick("Charged and ready to use (Tab to here, then Space)", id="charged")
        with Vertical(id="form-foot"):
            yield Static("", id="summary")
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
            self.call_after_refresh(self._first_step)

    # While keys typed ahead with the label wait to be read on the form, its first step
    # waits for them, looking again this often.
    FIRST_STEP_WAITS_SECONDS = 0.02

    def _first_step(self) -> None:
        # Textual runs this once the form has been drawn, which can be much later: an Enter
        # typed ahead opened the policy before the form was first drawn, and this came when
        # she had agreed (or gone Back), on the form as it was before: the policy again.
        if self._step_shown:
            return
        if self.kiosk.keys_held:
            # Keys typed with the label ("LAP-001⏎2⏎": her reason's digit, Enter) are the
            # form's: read here first (their Enter opens the step). On a busy kiosk the form
            # was drawn before it was ready for keys, the policy came over it, and her digit
            # went to the policy: signed out with no reason, "Choose why".
            self.set_timer(self.FIRST_STEP_WAITS_SECONDS, self._first_step)
            return
        self.start_next_step()

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
                    ("Scan another label (or type its tag below) to add it.", "italic"),
                )
            )
        else:
            devices.update(
                assemble(
                    ("Scan the label of the laptop or work phone", "bold"), " (or type its tag)."
                )
            )
        tag = self.query_one("#tag", CodeField)
        tag.placeholder = (
            "Scan or type another label to add it (Enter here: sign out)"
            if check.devices
            else "Scan the label, or type the asset tag and press Enter"
        )
        manager_needed = check.needs_line_manager
        self.query_one("#manager-label").display = manager_needed
        self.query_one("#manager", Select).display = manager_needed
        if manager_needed:
            self.query_one("#manager-label", Static).update(
                plain(
                    f"This would be your laptop sign-out number "
                    f"{check.recent_laptop_sign_outs + 1} in 28 days. Laptops are not taken "
                    "home regularly: which line manager agreed?"
                )
            )
            if self._staff is None:
                self._staff = ()
                self.call_after_refresh(self._load_staff)
        self.query_one("#charged", Checkbox).display = check.needs_charged
        steps = self._prerequisites()
        prereq = self.query_one("#prereq", Static)
        form = self.query_one("#form")
        prereq.display = bool(steps)
        form.display = not steps
        self.query_one("#submit").display = not steps
        self.query_one("#summary").display = not steps
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
        elif (
            self.focused is None
            or not self.focused.display
            or (self.focused is tag and self.query_one("#reason", RadioSet).pressed_index < 0)
        ):
            self.query_one("#reason", RadioSet).focus()
        self._show_summary()

    def _load_staff(self) -> None:
        own = self.check.staff

        def loaded(staff: tuple[StaffInfo, ...]) -> None:
            self._staff = staff
            # The person signing out counted too: Carol Head choosing the other Carol Head
            # read "agreed by Carol Head", herself.
            self._shown_as = names_told_apart((s.code, s.name) for s in staff)

            # The person's own line manager (from the roster) first; nobody is chosen for them.
            # The roster keeps the manager's staff code (older rows: their name).
            def is_own_manager(s: StaffInfo) -> bool:
                wanted = (own.line_manager or "").strip().casefold()
                return bool(wanted) and wanted in (s.code.casefold(), s.name.casefold())

            others = sorted((s for s in staff if s.id != own.id), key=lambda s: s.name)
            others.sort(key=lambda s: not is_own_manager(s))
            # Rich Text (literal, never markup): what the list's type-to-search reads.
            options = [
                (
                    Text(
                        display_text(self._manager_name(s.code))
                        + (" (your line manager)" if is_own_manager(s) else "")
                    ),
                    s.code,  # recorded: the person, even when two share the name
                )
                for s in others
            ]
            self.query_one("#manager", Select).set_options(options)

        if not self.call(lambda s: s.people.list_staff(), loaded):
            self._staff = None  # another call is running: tried again at the next check

    def _recheck(self, tags: list[str], *, adding: str | None = None) -> None:
        code = self.check.staff.code

        def done(check: SignOutCheck) -> None:
            self.check = check
            self.tags = [d.tag for d in check.devices]
            self._show_check()
            if adding:
                self.show_info(f"Added {adding}.")

        self.call(lambda s: s.devices.check_sign_out(code, tags), done)

    # --- prerequisites ----------------------------------------------------------------------

    def start_next_step(self) -> None:
        from kiosk.ui.policy import PolicyScreen
        from kiosk.ui.wellbeing import VduScreen

        steps = self._prerequisites()
        # On top only: a step already shown over the form (the one the form opened as it
        # came, with an Enter typed ahead read on the form meanwhile) is not shown twice.
        # (Textual's ``is_current`` counts the form as current under a step just pushed.)
        if not steps or not self.app.screen_stack or self.app.screen is not self:
            return
        step = steps[0]
        self._step_shown = True
        after = partial(self._after_step, step)
        if step.startswith("policy:"):
            policy_id = int(step.removeprefix("policy:"))
            self.app.push_screen(PolicyScreen(self.check.staff, policy_id, chained=True), after)
        else:
            self.app.push_screen(VduScreen(self.check.staff, chained=True), after)

    def _after_step(self, step: str, completed: EventReceipt | bool | None) -> None:
        if completed:
            # Recorded (a receipt; True for the VDU question): the step is done now, on this
            # form too, before the check asked for below answers. Nothing on the form as it
            # was (an Enter, the step it opens as it comes) shows it a second time.
            check = self.check
            said = completed.summary if not isinstance(completed, bool) else "VDU training recorded"
            self._steps_done.append((step, said))
            if step.startswith("policy:"):
                done_id = int(step.removeprefix("policy:"))
                missing = tuple(p for p in check.missing_policies if p.id != done_id)
                self.check = replace(check, missing_policies=missing)
            else:
                self.check = replace(check, vdu_missing=False)
        self._check_steps(completed)

    def _check_steps(self, completed: EventReceipt | bool | None) -> None:
        """Ask again what must be done before the sign-out (after a step, or a refusal that
        says a policy is still to be agreed); the next step opens after one ``completed``."""
        code, tags = self.check.staff.code, list(self.tags)
        if completed and not isinstance(completed, bool):
            # Every step recorded on this form so far, not the last alone: the next step
            # opens over the form at once, and each one's line replaced the one before, so
            # an agreement to a policy was never seen to be recorded.
            at = clock_time(completed.occurred_at, self.kiosk.settings.zone)
            steps = "; ".join(said for _, said in self._steps_done) or completed.summary
            # The time first: a step's summary may end with a date in brackets already.
            self.query_one("#notice", Notice).show("ok", f"At {at}: {steps}.")

        def done(check: SignOutCheck) -> None:
            self.check = check
            self._show_check()
            if completed and self._prerequisites():
                self.start_next_step()
            elif completed:
                self._back_at = monotonic()  # the whole form, shown for the first time

        self.call(lambda s: s.devices.check_sign_out(code, tags), done)

    # --- keys ---------------------------------------------------------------------------------

    def take_key(self, event: events.Key) -> bool:
        """Enter with nothing typed, pressed before the form came back from its last step
        (the policy, the VDU question) or within BACK_READ_SECONDS of it, or repeating from
        a key held down: the second press of a double Enter on that step (its date, "I
        agree"), or the same Enter held. It signed the devices out with what the form had
        been given before the steps, the form never seen. Said instead; Enter again, once
        let go of and the form seen, signs out."""
        back = self._back_at
        field = self.code_field
        typed = field is not None and bool(field.value.strip())
        if back is None or event.key not in ("enter", "ctrl+m") or typed:
            return super().take_key(event)
        # Held down on the step, Enter repeats after the key's delay (X's default 0.66 s),
        # then many times a second: none of it is a press made with the form in view.
        # (A repeat comes within HeldKeys.FUNCTION_GAP of the one before on every keyboard,
        # the Linux console's slowest, 2 a second, with its jitter included.)
        until = max(back + BACK_READ_SECONDS, self._enter_dropped_at + HeldKeys.FUNCTION_GAP)
        if event.time < until:
            self._enter_dropped_at = event.time
            self.show_info(
                "Enter came as this form came back: nothing is signed out yet. Check it, "
                "then press Enter to sign out (Esc: cancel)."
            )
            return True
        return super().take_key(event)

    def action_enter(self) -> None:
        if not self.enter_allowed():
            return
        if self._prerequisites():
            self.start_next_step()
        else:
            self.action_submit()

    def enter_pressed(self) -> None:
        self.action_enter()  # (read_code checked enter_allowed already)

    @on(RadioSet.Changed, "#reason")
    def _reason_changed(self, event: RadioSet.Changed) -> None:
        digit = self.typed_reason()
        if digit is not None and digit != event.index:
            # A reason's digit typed, then another reason chosen on the list (↑ for Other):
            # the list's is the later choice. The digit left in the code field overrode it,
            # and Enter in Other's words read it first: signed out for the digit's reason.
            self.query_one("#tag", CodeField).value = ""
        other = self.query_one("#other-reason", Input)
        is_other = SIGN_OUT_REASONS[event.index] == OTHER
        other.display = is_other
        if is_other:
            other.focus()
        self._show_summary()

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _field_changed(self, event: Any) -> None:
        # A field of the form changed: a refusal about it as it was is over. (Not the code
        # field: it is emptied when a code is read, and the answer about that code must stay.)
        notice = self.notice
        is_code = isinstance(getattr(event, "input", None), CodeField)
        if not is_code and notice is not None and notice.kind == "error":
            notice.clear()
        self._show_summary()

    @on(Input.Submitted)
    def _field_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_enter()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            # A reason's digit typed is part of the form; any other code typed (the next
            # label) is read with Enter first, not left behind.
            if self.typed_reason() is not None or not self.code_typed_first(anyone=True):
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
                # Another member of staff: this person walked away (nothing recorded).
                self.hand_over(result)
            else:
                self.show_info("That is your badge: this sign-out is yours.")
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

    # --- what would be recorded -------------------------------------------------------------

    def typed_reason(self) -> int | None:
        """The reason whose digit is the whole of the code field now (its index), if any:
        what Enter would choose, shown in the summary line before it records."""
        typed = self.query_one("#tag", CodeField).value.strip()
        if len(typed) == 1 and typed.isdigit() and 1 <= int(typed) <= REASON_KEYS:
            return int(typed) - 1
        return None

    def read_code(self, text: str) -> None:
        """Enter in the code field: a reason's digit alone chooses that reason and signs out
        (badge, label, reason, Enter); anything else is read as a code (a label adds it)."""
        if len(text) == 1 and text.isdigit() and 1 <= int(text) <= REASON_KEYS:
            self.query_one("#reason", ReasonSet).choose(int(text) - 1)
            self.action_enter()
            return
        super().read_code(text)

    def _reason(self) -> str:
        digit = self.typed_reason()
        index: int = (
            digit if digit is not None else self.query_one("#reason", ReasonSet).chosen_index
        )
        if index < 0:
            raise InvalidInput("Choose why it is going off site (type 1 to 4, or ↑ for Other).")
        reason = SIGN_OUT_REASONS[index]
        if reason == OTHER:
            typed = str(self.query_one("#other-reason", Input).value).strip()
            if not typed:
                raise InvalidInput("Please say briefly why it is going off site.")
            return typed
        return reason

    def _due_unreadable(self) -> bool:
        try:
            self._due()
        except KioskError:
            return True
        return False

    def _due(self) -> datetime:
        now = self.kiosk.clock()
        due = parse_when(
            self.query_one("#due", Input).value,
            now=now,
            zone=self.kiosk.settings.zone,
            calendar=self.check.calendar,
        )
        check_expected_return(due, now)  # Enter's rule: the summary promises only what it takes
        return due

    def _manager(self) -> str | None:
        if not self.check.needs_line_manager:
            return None
        value = self.query_one("#manager", Select).value
        if not isinstance(value, str) or not value:
            raise InvalidInput("Name the line manager who agreed to it: choose them from the list.")
        return value

    def _manager_name(self, code: str) -> str:
        """The line manager (kept as their code) as the list and the summary name them: by
        name, and with the code when another on the staff list (the person signing out
        too) has a name that reads the same ("Carol Head" twice, or "carol  HEAD"): two
        identical lines, one chosen blind, named the wrong person as the one who agreed."""
        return self._shown_as.get(code, code)

    def _draft(self) -> Draft:
        """What Enter would record, or InvalidInput saying what is missing."""
        check = self.check
        if not check.devices:
            raise InvalidInput("Scan the label of the laptop or work phone first.")
        reason = self._reason()
        due = self._due()
        manager = self._manager()
        charged = self.query_one("#charged", Checkbox).value
        if check.needs_charged and not charged:
            raise InvalidInput(
                "Work phones leave site charged and ready: charge it, then tick the box (Tab "
                "to the box, then Space)."
            )
        return Draft(reason, due, manager, charged)

    def _show_summary(self) -> None:
        """The summary line: what Enter records, in words, or what is still missing."""
        if not self.is_mounted or self._prerequisites():
            return
        summary = self.query_one("#summary", Static)
        try:
            draft = self._draft()
        except KioskError as exc:
            summary.update(assemble((f"{TODO_MARK} Still to do: ", "bold"), exc.message))
            summary.set_class(False, "-ready")
            return
        items = ", ".join(f"{d.kind_label} {d.tag}" for d in self.check.devices)
        when = when_in_words(draft.due, now=self.kiosk.clock(), zone=self.kiosk.settings.zone)
        parts: list[str | tuple[str, str]] = [
            ("Enter records: ", "bold"),
            f"{items} off site, for “{draft.reason}”, back {when}",
        ]
        if draft.manager:
            parts.append(f", agreed by {self._manager_name(draft.manager)}")
        if self.check.needs_charged:
            parts.append(", charged and ready")
        parts.append(".")
        closed = not_a_school_day(
            draft.due, zone=self.kiosk.settings.zone, calendar=self.check.calendar
        )
        if closed:
            parts.append((f" {WARN_MARK} {closed}", "bold"))
        summary.update(assemble(*parts))
        summary.set_class(True, "-ready")

    def summary_text(self) -> str:
        """What the summary line says (for tests and for reading it out)."""
        content = self.query_one("#summary", Static).visual
        return content.plain if isinstance(content, Content) else str(content)

    # --- submitting -----------------------------------------------------------------------

    def action_submit(self) -> None:
        if self.kiosk.busy or self._prerequisites():
            return
        try:
            draft = self._draft()
        except KioskError as exc:
            typed = self.query_one("#due", Input).value
            if self._due_unreadable():  # the next person's code typed onto it, maybe
                self.code_typed_instead(
                    typed,
                    owner_id=self.check.staff.id,
                    refused=partial(self.show_error, exc),
                )
            else:
                self.show_error(exc)
            return
        if draft.reason not in SIGN_OUT_REASONS and not self.free_text_may_go_on(
            draft.reason,  # "Other", in words
            instead_of="a reason: say why in words",
            title="Not signed out",
            owner_id=self.check.staff.id,
            again=self.action_submit,
        ):
            return
        code, tags = self.check.staff.code, list(self.tags)
        self.call(
            lambda s: s.devices.sign_out(
                code,
                tags,
                reason=draft.reason,
                expected_return=draft.due,
                line_manager=draft.manager,
                charged=draft.charged,
            ),
            self._signed_out,
            self._failed,
        )

    def _signed_out(self, receipt: SignOutReceipt) -> None:
        zone = self.kiosk.settings.zone
        items = ", ".join(f"{d.kind_label} {d.tag}" for d in self.check.devices)
        lines = [self.check.staff.name, f"Due back {day_and_time(receipt.expected_return, zone)}."]
        if self._steps_done:  # (on the way here: said on the confirmation too)
            lines.append(f"Also recorded: {'; '.join(said for _, said in self._steps_done)}.")
        self.kiosk.confirm(
            f"Signed out off site: {items}",
            lines,
            receipt.receipts[0].occurred_at if receipt.receipts else None,
        )

    def _failed(self, error: KioskError) -> None:
        self.show_error(error)
        if isinstance(error, MissingAcknowledgement):
            self._check_steps(False)


def start_sign_out(screen: KioskScreenMixin, status: StaffStatus, tags: list[str]) -> bool:
    """From ``screen``: check what the form must ask (and what must be done first), then
    open it over home. False when another call is still running."""
    code = status.staff.code

    def opened(check: SignOutCheck) -> None:
        screen.kiosk.go_home()
        screen.app.push_screen(SignOutScreen(check))

    return screen.call(lambda s: s.devices.check_sign_out(code, tags), opened)

"""Bringing a device back (whoever brings it), and keeping one longer."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, RadioSet, Static

from kiosk.domain.calendar import WEEKDAYS_ONLY, SchoolCalendar
from kiosk.domain.errors import InvalidInput, KioskError, NotFound
from kiosk.domain.rules import check_extension
from kiosk.domain.text import shortened
from kiosk.domain.timeutil import suggested_extension
from kiosk.domain.when import not_a_school_day
from kiosk.ui.base import SCAN_PREFIX, KioskScreenMixin, StaffScreen, shown_code
from kiosk.ui.formats import day_and_time, parse_when, when_in_words
from kiosk.ui.widgets import (
    TODO_MARK,
    WARN_MARK,
    Choice,
    CodeField,
    Notice,
    TouchButton,
    assemble,
    plain,
)

if TYPE_CHECKING:
    from kiosk.services.views import DeviceStatus, EventReceipt, OffsiteItem, StaffStatus


# The sign-out's reason on the return screen, at most (two lines at 80 columns): the rest is
# in the register. What is returned, and whose it is, stay in view at 80x24.
REASON_COLUMNS = 140


def _buttons(label: str) -> ComposeResult:
    with Horizontal(classes="form-buttons"):
        yield TouchButton(label, key="Enter", id="submit", variant="primary")
        yield TouchButton("Cancel", key="Esc", id="back")


class ReturnScreen(StaffScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "done", "Cancel", show=False)]

    def __init__(self, status: DeviceStatus, *, recorded_by: str | None) -> None:
        super().__init__(classes="form-screen return-screen")
        self.status = status
        self.recorded_by = recorded_by

    def compose(self) -> ComposeResult:
        device, out = self.status.device, self.status.offsite
        assert out is not None
        zone = self.kiosk.settings.zone
        description = f" ({device.description})" if device.description else ""
        overdue = (f"{WARN_MARK} OVERDUE: ", "bold") if out.overdue else ("", "")
        with Vertical(classes="form-box"):
            yield Static(
                assemble(
                    ("Return ", "bold"), (f"{device.kind_label} {device.tag}", "bold"), description
                ),
                classes="form-title",
            )
            yield Static(
                assemble(
                    f"Signed out to {out.staff.name} since {day_and_time(out.since, zone)} "
                    f"({shortened(out.reason, REASON_COLUMNS)}).\n",
                    overdue,
                    f"Due back {day_and_time(out.expected_return, zone)}.",
                ),
                id="return-details",
                classes="form-text" + (" -overdue" if out.overdue else ""),
            )
            yield Static(
                "Press Enter to record the return. Anything wrong with it? Tab, then a note "
                "(optional: e.g. charger missing, screen cracked).",
                markup=False,
                classes="field-label",
            )
            # The code field has the focus: Enter with nothing typed records the return; a
            # code typed or scanned here is read as a code (never as the note, nor as Enter).
            yield CodeField(placeholder="Scan or type a code (Enter: record the return)")
            yield Input(id="condition", max_length=500, placeholder="Note on its condition")
            yield Notice(id="notice")
            yield from _buttons("Record the return")

    def on_mount(self) -> None:
        self.query_one(CodeField).focus()

    def enter_pressed(self) -> None:
        self.action_submit()

    def handle_scan(self, text: str) -> None:
        """A code typed or scanned here (another person's: they take over; a label: said
        so). What is not a code at all is most likely a note typed before Tab: the refusal
        quotes it as typed and says where a note goes."""

        def not_a_code(error: KioskError) -> None:
            if not isinstance(error, NotFound) or SCAN_PREFIX.match(text.strip()):
                self.show_error(error)  # a badge or label not on the lists: said as it is
                return
            self.show_error(
                f"“{shown_code(text)}” is not a staff code or an asset tag. A note on its "
                "condition goes in the note field: press Tab, type it there, then Enter.",
                title="Not recorded",
            )

        self.call(
            lambda s: s.people.resolve_scan(text),
            lambda result: self.other_code(result, text),
            not_a_code,
        )

    @on(Input.Submitted, "#condition")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            if not self.code_typed_first(anyone=True):  # (a note typed before Tab: not lost)
                self.action_submit()
        else:
            self.action_done()

    def action_submit(self) -> None:
        if self.kiosk.busy:
            return
        tag, by = self.status.device.tag, self.recorded_by
        condition = self.query_one("#condition", Input).value
        if not self.free_text_may_go_on(
            condition,
            instead_of="a note on its condition: say it in words, or leave the note empty",
            title="Not recorded",
            owner_id=None,
            again=self.action_submit,
        ):
            return
        self.call(
            lambda s: s.devices.return_device(tag, condition=condition, recorded_by=by),
            lambda receipt: self._returned(receipt, condition.strip()),
        )

    def _returned(self, receipt: EventReceipt, condition: str) -> None:
        more = [f"Condition noted: {condition}"] if condition else []
        self.confirm_receipt(receipt, *more)


class ExtendScreen(StaffScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back", show=False)]

    def __init__(self, status: StaffStatus) -> None:
        super().__init__(classes="form-screen extend-screen")
        self.status = status
        self.items: tuple[OffsiteItem, ...] = status.offsite
        self.calendar: SchoolCalendar = WEEKDAYS_ONLY  # the school's, once read (on mount)
        self._suggested = ""

    def compose(self) -> ComposeResult:
        zone = self.kiosk.settings.zone
        with Vertical(classes="form-box"):
            yield Static(
                assemble(("Keep a device longer: ", "bold"), (self.status.staff.name, "bold")),
                classes="form-title",
            )
            if len(self.items) > 1:
                yield Static("Which one?", markup=False, classes="field-label")
                yield RadioSet(
                    *(
                        Choice(
                            plain(
                                f"{i.device.kind_label} {i.device.tag}, "
                                f"due {day_and_time(i.expected_return, zone)}"
                            )
                        )
                        for i in self.items
                    ),
                    id="which",
                )
            else:
                item = self.items[0]
                yield Static(
                    plain(
                        f"{item.device.kind_label} {item.device.tag}, due back "
                        f"{day_and_time(item.expected_return, zone)}."
                    ),
                    classes="form-text",
                )
            yield Static("New expected return (day and time)", markup=False, classes="field-label")
            yield Input(id="new-due", max_length=40)
            yield Static("Why do you need it longer?", markup=False, classes="field-label")
            yield Input(id="extend-reason", max_length=500)
            yield Static("", id="summary")
            yield Notice(id="notice")
            yield from _buttons("Keep it longer")

    def on_mount(self) -> None:
        self._suggest(self.items[0])
        self.call(lambda s: s.school.calendar(), self._calendar_read, lambda _error: None)
        if len(self.items) > 1:
            self.query_one("#which", RadioSet).focus()
        else:
            self.query_one("#new-due", Input).focus()

    def on_key(self, event: events.Key) -> None:
        """A character typed at the device list (it has the cursor at open when there are
        several): the list takes none, so the return typed straight away ("Wed 8:00") lost
        its "Wed" without a word, its Space chose the first device (one never chosen) and
        "8:00" went in alone. It goes into the return instead, over the suggestion, and the
        rest of it after; Space and the arrows at the list still choose."""
        field = self.query_one("#new-due", Input)
        char = event.character
        if (
            isinstance(self.focused, RadioSet)
            and event.is_printable
            and char
            and event.key != "space"
        ):
            event.stop()
            event.prevent_default()
            typed = "" if field.value == self._suggested else field.value
            field.value = (typed + char)[: field.max_length or None]
            field.cursor_position = len(field.value)
            field.select_on_focus = False  # what is typed on goes after it, not over it
            field.focus()
            return
        super().on_key(event)

    def _suggest(self, item: OffsiteItem) -> None:
        zone = self.kiosk.settings.zone
        suggestion = suggested_extension(
            item.expected_return, self.kiosk.clock(), zone, self.calendar
        )
        self._suggested = day_and_time(suggestion, zone)
        self.query_one("#new-due", Input).value = self._suggested

    def _calendar_read(self, calendar: SchoolCalendar) -> None:
        """The school's calendar: the suggestion skips its holidays and INSET days (unless
        the person has typed over it meanwhile); "next school day" is read by it."""
        self.calendar = calendar
        if self.is_mounted and self.query_one("#new-due", Input).value == self._suggested:
            try:
                self._suggest(self._chosen())
            except InvalidInput:  # several devices, none chosen yet: the first one's
                self._suggest(self.items[0])
        self._show_summary()

    @on(Input.Changed, "#new-due")
    def _show_summary(self) -> None:
        """What Enter records, in words, as the return is typed (as the sign-out form's
        summary line): the day a weekday is read as ("Fri" on a Friday is next week's), and
        a day the school is closed; or what is still wrong with it."""
        if not self.is_mounted:
            return
        summary = self.query_one("#summary", Static)
        zone, now = self.kiosk.settings.zone, self.kiosk.clock()
        try:
            item = self._chosen()
            due = parse_when(
                self.query_one("#new-due", Input).value,
                now=now,
                zone=zone,
                calendar=self.calendar,
            )
            check_extension(item.device.tag, due, item.expected_return, now, zone)
        except KioskError as exc:
            summary.update(assemble((f"{TODO_MARK} Still to do: ", "bold"), exc.message))
            summary.set_class(False, "-ready")
            return
        parts: list[str | tuple[str, str]] = [
            ("Enter records: ", "bold"),
            f"{item.device.kind_label} {item.device.tag} kept until "
            f"{when_in_words(due, now=now, zone=zone)}.",
        ]
        closed = not_a_school_day(due, zone=zone, calendar=self.calendar)
        if closed:
            parts.append((f" {WARN_MARK} {closed}", "bold"))
        summary.update(assemble(*parts))
        summary.set_class(True, "-ready")

    def _chosen(self) -> OffsiteItem:
        if len(self.items) == 1:
            return self.items[0]
        index: int = self.query_one("#which", RadioSet).pressed_index
        if index < 0:
            raise InvalidInput(
                "Choose which device (tap it, or the arrow keys on its list, then Enter)."
            )
        return self.items[index]

    @on(RadioSet.Changed, "#which")
    def _which(self, event: RadioSet.Changed) -> None:
        field = self.query_one("#new-due", Input)
        if field.value in (self._suggested, ""):
            # The device's own suggestion; not over a return the person typed before they
            # chose the device (it went in silently, and Enter kept it until then).
            self._suggest(self.items[event.index])
        self._show_summary()
        field.focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "new-due" and not self.query_one("#extend-reason", Input).value:
            self.query_one("#extend-reason", Input).focus()
            return
        self.action_submit()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_back()

    def action_back(self) -> None:
        if not self.kiosk.busy:
            self.app.pop_screen()

    def action_submit(self) -> None:
        if self.kiosk.busy:
            return
        try:
            item = self._chosen()
        except KioskError as exc:
            self.show_error(exc)
            return
        typed = self.query_one("#new-due", Input).value
        try:
            new_due = parse_when(
                typed, now=self.kiosk.clock(), zone=self.kiosk.settings.zone, calendar=self.calendar
            )
        except KioskError as exc:
            self.code_typed_instead(
                typed,
                owner_id=self.status.staff.id,
                refused=partial(self.show_error, exc),
            )
            return
        reason = self.query_one("#extend-reason", Input).value
        if not self.free_text_may_go_on(
            reason,
            instead_of="a reason: say why in words",
            title="Not recorded",
            owner_id=self.status.staff.id,
            again=self.action_submit,
        ):
            return
        tag, code = item.device.tag, self.status.staff.code
        self.call(
            lambda s: s.devices.extend(tag, new_due, reason=reason, staff_code=code),
            self.confirm_receipt,
        )


def offer_return(
    screen: KioskScreenMixin, status: DeviceStatus, *, recorded_by: str | None
) -> None:
    """From ``screen``: the return of a device that is off site, over home."""
    screen.kiosk.go_home()
    screen.app.push_screen(ReturnScreen(status, recorded_by=recorded_by))

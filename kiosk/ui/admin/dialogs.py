"""Small modal dialogs of the console: confirm, and a form that stays open until saved."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from time import monotonic
from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from kiosk.ui.admin.widgets import FeedbackLine, SecretInput
from kiosk.ui.admin.workers import run_db
from kiosk.ui.base import READ_SECONDS
from kiosk.ui.text import plain, plain_cell
from kiosk.ui.widgets import SearchSelect

ACTIVITY_EVENTS = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)
ENTER_KEYS = frozenset({"enter", "ctrl+m", "ctrl+j"})
EARLY_KEYS = "Keys typed before this dialog was shown were not used: check the entry above first."
# A badge scanned at the console (a colleague's, at the kiosk left on the console or at the
# office's scanner): its keys are never the console's shortcuts, nor a form's text.
BADGE_DROPPED = (
    "A badge was scanned: the console does not read badges; nothing was done. Ctrl+L locks "
    "it for colleagues."
)


class ConsoleModal(ModalScreen[Any]):
    """A dialog over the console: input here counts as activity for the idle lock."""

    DEFAULT_CSS = """
    ConsoleModal { align: center middle; }
    ConsoleModal > .dialog {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 1 2;
    }
    ConsoleModal .dialog-title { text-style: bold; margin-bottom: 1; }
    ConsoleModal .dialog-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    /* On a small screen (24 rows) a long form scrolls inside its box: the field with the
       cursor is scrolled into view, the buttons under the last field. */
    ConsoleModal .dialog-buttons Button { margin-left: 2; }
    ConsoleModal Label { margin-top: 1; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        # Locks the console under the dialog at once (the console's own Ctrl+L is not
        # reached from a dialog): the dialog closes with it, nothing recorded.
        Binding("ctrl+l", "lock_console", "Lock", show=False, priority=True),
    ]
    # The cursor in the first field at once, whatever the host app's default (the kiosk app
    # focuses nothing by itself): what is typed straight away goes into the form.
    AUTO_FOCUS = "*"
    # Keys typed while it opens wait for it, then go to its first field (kiosk/ui/keys.py).
    KEYS_IN_ORDER = True
    # A badge scanned while it is open is dropped whole (kiosk/ui/keys.py, reads_no_badges).
    READS_NO_BADGES = True

    def __init__(self, activity: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._activity = activity
        self.keys_ready = False
        self.shown_at: float | None = None  # monotonic(): first drawn

    def on_screen_resume(self) -> None:
        self.keys_ready = False
        self.call_after_refresh(self._ready_for_keys)

    def on_screen_suspend(self) -> None:
        self.keys_ready = False

    def _ready_for_keys(self) -> None:
        if self.is_attached and self.app.screen is self:
            if self.shown_at is None:
                self.shown_at = monotonic()
            self.keys_ready = True

    def typed_before_shown(self, event: events.Key) -> bool:
        """Whether ``event`` was typed before the dialog was first drawn."""
        return self.shown_at is None or event.time < self.shown_at

    def badge_scanned(self) -> None:
        """A badge was scanned (and dropped, every key of it): said in the dialog."""
        lines = self.query(FeedbackLine)
        if lines:
            lines.first().say(BADGE_DROPPED, error=True)
        else:
            self.app.notify(BADGE_DROPPED, severity="warning")

    def action_lock_console(self) -> None:
        for screen in reversed(self.app.screen_stack):
            lock = getattr(screen, "action_lock", None)
            if not isinstance(screen, ConsoleModal) and callable(lock):
                lock()
                return

    async def on_event(self, event: events.Event) -> None:
        if self._activity is not None and isinstance(event, ACTIVITY_EVENTS):
            self._activity()
        await super().on_event(event)

    @on(Input.Changed)
    def _typed(self) -> None:
        if self._activity is not None:
            self._activity()

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ConsoleModal):
    """Ask before doing something that cannot be taken back. Dismisses with True or False."""

    def __init__(
        self,
        question: str,
        *,
        yes: str = "Yes",
        no: str = "Cancel",
        title: str = "Please confirm",
        activity: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(activity)
        self.question, self.yes, self.no, self.title_text = question, yes, no, title

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", can_focus=False):
            yield Static(plain(self.title_text), classes="dialog-title")
            yield Static(plain(self.question, multiline=True))
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.no, id="no")
                yield Button(self.yes, id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed, "#yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def _no(self) -> None:
        self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(False)


@dataclass(frozen=True)
class Field:
    """One field of a form: a line of text, or a choice."""

    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    # (label, value): each label shown as written (plain text, never markup: not escaped)
    options: Sequence[tuple[str, str]] = field(default=())
    password: bool = False
    restrict: str | None = None


class FormDialog(ConsoleModal):
    """A form whose Save runs ``action(values)`` in a worker.

    The dialog stays open, with the error in words, until the action succeeds; it then
    dismisses with the action's result. Escape or Cancel dismisses with None.
    """

    def __init__(
        self,
        title: str,
        fields: Sequence[Field],
        action: Callable[[dict[str, str]], Any],
        *,
        submit: str = "Save",
        intro: str = "",
        activity: Callable[[], None] | None = None,
        careful: str = "",
    ) -> None:
        """``careful``: for a change that is recorded for good (a correction). Keys typed
        before the dialog was shown are not taken (they were typed without seeing it: the
        end of something meant for the console under it), and Enter in the last field asks
        for Enter again, saying ``careful`` (what it will do), before it saves."""
        super().__init__(activity)
        self.title_text = title
        self.fields = list(fields)
        self.action = action
        self.submit = submit
        self.intro = intro
        self.careful = careful
        self._busy = False
        # A careful dialog: when "Press Enter again to ..." was asked (monotonic(); None: not
        # asked), and when the last Enter came (a key's own time).
        self._asked_at: float | None = None
        self._enter_at = float("-inf")

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", can_focus=False):
            yield Static(plain(self.title_text), classes="dialog-title")
            if self.intro:
                yield Static(plain(self.intro, multiline=True))
            for spec in self.fields:
                yield Label(plain(spec.label), classes="field-label")
                if spec.options:
                    value = spec.value if spec.value in {v for _, v in spec.options} else None
                    yield SearchSelect(
                        [(plain_cell(label), val) for label, val in spec.options],
                        id=f"field-{spec.name}",
                        prompt=spec.placeholder or "Choose",
                        value=value if value is not None else Select.NULL,
                    )
                elif spec.password:
                    yield SecretInput(
                        spec.value,
                        placeholder=spec.placeholder,
                        id=f"field-{spec.name}",
                        restrict=spec.restrict,
                    )
                else:
                    yield Input(
                        spec.value,
                        placeholder=spec.placeholder,
                        id=f"field-{spec.name}",
                        restrict=spec.restrict,
                    )
            yield FeedbackLine(id="form-message")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(self.submit, id="submit", variant="primary")

    def values(self) -> dict[str, str]:
        values = {}
        for spec in self.fields:
            widget = self.query_one(f"#field-{spec.name}")
            if isinstance(widget, Select):
                values[spec.name] = "" if widget.is_blank() else str(widget.value)
            elif isinstance(widget, Input):
                values[spec.name] = widget.value
        return values

    def refuse_key(self, event: events.Key) -> bool:
        """kiosk/ui/keys.py asks before a key goes in: a careful dialog drops what was
        typed (or Entered) before it was shown, and says so."""
        if not self.careful or not (event.is_printable or event.key in ENTER_KEYS):
            return False
        if not self.typed_before_shown(event):
            return self._enter_too_soon(event)
        self.query_one("#form-message", FeedbackLine).say(EARLY_KEYS, error=True)
        return True

    def _enter_too_soon(self, event: events.Key) -> bool:
        """Enter on "Press Enter again to ...", pressed before that could be read: as the
        question appeared or straight after the Enter before it (that Enter again, bouncing
        or held down). True: dropped, and the dialog says nothing is done yet."""
        if event.key not in ENTER_KEYS:
            return False
        last, self._enter_at = self._enter_at, event.time
        asked = self._asked_at
        # The screen's focus, not the button's has_focus: that turns true only once the
        # button has handled its Focus message, after an Enter read with the first one.
        if asked is None or self.focused is not self.query_one("#submit", Button):
            return False
        # Nobody reads the question and decides in less than READ_SECONDS (the kiosk's
        # half-second rule, kiosk/ui/base.py).
        if event.time >= asked + READ_SECONDS and event.time >= last + READ_SECONDS:
            return False
        self._say_too_soon()
        return True

    def _say_too_soon(self) -> None:
        self.query_one("#form-message", FeedbackLine).say(
            "Enter came as this was asked: nothing is recorded yet. Read the entry above, "
            f"then press Enter again to {self.careful} (Esc: cancel, nothing recorded).",
            error=True,
        )

    def _field_widgets(self) -> list[Widget]:
        """The form's fields in their order, a choice (a ``Select``) as much as a text."""
        return [self.query_one(f"#field-{spec.name}") for spec in self.fields]

    def on_mount(self) -> None:
        for widget in self._field_widgets():
            if isinstance(widget, Select):
                self.watch(widget, "expanded", partial(self._list_closed, widget), init=False)

    def _list_closed(self, select: Select[Any], expanded: bool) -> None:
        """A choice's list closed: a choice made in it (Enter, a click) moves the cursor on
        to the next field, or to the button that saves after the last one, as Enter in a
        text does. The choice took the focus back just before closing (``Select`` asks the
        app for it first); the list closed with Esc asks after this, and stays."""
        if not expanded:
            self.app.call_later(self._move_on_from, select)

    def _move_on_from(self, select: Select[Any]) -> None:
        if not self.is_attached or self.app.screen is not self or self.focused is not select:
            return
        fields = self._field_widgets()
        index = fields.index(select)
        if index < len(fields) - 1:
            fields[index + 1].focus()
        else:
            self.query_one("#submit", Button).focus()

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        # The next field, a choice too: Enter after the last text of a form whose choice
        # came after it ("Must staff acknowledge it?", a device's kind) saved at once, or
        # jumped over the choice to the next text, the choice never put before the office.
        fields = self._field_widgets()
        index = fields.index(event.input) if event.input in fields else -1
        if 0 <= index < len(fields) - 1:
            fields[index + 1].focus()
        elif self.careful:
            self.query_one("#form-message", FeedbackLine).say(
                f"Press Enter again to {self.careful} (Esc: cancel, nothing recorded)."
            )
            self._asked_at = monotonic()
            self.query_one("#submit", Button).focus()
        else:
            self._save()

    @on(Button.Pressed, "#submit")
    def _pressed(self, event: Button.Pressed) -> None:
        self._save(event.time)

    def _save(self, pressed_at: float | None = None) -> None:
        """``pressed_at``: when the button was pressed (its message made), not when that is
        handled here: a busy console handles a click made as the question came a moment
        later, after READ_SECONDS, and it saved."""
        if self._busy:
            return
        asked = self._asked_at
        at = monotonic() if pressed_at is None else pressed_at
        if self.careful and asked is not None and at < asked + READ_SECONDS:
            # However the press got here (a key that raced the focus), it came before
            # "Press Enter again to ..." could be read: nothing is saved.
            self._say_too_soon()
            return
        self._busy = True
        values = self.values()
        self.query_one("#form-message", FeedbackLine).say("Saving…")
        run_db(self, lambda: self.action(values), self._done, self._failed, group="form")

    def _done(self, result: Any) -> None:
        self._busy = False
        self.dismiss(result if result is not None else True)

    def _failed(self, message: str) -> None:
        self._busy = False
        self.query_one("#form-message", FeedbackLine).say(message, error=True)

    @property
    def busy(self) -> bool:
        """Saving what was confirmed ("Saving…"): the console waits for it to lock."""
        return self._busy

    SAVING = "Saving: it cannot be cancelled now. Wait for it to finish."

    def action_cancel(self) -> None:
        """Esc. While the save runs it is not a cancel: what is being saved is recorded all
        the same, so the dialog stays and says so, and closes with the outcome."""
        if self._busy:
            self.query_one("#form-message", FeedbackLine).say(self.SAVING)
            return
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()

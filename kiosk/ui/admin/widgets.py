"""The admin console's own widgets: a view (:class:`Pane`) and its line of feedback."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from rich.text import Text
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import DataTable, Static, Tabs

from kiosk.domain.text import display_text
from kiosk.domain.timeutil import format_local, local_date
from kiosk.ui.admin.tables import chosen, lost_choice
from kiosk.ui.admin.workers import run_db
from kiosk.ui.widgets import MaskedInput

log = logging.getLogger("kiosk.ui.admin")

if TYPE_CHECKING:
    from kiosk.services.app import Services

T = TypeVar("T")

# Marks that do not rely on colour alone.
OVERDUE_MARK = "⚠ OVERDUE"
VOID_MARK = "✗ VOID"
REGULAR_MARK = "▲ REGULAR USE"


def at_the_view(screen: Screen[Any]) -> bool:
    """Whether the console's letter and digit shortcuts apply now: the cursor is on a table,
    on the tabs or nowhere, not in a form control (a field, a filter's list, a button...),
    where a letter typed is the control's or nothing (a closed list ignores letters: its
    open list searches by them). The focus of ``screen``, the console: under a dialog, its
    footer still shows its own shortcuts as they are."""
    focused = screen.focused
    return focused is None or isinstance(focused, DataTable | Tabs)


class SecretInput(MaskedInput):
    """A field for the PIN: always masked, so what it holds is never copied or cut
    (:class:`kiosk.ui.widgets.MaskedInput`)."""

    def __init__(self, value: str | None = None, **kwargs: Any) -> None:
        super().__init__(value, password=True, **kwargs)
        self._refused_key = False

    def restricted(self) -> None:
        """A key the field does not take, among digits already typed (a letter after the PIN:
        a badge scanned into it, its "1" kept). A letter typed into the empty field (a stray
        key, a staff code typed there first) is dropped and forgotten: the PIN typed after it
        is the PIN."""
        if self.value:
            self._refused_key = True
        super().restricted()

    def watch_value(self, value: str) -> None:
        if not value:  # rubbed out, or cleared: what was refused went with it
            self._refused_key = False

    def take_refused_key(self) -> bool:
        """Whether a key was refused since this was last asked (then forgotten)."""
        refused, self._refused_key = self._refused_key, False
        return refused


class FeedbackLine(Static):
    """One line of feedback under a view: what happened, or what went wrong, in words."""

    DEFAULT_CSS = """
    FeedbackLine {
        height: auto;
        min-height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    FeedbackLine.-error { color: $text-error; text-style: bold; }
    FeedbackLine.-ok { color: $text-success; }
    """

    _said: tuple[str, bool, bool] = ("", False, False)

    def say(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        # Saying nothing again (each date gone to clears the line) is not a change: an update
        # lays the view out again (its height is auto) before the new day is drawn.
        said = (text, error, ok and not error)
        if said == self._said:
            return
        self._said = said
        prefix = "⚠ " if error else ("✓ " if ok else "")
        self.update(Text(prefix + display_text(text, multiline=True)))
        self.set_class(error, "-error")
        self.set_class(ok and not error, "-ok")


class Pane(Vertical):
    """One view of the console. ``load()`` fetches what it shows, in a worker."""

    DEFAULT_CSS = """
    Pane { height: 1fr; }
    """

    LOADS_ON_MOUNT = False
    """True when the view fetches its data itself when mounted (else when first shown)."""

    def __init__(self, services: Services, admin_code: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.services = services
        self.admin_code = admin_code

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The view's shortcuts (letters, [ and ]) act only with the cursor on the view
        itself (see at_the_view); in a form control they are shown greyed and do nothing."""
        return True if at_the_view(self.screen) else None

    # --- helpers ------------------------------------------------------------------------

    @property
    def zone(self) -> Any:
        return self.services.settings.zone

    def now(self) -> datetime:
        return self.services.ctx.clock()

    def today(self) -> date:
        return local_date(self.now(), self.zone)

    def local(self, moment: datetime | None, fmt: str = "%a %d %b %H:%M") -> str:
        return "" if moment is None else format_local(moment, self.zone, fmt)

    @property
    def message(self) -> FeedbackLine:
        return self.query_one(FeedbackLine)

    def say(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        """``text`` in the view's feedback line. An answer that comes as the view is being
        taken apart (the console closing under a dialog's result) has nobody to tell: it
        is logged, not raised (a NoMatches here stopped the console with an error)."""
        try:
            line = self.message
        except NoMatches:
            log.info("not said (the view is being taken apart): %s", text)
            return
        line.say(text, error=error, ok=ok)

    def fail(self, text: str) -> None:
        self.say(text, error=True)

    def no_row(self, table: DataTable[Any], text: str) -> None:
        """Say why an action for the chosen row of ``table`` did nothing: ``text`` (choose one
        first), or that the row the admin had chosen went from the list as it was read again
        (kiosk.ui.admin.tables.lost_choice)."""
        if lost_choice(table) is not None:
            self.fail(
                "The row you had chosen is no longer in the list (it changed as it was read "
                "again): nothing was done. Choose the row you mean (the arrow keys, Enter on "
                "it, or a click), then try again."
            )
        else:
            self.fail(text)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter or a click on the highlighted row: the admin chose it."""
        chosen(event.data_table)

    def db(
        self,
        call: Callable[[], T],
        done: Callable[[T], None],
        *,
        group: str = "load",
        failed: Callable[[str], None] | None = None,
        kept: Callable[[T], str] | None = None,
        kept_as: str = "",
    ) -> None:
        run_db(self, call, done, failed or self.fail, group=group, kept=kept, kept_as=kept_as)

    def activity(self) -> None:
        """Input in a dialog of this view keeps the console awake."""
        touch = getattr(self.screen, "touch", None)
        if callable(touch):
            touch()

    # --- overridden by each view -----------------------------------------------------------

    def load(self) -> None:
        """Fetch and show the view's data (called when shown and when events arrive)."""

"""The admin console: one screen of tabs over the register, for staff with the admin role.

Pushed by the kiosk app after the PIN and the admin's badge (``AdminConsoleScreen(services,
admin_code)``), or by the office app :class:`kiosk.ui.admin.app.AdminApp`. It pops itself
when the admin locks it or after ``settings.admin_idle_timeout`` seconds without input.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import AwaitMount
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Input,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from kiosk.domain.text import display_text
from kiosk.domain.timeutil import format_local
from kiosk.services.register import RegisterFilter
from kiosk.ui.admin.controls import button
from kiosk.ui.admin.dialogs import ACTIVITY_EVENTS, BADGE_DROPPED, ConfirmDialog, FormDialog
from kiosk.ui.admin.export import ExportPane
from kiosk.ui.admin.people import PeoplePane
from kiosk.ui.admin.policies import ExemptionsPane, PoliciesPane, ReviewsPane
from kiosk.ui.admin.register import ExportRequested, RegisterPane
from kiosk.ui.admin.status import OffsitePane, PhonesPane
from kiosk.ui.admin.widgets import Pane, at_the_view
from kiosk.ui.admin.workers import kept_outcomes, run_db
from kiosk.ui.admin.workload import WorkloadPane
from kiosk.ui.clock import UiClock, clock_of
from kiosk.ui.text import plain
from kiosk.ui.tuning import memory

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from kiosk.services.app import Services

# (tab id, label, view) in the order of the keys 1-9. The labels are short so that all nine
# tabs fit 100 columns (99 with their padding); each view's own headings say the rest (VDU
# training and workstation reviews; staff, laptops and work phones). Narrower, the tabs are
# shown in two rows (the console's CSS, class -narrow): all nine are always in view.
VIEWS: tuple[tuple[str, str, type[Pane]], ...] = (
    ("register", "Register", RegisterPane),
    ("phones", "Phones", PhonesPane),
    ("offsite", "Off site", OffsitePane),
    ("policies", "Policies", PoliciesPane),
    ("reviews", "VDU", ReviewsPane),
    ("exemptions", "Exemptions", ExemptionsPane),
    ("workload", "Workload", WorkloadPane),
    ("people", "People", PeoplePane),
    ("export", "Export", ExportPane),
)

log = logging.getLogger("kiosk.ui.admin")

POLL_SECONDS = 2.0
EXIT_WAIT_SECONDS = 5.0  # at most this long for the database to record who closed the app
FULL_RELOAD_SECONDS = 30.0
# A dialog saving what the office confirmed ("Saving…", the console behind it) keeps the
# console from locking itself, as does recording who closed the app, for at most this long;
# a view's work (an export, a retirement) does not: it goes on, and its outcome is shown by the
# console opened next (see check_idle_timeout).
SAVE_HOLD_SECONDS = 120.0
KEPT_GROUPS = frozenset({"change", "export"})
GC_PAUSE_SECONDS = 1.0  # at most this long without garbage collection while the console opens


# A stored check the console cannot show raised one of these on the UI thread at sign-in (a
# count with no event named, a time no zone can show): every sign-in failed. Said instead.
_UNSHOWABLE = (ValueError, TypeError, IndexError, OverflowError, AttributeError, KeyError)


def _unreadable(last: Any) -> str:
    return f"the last stored check (event {getattr(last, 'event_id', '?')}) cannot be read"


def check_line(last: Any, zone: ZoneInfo) -> str:
    """The last stored check (``IntegrityService.last_check``) as the console's top line says
    it: never checked, intact or tampered with at the last check (and the last anchor), or
    why the stored check is not shown (it cannot be read, or trusted)."""
    if last is None or (last.report is None and last.event_id is None):
        return "integrity never checked (kiosk verify)"
    report = last.report
    if report is None:
        return f"⚠ the last stored check (event {last.event_id}) {last.problem}"
    try:
        when = format_local(report.checked_at, zone, "%d %b %H:%M")
        check = (
            f"✓ register intact at the last check ({when})"
            if report.ok
            else f"⚠ REGISTER TAMPERED WITH at the last check ({when})"
        )
        anchored = report.last_anchor_at
        if getattr(last, "anchor_hidden", False):
            # The newest anchor events were none of them the kiosk's: not "none taken".
            return check + " · last anchor unknown: the newest were not recorded by the kiosk"
        return check + (
            f" · last anchor taken {format_local(anchored, zone, '%d %b %Y %H:%M')}"
            if anchored is not None
            else " · no anchor taken yet (kiosk anchor)"
        )
    except _UNSHOWABLE:
        return f"⚠ {_unreadable(last)}"


def check_alert(last: Any, zone: ZoneInfo) -> str | None:
    """The alert for the last stored check: one that found tampering, or one not shown."""
    if last is None or (last.report is None and last.event_id is None):
        return None
    report = last.report
    if report is None:
        return (
            f"⚠ The last integrity check stored in the register (event {last.event_id}) "
            f"{last.problem}: run kiosk verify."
        )
    if report.ok:
        return None
    try:
        checked = format_local(report.checked_at, zone, "%a %d %b %H:%M")
        return f"⚠ Integrity check of {checked}: {report.summary}"
    except _UNSHOWABLE:
        return f"⚠ {_unreadable(last).capitalize()}: run kiosk verify."


class AdminConsoleScreen(Screen[None]):
    """The admin console, made for one admin session (a new one for each: nothing of one
    admin's filters, rows or answers can reach the next). ``lockouts``: PIN lockouts to
    report (from ``PinCheck``).

    Quick to open by design: only the register is built (each other view when first shown),
    and the register asks for today's first page as it is made, so the query runs while the
    console is built."""

    DEFAULT_CSS = """
    AdminConsoleScreen #console-bar { height: 1; background: $panel; }
    AdminConsoleScreen #console-title {
        width: 1fr;
        text-style: bold;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    AdminConsoleScreen #console-who { height: 1; padding: 0 1; color: $text-muted; }
    AdminConsoleScreen #console-bar Button { margin-left: 1; }
    AdminConsoleScreen #console-alert {
        display: none;
        height: auto;
        padding: 0 1;
        background: $error-muted;
        color: $text;
        text-style: bold;
    }
    AdminConsoleScreen #console-alert.-shown { display: block; }
    AdminConsoleScreen #console-tabs { height: 1fr; }
    AdminConsoleScreen #console-tabs > ContentSwitcher { height: 1fr; }
    AdminConsoleScreen #console-tabs TabPane { height: 1fr; padding: 0; }
    /* Narrower than the nine tabs' one row (99 columns): the tabs in two rows of five and
       four, each in a column of its own, the chosen one marked by its colours (the underline
       bar of one row is not drawn). Nothing scrolls: all nine are always in view. */
    AdminConsoleScreen.-narrow #console-tabs ContentTabs { height: 2; }
    AdminConsoleScreen.-narrow #console-tabs #tabs-list {
        layout: grid;
        grid-size: 5;
        grid-rows: 1;
        width: 100%;
        height: 2;
    }
    AdminConsoleScreen.-narrow #console-tabs Tab { width: 100%; text-align: left; }
    AdminConsoleScreen.-narrow #console-tabs Underline { display: none; }
    AdminConsoleScreen.-narrow #console-tabs Tab.-active {
        color: $block-cursor-foreground;
        background: $block-cursor-blurred-background;
        text-style: bold;
    }
    AdminConsoleScreen.-narrow #console-tabs ContentTabs:focus Tab.-active {
        background: $block-cursor-background;
    }
    /* People, narrow: the two lists one above the other, each as wide as the screen, and
       the buttons in rows of three. */
    AdminConsoleScreen.-narrow PeoplePane .lists { layout: vertical; }
    AdminConsoleScreen.-narrow PeoplePane .lists > Vertical { width: 1fr; height: 1fr; }
    AdminConsoleScreen.-narrow PeoplePane .toolbar {
        layout: grid;
        grid-size: 3;
        grid-rows: 1;
        grid-gutter: 0 1;
        height: 2;
    }
    AdminConsoleScreen.-narrow PeoplePane .toolbar > * { width: 1fr; margin: 0; }
    /* Export, narrow: its labels as wide as the longest ("To (inclusive)"), so that From
       and To fit one row. */
    AdminConsoleScreen.-narrow ExportPane .row Label { width: 15; }
    """

    # -narrow: too narrow for the nine tabs in one row (see the CSS above); -wide: wide
    # enough for them.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    AUTO_FOCUS = "#reg-table"

    # Keys in the order typed (kiosk/ui/keys.py): a key typed right after a shortcut goes
    # where the shortcut put the cursor (a field, a dialog), not where it was before.
    KEYS_IN_ORDER = True
    # A badge scanned here is dropped whole, and said (badge_scanned): its keys were the
    # console's shortcuts (a staff code's digits chose a view; "c" opened a correction).
    READS_NO_BADGES = True

    BINDINGS = [
        Binding("ctrl+l", "lock", "Lock", priority=True),
        # F10: one of the two, as the bar's button says (check_action): inside the kiosk app
        # it exits the app; in `kiosk admin` it closes this console only.
        Binding("f10", "exit_kiosk", "Exit kiosk app", priority=True),
        Binding("f10", "close_console", "Close console", priority=True),
        Binding("ctrl+pagedown", "step_view(1)", "Next view", show=False, priority=True),
        Binding("ctrl+pageup", "step_view(-1)", "Previous view", show=False, priority=True),
        *(
            Binding(str(n), f"show_view({n})", label, show=False)
            for n, (_, label, _) in enumerate(VIEWS, start=1)
        ),
    ]

    def __init__(
        self,
        services: Services,
        admin_code: str,
        *,
        lockouts: Sequence[datetime] | None = None,
    ) -> None:
        super().__init__()
        self.services = services
        self.admin_code = admin_code.strip()
        self.lockouts = tuple(lockouts or ())
        self.admin_name: str | None = None
        self.integrity: Any = None
        self.last_event_id: int | None = None
        self.locked_reason: str | None = None
        self._db_alert: str | None = None
        self._kept: list[str] = []  # outcomes of work that outlasted a console before
        self._saving_since: float | None = None
        self._last_input = self._last_full_reload = 0.0  # set on mount, by the app's clock
        self._console_timers: list[Timer] = []
        self._shown: set[str] = set()
        self._building: dict[str, AwaitMount] = {}
        self._resumed = False
        self._ready = False
        self.keys_ready = False  # drawn (kiosk/ui/keys.py: keys typed before wait for it)
        self._preset_breakpoints()

    @property
    def clock(self) -> UiClock:
        """The app's clock (kiosk/ui/clock.py): the idle lock and the refresh go by it."""
        return clock_of(self.app)

    def _untitled(self) -> str:
        """The title until the admin's name is known."""
        return f"Admin console · {self.services.settings.school_name}"

    def _preset_breakpoints(self) -> None:
        """Start with the app's breakpoint classes (-narrow/-wide, -short/-tall) for its size,
        as the screen's first resize would set them: set then, they restyle every widget of
        the console once more before its first frame."""
        try:
            app = self.app
        except Exception:  # built outside a running app: the resize sets them
            return
        width, height = app.size
        horizontal = (
            app.HORIZONTAL_BREAKPOINTS
            if self.HORIZONTAL_BREAKPOINTS is None
            else self.HORIZONTAL_BREAKPOINTS
        ) or []
        vertical = (
            app.VERTICAL_BREAKPOINTS
            if self.VERTICAL_BREAKPOINTS is None
            else self.VERTICAL_BREAKPOINTS
        ) or []
        classes = [
            name
            for size, breakpoints in ((width, horizontal), (height, vertical))
            for name in _breakpoint(size, breakpoints)
        ]
        if classes:
            self.add_class(*classes, update=False)

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Building the console makes some 50,000 objects: the collector's passes would run in
        # the middle of it (a full pass took 60-200 ms), while the admin waits for the
        # register. They wait until its first page is drawn (register_drawn), at most
        # GC_PAUSE_SECONDS, or the console closes: the same work, once it is on the screen
        # (tuning piece ``gc``).
        memory.pause()
        with Horizontal(id="console-bar"):
            yield Static(plain(self._untitled()), id="console-title")
            yield button("Lock (Ctrl+L)", id="console-lock")
            if self._closes_kiosk:
                yield button("Exit kiosk app (F10)", id="console-exit", variant="error")
            else:
                yield button("Close console (F10)", id="console-exit", variant="error")
        yield Static("", id="console-who")
        yield Static("", id="console-alert")
        # Only the register is built now; each other view is built when first shown
        # (opening the console builds one view, not nine).
        with TabbedContent(id="console-tabs", initial="tab-register"):
            for n, (key, label, _view) in enumerate(VIEWS, start=1):
                with TabPane(f"{n} {label}", id=f"tab-{key}"):
                    if key == "register":
                        yield RegisterPane(self.services, self.admin_code, id=f"view-{key}")
        yield Footer()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Runs before Screen's own handler. The first time the console is shown, its
        widgets were styled as they were mounted, moments ago: Screen would style every one of
        them again (40-190 ms at 1M events on a busy machine) before the first frame. Later
        resumes (back from a dialog) restyle as usual."""
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False
        self.keys_ready = False
        self.call_after_refresh(self._ready_for_keys)

    def _ready_for_keys(self) -> None:
        self.keys_ready = self.is_attached and self.app.screen is self

    def badge_scanned(self) -> None:
        """A badge was scanned at the console (and dropped, every key of it): said under the
        view shown."""
        pane = self.active_pane()
        if pane is not None:
            pane.say(BADGE_DROPPED, error=True)
        else:
            self.app.notify(BADGE_DROPPED, severity="warning")

    def refuse_key(self, event: events.Key) -> bool:
        """kiosk/ui/keys.py asks before a key goes in: the view shown may take it first
        (the register: a date's digits typed on as the table took the focus)."""
        refuse = getattr(self.active_pane(), "refuse_key", None)
        return bool(callable(refuse) and refuse(event))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """1-9 choose a view only with the cursor on a view's table or the tabs: a digit
        typed in a field or a filter's list is not a shortcut (see at_the_view). F10 is
        "Exit kiosk app" or "Close console", the other one hidden from the footer."""
        if action == "show_view" and not at_the_view(self):
            return None
        if action in ("exit_kiosk", "close_console"):
            return (action == "exit_kiosk") == self._closes_kiosk
        return True

    def on_unmount(self) -> None:
        memory.resume()

    def on_mount(self) -> None:
        """The console is shown for an admin: its timers, who is signed in, the alerts."""
        self._last_input = self._last_full_reload = self.clock.monotonic()
        self.set_timer(GC_PAUSE_SECONDS, memory.resume, name="admin-gc")
        # Who is signed in (and whether they still may) is asked once the console's first
        # frame is drawn: asked now, its worker ran (ORM lookups, in Python) alongside that
        # first layout and render, each taking the GIL from the other (10-20 ms more to the
        # first frame). The first frame never had the answer anyway.
        self.call_after_refresh(self._ask_who)
        timeout = max(1, int(self.services.settings.admin_idle_timeout))
        self._console_timers = [
            self.set_interval(min(1.0, timeout / 4), self.check_idle_timeout, name="admin-idle"),
            self.set_interval(POLL_SECONDS, self._poll, name="admin-poll"),
        ]
        self.show_kept_outcomes()
        self._show_alerts()

    def _ask_who(self) -> None:
        if self.is_attached and self.locked_reason is None:
            run_db(self, self._who, self._signed_in, self._refused, group="who")

    def _who(self) -> Any:
        admin = self.services.admin.admin(self.admin_code)
        integrity = getattr(self.services, "integrity", None)
        notify = getattr(self.services, "notify", None)
        return (
            admin,
            integrity.last_check() if integrity is not None else None,
            len(notify.status()) if notify is not None else 0,
        )

    def _signed_in(self, found: Any) -> None:
        admin, self.integrity, unsent = found
        self._show_alerts()
        self.admin_name = admin.name
        school = self.services.settings.school_name
        self.query_one("#console-title", Static).update(
            plain(f"Admin console · {admin.name} ({admin.code}) · {school}")
        )
        zone = self.services.settings.zone
        now = format_local(self.services.ctx.clock(), zone, "%a %d %b %Y")
        check = check_line(self.integrity, zone)
        if unsent:
            check += f" · ⚠ {unsent} notice(s) not sent (kiosk notify --status)"
        self.query_one("#console-who", Static).update(plain(f"{now} · {check}"))

    def _refused(self, message: str) -> None:
        self.app.notify(
            display_text(message), title="Admin console", severity="error", timeout=8, markup=False
        )
        self._close("refused")

    # --- alerts: lockouts reported at sign-in, database trouble ---------------------------

    def _show_alerts(self) -> None:
        lines = []
        if self.lockouts:
            zone = self.services.settings.zone
            times = ", ".join(format_local(t, zone, "%a %d %b %H:%M") for t in self.lockouts)
            count = len(self.lockouts)
            lines.append(
                f"⚠ Since the last admin sign-in, five wrong PINs locked the console "
                f"{count} time{'s' if count != 1 else ''}: {times}. "
                "Each is in the register (Admin console locked)."
            )
        integrity = check_alert(self.integrity, self.services.settings.zone)
        if integrity:
            lines.append(integrity)
        if self._db_alert:
            lines.append(f"⚠ {self._db_alert}")
        lines.extend(f"While the console was locked: {text}" for text in self._kept)
        alert = self.query_one("#console-alert", Static)
        alert.update(plain("\n".join(lines), multiline=True))
        alert.set_class(bool(lines), "-shown")

    # --- views -----------------------------------------------------------------------------

    def pane(self, key: str) -> Pane:
        return self.query_one(f"#view-{key}", Pane)

    def active_pane(self) -> Pane | None:
        active = self.query_one("#console-tabs", TabbedContent).active
        if not active:
            return None
        try:
            return self.pane(active.removeprefix("tab-"))
        except NoMatches:  # not built yet: it loads when it is
            return None

    async def build_view(self, key: str) -> Pane:
        """The view of tab ``key``, built (composed and mounted) on first use."""
        building = self._building.get(key)
        if building is not None:  # asked again while it is being mounted
            await building
        try:
            return self.pane(key)
        except NoMatches:
            pass
        view = {k: v for k, _, v in VIEWS}[key]
        pane = view(self.services, self.admin_code, id=f"view-{key}")
        self._building[key] = mounting = self.query_one(f"#tab-{key}", TabPane).mount(pane)
        try:
            await mounting
        finally:
            self._building.pop(key, None)
        return pane

    async def action_show_view(self, number: int) -> None:
        if 1 <= number <= len(VIEWS):
            await self._activate(VIEWS[number - 1][0])

    async def action_step_view(self, step: int) -> None:
        tabs = self.query_one("#console-tabs", TabbedContent)
        keys = [key for key, _, _ in VIEWS]
        active = tabs.active.removeprefix("tab-")
        index = keys.index(active) if active in keys else 0
        await self._activate(keys[(index + step) % len(keys)])

    async def _activate(self, key: str) -> None:
        # Built before it is shown, so the view is there (and queryable) once it is active.
        await self.build_view(key)
        self.query_one("#console-tabs", TabbedContent).active = f"tab-{key}"

    @on(TabbedContent.TabActivated)
    async def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        key = (event.pane.id or "").removeprefix("tab-")
        if key not in {k for k, _, _ in VIEWS}:
            return
        first = key not in self._shown
        self._shown.add(key)
        pane = await self.build_view(key)
        if not (first and pane.LOADS_ON_MOUNT):
            pane.load()
        tables = list(pane.query(DataTable))
        # A field of this view keeps the cursor; one of the view just left (hidden now) not.
        focused = self.focused
        keep = isinstance(focused, Input | Select) and focused in pane.query("*")
        if isinstance(pane, ExportPane):
            pane.offer(self._register_filters())
        elif tables and not keep:
            tables[0].focus()

    def _register_filters(self) -> RegisterFilter:
        """The filters the register view has now (none before it is built)."""
        try:
            return self.query_one(RegisterPane).filters
        except NoMatches:
            return RegisterFilter()

    @on(ExportRequested)
    async def _export_requested(self, event: ExportRequested) -> None:
        event.stop()
        await self._activate("export")
        self.query_one(ExportPane).prefill(event.day, event.filters)

    # --- live refresh ------------------------------------------------------------------------

    def _poll(self) -> None:
        run_db(
            self,
            self.services.register.last_event_id,
            self._polled,
            self._poll_failed,
            group="poll",
        )

    def _polled(self, last_id: int) -> None:
        if self._db_alert:
            self._db_alert = None
            self._show_alerts()
        # The first poll has nothing to compare with: what was written between the view's
        # first page and this poll (another kiosk, within the first seconds) would be missed
        # until the next full reload, so the view is read again once.
        changed = last_id != self.last_event_id
        self.last_event_id = last_id
        stale = self.clock.monotonic() - self._last_full_reload >= FULL_RELOAD_SECONDS
        if changed or stale:
            self._last_full_reload = self.clock.monotonic()
            pane = self.active_pane()
            if pane is not None:
                pane.load()

    def _poll_failed(self, message: str) -> None:
        self._db_alert = f"{message} What is shown may be out of date."
        self._show_alerts()

    # --- idle lock ---------------------------------------------------------------------------

    def touch(self) -> None:
        """Input happened: the idle lock starts counting again."""
        self._last_input = self.clock.monotonic()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, ACTIVITY_EVENTS):
            self.touch()
        await super().on_event(event)

    @on(Input.Changed)
    @on(Select.Changed)
    @on(DataTable.RowHighlighted)
    def _input_activity(self) -> None:
        self.touch()

    def check_idle_timeout(self) -> None:
        """Locks the console after ``admin_idle_timeout`` without input (``clock_of(app)``).
        Not while a dialog saves what the office confirmed (a correction: locked then, the
        dialog went with it and nobody was told whether it had been saved), for at most
        SAVE_HOLD_SECONDS: the idle time counts from its answer. A view's work (an export, a
        retirement) does not hold it: the console locks, the work goes on, and the console
        opened next shows its outcome."""
        now = self.clock.monotonic()
        if self._saving():
            if self._saving_since is None:
                self._saving_since = now
            if now - self._saving_since < SAVE_HOLD_SECONDS:
                self.touch()
                return
        else:
            self._saving_since = None
        idle = now - self._last_input
        if idle >= self.services.settings.admin_idle_timeout:
            minutes, seconds = divmod(int(self.services.settings.admin_idle_timeout), 60)
            span = f"{minutes} minute{'s' if minutes != 1 else ''}" if minutes else ""
            if seconds:
                span += f"{' ' if span else ''}{seconds} second{'s' if seconds != 1 else ''}"
            said = f"The admin console locked itself after {span} without input."
            if any(w.group in KEPT_GROUPS and not w.is_finished for w in self.app.workers):
                said += (
                    " An export or a retirement was still running: it goes on, and its "
                    "outcome is shown when the console is opened again."
                )
            if self._saving():
                said += " A save was still running: check in the register whether it was made."
            self.app.notify(said, title="Admin console locked")
            self._close("idle")

    def _saving(self) -> bool:
        """A dialog over the console is saving (it blocks the console), or the app is
        recording who closed it."""
        if any(isinstance(s, FormDialog) and s.busy for s in self.app.screen_stack):
            return True
        return any(w.group == "exit" and not w.is_finished for w in self.workers)

    def show_kept_outcomes(self) -> None:
        """Work that went on after a console locked itself (an export, a retirement): what
        it did, shown once this console is open (kiosk.ui.admin.workers.run_db's ``kept``)."""
        if self.locked_reason is not None or not self.is_attached:
            return
        kept = kept_outcomes(self.app)
        if kept:
            self._kept.extend(kept)
            self._show_alerts()

    # --- leaving ---------------------------------------------------------------------------------

    def register_drawn(self) -> None:
        """The register's first page is on screen: the console is built (tuning piece ``gc``:
        collection resumes, and what is alive is frozen out of the full passes while it is
        open). Closed by then (the first page drawn just as the office locked it), it does
        neither: frozen now, the closed console would be kept out of every collection."""
        if self.locked_reason is not None:
            return
        if not self._ready:
            self._ready = True
            memory.console_ready()
        else:
            memory.resume()

    def _close(self, reason: str) -> None:
        if self.locked_reason is not None:
            return
        self.locked_reason = reason
        for timer in self._console_timers:
            timer.stop()
        # Collected in full once it can be (its stopped timers let go of it after their next
        # tick), while someone reads a screen, not in the middle of their next scan.
        memory.console_closed(POLL_SECONDS + 0.5, self)
        if self.is_attached and self in self.app.screen_stack:
            self.pop_until_active()
            self.dismiss(None)

    def on_screen_suspend(self) -> None:
        """Taken off the screen stack by the app (its way home after an unexpected error,
        say) rather than closed: closed all the same (its timers stop)."""
        self.keys_ready = False
        if self.locked_reason is None and self.is_attached and self not in self.app.screen_stack:
            self._close("left")

    def action_lock(self) -> None:
        self._close("locked")

    @property
    def _closes_kiosk(self) -> bool:
        """Whether F10 closes the kiosk app (the console inside it) or only this console
        (``kiosk admin`` on the office machine: the kiosk in the staff room keeps running, and
        nothing is recorded as closed)."""
        return bool(getattr(self.app, "CLOSES_KIOSK", True))

    def action_close_console(self) -> None:
        self.action_exit_kiosk()

    def action_exit_kiosk(self) -> None:
        if not self._closes_kiosk:

            def close(yes: bool | None) -> None:
                if yes:
                    for timer in self._console_timers:
                        timer.stop()
                    self.app.exit()

            self.app.push_screen(
                ConfirmDialog(
                    "Close the admin console? The kiosk in the staff room keeps running.",
                    yes="Close the console",
                    title="Close the console",
                    activity=self.touch,
                ),
                close,
            )
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._exit_app()

        self.app.push_screen(
            ConfirmDialog(
                "Exit the kiosk app? The staff-room screen closes, and nothing can be recorded "
                "on this machine until the kiosk is started again.",
                yes="Exit the kiosk app",
                title="Exit the kiosk app",
                activity=self.touch,
            ),
            confirmed,
        )

    def _exit_app(self) -> None:
        """Record who closed the app (an admin_action event), then close it. If that cannot
        be recorded (the database is away, or too slow), the app closes all the same and the
        log says it was not recorded."""
        code = self.admin_code
        left = False

        def leave() -> None:
            nonlocal left
            if left:
                return
            left = True
            for timer in self._console_timers:
                timer.stop()
            # The kiosk app's own way out (it logs that an admin closed it), else a plain exit.
            exit_kiosk = getattr(self.app, "exit_kiosk", None)
            if callable(exit_kiosk):
                exit_kiosk()
            else:
                self.app.exit()

        def recorded(event_id: int) -> None:
            log.info("kiosk app closed by %s from the admin console (event %s)", code, event_id)
            leave()

        def not_recorded(message: str) -> None:
            log.warning(
                "kiosk app closed by %s from the admin console; NOT recorded in the register: %s",
                code,
                message,
            )
            leave()

        def too_slow() -> None:
            if not left:
                not_recorded(f"the database did not answer within {EXIT_WAIT_SECONDS:g} s")

        self.app.notify("Closing the kiosk app…", title="Admin console", timeout=EXIT_WAIT_SECONDS)
        self.set_timer(EXIT_WAIT_SECONDS, too_slow, name="admin-exit")
        run_db(
            self,
            lambda: self.services.admin.record_app_closed(code, where="admin console"),
            recorded,
            not_recorded,
            group="exit",
        )

    @on(Button.Pressed, "#console-lock")
    def _lock_pressed(self) -> None:
        self.action_lock()

    @on(Button.Pressed, "#console-exit")
    def _exit_pressed(self) -> None:
        self.action_exit_kiosk()


def _breakpoint(size: int, breakpoints: list[tuple[int, str]]) -> list[str]:
    """The class of the largest breakpoint ``size`` reaches (as Textual's screens pick it)."""
    for breakpoint, name in sorted(breakpoints, reverse=True):
        if size >= breakpoint:
            return [name]
    return []

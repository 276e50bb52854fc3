"""Breakfast-club mode: the lead logs colleagues' phones into the administrator's locked
drawer, one badge scan each; hands them back; undoes the last scan (a correction event);
and moves them all to the staff-room store when breakfast club ends."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from time import monotonic
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Static

from kiosk.domain.errors import KioskError, NotAKioskCode, NotFound
from kiosk.domain.events import BREAKFAST_DRAWER_STORE
from kiosk.domain.scan import ScanKind, parse_scan
from kiosk.domain.text import display_text, one_line, shortened, text_width
from kiosk.ui.base import (
    READ_SECONDS,
    KioskScreenMixin,
    StaffScreen,
    said_on_the_kiosk,
    shown_code,
)
from kiosk.ui.formats import clock_time
from kiosk.ui.widgets import ERROR_MARK, OK_MARK, CodeField, Notice, TouchButton, assemble

if TYPE_CHECKING:
    from collections.abc import Callable

    from kiosk.services.app import Services
    from kiosk.services.people import ScanResult
    from kiosk.services.views import EventReceipt, PhoneHolding, StaffInfo

log = logging.getLogger("kiosk.ui")

MODES = {
    "in": ("LOGGING PHONES IN", "scan each colleague's badge: their phone goes into the drawer"),
    "back": ("HANDING PHONES BACK", "scan each colleague's badge as you give the phone back"),
}
MOVE_CONFIRM_SECONDS = 10.0
# The second F8 confirms only once the question has been up READ_SECONDS: F8 pressed twice
# 80 ms apart (or bouncing) moved every phone without the question being seen. So for F4:
# an undo this soon after the last one was shown is the same press again (F4 twice at once
# undid the last two colleagues' scans, the second before "Undone: …" had been seen).
# A session left this long without a key, a tap or a scan (a multiple of the idle timeout:
# two minutes by default) pauses: the lead may have gone to class with it open, and the next
# badge is not the lead's to log. Only the lead's own badge (or code) goes on with it.
PAUSE_FACTOR = 4.0


@dataclass
class Entry:
    receipt: EventReceipt
    action: str  # "in" or "back"
    undone: bool = False
    # When it was put on the screen (time.monotonic(), a key's own clock on Linux).
    shown_at: float = field(default_factory=monotonic)

    @property
    def name(self) -> str:
        return self.receipt.staff.name if self.receipt.staff else "?"


@dataclass(frozen=True)
class Refusal:
    """A code read and refused (nothing recorded): kept in the running list with the scans, so
    that a refusal in a queue of colleagues is still on the screen after the next scan."""

    at: datetime
    code: str  # as the list shows it: its first characters, or the colleague's name
    reason: str  # a few words
    key: str = ""  # the code itself (not shown): dropped from the list once it is recorded


LIST_KEEP = 50
"""The running list keeps this many lines (scans and refusals), the newest."""
SHOWN_CHARS = 3
"""A refused code is listed by its first characters only (a password typed by mistake is not
kept on the shared screen for the session)."""


def short_code(code: str) -> str:
    """A refused code as the running list shows it: "EPA…" (a PIN-shaped number masked)."""
    shown = shown_code(code)
    return shown if len(shown) <= SHOWN_CHARS + 1 else shown[:SHOWN_CHARS] + "…"


def short_reason(error: KioskError) -> str:
    """Why a code was not recorded, in a few words, for the running list (the line under the
    field has the whole message)."""
    if isinstance(error, NotAKioskCode):
        return "not a kiosk code"
    if isinstance(error, NotFound):
        return "no one has this code"
    first = said_on_the_kiosk(error).split(". ")[0].rstrip(".")
    return first if len(first) <= 40 else first[:39] + "…"


class BreakfastScreen(StaffScreen):
    # A lead collects phones as colleagues arrive: ten times the usual idle timeout.
    IDLE_FACTOR = 10.0
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "done", "Leave", show=False),
        # Function keys: a colleague's code typed by the lead (DPHILLIPS) is read as a code
        # when Enter comes, never as keys.
        Binding("f2", "mode('in')", "Phones in", show=False),
        Binding("f3", "mode('back')", "Hand back", show=False),
        Binding("f4", "undo", "Undo last", show=False),
        Binding("f8", "move_all", "Move all", show=False),
    ]

    def __init__(self, lead: StaffInfo) -> None:
        super().__init__(classes="breakfast-screen")
        self.lead = lead
        self.mode = "in"
        self.entries: list[Entry] = []
        # The running list, newest last: each scan recorded and each code refused.
        self.listed: list[Entry | Refusal] = []
        self.in_drawer: tuple[PhoneHolding, ...] = ()
        self._move_armed_at: float | None = None  # (the app's clock: MOVE_CONFIRM_SECONDS)
        # When F8's question and the last undo were shown (time.monotonic(), a key's own
        # clock: the press after them is timed by when it was pressed, see pressed_at).
        self._move_asked_at: float | None = None
        self._undone_at: float | None = None
        # When a key, a tap or a scan last came (the app's clock), and whether the session
        # has paused since (see PAUSE_FACTOR).
        self._active_at: float | None = None  # (None: since it was shown)
        self.paused = False
        # A code refused since the last scan recorded (as typed), and when F4 last said that
        # it has nothing to undo for it (a key's own clock): see action_undo.
        self._refused_code: str | None = None
        self._refused_reason = ""  # why it was refused, said again by F4
        self._undo_asked_at: float | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="breakfast"):
            yield Static(
                assemble(
                    ("Breakfast club", "bold"),
                    "  ·  phones go into the administrator's locked drawer  ·  recorded by ",
                    (self.lead.name, "bold"),
                ),
                id="bc-title",
            )
            yield Static("", id="bc-mode")
            yield Static("", id="bc-drawer")
            yield CodeField(placeholder="Scan a badge or type a staff code, then Enter")
            yield Notice(id="notice")
            with VerticalScroll(id="bc-log", can_focus=False):
                yield Static("", id="bc-entries")
            with Grid(id="bc-actions"):
                yield TouchButton("Log phones in", key="F2", id="bc-in")
                yield TouchButton("Hand phones back", key="F3", id="bc-back")
                yield TouchButton("Undo last", key="F4", id="bc-undo")
                yield TouchButton("All to staff room", key="F8", id="bc-move")
                yield TouchButton("Leave", key="Esc", id="bc-leave")

    def on_mount(self) -> None:
        self._refresh_view()
        self.query_one(CodeField).focus()
        self.call(_drawer, self._drawer_loaded)
        self._active_at = self.kiosk.clock.monotonic()
        self.set_interval(1.0, self._pause_if_left, name="breakfast-pause")

    # --- a session left open ----------------------------------------------------------------

    @property
    def pause_seconds(self) -> float:
        timeout = self.kiosk.settings.idle_timeout
        return float(timeout if timeout > 0 else 30) * PAUSE_FACTOR

    def _pause_after(self) -> str:
        """``pause_seconds`` in words: "2 minutes", "20 seconds"."""
        seconds = round(self.pause_seconds)
        if seconds < 90:
            return f"{seconds} seconds"
        minutes = round(seconds / 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"

    def _pause_if_left(self) -> bool:
        """Pause the session when nothing has come for ``pause_seconds``: True if paused."""
        now = self.kiosk.clock.monotonic()
        if self._active_at is None:
            self._active_at = now
        if not self.paused and now - self._active_at >= self.pause_seconds:
            self.paused = True
            self._move_armed_at = None
            self.clear_notice()
            self._refresh_view()
        return self.paused

    def _active(self) -> bool:
        """Something came from the keyboard, a tap or a scanner: False (and said) when the
        session has paused, so it does nothing but what the lead's badge or Esc does."""
        paused = self._pause_if_left()
        self._active_at = self.kiosk.clock.monotonic()
        if paused:
            self.show_error(self._paused_words(), title="Paused")
        return not paused

    def _paused_words(self) -> str:
        lead = self.lead.name
        return (
            f"Breakfast club was left open with nothing scanned for a while: nothing is "
            f"recorded until {lead} scans their own badge (or types their code) to go on. "
            "Anyone else: press Esc, then scan your badge."
        )

    def take_key(self, event: events.Key) -> bool:
        self._pause_if_left()  # before the key: left alone, the keys are the next person's
        self._active_at = self.kiosk.clock.monotonic()
        return super().take_key(event)

    def _resume_or_hand_over(self, text: str, code: str) -> None:
        """A badge or code on a paused session: the lead's goes on with it; anyone else's
        closes it (nothing recorded) and opens their own screen, as on the home screen."""
        if code.casefold() == self.lead.code.casefold():
            self.paused = False
            self._refresh_view()
            self.show_info(f"Going on, {self.lead.name}: scan the next colleague's badge.")
            return

        def answered(result: ScanResult) -> None:
            if result.staff is None:
                self.show_error(self._paused_words(), title="Paused")
                return
            lead = self.lead.name
            kiosk = self.kiosk
            kiosk.go_home()
            home = kiosk.home
            if home is None:
                return
            home.take_result(result)

            def say() -> None:
                screen = self.app.screen
                if isinstance(screen, KioskScreenMixin) and screen is not self:
                    screen.show_info(
                        f"Breakfast club ({lead}) had been left open: it is closed now, "
                        "and nothing was recorded for you there."
                    )

            self.app.call_after_refresh(say)

        self.call(lambda s: s.people.resolve_scan(text), answered)

    def enter_pressed(self) -> None:
        if self.paused:
            self.show_error(self._paused_words(), title="Paused")
            return
        title, _hint = MODES[self.mode]
        self.show_info(f"{title.capitalize()}: scan a colleague's badge or type their code.")

    # --- display -----------------------------------------------------------------------------

    def _refresh_view(self) -> None:
        title, hint = MODES[self.mode]
        arrow = "⬇" if self.mode == "in" else "⬆"
        after = self._pause_after()
        if self.paused:
            self.query_one("#bc-mode", Static).update(
                assemble(
                    (" ⏸ PAUSED ", "bold reverse"),
                    f"  nothing scanned for {after}: ",
                    (self.lead.name, "bold"),
                    ", scan your own badge to go on. Anyone else: Esc, then your badge.",
                )
            )
        else:
            self.query_one("#bc-mode", Static).update(
                assemble(
                    (f" {arrow} {title} ", "bold reverse"),
                    f"  {hint}. (Pauses after {after} without a scan.)",
                )
            )
        self.query_one("#bc-in").set_class(self.mode == "in", "-armed")
        self.query_one("#bc-back").set_class(self.mode == "back", "-armed")
        count = len(self.in_drawer)
        heading = f"In the drawer now: {count} phone{'s' if count != 1 else ''}"
        # Two lines at most: every name, sixty phones on a busy morning, pushed the list of
        # scans (the one thing the lead reads) off the screen.
        columns = 2 * max(self.app.size.width - 4, 40) - len(heading) - 2
        names = _names_within([h.staff.name for h in self.in_drawer], columns)
        self.query_one("#bc-drawer", Static).update(
            assemble((heading, "bold"), f"  {names}" if names else "")
        )
        zone = self.kiosk.settings.zone
        lines: list[Content] = []
        for entry in reversed(self.listed):
            if isinstance(entry, Refusal):
                at = clock_time(entry.at, zone)
                lines.append(
                    assemble(
                        f"{at}  ",
                        (f"{ERROR_MARK} NOT RECORDED ", "bold"),
                        f"{entry.code}: {entry.reason}",
                    )
                )
                continue
            at = clock_time(entry.receipt.occurred_at, zone)
            what = "phone into the drawer" if entry.action == "in" else "phone handed back"
            if entry.undone:
                lines.append(
                    assemble(f"{at}  ", (f"{ERROR_MARK} UNDONE ", "bold"), f"{entry.name}: {what}")
                )
            else:
                lines.append(assemble(f"{at}  ", (f"{OK_MARK} ", "bold"), f"{entry.name}: {what}"))
        if not lines:
            lines.append(Content("Nothing scanned yet in this session."))
        self.query_one("#bc-entries", Static).update(Content("\n").join(lines))

    def _drawer_loaded(self, holdings: tuple[PhoneHolding, ...]) -> None:
        if not self.is_attached:
            # Read again beside the calls (``_drawer_read``), it can answer after the lead
            # left: drawn on the screen left behind, it was "Something went wrong" at home.
            return
        self.in_drawer = holdings
        self._refresh_view()

    # --- scans ------------------------------------------------------------------------------

    def handle_scan(self, text: str) -> None:
        self.clear_notice()
        self._move_armed_at = None
        paused = self._pause_if_left()
        self._active_at = self.kiosk.clock.monotonic()
        try:
            scan = parse_scan(text)
        except KioskError as exc:
            self._refused_code = text.strip()
            self._list_refusal(text, short_reason(exc), said=said_on_the_kiosk(exc))
            self.show_error(exc)
            return
        if paused and scan.kind is not ScanKind.DEVICE:
            self._resume_or_hand_over(text, scan.code)
            return
        if scan.kind is ScanKind.DEVICE:
            self._refused_code = text.strip()
            self._list_refusal(scan.code, "a label, not a badge")
            self.show_error(
                "Breakfast-club mode logs phones: scan a colleague's badge. "
                "(Leave the mode with Esc to sign a laptop out.)",
                title="Not a badge",
            )
            return
        code, lead, mode = scan.code, self.lead.code, self.mode

        def work(s: Services) -> tuple[EventReceipt, tuple[PhoneHolding, ...] | None]:
            s.people.refuse_ambiguous(text)  # typed: a staff code that is also a label?
            if mode == "in":
                receipt = s.phones.deposit(code, BREAKFAST_DRAWER_STORE, recorded_by=lead)
            else:
                receipt = s.phones.collect(code, BREAKFAST_DRAWER_STORE, recorded_by=lead)
            return receipt, _drawer_after(s)

        self.call(work, lambda result: self._recorded(result, mode), self._not_logged(code))

    def _not_logged(self, code: str) -> Callable[[KioskError], None]:
        """A refusal names whose scan it was (the lead has a queue of colleagues: with the
        database away, "not recorded" alone does not say whose phone to log again)."""

        def failed(exc: KioskError) -> None:
            self._refused_code = code
            said = said_on_the_kiosk(exc)
            if isinstance(exc, NotFound):
                self._list_refusal(code, short_reason(exc), said=said)
                self.show_error(said, title=exc.title)
                return
            # Not recorded for another reason (the database away): whose scan it was, by
            # name when this session knows the code, else as quoted (a PIN-shaped number
            # masked: then "the code just scanned", the newest line in the list).
            known = self._known_name(code)
            shown = shown_code(code)
            who = known or ("the code just scanned" if shown != code.strip() else shown)
            reason = short_reason(exc)
            if known and reason.startswith(f"{known}'s "):
                reason = reason[len(known) + 3 :]  # "Alice Smith: phone is already in ..."
            self._list_refusal(code, reason, who=known, said=said)
            self.show_error(said, title=f"{exc.title} for {who}")

        return failed

    def _list_refusal(
        self, code: str, reason: str, *, who: str | None = None, said: str | None = None
    ) -> None:
        """List a refusal on one line (``reason`` in a few words); F4 says ``said`` (the whole
        message, as the kiosk shows it) again."""
        self._refused_reason = display_text(one_line(said or reason)).strip()
        shown = display_text(who) if who else f"“{short_code(code)}”"
        reason = display_text(one_line(reason))
        key = code.strip().upper()
        self.listed.append(Refusal(self.kiosk.clock.now(), shown, reason, key))
        del self.listed[:-LIST_KEEP]
        self._refresh_view()

    def _known_name(self, code: str) -> str | None:
        """The name of whoever has ``code``, when this session has seen it (their scan listed
        or their phone in the drawer): else None."""
        wanted = code.strip().upper()
        people = [h.staff for h in self.in_drawer]
        people += [e.receipt.staff for e in reversed(self.entries) if e.receipt.staff]
        return next((p.name for p in people if p.code.upper() == wanted), None)

    def _drawer_read(self, drawer: tuple[PhoneHolding, ...] | None) -> None:
        """The drawer's phones as read after a scan or an undo was stored; when that read
        failed, read again beside the next calls (the list shown meanwhile is the last one)."""
        if drawer is not None:
            self.in_drawer = drawer
        else:
            self.kiosk.gateway.read(_drawer, self._drawer_loaded)

    def _recorded(
        self, result: tuple[EventReceipt, tuple[PhoneHolding, ...] | None], mode: str
    ) -> None:
        receipt, drawer = result
        self._drawer_read(drawer)
        self._undone_at = None  # a new scan: F4 now undoes it
        self._refused_code = self._undo_asked_at = None
        entry = Entry(receipt, mode)
        self.entries.append(entry)
        # A code refused before (the database away) and now recorded: its refusal is done with.
        code = receipt.staff.code.upper() if receipt.staff else None
        self.listed = [e for e in self.listed if not (isinstance(e, Refusal) and e.key == code)]
        self.listed.append(entry)
        del self.listed[:-LIST_KEEP]
        self._refresh_view()
        at = clock_time(receipt.occurred_at, self.kiosk.settings.zone)
        self.query_one("#notice", Notice).show("ok", f"{receipt.summary}: {entry.name} ({at}).")

    # --- keys ---------------------------------------------------------------------------------

    def action_mode(self, mode: str) -> None:
        if not self._active():
            return
        self.mode = mode
        self._move_armed_at = None
        self.clear_notice()
        self._refresh_view()

    def action_undo(self) -> None:
        if self.kiosk.busy or not self._active():
            return
        undone, pressed = self._undone_at, self.pressed_at()
        if undone is not None and pressed - undone < READ_SECONDS:
            return  # the same press again (typed before the last undo was shown): not read
        asked = self._undo_asked_at
        if asked is not None and pressed - asked < READ_SECONDS:
            return  # the same press again: what F4 said has not been read
        self._move_armed_at = None
        entry = next((e for e in reversed(self.entries) if not e.undone), None)
        if entry is None:
            self.show_error("There is nothing to undo in this session.", title="Nothing to undo")
            return
        refused, self._refused_code = self._refused_code, None
        if refused is not None:
            # A code was refused after this scan (mistyped, a label): F4 is most likely meant
            # to take that mistake back, which recorded nothing. Undone at once, it voided the
            # colleague before, whose phone is in the drawer. Said first; F4 again undoes.
            self._undo_asked_at = monotonic()
            why = self._refused_reason
            if why and not why.endswith((".", "!", "?")):
                why += "."
            self.show_info(
                f"“{shown_code(refused)}” was not recorded: there is nothing to undo for it."
                + (f" Why: {why}" if why else "")
                + f" To undo {entry.name}'s scan (the last one recorded), press F4 again."
            )
            return
        self._undo_asked_at = None
        if pressed < entry.shown_at:  # (a tap: now)
            # F4 was pressed before this scan was on the screen (it waited while a colleague's
            # badge, scanned as it was pressed, was recorded): it was meant for the one before.
            self.show_error(
                f"F4 came while {entry.name}'s scan was being recorded: nothing was undone. "
                f"Press F4 again to undo {entry.name}'s scan.",
                title="Not undone",
            )
            return
        event_id, lead = entry.receipt.event_id, self.lead.code

        def work(s: Services) -> tuple[EventReceipt, tuple[PhoneHolding, ...] | None]:
            return s.register.undo(event_id, recorded_by=lead), _drawer_after(s)

        self.call(work, lambda result: self._undone(entry, result))

    def _undone(
        self, entry: Entry, result: tuple[EventReceipt, tuple[PhoneHolding, ...] | None]
    ) -> None:
        _receipt, drawer = result
        self._drawer_read(drawer)
        entry.undone = True
        self._refused_code = None
        self._undone_at = monotonic()
        self._refresh_view()
        self.query_one("#notice", Notice).show(
            "ok", f"Undone: {entry.name}'s scan (kept in the register as a correction)."
        )

    def repeat_matters(self, key: str) -> bool:
        # F4 again undoes the scan before; F8 again, once asked, moves every phone. Asked or
        # not when the key comes: a key may wait behind a call while the question is asked.
        return key in ("f4", "f8")

    def action_move_all(self) -> None:
        if self.kiosk.busy or not self._active():
            return
        count = len(self.in_drawer)
        if count == 0:
            # The list shown may be out of date (a read after a scan failed, or is still
            # coming): the register says whether the drawer is empty, never the list alone.
            self.call(_drawer, self._drawer_read_for_move)
            return
        armed, now = self._move_armed_at, self.kiosk.clock.monotonic()
        asked = self._move_asked_at
        if armed is not None and asked is not None and self.pressed_at() - asked < READ_SECONDS:
            return  # the same press again (a double press, a key bouncing): not yet read
        if armed is None or now - armed > MOVE_CONFIRM_SECONDS:
            self._move_armed_at, self._move_asked_at = now, monotonic()
            which = (
                f"{self.in_drawer[0].staff.name}'s phone" if count == 1 else f"all {count} phones"
            )
            self.show_info(
                f"Move {which} from the drawer to the staff-room store? Press F8 again to confirm."
            )
            return
        self._move_armed_at = None
        lead = self.lead.code
        self.call(lambda s: s.phones.move_all(lead), self._moved)

    def _drawer_read_for_move(self, holdings: tuple[PhoneHolding, ...]) -> None:
        self.in_drawer = holdings
        self._refresh_view()
        if holdings:
            self.action_move_all()  # asks for F8 again, naming what the register holds
        else:
            self.show_info("The drawer is empty: there is nothing to move.")

    def _moved(self, receipts: tuple[EventReceipt, ...]) -> None:
        count = len(receipts)
        names = [r.staff.name for r in receipts if r.staff is not None]
        self.kiosk.confirm(
            f"{count} phone{'s' if count != 1 else ''} moved to the staff-room store",
            [f"Recorded by {self.lead.name}.", ", ".join(names)] if names else [],
            receipts[0].occurred_at if receipts else None,
        )

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        actions = {
            "bc-in": lambda: self.action_mode("in"),
            "bc-back": lambda: self.action_mode("back"),
            "bc-undo": self.action_undo,
            "bc-move": self.action_move_all,
            "bc-leave": self.action_done,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            self.tapped()
            action()


def _drawer(services: Services) -> tuple[PhoneHolding, ...]:
    return tuple(h for h in services.phones.phones_now() if h.store.code == BREAKFAST_DRAWER_STORE)


def _drawer_after(services: Services) -> tuple[PhoneHolding, ...] | None:
    """The drawer's phones, read for the screen after a scan or an undo was stored (its
    transaction committed): None when the database fails that read. The write stands and is
    confirmed: said "Not recorded", a phone the register holds was scanned again ("already
    in the drawer") and its F4 could not undo it."""
    try:
        return _drawer(services)
    except KioskError as exc:
        log.warning("the drawer could not be read after a write: %s", exc.message)
        return None


def start_breakfast(screen: KioskScreenMixin, lead: StaffInfo) -> None:
    """From ``screen``: breakfast-club mode for ``lead``, over home."""
    screen.kiosk.go_home()
    screen.app.push_screen(BreakfastScreen(lead))


def _names_within(names: list[str], columns: int) -> str:
    """``names`` joined by commas in at most ``columns`` columns: as many as fit, then
    "… and 9 more"."""
    everyone = ", ".join(names)
    if text_width(everyone) <= columns:
        return everyone
    budget = max(columns - len(" … and 9999 more"), 10)
    shown: list[str] = []
    used = 0
    for name in names:
        width = text_width(name) + (2 if shown else 0)
        if used + width > budget:
            break
        shown.append(name)
        used += width
    if not shown:  # one name longer than the room
        shown = [shortened(names[0], budget)]
    return f"{', '.join(shown)} … and {len(names) - len(shown)} more"

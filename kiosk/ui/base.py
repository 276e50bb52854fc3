"""What every staff-facing screen shares: scans, service calls, messages, the idle timeout.

A screen reaches a use case with ``self.call(work, done, failed)`` (the gateway,
``kiosk/ui/gateway.py``) and the app through ``self.kiosk`` (``KioskHost``,
``kiosk/ui/host.py``); it shows the next screen itself, by its class (``push_screen``), or
through the host's few moves (home, a kept screen over home, the confirmation)."""

from __future__ import annotations

import re
from collections.abc import Callable
from time import monotonic
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from rich.style import Style as RichStyle
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.screen import ModalScreen, Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Button, Input, OptionList

from kiosk.domain.errors import AmbiguousCode, KioskError
from kiosk.domain.scan import mask_pin_shaped, may_be_the_pin
from kiosk.domain.text import display_text, one_line
from kiosk.ui.keys import FUNCTION_KEYS
from kiosk.ui.text import show_toast
from kiosk.ui.widgets import ActionPad, CodeField, Notice

if TYPE_CHECKING:
    from kiosk.services.app import Services
    from kiosk.services.people import ScanResult
    from kiosk.services.views import EventReceipt, StaffInfo
    from kiosk.ui.host import KioskHost

T = TypeVar("T")
W = TypeVar("W", bound=Widget)


class KioskScreenMixin:
    """Mixed into Screen and ModalScreen subclasses of the kiosk."""

    ACCEPTS_SCANS: ClassVar[bool] = True
    # Seconds without input before the screen gives up and goes home: a multiple of
    # settings.idle_timeout (None: the screen never times out by itself).
    IDLE_FACTOR: ClassVar[float | None] = 1.0

    app: Any
    query_one: Any

    def __init__(self, *args: Any, classes: str | None = None, **kwargs: Any) -> None:
        # "kiosk-screen": the kiosk's styles apply to its own screens only (not to the admin
        # console's, which runs inside the same app).
        super().__init__(*args, classes=f"kiosk-screen {classes or ''}".strip(), **kwargs)  # type: ignore[call-arg]
        # A code is being read (from Enter with text in the code field, or a scan, until its
        # answer has been handled): an error shown meanwhile is a refusal of that code.
        self.reading_code = False
        # After a refused or unrecognised code, the next Enter with nothing typed does not do
        # the screen's main action (the person meant the code, not the action).
        self.enter_disarmed = False
        # Shown and ready for keys (the app keeps keys typed ahead until it is: kiosk/ui/keys.py).
        self.keys_ready = False
        # Counts the times the screen was shown (and, on a kept screen, loaded with something
        # else): a tap made on one showing and held behind keys is not for the next
        # (kiosk/ui/keys.py).
        self.showing = 0
        self._found: dict[str, Any] = {}
        self._free_text_checked: str | None = None  # see free_text_may_go_on
        # When the last key came on this screen (the app's clock), and what a text field of
        # the form held when typing in it began again after a pause (see typed_after_pause).
        self._key_at = float("-inf")
        self._resumed_from: tuple[Input, str] | None = None
        # And what it held when the last run of keys at a scanner's pace began (a plain
        # label scanned into it), by the keys' own clock (time.monotonic()).
        self._run_from: tuple[Input, str] | None = None
        self._key_came_at = float("-inf")
        # What was typed into an open list (its type-to-search) since a pause (None: none).
        self._list_typed: str | None = None
        # When the key being handled was pressed, by its own clock (None: a tap; see
        # pressed_at).
        self.press_time: float | None = None
        # Where the screen's tap targets were when it was last laid out (on which showing),
        # and when one last moved by itself while shown (see tap_targets_moved_at).
        self._tap_places: tuple[int, dict[Widget, tuple[Region, object]]] = (0, {})
        self.tap_targets_moved_at = float("-inf")

    @property
    def kiosk(self) -> KioskHost:
        """The app, as a screen sees it."""
        return cast("KioskHost", self.app)

    @property
    def idle_seconds(self) -> float | None:
        timeout = self.kiosk.settings.idle_timeout
        if self.IDLE_FACTOR is None or timeout <= 0:  # idle_timeout = 0: never
            return None
        return float(timeout) * self.IDLE_FACTOR

    def repeat_matters(self, key: str) -> bool:
        """Whether pressing ``key`` again on this screen may do more than its last press did
        ("Press F8 again to confirm", F4's undo of the scan before): then a repeat of the key
        held down is told from a second press (kiosk/ui/keys.py, ``HeldKeys``). By the key
        alone, not by what the screen shows as the key comes: a key may wait behind a call
        while the question is asked."""
        return False

    def on_idle_timeout(self) -> None:
        """Drop whatever was half done (nothing is recorded) and go home."""
        self.kiosk.go_home()

    def on_mount(self) -> None:
        self.screen_layout_refresh_signal.subscribe(  # type: ignore[attr-defined]
            self, self._note_tap_targets, immediate=True
        )

    def _note_tap_targets(self, _screen: object) -> None:
        """After each layout of the screen: if a button (or the pad, or a field) it shows
        has moved since the last one, on the same showing, note when (``monotonic()``, a
        tap's own clock). The layout shifts by itself (a banner comes or goes above the
        buttons, a message grows a line): a person who saw a button and reached for it lands
        on whatever is there now; the app drops a tap this soon after (``KioskApp``'s
        ``DOUBLE_TAP_SECONDS``). A screen shown afresh has moved nothing."""
        places = {
            widget: _tap_place(widget)
            for widget in self.query(Widget)  # type: ignore[attr-defined]
            if isinstance(widget, (Button, ActionPad)) or widget.focusable
        }
        showing, before = self._tap_places
        self._tap_places = (self.showing, places)
        if showing != self.showing:
            return
        if any(
            widget in before and before[widget] != place and before[widget][0] and place[0]
            for widget, place in places.items()
        ):
            self.tap_targets_moved_at = monotonic()

    def on_screen_resume(self) -> None:
        # Shown (again): what was read on it before is over.
        self.showing += 1
        self._resumed_from = None
        self.reading_code = False
        self.enter_disarmed = False
        # Ready for keys once the resume has been handled (focus and the screen's own
        # resetting done): keys typed meanwhile wait in the app's type-ahead.
        self.call_later(self._keys_resumed)  # type: ignore[attr-defined]

    def _keys_resumed(self) -> None:
        self.keys_ready = True
        self.kiosk.release_keys()

    def on_screen_suspend(self) -> None:
        if self.app.screen_stack and self.app.screen is self:
            # Late: a kept screen taken off the stack and shown again in one go (go_home, then
            # the next person's screen) gets Textual's "suspended" for the first after its
            # "resumed" for the second. It is on top: still ready (keys typed meanwhile would
            # otherwise wait the whole KEYS_WAIT_SECONDS).
            return
        self.keys_ready = False

    def pressed_at(self) -> float:
        """When the key now being handled was pressed (time.monotonic(), a key's own clock
        on Linux); now for a tap (handled as it comes: see tapped). A question's "press it
        again" counts the time it had to be read to this, not to when the kiosk got round to
        the key: a key pressed again within a second waits to be told from a key held down
        (up to 0.65 s for a function key), and a busy machine handles keys late, and that
        wait was counted as reading (F8 twice 0.3 s apart moved every phone unasked)."""
        at = self.press_time
        return at if at is not None else monotonic()

    def tapped(self) -> None:
        """A button was tapped (or clicked): what it does is timed from now."""
        self.press_time = None

    def take_key(self, event: events.Key) -> bool:
        """What is typed for the code field, read here at once (the app calls this before
        the key goes to any widget, so keys and Enters are read in the order they came):
        True when the key was the code field's. Keys for a text field of a form, or a key
        the focused part uses itself (Space on a tick box), are not taken."""
        self.press_time = event.time
        field = self.code_field
        focused = getattr(self, "focused", None)
        self._note_typing(event, focused, field)
        typed_in_list = self._list_typed
        if event.key in ("enter", "ctrl+m") and isinstance(focused, OptionList):
            self._list_typed = None
            if typed_in_list is not None and may_be_a_code(typed_in_list):
                self._code_typed_in_list(typed_in_list, focused)
                return True
        if field is None:
            return False
        typed = field.value.strip()
        if event.key == "enter" and typed and isinstance(focused, Input) and focused is not field:
            # Enter in a text field of the form, with a code typed in the code field and not
            # read (the next label, then Tab; a note's first words typed before Tab): it
            # recorded the form without it, and said nothing. The code is read first, as
            # Enter there would read it (a label adds it, a reason's digit is the reason, a
            # note's words are refused, saying where a note goes).
            field.value = ""
            self.read_code(typed)
            return True
        if isinstance(focused, (Input, OptionList)) and focused is not field:
            return False  # a text field of the form, or an open list's type-to-search
        if focused is not field and event.key in getattr(focused, "OWN_KEYS", ()):
            return False
        if event.key not in ("enter", "ctrl+m", "ctrl+j"):
            self.enter_disarmed = False  # the person does something else on the screen
        if event.is_printable and event.character:
            field.take(event.character)
            return True
        if FUNCTION_KEYS.fullmatch(event.key) and self.code_typed_first():
            return True
        if event.key == "backspace" and field.value:
            field.rub_out()
            return True
        # A line feed ends a typed code as Enter does (a scanner set to end with one, a keypad
        # Enter that arrives as one); with nothing typed it is no Enter (a CR+LF suffix: the CR
        # read the code, the LF must not do the next screen's main action).
        if event.key == "enter" or (event.key == "ctrl+j" and field.value.strip()):
            text = field.value.strip()
            if text:
                field.value = ""
                self.read_code(text)
                return True
            if field.has_focus or focused is None:
                # The screen's main action (if Enter is armed). Nothing focused yet (a screen
                # just shown, its focus still to come): the code field's, as it will be. Left
                # to Textual, this Enter reached no binding and was lost, and the keys typed
                # after it went on to this screen's code field.
                self.read_code("")
                return True
            # Not focused: the screen's own Enter binding, unless Enter is disarmed.
            return not self.enter_allowed()
        return False

    # Typing in a text field of the form that begins again after this long without a key
    # may be someone else's: the last person walked away, the next types their code.
    WALKED_AWAY_SECONDS = 3.0

    def _note_typing(self, event: events.Key, focused: object, field: CodeField | None) -> None:
        now = self.kiosk.clock.monotonic()
        paused = now - self._key_at >= self.WALKED_AWAY_SECONDS
        self._key_at = now
        # By when the key came from the terminal, not when it is handled here: a busy kiosk
        # handles a label's keys, read together, a tenth of a second apart (so a label
        # scanned onto a reason looked typed by hand, and was recorded as part of it).
        came = event.time
        slow = came - self._key_came_at > SCANNER_KEY_SECONDS  # not a scanner's next key
        self._key_came_at = came
        if isinstance(focused, OptionList) and event.is_printable and event.character:
            typed = self._list_typed
            self._list_typed = event.character if paused else typed and typed + event.character
        elif event.key not in ("enter", "ctrl+m", "ctrl+j"):
            self._list_typed = None
        if isinstance(focused, Input) and focused is not field and event.is_printable:
            if paused:
                self._resumed_from = (focused, focused.value)
            if slow:
                self._run_from = (focused, focused.value)
        elif event.key not in ("enter", "ctrl+m", "ctrl+j"):
            self._resumed_from = self._run_from = None

    def _code_typed_in_list(self, typed: str, options: OptionList) -> None:
        """Enter in an open list (the line manager's), what was typed to search it having
        begun after a pause: a staff code chooses nobody, and says what each may do. It may
        be the next person's, typed as at home (the last person walked away with the list
        open: "BJONES", Enter, Enter chose Ben and signed her laptop out "agreed by Ben"),
        or her manager's code, searched for (handed over, her next Enter deposited the
        manager's phone). Anything else is the list's Enter (the option searched for)."""
        owner = self.screen_owner

        def choose() -> None:
            if options.is_attached and options.has_focus:
                options.action_select()

        def read(s: Services) -> ScanResult | None:
            try:
                return s.people.resolve_scan(typed)
            except KioskError:
                return None

        def answered(result: ScanResult | None) -> None:
            staff = None if result is None else result.staff
            if (
                result is not None
                and staff is not None
                and (owner is None or staff.staff.id != owner.id)
            ):
                options.highlighted = None  # the next Enter chooses nobody either
                name = one_line(staff.staff.name)
                self.show_error(
                    f"“{shown_code(typed)}” is {name}'s staff code: nobody was chosen. To choose "
                    f"the manager who agreed, type their name or use ↑/↓. {name}: press Esc, "
                    "then scan your badge.",
                    title="Not chosen",
                )
            else:
                choose()

        if not self.call(read, answered, lambda _error: choose()):
            choose()

    def typed_after_pause(self, text: str) -> str:
        """What was typed at the end of ``text`` (a text field's value) after a pause, when
        text was there before it: the next person's staff code, typed onto the words the last
        one left (empty when there was no such pause)."""
        return _typed_after(self._resumed_from, text)

    def scanned_at_the_end(self, text: str) -> str:
        """What came at a scanner's pace at the end of ``text`` (a text field's value), after
        words typed by hand: a plain label (or badge) scanned with the cursor in the field.
        Three characters at least (a person's fast pair of keys is not a scan)."""
        tail = _typed_after(self._run_from, text)
        return tail if len(tail) >= 3 else ""

    def code_typed_first(self, *, anyone: bool = False) -> bool:
        """Half a code typed, then one of this screen's actions for its owner (a function
        key, or a tap on its key): the action is the owner's (F2 deposits Daniel's phone),
        while what was typed may be the next person's code (Claire walked up: "CBAKER" F2).
        Neither is guessed: True, and the screen says so. ``anyone``: on a screen of
        nobody's too (a button that records, tapped with a code typed and not yet read:
        the next label, a note typed before Tab, would be left behind)."""
        field = self.code_field
        typed = field.value.strip() if field is not None else ""
        if not typed or (self.screen_owner is None and not anyone):
            return False
        self.show_error(
            f"“{shown_code(typed)}” is typed: press Enter to read it, or Esc to clear it.",
            title="Not now",
        )
        return True

    # --- what is typed: the code field ------------------------------------------------------

    def find_one(self, selector: str | type[W], kind: type[W]) -> W:
        """``query_one``, remembered while the widget stays on this screen.

        Textual remembers each ``query_one`` under the count of changes to the widgets below
        the node asked, which moves on while a kept screen (home, a person's) is shown again
        and again: asked afresh each time, every lookup added an entry to that memory (up to
        1,024 a screen; the soak's growing tuples, issue 17)."""
        key = selector if isinstance(selector, str) else selector.__name__
        found = self._found.get(key)
        if found is None or not found.is_attached:
            found = self._found[key] = self.query_one(selector, kind)
        return cast(W, found)

    def _find(self, selector: str | type[W], kind: type[W]) -> W | None:
        """``find_one``, or None when the screen has no such widget (yet)."""
        try:
            return self.find_one(selector, kind)
        except Exception:
            return None

    @property
    def code_field(self) -> CodeField | None:
        """The screen's one place for typed and scanned codes (None: it has none)."""
        return self._find(CodeField, CodeField)

    def on_key(self, event: events.Key) -> None:
        """A key no part of the screen used (it bubbled up to here, before any binding):
        printable characters go into the code field, whatever has the focus, so that no
        letter, digit or sign typed or scanned is ever taken for an action. Backspace and Esc
        edit what is there; Enter reads it."""
        field = self.code_field
        if field is None:
            return
        focused = getattr(self, "focused", None)
        if event.key not in ("enter", "ctrl+m", "ctrl+j"):
            self.enter_disarmed = False  # the person does something else on the screen
        if field.has_focus:
            if event.key == "escape" and field.value:
                event.stop()
                event.prevent_default()
                field.value = ""
            return
        if isinstance(focused, (Input, OptionList)):
            # A text field of the form, or an open list: its own keys. (An Enter in the open
            # line-manager list was read as the code field's, where a reason's digit waited,
            # and signed out with the manager chosen before, or none.)
            return
        if event.key in getattr(focused, "OWN_KEYS", ()):  # e.g. Space ticks the focused box
            return
        if event.is_printable and event.character:
            field.take(event.character)
        elif event.key == "backspace" and field.value:
            field.value = field.value[:-1]
        elif event.key == "escape" and field.value:
            field.value = ""
        elif event.key == "enter" and field.value.strip():
            text = field.value.strip()
            field.value = ""
            self.read_code(text)
        elif event.key == "enter" and not self.enter_allowed():
            pass  # a code is being read, or one was just refused: not the main action
        else:
            return
        event.stop()
        event.prevent_default()

    def on_paste(self, event: events.Paste) -> None:
        """Pasted text goes where typed text goes (the focused text field, or the code field)."""
        field = self.code_field
        focused = getattr(self, "focused", None)
        if field is None or isinstance(focused, Input):
            return
        event.stop()
        first = next((line for line in event.text.splitlines() if line.strip()), "")
        field.take(first)

    def read_code(self, text: str) -> None:
        """Enter in the code field: ``text`` read as a code (badge, label, staff code or tag),
        or, when nothing was typed, the screen's main action."""
        if text:
            self.reading_code = True
            self.kiosk.receive_scan(text)
        elif self.enter_allowed():
            self.enter_pressed()

    def enter_allowed(self) -> bool:
        """May an Enter with nothing typed do the screen's main action now? Not while a code
        is still being read (its answer may close this screen: the Enter was meant for the
        next), and not as the first Enter after a refused code (the refusal disarms it once;
        any other key arms it again)."""
        if self.reading_code:
            return False
        if self.enter_disarmed:
            self.enter_disarmed = False
            return False
        return True

    def enter_pressed(self) -> None:
        """Enter with nothing typed: the screen's main action (none by default)."""

    # --- scans ---------------------------------------------------------------------------

    # What is not recorded when this screen is closed unfinished (None: said in general).
    UNFINISHED_WORDS: ClassVar[str | None] = None

    def recorded_here(self) -> list[str]:
        """What this screen recorded for its owner on the way and keeps, in a few words ("the
        policy agreed", "the VDU training" on the way to a sign-out): said when it is closed
        unfinished."""
        return []

    @property
    def screen_owner(self) -> StaffInfo | None:
        """Whose screen this is (None: nobody's in particular, e.g. a return from home)."""
        from kiosk.services.views import StaffInfo

        for holder in (self, getattr(self, "status", None), getattr(self, "check", None)):
            staff = getattr(holder, "staff", None)
            if isinstance(staff, StaffInfo):
                return staff
            if holder is not self and staff is not None:
                inner = getattr(staff, "staff", None)  # StaffStatus
                if isinstance(inner, StaffInfo):
                    return inner
        return None

    def handle_scan(self, text: str) -> None:
        """A code read on a screen that is not there to read codes (a form, the policy):
        another member of staff's code means this screen's person walked away; anything
        else is refused, saying what was read."""
        self.call(
            lambda s: s.people.resolve_scan(text),
            lambda result: self.other_code(result, text),
        )

    def other_code(self, result: ScanResult, text: str) -> None:
        if result.staff is not None:
            owner = self.screen_owner
            if owner is not None and result.staff.staff.id == owner.id:
                self.show_error(
                    "That is your own code: finish or cancel this first (Esc).", title="Not now"
                )
                return
            self.hand_over(result)
            return
        self.show_error(
            f"“{shown_code(text)}” was read: finish or cancel this first (Esc), then scan again.",
            title="Not now",
        )

    def free_text_may_go_on(
        self,
        text: str,
        *,
        instead_of: str,
        title: str,
        owner_id: int | None,
        again: Callable[[], None],
    ) -> bool:
        """Free text about to be recorded (a note, a reason, a need): True when it may go on.

        One word may be the next person's staff code typed here (this one walked away) or a
        badge's or label's payload, never meant as the text: it is looked up first (False
        meanwhile, nothing recorded). The whole text another person's code (anyone's, when
        ``owner_id`` is None) hands over to their screen. A code at its end (typed after a
        pause, or at a scanner's pace) is refused, saying what each of the two people may do:
        it may be the next person's, or the words of this one, who paused before naming a
        colleague ("Covering lesson for BJONES"); handed over, her next Enter deposited his
        phone. The refusal stands while the text is unchanged (no Enter habit gets past it).
        Any other code is refused in words ("… is a kiosk code, not {instead_of}"); a plain
        word calls ``again()`` (the screen's submit), which then goes on."""
        # The words typed last, after a pause, onto what was there (the next person's code
        # typed onto the reason the last one left), then the whole text.
        ends = (self.typed_after_pause(text), self.scanned_at_the_end(text), text.strip())
        words = [w for w in ends if may_be_a_code(w)]
        if not words or self._free_text_checked == text:
            return True
        self._free_text_checked = text

        whole = text.strip()

        def refuse(typed: str, what: str) -> None:
            self._free_text_checked = None
            said = f"“{shown_code(typed)}” is a {what}, not {instead_of}."
            if typed != whole:
                said += " Take it out of what you typed (or press Esc to leave)."
            self.show_error(said, title=title)

        def refuse_person(typed: str, name: str) -> None:
            self._free_text_checked = None
            self.show_error(
                f"“{shown_code(typed)}” is {name}'s staff code: nothing was recorded. "
                f"{name}: press Esc, then scan your badge. Otherwise, take the code out of what "
                "you typed, then press Enter.",
                title=title,
            )

        def read(s: Services) -> tuple[str, ScanResult | KioskError]:
            answers: list[tuple[str, ScanResult | KioskError]] = []
            for word in dict.fromkeys(words):
                try:
                    return word, s.people.resolve_scan(word)
                except KioskError as error:
                    if isinstance(error, AmbiguousCode) or SCAN_PREFIX.match(word):
                        return word, error
                    answers.append((word, error))
            return answers[0]

        def answered(outcome: tuple[str, ScanResult | KioskError]) -> None:
            typed, result = outcome
            if isinstance(result, AmbiguousCode):
                refuse(typed, "staff code and a device label")
            elif isinstance(result, KioskError):
                if SCAN_PREFIX.match(typed):
                    refuse(typed, "badge or label")
                else:
                    again()  # a word, not a code: recorded as usual
            elif result.staff is not None and (
                owner_id is None or result.staff.staff.id != owner_id
            ):
                if typed == whole:
                    self.hand_over(result)  # another person's code: nothing recorded here
                else:
                    refuse_person(typed, one_line(result.staff.staff.name))
            else:
                refuse(typed, "kiosk code")

        def failed(error: KioskError) -> None:
            self._free_text_checked = None  # looked up again with the next Enter
            self.show_error(error)

        self.call(read, answered, failed)
        return False

    def code_typed_instead(
        self, value: str, *, owner_id: int | None, refused: Callable[[], None]
    ) -> None:
        """A field that could not be read (a date, a time) as ``value``: what was typed
        onto it after a pause, or all of it, may be the next person's staff code (the last
        one walked away with the cursor there). Their code hands over to their screen,
        nothing recorded; anything else is ``refused()`` (the field's own message)."""
        words = [w for w in (self.typed_after_pause(value), value.strip()) if may_be_a_code(w)]
        if not words:
            refused()
            return

        def read(s: Services) -> ScanResult | None:
            for word in dict.fromkeys(words):
                try:
                    return s.people.resolve_scan(word)
                except KioskError:
                    continue
            return None

        def answered(result: ScanResult | None) -> None:
            staff = None if result is None else result.staff
            if result is not None and staff is not None and staff.staff.id != owner_id:
                self.hand_over(result)
            else:
                refused()

        self.call(read, answered, lambda _error: refused())

    def hand_over(self, result: ScanResult) -> None:
        """Another member of staff's code on this unfinished screen: its person walked away.
        The screen is dropped (nothing recorded) and the code is read as if typed on home."""
        owner = self.screen_owner
        kiosk = self.kiosk
        # What the owner's screens recorded on the way is kept, and said: "nothing recorded
        # for them", after a policy agreed and VDU training on the way to a sign-out, sent
        # them (or the office) to do it again.
        kept: list[str] = []
        lost: str | None = None
        for screen in self.app.screen_stack if owner is not None else ():
            if not isinstance(screen, KioskScreenMixin):
                continue
            mine = screen.screen_owner
            if owner is None or mine is None or mine.id != owner.id:
                continue
            kept.extend(screen.recorded_here())
            lost = lost or screen.UNFINISHED_WORDS
        if owner is None:
            note = "The last screen was closed unfinished: nothing recorded."
        elif kept:
            # Short: it is read by the next person, whose badge closed the screen.
            lost = lost or "the rest was not recorded"
            said = " and ".join(dict.fromkeys(kept))
            note = (
                f"{owner.name}'s sign-out was not finished: {lost} ({said} "
                f"{'is' if len(set(kept)) == 1 else 'are'} kept)."
            )
        else:
            note = f"{owner.name}'s screen was closed: nothing recorded for them."
        self.reading_code = False
        kiosk.go_home()
        home = kiosk.home
        if home is None:
            return
        home.reset()
        home.take_result(result)

        def say() -> None:
            screen = self.app.screen
            if screen is not self and isinstance(screen, KioskScreenMixin):
                screen.show_info(note)

        self.app.call_after_refresh(say)

    # --- messages --------------------------------------------------------------------------

    @property
    def notice(self) -> Notice | None:
        return self._find("#notice", Notice)

    def show_error(self, message: str | KioskError, title: str | None = None) -> None:
        if isinstance(message, KioskError):
            title = title or message.title
            message = said_on_the_kiosk(message)
        # Whatever a message quotes (a date field's "“246810” is not a date I can read"
        # quoted the admin PIN typed there): a PIN-shaped run of digits is never shown.
        message = mask_pin_shaped(message)
        # ...nor left in the field it was typed into (a refused date, a reason): emptied.
        field = self.app.focused
        if isinstance(field, Input) and not field.password and may_be_the_pin(str(field.value)):
            field.value = ""
        if self.reading_code:
            self.enter_disarmed = True  # a refused code: the next empty Enter does nothing
        title = title if title is not None else "Not recorded"
        if title and message.startswith(f"{title}:"):
            title = ""  # said once: "Not recorded: the database..." needs no second title
        notice = self.notice
        if notice is None:
            show_toast(self.app, message, title=title)
            return
        notice.error(message, title=title or None)

    def show_info(self, message: str) -> None:
        notice = self.notice
        if notice is not None:
            notice.info(mask_pin_shaped(message))

    def clear_notice(self) -> None:
        notice = self.notice
        if notice is None:
            return
        if notice.kind == "busy":
            notice.busy_over_nothing()  # not back when the call is answered
        else:
            notice.clear()

    def show_busy(self, busy: bool) -> None:
        notice = self.notice
        if notice is None:
            return
        if busy:
            notice.busy("Recording, please wait…")
        else:
            notice.not_busy()

    # --- database work -------------------------------------------------------------------------

    def call(
        self,
        work: Callable[[Services], T],
        done: Callable[[T], None],
        failed: Callable[[KioskError], None] | None = None,
    ) -> bool:
        """Run ``work`` (a service call) through the gateway, in a thread worker; ``done`` or
        ``failed`` afterwards on the UI thread (by default a refusal is shown on the screen
        on top). Returns False (and does nothing) while another call is still running."""
        return self.kiosk.gateway.call(self, work, done, failed)

    def call_answered(self) -> None:
        """The gateway: this screen's call has been answered (its code has been read)."""
        self.reading_code = False

    def confirm_receipt(self, receipt: EventReceipt, *more: str) -> None:
        """The big confirmation of a recorded event (only ever from a service's receipt)."""
        lines = [receipt.staff.name] if receipt.staff is not None else []
        self.kiosk.confirm(receipt.summary, [*lines, *more], receipt.occurred_at)


# Nobody reads a screen (or a question, a sentence, a message) that has just appeared and acts
# on it in less: a key or tap this soon after it is the second press of a double press on
# what was there before (the confirmation's function key, the policy's "agree", the review's
# "send", breakfast club's second F8 and F4).
READ_SECONDS = 0.5

SCAN_PREFIX = re.compile(r"^SRK\d*:", re.IGNORECASE)  # a badge's or label's payload
# A scanner types a key every few milliseconds; a person, a tenth of a second or more apart.
SCANNER_KEY_SECONDS = 0.05


def _typed_after(start: tuple[Input, str] | None, text: str) -> str:
    """What ``start``'s field (with what it held then) has had typed onto it since, when it
    holds ``text`` now and held words before."""
    if start is None:
        return ""
    widget, before = start
    value = str(widget.value)
    if value.strip() != text.strip() or not before.strip() or not value.startswith(before):
        return ""
    return value[len(before) :].strip()


def may_be_a_code(text: str) -> bool:
    """One word that a staff code, a label or a badge's payload could be."""
    return bool(text) and len(text) <= 64 and not any(ch.isspace() for ch in text)


def shown_code(text: str, limit: int = 40) -> str:
    """What was typed or scanned, as a message quotes it: safe to show, and short. A run of
    digits shaped like the admin PIN is masked (by its shape, one width: kiosk/domain/scan.py)."""
    cleaned = mask_pin_shaped(display_text(text.strip()))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def said_on_the_kiosk(error: KioskError) -> str:
    """``error``'s message as the kiosk shows it: what was typed, which a service says back
    as it is (for the office's CLI), with a PIN-shaped run of digits masked."""
    quoted = error.quoted
    if not quoted or not may_be_the_pin(quoted):
        return error.message
    return error.message.replace(quoted, mask_pin_shaped(quoted))


def _tap_place(widget: Widget) -> tuple[Region, object]:
    """Where a tap lands on ``widget``: its place on the screen and, for the pad, which of
    its keys it shows (a key shown or hidden moves the others)."""
    return widget.region, (widget.shown if isinstance(widget, ActionPad) else None)


class ReusableScreenMixin:
    """A screen the kiosk builds once and shows again and again (installed in the app, so
    it is not removed when it is left; ``KioskApp.reusable`` hands it out)."""


class PlainBackgroundMixin:
    """A screen shown again and again whose own background is one solid colour: its lines
    are one blank line (Textual's ``Strip.blank``, cached) repeated, drawn as Textual draws
    an opaque screen's background (the colour as background only).

    Stock Textual refreshes a screen whole each time it is shown and built the background
    afresh: 50 lines plus 50 copies through the ANSI colour filter, 100 of the ~180 drawn
    lines (``Strip``s, seven caches each) a show made on the scan path. That volume paced
    CPython's full garbage collections, which spoiled the stock scan figures (issue 17;
    bench/README.md, "The collect figure on stock Textual"). Only for a screen without a
    border; a see-through background is drawn by Textual as before."""

    background_colors: Any

    def render_lines(self, crop: Region) -> list[Strip]:
        base, background = self.background_colors
        if background.a < 1:
            return cast("list[Strip]", super().render_lines(crop))  # type: ignore[misc]
        style = RichStyle.from_color(bgcolor=(base + background).rich_color)
        return [Strip.blank(crop.width, style)] * crop.height


class StaffScreen(PlainBackgroundMixin, KioskScreenMixin, Screen[Any]):
    AUTO_FOCUS = ""  # each screen focuses what it needs (often nothing: one-key actions)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "done", "Done", show=False),
        # F10 is "Admin" on the start screen only. Pressed here it did nothing and said
        # nothing: the admin typed the PIN into this screen's code field (on breakfast
        # club, a colleague's code), then scanned their badge (their own phone logged).
        # It says the way that works from every screen: Ctrl+Q (the app's, with priority).
        Binding("f10", "admin_elsewhere", show=False),
    ]

    def action_done(self) -> None:
        if self.kiosk.busy:
            return
        self.kiosk.go_home()

    def action_admin_elsewhere(self) -> None:
        self.show_info(
            "Admin (the PIN pad): press Ctrl+Q, or Esc until the start screen, then F10."
        )


class StaffModal(KioskScreenMixin, ModalScreen[Any]):
    AUTO_FOCUS = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    def action_cancel(self) -> None:
        if self.kiosk.busy:
            return
        self.dismiss(None)

    def on_idle_timeout(self) -> None:
        self.kiosk.go_home()

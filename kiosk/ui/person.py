"""A person's screen, after their badge is scanned: their phone, devices off site, policies
to acknowledge, VDU training; and what they can do, one function key (or tap) each.

What is typed or scanned goes into the screen's code field and is read as a code when Enter
comes (a label signs that device out, another badge opens that person's screen, anything else
is refused, saying what was read); Enter with nothing typed does the obvious thing (deposit or
collect). No letter or digit is an action: a typed asset tag or a service tag can never
deposit a phone or open another screen."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from kiosk.domain.events import BREAKFAST_DRAWER_STORE, Role
from kiosk.domain.timeutil import local_date
from kiosk.ui.base import ReusableScreenMixin, StaffScreen
from kiosk.ui.formats import clock_time, day_and_time, short_date, since
from kiosk.ui.widgets import (
    ERROR_MARK,
    OK_MARK,
    TODO_MARK,
    WARN_MARK,
    ActionPad,
    CodeField,
    Fact,
    FactList,
    HeadLine,
    Notice,
    PadKey,
    assemble,
    plain,
    update_if_changed,
)

W = TypeVar("W", bound=Widget)

if TYPE_CHECKING:
    from kiosk.services.people import ScanResult
    from kiosk.services.scan import PhoneScan
    from kiosk.services.views import OffsiteItem, StaffStatus
    from kiosk.ui.host import KioskHost

# Keys are function keys: nothing typed or scanned can contain one. F2 to F5 mean what they
# mean on the home screen (phone, sign out, a device off site, breakfast club); F9 (high
# contrast) and F10 (admin) are the app's. Deposit and collect share F2 (one of them is shown).
ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("f2", "deposit", "Deposit phone"),
    ("f2", "collect", "Collect phone"),
    ("f3", "sign_out", "Sign a device out"),
    ("f4", "extend", "Keep it longer"),
    ("f5", "breakfast", "Breakfast club"),
    ("f6", "deposit_drawer", "Deposit in drawer"),
    ("f7", "policy", "Read the policy"),
    ("f8", "vdu", "VDU training done"),
    ("f12", "review", "Desk review"),
)
# The keys a mouse or a touch can press (one widget: the screen is shown again for every badge).
PAD_KEYS: tuple[PadKey, ...] = (
    *(PadKey(name, key.upper(), label) for key, name, label in ACTIONS),
    PadKey("done", "Esc", "Done"),
)


class PersonScreen(ReusableScreenMixin, StaffScreen):
    """One person's screen. The kiosk keeps one and shows the next person on it (``load``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "done", "Done", show=False),
        Binding("f2", "phone", "Phone", show=False),
        *(Binding(key, name, label, show=False) for key, name, label in ACTIONS if key != "f2"),
    ]

    def __init__(self, status: StaffStatus) -> None:
        super().__init__(classes="person-screen")
        self.status = status
        self._parts: dict[str, Widget] = {}

    # --- what is shown ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # (in a container of their own: put straight on the screen, they made every badge
        # allocate about three times as much on stock Textual; bench/README.md, issue 17)
        staff = self.status.staff
        with Vertical(id="person"):
            yield HeadLine(plain(staff.name), self._code_line(), id="person-head")
            yield FactList(self._facts(), id="person-facts")
            yield Static(self._primary_line(), id="primary")
            yield Notice(id="notice")
            yield ActionPad(PAD_KEYS, id="person-actions")
            yield CodeField(
                placeholder="Scan or type a laptop or work-phone label here, then Enter",
                id="code",
            )

    def on_mount(self) -> None:
        self._show_actions()
        self._part("#code", CodeField).focus()

    def on_screen_resume(self) -> None:
        code = self._part("#code", CodeField)
        code.value = ""
        code.focus()

    def load(self, status: StaffStatus) -> None:
        """Show another person (or the same one, as they are now) on this screen."""
        someone_else = status.staff.id != self.status.staff.id
        self.status = status
        self.showing += 1  # (its keys may be others now: a tap held for the last is not this)
        if not self.is_mounted:  # composed from it when it is first shown
            return
        if someone_else:
            # Shown over the last person's screen (their badge scanned on it): what the last
            # one half typed is not the next one's (their Enter read it, not their phone), and
            # a code refused for the last one does not disarm the next one's first Enter.
            self._part("#code", CodeField).value = ""
            self.enter_disarmed = False
        staff = status.staff
        self._part("#person-actions", ActionPad).forget_press()  # a finger down on the last
        self._part("#person-head", HeadLine).show(plain(staff.name), self._code_line())
        self._part("#person-facts", FactList).show(self._facts())
        update_if_changed(self._part("#primary", Static), self._primary_line())
        notice = self.notice
        if notice is not None:
            notice.clear()
        self._show_actions()

    def _part(self, selector: str, kind: type[W]) -> W:
        """A widget of the screen (found once: the screen is shown again and again)."""
        found = self._parts.get(selector)
        if found is None:
            found = self._parts[selector] = self.query_one(selector, kind)
        assert isinstance(found, kind)
        return found

    def _facts(self) -> list[Fact]:
        """What the screen says about the person (rows with nothing to say are left out)."""
        status = self.status
        facts: list[Fact] = []
        if status.exemption is not None:
            facts.append(Fact("Exemption", self._exemption_line()))
        todo = "todo" if self._nag() or self._phone_left() else ""
        facts.append(Fact("Phone", self._phone_line(), todo))
        if status.offsite:
            overdue = any(item.overdue for item in status.offsite)
            soon = any(self._due_soon(item) for item in status.offsite)
            tone = "overdue" if overdue else "todo" if soon else ""
            facts.append(Fact("Off site", self._devices_lines(), tone))
        todo = "todo" if status.outstanding_policies else ""
        facts.append(Fact("Policies", self._policy_line(), todo))
        todo = "todo" if status.vdu_trained_on is None else ""
        facts.append(Fact("VDU", self._vdu_line(), todo))
        if status.open_reviews:
            facts.append(Fact("Review", self._review_line()))
        if status.unreadable:
            note = assemble((f"{WARN_MARK} ", "bold"), status.unreadable_note)
            facts.append(Fact("Record", note, "todo"))
        return facts

    def _code_line(self) -> Content:
        return plain(f"{self.status.staff.code} · {self._now()}")

    def _now(self) -> str:
        return clock_time(self.kiosk.clock(), self.kiosk.settings.zone)

    def _show_actions(self) -> None:
        self._part("#person-actions", ActionPad).show_only(self._available() | {"done"})

    def _available(self) -> set[str]:
        status = self.status
        names = {"sign_out", "review"}
        if status.phone is None:
            names |= {"deposit", "deposit_drawer"}
        else:
            names.add("collect")
        if status.offsite:
            names.add("extend")
        if status.outstanding_policies:
            names.add("policy")
        if status.vdu_trained_on is None:
            names.add("vdu")
        if status.staff.has_role(Role.BREAKFAST_CLUB_LEAD.value, Role.ADMIN.value):
            names.add("breakfast")
        return names

    def _nag(self) -> bool:
        return self.status.phone is None and self.status.exemption is None

    def _today(self) -> date:
        return local_date(self.kiosk.clock(), self.kiosk.settings.zone)

    def _phone_left(self) -> bool:
        """The phone went into a store on an earlier day and is still there."""
        held = self.status.phone
        zone = self.kiosk.settings.zone
        return held is not None and local_date(held.since, zone) < self._today()

    def _due_soon(self, item: OffsiteItem) -> str:
        """'today' or 'tomorrow' when a device not yet overdue is due back then, else ''."""
        if item.overdue:
            return ""
        due, today = local_date(item.expected_return, self.kiosk.settings.zone), self._today()
        if due == today:
            return "today"
        if due == today + timedelta(days=1):
            return "tomorrow"
        return ""

    def _exemption_line(self) -> Content:
        exemption = self.status.exemption
        if exemption is None:
            return plain("")
        return assemble(
            (f"{OK_MARK} Phone use permitted ", "bold"),
            f"at the Head Teacher's discretion until {short_date(exemption.until)} "
            f"(granted by {exemption.granted_by}).",
        )

    def _phone_line(self) -> Content:
        status, zone, now = self.status, self.kiosk.settings.zone, self.kiosk.clock()
        held = status.phone
        if held is not None:
            by = ""
            if held.recorded_by:  # (None: the person logged it)
                by = f", logged by {held.recorded_by}"
            if self._phone_left():
                day = held.since.astimezone(zone)
                return assemble(
                    (f"{TODO_MARK} To collect: ", "bold"),
                    f"your phone has been in the {held.store.name} since "
                    f"{day:%a} {day.day} {day:%b} ({clock_time(held.since, zone)}){by}.",
                )
            return assemble(
                f"{OK_MARK} In the {held.store.name} since {since(held.since, now, zone)}{by}.",
            )
        if status.exemption is not None:
            return assemble("Not deposited (you have an exemption).")
        return assemble(
            (f"{ERROR_MARK} Not deposited. ", "bold"),
            "Phones stay in the staff room, not in classrooms.",
        )

    def _devices_lines(self) -> Content:
        zone = self.kiosk.settings.zone
        lines: list[Content] = []
        for item in self.status.offsite:
            due = day_and_time(item.expected_return, zone)
            soon = self._due_soon(item)
            if item.overdue:
                mark = (f"{WARN_MARK} OVERDUE ", "bold")
            elif soon:
                mark = (f"{TODO_MARK} DUE BACK {soon.upper()} ", "bold")
            else:
                mark = ("", "")
            lines.append(
                assemble(
                    mark,
                    f"{item.device.kind_label} {item.device.tag}, due back {due}",
                )
            )
        return Content("\n").join(lines)

    def _policy_line(self) -> Content:
        outstanding = self.status.outstanding_policies
        if not outstanding:
            return assemble(f"{OK_MARK} All acknowledged.")
        names = "; ".join(f"{p.title} ({p.version})" for p in outstanding)
        return assemble((f"{TODO_MARK} To read and agree: ", "bold"), names)

    def _vdu_line(self) -> Content:
        trained = self.status.vdu_trained_on
        if trained is None:
            return assemble(
                (f"{TODO_MARK} Display-screen training not recorded.", "bold"),
            )
        return assemble(
            f"{OK_MARK} Display-screen training recorded {short_date(trained)}.",
        )

    def _review_line(self) -> Content:
        reviews = self.status.open_reviews
        if not reviews:
            return plain("")
        review = reviews[0]
        when = short_date(review.requested_at.astimezone(self.kiosk.settings.zone).date())
        state = review.status.replace("_", " ")
        return assemble(f"Workstation review asked {when}: {review.needs} ({state}).")

    def _primary_line(self) -> Content:
        name = self._primary()
        text = {
            "deposit": "deposit your phone in the staff-room store",
            "collect": "collect your phone",
            "done": "finish",
        }[name]
        return assemble((" Press Enter ", "bold reverse"), f" to {text}.")

    def _primary(self) -> str:
        if self.status.phone is not None:
            return "collect"
        if self.status.exemption is not None:
            return "done"
        return "deposit"

    # --- actions ---------------------------------------------------------------------------

    def _can(self, name: str) -> bool:
        if self.kiosk.busy:
            return False
        if name not in self._available():
            self.show_error(self._why_not(name), title="Not available")
            return False
        return True

    def _why_not(self, name: str) -> str:
        reasons = {
            "deposit": "Your phone is already in a store: collect it first.",
            "deposit_drawer": "Your phone is already in a store: collect it first.",
            "collect": "Your phone is not in a store.",
            "extend": "You have nothing off site.",
            "policy": "You have acknowledged every current policy.",
            "vdu": "Your display-screen training is already recorded.",
            "breakfast": "Only the breakfast-club lead or an admin can start breakfast-club mode.",
        }
        return reasons.get(name, "That is not available here.")

    def enter_pressed(self) -> None:
        self.action_primary()

    def action_phone(self) -> None:
        """F2: deposit, or collect when the phone is in a store."""
        if self.status.phone is not None:
            self.action_collect()
        else:
            self.action_deposit()

    def action_primary(self) -> None:
        primary = self._primary()
        if primary == "done":
            self.action_done()
        elif primary == "collect":
            self.action_collect()
        else:
            self.action_deposit()

    def action_deposit(self) -> None:
        if self._can("deposit"):
            self._deposit(None)

    def action_deposit_drawer(self) -> None:
        if self._can("deposit_drawer"):
            self._deposit(BREAKFAST_DRAWER_STORE)

    def action_collect(self) -> None:
        if self._can("collect"):
            status = self.status
            self.call(lambda s: s.scans.collect(status), self._collected)

    def _deposit(self, store_code: str | None) -> None:
        code = self.status.staff.code
        self.call(lambda s: s.phones.deposit(code, store_code), self.confirm_receipt)

    def _collected(self, done: PhoneScan) -> None:
        if done.receipt is not None:
            self.confirm_receipt(done.receipt, *done.note)

    def action_sign_out(self) -> None:
        if self._can("sign_out"):
            from kiosk.ui.signout import start_sign_out

            start_sign_out(self, self.status, [])

    def action_extend(self) -> None:
        if self._can("extend"):
            from kiosk.ui.returns import ExtendScreen

            self.app.push_screen(ExtendScreen(self.status))

    def action_policy(self) -> None:
        if self._can("policy"):
            from kiosk.ui.policy import PolicyScreen

            self.app.push_screen(
                PolicyScreen(self.status.staff, self.status.outstanding_policies[0].id)
            )

    def action_vdu(self) -> None:
        if self._can("vdu"):
            from kiosk.ui.wellbeing import VduScreen

            self.app.push_screen(VduScreen(self.status.staff))

    def action_review(self) -> None:
        if self._can("review"):
            from kiosk.ui.wellbeing import ReviewScreen

            self.app.push_screen(ReviewScreen(self.status.staff))

    def action_breakfast(self) -> None:
        if self._can("breakfast"):
            from kiosk.ui.breakfast import start_breakfast

            start_breakfast(self, self.status.staff)

    @on(ActionPad.Pressed)
    def _pressed(self, event: ActionPad.Pressed) -> None:
        if event.action != "done" and self.code_typed_first():
            return  # as its function key after a typed code: neither is guessed
        actions = {
            "deposit": self.action_deposit,
            "collect": self.action_collect,
            "sign_out": self.action_sign_out,
            "extend": self.action_extend,
            "breakfast": self.action_breakfast,
            "deposit_drawer": self.action_deposit_drawer,
            "policy": self.action_policy,
            "vdu": self.action_vdu,
            "review": self.action_review,
            "done": self.action_done,
        }
        action = actions.get(event.action)
        if action is not None:
            action()

    # --- scans -----------------------------------------------------------------------------

    def handle_scan(self, text: str) -> None:
        self.clear_notice()
        self.call(lambda s: s.people.resolve_scan(text), self._resolved)

    def _resolved(self, result: ScanResult) -> None:
        if result.staff is not None:
            if result.staff.staff.id == self.status.staff.id:
                self.show_info("That is your badge: choose what to do below.")
                return
            show_person(self.kiosk, result.staff)
            return
        device = result.device
        if device is None:
            return
        # (the screens a label leads to are imported when first needed)
        if device.offsite is not None:
            from kiosk.ui.returns import offer_return

            offer_return(self, device, recorded_by=self.status.staff.code)
        else:
            from kiosk.ui.signout import start_sign_out

            start_sign_out(self, self.status, [device.device.tag])


def show_person(kiosk: KioskHost, status: StaffStatus) -> None:
    """``status``'s person on the kiosk's one person screen, straight above home."""
    screen = kiosk.reusable(PersonScreen, lambda: PersonScreen(status))
    screen.load(status)
    kiosk.show_over_home(screen)

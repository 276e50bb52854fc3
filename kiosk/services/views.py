"""Frozen dataclasses the services return. Never ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from kiosk.domain.calendar import WEEKDAYS_ONLY, SchoolCalendar
from kiosk.domain.devicekinds import DEFAULT_KINDS
from kiosk.domain.text import one_line


def _one_line(item: object, *names: str) -> None:
    """Each named text field of a frozen ``item`` as one line (``one_line``): the read models
    are where stored text comes out, and every screen, dialog, message and e-mail quotes
    them. A line break in a name is data, never a new line of what quotes it."""
    for name in names:
        value = getattr(item, name)
        if isinstance(value, str) and not value.isprintable():
            object.__setattr__(item, name, one_line(value))


@dataclass(frozen=True, slots=True)
class StaffInfo:
    id: int
    code: str
    name: str
    email: str | None
    line_manager: str | None
    roles: frozenset[str]
    retired: bool = False

    def __post_init__(self) -> None:
        _one_line(self, "name", "line_manager")

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


@dataclass(frozen=True, slots=True)
class StoreInfo:
    id: int
    code: str
    name: str
    retired: bool = False

    def __post_init__(self) -> None:
        _one_line(self, "name")


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    id: int
    tag: str
    kind: str
    description: str
    retired: bool = False
    # From the school's device kinds (kiosk.domain.devicekinds): its label, and whether the
    # sign-out form must ask "charged and ready" for it.
    # Derived from ``kind`` (not compared: the same device whichever definitions read it).
    label: str = field(default="", compare=False)
    needs_charged: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        _one_line(self, "description", "label")

    @property
    def kind_label(self) -> str:
        return self.label or DEFAULT_KINDS.label(self.kind)


@dataclass(frozen=True, slots=True)
class PolicyInfo:
    id: int
    title: str
    version: str
    sha256: str
    required: bool
    published_at: datetime

    def __post_init__(self) -> None:
        _one_line(self, "title", "version")


@dataclass(frozen=True, slots=True)
class PolicyText:
    policy: PolicyInfo
    text: str


@dataclass(frozen=True, slots=True)
class EventReceipt:
    """What was stored: shown on the confirmation screen only after the commit."""

    event_id: int
    kind: str
    occurred_at: datetime
    staff: StaffInfo | None
    summary: str


@dataclass(frozen=True, slots=True)
class PhoneInOut:
    """ "Phone in / out" for one person: what was stored, and, for a collection, who had
    logged the phone in when it was not its owner (a breakfast-club lead)."""

    receipt: EventReceipt
    collected: bool
    logged_in_by: str | None = None

    def __post_init__(self) -> None:
        _one_line(self, "logged_in_by")


@dataclass(frozen=True, slots=True)
class Holding:
    """What a member of staff about to be retired still holds, in words: ``held`` ("LAP-001
    off site", "their phone is in the ..."), what to do ``first`` ("record the return of
    LAP-001"), and what ``stays`` listed with them if they are retired anyway. Every
    refusal and warning about retiring them is said from this."""

    code: str
    name: str
    held: tuple[str, ...]
    todo: tuple[str, ...]
    stays: tuple[str, ...]

    def __post_init__(self) -> None:
        _one_line(self, "name")

    @property
    def said(self) -> str:
        return f"{self.name} ({self.code}): {'; '.join(self.held)}"

    @property
    def first(self) -> str:
        return " and ".join(self.todo)

    @property
    def kept(self) -> str:
        return " and ".join(self.stays)


@dataclass(frozen=True, slots=True)
class PhoneHolding:
    staff: StaffInfo
    store: StoreInfo
    since: datetime
    event_id: int
    # Who logged it in when it was not the person (None: they did), with their code when
    # their name reads as the person's.
    recorded_by: str | None = None

    def __post_init__(self) -> None:
        _one_line(self, "recorded_by")


@dataclass(frozen=True, slots=True)
class OffsiteItem:
    device: DeviceInfo
    staff: StaffInfo
    since: datetime
    reason: str
    expected_return: datetime
    overdue: bool
    event_id: int
    batch: str | None
    line_manager: str | None = None

    def __post_init__(self) -> None:
        _one_line(self, "reason", "line_manager")


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    device: DeviceInfo
    offsite: OffsiteItem | None


@dataclass(frozen=True, slots=True)
class Exemption:
    staff: StaffInfo
    granted_by: str
    until: date
    event_id: int

    def __post_init__(self) -> None:
        _one_line(self, "granted_by")


@dataclass(frozen=True, slots=True)
class ReviewRequest:
    event_id: int
    staff: StaffInfo
    requested_at: datetime
    needs: str
    status: str
    note: str | None = None

    def __post_init__(self) -> None:
        _one_line(self, "needs", "note")


@dataclass(frozen=True, slots=True)
class StaffStatus:
    """Everything a person's screen shows, in one call."""

    staff: StaffInfo
    phone: PhoneHolding | None
    offsite: tuple[OffsiteItem, ...]
    outstanding_policies: tuple[PolicyInfo, ...]
    vdu_trained_on: date | None
    exemption: Exemption | None
    open_reviews: tuple[ReviewRequest, ...]
    # Events about the person whose details cannot be read (written around the kiosk): left
    # out of what is shown above, said on the screen, named by `kiosk verify`.
    unreadable: tuple[int, ...] = ()

    @property
    def unreadable_note(self) -> str:
        """What the person's screen says of ``unreadable`` ("" when nothing was left out)."""
        if not self.unreadable:
            return ""
        ids = ", ".join(map(str, self.unreadable))
        which = f"event{'s' if len(self.unreadable) > 1 else ''} {ids}"
        return (
            f"Part of this record cannot be read ({which}) and is left out: "
            "please tell the office (kiosk verify names it)."
        )


@dataclass(frozen=True, slots=True)
class SignOutCheck:
    """What a sign-out form must ask for, before the person fills it in."""

    staff: StaffInfo
    devices: tuple[DeviceInfo, ...]
    missing_policies: tuple[PolicyInfo, ...]
    vdu_missing: bool
    needs_line_manager: bool
    needs_charged: bool
    recent_laptop_sign_outs: int
    default_expected_return: datetime
    # The school calendar in force: what the form reads "next school day" by, and warns of
    # a return on a day without school with.
    calendar: SchoolCalendar = WEEKDAYS_ONLY


@dataclass(frozen=True, slots=True)
class SignOutReceipt:
    batch: str
    receipts: tuple[EventReceipt, ...]
    expected_return: datetime


@dataclass(frozen=True, slots=True)
class RegisterRow:
    event_id: int
    occurred_at: datetime
    kind: str
    what: str
    staff_code: str | None
    staff_name: str | None
    item: str
    recorded_by: str | None
    kiosk: str
    detail: str
    voided: bool
    void_reason: str | None = None
    target_event_id: int | None = None


@dataclass(frozen=True, slots=True)
class RegisterPage:
    day: date
    rows: tuple[RegisterRow, ...]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True, slots=True)
class AckGap:
    policy: PolicyInfo
    acknowledged: tuple[StaffInfo, ...]
    missing: tuple[StaffInfo, ...]


@dataclass(frozen=True, slots=True)
class WorkloadRow:
    staff: StaffInfo
    last_4_weeks: int
    last_12_weeks: int
    last_28_days: int
    above_threshold: bool
    weekly: tuple[int, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ImportProblem:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    added: int
    updated: int
    unchanged: int
    problems: tuple[ImportProblem, ...]
    imported: bool
    retired: tuple[str, ...] = ()  # staff codes retired (import --retire-missing)
    warnings: tuple[str, ...] = ()

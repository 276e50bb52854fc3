"""Event kinds recorded by the kiosk, and how each is described to people."""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    PHONE_DEPOSITED = "phone_deposited"
    PHONE_COLLECTED = "phone_collected"
    PHONE_MOVED = "phone_moved"
    DEVICE_SIGNED_OUT = "device_signed_out"
    DEVICE_RETURNED = "device_returned"
    RETURN_EXTENDED = "return_extended"
    POLICY_ACKNOWLEDGED = "policy_acknowledged"
    EXEMPTION_GRANTED = "exemption_granted"
    EXEMPTION_REVOKED = "exemption_revoked"
    VDU_TRAINING_DECLARED = "vdu_training_declared"
    WORKSTATION_REVIEW_REQUESTED = "workstation_review_requested"
    WORKSTATION_REVIEW_UPDATED = "workstation_review_updated"
    CORRECTION = "correction"
    ADMIN_LOCKOUT = "admin_lockout"
    ADMIN_ACTION = "admin_action"
    CALENDAR_SET = "calendar_set"
    DEVICE_KINDS_SET = "device_kinds_set"
    NOTICE_CLAIMED = "notice_claimed"
    NOTICE_SENT = "notice_sent"
    NOTICE_FAILED = "notice_failed"
    REFERENCE_CHANGED = "reference_changed"
    ANCHOR_TAKEN = "anchor_taken"
    REGISTER_VERIFIED = "register_verified"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def category(self) -> str:
        return _CATEGORY[self]


_LABELS: dict[EventKind, str] = {
    EventKind.PHONE_DEPOSITED: "Phone deposited",
    EventKind.PHONE_COLLECTED: "Phone collected",
    EventKind.PHONE_MOVED: "Phone moved",
    EventKind.DEVICE_SIGNED_OUT: "Signed out off site",
    EventKind.DEVICE_RETURNED: "Returned",
    EventKind.RETURN_EXTENDED: "Return date extended",
    EventKind.POLICY_ACKNOWLEDGED: "Policy acknowledged",
    EventKind.EXEMPTION_GRANTED: "SLT phone exemption granted",
    EventKind.EXEMPTION_REVOKED: "SLT phone exemption revoked",
    EventKind.VDU_TRAINING_DECLARED: "VDU training declared",
    EventKind.WORKSTATION_REVIEW_REQUESTED: "Workstation review requested",
    EventKind.WORKSTATION_REVIEW_UPDATED: "Workstation review updated",
    EventKind.CORRECTION: "Correction",
    EventKind.ADMIN_LOCKOUT: "Admin console locked (wrong PINs)",
    EventKind.ADMIN_ACTION: "Admin action",
    EventKind.CALENDAR_SET: "School calendar set",
    EventKind.DEVICE_KINDS_SET: "Device kinds set",
    EventKind.NOTICE_CLAIMED: "Notice being sent",
    EventKind.NOTICE_SENT: "Notice sent",
    EventKind.NOTICE_FAILED: "Notice not sent",
    EventKind.REFERENCE_CHANGED: "List changed",
    EventKind.ANCHOR_TAKEN: "Anchor taken",
    EventKind.REGISTER_VERIFIED: "Register checked",
}

# The stream an event belongs to: the state of a person's phone, of a device, ...
_CATEGORY: dict[EventKind, str] = {
    EventKind.PHONE_DEPOSITED: "phone",
    EventKind.PHONE_COLLECTED: "phone",
    EventKind.PHONE_MOVED: "phone",
    EventKind.DEVICE_SIGNED_OUT: "device",
    EventKind.DEVICE_RETURNED: "device",
    EventKind.RETURN_EXTENDED: "device",
    EventKind.POLICY_ACKNOWLEDGED: "policy",
    EventKind.EXEMPTION_GRANTED: "exemption",
    EventKind.EXEMPTION_REVOKED: "exemption",
    EventKind.VDU_TRAINING_DECLARED: "vdu",
    EventKind.WORKSTATION_REVIEW_REQUESTED: "review",
    EventKind.WORKSTATION_REVIEW_UPDATED: "review",
    EventKind.CORRECTION: "correction",
    EventKind.ADMIN_LOCKOUT: "admin",
    EventKind.ADMIN_ACTION: "admin",
    EventKind.CALENDAR_SET: "admin",
    EventKind.DEVICE_KINDS_SET: "admin",
    EventKind.NOTICE_CLAIMED: "notice",
    EventKind.NOTICE_SENT: "notice",
    EventKind.NOTICE_FAILED: "notice",
    EventKind.REFERENCE_CHANGED: "reference",
    EventKind.ANCHOR_TAKEN: "admin",
    EventKind.REGISTER_VERIFIED: "admin",
}

PHONE_KINDS = frozenset(k for k in EventKind if k.category == "phone")
DEVICE_KINDS = frozenset(k for k in EventKind if k.category == "device")
NOTICE_KINDS = frozenset(k for k in EventKind if k.category == "notice")
# What a correction can void: the events whose effect a void undoes, because the current
# state is read from the latest event of its stream that no correction voided (a deposit, a
# sign-out, an acknowledgement, a VDU declaration, a review, an SLT exemption granted or
# revoked by the office: voided, the exemption is as it was before). The records of what the
# office or the kiosk itself did that nothing reads back that way (list changes, admin
# actions, lockouts, settings, notices, checkpoints) stand: a void would not undo them, only
# make the register say they did not happen.
CORRECTABLE_KINDS = frozenset(
    k
    for k in EventKind
    if k.category in ("phone", "device", "policy", "exemption", "vdu", "review")
)


def not_correctable_message(kind: str, event_id: int) -> str | None:
    """Why the event cannot be voided, in plain words; None when it can."""
    if kind in CORRECTABLE_KINDS:
        return None
    if kind == EventKind.CORRECTION:
        return "A correction cannot itself be voided: record the event again instead."
    try:
        label = EventKind(kind).label
    except ValueError:
        # Recorded by a newer kiosk sharing the register (PostgreSQL): what it is, and what
        # a void would do to it, this version cannot tell.
        from kiosk.domain.text import display_text

        shown = display_text(kind)
        shown = shown if len(shown) <= 40 else shown[:39] + "\u2026"
        return (
            f"Event {event_id} is of a kind this version of the kiosk does not know "
            f"({shown!r}: recorded by a newer version, sharing this register?), so it cannot "
            "tell what a correction would do: it is not voided here. Correct it from a kiosk "
            "of the newer version, or update this one."
        )
    return (
        f"{label} (event {event_id}) is a record of what the office or the kiosk did and "
        "cannot be voided: a correction would not undo it. To change a list or a setting, "
        "change it again; the register keeps both records."
    )


class Role(StrEnum):
    SLT = "slt"
    BREAKFAST_CLUB_LEAD = "breakfast_club_lead"
    ADMIN = "admin"
    LAPTOP_USER = "laptop_user"


class DeviceKind(StrEnum):
    LAPTOP = "laptop"
    WORK_PHONE = "work_phone"

    @property
    def label(self) -> str:
        return "Laptop" if self is DeviceKind.LAPTOP else "Work phone"


class ReviewStatus(StrEnum):
    OPEN = "open"
    TAKEN_UP = "taken_up"
    DONE = "done"


SIGN_OUT_REASONS: tuple[str, ...] = (
    "Planning and marking at home",
    "School trip or visit",
    "Training or meeting off site",
    "Report writing",
    "Other",
)

# The two stores that exist from the first migration.
STAFF_ROOM_STORE = "STAFFROOM"
BREAKFAST_DRAWER_STORE = "DRAWER"

"""Rules of the Acceptable Use Policy that do not need the database to decide."""

from __future__ import annotations

from datetime import datetime, timedelta

from kiosk.domain.errors import InvalidInput, RuleViolation
from kiosk.domain.events import DeviceKind

REGULAR_USE_WINDOW = timedelta(days=28)


def needs_line_manager(kind: DeviceKind, recent_sign_outs: int, threshold: int) -> bool:
    """A laptop going home more than ``threshold`` times in 28 days is 'regular' use.

    The policy: "It is not expected that staff take home laptops on a regular or daily
    basis ... these must be agreed in negotiation with line managers." The sign-out being
    made now counts: with the default threshold 2, the third in 28 days needs agreement.
    """
    return kind is DeviceKind.LAPTOP and recent_sign_outs + 1 > threshold


def check_sign_out_details(
    *,
    kinds: list[DeviceKind],
    reason: str,
    expected_return: datetime,
    now: datetime,
    charged: bool,
) -> None:
    if not kinds:
        raise InvalidInput("Scan at least one laptop or work phone to sign out.")
    if not reason.strip():
        raise InvalidInput("Please give a reason for taking the device off site.")
    if len(reason) > 500:
        raise InvalidInput("The reason is too long (500 characters at most).")
    if expected_return <= now:
        raise InvalidInput("The expected return must be in the future.")
    if expected_return - now > timedelta(days=120):
        raise InvalidInput("The expected return must be within 120 days.")
    if DeviceKind.WORK_PHONE in kinds and not charged:
        raise RuleViolation(
            "Work phones must be charged and ready before they leave site. "
            "Please charge it, then confirm."
        )


def is_overdue(expected_return: datetime, now: datetime) -> bool:
    return now > expected_return

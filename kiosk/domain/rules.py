"""Rules of the Acceptable Use Policy that do not need the database to decide."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from kiosk.domain.devicekinds import DEFAULT_KINDS, DeviceKinds
from kiosk.domain.errors import InvalidInput, RuleViolation
from kiosk.domain.text import check_typed_line
from kiosk.domain.timeutil import format_local

REGULAR_USE_WINDOW = timedelta(days=28)
# A day and a time as a refusal says them ("Fri 13 Mar 15:30").
DAY_TIME = "%a %d %b %H:%M"


def needs_line_manager(
    kind: str, recent_sign_outs: int, threshold: int, kinds: DeviceKinds = DEFAULT_KINDS
) -> bool:
    """A laptop going home more than ``threshold`` times in 28 days is 'regular' use.

    The policy: "It is not expected that staff take home laptops on a regular or daily
    basis ... these must be agreed in negotiation with line managers." The sign-out being
    made now counts: with the default threshold 2, the third in 28 days needs agreement.
    The kinds with this rule (``regular_use``) are laptops and any the school gives it to.
    """
    definition = kinds.get(str(kind))
    return definition is not None and definition.regular_use and recent_sign_outs + 1 > threshold


# How far ahead an expected return may be (a typo's year, 2062 for 2026, is not a return).
LONGEST_OFF_SITE = timedelta(days=120)


def check_expected_return(
    expected_return: datetime, now: datetime, what: str = "The expected return"
) -> None:
    """InvalidInput unless ``expected_return`` is after ``now`` and within
    ``LONGEST_OFF_SITE``: the one rule for a sign-out's return and an extension's, which the
    forms apply as they are filled (what their summary says Enter records, Enter records)."""
    if expected_return <= now:
        raise InvalidInput(f"{what} must be in the future.")
    if expected_return - now > LONGEST_OFF_SITE:
        raise InvalidInput(f"{what} must be within {LONGEST_OFF_SITE.days} days.")


def check_extension(
    tag: str, new_return: datetime, current_return: datetime, now: datetime, zone: ZoneInfo
) -> None:
    """InvalidInput unless ``new_return`` is a return :func:`check_expected_return` allows
    and later than the one it replaces: "keep it longer" never brings a return forward
    ("Thu" typed on Tuesday for a laptop due on Friday is this Thursday)."""
    check_expected_return(new_return, now, "The new expected return")
    if new_return <= current_return:
        raise InvalidInput(
            f"{tag} is due back {format_local(current_return, zone, DAY_TIME)} already: the "
            f"new expected return ({format_local(new_return, zone, DAY_TIME)}) must be later. "
            "To bring it back sooner, simply return it then."
        )


def check_sign_out_details(
    *,
    kinds: list[str],
    reason: str,
    expected_return: datetime,
    now: datetime,
    charged: bool,
    definitions: DeviceKinds = DEFAULT_KINDS,
) -> None:
    if not kinds:
        raise InvalidInput("Scan at least one device label (laptop, work phone...) to sign out.")
    if not reason.strip():
        raise InvalidInput("Please give a reason for taking the device off site.")
    if len(reason) > 500:
        raise InvalidInput("The reason is too long (500 characters at most).")
    check_typed_line(reason, "reason")
    check_expected_return(expected_return, now)
    if definitions.needs_charged(kinds) and not charged:
        labels = sorted({definitions.label(k) for k in kinds if definitions.needs_charged([k])})
        # "Work phones", "Work phones and iPads": a label keeps its own capitals (iPad).
        plural = [
            (label if i == 0 or label[1:2].isupper() else label[:1].lower() + label[1:]) + "s"
            for i, label in enumerate(labels)
        ]
        raise RuleViolation(
            f"{' and '.join(plural)} must be charged and ready before they leave site. "
            "Please charge it, then confirm."
        )


def is_overdue(expected_return: datetime, now: datetime) -> bool:
    return now > expected_return

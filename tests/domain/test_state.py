"""Current state from the rows the queries hand over (kiosk.domain.state): each rule once.

The rows here are plain dataclasses with the columns each rule reads, as the services' Core
rows have them; the services tests check that the queries hand over the right rows (the
latest of a stream, none voided) on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from kiosk.domain.events import EventKind, ReviewStatus
from kiosk.domain.state import (
    REVIEW_NOT_UPDATED,
    ExemptionTerms,
    OffSite,
    ReviewState,
    details_unreadable,
    exemption_in_force,
    extended_sign_out,
    off_site,
    phone_in_store,
    policies_to_read,
    review_states,
    standing_sign_out,
    vdu_trained_on,
)

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)
STAFFROOM = 1


@dataclass(frozen=True)
class Row:
    kind: str
    id: int = 1
    store_id: int | None = None
    staff_id: int | None = 7
    occurred_at: datetime = NOW - timedelta(days=1)
    target_event_id: int | None = None
    due_at: datetime | None = None
    batch: str | None = None
    details: Any = field(default_factory=dict)


# --- phones ---------------------------------------------------------------------------------


def test_a_deposited_or_moved_phone_is_in_its_store() -> None:
    assert phone_in_store(Row(EventKind.PHONE_DEPOSITED.value, store_id=STAFFROOM))
    assert phone_in_store(Row(EventKind.PHONE_MOVED.value, store_id=2))


def test_a_collected_phone_is_not_in_a_store_even_with_no_deposit_before() -> None:
    """A collect is the whole stream (the deposit was voided, or never recorded): out."""
    assert not phone_in_store(Row(EventKind.PHONE_COLLECTED.value, store_id=STAFFROOM))
    assert not phone_in_store(None)


def test_a_phone_event_without_a_store_leaves_no_phone_in_one() -> None:
    assert not phone_in_store(Row(EventKind.PHONE_DEPOSITED.value, store_id=None))


# --- devices off site ---------------------------------------------------------------------------


def sign_out(ident: int = 10, due: datetime = NOW + timedelta(days=2), **kw: Any) -> Row:
    details = {"reason": "Trip", "line_manager": None}
    return Row(EventKind.DEVICE_SIGNED_OUT.value, id=ident, due_at=due, details=details, **kw)


def extension(target: int | None, due: datetime, ident: int = 20) -> Row:
    return Row(EventKind.RETURN_EXTENDED.value, id=ident, target_event_id=target, due_at=due)


def test_a_signed_out_device_is_off_site_due_back_when_the_sign_out_said() -> None:
    out = sign_out()
    assert off_site(out, {}, NOW) == OffSite(out, NOW + timedelta(days=2), overdue=False)


def test_a_device_is_overdue_only_once_its_return_time_has_passed() -> None:
    due = NOW - timedelta(hours=1)
    assert off_site(sign_out(due=due), {}, due) == OffSite(sign_out(due=due), due, overdue=False)
    late = off_site(sign_out(due=due), {}, due + timedelta(seconds=1))
    assert late is not None and late.overdue


def test_a_returned_device_or_one_never_signed_out_is_on_site() -> None:
    returned = Row(EventKind.DEVICE_RETURNED.value, id=11, due_at=None)
    assert off_site(returned, {10: sign_out()}, NOW) is None
    assert off_site(None, {}, NOW) is None


def test_an_extension_keeps_the_sign_out_and_moves_the_return() -> None:
    """Who took it, when and why stay the sign-out's; the expected return is the extension's
    (overdue by the new date, not the old)."""
    out = sign_out(due=NOW - timedelta(days=1))
    later = NOW + timedelta(days=3)
    latest = extension(out.id, later)
    assert extended_sign_out(latest) == out.id
    assert off_site(latest, {out.id: out}, NOW) == OffSite(out, later, overdue=False)


def test_an_extension_of_a_voided_sign_out_leaves_the_device_on_site() -> None:
    """The query hands over only sign-outs no correction voids: a voided one is missing."""
    latest = extension(10, NOW + timedelta(days=3))
    assert off_site(latest, {}, NOW) is None
    assert off_site(latest, {99: sign_out(ident=99)}, NOW) is None
    assert off_site(extension(None, NOW + timedelta(days=3)), {}, NOW) is None


def test_an_extension_pointing_at_anything_but_a_sign_out_is_not_off_site() -> None:
    returned = Row(EventKind.DEVICE_RETURNED.value, id=10)
    assert off_site(extension(10, NOW + timedelta(days=3)), {10: returned}, NOW) is None


def test_the_sign_out_a_device_stands_under_is_one_rule_for_the_kiosk_and_verify() -> None:
    """standing_sign_out is what off_site reads, and what verify's replay of the register
    reads (kiosk.services.integrity._device_out): a sign-out, or the sign-out an extension
    extends while it is there; nothing after a return."""
    out = sign_out()
    assert standing_sign_out(out, {}) is out
    assert standing_sign_out(extension(out.id, NOW), {out.id: out}) is out
    assert standing_sign_out(extension(out.id, NOW), {}) is None  # the sign-out voided
    returned = Row(EventKind.DEVICE_RETURNED.value, id=11)
    assert standing_sign_out(returned, {out.id: out}) is None
    assert standing_sign_out(extension(11, NOW), {11: returned}) is None
    assert standing_sign_out(None, {out.id: out}) is None


def test_only_an_extension_asks_for_the_sign_out_it_extends() -> None:
    assert extended_sign_out(sign_out()) is None
    assert extended_sign_out(Row(EventKind.DEVICE_RETURNED.value, target_event_id=3)) is None
    assert extended_sign_out(None) is None


# --- exemptions and VDU ---------------------------------------------------------------------


def grant(until: date, by: str | None = "Governors") -> Row:
    details: dict[str, Any] = {"until": until.isoformat()}
    if by is not None:
        details["granted_by"] = by
    return Row(EventKind.EXEMPTION_GRANTED.value, details=details)


def test_an_exemption_is_in_force_up_to_and_including_its_last_day() -> None:
    assert exemption_in_force(grant(TODAY), TODAY) == ExemptionTerms("Governors", TODAY)
    assert exemption_in_force(grant(TODAY + timedelta(days=30)), TODAY) == ExemptionTerms(
        "Governors", TODAY + timedelta(days=30)
    )


def test_an_exemption_that_ended_on_another_day_is_not_in_force() -> None:
    assert exemption_in_force(grant(TODAY - timedelta(days=1)), TODAY) is None


def test_a_revoked_exemption_is_not_in_force() -> None:
    assert exemption_in_force(Row(EventKind.EXEMPTION_REVOKED.value), TODAY) is None
    assert exemption_in_force(None, TODAY) is None


def test_an_exemption_without_a_granter_says_so_in_no_words() -> None:
    assert exemption_in_force(grant(TODAY, by=None), TODAY) == ExemptionTerms("", TODAY)


def test_vdu_training_is_dated_by_the_latest_declaration() -> None:
    declared = Row(EventKind.VDU_TRAINING_DECLARED.value, details={"completed_on": "2025-09-01"})
    assert vdu_trained_on(declared) == date(2025, 9, 1)
    assert vdu_trained_on(None) is None


@pytest.mark.parametrize(
    ("kind", "details"),
    [
        (EventKind.EXEMPTION_GRANTED.value, {"until": "soon", "granted_by": "Governors"}),
        (EventKind.EXEMPTION_GRANTED.value, {"granted_by": "Governors"}),
        (EventKind.EXEMPTION_GRANTED.value, {"until": 20260310}),
        (EventKind.EXEMPTION_GRANTED.value, "until 2030"),
        (EventKind.VDU_TRAINING_DECLARED.value, {"completed_on": "2025-13-01"}),
        (EventKind.VDU_TRAINING_DECLARED.value, [1, 2]),
        (EventKind.WORKSTATION_REVIEW_UPDATED.value, {"note": "x"}),
        (EventKind.PHONE_DEPOSITED.value, "a string"),
    ],
)
def test_details_the_rules_cannot_read_leave_the_event_out(kind: str, details: Any) -> None:
    """Written around the kiosk (no key needed): the rules leave such an event out rather
    than raise (a ValueError or KeyError stopped the person's screen), and say which it was."""
    event = Row(kind, details=details)
    assert details_unreadable(event)
    assert exemption_in_force(event, TODAY) is None
    assert vdu_trained_on(event) is None
    assert review_states([Update(3, 5, details)]) == {}


def test_details_the_rules_can_read_are_not_left_out() -> None:
    assert not details_unreadable(grant(TODAY))
    assert not details_unreadable(Row(EventKind.PHONE_DEPOSITED.value))


def test_an_unreadable_update_leaves_the_one_before_it() -> None:
    taken = Update(21, 5, {"status": ReviewStatus.TAKEN_UP.value, "note": "Ordered"})
    odd = Update(30, 5, {"status": ["done"]})
    assert review_states([taken, odd])[5] == ReviewState(ReviewStatus.TAKEN_UP.value, "Ordered")


# --- reviews ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Update:
    id: int
    target_event_id: int | None
    details: Any


def test_a_review_request_with_no_update_is_open() -> None:
    states = review_states([])
    assert states.get(5, REVIEW_NOT_UPDATED) == ReviewState(ReviewStatus.OPEN.value, None)
    assert REVIEW_NOT_UPDATED.open


def test_the_newest_update_of_a_request_says_its_status_whatever_the_order_given() -> None:
    done = Update(30, 5, {"status": ReviewStatus.DONE.value, "note": "Chair delivered"})
    taken = Update(21, 5, {"status": ReviewStatus.TAKEN_UP.value, "note": "Ordered"})
    other = Update(25, 6, {"status": ReviewStatus.TAKEN_UP.value, "note": ""})
    states = review_states([done, other, taken])
    assert states[5] == ReviewState(ReviewStatus.DONE.value, "Chair delivered")
    assert not states[5].open
    assert states[6] == ReviewState(ReviewStatus.TAKEN_UP.value, None)  # no note: None
    assert states[6].open


def test_an_update_naming_no_request_changes_none() -> None:
    assert review_states([Update(3, None, {"status": ReviewStatus.DONE.value})]) == {}


# --- policies --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Current:
    title: str
    required: bool
    acknowledged: bool


def test_only_required_policies_not_yet_acknowledged_are_to_read() -> None:
    aup = Current("AUP", required=True, acknowledged=False)
    read = Current("Data protection", required=True, acknowledged=True)
    optional = Current("Staff handbook", required=False, acknowledged=False)
    safeguarding = Current("Safeguarding", required=True, acknowledged=False)
    assert policies_to_read([aup, read, optional, safeguarding]) == [aup, safeguarding]

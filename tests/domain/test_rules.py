"""The policy's rules that need no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk.domain.errors import InvalidInput, RuleViolation
from kiosk.domain.events import DeviceKind
from kiosk.domain.rules import check_sign_out_details, is_overdue, needs_line_manager

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def test_the_third_laptop_sign_out_in_28_days_needs_the_line_manager() -> None:
    assert not needs_line_manager(DeviceKind.LAPTOP, recent_sign_outs=1, threshold=2)
    assert needs_line_manager(DeviceKind.LAPTOP, recent_sign_outs=2, threshold=2)
    assert not needs_line_manager(DeviceKind.WORK_PHONE, recent_sign_outs=9, threshold=2)


def check(**changes: object) -> None:
    fields: dict[str, object] = {
        "kinds": [DeviceKind.LAPTOP],
        "reason": "Marking at home",
        "expected_return": NOW + timedelta(days=1),
        "now": NOW,
        "charged": False,
    }
    fields.update(changes)
    check_sign_out_details(**fields)  # type: ignore[arg-type]


def test_a_usual_sign_out_passes() -> None:
    check()
    check(kinds=[DeviceKind.WORK_PHONE], charged=True)


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"kinds": []}, InvalidInput, "at least one"),
        ({"reason": "   "}, InvalidInput, "reason"),
        ({"reason": "x" * 501}, InvalidInput, "too long"),
        ({"expected_return": NOW}, InvalidInput, "future"),
        ({"expected_return": NOW + timedelta(days=121)}, InvalidInput, "120 days"),
        ({"kinds": [DeviceKind.WORK_PHONE]}, RuleViolation, "charged"),
    ],
)
def test_what_is_refused_and_why(change: dict[str, object], error: type, words: str) -> None:
    with pytest.raises(error) as refused:
        check(**change)
    assert words in refused.value.message


def test_overdue_only_after_the_expected_return() -> None:
    assert not is_overdue(NOW, NOW)
    assert is_overdue(NOW, NOW + timedelta(seconds=1))

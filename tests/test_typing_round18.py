"""Round 18, typing and touch: the rules under what is typed at the kiosk."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kiosk.domain.errors import InvalidInput
from kiosk.services.app import Services
from tests.school import make_ready, make_school


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    make_ready(services, "ASMITH")
    return services


def test_an_extension_must_be_later_than_the_return_it_replaces(school: Services) -> None:
    due = datetime(2026, 3, 13, 15, 30, tzinfo=UTC)
    school.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing", expected_return=due)
    for earlier in (due, datetime(2026, 3, 12, 8, 30, tzinfo=UTC)):
        with pytest.raises(InvalidInput, match="due back Fri 13 Mar 15:30"):
            school.devices.extend("LAP-001", earlier, reason="Longer", staff_code="ASMITH")
    later = datetime(2026, 3, 16, 8, 30, tzinfo=UTC)
    school.devices.extend("LAP-001", later, reason="Longer", staff_code="ASMITH")
    [item] = school.devices.offsite_now()
    assert item.expected_return == later

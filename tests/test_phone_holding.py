"""A person's status names who logged their phone, so the owner sees it when collecting."""

from __future__ import annotations

from kiosk.services.app import Services
from tests.school import make_school


def test_status_names_the_colleague_who_logged_the_phone(services: Services) -> None:
    make_school(services)
    services.phones.deposit("ASMITH", "DRAWER", recorded_by="BJONES")
    services.phones.deposit("EPATEL")
    held = services.people.status("ASMITH").phone
    assert held is not None and (held.store.code, held.recorded_by) == ("DRAWER", "Ben Jones")
    own = services.people.status("EPATEL").phone
    assert own is not None and own.recorded_by == "Esha Patel"
    assert services.people.status("CHEAD").phone is None

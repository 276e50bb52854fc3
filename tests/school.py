"""A small school for tests, built through the services (as the office would)."""

from __future__ import annotations

from kiosk.services.app import Services

STAFF = [
    ("ASMITH", "Alice Smith", "asmith@school.example", "Carol Head", ["laptop_user"]),
    ("BJONES", "Ben Jones", None, "Carol Head", ["breakfast_club_lead"]),
    ("CHEAD", "Carol Head", None, None, ["slt", "admin"]),
    ("DOFFICE", "Dina Office", None, "Carol Head", ["admin"]),
    ("EPATEL", "Esha Patel", None, "Carol Head", ["laptop_user"]),
]
DEVICES = [
    ("LAP-001", "laptop", "Dell Latitude, Year 3"),
    ("LAP-002", "laptop", "Dell Latitude, Year 4"),
    ("WP-01", "work_phone", "Trip phone"),
]


def make_school(services: Services) -> None:
    for code, name, email, manager, roles in STAFF:
        services.people.add_staff(code, name, email=email, line_manager=manager, roles=roles)
    for tag, kind, description in DEVICES:
        services.people.add_device(tag, kind, description)


def make_ready(services: Services, code: str) -> None:
    """Acknowledge every current required policy and declare VDU training."""
    for policy in services.policies.outstanding(code):
        services.policies.acknowledge(code, policy.id, policy.sha256)
    services.policies.declare_vdu_training(code, services.ctx.clock().date())

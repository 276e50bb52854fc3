"""A small school for tests, built through the services (as the office would)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert

from kiosk.db.models import Policy
from kiosk.domain.chain import text_fingerprint
from kiosk.resources import SEED_POLICY_FILE, SEED_POLICY_TITLE, SEED_POLICY_VERSION, asset_text
from kiosk.services.app import Services

# The head first: a line manager must be on the staff list before anyone names them.
STAFF = [
    ("CHEAD", "Carol Head", None, None, ["slt", "admin"]),
    ("ASMITH", "Alice Smith", "asmith@school.example", "Carol Head", ["laptop_user"]),
    ("BJONES", "Ben Jones", None, "Carol Head", ["breakfast_club_lead"]),
    ("DOFFICE", "Dina Office", None, "Carol Head", ["admin"]),
    ("EPATEL", "Esha Patel", None, "Carol Head", ["laptop_user"]),
]
DEVICES = [
    ("LAP-001", "laptop", "Dell Latitude, Year 3"),
    ("LAP-002", "laptop", "Dell Latitude, Year 4"),
    ("WP-01", "work_phone", "Trip phone"),
]


def make_school(services: Services) -> None:
    admin = None  # the lists are changed by an admin once the school has one
    for code, name, email, manager, roles in STAFF:
        services.people.add_staff(
            code, name, email=email, line_manager=manager, roles=roles, admin_code=admin
        )
        admin = admin or (code if "admin" in roles else None)
    for tag, kind, description in DEVICES:
        services.people.add_device(tag, kind, description, admin_code=admin)


def make_ready(services: Services, code: str) -> None:
    """Acknowledge every current required policy and declare VDU training."""
    for policy in services.policies.outstanding(code):
        services.policies.acknowledge(code, policy.id, policy.sha256)
    services.policies.declare_vdu_training(code, services.ctx.clock().date())


def add_seed_policy(engine: Engine) -> None:
    """The seed school's AUP (Spring 2018) as a required policy, inserted as the first
    migration did until a new database started with none (issue 16): the database most
    tests run on is a school with its AUP in force and no event yet."""
    text = asset_text(SEED_POLICY_FILE)
    with engine.begin() as conn:
        conn.execute(
            insert(Policy).values(
                title=SEED_POLICY_TITLE,
                version=SEED_POLICY_VERSION,
                text=text,
                sha256=text_fingerprint(text),
                required=True,
                published_at=datetime.now(UTC),
            )
        )

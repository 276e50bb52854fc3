"""Initial schema and the two phone stores.

Until December 2026 this revision also inserted the seed school's AUP (Spring 2018) as a
required policy; a new database now starts with no policy (issue 16). Databases created
before keep theirs: no revision removes it.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from kiosk.db.types import UTCDateTime
from kiosk.domain.events import BREAKFAST_DRAWER_STORE, STAFF_ROOM_STORE

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("tag", name=op.f("uq_devices_tag")),
    )
    op.create_table(
        "kiosk_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kiosk_settings")),
    )
    op.create_table(
        "policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
        sa.UniqueConstraint("title", "version", name="uq_policies_title_version"),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("line_manager", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("code", name=op.f("uq_staff_code")),
    )
    op.create_table(
        "stores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stores")),
        sa.UniqueConstraint("code", name=op.f("uq_stores_code")),
    )
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("kiosk", sa.String(length=64), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column(
            "target_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("batch", sa.String(length=36), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_events_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policies.id"], name=op.f("fk_events_policy_id_policies")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["staff.id"], name=op.f("fk_events_recorded_by_id_staff")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_events_staff_id_staff")),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_events_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["target_event_id"], ["events.id"], name=op.f("fk_events_target_event_id_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_events_hash")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_device_stream", ["device_id", "id"], unique=False)
        batch_op.create_index("ix_events_kind_time", ["kind", "occurred_at"], unique=False)
        batch_op.create_index("ix_events_occurred_at", ["occurred_at"], unique=False)
        batch_op.create_index("ix_events_policy_staff", ["policy_id", "staff_id"], unique=False)
        batch_op.create_index(
            "ix_events_staff_stream", ["staff_id", "category", "id"], unique=False
        )
        batch_op.create_index("ix_events_target", ["target_event_id"], unique=False)

    op.create_table(
        "staff_roles",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_roles_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("staff_id", "role", name=op.f("pk_staff_roles")),
    )

    now = datetime.now(UTC)
    stores = sa.table(
        "stores",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("created_at", UTCDateTime()),
    )
    op.bulk_insert(
        stores,
        [
            {"code": STAFF_ROOM_STORE, "name": "Staff-room secure store", "created_at": now},
            {
                "code": BREAKFAST_DRAWER_STORE,
                "name": "Administrator's locked drawer (breakfast club)",
                "created_at": now,
            },
        ],
    )
    # No policy: a school publishes its own (kiosk setup, kiosk policy publish). The seed
    # school's Spring 2018 AUP belongs to the demo school (kiosk.services.demo).


def downgrade() -> None:
    op.drop_table("staff_roles")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_target")
        batch_op.drop_index("ix_events_staff_stream")
        batch_op.drop_index("ix_events_policy_staff")
        batch_op.drop_index("ix_events_occurred_at")
        batch_op.drop_index("ix_events_kind_time")
        batch_op.drop_index("ix_events_device_stream")

    op.drop_table("events")
    op.drop_table("stores")
    op.drop_table("staff")
    op.drop_table("policies")
    op.drop_table("kiosk_settings")
    op.drop_table("devices")

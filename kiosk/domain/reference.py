"""Reference data under the chain: people, roles, stores, devices, policies, settings.

Every change to one of these rows is a ``reference_changed`` event carrying the table, the
row's key and the full new row (``None``: the row is removed, settings only). The tables
are a projection of those events (the database applies each one, see kiosk/db/guards.py);
``kiosk verify`` replays the events and names every difference.
"""

from __future__ import annotations

from typing import Any

REFERENCE_KIND = "reference_changed"

# table -> the fields its recorded row carries (staff's "roles" is the staff_roles table).
REFERENCE_FIELDS: dict[str, tuple[str, ...]] = {
    "staff": ("code", "name", "email", "line_manager", "created_at", "retired_at", "roles"),
    "stores": ("code", "name", "created_at", "retired_at"),
    "devices": ("tag", "kind", "description", "created_at", "retired_at"),
    "policies": ("title", "version", "text", "sha256", "required", "published_at"),
    "kiosk_settings": ("value", "updated_at"),
}
TIME_FIELDS = frozenset({"created_at", "retired_at", "published_at", "updated_at"})
# Tables keyed by an integer id; kiosk_settings is keyed by its text key.
ID_KEYED = ("staff", "stores", "devices", "policies")
# Settings that are not facts of the register (a purge's transient guard row).
UNRECORDED_SETTINGS = frozenset({"events_purge_guard"})


def normalise_key(table: str, key: Any) -> Any:
    if table in ID_KEYED:
        return int(key)
    return str(key)

"""Reference rows as the chain records them, and as the tables hold them.

``normalise_row`` is the one form a reference row takes in a ``reference_changed`` event
(times ISO 8601 UTC, roles a sorted list); ``table_rows`` reads the tables (raw, so a
garbled value is shown, not raised) into the same form, for the baseline and for verify.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, text

from kiosk.domain.chain import UnreadableEvent, iso_utc, stored_form_ok
from kiosk.domain.reference import (
    ID_KEYED,
    REFERENCE_FIELDS,
    TIME_FIELDS,
    UNRECORDED_SETTINGS,
)

_KEY_COLUMN = {"staff": "id", "stores": "id", "devices": "id", "policies": "id"}

# What this transaction read from the lists to find a person or a device (a code, a tag), by
# (table, id), in the session's ``info``: ``UnitOfWork.record`` hashes it into the event
# without reading the row again. A code swapped in the table for a while then shows in the
# register as the code the kiosk read, which verify compares with the register's lists.
LABELS_READ = "kiosk.labels_read"
# The longest code or tag kept (the kiosk's are 32 characters at most): a row written by hand
# with a longer one is named by verify all the same.
LABEL_MAX = 64


def note_label(info: dict[Any, Any], table: str, row_id: Any, label: Any) -> None:
    """Keep what was read of list row ``row_id`` of ``table`` (its code or tag), in a
    session's ``info``, for the event recorded about it."""
    info.setdefault(LABELS_READ, {})[(table, row_id)] = label


def _value(field: str, value: Any) -> Any:
    if field in TIME_FIELDS:
        try:
            return iso_utc(value)
        except UnreadableEvent:
            return f"(unreadable: {str(value)[:40]})"
    if field == "required":
        if isinstance(value, bool):
            return value
        if value in (0, 1):
            return bool(value)
        return value
    if field == "roles":
        return sorted(str(r) for r in (value or ()))
    return value


def _stored(field: str, value: Any) -> Any:
    """A value as the table holds it; a time not in the form the kiosk writes is shown as
    such (it would compare, sort and filter as another time), so verify names the row."""
    if field in TIME_FIELDS and not stored_form_ok(value):
        return f"(not in the kiosk's form: {str(value)[:40]})"
    return _value(field, value)


def normalise_row(table: str, row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The recorded form of one reference row (every field of the table, nothing else)."""
    if row is None:
        return None
    fields = REFERENCE_FIELDS[table]
    unknown = set(row) - set(fields)
    if unknown:
        raise ValueError(f"{table} has no field(s) {', '.join(sorted(unknown))}")
    missing = set(fields) - set(row)
    if missing:
        raise ValueError(f"a {table} row needs {', '.join(sorted(missing))}")
    return {field: _value(field, row[field]) for field in fields}


def table_rows(conn: Connection, table: str, *, key: Any = None) -> dict[Any, dict[str, Any]]:
    """Every row of one reference table, keyed as the events key it, in recorded form
    (``key``: that row only)."""
    fields = [f for f in REFERENCE_FIELDS[table] if f != "roles"]
    key_column = _KEY_COLUMN[table] if table in ID_KEYED else "key"
    columns = ", ".join([key_column, *fields])
    rows: dict[Any, dict[str, Any]] = {}
    where = "" if key is None else f" WHERE {key_column} = :key"
    params = {} if key is None else {"key": key}
    for raw in conn.execute(text(f"SELECT {columns} FROM {table}{where}"), params):
        row_key = raw[0]
        if table == "kiosk_settings" and row_key in UNRECORDED_SETTINGS:
            continue
        rows[row_key] = {f: _stored(f, v) for f, v in zip(fields, raw[1:], strict=True)}
    if table == "staff":
        roles: dict[Any, list[str]] = {}
        where = "" if key is None else " WHERE staff_id = :key"
        for staff_id, role in conn.execute(
            text(f"SELECT staff_id, role FROM staff_roles{where}"), params
        ):
            roles.setdefault(staff_id, []).append(str(role))
        for staff_id, row in rows.items():
            row["roles"] = sorted(roles.pop(staff_id, []))
        for staff_id, orphan in roles.items():  # roles of no one on the staff list
            rows[staff_id] = {"roles": sorted(orphan)}
    return rows


def all_table_rows(conn: Connection) -> dict[str, dict[Any, dict[str, Any]]]:
    return {table: table_rows(conn, table) for table in REFERENCE_FIELDS}


def differing_fields(
    table: str, recorded: Mapping[str, Any], stored: Mapping[str, Any]
) -> list[str]:
    """The fields of one row whose stored value is not the recorded one (as verify compares)."""
    return [f for f in REFERENCE_FIELDS[table] if recorded.get(f) != stored.get(f)]

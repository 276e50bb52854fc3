"""Fingerprints: of a policy's exact text, and of each event in the hash chain.

:func:`content_of` is THE one way a stored event (any object or mapping with the event's
columns) becomes the content its hash covers. The writer (``UnitOfWork.record``), the
verifier, the benchmark builder and the tests all use it.

Two content versions exist:

* **1** (events recorded before revision 0005, ``mac`` NULL): time, kind, staff, recorded
  by, kiosk, store, device, policy, target, batch, due and details. ``category`` and ``id``
  were not covered: the verifier checks ``category`` against the kind and ``id`` through the
  chain links.
* **2** (``mac`` set): the same plus ``"v": 2``, the event's ``id`` and its ``category``;
  ``prev_hash`` is covered by :func:`event_hash`; ``hash`` is what is computed. The ``mac``
  column holds HMAC-SHA256(school key, hash). Once a version-2 event is in the chain, every
  later event must be version 2 (the verifier names a later version-1 event): a new event
  cannot be downgraded unnoticed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
CONTENT_VERSION = 2

# Every column of ``events``, in table order (tests check this against the model).
EVENT_COLUMNS = (
    "id",
    "occurred_at",
    "kind",
    "category",
    "staff_id",
    "recorded_by_id",
    "kiosk",
    "store_id",
    "device_id",
    "policy_id",
    "target_event_id",
    "batch",
    "due_at",
    "details",
    "prev_hash",
    "hash",
    "mac",
)


class UnreadableEvent(ValueError):
    """A stored event whose columns cannot be turned into content (garbled by hand)."""


def text_fingerprint(text: str) -> str:
    """SHA-256 of the exact words (UTF-8) a member of staff was shown."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """Each event's hash covers the previous event's hash and its own canonical content."""
    return hashlib.sha256((prev_hash + "\n" + canonical(content)).encode("utf-8")).hexdigest()


def event_mac(key: bytes, digest: str) -> str:
    """The event's MAC: HMAC-SHA256 with the school's key over its hash."""
    return hmac.new(key, digest.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def iso_utc(moment: datetime | str | None) -> str | None:
    """A time as the chain writes it: ISO 8601, UTC, microseconds. Strings (as a raw SQLite
    row holds them, naive meaning UTC) are parsed first; garbage raises UnreadableEvent."""
    if moment is None:
        return None
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment)
        except ValueError:
            raise UnreadableEvent(f"time {moment[:40]!r} is not a date and time") from None
    if not isinstance(moment, datetime):
        raise UnreadableEvent(f"time {moment!r} is not a date and time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _get(row: Any, name: str) -> Any:
    if isinstance(row, Mapping):
        return row.get(name)
    return getattr(row, name, None)


def details_of(value: Any) -> dict[str, Any]:
    """An event's details as a dict (a raw row may hold JSON text)."""
    if value is None:
        return {}
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError:
            raise UnreadableEvent("its details are not valid JSON") from None
    if not isinstance(value, dict):
        raise UnreadableEvent("its details are not a JSON object")
    return dict(value)


def content_version(row: Any) -> int:
    """2 for an event with a MAC, 1 for one recorded before revision 0005."""
    return CONTENT_VERSION if _get(row, "mac") is not None else 1


def content_of(row: Any, *, version: int | None = None) -> dict[str, Any]:
    """The content an event's hash covers, from its stored columns (object or mapping).

    ``version`` defaults to :func:`content_version` of the row. Raises UnreadableEvent when a
    column cannot be read (bad JSON, a time that is not a time, a missing kind)."""
    kind = _get(row, "kind")
    kiosk = _get(row, "kiosk")
    if not isinstance(kind, str) or not isinstance(kiosk, str):
        raise UnreadableEvent("its kind or kiosk is missing")
    at = iso_utc(_get(row, "occurred_at"))
    if at is None:
        raise UnreadableEvent("its time is missing")
    content: dict[str, Any] = {
        "at": at,
        "kind": kind,
        "staff": _get(row, "staff_id"),
        "by": _get(row, "recorded_by_id"),
        "kiosk": kiosk,
        "store": _get(row, "store_id"),
        "device": _get(row, "device_id"),
        "policy": _get(row, "policy_id"),
        "target": _get(row, "target_event_id"),
        "batch": _get(row, "batch"),
        "due": iso_utc(_get(row, "due_at")),
        "details": details_of(_get(row, "details")),
    }
    if (version if version is not None else content_version(row)) >= 2:
        category = _get(row, "category")
        if not isinstance(category, str):
            raise UnreadableEvent("its category is missing")
        content |= {"v": CONTENT_VERSION, "id": _get(row, "id"), "category": category}
    return content


def hash_of(row: Any, *, version: int | None = None) -> str:
    """The hash an event's stored columns should carry (``prev_hash`` included)."""
    prev = _get(row, "prev_hash")
    if not isinstance(prev, str):
        raise UnreadableEvent("its previous hash is missing")
    return event_hash(prev, content_of(row, version=version))

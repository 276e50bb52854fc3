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
import re
from collections.abc import Container, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from kiosk.domain.events import EventKind

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


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
# SQLAlchemy's stored form of a UTC time on SQLite (naive, microseconds), read raw.
_SQLITE_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")


def canonical(content: dict[str, Any]) -> str:
    return _CANONICAL.encode(content)


def event_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """Each event's hash covers the previous event's hash and its own canonical content."""
    return hashlib.sha256((prev_hash + "\n" + canonical(content)).encode("utf-8")).hexdigest()


def event_mac(key: bytes, digest: str) -> str:
    """The event's MAC: HMAC-SHA256 with the school's key over its hash."""
    return hmac.digest(key, digest.encode("utf-8", "replace"), "sha256").hex()


def iso_utc(moment: datetime | str | None) -> str | None:
    """A time as the chain writes it: ISO 8601, UTC, microseconds. Strings (as a raw SQLite
    row holds them, naive meaning UTC) are parsed first; garbage raises UnreadableEvent."""
    if moment is None:
        return None
    if isinstance(moment, str):
        if _SQLITE_TIME.fullmatch(moment):  # the common case, as SQLite stores it
            try:
                datetime.fromisoformat(moment)  # a real date (not 2026-13-45)
            except ValueError:
                raise UnreadableEvent(f"time {moment!r} is not a date and time") from None
            return f"{moment[:10]}T{moment[11:]}+00:00"
        text = moment
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise UnreadableEvent(f"time {text[:40]!r} is not a date and time") from None
    if not isinstance(moment, datetime):
        raise UnreadableEvent(f"time {moment!r} is not a date and time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC).isoformat(timespec="microseconds")
    except OverflowError:  # 0001-01-01T00:00+01:00: before the year 1 in UTC
        raise UnreadableEvent(f"time {str(moment)[:40]!r} is out of range in UTC") from None


def stored_form_ok(moment: Any) -> bool:
    """Whether a stored time is exactly as the kiosk writes it: a ``datetime`` (PostgreSQL's
    timestamptz, or a value not read raw) or, raw from SQLite, ``YYYY-MM-DD HH:MM:SS.ffffff``
    (naive UTC, see kiosk/db/types.py). The same instant in another form (an offset, a week
    date) hashes the same but the register's date filters compare the raw text, so such an
    event would show on another day, or on none. ``None`` is fine (an empty column)."""
    if moment is None or isinstance(moment, datetime):
        return True
    return isinstance(moment, str) and _SQLITE_TIME.fullmatch(moment) is not None


def _getter(row: Any) -> Any:
    """A column reader for an object or a mapping (dicts first: the verifier's rows)."""
    if type(row) is dict or isinstance(row, Mapping):
        return row.get
    return lambda name: getattr(row, name, None)


def _get(row: Any, name: str) -> Any:
    return _getter(row)(name)


class _NameTwice(Exception):
    """An object in stored JSON holding one name twice (not a ValueError: said as such)."""


def _one_of_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _NameTwice(name)
            seen.add(name)
    return found


def parse_details(text: str | bytes) -> Any:
    """Stored JSON text, parsed once (whatever it holds: an object, a string, a list...).
    Raises UnreadableEvent when it is not JSON, or nested deeper than Python's reader goes
    (RecursionError, which is not a ValueError), or when an object in it holds a name twice:
    the kiosk never writes that (on PostgreSQL the database keeps one), and SQLite's JSON
    functions, which the purge and the list triggers use, read the first copy where Python
    reads the last, so one event would say two things (written by hand)."""
    try:
        return json.loads(text, object_pairs_hook=_one_of_each)
    except RecursionError:
        raise UnreadableEvent("its details are nested too deep to read") from None
    except _NameTwice as exc:
        raise UnreadableEvent(
            f"its details hold the name {str(exc)[:40]!r} twice, which the kiosk never "
            "writes: they were changed by hand (SQLite's JSON functions read the first, the "
            "kiosk the last)"
        ) from None
    except ValueError:
        raise UnreadableEvent("its details are not valid JSON") from None


def details_of(value: Any) -> dict[str, Any]:
    """An event's details as a dict (a raw row may hold JSON text)."""
    if value is None:
        return {}
    if isinstance(value, str | bytes):
        value = parse_details(value)
    if not isinstance(value, dict):
        raise UnreadableEvent("its details are not a JSON object")
    return dict(value)


def recorded_by_kiosk(
    event_id: Any,
    *,
    has_mac: bool,
    hash_ok: bool,
    mac_ok: bool,
    first_mac_id: Any,
    old: Container[int] | None = None,
) -> bool:
    """THE rule for "recorded by the kiosk", the walk's and the services' alike: its hash
    recomputes and its MAC is the school key's, or it has no MAC and comes before the first
    event with one (``first_mac_id``; None: none yet), as the kiosk wrote before revision
    0005. One without a MAC after that was written by a login or a shell without the key.

    ``old``: the ids of the events without a MAC that the chain links into the first event
    with one (``uow.old_events``), for a reader that does not walk the links as verify does.
    A shell on the SQLite file slipped an event without a MAC in below the first (id 0),
    and the subject access export said the kiosk had recorded it."""
    if not hash_ok:
        return False
    if has_mac:
        return mac_ok
    if old is not None:
        return type(event_id) is int and event_id in old
    return first_mac_id is None or (
        type(event_id) is int and type(first_mac_id) is int and event_id < first_mac_id
    )


def content_version(row: Any) -> int:
    """2 for an event with a MAC, 1 for one recorded before revision 0005."""
    return CONTENT_VERSION if _get(row, "mac") is not None else 1


def content_of(row: Any, *, version: int | None = None) -> dict[str, Any]:
    """The content an event's hash covers, from its stored columns (object or mapping).

    ``version`` defaults to :func:`content_version` of the row. Raises UnreadableEvent when a
    column cannot be read (bad JSON, a time that is not a time, a missing kind)."""
    get = _getter(row)
    kind = get("kind")
    kiosk = get("kiosk")
    if not isinstance(kind, str) or not isinstance(kiosk, str):
        raise UnreadableEvent("its kind or kiosk is missing")
    at = iso_utc(get("occurred_at"))
    if at is None:
        raise UnreadableEvent("its time is missing")
    content: dict[str, Any] = {
        "at": at,
        "kind": kind,
        "staff": get("staff_id"),
        "by": get("recorded_by_id"),
        "kiosk": kiosk,
        "store": get("store_id"),
        "device": get("device_id"),
        "policy": get("policy_id"),
        "target": get("target_event_id"),
        "batch": get("batch"),
        "due": iso_utc(get("due_at")),
        "details": details_of(get("details")),
    }
    if (version if version is not None else (2 if get("mac") is not None else 1)) >= 2:
        category = get("category")
        if not isinstance(category, str):
            raise UnreadableEvent("its category is missing")
        content |= {"v": CONTENT_VERSION, "id": get("id"), "category": category}
    return content


def hash_of(row: Any, *, version: int | None = None) -> str:
    """The hash an event's stored columns should carry (``prev_hash`` included)."""
    prev = _get(row, "prev_hash")
    if not isinstance(prev, str):
        raise UnreadableEvent("its previous hash is missing")
    return event_hash(prev, content_of(row, version=version))


def sealed_event(
    event_id: int,
    at: datetime,
    kind: EventKind,
    *,
    kiosk: str,
    details: dict[str, Any],
    prev_hash: str,
    key: bytes,
    staff_id: int | None = None,
    recorded_by_id: int | None = None,
    store_id: int | None = None,
    device_id: int | None = None,
    policy_id: int | None = None,
    target_event_id: int | None = None,
    batch: str | None = None,
    due_at: datetime | None = None,
) -> dict[str, Any]:
    """A new event's every column (``EVENT_COLUMNS`` order): what it records, its hash (this
    content version, chained to ``prev_hash``) and the MAC of that hash with the school's
    ``key``. The one way an event is made: the writer (``UnitOfWork.record``), the restore's
    own event and the benchmark's builder."""
    row: dict[str, Any] = {
        "id": event_id,
        "occurred_at": at,
        "kind": kind.value,
        "category": kind.category,
        "staff_id": staff_id,
        "recorded_by_id": recorded_by_id,
        "kiosk": kiosk,
        "store_id": store_id,
        "device_id": device_id,
        "policy_id": policy_id,
        "target_event_id": target_event_id,
        "batch": batch,
        "due_at": due_at,
        "details": details,
        "prev_hash": prev_hash,
    }
    row["hash"] = digest = hash_of(row, version=CONTENT_VERSION)
    row["mac"] = event_mac(key, digest)
    return row


def stored_hash(row: Sequence[Any]) -> str:
    """The hash of an event as read back from the database (every column, ``EVENT_COLUMNS``
    order; ``details`` as stored, JSON text: select it ``CAST(details AS TEXT)`` on
    PostgreSQL, whose driver would otherwise parse it first)."""
    values = dict(zip(EVENT_COLUMNS, row, strict=True))
    if isinstance(values["details"], str | bytes):
        # Parsed exactly once: a JSON string holding an object's text is not that object.
        values["details"] = parse_details(values["details"])
        if not isinstance(values["details"], dict):
            raise UnreadableEvent("its details are not a JSON object")
    return hash_of(values)

"""The hash chain's fingerprints: stable, order-free over keys, sensitive to every field."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from kiosk.domain.chain import (
    EVENT_COLUMNS,
    GENESIS_HASH,
    canonical,
    content_of,
    event_hash,
    event_mac,
    hash_of,
    sealed_event,
    text_fingerprint,
)
from kiosk.domain.events import EventKind


def row(**changes: Any) -> dict[str, Any]:
    """A stored event's columns, as the verifier reads them (content version 2: with a MAC)."""
    fields: dict[str, Any] = {
        "id": 41,
        "category": "phone",
        "mac": "00" * 32,
        "prev_hash": GENESIS_HASH,
        "occurred_at": "2026-03-10T08:05:00+00:00",
        "kind": "phone_deposited",
        "staff_id": 7,
        "recorded_by_id": None,
        "kiosk": "staffroom",
        "store_id": 1,
        "device_id": None,
        "policy_id": None,
        "target_event_id": None,
        "batch": None,
        "due_at": None,
        "details": {"note": "café"},
    }
    fields.update(changes)
    return fields


def content(**changes: Any) -> dict[str, Any]:
    return content_of(row(**changes))


def test_text_fingerprint_is_sha256_of_the_exact_utf8_words() -> None:
    assert text_fingerprint("Policy ✓") == hashlib.sha256("Policy ✓".encode()).hexdigest()
    assert text_fingerprint("Policy") != text_fingerprint("Policy ")


def test_canonical_json_sorts_keys_keeps_unicode_and_has_no_spaces() -> None:
    assert canonical({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
    assert canonical({"a": 1, "b": 2}) == canonical({"b": 2, "a": 1})


def test_event_content_names_the_hashed_fields() -> None:
    v1 = {
        "at", "kind", "staff", "by", "kiosk", "store", "device", "policy", "target",
        "batch", "due", "details",
    }  # fmt: skip
    assert set(content_of(row(mac=None))) == v1  # recorded before revision 0005
    made = content()
    assert set(made) == v1 | {"v", "id", "category"}
    assert made["at"] == "2026-03-10T08:05:00.000000+00:00" and made["staff"] == 7


def test_event_hash_chains_on_the_previous_hash() -> None:
    first = event_hash(GENESIS_HASH, content())
    assert len(first) == 64 and first != GENESIS_HASH
    assert event_hash(GENESIS_HASH, content()) == first  # deterministic
    second = event_hash(first, content())
    assert second != first  # same content, another place in the chain


@pytest.mark.parametrize(
    "change",
    [
        {"occurred_at": "2026-03-10T08:06:00+00:00"},
        {"kind": "phone_collected"},
        {"staff_id": 8},
        {"recorded_by_id": 1},
        {"kiosk": "hall"},
        {"store_id": 2},
        {"device_id": 3},
        {"policy_id": 4},
        {"target_event_id": 5},
        {"batch": "b1"},
        {"due_at": "2026-03-11T08:30:00+00:00"},
        {"details": {"note": "cafe"}},
        {"id": 42},
        {"category": "device"},
        {"prev_hash": "1" * 64},
    ],
)
def test_every_column_changes_the_hash(change: dict[str, Any]) -> None:
    assert hash_of(row(**change)) != hash_of(row())


def test_a_sealed_event_carries_every_column_its_hash_and_its_mac() -> None:
    # The one way an event is made (the writer, the restore's own event, the benchmark):
    # every column in table order, the hash the verifier recomputes, the school key's MAC.
    key = b"k" * 32
    at = datetime(2026, 3, 10, 8, 5, tzinfo=UTC)
    made = sealed_event(
        41,
        at,
        EventKind.PHONE_DEPOSITED,
        kiosk="staffroom",
        details={"note": "café"},
        prev_hash=GENESIS_HASH,
        key=key,
        staff_id=7,
        store_id=1,
    )
    assert tuple(made) == EVENT_COLUMNS
    assert made["category"] == EventKind.PHONE_DEPOSITED.category
    assert made["hash"] == hash_of(made)  # as verify reads it back (version 2: a MAC)
    assert made["mac"] == event_mac(key, made["hash"])
    assert made["hash"] == hash_of(row(occurred_at=at, details={"note": "café"}))

"""Fingerprints: of a policy's exact text, and of each event in the hash chain."""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS_HASH = "0" * 64


def text_fingerprint(text: str) -> str:
    """SHA-256 of the exact words (UTF-8) a member of staff was shown."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """Each event's hash covers the previous event's hash and its own canonical content."""
    return hashlib.sha256((prev_hash + "\n" + canonical(content)).encode("utf-8")).hexdigest()


def event_content(
    *,
    occurred_at: str,
    kind: str,
    staff_id: int | None,
    recorded_by_id: int | None,
    kiosk: str,
    store_id: int | None,
    device_id: int | None,
    policy_id: int | None,
    target_event_id: int | None,
    batch: str | None,
    due_at: str | None,
    details: dict[str, Any],
) -> dict[str, Any]:
    """The fields an event's hash covers (times as ISO 8601 UTC strings)."""
    return {
        "at": occurred_at,
        "kind": kind,
        "staff": staff_id,
        "by": recorded_by_id,
        "kiosk": kiosk,
        "store": store_id,
        "device": device_id,
        "policy": policy_id,
        "target": target_event_id,
        "batch": batch,
        "due": due_at,
        "details": details,
    }

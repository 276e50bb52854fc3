"""Tamper evidence: walk the hash chain of the events table and report what does not add up.

Each event stores ``prev_hash`` (the hash of the event before it) and ``hash`` (SHA-256 of
``prev_hash`` and its own canonical content, see :mod:`kiosk.domain.chain`). Walking the
table in id order:

* an event whose recomputed hash differs from its stored ``hash`` was **edited**;
* an event whose ``prev_hash`` is not the stored hash of the event before it is a **broken
  link**: an event was deleted, inserted or moved just before it;
* the first event must follow the start of the register (``GENESIS_HASH``) or a purge
  checkpoint (an ``admin_action`` event with ``action = events_purged`` that records the
  hash of the last event it removed, see :mod:`kiosk.services.backup`);
* the newest event seen by the previous check must still be there with the same hash,
  unless a checkpoint removed it: otherwise events were cut off the end.

The walk streams the rows (``yield_per``: a server-side cursor on PostgreSQL), so it needs
little memory for millions of events. The last result is kept in ``kiosk_settings`` (key
``last_verify``) for the admin console.

What a chain cannot show: someone with write access to the database who recomputes every
hash after their edit. The triggers and the PostgreSQL roles stop the kiosk itself from
editing; for the rest, note the head hash ``kiosk verify`` prints somewhere off the machine
(or keep backups) and compare.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from kiosk.db.models import Event, KioskSetting
from kiosk.domain.chain import GENESIS_HASH, event_content, event_hash
from kiosk.domain.errors import DatabaseUnavailable
from kiosk.domain.events import EventKind
from kiosk.services.common import UseCases
from kiosk.services.uow import UnitOfWork, iso

LAST_VERIFY_KEY = "last_verify"
PURGE_ACTION = "events_purged"
# How many problem ids are kept in the stored last result (the full lists are in the report).
STORED_IDS = 200
STREAM_BATCH = 5000

_COLUMNS = (
    Event.id,
    Event.occurred_at,
    Event.kind,
    Event.staff_id,
    Event.recorded_by_id,
    Event.kiosk,
    Event.store_id,
    Event.device_id,
    Event.policy_id,
    Event.target_event_id,
    Event.batch,
    Event.due_at,
    Event.details,
    Event.prev_hash,
    Event.hash,
)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of one walk of the chain."""

    ok: bool
    events_checked: int
    first_broken_link: int | None
    broken_links: tuple[int, ...]
    mismatched: tuple[int, ...]
    broken_link_count: int
    mismatch_count: int
    first_id: int | None
    head_id: int | None
    head_hash: str
    anchor: str  # "genesis", "checkpoint <event id>", or "missing"
    checked_at: datetime
    seconds: float
    tail_problem: str | None = None
    notes: tuple[str, ...] = field(default=())
    # The newest event the checks so far have seen: the next check requires it to still be
    # there, unchanged (or purged by a checkpoint). It stays put while a problem persists.
    witness_id: int | None = None
    witness_hash: str | None = None

    @property
    def summary(self) -> str:
        """One sentence for the admin console and ``kiosk verify``."""
        if self.ok:
            start = "the start of the register" if self.anchor == "genesis" else self.anchor
            return (
                f"Register intact: {self.events_checked} events checked, from {start} "
                f"to event {self.head_id if self.head_id is not None else '-'}."
            )
        parts = []
        if self.mismatch_count:
            parts.append(
                f"{self.mismatch_count} event(s) changed after they were recorded "
                f"(first: {self.mismatched[0]})"
            )
        if self.broken_link_count:
            parts.append(
                f"{self.broken_link_count} broken link(s): events removed, inserted or "
                f"reordered (first at event {self.first_broken_link})"
            )
        if self.tail_problem:
            parts.append(self.tail_problem)
        return f"REGISTER TAMPERED WITH: {'; '.join(parts)}."

    def to_json(self) -> str:
        data = asdict(self)
        data["broken_links"] = list(self.broken_links[:STORED_IDS])
        data["mismatched"] = list(self.mismatched[:STORED_IDS])
        data["notes"] = list(self.notes)
        data["checked_at"] = self.checked_at.isoformat()
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> VerifyReport:
        data = json.loads(text)
        data["broken_links"] = tuple(data["broken_links"])
        data["mismatched"] = tuple(data["mismatched"])
        data["notes"] = tuple(data.get("notes", ()))
        data["checked_at"] = datetime.fromisoformat(data["checked_at"])
        return cls(**data)


def row_content(row: Row[Any] | Event) -> dict[str, Any]:
    """The content an event's hash covers, rebuilt exactly as UnitOfWork.record builds it."""
    return event_content(
        occurred_at=iso(row.occurred_at) or "",
        kind=row.kind,
        staff_id=row.staff_id,
        recorded_by_id=row.recorded_by_id,
        kiosk=row.kiosk,
        store_id=row.store_id,
        device_id=row.device_id,
        policy_id=row.policy_id,
        target_event_id=row.target_event_id,
        batch=row.batch,
        due_at=iso(row.due_at),
        details=dict(row.details or {}),
    )


def is_checkpoint(kind: str, details: Any) -> bool:
    return (
        kind == EventKind.ADMIN_ACTION.value
        and isinstance(details, dict)
        and details.get("action") == PURGE_ACTION
    )


def walk(
    rows: Iterable[Sequence[Any]],
    *,
    now: datetime,
    previous: VerifyReport | None = None,
) -> VerifyReport:
    """Check a stream of event rows (tuples in ``_COLUMNS`` order, id order). Pure."""
    started = time.perf_counter()
    checked = 0
    prev_row_hash: str | None = None
    first_id: int | None = None
    first_prev: str | None = None
    head_id: int | None = None
    head_hash = GENESIS_HASH
    broken: list[int] = []
    mismatched: list[int] = []
    checkpoints: list[tuple[int, int, str]] = []  # (event id, last removed id, its hash)
    seen_previous_head: bool | None = None
    notes: list[str] = []
    witness_of_previous = previous.witness_id if previous is not None else None
    admin_action = EventKind.ADMIN_ACTION.value
    for (
        event_id,
        occurred_at,
        kind,
        staff_id,
        recorded_by_id,
        kiosk,
        store_id,
        device_id,
        policy_id,
        target_event_id,
        batch,
        due_at,
        details,
        prev_hash,
        stored_hash,
    ) in rows:
        checked += 1
        if first_id is None:
            first_id, first_prev = event_id, prev_hash
        elif prev_hash != prev_row_hash:
            broken.append(event_id)
        try:
            content = event_content(
                occurred_at=iso(occurred_at) or "",
                kind=kind,
                staff_id=staff_id,
                recorded_by_id=recorded_by_id,
                kiosk=kiosk,
                store_id=store_id,
                device_id=device_id,
                policy_id=policy_id,
                target_event_id=target_event_id,
                batch=batch,
                due_at=iso(due_at),
                details=dict(details or {}),
            )
            recomputed = event_hash(prev_hash, content)
        except (TypeError, ValueError, AttributeError):  # e.g. details that are not an object
            recomputed = ""
        if recomputed != stored_hash:
            mismatched.append(event_id)
        if kind == admin_action and is_checkpoint(kind, details):
            try:
                checkpoints.append(
                    (
                        event_id,
                        int(details["last_removed_id"]),
                        str(details["last_removed_hash"]),
                    )
                )
            except (KeyError, TypeError, ValueError):
                notes.append(f"checkpoint event {event_id} is incomplete")
        if event_id == witness_of_previous and previous is not None:
            seen_previous_head = stored_hash == previous.witness_hash
        prev_row_hash = stored_hash
        head_id, head_hash = event_id, stored_hash

    anchor = "genesis"
    if first_id is not None and first_prev != GENESIS_HASH:
        vouching = [c for c in checkpoints if c[2] == first_prev and c[1] < first_id]
        if vouching:
            anchor = f"checkpoint {vouching[-1][0]}"
        else:
            anchor = "missing"
            broken.insert(0, first_id)

    tail_problem = None
    witness_id = head_id
    witness_hash = head_hash if head_id is not None else None
    if previous is not None and previous.witness_id is not None:
        purged_past = any(c[1] >= previous.witness_id for c in checkpoints)
        if seen_previous_head is False:
            tail_problem = (
                f"event {previous.witness_id}, the newest at an earlier check, has been changed"
            )
        elif seen_previous_head is None and not purged_past:
            tail_problem = (
                f"event {previous.witness_id}, the newest at an earlier check, is missing: "
                "events were removed from the end"
            )
        if tail_problem is not None:
            witness_id, witness_hash = previous.witness_id, previous.witness_hash

    ok = not broken and not mismatched and tail_problem is None
    return VerifyReport(
        ok=ok,
        events_checked=checked,
        first_broken_link=broken[0] if broken else None,
        broken_links=tuple(broken),
        mismatched=tuple(mismatched),
        broken_link_count=len(broken),
        mismatch_count=len(mismatched),
        first_id=first_id,
        head_id=head_id,
        head_hash=head_hash,
        anchor=anchor,
        checked_at=now,
        seconds=round(time.perf_counter() - started, 3),
        tail_problem=tail_problem,
        notes=tuple(notes),
        witness_id=witness_id,
        witness_hash=witness_hash,
    )


def verify_session(
    session: Session, *, now: datetime, previous: VerifyReport | None = None
) -> VerifyReport:
    """Walk every event of the database behind ``session`` (one consistent snapshot)."""
    started = time.perf_counter()
    stmt = select(*_COLUMNS).order_by(Event.id).execution_options(yield_per=STREAM_BATCH)
    # Core rows (not the ORM's) unpacked as tuples: about twice as fast over a million events.
    report = walk(session.connection().execute(stmt), now=now, previous=previous)
    return replace(report, seconds=round(time.perf_counter() - started, 3))


def load_last(session: Session) -> VerifyReport | None:
    row = session.get(KioskSetting, LAST_VERIFY_KEY)
    if row is None:
        return None
    try:
        return VerifyReport.from_json(row.value)
    except (ValueError, KeyError, TypeError):
        return None


def save_last(uow: UnitOfWork, report: VerifyReport) -> None:
    row = uow.session.get(KioskSetting, LAST_VERIFY_KEY)
    if row is None:
        uow.session.add(
            KioskSetting(key=LAST_VERIFY_KEY, value=report.to_json(), updated_at=uow.now)
        )
    else:
        row.value, row.updated_at = report.to_json(), uow.now
    uow.session.flush()


class IntegrityService(UseCases):
    def verify(self, *, save: bool = True) -> VerifyReport:
        """Walk the whole chain; keep the result for the admin console (``last_result``)."""
        with self.ctx.read() as session:
            previous = load_last(session)
            report = verify_session(session, now=self.ctx.clock(), previous=previous)
        if save:
            try:
                with self.ctx.write() as uow:
                    save_last(uow, report)
            except DatabaseUnavailable:
                # A read-only database (a copy, a full disk) can still be checked.
                note = "this result could not be saved: the database cannot be written"
                report = replace(report, notes=(*report.notes, note))
        return report

    def last_result(self) -> VerifyReport | None:
        """The result of the last ``verify`` (None when the register was never checked)."""
        with self.ctx.read() as session:
            return load_last(session)

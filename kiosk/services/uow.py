"""One transaction per use case: the unit of work, the hash chain and error translation."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, insert, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kiosk.config import Settings
from kiosk.db.engine import session_factory, write_engine
from kiosk.db.models import Event
from kiosk.domain.chain import GENESIS_HASH, event_content, event_hash
from kiosk.domain.errors import DatabaseUnavailable, KioskError
from kiosk.domain.events import EventKind
from kiosk.domain.timeutil import utc_now

log = logging.getLogger("kiosk.services")

# Every write transaction on PostgreSQL takes this advisory lock first: it serialises
# read-then-write rules (two kiosks signing out one laptop) and keeps the hash chain linear.
CHAIN_LOCK_KEY = 0x4B494F534B  # "KIOSK"


_events = cast(Table, Event.__table__)
_CHAIN_HEAD = select(_events.c.hash).order_by(_events.c.id.desc()).limit(1)
_INSERT_EVENT = insert(_events).returning(_events.c.id)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="microseconds")


class ServiceContext:
    """What every use case needs: engines, settings and a clock."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self._read = session_factory(engine)
        self._write = session_factory(write_engine(engine))

    @contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with self._read() as session, session.begin():
                yield session
        except KioskError:
            raise
        except SQLAlchemyError as exc:
            log.warning("database read failed: %s", exc)
            if is_locked(exc):
                raise DatabaseUnavailable(
                    "This cannot be shown: the database file is locked by another program. "
                    "Please try again in a moment."
                ) from exc
            raise DatabaseUnavailable(
                "The database is unavailable, so this cannot be shown. Please try again."
            ) from exc

    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        """A write transaction. Nothing is stored unless the block finishes without error."""
        try:
            with self._write() as session, session.begin():
                if session.get_bind().dialect.name == "postgresql":
                    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK_KEY})
                uow = UnitOfWork(session, self)
                yield uow
                # session.begin() committed here; only now is anything confirmed.
        except KioskError:
            raise
        except SQLAlchemyError as exc:
            log.warning("database write failed: %s", exc)
            if is_locked(exc):
                raise DatabaseUnavailable(
                    "Not recorded: the database file is locked by another program (a backup or "
                    "restore running, or the file open in a database tool?). Please try again "
                    "in a moment."
                ) from exc
            raise DatabaseUnavailable() from exc


def is_locked(exc: BaseException) -> bool:
    """SQLite's "database is locked" (another program holds the file past the busy timeout)."""
    return "database is locked" in str(getattr(exc, "orig", exc)).lower()


class UnitOfWork:
    def __init__(self, session: Session, ctx: ServiceContext) -> None:
        self.session = session
        self.ctx = ctx
        self.now = ctx.clock()
        self._last_hash: str | None = None

    def _chain_head(self) -> str:
        if self._last_hash is None:
            last = self.session.connection().execute(_CHAIN_HEAD).scalar()
            self._last_hash = last or GENESIS_HASH
        return self._last_hash

    def record(
        self,
        kind: EventKind,
        *,
        staff_id: int | None,
        recorded_by_id: int | None = None,
        store_id: int | None = None,
        device_id: int | None = None,
        policy_id: int | None = None,
        target_event_id: int | None = None,
        batch: str | None = None,
        due_at: datetime | None = None,
        details: dict[str, Any] | None = None,
        occurred_at: datetime | None = None,
    ) -> Event:
        """Append one event to the chain (flushed, so it has its id)."""
        at = (occurred_at or self.now).astimezone(UTC)
        details = dict(details or {})
        kiosk = self.ctx.settings.kiosk_name[:64]
        by = recorded_by_id if recorded_by_id is not None else staff_id
        prev = self._chain_head()
        content = event_content(
            occurred_at=iso(at) or "",
            kind=kind.value,
            staff_id=staff_id,
            recorded_by_id=by,
            kiosk=kiosk,
            store_id=store_id,
            device_id=device_id,
            policy_id=policy_id,
            target_event_id=target_event_id,
            batch=batch,
            due_at=iso(due_at),
            details=details,
        )
        digest = event_hash(prev, content)
        values: dict[str, Any] = {
            "occurred_at": at,
            "kind": kind.value,
            "category": kind.category,
            "staff_id": staff_id,
            "recorded_by_id": by,
            "kiosk": kiosk,
            "store_id": store_id,
            "device_id": device_id,
            "policy_id": policy_id,
            "target_event_id": target_event_id,
            "batch": batch,
            "due_at": due_at,
            "details": details,
            "prev_hash": prev,
            "hash": digest,
        }
        # One prepared INSERT (no ORM flush for it: every event goes through here); what
        # the session holds unflushed goes first, as it would have.
        self.session.flush()
        ident = self.session.connection().execute(_INSERT_EVENT, values).scalar_one()
        self._last_hash = digest
        return Event(id=ident, **values)  # what was stored (not tracked by the session)

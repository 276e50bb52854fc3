"""One transaction per use case: the unit of work, the hash chain and error translation."""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, insert, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kiosk.config import Settings
from kiosk.db.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    file_gone,
    file_replaced,
    on_network_share,
    rescue_deleted_wal,
    session_factory,
    wal_deleted,
    write_engine,
)
from kiosk.db.models import Event
from kiosk.db.types import UTCDateTime
from kiosk.domain.chain import (
    EVENT_COLUMNS,
    GENESIS_HASH,
    UnreadableEvent,
    event_mac,
    iso_utc,
    parse_details,
    recorded_by_kiosk,
    sealed_event,
    stored_hash,
)
from kiosk.domain.errors import (
    ClockWrong,
    DatabaseUnavailable,
    KioskError,
    OutcomeUnknown,
    RuleViolation,
)
from kiosk.domain.events import EventKind
from kiosk.domain.reference import ID_KEYED, REFERENCE_FIELDS, REFERENCE_KIND, normalise_key
from kiosk.domain.text import display_text
from kiosk.domain.timeutil import CLOCK_GONE_BACK, CLOCK_SKEW, utc_now
from kiosk.services.reference import (
    LABEL_MAX,
    LABELS_READ,
    all_table_rows,
    differing_fields,
    normalise_row,
    table_rows,
)
from kiosk.services.secret import school_key, school_key_if_present

log = logging.getLogger("kiosk.services")

# Every write transaction on PostgreSQL takes this advisory lock first: it serialises
# read-then-write rules (two kiosks signing out one laptop) and keeps the hash chain linear.
CHAIN_LOCK_KEY = 0x4B494F534B  # "KIOSK"
# How long a write waits for that lock (or a row another transaction holds) before it says
# "Not recorded": as long as SQLite waits for its file lock. Any login may take the lock and
# keep it; without a limit every kiosk's next scan waited forever.
PG_LOCK_TIMEOUT_MS = SQLITE_BUSY_TIMEOUT_MS
# Each write transaction on PostgreSQL: the lock timeout above, and a COMMIT that returns only
# once it is on disk. Any login may ``ALTER ROLE CURRENT_USER SET synchronous_commit = off``:
# its kiosks' commits were then answered before they were durable, and a crash in the next
# moment lost events the kiosk had confirmed. So do ``local`` and ``remote_write`` when set
# on the login's role (``ALTER ROLE CURRENT_USER``, which any login may): with a synchronous
# standby its kiosks' commits were answered before the standby had them, and a failover lost
# confirmed events. A level the school gives in the URL or PGOPTIONS, or sets for the whole
# server, is left as it is, as is a stronger one (remote_apply).
#
# And an idle-in-transaction limit for the write only (the session asks for none: a read
# may take as long as its reader): a kiosk stuck half-way through a write (the console's
# laptop put to sleep, a hung thread) holds the chain's lock; the server ends its session
# after five minutes, and the other kiosks record again. No write idles that long.
PG_WRITE_IDLE_LIMIT = "5min"
_PG_WRITE_SETTINGS = text(
    "SELECT set_config('lock_timeout', :t, true), "
    "set_config('idle_in_transaction_session_timeout', :idle, true), "
    "CASE WHEN current_setting('synchronous_commit') = 'off' "
    "OR (current_setting('synchronous_commit') IN ('local', 'remote_write') "
    "AND (SELECT source FROM pg_settings WHERE name = 'synchronous_commit') "
    "IN ('user', 'database user')) "
    "THEN set_config('synchronous_commit', 'on', true) END"
)
_PG_READ_COMMITTED = text("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
PG_TABLE_LOCKED = (
    "another connection holds a lock on the register (database maintenance, or a database "
    "tool left open?)"
)
# A register that accepts no changes (a hot standby, or read-only asked for in the URL or
# PGOPTIONS). Not the login's role: the kiosk asks for read-write when it connects
# (kiosk.db.engine), so a role's default_transaction_read_only is never the cause, and
# naming it sent the office to look in the wrong place.
PG_READ_ONLY = (
    "the database accepts no changes (a read-only standby server, or read-only asked for in "
    "KIOSK_DATABASE_URL or PGOPTIONS). Tell whoever looks after the database: trying again "
    "will not help."
)
# The register's tables not found by the kiosk's queries (SQLSTATE 42P01): the login's
# search_path no longer names the register's schema (any login may ``ALTER ROLE CURRENT_USER
# SET search_path``; it is not asked for when connecting, as a school may point its kiosks'
# login at a schema of its own that way), or a table was dropped or renamed: the server says
# the same of both, so both are named.
PG_NOT_ON_PATH = (
    "the register's tables cannot be found: this kiosk's database login no longer looks "
    "where they are (its search_path was changed?), or they have been removed or renamed. "
    "Tell whoever looks after the database: trying again will not help."
)
# The server refused the kiosk a connection because every one it allows is in use: all the
# server's (``max_connections``, but those kept for superusers), the login's own CONNECTION
# LIMIT, or the database's. Any login may open connections until none is left: every kiosk
# then said "the database is unavailable", as if the server or the network were down.
PG_NO_CONNECTION_LEFT = (
    "the database server has no connection left for this kiosk: all those it allows are in "
    "use (a program, or a login, holding them all?). Tell whoever looks after the database: "
    "pg_stat_activity shows who holds them, and ALTER ROLE ... CONNECTION LIMIT keeps each "
    "login to its share. Please try again in a moment."
)
# The server ended the kiosk's connection (57P01: an administrator's command, the server
# stopping, or any connection of the same login: pg_terminate_backend), or cancelled its
# statement (57014: the kiosk asks for no statement timeout, so someone asked for it:
# pg_cancel_backend, which any connection of the same login may; or a school's own
# statement_timeout in the URL). A login that did either to every kiosk in a loop had them
# all say "the database is unavailable", as if the server or the network were down.
PG_ENDED = {
    "57P01": (
        "the database server ended this kiosk's connection (the server stopping or "
        "restarting, or someone ending the kiosk's session with pg_terminate_backend). "
        "Please try again; if it keeps happening, tell whoever looks after the database."
    ),
    "57014": (
        "the database server cancelled what this kiosk asked of it (someone cancelling it "
        "with pg_cancel_backend, or a time limit set in KIOSK_DATABASE_URL or PGOPTIONS). "
        "Please try again; if it keeps happening, tell whoever looks after the database."
    ),
}
# How the server says so (psycopg gives no SQLSTATE for a refused connection): 53300's
# messages, as an English-speaking server words them.
_NO_CONNECTION_LEFT = (
    "too many clients already",
    "remaining connection slots are reserved",
    "too many connections for role",
    "too many connections for database",
)


def no_connection_left(exc: BaseException) -> bool:
    """Whether ``exc`` is the server refusing a connection because none is left (53300)."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) == "53300":
        return True
    said = str(orig)
    return any(words in said for words in _NO_CONNECTION_LEFT)


# The server refusing the kiosk's login itself (28P01, 28000): its password changed (any
# login may change its own, and the school's kiosks share one: ``ALTER ROLE CURRENT_USER
# PASSWORD``), the login removed or no longer allowed in. Every kiosk said "the database is
# unavailable. Please try again", for good. How an English-speaking server words them.
_LOGIN_REFUSED = (
    "password authentication failed",
    "no password supplied",
    "authentication failed for user",
    "is not permitted to log in",
    "pg_hba.conf rejects connection",
    "no pg_hba.conf entry",
)
_ROLE_MISSING = re.compile(r'role "[^"]*" does not exist')
PG_LOGIN_REFUSED = (
    "the database server refused this kiosk's login ({}): its password was changed (any "
    "login may change its own), or the login was removed or is no longer let in. Trying "
    "again will not help until that is put right: tell whoever looks after the database "
    "(the password in KIOSK_DATABASE_URL must be the login's, and ALTER ROLE ... PASSWORD "
    "sets it)."
)


def login_refused(exc: BaseException) -> str | None:
    """The server's words when it refused the kiosk's login (not the network, not a full
    server): what :data:`PG_LOGIN_REFUSED` names; None otherwise."""
    orig = getattr(exc, "orig", exc)
    said = str(orig)
    # (Only as the server refuses a connection, FATAL: a role dropped while a statement
    # names it is another matter.)
    if getattr(orig, "sqlstate", None) not in ("28P01", "28000") and not (
        "FATAL:" in said
        and (any(words in said for words in _LOGIN_REFUSED) or _ROLE_MISSING.search(said))
    ):
        return None
    fatal = said.rsplit("FATAL:", 1)[-1].strip().splitlines()
    return display_text(fatal[0] if fatal else said)[:200]


# A COMMIT whose answer was lost: how many times, how far apart, the register is asked
# whether the event was stored after all.
LOST_ANSWER_TRIES = 3
LOST_ANSWER_PAUSE_SECONDS = 0.5
FILE_REPLACED = (
    "Not recorded: the database file was replaced while the kiosk had it open (another file "
    "was put in its place). Try again (the kiosk now uses the file in its place), then tell "
    "the office: run `kiosk verify` with the latest anchor."
)
ON_A_SHARE = (
    "{done}: the register's SQLite file is on a network share ({share}), where SQLite "
    "cannot keep two machines from writing over each other's events. Tell the office: keep "
    "the file on this machine's own disk, or use PostgreSQL for several kiosks "
    "(docs/deploy.md)."
)
FILE_GONE = (
    "Not recorded: the database file has been removed while the kiosk had it open. Tell the "
    "office: the register must be put back (`kiosk restore` from the latest backup), then "
    "checked (`kiosk verify` with the latest anchor)."
)
MAY_HAVE_BEEN_RECORDED = (
    "Not confirmed: the database stopped answering as this was being saved, so the kiosk cannot "
    "tell whether it was stored. It may have been recorded: once the database is back, check "
    "(scan your badge) before you try again."
)
PG_LOCKED = (
    "another connection holds the register's write lock (a kiosk, or a database tool left open?)"
)

# The other connections holding the chain's advisory lock (a bigint key: its high and low
# halves, objsubid 1) or a lock on one of the register's tables that stops a kiosk writing
# (SHARE and stronger) or reading (ACCESS EXCLUSIVE), or left idle inside a transaction that
# wrote to one (an event inserted and not committed holds the next id); with ``any``, every
# lock on one of those tables (a change to a table waits for each: an upgrade); with what the
# server says of each.
_LOCK_HOLDERS = text(
    "SELECT DISTINCT l.pid, a.usename, a.application_name, host(a.client_addr), "
    "a.backend_start, a.state_change FROM pg_locks l "
    "JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.granted AND l.pid <> pg_backend_pid() AND l.database = "
    "(SELECT oid FROM pg_database WHERE datname = current_database()) AND ("
    "(l.locktype = 'advisory' AND l.classid = CAST(:hi AS oid) "
    "AND l.objid = CAST(:lo AS oid) AND l.objsubid = 1) "
    "OR (l.locktype = 'relation' AND (CAST(:any AS boolean) OR l.mode IN "
    "('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock') "
    "OR (l.mode = 'RowExclusiveLock' AND a.state LIKE 'idle in transaction%')) "
    "AND l.relation IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = "
    "CAST(current_schema() AS regnamespace) AND c.relkind IN ('r', 'p'))))"
    " ORDER BY l.pid LIMIT 4"
)
# Transactions prepared for two-phase commit in the register's database (the kiosk never
# prepares one): each outlives its session and holds its locks (the chain's, the next id)
# until it is committed or rolled back; no session can be ended to let it go.
_PREPARED = text(
    "SELECT gid, owner, prepared FROM pg_prepared_xacts WHERE database = current_database() "
    "ORDER BY prepared LIMIT 4"
)
# At most this many holders are named.
NAMED_HOLDERS = 3


def lock_holders(engine: Engine, exc: BaseException, *, any_lock: bool = False) -> str:
    """After a lock timeout on PostgreSQL (55P03): which other connections hold the
    register's write lock or a lock on its tables that stops a kiosk (``any_lock``: any
    lock on them, which a change to a table waits for), and which prepared transactions, in
    words ("" when none is found or the server cannot be asked). Any login may take the
    write lock at session level and leave its session idle, or prepare a transaction
    holding it: nothing ends either, and the kiosks said "try again in a moment" for days
    without naming it."""
    if getattr(getattr(exc, "orig", None), "sqlstate", None) != "55P03":
        return ""
    if engine.dialect.name != "postgresql":
        return ""
    try:
        with engine.connect() as conn:
            sessions = conn.execute(
                _LOCK_HOLDERS,
                {
                    "hi": CHAIN_LOCK_KEY >> 32,
                    "lo": CHAIN_LOCK_KEY & 0xFFFFFFFF,
                    "any": any_lock,
                },
            ).all()
            prepared = conn.execute(_PREPARED).all()
    except SQLAlchemyError as failed:
        log.warning("cannot tell who holds the register's lock: %s", failed)
        return ""
    return lock_holders_said(sessions, prepared)


def lock_holders_said(sessions: Sequence[Any], prepared: Sequence[Any] = ()) -> str:
    """The holders in ``sessions`` (as ``_LOCK_HOLDERS`` gives them) and ``prepared`` (as
    ``_PREPARED``) in words, to follow "another connection holds ...": each session's server
    process, login, program, address and since when, each prepared transaction's name, login
    and time, and how whoever looks after the database ends them. Every value a login chose
    (a program's name, a transaction's) is shown without controls."""
    named: list[str] = []
    ends: list[str] = []
    for pid, user, program, address, started, idle in sessions:
        parts = [f"login {display_text(user)}" if user else "another login"]
        if program:
            parts.append(f"program '{display_text(program)}'")
        if address:
            parts.append(f"from {display_text(address)}")
        elif isinstance(started, datetime):  # shown, so not hidden: a local socket's
            parts.append("on the server itself")
        if isinstance(started, datetime):
            parts.append(f"connected {started.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
        if isinstance(idle, datetime):
            parts.append(f"last active {idle.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
        named.append(f"server process {int(pid)} ({', '.join(parts)})")
        ends.append(f"SELECT pg_terminate_backend({int(pid)})")
    for gid, owner, at in prepared:
        name = display_text(gid).replace("'", "''")
        when = f", prepared {at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if at else ""
        named.append(
            f"prepared transaction '{name}' (login {display_text(owner)}{when}; it outlives "
            "its connection)"
        )
        ends.append(f"ROLLBACK PREPARED '{name}' (as that login, or a superuser)")
    if not named:
        return ""
    more = " and others" if len(named) > NAMED_HOLDERS else ""
    them = "it" if len(named) == 1 else "them"
    return (
        f": held by {'; '.join(named[:NAMED_HOLDERS])}{more}. If it stays, whoever looks "
        f"after the database can end {them}: {'; '.join(ends[:NAMED_HOLDERS])}"
    )


_events = cast(Table, Event.__table__)
# The newest event: its id and hash (the chain goes on from it).
_CHAIN_HEAD = select(_events.c.id, _events.c.hash).order_by(_events.c.id.desc()).limit(1)
# The same on PostgreSQL with the server's clock, for a kiosk that compares its own with it
# (one row, the head's columns NULL in an empty register): read in the statement that reads
# the head, not one more round trip while the write holds the chain's lock.
_CHAIN_HEAD_AND_CLOCK = text(
    "SELECT h.id, h.hash, pg_catalog.statement_timestamp() FROM (SELECT 1) AS one "
    "LEFT JOIN (SELECT id, hash FROM events ORDER BY id DESC LIMIT 1) AS h ON true"
)
# This kiosk's events dated after a given time, newest first, every column as stored (as
# verify reads them: details as its text; on PostgreSQL a time no driver can load as NULL,
# infinity, year 10000, BC, from before revision 0007, which would stop the write): a
# kiosk's clock is measured against the ones it recorded itself (hash and MAC hold).
_PG_TIME = (
    "CASE WHEN {c} > '1900-01-01 00:00:00+00' AND {c} < '9000-01-01 00:00:00+00' THEN {c} END "
    "AS {c}"
)
# In time order, newest first: the index on occurred_at finds the range and its order at
# once. In id order SQLite walked the whole table backwards to find none on a right clock.
_OWN_AFTER = (
    "SELECT {columns} FROM events WHERE kiosk = :kiosk AND occurred_at > :after{bound} "
    "ORDER BY occurred_at DESC, id DESC"
)
# On PostgreSQL the server's clock is a second one: an event dated long after it (the
# kiosk's own window, CLOCK_GONE_BACK) is from the future by the server's clock too, and
# measures no kiosk's clock. A login holding the school key records one under a kiosk's name
# (its clock set to 2031), chained and MACed; that kiosk (or the office's commands) was
# "long before the last event it recorded" and, events being append-only, refused every
# write until 2031. Verify names such an event (dated in the future). Unless the whole
# register is that far after the server's clock: then that clock went back too (a flat
# battery on each, one time server gone wrong), and is no measure (the register's past,
# append-only, is no login's to forge).
_BELOW_SERVER = (
    " AND (occurred_at <= pg_catalog.transaction_timestamp() + :skew"
    " OR (SELECT min(e.occurred_at) FROM events AS e)"
    " > pg_catalog.transaction_timestamp() + :gone_back)"
)
_AFTER = bindparam("after", type_=UTCDateTime())
_OWN_AFTER_SQLITE = text(
    _OWN_AFTER.format(
        columns=", ".join(
            "CAST(details AS TEXT) AS details" if c == "details" else c for c in EVENT_COLUMNS
        ),
        bound="",
    )
).bindparams(_AFTER)
_OWN_AFTER_PG = text(
    _OWN_AFTER.format(
        columns=", ".join(
            "CAST(details AS TEXT) AS details"
            if c == "details"
            else _PG_TIME.format(c=c)
            if c in ("occurred_at", "due_at")
            else c
            for c in EVENT_COLUMNS
        ),
        bound=_BELOW_SERVER,
    )
).bindparams(_AFTER)
_INSERT_EVENT = insert(_events)
# The event as stored, read back as `kiosk verify` reads it: a trigger that is not the
# kiosk's may have dropped it or changed it on the way in.
# ``details`` as its stored text (PostgreSQL's driver would parse it first), parsed once: a
# JSON string holding an object's text is not that object.
_STORED_EVENT = text(
    "SELECT "
    + ", ".join("CAST(details AS TEXT) AS details" if c == "details" else c for c in EVENT_COLUMNS)
    + " FROM events WHERE id = :id"
)
# An event that names an id not yet recorded (a correction voiding it) was written by hand:
# the kiosk never gives that id to a new event, which would be void from the start.
_NAMED_AHEAD = select(_events.c.id).where(_events.c.target_event_id == bindparam("id")).limit(1)
_STORED_HASH = text("SELECT hash FROM events WHERE id = :id")
_ANY_REFERENCE = select(_events.c.id).where(_events.c.kind == REFERENCE_KIND).limit(1)
# The same on SQLite, read from the table itself, not from an index: an index rebuilt without
# the register's list events (its CREATE text written back through ``writable_schema``)
# answered "none", and the kiosk took the lists, as edited in the file, in as a new baseline
# under its own key (tests/reliability/test_attacks_round15_rec.py).
_ANY_REFERENCE_SQLITE = text(
    "SELECT id FROM events NOT INDEXED WHERE kind = :kind ORDER BY id LIMIT 1"
).bindparams(kind=REFERENCE_KIND)
# The newest event's MAC: one there means the register has been written since revision 0005,
# whose first write recorded the baseline (or found the lists empty): never again.
_HEAD_MAC = select(_events.c.mac).order_by(_events.c.id.desc()).limit(1)
# Every list event's details as stored, in chain order (the lists as the register records
# them); on SQLite from the table itself (an index rebuilt without the newest of them would
# make an older row look current).
# Every column, details as stored (SQLite: text, or a BLOB read as verify reads it): each is
# checked as recorded by the kiosk (``recorded_by_kiosk``), one hash and one HMAC apiece.
_LIST_EVENTS = "SELECT {columns} FROM events{hint} WHERE kind = :kind ORDER BY id"
# A person's or a store's code and a device's tag as the lists hold them now (for an event
# about one the transaction did not find by its code: a colleague's phone moved, a device
# brought back).
_LABELS = text(
    "SELECT 'staff', id, code FROM staff WHERE id IN (:staff, :by) "
    "UNION ALL SELECT 'devices', id, tag FROM devices WHERE id = :device "
    "UNION ALL SELECT 'stores', id, code FROM stores WHERE id = :store"
)
# The details keys they are recorded under: (column of the event, list, details key).
LABEL_KEYS = (
    ("staff_id", "staff", "staff_code"),
    ("recorded_by_id", "staff", "recorded_by_code"),
    ("device_id", "devices", "device_tag"),
    ("store_id", "stores", "store_code"),
)
# How a list row is named to the office.
_ROW_LABEL = {"staff": "code", "devices": "tag", "stores": "code", "policies": "title"}
_ROW_WHAT = {"staff": "person", "devices": "device", "stores": "store", "policies": "policy"}


def iso(moment: datetime | None) -> str | None:
    return iso_utc(moment)


def server_clock_wrong(conn: Connection, now: datetime, zone: Any) -> str | None:
    """What a kiosk says when its clock (``now``) and the PostgreSQL server's differ by more
    than ``CLOCK_SKEW``; None when they agree (or on SQLite: one kiosk, nothing to compare
    with). Several kiosks share one register: one whose clock ran hours fast (set by hand, a
    time zone taken for UTC) dated its events hours ahead of the others', out of order and
    on another day's register, and nothing said so until verify."""
    if conn.dialect.name != "postgresql":
        return None
    server = conn.exec_driver_sql("SELECT pg_catalog.statement_timestamp()").scalar()
    return clocks_disagree(now, server, zone)


def clocks_disagree(now: datetime, server: object, zone: Any) -> str | None:
    """What a kiosk says when its clock (``now``) and the server's (``server``, as read)
    differ by more than ``CLOCK_SKEW``; None when they agree. Either may be the wrong one: a
    server's clock off by more than that stops every kiosk, so the message says both."""
    if not isinstance(server, datetime) or abs(now - server) <= CLOCK_SKEW:
        return None
    minutes = int(abs(now - server).total_seconds() // 60)
    apart = f"{minutes} minutes" if minutes < 120 else f"about {round(minutes / 60)} hours"
    if minutes >= 2 * 24 * 60:
        apart = f"about {round(minutes / 60 / 24)} days"
    mine, theirs = now.astimezone(zone), server.astimezone(zone)
    return (
        f"this kiosk's clock says {mine:%A} {mine.day} {mine:%B %Y %H:%M}, but the database "
        f"server's says {theirs:%A} {theirs.day} {theirs:%B %Y %H:%M} ({apart} apart): one of "
        "the two clocks is wrong, this kiosk's or the database server's, and what it recorded "
        "would be dated wrong, out of order with the other kiosks'. Nothing can be recorded "
        "here until the two clocks agree: tell the office."
    )


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
        self._key: bytes | None = None
        self.baseline_checked = False
        # The kiosk app's (Services.open(check_clock=True)): each write compares this
        # kiosk's clock with the PostgreSQL server's first.
        self.check_server_clock = False

    @property
    def key(self) -> bytes:
        """The school's key for the events' MACs (read once).

        A new school's first write creates it. A machine without the key on a register that
        already has MACs is another kiosk of the school: it must be given the school's key
        (`kiosk secret import`), not make its own, so it is refused in words
        (SchoolKeyError) and nothing is recorded."""
        if self._key is None:
            present = school_key_if_present(self.settings)
            if present is None and self._chain_has_macs():
                school_key(self.settings)  # raises SchoolKeyError: how to install the key
            self._key = present if present is not None else school_key(self.settings, create=True)
        return self._key

    def _chain_has_macs(self) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(text("SELECT 1 FROM events WHERE mac IS NOT NULL LIMIT 1")).first()
                is not None
            )

    @contextmanager
    def read(self, *, recording: bool = False) -> Iterator[Session]:
        """A read transaction. ``recording``: a read on the way to recording something (a
        check before the write): when the database fails it, it says "Not recorded", as the
        write would have."""
        try:
            with self._read() as session, session.begin():
                yield session
        except KioskError:
            raise
        except UNREADABLE_ERRORS as exc:
            head = "Not recorded" if recording else "This cannot be shown"
            if (said := _unreadable_value(exc, head)) is None:
                raise  # the kiosk's own bug
            raise DatabaseUnavailable(said) from exc
        except SQLAlchemyError as exc:
            log.warning("database read failed: %s", exc)
            said = _unavailable(
                exc,
                writing=recording,
                holders=lock_holders(self.engine, exc),
                path=sqlite_path(self.engine),
            )
            raise DatabaseUnavailable(said) from exc

    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        """A write transaction. Nothing is stored unless the block finishes without error.

        When the COMMIT itself fails (the link to PostgreSQL broke as it was sent), the server
        may have committed all the same: the register is asked, and an event that is there is
        confirmed (the block's result stands); one that cannot be looked up is "Not
        confirmed" (``OutcomeUnknown``), never "Not recorded", which invites a second scan
        (that would collect the phone just deposited)."""
        refuse_on_a_share(self.engine)
        uow: UnitOfWork | None = None
        committing = checking = lost_wal = False
        try:
            with self._write() as session, session.begin():
                _take_chain_lock(session)
                uow = UnitOfWork(session, self)
                checking = not self.baseline_checked
                if checking:
                    uow.ensure_baseline()
                yield uow
                opened = session.connection().info
                if file_replaced(self.engine, opened):
                    # Rolled back: committed, it would be in a file no one can open again.
                    gone = file_gone(self.engine)
                    log.error(
                        "the database file was %s during a write: not recorded",
                        "removed" if gone else "replaced",
                    )
                    raise DatabaseUnavailable(FILE_GONE if gone else FILE_REPLACED)
                committing = True
                lost_wal = wal_deleted(self.engine)  # (this transaction has it open)
            if lost_wal:  # committed into a deleted file: into the database file first
                rescue_deleted_wal(self.engine)
            if uow.recorded is not None and file_replaced(self.engine, opened):
                self._replaced_as_committed(*uow.recorded)
            if checking:  # committed
                self.baseline_checked = True
                # session.begin() committed here; only now is anything confirmed.
        except KioskError:
            raise
        except UNREADABLE_ERRORS as exc:
            if (said := _unreadable_value(exc, "Not recorded")) is None:
                raise  # the kiosk's own bug
            raise DatabaseUnavailable(said) from exc
        except SQLAlchemyError as exc:
            log.warning("database write failed: %s", exc)
            if (
                committing
                and uow is not None
                and uow.recorded is not None
                # Only an answer lost on the way back from a server can hide a commit: a
                # SQLite file's COMMIT that fails did not happen (its damaged-file or locked
                # words follow), nor did a PostgreSQL one refused while the link held.
                and self.engine.dialect.name == "postgresql"
                and getattr(exc, "connection_invalidated", False)
            ):
                stored = self._stored_after_all(*uow.recorded)
                if stored:  # the answer was lost, not the event: confirmed
                    log.warning("event %s was stored all the same: confirmed", uow.recorded[0])
                    self.baseline_checked = self.baseline_checked or checking
                    return
                if stored is None:
                    raise OutcomeUnknown(MAY_HAVE_BEEN_RECORDED) from exc
            refused = owner_only(exc)
            if refused is not None:
                raise RuleViolation(
                    f"Not recorded: on PostgreSQL {refused}. Run it with the owner's "
                    "KIOSK_DATABASE_URL (the kiosks' login may not)."
                ) from exc
            said = _unavailable(
                exc,
                writing=True,
                holders=lock_holders(self.engine, exc),
                path=sqlite_path(self.engine),
            )
            raise DatabaseUnavailable(said) from exc

    def _replaced_as_committed(self, event_id: int, digest: str) -> None:
        """SQLite: the file at the database's path was replaced (or removed) between the
        last look before the COMMIT and the COMMIT, which then went into the file now
        reachable by no one. The event is confirmed only when the file at the path holds it
        (a copy taken after the commit); otherwise it is not recorded, in words."""
        if not file_gone(self.engine) and self._stored_after_all(event_id, digest):
            log.warning(
                "event %s committed as the file was replaced: in the new file too", event_id
            )
            return
        gone = file_gone(self.engine)
        log.error(
            "the database file was %s as event %s was committed: not in the register",
            "removed" if gone else "replaced",
            event_id,
        )
        raise DatabaseUnavailable(FILE_GONE if gone else FILE_REPLACED)

    def _stored_after_all(self, event_id: int, digest: str) -> bool | None:
        """After a COMMIT that failed: is the event ``event_id`` stored, with ``digest``?
        None when the database cannot be asked (a few tries, a moment apart). On PostgreSQL
        the chain's lock is taken first, so a commit still under way on the server (its
        session holds the lock to the end) has finished, one way or the other."""
        for attempt in range(LOST_ANSWER_TRIES):
            if attempt:
                time.sleep(LOST_ANSWER_PAUSE_SECONDS)
            try:
                with self._read() as session, session.begin():
                    _take_chain_lock(session)
                    found = session.execute(_STORED_HASH, {"id": event_id}).scalar()
                return found == digest
            except SQLAlchemyError as exc:
                log.warning("cannot tell yet whether event %s was stored: %s", event_id, exc)
        return None


# What a value written around the kiosk raises when SQLAlchemy reads it back (a time 'x' or
# in the year 1 in SQLite, binary data where text belongs), in the middle of whatever use case
# read the row; listings mark the row (kiosk.services.common.read_rows), a use case says so
# (_unreadable_value). JSON that is not JSON is read as a marker by the engine
# (kiosk.db.engine.read_json) and needs nothing here.
UNREADABLE_ERRORS = (ValueError, TypeError, OverflowError, UnicodeDecodeError)
UNREADABLE_VALUE = (
    "a value stored in the database cannot be read (written by hand?). Run `kiosk verify` "
    "and tell the office."
)


# Where SQLAlchemy turns a fetched row's stored values into Python ones.
_ROW_PROCESSING = ("/engine/result.py", "/engine/cursor.py", "resultproxy", "processors")


def stored_value_unreadable(exc: BaseException) -> bool:
    """Whether ``exc`` came out of SQLAlchemy turning a fetched row's stored values into
    Python ones (its traceback passes through SQLAlchemy's row processing), not out of the
    kiosk's own code, nor the kiosk calling SQLAlchemy wrongly (a bug stays a bug)."""
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if "sqlalchemy" in name and any(part in name for part in _ROW_PROCESSING):
            return True
        tb = tb.tb_next
    return False


def _take_chain_lock(session: Session) -> None:
    """On PostgreSQL: the write settings (lock timeout, idle limit, durable commit) and the
    chain's advisory lock, held to the end of the transaction. Nothing on SQLite, whose
    writes begin IMMEDIATE (the file's own write lock)."""
    if session.get_bind().dialect.name == "postgresql":
        # First, before any snapshot: the head is read once the lock is held (a URL's
        # ``-c default_transaction_isolation=...`` is kept for reads, not for the chain).
        session.execute(_PG_READ_COMMITTED)
        session.execute(
            _PG_WRITE_SETTINGS, {"t": f"{int(PG_LOCK_TIMEOUT_MS)}ms", "idle": PG_WRITE_IDLE_LIMIT}
        )
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK_KEY})


def _unreadable_value(exc: BaseException, head: str) -> str | None:
    """What a read or a write says (after ``head``) when a stored value cannot be read back;
    None when ``exc`` is not that but a bug in the kiosk's own code."""
    if not stored_value_unreadable(exc):
        return None
    log.warning("a stored value cannot be read: %r", exc, exc_info=True)
    return f"{head}: {UNREADABLE_VALUE}"


def _unavailable(
    exc: SQLAlchemyError, *, writing: bool, holders: str = "", path: str | None = None
) -> str:
    """What a write ("Not recorded: ...") or a read ("This cannot be shown: ...") says when
    the database failed it: what is known (a locked file, a damaged one, a lock held on
    PostgreSQL), otherwise that the database is unavailable."""
    head = "Not recorded" if writing else "This cannot be shown"
    if is_locked(exc):
        return f"{head}: {LOCKED}. Please try again in a moment."
    if (why := damaged(exc)) is not None:
        return f"{head}: {DAMAGED.format(why)}."
    if disk_full(exc, path):
        return f"{head}: {DISK_FULL}."
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if sqlstate == "55P03":
        return (
            f"{head}: {PG_LOCKED if writing else PG_TABLE_LOCKED}{holders}. Please try again "
            "in a moment."
        )
    if no_connection_left(exc):
        return f"{head}: {PG_NO_CONNECTION_LEFT}"
    if (refused := login_refused(exc)) is not None:
        return f"{head}: {PG_LOGIN_REFUSED.format(refused)}"
    if sqlstate in PG_ENDED:
        return f"{head}: {PG_ENDED[sqlstate]}"
    if sqlstate == "25006":  # read_only_sql_transaction: trying again cannot help
        return f"{head}: {PG_READ_ONLY}"
    if sqlstate == "42P01":  # undefined_table: not where the login looks, or gone
        return f"{head}: {PG_NOT_ON_PATH}"
    if (refused := _id_refused(exc)) is not None:
        return (
            f"{head}: the database refused the event's id ({refused}). Trying again cannot "
            "help: run `kiosk verify` and tell the office."
        )
    if writing:
        return DatabaseUnavailable().message
    return "The database is unavailable, so this cannot be shown. Please try again."


# The words of revision 0010's trigger (events_guard_id) as it refuses an event's id.
_ID_REFUSED = "the kiosk never gives one"


def _id_refused(exc: SQLAlchemyError) -> str | None:
    """Revision 0010's refusal of an event's id (at or below the newest event's, or far
    past it), as its sentence; None for any other error. The kiosk gives the id after the
    newest: it meets this only after an event written by hand (it said "the database is
    unavailable. Please try again", which cannot help)."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) != "23514":
        return None
    said = getattr(getattr(orig, "diag", None), "message_primary", None)
    if not isinstance(said, str) or _ID_REFUSED not in said:
        return None
    return display_text(said)[:200]


def owner_only(exc: BaseException) -> str | None:
    """PostgreSQL's refusal of a change only the database owner may record (revision 0006:
    granting or removing admin, an admin's code, a setting such as the PIN, a published
    policy), as its sentence; None for any other error."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) != "42501":
        return None
    message = str(getattr(getattr(orig, "diag", None), "message_primary", None) or "")
    return message if message.startswith("only the database owner may") else None


# What a locked SQLite file is called wherever the kiosk says it (reads, writes, opening the
# database: ``kiosk.services.app`` uses this one too): one sentence, written once.
LOCKED = (
    "the database file is locked by another program (a backup or restore running, or the "
    "file open in a database tool?)"
)


# A damaged SQLite file (pages of garbage: a disk going bad, a copy taken half-way): trying
# again cannot help, and the office has to know.
DAMAGED = (
    "the database is unavailable because its file is damaged (SQLite: {}). Tell the office: "
    "the latest backup has to be restored (`kiosk restore`)"
)


def damaged(exc: BaseException) -> str | None:
    """SQLite's own words when ``exc`` says the file is damaged or not a database; else None."""
    orig = getattr(exc, "orig", exc)
    name = getattr(orig, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return str(orig)
    return None


# The disk holding the register is full (SQLite: "database or disk is full", or its shared
# memory file that cannot grow as the file is opened; PostgreSQL: 53100). Every write, at
# every kiosk, said "the database is unavailable. Please try again" (at start: "cannot be
# opened ... Check KIOSK_DATABASE_URL"), which no retry and no setting put right.
DISK_FULL = (
    "the disk that holds the register is full, so nothing more can be written to it. Tell "
    "the office: space has to be freed on it (old backups, logs, other files); trying again "
    "will not help until then"
)
# Free space below which an SQLite I/O error is taken for a full disk.
_FULL_BELOW_BYTES = 256 * 1024


def disk_full(exc: BaseException, path: str | None = None) -> bool:
    """Whether ``exc`` is the database failing because its disk is full: SQLite's
    SQLITE_FULL, PostgreSQL's 53100, or an SQLite I/O error while the file system of the
    database file at ``path`` has (almost) no space left."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) == "53100":
        return True
    name = getattr(orig, "sqlite_errorname", "") or ""
    if name == "SQLITE_FULL" or "database or disk is full" in str(orig):
        return True
    if name.startswith("SQLITE_IOERR") and path:
        try:
            room = os.statvfs(os.path.dirname(os.path.abspath(path)) or ".")
        except (OSError, AttributeError):  # (no statvfs on Windows)
            return False
        return room.f_bavail * room.f_frsize < _FULL_BELOW_BYTES
    return False


def sqlite_path(engine: Engine) -> str | None:
    """The database file's path on SQLite (None on PostgreSQL)."""
    return engine.url.database if engine.dialect.name == "sqlite" else None


def is_locked(exc: BaseException) -> bool:
    """SQLite's "database is locked" (another program holds the file past the busy timeout)."""
    return "database is locked" in str(getattr(exc, "orig", exc)).lower()


# The largest id both engines hold (SQLite's INTEGER, PostgreSQL's bigint).
MAX_EVENT_ID = 2**63 - 1
# The largest id of a list (staff, stores, devices, policies) on PostgreSQL: an ``integer``.
MAX_LIST_ID_PG = 2**31 - 1


def _next_id(after: int, table: str = "events") -> int:
    """The id after ``after``; none after the largest id (a row written by hand with it:
    PostgreSQL says "bigint out of range", and Python's sqlite3 raised OverflowError, a
    traceback, before SQLite saw the statement)."""
    if after >= MAX_EVENT_ID:
        where = "the register" if table == "events" else f"the {table} list"
        raise DatabaseUnavailable(
            f"Not recorded: {where} has no id left after {after} (written by hand?). Run "
            "`kiosk verify` and tell the office."
        )
    return after + 1


def first_mac_id(session: Session) -> int | None:
    """The id of the register's first event with a MAC (None: none), as the walk finds it:
    kept in the session's ``info`` once found (it never changes after that)."""
    found = session.info.get(_FIRST_MAC)
    if found is None:
        found = session.connection().scalar(
            text("SELECT id FROM events WHERE mac IS NOT NULL ORDER BY id LIMIT 1")
        )
        if found is not None:
            session.info[_FIRST_MAC] = found = int(found)
    return found


_FIRST_MAC = "kiosk.first_mac_id"


def old_events(session: Session) -> frozenset[int]:
    """The ids of the events without a MAC the kiosk wrote (before revision 0005): those the
    chain links, each one's hash the next one's ``prev_hash``, into the first event with a
    MAC (none yet: into the newest event), as verify's walk follows the links. One without
    a MAC slipped in anywhere else (below the first event, id 0, by a shell on the SQLite
    file) is not among them: ``recorded_by_kiosk`` took every event before the first with a
    MAC as the kiosk's. Kept in the session's ``info`` (none is ever added after)."""
    found = session.info.get(_OLD_EVENTS)
    if found is None:
        conn = session.connection()
        first = first_mac_id(session)
        want: Any = None  # None: the newest event without a MAC starts the links
        query = "SELECT id, hash, prev_hash FROM events WHERE mac IS NULL"
        if first is not None:
            want = conn.scalar(text("SELECT prev_hash FROM events WHERE id = :id"), {"id": first})
            query += " AND id < :first"
        ids: set[int] = set()
        for event_id, digest, prev in conn.execute(
            text(query + " ORDER BY id DESC"), {"first": first}
        ):
            if (want is None and not ids and first is None) or (
                isinstance(digest, str) and digest == want
            ):
                ids.add(int(event_id))
                want = prev
        session.info[_OLD_EVENTS] = found = frozenset(ids)
    return found


_OLD_EVENTS = "kiosk.old_events"


def refuse_on_a_share(engine: Engine, done: str = "Not recorded") -> None:
    """DatabaseUnavailable, in words (``done``: what did not happen), when the register's
    SQLite file is on a network share (``on_network_share``): every write to it is refused,
    the kiosk's own and a restore's."""
    if (share := on_network_share(engine)) is not None:
        log.error("the register's SQLite file is on a network share (%s): not written", share)
        raise DatabaseUnavailable(ON_A_SHARE.format(done=done, share=share))


class UnitOfWork:
    def __init__(self, session: Session, ctx: ServiceContext) -> None:
        self.session = session
        self.ctx = ctx
        self.now = ctx.clock()
        self._last_hash: str | None = None
        self._last_id = 0
        self.recorded: tuple[int, str] | None = None  # the last event recorded: id, hash
        # The lists as the register records them (read at the first list change).
        self._lists: dict[str, dict[Any, dict[str, Any] | None]] | None = None

    def _chain_head(self) -> str:
        if self._last_hash is None:
            conn = self.session.connection()
            server: object = None
            if self.ctx.check_server_clock and conn.dialect.name == "postgresql":
                head = conn.execute(_CHAIN_HEAD_AND_CLOCK).one()
                last = None if head[0] is None else head
                server = head[2]
            else:
                last = conn.execute(_CHAIN_HEAD).first()
            self._last_id, self._last_hash = (last[0], last[1]) if last else (0, GENESIS_HASH)
            if last is not None:
                self._check_clock()
            if server is not None:
                said = clocks_disagree(self.now, server, self.ctx.settings.zone)
                if said is not None:
                    log.error("the kiosk's clock and the database server's disagree: %s", said)
                    raise ClockWrong(said)
        if not isinstance(self._last_hash, str):  # written by hand: binary data, a number
            raise DatabaseUnavailable(
                "Not recorded: the newest event in the register cannot be read. Run `kiosk "
                "verify` and tell the office."
            )
        return self._last_hash

    def _check_clock(self) -> None:
        """ClockWrong when this kiosk's clock reads more than ``CLOCK_GONE_BACK`` (30 days)
        before an event this kiosk recorded (a flat clock battery: the machine
        started in 2000 and has not found the time). What it recorded would carry that time:
        a phone collected years before it was deposited, today's register without it. A
        smaller difference is recorded, and verify names it (a clock that ran ahead and was
        put right must not stop an honest kiosk). Another kiosk's event is no measure (its
        clock may be the wrong one); nor is a time nobody can read (verify names it), nor an
        event the kiosk could not have written (its hash or MAC does not hold: the kiosk's
        database login, without the key, can insert one dated 2030 under this kiosk's
        name); nor, on PostgreSQL, one dated long after the server's clock too (a login with
        the key can write that one: it would stop this kiosk for years), unless the whole
        register is (both clocks went back)."""
        conn = self.session.connection()
        query = _OWN_AFTER_PG if conn.dialect.name == "postgresql" else _OWN_AFTER_SQLITE
        kiosk = self.ctx.settings.kiosk_name[:64]
        # Only this kiosk's own events dated long after its clock (none, on a right clock:
        # the index on occurred_at finds none at once). Each is measured only if the kiosk
        # recorded it: one inserted by hand (without the key, or with a made-up hash) is
        # passed over, whether dated ahead or on top of the kiosk's events dated as its
        # clock now reads (which made the kiosk take it for its last event, and record).
        at_index = EVENT_COLUMNS.index("occurred_at")
        # Every one is looked at, however many: a bound let that many forged rows fill it and
        # switch the check off. Those that are not the kiosk's are named once, by count.
        binds: dict[str, Any] = {"kiosk": kiosk, "after": self.now + CLOCK_GONE_BACK}
        if conn.dialect.name == "postgresql":
            binds["gone_back"], binds["skew"] = CLOCK_GONE_BACK, CLOCK_SKEW
        rows = conn.execute(query, binds)
        forged: list[Any] = []
        try:
            for row in rows:
                try:
                    at = datetime.fromisoformat(iso_utc(row[at_index]) or "")
                except (UnreadableEvent, ValueError):
                    continue
                if self.now >= at - CLOCK_GONE_BACK:
                    continue  # stored in another form that sorts after it: not ahead
                if self._sealed(row):
                    break
                forged.append(row[0])
            else:
                return
        finally:
            rows.close()
            if forged:
                log.warning(
                    "%d event(s) under this kiosk's name, dated after its clock, are not the "
                    "kiosk's (newest: %s): kiosk verify names them",
                    len(forged),
                    forged[0],
                )
        zone = self.ctx.settings.zone
        now, last = self.now.astimezone(zone), at.astimezone(zone)
        log.error("the kiosk's clock reads %s, before its last event at %s", self.now, at)
        raise ClockWrong(
            f"this kiosk's clock says {now:%A} {now.day} {now:%B %Y %H:%M}, long before the "
            f"last event it recorded ({last:%A} {last.day} {last:%B %Y %H:%M}). Nothing can be "
            "recorded here until its clock is set right: tell the office."
        )

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
        """Append one event to the chain (flushed, so it has its id). Its details carry the
        code of the person (and of whoever recorded it for them), the tag of the device and
        the code of the phone store as the kiosk read them from the lists: a code swapped in
        the table for a while recorded one person as another, and verify had nothing to
        compare."""
        at = (occurred_at or self.now).astimezone(UTC)
        details = dict(details or {})
        kiosk = self.ctx.settings.kiosk_name[:64]
        by = recorded_by_id if recorded_by_id is not None else staff_id
        self.session.flush()  # (what the session holds unflushed goes first, as it would have)
        labels = self._labels_read(staff_id, by if by != staff_id else None, device_id, store_id)
        details.update({name: label for name, label in labels.items() if name not in details})
        prev = self._chain_head()
        event_id = _next_id(self._last_id)  # under the write lock: the chain is linear
        conn = self.session.connection()
        while (ahead := conn.execute(_NAMED_AHEAD, {"id": event_id}).first()) is not None:
            log.error("event %s names id %s before it exists: skipped", ahead[0], event_id)
            event_id = _next_id(event_id)
        values = sealed_event(
            event_id,
            at,
            kind,
            kiosk=kiosk,
            details=details,
            prev_hash=prev,
            key=self.ctx.key,
            staff_id=staff_id,
            recorded_by_id=by,
            store_id=store_id,
            device_id=device_id,
            policy_id=policy_id,
            target_event_id=target_event_id,
            batch=batch,
            due_at=due_at,
        )
        digest = values["hash"]
        # One prepared INSERT (no ORM flush for it: every event goes through here).
        conn.execute(_INSERT_EVENT, values)
        # Never confirm an event that was not stored as meant: a trigger that is not the
        # kiosk's can drop it (RAISE(IGNORE), a BEFORE trigger returning NULL; psycopg gives
        # no rowcount to tell) or change it (another person, another kind) on the way in.
        stored = conn.execute(_STORED_EVENT, {"id": values["id"]}).first()
        if stored is None or self._stored_hash(stored) != digest:
            what = "dropped" if stored is None else "changed"
            log.error("event %s (%s) was not stored: the database %s it", values["id"], kind, what)
            raise DatabaseUnavailable(
                "Not recorded: the database did not store it (a trigger that is not the "
                "kiosk's?). Run `kiosk verify` and tell the office."
            )
        self._last_hash, self._last_id = digest, values["id"]
        self.recorded = (values["id"], digest)
        return Event(**values)  # what was stored (not tracked by the session)

    def _labels_read(
        self, staff_id: int | None, by: int | None, device_id: int | None, store_id: int | None
    ) -> dict[str, str]:
        """The code / tag of each list row the event names, as this transaction read it to
        find it (nothing read again on a scan's path); read now for one it did not find by
        its code (one small statement)."""
        columns = {
            "staff_id": staff_id,
            "recorded_by_id": by,
            "device_id": device_id,
            "store_id": store_id,
        }
        wanted = {
            name: (table, columns[column])
            for column, table, name in LABEL_KEYS
            if columns[column] is not None
        }
        read: dict[tuple[str, Any], Any] = self.session.info.setdefault(LABELS_READ, {})
        if any(where not in read for where in wanted.values()):
            params = {"staff": staff_id, "by": by, "device": device_id, "store": store_id}
            for where in wanted.values():
                read.setdefault(where, None)  # not on the list: nothing to record
            for table, row_id, label in self.session.connection().execute(_LABELS, params):
                read[(table, row_id)] = label
        return {
            name: label[:LABEL_MAX]
            for name, where in wanted.items()
            if isinstance(label := read.get(where), str)
        }

    def _sealed(self, row: Any) -> bool:
        """Whether a stored event (every column, as ``_STORED_EVENT`` reads it) is one the
        kiosk recorded: its hash recomputes and its MAC is the school key's."""
        digest, mac = row[EVENT_COLUMNS.index("hash")], row[EVENT_COLUMNS.index("mac")]
        return (
            isinstance(digest, str)
            and self._stored_hash(row) == digest
            and isinstance(mac, str)
            and hmac.compare_digest(mac, event_mac(self.ctx.key, digest))
        )

    @staticmethod
    def _quiet_hash(row: Any) -> str:
        """A stored event's hash recomputed ("": it cannot be, which verify names)."""
        try:
            return stored_hash(tuple(row))
        except (UnreadableEvent, TypeError, ValueError, AttributeError, OverflowError):
            return ""

    @staticmethod
    def _stored_hash(row: Any) -> str:
        try:
            return stored_hash(tuple(row))
        except (UnreadableEvent, TypeError, ValueError, AttributeError):
            # Stored in a form that is not the kiosk's: not what was meant. Logged whole: if
            # it is ever the driver's doing rather than a trigger's, the cause is in the log.
            log.exception("event %s read back in a form the kiosk cannot hash", row[0])
            return ""

    # --- reference data: people, roles, stores, devices, policies, settings ------------------

    def next_id(self, table: str, *, title: str | None = None) -> int:
        """The id a new row of ``table`` gets (under the write lock); for a policy version,
        ``title`` is the policy's."""
        if table not in ID_KEYED:
            raise ValueError(f"{table} is not keyed by an id")
        conn = self.session.connection()
        top = MAX_LIST_ID_PG if conn.dialect.name == "postgresql" else MAX_EVENT_ID
        found = int(conn.exec_driver_sql(f"SELECT max(id) FROM {table}").scalar() or 0)
        if found < top:
            return _next_id(found, table)
        # A row holds the largest id the column allows (recorded by hand, or by a login with
        # the school key: PostgreSQL's ``integer`` stops at 2147483647, and each new row said
        # "the database is unavailable" for good). The next id after the largest below it
        # that no row has and the register never recorded (the highest free one): ids are
        # still never used twice.
        taken = {int(i) for (i,) in conn.exec_driver_sql(f"SELECT id FROM {table}")}
        taken |= {k for k in self.recorded_lists()[table] if isinstance(k, int)}
        free = [i + 1 for i in taken | {0} if i < top and i + 1 not in taken]
        candidate = max(free, default=top + 1)
        if candidate > top:
            raise DatabaseUnavailable(
                f"Not recorded: the {table} list has no id left below {top} (rows written at "
                "the largest ids by hand?). Run `kiosk verify` and tell the office."
            )
        if table == "policies" and title is not None:
            self._refuse_a_hidden_version(title, candidate, top)
        log.warning(
            "the %s list's largest id %d is taken: the new row gets %d", table, found, candidate
        )
        return candidate

    def _refuse_a_hidden_version(self, title: str, candidate: int, top: int) -> None:
        """A policy's newest version is the one with the largest id: a version of ``title``
        given ``candidate`` would never be shown if one of the same title holds an id above
        it. Said, not recorded; another title is published as ever (refusing every title
        made one row at the largest id stop the school publishing any policy for good)."""
        row = (
            self.session.connection()
            .execute(
                text(
                    "SELECT id, version FROM policies WHERE title = :t AND id > :c "
                    "ORDER BY id DESC LIMIT 1"
                ),
                {"t": title, "c": candidate},
            )
            .first()
        )
        if row is None:
            return
        held, version = int(row[0]), display_text(row[1])
        where = (
            f"the largest id this database allows ({held})"
            if held >= top
            else f"id {held}, above every id free for a new version"
        )
        raise DatabaseUnavailable(
            f'Not published: the policy "{display_text(title)}" version "{version}" holds '
            f"{where}, and the newest version of a policy is the one with the largest id, so "
            "no version of it published now would be shown. Publish this one under another "
            "title (other titles are not affected), and tell whoever looks after the "
            f'database: version "{version}" was given that id by hand, or by a database '
            "login holding the school key."
        )

    def change_reference(
        self,
        table: str,
        key: Any,
        row: dict[str, Any] | None,
        *,
        by: int | None = None,
        reason: str | None = None,
    ) -> Event:
        """THE way to change reference data: record the full new row (None: remove it, for
        settings) as a ``reference_changed`` event; the database applies it to the table.
        ``by`` is the admin (staff id) making the change, when one is named."""
        if table not in REFERENCE_FIELDS:
            raise ValueError(f"{table} is not reference data")
        if row is None and table != "kiosk_settings":
            raise ValueError("only settings are removed; people and things are retired")
        details: dict[str, Any] = {
            "table": table,
            "key": normalise_key(table, key),
            "row": normalise_row(table, row),
        }
        if reason:
            details["reason"] = reason
        if table in ID_KEYED:
            # The services build the new row from the table's: a row changed there directly
            # would go into the register as this change's.
            self.refuse_changed_directly(table, details["key"])
        event = self.record(EventKind.REFERENCE_CHANGED, staff_id=by, details=details)
        if self._lists is not None:
            self._lists[table][details["key"]] = details["row"]
        self.session.expire_all()  # the table changed under the session's objects
        self.session.info.pop(LABELS_READ, None)  # (a code or tag may have changed)
        return event

    def recorded_lists(self) -> dict[str, dict[Any, dict[str, Any] | None]]:
        """Each list row as the newest event for it the kiosk recorded records it (as verify
        replays them: an event it cannot read is left out here and named there). One
        appended without the school key (on PostgreSQL the database applies it to the table)
        is not built on: the office's next change of that row is refused as a row changed in
        the database, where it was carried into the change, under the key, as the admin's.
        Read once per unit of work (one hash and one HMAC per list event)."""
        if self._lists is None:
            lists: dict[str, dict[Any, dict[str, Any] | None]] = {t: {} for t in REFERENCE_FIELDS}
            conn = self.session.connection()
            sqlite = conn.dialect.name == "sqlite"
            columns = ", ".join(
                "CAST(details AS TEXT) AS details" if c == "details" and not sqlite else c
                for c in EVENT_COLUMNS
            )
            query = text(
                _LIST_EVENTS.format(columns=columns, hint=" NOT INDEXED" if sqlite else "")
            ).bindparams(kind=REFERENCE_KIND)
            first = first_mac_id(self.session)
            old = old_events(self.session)
            at = {c: EVENT_COLUMNS.index(c) for c in ("id", "hash", "mac", "details")}
            for row in conn.execute(query):
                digest, mac = row[at["hash"]], row[at["mac"]]
                if not recorded_by_kiosk(
                    row[at["id"]],
                    has_mac=mac is not None,
                    hash_ok=isinstance(digest, str) and self._quiet_hash(row) == digest,
                    mac_ok=isinstance(mac, str)
                    and isinstance(digest, str)
                    and hmac.compare_digest(mac, event_mac(self.ctx.key, digest)),
                    first_mac_id=first,
                    old=old,
                ):
                    continue  # not the kiosk's: verify names it
                stored = row[at["details"]]
                try:
                    details = parse_details(stored) if stored is not None else None
                    if not isinstance(details, dict):
                        continue
                    table = str(details["table"])
                    value = details.get("row")
                    lists[table][normalise_key(table, details["key"])] = (
                        dict(value) if isinstance(value, dict) else None
                    )
                except (UnreadableEvent, KeyError, TypeError, ValueError, OverflowError):
                    continue
            self._lists = lists
        return self._lists

    def refuse_changed_directly(self, table: str, key: Any) -> None:
        """RuleViolation when the table's row ``key`` is not the register's newest record of
        it (changed, added or deleted in the database itself): nothing is recorded."""
        recorded = self.recorded_lists()[table].get(key)
        stored = table_rows(self.session.connection(), table, key=key).get(key)
        if recorded is None and stored is None:
            return  # a new row
        if recorded is None:
            how = "is on the list but was never recorded in the register"
        elif stored is None:
            how = "is recorded in the register but missing from the list"
        else:
            fields = differing_fields(table, recorded, stored)
            if not fields:
                return
            how = f"differs from what the register recorded ({', '.join(fields)})"
        if table in _ROW_LABEL:
            shown = (recorded or stored or {}).get(_ROW_LABEL[table])
            label = f" {str(shown)[:40]}" if isinstance(shown, str) else f" number {key}"
        else:  # a setting, by its key
            label = f" {str(key)[:40]}"
        raise RuleViolation(
            f"Nothing was changed: the {_ROW_WHAT.get(table, 'setting')}{label} {how}: it was "
            "changed directly in the database, not through the kiosk. Run `kiosk verify` (it names "
            "the change) and tell whoever looks after the kiosk; `kiosk lists put-back` puts "
            "the lists back as the register recorded them."
        )

    def set_setting(self, key: str, value: str | None, *, by: int | None = None) -> Event:
        """Set (or remove, with None) one kiosk setting, under the chain."""
        row = None if value is None else {"value": value, "updated_at": self.now}
        return self.change_reference("kiosk_settings", key, row, by=by)

    def ensure_baseline(self) -> int:
        """Record one ``reference_changed`` event per reference row when the chain has none
        yet (a database from before revision 0005, or a new one with its seeded stores and
        policy). Returns how many were recorded."""
        conn = self.session.connection()
        if conn.execute(_HEAD_MAC).scalar() is not None:
            return 0
        sqlite = conn.dialect.name == "sqlite"
        if conn.execute(_ANY_REFERENCE_SQLITE if sqlite else _ANY_REFERENCE).first() is not None:
            return 0
        count = 0
        for table, rows in all_table_rows(conn).items():
            for key in sorted(rows):
                if set(rows[key]) != set(REFERENCE_FIELDS[table]):
                    continue  # roles of no one on the list: verify names them
                details = {"table": table, "key": key, "row": rows[key], "reason": "baseline"}
                self.record(EventKind.REFERENCE_CHANGED, staff_id=None, details=details)
                count += 1
        return count

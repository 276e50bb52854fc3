"""Tamper evidence: walk the hash chain, replay the reference data, check anchors.

Each event stores ``prev_hash`` (the hash of the event before it), ``hash`` (SHA-256 of
``prev_hash`` and its content, :func:`kiosk.domain.chain.content_of`: every column) and,
since revision 0005, ``mac`` (HMAC of the hash with the school's key). Walking the table in
id order, verify names:

* an event whose recomputed hash differs from its stored ``hash`` (**edited**), or whose
  columns cannot be read at all (**unreadable**: bad JSON, a time that is not a time);
* a **broken link** (``prev_hash`` is not the stored hash of the event before it);
* a ``category`` that is not its kind's (old events did not hash it);
* an event without a MAC after events with one (a downgrade), or with a wrong MAC (when the
  school's key is on this machine; without it verify says MACs were not checked);
* the first event not following the start of the register or a valid purge checkpoint; a
  checkpoint not recorded by an admin or removing less than a year;
* every reference row (people and roles, stores, devices, policies, settings) that differs
  from what the ``reference_changed`` events recorded: table, key, column, stored, recorded;
* a list change that grants or removes admin (retiring an admin), changes an admin's code, a
  setting (the PIN) or whether a policy is required, not recorded by an admin; a published
  policy rewritten by anyone; an acknowledgement of a text that is not its policy's;
* a correction recorded by neither an admin nor whoever recorded the event it voids (the
  kiosk allows only those), or voiding a correction, an event not in the register or an id
  after its own (the kiosk would have confirmed an event void from the start); any event
  naming an event recorded after it, or one a purge removed (the kiosk's purge keeps what a
  kept event refers to);
* an event dated more than ``CLOCK_SKEW`` before an event ahead of it in the chain
  (backdated), or after this machine's clock;
* a missing or changed append-only trigger, any trigger that is not the kiosk's, and on
  PostgreSQL a rule or row-level security on the register's tables, a function of the
  register whose body is not the kiosk's or whose search_path does not end with
  ``pg_temp``, and a kiosk role with too
  much: the group role ``kiosk_app`` or any login in it that may change a table (itself or
  after ``SET ROLE`` to a role it is a member of), is a
  superuser, may create roles, is a member of a role that uses the server's files or programs
  (pg_execute_server_program, pg_write_server_files, pg_read_server_files), may grant its
  rights on a table to other roles (WITH GRANT OPTION), may create objects in a schema or
  schemas in the database,
  or can act as the owner, or owns a table or function of the register;
* on SQLite, an index that does not hold what its table holds (``PRAGMA integrity_check``:
  the register reads through indexes, the walk does not);
* the newest event seen by the previous check (the **witness**, kept in a local file on this
  machine and in the chain as a ``register_verified`` event) gone or changed: both are
  checked, so a forged check in the chain naming a newer head does not hide the file's;
* for each **anchor** given (``kiosk anchor`` writes one): its event gone, at another
  position, or with another hash; anything before it changed shows as one of the above.

The walk streams the rows (``yield_per``: a server-side cursor on PostgreSQL).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import stat
import time
from collections import ChainMap
from collections.abc import (
    Callable,
    Collection,
    Container,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
)
from contextlib import suppress
from dataclasses import MISSING, asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, cast

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, TextClause

from kiosk.config import ConfigError, data_dir, load_settings, url_without_secrets
from kiosk.db.engine import PG_NEWER_SETTINGS, PG_SESSION_SETTINGS, on_network_share, setting_key
from kiosk.db.guards import kiosk_role_settings, missing_guards
from kiosk.db.models import Event
from kiosk.db.types import UTCDateTime
from kiosk.domain import state as domain_state
from kiosk.domain.chain import (
    EVENT_COLUMNS,
    GENESIS_HASH,
    UnreadableEvent,
    details_of,
    event_mac,
    hash_of,
    iso_utc,
    parse_details,
    recorded_by_kiosk,
    stored_form_ok,
)
from kiosk.domain.chain import (
    stored_hash as hash_as_stored,
)
from kiosk.domain.errors import DatabaseUnavailable, InvalidInput, KioskError
from kiosk.domain.events import EventKind
from kiosk.domain.reference import REFERENCE_FIELDS, REFERENCE_KIND, normalise_key
from kiosk.domain.rules import REGULAR_USE_WINDOW
from kiosk.domain.text import display_text
from kiosk.domain.timeutil import CLOCK_SKEW
from kiosk.services.common import UseCases
from kiosk.services.reference import all_table_rows, differing_fields
from kiosk.services.secret import (
    FileRefused,
    SchoolKeyError,
    read_small_file,
    school_key_if_present,
)
from kiosk.services.uow import LABEL_KEYS, MAX_EVENT_ID, UnitOfWork, first_mac_id, iso
from kiosk.services.wholefile import written_whole

PURGE_ACTION = "events_purged"
MIN_RETENTION_DAYS = 365
# How far ahead of this machine's clock an event or checkpoint may be (clocks differ a
# little): kiosk.domain.timeutil.CLOCK_SKEW, the kiosk's write uses it too.
# What a purge checkpoint must say (kiosk.services.backup.purge writes all of them).
CHECKPOINT_FIELDS = (
    "before",
    "last_removed_id",
    "last_removed_hash",
    "last_removed_at",
    "last_removed_position",
)
# How many problem ids are kept in the stored last result (the full lists are in the report).
STORED_IDS = 200
STORED_PROBLEMS = 50
STREAM_BATCH = 5000
# Rows fetched at a time when reading one kind's events (notices, anchors).
STORED_BATCH = 500
WITNESS_FILE = "verify-witness.json"
# This machine's witness file holds one result a database (each well under 1 MB): read no more.
WITNESS_LIMIT = 16 * 2**20
ANCHOR_TITLE = "Staff Room Kiosk register anchor"
# The settings the kiosk asks for itself when it connects (kiosk.db.engine): a kiosk role's
# own value of one of them changes nothing, and is not named.
KIOSK_ASKS = {
    setting_key(name)
    for name in (
        "lock_timeout",
        "DateStyle",
        "client_encoding",
        *PG_SESSION_SETTINGS,
        *PG_NEWER_SETTINGS,
    )
}

# PostgreSQL's timestamptz holds infinity, years after 9999 and BC dates, which psycopg
# cannot load: one such row stopped the whole walk ("The database is unavailable"). Such a
# time is read as NULL, so the event is named as unreadable (revision 0007 refuses new ones).
_READABLE_TIME = (
    "CASE WHEN {c} > '1900-01-01 00:00:00+00' AND {c} < '9000-01-01 00:00:00+00' THEN {c} END "
    "AS {c}"
)
# ``details`` as its stored text, parsed once by the walk (psycopg would parse it first, and
# a JSON string holding an object's text was then parsed again, as that object: same hash).
_PG_COLUMN = {c: _READABLE_TIME.format(c=c) for c in ("occurred_at", "due_at")} | {
    "details": "details::text AS details"
}


def select_events(postgresql: bool, where: str = "") -> TextClause:
    """Every column of the events verify walks, as it reads them (on PostgreSQL details as
    its text, a time no driver can load as NULL), in id order; ``where``: a condition (SQL,
    with its binds) on which of them. On SQLite read from the table itself, never through
    an index (one rebuilt without a row, its CREATE text written back, hid that row)."""
    columns = ", ".join(_PG_COLUMN.get(c, c) if postgresql else c for c in EVENT_COLUMNS)
    hint = "" if postgresql else " NOT INDEXED"
    condition = f" WHERE {where}" if where else ""
    return text(f"SELECT {columns} FROM events{hint}{condition} ORDER BY id")


# How far past the event before it an event's id may be before verify names it. The kiosk
# gives each event the id after the newest (a few more past corrections naming ids ahead, a
# restore past the ids it dropped); a database sequence's gaps are small. An event written at
# 9223372036854775807 (the largest id either engine holds) by a login with the school key,
# chained and MACed as the kiosk would, left every kiosk saying "no id left" for good, and
# verify said "Register intact".
ID_LEAP = 2**32

# What has become of the copy a recorded restore kept beside the register: (its name, the
# first and last id it dropped, how many it says, the hash of the restored register's newest
# event) -> None when the copy holds them, else why not, in words.
RestoreCopyCheck = Callable[[str, int, int, "int | None", Any], "str | None"]
# How long one look at such a copy may take (a copy is any file a shell put there: a view
# named events that never ends must not stop verify).
RESTORE_COPY_SECONDS = 10.0


def restore_copy_check(database: str | None, key: bytes | None = None) -> RestoreCopyCheck | None:
    """A look at the copies recorded restores kept beside the SQLite register at ``database``
    (None: no file to look beside). Each is opened read-only: one that is not there, not a
    file, not a register, that holds fewer of the dropped ids than the restore recorded
    dropping, whose events do not follow on, link by link, from the restored register's
    newest event, or whose events there do not hash as stored (a shell changed what one
    says, its hash columns left alone) or, with ``key``, whose MAC does not hold (the hash
    recomputed: no key is needed for that), is said so. (Whoever holds the key can make up
    such a copy, as a register.) A check of a backup or of a copy being restored looks at
    none: the copies are beside the register itself."""
    if not database or database.startswith((":memory:", "file:")):
        return None
    folder = Path(database).parent

    def check(name: str, first: int, last: int, dropped: int | None, after: Any) -> str | None:
        if Path(name).name != name or name in (".", ".."):
            return "its name is not that of a file beside the register"
        path = folder / name
        try:
            found = path.lstat()
        except FileNotFoundError:
            return "it is no longer there"
        except OSError as exc:
            return f"it cannot be looked at ({exc.strerror or type(exc).__name__})"
        if stat.S_ISLNK(found.st_mode):
            # (A shell's, pointing at any file: the restore wrote the copy itself.)
            return "a link to another file is in its place, not the copy the restore wrote"
        if not stat.S_ISREG(found.st_mode):
            return "something other than a file is in its place"
        deadline = time.monotonic() + RESTORE_COPY_SECONDS
        try:
            # immutable: read as it lies, leaving no -wal or -shm file beside it (the copy is
            # in WAL mode, and a folder this user may not write is no reason to say it
            # cannot be read).
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
            try:
                conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
                kind = conn.execute(
                    "SELECT type FROM sqlite_master WHERE name = 'events'"
                ).fetchone()
                if kind is None or kind[0] != "table":
                    return "it cannot be read as a register"
                # Every column, by its name (a column a later revision added is missing
                # from an older copy, as from an older register: read as empty).
                cursor = conn.execute(
                    "SELECT * FROM events NOT INDEXED WHERE id BETWEEN ? AND ? ORDER BY id",
                    (first, last),
                )
                names = [d[0] for d in cursor.description]
                rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
            finally:
                conn.close()
        except sqlite3.Error:
            if time.monotonic() > deadline:  # the progress handler stopped the read
                return (
                    f"it took longer than {RESTORE_COPY_SECONDS:.0f} seconds to read, so what "
                    "it holds was not looked at"
                )
            return "it cannot be read as a register"
        held = len(rows)
        if held < (dropped if dropped is not None else 1):
            return f"it holds {held} of the {dropped}" if dropped else "it holds none of them"
        links = [after if isinstance(after, str) else rows[0].get("prev_hash")] + [
            r.get("hash") for r in rows[:-1]
        ]
        if any(row.get("prev_hash") != link for row, link in zip(rows, links, strict=True)):
            return (
                "its events at those ids do not follow on from the register's as it was "
                "restored (changed, or made up)"
            )
        if not all(_as_recorded(row, key) for row in rows):
            return (
                "its events at those ids are not as they were recorded (changed since, or made up)"
            )
        return None

    return check


def _as_recorded(row: dict[str, Any], key: bytes | None) -> bool:
    """Whether an event read raw from a copy hashes as stored, and (with ``key``) carries
    the MAC of that hash: the kiosk's own row, unchanged. (A copy is kept only by a restore
    since round 16, whose events all carry one: one without, its hash recomputed without
    the MAC's content version, was changed by a shell.)"""
    stored = row.get("hash")
    try:
        if not isinstance(stored, str) or hash_of(row) != stored:
            return False
    except (UnreadableEvent, TypeError, ValueError, AttributeError):
        return False
    mac = row.get("mac")
    return key is None or mac == event_mac(key, stored)


_SELECT_EVENTS = select_events(postgresql=False)
_SELECT_EVENTS_PG = select_events(postgresql=True)
_CORRECTED = text(
    f"SELECT target_event_id FROM events WHERE kind = '{EventKind.CORRECTION.value}' "
    "AND target_event_id IS NOT NULL"
)


# The lines that say which event an anchor names: each once.
_ANCHOR_KEYS = frozenset({"event", "position", "hash"})


@dataclass(frozen=True, slots=True)
class Anchor:
    """A head of the chain written down outside the database (``kiosk anchor``)."""

    event_id: int
    position: int | None
    hash: str
    occurred_at: str
    school: str
    taken_at: str = ""
    source: str = ""

    def to_text(self) -> str:
        return (
            f"{ANCHOR_TITLE}\n"
            # One line whatever the setting holds: a school name holding line breaks wrote
            # Event and Hash lines of its own before the real ones.
            f"School: {display_text(self.school)}\n"
            f"Event: {self.event_id}\n"
            f"Position: {self.position if self.position is not None else 'unknown'}\n"
            f"Hash: {self.hash}\n"
            f"Recorded at: {self.occurred_at}\n"
            f"Taken at: {self.taken_at}\n"
            "Keep this away from the kiosk (print it, e-mail it). `kiosk verify --anchor FILE`\n"
            "checks that the register still holds this event, unchanged, at this position,\n"
            "and everything before it.\n"
        )

    @classmethod
    def parse(cls, content: str, source: str = "") -> Anchor:
        fields: dict[str, str] = {}
        for line in content.splitlines():
            name, sep, value = line.partition(":")
            if not sep:
                continue
            name = name.strip().lower()
            if name in _ANCHOR_KEYS and fields.get(name, value.strip()) != value.strip():
                # Which of two Event or Hash lines the school meant cannot be known (an
                # older kiosk wrote a school name's line breaks into the School line). The
                # same line twice is one anchor: a saved anchor e-mail holds its text part
                # and its HTML part.
                raise InvalidInput(
                    f"{source or 'The anchor'} has two different {name.capitalize()} lines, so "
                    "which event it names cannot be known: use an anchor as `kiosk anchor` "
                    "writes it now."
                )
            fields.setdefault(name, value.strip())
        try:
            event_id = int(fields["event"])
            digest = fields["hash"].lower()
            position_text = fields.get("position", "unknown")
            position = None if position_text == "unknown" else int(position_text)
        except (KeyError, ValueError):
            raise InvalidInput(
                f"{source or 'The anchor'} is not a kiosk anchor (it needs Event, Position and "
                "Hash lines, as `kiosk anchor` writes them)."
            ) from None
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise InvalidInput(f"{source or 'The anchor'}: its Hash line is not a hash.")
        return cls(
            event_id,
            position,
            digest,
            fields.get("recorded at", ""),
            fields.get("school", ""),
            fields.get("taken at", ""),
            source,
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
    # Everything else found, each named in a sentence (reference rows, MACs, categories,
    # unreadable rows, anchors, checkpoints, triggers and privileges).
    problems: tuple[str, ...] = field(default=())
    macs_checked: bool = False
    anchors_checked: int = 0
    head_position: int | None = None
    # What this check cannot rule out (said plainly by `kiosk verify`).
    cannot_rule_out: tuple[str, ...] = field(default=())
    last_anchor_at: datetime | None = None
    # Where this result was kept besides the register: "<witness file id> <database name>"
    # (this machine's witness file, by the random id it keeps, and the register's name in it),
    # and the witness file's path (a file of another id there is that file replaced).
    kept_in: str | None = None
    kept_at: str | None = None

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
            first = f" (first: {self.mismatched[0]})" if self.mismatched else ""
            parts.append(f"{self.mismatch_count} event(s) changed after they were recorded{first}")
        if self.broken_link_count:
            parts.append(
                f"{self.broken_link_count} broken link(s): events removed, inserted or "
                f"reordered (first at event {self.first_broken_link})"
            )
        if self.tail_problem:
            parts.append(self.tail_problem)
        if self.problems:
            parts.append(self.problems[0])
            if len(self.problems) > 1:
                parts.append(f"{len(self.problems) - 1} more problem(s)")
        return f"REGISTER TAMPERED WITH: {'; '.join(parts)}."

    def to_json(self) -> str:
        data = asdict(self)
        data["broken_links"] = list(self.broken_links[:STORED_IDS])
        data["mismatched"] = list(self.mismatched[:STORED_IDS])
        data["notes"] = list(self.notes)
        data["problems"] = list(self.problems[:STORED_PROBLEMS])
        data["cannot_rule_out"] = list(self.cannot_rule_out)
        data["checked_at"] = self.checked_at.isoformat()
        data["last_anchor_at"] = None
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, content: str) -> VerifyReport:
        try:
            data = json.loads(content)
        except RecursionError:
            raise ValueError("it is nested too deep to read") from None
        return cls.from_data(data)

    @classmethod
    def from_data(cls, data: Any) -> VerifyReport:
        """A stored result (a ``register_verified`` event's report, or this machine's witness
        file's entry), read back. Raises ValueError, saying why, for anything the kiosk does
        not write: not an object, a field missing or of another type, a time no clock shows,
        counts that contradict the lists (each was an AttributeError, IndexError or
        OverflowError in verify or on the admin console's screen)."""
        if not isinstance(data, dict):
            raise ValueError("its report is not a JSON object")
        known = set(cls.__dataclass_fields__)
        data = {k: v for k, v in data.items() if k in known}
        for name in _REPORT_REQUIRED:
            if name not in data:
                raise ValueError(f"its report does not say {name}")
        for name, wanted, test in _REPORT_TYPES:
            if name in data and not test(data[name]):
                raise ValueError(f"its report's {name} is not {wanted}")
        for name in ("broken_links", "mismatched", "notes", "problems", "cannot_rule_out"):
            data[name] = tuple(data.get(name, ()))
        data["checked_at"] = _report_time(data["checked_at"])
        data["last_anchor_at"] = None
        report = cls(**data)
        contradiction = report._contradiction()
        if contradiction:
            raise ValueError(f"its report contradicts itself: {contradiction}")
        return report

    def _contradiction(self) -> str | None:
        """What in a stored result cannot be so (the kiosk writes none of these)."""
        for count, ids, what in (
            (self.mismatch_count, self.mismatched, "changed"),
            (self.broken_link_count, self.broken_links, "broken link"),
        ):
            if bool(count) != bool(ids) or len(ids) > count:
                return f"{count} {what} event(s) counted, {len(ids)} named"
        if self.broken_links and self.first_broken_link != self.broken_links[0]:
            return "the first broken link is not the first one named"
        trouble = bool(
            self.mismatch_count or self.broken_link_count or self.tail_problem or self.problems
        )
        if self.ok == trouble:
            return "intact with problems" if self.ok else "not intact, yet no problem named"
        return None


def _is_int(value: Any) -> bool:
    return type(value) is int


def _is_id(value: Any) -> bool:
    return value is None or type(value) is int


def _is_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _are(test: Any) -> Any:
    return lambda value: isinstance(value, list) and all(test(v) for v in value)


# What a stored result must hold, and of which type (what to_json writes).
_REPORT_REQUIRED = tuple(
    name
    for name, f in VerifyReport.__dataclass_fields__.items()
    if f.default is MISSING and f.default_factory is MISSING
)
_REPORT_TYPES: tuple[tuple[str, str, Any], ...] = (
    ("ok", "true or false", lambda v: isinstance(v, bool)),
    ("macs_checked", "true or false", lambda v: isinstance(v, bool)),
    ("events_checked", "a number", _is_int),
    ("broken_link_count", "a number", _is_int),
    ("mismatch_count", "a number", _is_int),
    ("anchors_checked", "a number", _is_int),
    ("first_broken_link", "an event id", _is_id),
    ("first_id", "an event id", _is_id),
    ("head_id", "an event id", _is_id),
    ("head_position", "a position", _is_id),
    # The witness is compared with event ids and hashes: a check stored by hand naming
    # something else (text, a list) is no check (a TypeError there stopped every verify).
    ("witness_id", "an event id", _is_id),
    ("witness_hash", "a hash", _is_text),
    ("head_hash", "a hash", lambda v: isinstance(v, str)),
    ("anchor", "text", lambda v: isinstance(v, str)),
    ("tail_problem", "text", _is_text),
    ("checked_at", "a time", lambda v: isinstance(v, str)),
    ("seconds", "a number", lambda v: type(v) in (int, float) and 0 <= v < 1e9),
    ("broken_links", "a list of event ids", _are(_is_int)),
    ("mismatched", "a list of event ids", _are(_is_int)),
    ("notes", "a list of sentences", _are(lambda v: isinstance(v, str))),
    ("problems", "a list of sentences", _are(lambda v: isinstance(v, str))),
    ("cannot_rule_out", "a list of sentences", _are(lambda v: isinstance(v, str))),
    ("kept_in", "text", _is_text),
    ("kept_at", "text", _is_text),
)
# When a stored check can have been made (revision 0007 keeps every time in this range).
_EARLIEST = datetime(1900, 1, 2, tzinfo=UTC)
_LATEST = datetime(8999, 12, 31, tzinfo=UTC)


def _report_time(value: str) -> datetime:
    """A stored result's time; ValueError for one the kiosk cannot have written (a time no
    clock shows: shown in the school's zone, 9999-12-31T23:59:59-14:00 overflowed)."""
    try:
        moment = datetime.fromisoformat(value)
        moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        in_range = _EARLIEST <= moment.astimezone(UTC) <= _LATEST
    except (ValueError, OverflowError):
        in_range = False
    if not in_range:
        raise ValueError(f"its report's time {value[:40]!r} is not a time the kiosk writes")
    return moment


def _carried_unsealed(
    event_id: Any,
    row_id: tuple[str, Any],
    value: Any,
    sealed: bool,
    unsealed_rows: dict[tuple[str, Any], tuple[Any, Any]],
    sealed_rows: dict[tuple[str, Any], Any],
) -> str | None:
    """What a list event recorded again of an earlier one the kiosk did not record, for the
    same row (None: nothing): the fields it keeps as that event wrote them, where they differ
    from the row as the kiosk last recorded it. Keeps ``unsealed_rows`` and ``sealed_rows``."""
    if not sealed:
        unsealed_rows[row_id] = (event_id, value)
        return None
    found = unsealed_rows.pop(row_id, None)
    before = sealed_rows.get(row_id)
    sealed_rows[row_id] = value
    if found is None or not isinstance(value, dict) or not isinstance(found[1], dict):
        return None
    forged_id, forged = found
    earlier = before if isinstance(before, dict) else {}
    fields = [
        name
        for name in value
        if name in forged and value[name] == forged[name] and earlier.get(name) != forged[name]
    ]
    if not fields:
        return None
    table, key = row_id
    return (
        f"event {event_id} recorded {table} {str(key)[:40]} with the {', '.join(fields)} "
        f"event {forged_id} wrote without the school key"
    )


# What the kiosk records on the state an event left, saying under the key that it was so
# (not a correction: voiding a hand-written event is the office's remedy). A phone moved,
# or collected (at the kiosk, or handed back by the office), after a deposit the kiosk never
# recorded: the register says it left a store it was never put in.
_PHONE_FOLLOWS = frozenset({EventKind.PHONE_MOVED.value, EventKind.PHONE_COLLECTED.value})
# An event the kiosk records on one it names (its target), and what it does to it: a
# return kept longer extends a sign-out, and a device scanned back in returns it (on a
# sign-out the kiosk never recorded, the register said a laptop came back from a sign-out
# nobody made, as a phone collected from such a deposit); the office marks a workstation
# review request taken up or done (on a request the kiosk never recorded, the register said
# the school completed a review nobody asked for at the kiosk).
_TARGET_FOLLOWS = {
    EventKind.RETURN_EXTENDED.value: "extends",
    EventKind.DEVICE_RETURNED.value: "returns",
    EventKind.WORKSTATION_REVIEW_UPDATED.value: "updates",
}
_CORRECTION = EventKind.CORRECTION.value
_SIGN_OUT = EventKind.DEVICE_SIGNED_OUT.value
_EXTENDED = EventKind.RETURN_EXTENDED.value


def _voided_stream(row: Mapping[str, Any]) -> tuple[str, Any] | None:
    """What voiding this event puts back as it was before it, for :func:`_builds_on_unsealed`:
    ("phone", its person) for a phone event (the kiosk works out where a phone is from the
    newest phone event not voided), ("target", the sign-out) for a return or an extension."""
    if row["category"] == "phone":
        return ("phone", row["staff_id"])
    if row["kind"] == _SIGN_OUT:
        return ("device", row["device_id"])
    if row["target_event_id"] is not None and row["kind"] != _CORRECTION:
        return ("target", row["target_event_id"])
    return None


class _Step(NamedTuple):
    """One of a device's events, as verify's replay keeps them (:func:`_follow_device`)."""

    id: Any
    kind: Any
    target_event_id: Any


def _device_out(events: Sequence[_Step], voided: Any = None) -> bool:
    """Whether a device is off site after ``events`` (its events no correction voids, oldest
    first, one of them ``voided`` now), by the kiosk's own rule (``standing_sign_out``)."""
    kept = {step.id: step for step in events if step.id != voided}
    latest = next(reversed(kept.values()), None)
    return domain_state.standing_sign_out(latest, kept) is not None


def _frees(events: Sequence[_Step], voided: Any) -> bool:
    """Whether voiding event ``voided`` puts a device off site (``events``) back in school."""
    return _device_out(events) and not _device_out(events, voided)


def _follow_device(
    row: Mapping[str, Any],
    device_events: dict[Any, list[_Step]],
    voided_streams: Mapping[Any, tuple[str, Any]],
    targets: Collection[Any] | None,
) -> None:
    """Keeps ``device_events``: each device's events no correction voids (id, kind, target),
    from the newest that no correction can void (not in ``targets``) on."""
    kind, target = row["kind"], row["target_event_id"]
    if kind == _CORRECTION:
        stream = voided_streams.get(target)
        if stream is not None and stream[0] == "device" and stream[1] in device_events:
            device_events[stream[1]] = [e for e in device_events[stream[1]] if e.id != target]
        return
    device = row["device_id"]
    if device is None:
        return
    events = device_events.setdefault(device, [])
    if targets is not None and row["id"] not in targets and kind == _SIGN_OUT:
        events.clear()  # what came before it is not read again
    events.append(_Step(row["id"], kind, target))


def _builds_on_unsealed(
    row: Mapping[str, Any],
    sealed: bool,
    unsealed_ids: dict[Any, Any],
    unsealed_phone: dict[Any, Any],
    voided_streams: Mapping[Any, tuple[str, Any]],
    unsealed_device: dict[Any, Any] | None = None,
    device_events: Mapping[Any, list[_Step]] | None = None,
) -> str | None:
    """An event the kiosk recorded on top of one it did not (None: not so): an extension of
    its sign-out, or a phone moved whose last event was one. A correction the kiosk did not
    record counts for what it voids: the person's phone back where the voided event found
    it, the sign-out whose return it voids out again. Keeps ``unsealed_ids`` (an event, or a
    sign-out out again, -> the event not recorded by the kiosk it rests on) and
    ``unsealed_phone``; ``voided_streams``: :func:`_voided_stream` of the events corrections
    void, by id. ``unsealed_device``: each device in school only through such an event (its
    sign-out voided, or any newer event on it, a return or an extension of nothing, not the
    kiosk's): a sign-out of it the kiosk records then is named (the laptop signed out to Esha
    while Alice still had it). ``device_events``: each device's events no correction voids
    (id, kind, target), as :func:`_follow_device` keeps them: a sign-out voided frees the
    device only when it left it out (not one returned since)."""
    event_id, kind = row["id"], row["kind"]
    phone = row["category"] == "phone"
    target = row["target_event_id"]
    devices: dict[Any, Any] = unsealed_device if unsealed_device is not None else {}
    if not sealed:
        unsealed_ids[event_id] = event_id
        if phone:
            unsealed_phone[row["staff_id"]] = event_id
        if row["device_id"] is not None:
            # The kiosk reads a device's place from the newest event on it no correction
            # voids, of any kind: a return, or an extension of no sign-out, leaves it in school.
            devices[row["device_id"]] = event_id
        if kind == _CORRECTION and target in voided_streams:
            stream, which = voided_streams[target]
            if stream == "phone":
                unsealed_phone[which] = event_id
            elif stream == "device":
                events = device_events.get(which) if device_events is not None else None
                if events is None or _frees(events, target):
                    devices[which] = event_id
            else:
                unsealed_ids[which] = event_id
        return None
    before = unsealed_phone.pop(row["staff_id"], None) if phone else None
    in_school_by = devices.pop(row["device_id"], None) if row["device_id"] is not None else None
    if kind == _SIGN_OUT and in_school_by is not None:
        return (
            f"event {event_id} ({kind}) signs device {row['device_id']} out again, in school "
            f"only through event {in_school_by}"
        )
    if kind in _TARGET_FOLLOWS and target is not None and target in unsealed_ids:
        rests_on = unsealed_ids[target]
        if rests_on == target:
            return f"event {event_id} ({kind}) {_TARGET_FOLLOWS[kind]} event {target}"
        return (
            f"event {event_id} ({kind}) {_TARGET_FOLLOWS[kind]} event {target}, out again "
            f"only through event {rests_on}"
        )
    if before is not None and kind in _PHONE_FOLLOWS:
        return f"event {event_id} ({kind}) follows event {before} for that phone"
    return None


# School settings kept as events (the newest of each kind is in force), and the events the
# kiosk records by their rules: a sign-out asks whether a device goes charged, and when a
# line manager must agree, by the kinds of device; its suggested return, and an extension's,
# skip the days the calendar closes.
_RULES_READ_BY = {
    EventKind.DEVICE_KINDS_SET.value: (
        "the kinds of device",
        frozenset({EventKind.DEVICE_SIGNED_OUT.value}),
    ),
    EventKind.CALENDAR_SET.value: (
        "the school calendar",
        frozenset({EventKind.DEVICE_SIGNED_OUT.value, EventKind.RETURN_EXTENDED.value}),
    ),
}


def _under_unsealed_rules(
    row: Mapping[str, Any], sealed: bool, in_force: dict[str, Any]
) -> list[str]:
    """An event the kiosk recorded by rules (kinds of device, the calendar) whose newest
    setting, in force then, it did not record: the kiosks' login or a shell, without the key,
    set them (work phones no longer to be charged and ready), and the kiosk followed them
    under the key. Keeps ``in_force`` (a setting's kind -> the unsealed event in force)."""
    kind = row["kind"]
    if kind in _RULES_READ_BY:
        if sealed:
            in_force.pop(kind, None)
        else:
            in_force[kind] = row["id"]
        return []
    if not sealed or not in_force:
        return []
    return [
        f"event {row['id']} ({kind}) was recorded under {what} event {in_force[setting]} "
        "wrote without the school key"
        for setting, (what, read_by) in _RULES_READ_BY.items()
        if setting in in_force and kind in read_by
    ]


# What a sign-out needs of the person first (the current policies agreed, display-screen
# training declared): each such event names what it gives.
_AGREEMENTS = {
    EventKind.POLICY_ACKNOWLEDGED.value: "policy",
    EventKind.VDU_TRAINING_DECLARED.value: "vdu",
}


def _on_unsealed_agreements(
    row: Mapping[str, Any],
    sealed: bool,
    agreed: dict[Any, dict[tuple[str, Any], Any]],
    replay: Mapping[str, Mapping[Any, Any]],
) -> list[str]:
    """A sign-out the kiosk recorded for someone whose agreement to a policy, or training,
    only an event it did not record gives (the kiosks' login or a shell, without the key,
    wrote it: the kiosk signs out only to someone who has agreed). Keeps ``agreed`` (a
    person -> what such events gave them -> the event), until the kiosk records it itself."""
    kind, staff_id = row["kind"], row["staff_id"]
    if kind in _AGREEMENTS:
        what = (_AGREEMENTS[kind], row["policy_id"] if _AGREEMENTS[kind] == "policy" else None)
        if sealed:
            given = agreed.get(staff_id)
            if given is not None:
                given.pop(what, None)
        else:
            agreed.setdefault(staff_id, {})[what] = row["id"]
        return []
    if not sealed or kind != EventKind.DEVICE_SIGNED_OUT.value or not agreed.get(staff_id):
        return []
    ids = ", ".join(str(i) for i in sorted(agreed[staff_id].values(), key=str))
    return [
        f"event {row['id']} ({kind}) for {_person(staff_id, replay)} rests on event(s) {ids} "
        "(an agreement to a policy, or display-screen training, that only those give)"
    ]


def _counted_fewer(
    row: Mapping[str, Any],
    sealed: bool,
    details: Any,
    voided_sign_outs: Mapping[Any, tuple[Any, Any]],
    fewer: dict[Any, dict[Any, Any]],
    replay: Mapping[str, Mapping[Any, Any]],
) -> list[str]:
    """A sign-out the kiosk recorded with no line manager named for someone one of whose
    sign-outs in the 28 days before it a correction it did not record voided (the kiosks'
    login or a shell, without the key): the kiosk counted one fewer, and a laptop taken home
    regularly needs the line manager's agreement. ``voided_sign_outs``: the sign-outs
    corrections void (id -> person, time); keeps ``fewer`` (a person -> such a correction
    -> the time of the sign-out it voided)."""
    kind = row["kind"]
    if not sealed:
        if kind == _CORRECTION and row["target_event_id"] in voided_sign_outs:
            staff_id, at = voided_sign_outs[row["target_event_id"]]
            fewer.setdefault(staff_id, {})[row["id"]] = at
        return []
    staff_id = row["staff_id"]
    if kind != _SIGN_OUT or not fewer.get(staff_id):
        return []
    if isinstance(details, dict) and details.get("line_manager"):
        return []
    try:
        now = _moment(row["occurred_at"])
        ids = sorted(
            (c for c, at in fewer[staff_id].items() if now - _moment(at) <= REGULAR_USE_WINDOW),
            key=str,
        )
    except (TypeError, ValueError):  # a time the kiosk never writes: named as such
        return []
    if not ids:
        return []
    return [
        f"event {row['id']} ({kind}) for {_person(staff_id, replay)}, with no line manager "
        f"named, was recorded after event(s) {', '.join(map(str, ids))} voided a sign-out of "
        "theirs in the 28 days before it (the kiosk counted one fewer towards the line "
        "manager's agreement)"
    ]


def is_checkpoint(kind: str, details: Any) -> bool:
    return (
        kind == EventKind.ADMIN_ACTION.value
        and isinstance(details, dict)
        and details.get("action") == PURGE_ACTION
    )


class _NotAnObject:
    """Details stored as JSON that is not an object: content_of names the event."""


def _details(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return parse_details(value)
        except UnreadableEvent:
            return None
    return value


_CATEGORY = {kind.value: kind.category for kind in EventKind}
_V2_ONLY_KINDS = frozenset(
    {
        EventKind.REFERENCE_CHANGED.value,
        EventKind.ANCHOR_TAKEN.value,
        EventKind.REGISTER_VERIFIED.value,
    }
)
ADMIN_ROLE = "admin"
_LOGGERS = ("breakfast_club_lead", ADMIN_ROLE)
# Events the kiosk records only for someone holding a role (kiosk/services: phones.py's
# LOGGERS, policies.py's admin, devices.py's extension of a colleague's device): the roles,
# any one of which the recorder needs, and whether only when recording for a colleague.
_RECORDER_ROLES: dict[str, tuple[tuple[str, ...], bool]] = {
    EventKind.PHONE_DEPOSITED.value: (_LOGGERS, True),
    EventKind.PHONE_COLLECTED.value: (_LOGGERS, True),
    EventKind.PHONE_MOVED.value: (_LOGGERS, False),
    EventKind.RETURN_EXTENDED.value: ((ADMIN_ROLE,), True),
    EventKind.EXEMPTION_GRANTED.value: ((ADMIN_ROLE,), False),
    EventKind.EXEMPTION_REVOKED.value: ((ADMIN_ROLE,), False),
    EventKind.WORKSTATION_REVIEW_UPDATED.value: ((ADMIN_ROLE,), False),
    # An admin's own acts (nobody named: the command line, or a new school's set-up; a
    # baseline is by nobody). Corrections have their own rule (an admin or the recorder).
    EventKind.ADMIN_ACTION.value: ((ADMIN_ROLE,), False),
    EventKind.CALENDAR_SET.value: ((ADMIN_ROLE,), False),
    EventKind.DEVICE_KINDS_SET.value: ((ADMIN_ROLE,), False),
    REFERENCE_KIND: ((ADMIN_ROLE,), False),
}


def _person(staff_id: Any, replay: Mapping[str, Mapping[Any, Any]]) -> str:
    """A person of the register's lists as the office knows them: "Esha Patel (EPATEL)",
    with the number when the lists have no such row."""
    row = replay["staff"].get(staff_id) if _is_id(staff_id) else None
    name, code = (row.get("name"), row.get("code")) if isinstance(row, dict) else (None, None)
    if isinstance(name, str) and isinstance(code, str):
        return f"{display_text(name)[:60]} ({display_text(code)[:20]})"
    return f"staff {_show(staff_id)}"


def _restorer(staff_id: Any, replay: Mapping[str, Mapping[Any, Any]]) -> str:
    """Who a restore's record names: a person, or none (`kiosk restore` run without an
    admin's code records no one: it was said "a restore by staff null")."""
    if staff_id is None:
        return "a command run without an admin's code"
    return _person(staff_id, replay)


def _recorder_problem(
    row: Mapping[str, Any], replay: Mapping[str, Mapping[Any, Any]], *, complete: bool = True
) -> str | None:
    """An event recorded by someone the register's lists did not give the role it needs at
    that point (the role held only in the table, while it was used), or an exemption for
    someone not on the SLT then. ``complete``: the lists are replayed from the register's
    start; after a purge (False) a person whose row the kept events have not yet recorded
    is not judged (a purge records a row again only when its newest event goes)."""
    kind = row["kind"]
    needed, colleague_only = (
        _RECORDER_ROLES.get(kind, ((), False)) if isinstance(kind, str) else ((), False)
    )
    said = f"event {row['id']} ({kind})"
    by = row["recorded_by_id"]
    details = row["details"]
    if kind == EventKind.ADMIN_ACTION.value and isinstance(details, dict):
        # A subject access export names the person; from the command line nobody else is
        # named, and the kiosk records the person as its recorder too.
        colleague_only = colleague_only or details.get("action") == "subject_access_export"
        if details.get("action") == "database_restored":
            # By an admin of the register it replaced: the restored lists may predate them.
            needed = ()
    known = replay["staff"]
    if (
        needed
        and by is not None
        and not (colleague_only and by == row["staff_id"])
        and (complete or by in known)
    ):
        recorder = known.get(by) if _is_id(by) else None
        roles = (recorder.get("roles") if isinstance(recorder, dict) else None) or ()
        if not any(role in roles for role in needed):
            shown = " or ".join(r.replace("_", " ") for r in needed)
            article = "an" if shown[0] in "aeiou" else "a"
            return f"{said} recorded by {_person(by, replay)}, who was not {article} {shown} then"
    if kind == EventKind.EXEMPTION_GRANTED.value and (complete or row["staff_id"] in known):
        staff = replay["staff"].get(row["staff_id"]) if _is_id(row["staff_id"]) else None
        if "slt" not in ((staff.get("roles") if isinstance(staff, dict) else None) or ()):
            return f"{said} for {_person(row['staff_id'], replay)}, who was not on the SLT then"
    return None


# How an event names each list row it carries the code or tag of (``LABEL_KEYS``).
_LABEL_SAID = {
    "staff_code": ("recorded for", "code"),
    "recorded_by_code": ("recorded by", "code"),
    "device_tag": ("recorded for", "tag"),
    "store_code": ("recorded in", "code"),
}
# What names a row of each list to the office, besides its number.
_ROW_NAME = {"staff": "name", "devices": "description", "stores": "name"}
_ROW_NOUN = {"staff": "staff", "devices": "device", "stores": "store"}


def _row_named(table: str, row_id: Any, replay: Mapping[str, Mapping[Any, Any]]) -> str:
    """A list row as the office knows it: a person by name ("Ben Jones"), a device or a
    store by its number and name ("store 2 (Drawer)"); the number alone when the register's
    lists have no such row."""
    recorded = replay[table].get(row_id) if _is_id(row_id) else None
    name = recorded.get(_ROW_NAME[table]) if isinstance(recorded, dict) else None
    number = f"{_ROW_NOUN[table]} {_show(row_id)}"
    if not isinstance(name, str) or not name:
        return number
    shown = display_text(name)[:60]
    return shown if table == "staff" else f"{number} ({shown})"


def _label_problems(
    row: Mapping[str, Any], replay: Mapping[str, Mapping[Any, Any]], *, complete: bool = True
) -> list[str]:
    """The codes and tags an event carries (as the kiosk read them from the lists to find the
    person or device) that the register's lists did not give that row then: the list was
    changed in the database while it was recorded (two codes swapped for a while record one
    person as another). Events from before the kiosk recorded them carry none. Not
    ``complete`` (after a purge, before its checkpoint): a row not yet replayed is not
    judged."""
    details = row["details"]
    if not isinstance(details, dict):
        return []
    found = []
    for column, table, name in LABEL_KEYS:
        if name not in details:
            continue
        read, row_id = details[name], row[column]
        if column == "recorded_by_id" and row_id == row["staff_id"]:
            row_id = None  # the kiosk records no recorder's code for the person's own act
        said, field = _LABEL_SAID[name]
        if not complete and row_id not in replay[table]:
            continue
        recorded = replay[table].get(row_id) if _is_id(row_id) else None
        held = recorded.get(field) if isinstance(recorded, dict) else None
        if held == read and read is not None:
            continue
        then = (
            f"whose {field} was {_show(held)} then"
            if held is not None
            else "who was not on the register's lists then"
            if table == "staff"
            else "which was not on the register's lists then"
        )
        found.append(
            f"event {row['id']} ({row['kind']}) is {said} {_row_named(table, row_id, replay)}, "
            f"{then}, under "
            f"the {field} {_show(read)}"
        )
    return found


def _required_policies(policies: Mapping[Any, Any]) -> set[Any]:
    """The ids of the current required policies (the newest version of each title), as
    ``state.current_policies`` and the sign-out's check read them, of rows by id."""
    newest: dict[Any, Any] = {}
    for key, value in policies.items():
        if isinstance(value, dict) and type(key) is int:
            title = value.get("title")
            if title not in newest or key > newest[title]:
                newest[title] = key
    return {key for key in newest.values() if policies[key].get("required")}


def _rests_on_unsealed_rows(
    row: Mapping[str, Any],
    replay: Mapping[str, Mapping[Any, Any]],
    unsealed_rows: Mapping[tuple[str, Any], tuple[Any, Any]],
    sealed_rows: Mapping[tuple[str, Any], Any],
    *,
    complete: bool = True,
) -> list[str]:
    """What an event the kiosk recorded took from list rows whose newest change it did not
    record (``unsealed_rows``: the kiosks' login or a shell, without the key): the code or
    tag it read, or the role its recorder needed, held by such a row only; the policy it is
    about (an agreement to words the school never published). Judged against the
    lists as the kiosk recorded them (``sealed_rows`` in place of those rows): the checks
    against the replay pass, since the replay holds the forged change. Two codes swapped that
    way recorded Alice's deposit, under the key, as Ben's, and verify named only the swap."""
    if not unsealed_rows:
        return []
    found: list[str] = []
    policy = ("policies", row["policy_id"])
    if _is_id(row["policy_id"]) and policy in unsealed_rows:
        # Agreed to, or recorded under, a policy whose text the kiosk never recorded.
        forged_id, forged = unsealed_rows[policy]
        what = (
            f"{_show(forged.get('title'))} version {_show(forged.get('version'))}"
            if isinstance(forged, dict)
            else "(removed)"
        )
        found.append(
            f"event {row['id']} ({row['kind']}) is about policy {row['policy_id']}, {what}, "
            f"as event {forged_id} wrote it without the school key: the school's policies as "
            "the kiosk recorded them did not hold that text"
        )
    if row["kind"] == _SIGN_OUT:
        # The policies it asked the person to have agreed to: the current required version
        # of each title, as the lists stood, against the lists as the kiosk recorded them (a
        # new version, not required, published that way owed nothing).
        forged_rows = [key for table, key in unsealed_rows if table == "policies"]
        recorded = dict(replay["policies"])
        recorded.update({key: sealed_rows.get(("policies", key)) for key in forged_rows})
        if forged_rows and _required_policies(replay["policies"]) != _required_policies(recorded):
            forged_ids = sorted({str(unsealed_rows[("policies", key)][0]) for key in forged_rows})
            found.append(
                f"event {row['id']} ({row['kind']}) was recorded under the policies as event(s) "
                f"{', '.join(forged_ids)} wrote them without the school key: the policies to "
                "agree to before a sign-out were not the school's"
            )
    touched = {
        (table, row[column])
        for column, table, _name in LABEL_KEYS
        if _is_id(row[column]) and (table, row[column]) in unsealed_rows
    }
    if not touched:
        return found
    # The replay with those rows as the kiosk last recorded them (None: it never did).
    as_recorded: dict[str, Any] = {
        table: ChainMap(
            {key: sealed_rows.get((t, key)) for t, key in touched if t == table},
            cast("MutableMapping[Any, Any]", replay[table]),  # (only read)
        )
        if any(t == table for t, _key in touched)
        else replay[table]
        for table in replay
    }
    forged = ", ".join(str(unsealed_rows[item][0]) for item in sorted(touched, key=str))
    said = f"(the list changed by event {forged}, written without the school key)"
    if _label_problems(row, replay, complete=complete) or _recorder_problem(
        row, replay, complete=complete
    ):
        return found  # named already, as a code swapped in the table or a role held there
    found.extend(
        f"{problem} {said}" for problem in _label_problems(row, as_recorded, complete=complete)
    )
    problem = _recorder_problem(row, as_recorded, complete=complete)
    if problem:
        found.append(f"{problem} {said}")
    if found:
        return found
    # Anything else such a change gave the row (a leaver put back on the list, a retired
    # device or store back in use): the event was recorded on it all the same.
    for table, key in sorted(touched, key=str):
        forged_id, value = unsealed_rows[(table, key)]
        kept = sealed_rows.get((table, key))
        if not isinstance(kept, dict):
            found.append(
                f"event {row['id']} ({row['kind']}) names {_row_named(table, key, replay)}, "
                f"whom only event {forged_id}, written without the school key, put on the "
                "lists"
            )
            continue
        changed = [
            f"{field} {_show(kept.get(field))} -> {_show(value.get(field))}"
            for field in REFERENCE_FIELDS[table]
            if isinstance(value, dict) and kept.get(field) != value.get(field)
        ]
        if changed or not isinstance(value, dict):
            found.append(
                f"event {row['id']} ({row['kind']}) names {_row_named(table, key, replay)} "
                f"as event {forged_id}, written without the school key, left the row: "
                f"{', '.join(changed[:5]) or 'removed'}"
            )
    return found


BASELINE_REASON = "baseline"
PIN_SETTING = "admin_pin"


def _is_active_admin(row: Any) -> bool:
    """Whether a recorded staff row is an admin who has not left."""
    if not isinstance(row, dict):
        return False
    return ADMIN_ROLE in (row.get("roles") or ()) and row.get("retired_at") is None


def _grants_power(table: str, key: Any, row: Any, replay: Mapping[str, Mapping[Any, Any]]) -> bool:
    """Whether a reference change makes someone an admin, or sets the admin PIN: what only an
    admin may record once the school has one."""
    if table == "kiosk_settings":
        return bool(key == PIN_SETTING)
    if table != "staff":
        return False
    return _is_active_admin(row) and not _is_active_admin(replay["staff"].get(key))


# What a published policy is: changed afterwards, what people acknowledged is not what they
# read (the kiosk publishes a new version instead, under a new id).
POLICY_CONTENT = ("title", "version", "text", "sha256", "published_at")


def _takes_power(table: str, key: Any, row: Any, replay: Mapping[str, Mapping[Any, Any]]) -> bool:
    """Whether a reference change removes an admin (the role, or retiring them), changes an
    admin's code (half of the console's sign-in), a setting other than the PIN, or whether a
    policy is required: also only an admin's to record (revision 0006 refuses them from the
    kiosk's login on PostgreSQL). Retiring every admin would put the school back in set-up,
    where commands run without signing in."""
    before = replay.get(table, {}).get(key)
    if table == "kiosk_settings":
        return bool(key != PIN_SETTING and row != before)
    if table == "policies":
        return isinstance(before, dict) and (
            not isinstance(row, dict) or row.get("required") != before.get("required")
        )
    if table != "staff" or not isinstance(before, dict) or not _is_active_admin(before):
        return False
    if not isinstance(row, dict):
        return True
    return not _is_active_admin(row) or row.get("code") != before.get("code")


def _rewrites_policy(
    table: str, key: Any, row: Any, replay: Mapping[str, Mapping[Any, Any]]
) -> bool:
    """Whether a reference change rewrites a policy already published (by anyone)."""
    before = replay.get(table, {}).get(key) if table == "policies" else None
    if not isinstance(before, dict):
        return False
    after = row if isinstance(row, dict) else {}
    return any(after.get(f) != before.get(f) for f in POLICY_CONTENT)


def _same_policy(row: Any, recorded: Any) -> bool:
    """Whether a policy's row holds the words (and title, version) the kiosk last recorded."""
    if not isinstance(row, dict) or not isinstance(recorded, dict):
        return False
    return all(row.get(f) == recorded.get(f) for f in POLICY_CONTENT)


def _moment(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _apart(later: Any, earlier: Any) -> timedelta:
    return _moment(later) - _moment(earlier)


def _kiosk_named(name: Any) -> str:
    """``the kiosk NAME`` as a verify line shows it (a name written by hand shown safely)."""
    return f"the kiosk {display_text(name)[:64]}" if name else "no kiosk named"


def _minute(value: Any) -> str:
    return _moment(value).strftime("%Y-%m-%d %H:%M")


@dataclass
class _Checkpoint:
    event_id: int
    last_removed_id: int
    last_removed_hash: str
    details: dict[str, Any]
    occurred_at: str
    by: int | None
    by_was_admin: bool  # (True when who held which role there is not known: not judged)


def walk(
    rows: Iterable[Sequence[Any] | Mapping[str, Any]],
    *,
    now: datetime,
    previous: VerifyReport | None = None,
    key: bytes | None = None,
    anchors: Sequence[Anchor] = (),
    tables: Mapping[str, Mapping[Any, Mapping[str, Any]]] | None = None,
    targets: Collection[Any] | None = None,
    witnesses: Sequence[VerifyReport] = (),
    mac_faults: list[int] | None = None,
    restore_copy: RestoreCopyCheck | None = None,
    restores_recorded: bool = True,
) -> VerifyReport:
    """Check a stream of event rows (every column, ``EVENT_COLUMNS`` order, id order) and, when
    ``tables`` is given, the reference tables against the replayed events. ``targets``: the
    ids corrections void (what the walk remembers; None: every event). ``witnesses``: other
    earlier results whose newest event must still be there, unchanged, as ``previous``'s
    (the witness file and the chain's last check are both checked: a forged check in the
    chain naming a newer head must not make the file's witness go unread). ``mac_faults``:
    filled with the ids of the events without a valid MAC (with ``key``) or without the MAC
    the events before them have (what the problems name). ``restore_copy``: what has become
    of the copy a recorded restore kept of the events it dropped (:func:`restore_copy_check`;
    None: not looked at). ``restores_recorded``: False for a register no restore records
    itself in (PostgreSQL's: ``kiosk restore`` refuses there), where every record of one is
    named. Pure but for that list and that look."""
    started = time.perf_counter()
    checked = 0
    prev_row_hash: str | None = None
    first_id: int | None = None
    first_prev: str | None = None
    head_id: int | None = None
    head_hash = GENESIS_HASH
    broken: list[int] = []
    mismatched: list[int] = []
    problems: list[str] = []
    checkpoints: list[_Checkpoint] = []
    seen_previous_head: bool | None = None
    notes: list[str] = []
    witness_of_previous = previous.witness_id if previous is not None else None
    other_witnesses: dict[int, VerifyReport] = {
        w.witness_id: w for w in witnesses if w.witness_id is not None
    }
    other_seen: dict[Any, Any] = {}
    admin_action = EventKind.ADMIN_ACTION.value
    anchor_ids = {a.event_id for a in anchors}
    anchor_seen: dict[int, tuple[str, int, str]] = {}  # id -> (hash, index, time)
    replay: dict[str, dict[Any, dict[str, Any] | None]] = {t: {} for t in REFERENCE_FIELDS}
    replay_event: dict[tuple[str, Any], int] = {}
    seen_v2: int | None = None
    bad_mac: list[int] = []
    bad_category: list[str] = []
    last_anchor_taken: str | None = None
    anchor_kind = EventKind.ANCHOR_TAKEN.value
    latest_time = iso_utc(now + CLOCK_SKEW) or ""
    latest_raw = latest_time[:10] + " " + latest_time[11:26]  # as SQLite holds it
    admins: set[Any] = set()  # active admins at this point of the replay
    # A new school's set-up (the first admins imported by no one) lasts until an admin acts.
    setup_done = False
    baseline_open = True  # until the first reference event that is not the baseline
    # The kiosk records the baseline of the lists once, at its first write since revision
    # 0005, before any other event with a MAC: one after such an event took in lists changed
    # behind the chain (the kiosk misled into thinking the register had none), as they stood.
    baseline_allowed = True
    late_baselines: list[str] = []
    # List rows last changed by an event the kiosk did not record (no MAC after one with a
    # MAC, or a MAC not the school key's): (event, row); and each row as last recorded by the
    # kiosk. An office change of such a row built on what that event wrote and recorded it
    # again, under the key, as the admin's (tests/reliability/test_attacks_round18_rec.py).
    unsealed_rows: dict[tuple[str, Any], tuple[Any, Any]] = {}
    sealed_rows: dict[tuple[str, Any], Any] = {}
    carried_unsealed: list[str] = []
    # Events the kiosk did not record, and each person's phone whose last event was one: a
    # phone moved, or a device kept longer, by the kiosk on top of such an event is named.
    unsealed_ids: dict[Any, Any] = {}
    unsealed_phone: dict[Any, Any] = {}
    unsealed_device: dict[Any, Any] = {}  # devices in school only through such an event
    device_events: dict[Any, list[_Step]] = {}  # not voided, per device
    voided_streams: dict[Any, tuple[str, Any]] = {}  # for corrections not the kiosk's
    voided_sign_outs: dict[Any, tuple[Any, Any]] = {}  # sign-outs a correction voids
    counted_fewer: dict[Any, dict[Any, Any]] = {}  # people a void not the kiosk's left fewer
    built_on_unsealed: list[str] = []
    unsealed_agreed: dict[Any, dict[tuple[str, Any], Any]] = {}  # agreements not the kiosk's
    unsealed_rules: dict[str, Any] = {}  # settings in force the kiosk did not record
    from_unsealed: list[str] = []  # events that read list rows the kiosk did not record
    without_role: list[str] = []  # events needing a role the recorder did not hold then
    swapped: list[str] = []  # events under a code or tag the lists did not give then
    lists_known = False  # the whole lists replayed, after a purge (from its checkpoint)
    # A list change stored as binary data no reader takes as JSON: what the lists held after
    # it is not known, so who held which role or code is no longer judged.
    lists_unread: Any = None
    unauthorised: list[int] = []
    removed_power: list[int] = []
    backdated: list[str] = []
    wrong_text: list[str] = []  # acknowledgements of a text the policy does not have
    acknowledged = EventKind.POLICY_ACKNOWLEDGED.value
    newest_at: Any = None  # the latest occurred_at so far (stored text or datetime)
    newest_id: Any = None
    newest_kiosk: Any = None  # the kiosk that recorded it (whose clock may be the wrong one)
    rewritten_policies: list[str] = []
    future: list[int] = []
    correction_kind = EventKind.CORRECTION.value
    # What a correction needs to know of the event it voids: (kind, recorded by).
    voidable: dict[Any, tuple[Any, Any]] = {}
    unentitled: list[str] = []  # corrections by neither an admin nor the event's recorder
    # The kiosk's purge keeps every event a kept event refers to (a sign-out an extension or a
    # return names, a voided event): a kept event naming a purged one shows a purge that was
    # not the kiosk's (a checkpoint written with the key, the prefix deleted by hand).
    refers_purged: list[str] = []
    # Recorded restores that dropped newer events: (event, first dropped, last dropped, who,
    # why). What they dropped is not in the register; an anchor naming it is still a problem.
    restores: list[tuple[Any, int, int, str, str | None]] = []
    # And, by the restore's event, how many events it says it dropped and the name of the
    # copy it kept beside the register (None: not said, as before round 16).
    # (And the copy's name as recorded, and the hash of the restored register's newest event,
    # which the first event it dropped follows: what ``restore_copy`` looks for.)
    restore_kept: dict[Any, tuple[int | None, str | None]] = {}
    restore_copies: dict[Any, tuple[str, Any]] = {}
    leaps: list[str] = []  # events given an id far past the one before them
    for raw in rows:
        row = dict(raw) if type(raw) is dict else dict(zip(EVENT_COLUMNS, raw, strict=False))
        event_id = row["id"]
        prev_hash = row["prev_hash"]
        stored_hash = row["hash"]
        kind = row["kind"]
        checked += 1
        if first_id is None:
            first_id, first_prev = event_id, prev_hash
        elif prev_hash != prev_row_hash:
            broken.append(event_id)
        if type(event_id) is int and type(head_id) is int and event_id - head_id > ID_LEAP:
            leaps.append(f"{event_id} (after {head_id})")
        version = 1 if row["mac"] is None else 2  # chain.content_version
        details = row["details"]
        if isinstance(details, bytes | bytearray | memoryview):
            # A BLOB on SQLite: the kiosk reads it as its text (the driver's JSON, CAST AS
            # TEXT), so verify does too; skipped, a list event made one (its role removed)
            # went unread by verify alone, and a role put back in the file verified.
            problems.append(
                f"event {event_id} has its details stored as binary data, not as the text "
                "the kiosk writes: it was changed by hand (SQLite's JSON functions, which "
                "the purge uses, do not read it as the kiosk does)"
            )
            # Read with the kiosk's own parser (JSON's reader takes bytes in UTF-8, -16 or
            # -32, with or without a BOM: decoded as UTF-8 here, a role removal stored as
            # UTF-16 went unread by verify alone, and was replayed as never made).
            stored = details = bytes(details)
            try:
                details = parse_details(stored)
            except UnreadableEvent:
                details = None
                if kind == REFERENCE_KIND and lists_unread is None:
                    lists_unread = event_id
            row["details"] = (
                details
                if isinstance(details, dict)
                else stored
                if details is None
                else _NotAnObject()
            )
        elif type(details) is str:  # parsed once (None: not JSON, named below)
            details = _details(details)
            if isinstance(details, dict):
                row["details"] = details
            elif details is not None:
                # Stored JSON that is not an object (a string holding an object's text is
                # not that object: it is not parsed again).
                row["details"] = _NotAnObject()
        try:
            recomputed = hash_of(row)
        except UnreadableEvent as exc:
            problems.append(f"event {event_id} cannot be read: {exc}")
            recomputed = ""
        except (TypeError, ValueError, AttributeError):  # a column of the wrong type
            problems.append(f"event {event_id} cannot be read: a column has the wrong type")
            recomputed = ""
        if recomputed != stored_hash:
            mismatched.append(event_id)
        if recomputed:
            for column in ("occurred_at", "due_at"):
                if not stored_form_ok(row[column]):
                    problems.append(
                        f"event {event_id} has its {column} stored as "
                        f"{str(row[column])[:40]!r}, not in the form the kiosk writes: the "
                        "same instant written differently moves the event to another day "
                        "in the register, or to none"
                    )
            at = row["occurred_at"]
            # Raw SQLite text in the kiosk's form sorts as time; anything else is parsed.
            in_form = isinstance(at, str) and stored_form_ok(at)
            if (at > latest_raw) if in_form else ((iso_utc(at) or "") > latest_time):
                future.append(event_id)
            # Events are recorded at the writer's clock, in chain order: one dated well before
            # an event recorded ahead of it was backdated (or a kiosk's clock was wrong).
            if in_form or isinstance(at, datetime):
                if newest_at is None or at >= newest_at:
                    newest_at, newest_id, newest_kiosk = at, event_id, row["kiosk"]
                elif _apart(newest_at, at) > CLOCK_SKEW:
                    # Each kiosk named: of two kiosks, the one whose clock runs fast dates its
                    # events ahead, and it is the other's honest events that come out here.
                    backdated.append(
                        f"{event_id} ({_minute(at)}, recorded by {_kiosk_named(row['kiosk'])}, "
                        f"after {newest_id} at {_minute(newest_at)} by "
                        f"{_kiosk_named(newest_kiosk)})"
                    )
        if version >= 2:
            if seen_v2 is None:
                seen_v2 = event_id
            if key is not None and (
                not isinstance(stored_hash, str) or row["mac"] != event_mac(key, stored_hash)
            ):
                bad_mac.append(event_id)
                if mac_faults is not None:
                    mac_faults.append(event_id)
        elif seen_v2 is not None:
            if mac_faults is not None:
                mac_faults.append(event_id)
            problems.append(
                f"event {event_id} has no MAC although event {seen_v2} before it has one: "
                "it was added or rewritten by hand"
            )
        elif kind in _V2_ONLY_KINDS:
            # These kinds exist only since revision 0005, which always writes version 2.
            problems.append(
                f"event {event_id} ({kind}) is in the old format, which this kind never had: "
                "it was rewritten by hand"
            )
        # Recorded by the kiosk (with the key, its MAC checked), the services' rule too.
        sealed = recorded_by_kiosk(
            event_id,
            has_mac=version >= 2,
            hash_ok=not (mismatched and mismatched[-1] == event_id),
            mac_ok=not (bad_mac and bad_mac[-1] == event_id),
            first_mac_id=seen_v2 if version == 1 else None,
        )
        on_unsealed = _builds_on_unsealed(
            row,
            sealed,
            unsealed_ids,
            unsealed_phone,
            voided_streams,
            unsealed_device,
            device_events,
        )
        _follow_device(row, device_events, voided_streams, targets)
        built_on_unsealed.extend(_under_unsealed_rules(row, sealed, unsealed_rules))
        built_on_unsealed.extend(_on_unsealed_agreements(row, sealed, unsealed_agreed, replay))
        built_on_unsealed.extend(
            _counted_fewer(row, sealed, details, voided_sign_outs, counted_fewer, replay)
        )
        if on_unsealed:
            built_on_unsealed.append(on_unsealed)
        expected = _CATEGORY.get(kind) if isinstance(kind, str) else None
        if expected is None:
            problems.append(f"event {event_id} has an unknown kind {str(kind)[:40]!r}")
        elif row["category"] != expected:
            bad_category.append(
                f"event {event_id} ({kind}) has category {str(row['category'])[:20]!r}, "
                f"not {expected!r}"
            )
        if not setup_done and admins and row["staff_id"] in admins:
            setup_done = True
        if (
            is_checkpoint(kind, details)
            and first_prev != GENESIS_HASH
            and details.get("last_removed_hash") == first_prev
        ):
            # The purge recorded again every list row whose newest event it took, before its
            # checkpoint: from here on the replay holds the whole lists.
            lists_known = True
        if version >= 2 and replay["staff"] and lists_unread is None:
            # Who held which role, and which code, as the lists stood before this event:
            # known from the register's start, or from the checkpoint of the purge that made
            # this start (the purge records the rows it takes again before it); before that
            # checkpoint, for each person once the kept events have recorded their row.
            complete = lists_known or first_prev == GENESIS_HASH
            problem = _recorder_problem(row, replay, complete=complete)
            if problem:
                without_role.append(problem)
            swapped.extend(_label_problems(row, replay, complete=complete))
            if sealed:
                from_unsealed.extend(
                    _rests_on_unsealed_rows(
                        row, replay, unsealed_rows, sealed_rows, complete=complete
                    )
                )
        is_baseline = (
            kind == REFERENCE_KIND
            and isinstance(details, dict)
            and details.get("reason") == BASELINE_REASON
        )
        if is_baseline and not baseline_allowed:
            late_baselines.append(_late_baseline(event_id, details, replay))
        elif not is_baseline and version >= 2:
            baseline_allowed = False
        if kind == REFERENCE_KIND and isinstance(details, dict):
            baseline = details.get("reason") == BASELINE_REASON and baseline_open
            baseline_open = baseline_open and baseline
            try:
                table = str(details["table"])
                ref_key = normalise_key(table, details["key"])
                value = details.get("row")
                if setup_done and not baseline and row["staff_id"] not in admins:
                    if _grants_power(table, ref_key, value, replay):
                        unauthorised.append(event_id)
                    elif _takes_power(table, ref_key, value, replay):
                        removed_power.append(event_id)
                if _rewrites_policy(table, ref_key, value, replay) and not (
                    # Put back as the kiosk last recorded it (`kiosk lists put-back` after a
                    # rewrite without the key): the rewrite is the one named, not this.
                    sealed and _same_policy(value, sealed_rows.get((table, ref_key)))
                ):
                    rewritten_policies.append(f"policy {ref_key} (event {event_id})")
                if table == "staff":
                    if _is_active_admin(value):
                        admins.add(ref_key)
                    else:
                        admins.discard(ref_key)
                said_row = _carried_unsealed(
                    event_id, (table, ref_key), value, sealed, unsealed_rows, sealed_rows
                )
                if said_row:
                    carried_unsealed.append(said_row)
                replay[table][ref_key] = dict(value) if isinstance(value, dict) else None
                replay_event[(table, ref_key)] = event_id
            except (KeyError, TypeError, ValueError, OverflowError):  # int(1e999)
                problems.append(f"reference event {event_id} cannot be read")
        elif kind == admin_action and is_checkpoint(kind, details):
            try:
                by = row["staff_id"]
                roles = (replay["staff"].get(by) or {}).get("roles") or ()
                # Before the checkpoint that made this start, who held which role is known
                # only for the people whose row the kept events recorded: an earlier purge's
                # checkpoint kept after a later purge (which recorded its admin's row again
                # after it, or not at all) is not judged for a row not known yet, as any
                # other event is not (_recorder_problem).
                unknown = (
                    not (lists_known or first_prev == GENESIS_HASH) and by not in (replay["staff"])
                )
                checkpoints.append(
                    _Checkpoint(
                        event_id,
                        int(details["last_removed_id"]),
                        str(details["last_removed_hash"]),
                        details,
                        iso_utc(row["occurred_at"]) or "",
                        by,
                        unknown or ADMIN_ROLE in roles,
                    )
                )
            except (KeyError, TypeError, ValueError, OverflowError, UnreadableEvent):
                # OverflowError: a JSON number such as 1e999 (infinity) as an id.
                problems.append(f"checkpoint event {event_id} is incomplete")
        elif (
            kind == admin_action
            and isinstance(details, dict)
            and details.get("action") == "database_restored"
        ):
            span = details.get("dropped_ids")
            first_last = (
                (int(span[0]), int(span[1]))
                if isinstance(span, list)
                and len(span) == 2
                and all(type(i) is int for i in span)
                and span[0] <= span[1]
                else None
            )
            # A restore drops the events after the backup's newest, and is recorded after
            # them all: the event before it is the backup's newest, below every id it
            # dropped. One that says it dropped events the register holds before it (or ids
            # after its own) is no restore's record: a login with the school key wrote it,
            # and verify said "intact" with a note that the head teacher had dropped them.
            # It is recorded at the id after the last it dropped: one over a gap of ids
            # (none of them ever recorded) is no restore's either. On PostgreSQL no restore
            # records itself at all (``kiosk restore`` refuses; the server's tools restore).
            why_not = (
                "on PostgreSQL no restore is recorded (`kiosk restore` refuses there: the "
                "server's tools restore a register)"
                if not restores_recorded
                else None
                if first_last is None
                else f"the register holds event {head_id}, among or after them, before it"
                if type(head_id) is int and head_id >= first_last[0]
                else "those ids come after its own"
                if type(event_id) is int and first_last[1] >= event_id
                else f"its own id is not the one after {first_last[1]}"
                if type(event_id) is int and first_last[1] + 1 != event_id
                else None
            )
            if why_not is not None:
                ids = (
                    f"the events with ids {first_last[0]} to {first_last[1]}"
                    if first_last is not None
                    else "newer events"
                    if span
                    else "no events"
                )
                problems.append(
                    f"event {event_id} records a restore by {_restorer(row['staff_id'], replay)} "
                    f"that dropped {ids}, but {why_not}: a restore never records that "
                    "(written by hand, or by a database login holding the school key)"
                )
                first_last = None
            if first_last is not None:
                reason = details.get("reason")
                dropped = details.get("dropped")
                copy = details.get("safety_copy")
                restore_kept[event_id] = (
                    dropped if type(dropped) is int else None,
                    display_text(copy) if isinstance(copy, str) else None,
                )
                if isinstance(copy, str) and copy:
                    restore_copies[event_id] = (copy, details.get("head_hash"))
                restores.append(
                    (
                        event_id,
                        first_last[0],
                        first_last[1],
                        _restorer(row["staff_id"], replay),
                        reason if isinstance(reason, str) else None,
                    )
                )
        elif kind == acknowledged and isinstance(details, dict) and "sha256" in details:
            policy = replay["policies"].get(row["policy_id"])
            if isinstance(policy, dict) and policy.get("sha256") != details["sha256"]:
                wrong_text.append(f"{event_id} (policy {row['policy_id']})")
        elif kind == anchor_kind:
            with suppress(UnreadableEvent):
                last_anchor_taken = iso_utc(row["occurred_at"])
        elif kind == correction_kind:
            # Events before the first one kept were purged only when the register does not
            # start at its beginning.
            purged_before = first_id if first_prev != GENESIS_HASH else None
            problem = _correction_problem(row, voidable, purged_before)
            if problem:
                problems.append(problem)
            elif (
                version >= 2
                and replay["staff"]  # who the admins were is known (from the baseline on)
                and row["recorded_by_id"] not in admins
                # (an event purged before the first one kept: who recorded it is not known)
                and row["target_event_id"] in voidable
                and row["recorded_by_id"] != voidable[row["target_event_id"]][1]
            ):
                unentitled.append(
                    f"correction {event_id} voids event {row['target_event_id']} (recorded by "
                    f"staff {row['recorded_by_id']})"
                )
        target = row["target_event_id"]
        if target is not None and kind != correction_kind and not _earlier(target, event_id):
            problems.append(f"event {event_id} refers to event {target}, recorded after it")
        if target is not None and first_prev != GENESIS_HASH and _earlier(target, first_id):
            refers_purged.append(
                f"event {event_id} ({str(kind)[:40]}) refers to event {target}, which a purge "
                "removed"
            )
        if targets is None or event_id in targets:
            voidable[event_id] = (kind, row["recorded_by_id"])
            if (stream := _voided_stream(row)) is not None:
                voided_streams[event_id] = stream
            if kind == _SIGN_OUT:
                voided_sign_outs[event_id] = (row["staff_id"], row["occurred_at"])
        if event_id in anchor_ids:
            try:
                at = iso_utc(row["occurred_at"]) or ""
            except UnreadableEvent:
                at = ""
            anchor_seen[event_id] = (stored_hash, checked, at)
        if event_id == witness_of_previous and previous is not None:
            seen_previous_head = isinstance(stored_hash, str) and (
                stored_hash == previous.witness_hash
            )
        if event_id in other_witnesses:
            other_seen[event_id] = stored_hash
        prev_row_hash = stored_hash
        # The witness is kept as JSON text: a hash stored as anything else (binary data, a
        # number) is kept as its repr, which no real hash equals.
        head_id = event_id
        head_hash = stored_hash if isinstance(stored_hash, str) else repr(stored_hash)

    if unauthorised:
        shown = ", ".join(str(i) for i in unauthorised[:20])
        problems.append(
            f"{len(unauthorised)} grant(s) of admin or change(s) of the admin PIN not recorded "
            f"by an admin (the school's admins were acting by then): {shown}"
            f"{' ...' if len(unauthorised) > 20 else ''}"
        )
    if without_role:
        problems.append(
            f"{len(without_role)} event(s) recorded with a role the register's lists did not "
            "give then (the role was in the database's own table only, added directly while "
            f"it was used): {'; '.join(without_role[:20])}"
            f"{' ...' if len(without_role) > 20 else ''}"
        )
    if swapped:
        problems.append(
            f"{len(swapped)} code(s) or tag(s) recorded with an event that the register's "
            "lists did not give that person, device or store then: the staff, device or store "
            "list was changed in the database when it was recorded (codes or tags swapped for "
            "a while record one person, device or phone store as another): "
            f"{'; '.join(swapped[:20])}"
            f"{' ...' if len(swapped) > 20 else ''}"
        )
    if from_unsealed:
        problems.append(
            "events recorded by the kiosk for a person, device, store or policy as a list "
            "change it did not record had left them (a code or tag, a role, a policy's "
            "text, the policies owed before a sign-out, a leaver back on the list, that the "
            "lists as the kiosk recorded them did not give: the event may be about, or by, "
            "someone else, or an agreement to words the school never published): "
            f"{'; '.join(from_unsealed[:20])}"
            f"{' ...' if len(from_unsealed) > 20 else ''}"
        )
    if built_on_unsealed:
        problems.append(
            "events recorded by the kiosk on top of an event it did not record (the phone "
            "they moved, the sign-out they extended, was never recorded by the kiosk; the "
            "device they signed out was in school only through such an event; the rules they "
            "followed were set by no one with the key; the sign-outs they counted were fewer "
            "through such a correction): "
            f"{'; '.join(built_on_unsealed[:20])}"
            f"{' ...' if len(built_on_unsealed) > 20 else ''}"
        )
    if carried_unsealed:
        problems.append(
            "list changes recorded again what an event the kiosk did not record had "
            "changed (built on the list as that event left it, then recorded under the "
            f"school key): {'; '.join(carried_unsealed[:20])}"
            f"{' ...' if len(carried_unsealed) > 20 else ''}"
        )
    if late_baselines:
        problems.append(
            f"{len(late_baselines)} list row(s) recorded as the lists' starting point (a "
            "baseline) after the register already held its lists: the kiosk records that only "
            "once, at its first write; the lists were changed directly in the database and "
            f"then taken in as they stood: {'; '.join(late_baselines[:20])}"
            f"{' ...' if len(late_baselines) > 20 else ''}"
        )
    if backdated:
        problems.append(
            f"{len(backdated)} event(s) dated more than {int(CLOCK_SKEW.total_seconds() // 60)} "
            "minutes before an event recorded ahead of them in the chain (backdated, or a "
            "kiosk's clock was wrong: the one that recorded it, or, if its clock ran fast, the "
            f"one named after it): {', '.join(backdated[:20])}"
            f"{' ...' if len(backdated) > 20 else ''}"
        )
    if removed_power:
        shown = ", ".join(str(i) for i in removed_power[:20])
        problems.append(
            f"{len(removed_power)} removal(s) of an admin (the role, or retiring them), "
            "change(s) of an admin's code, of a setting or of whether a policy is required, "
            f"not recorded by an admin: {shown}{' ...' if len(removed_power) > 20 else ''}"
        )
    if wrong_text:
        problems.append(
            f"{len(wrong_text)} acknowledgement(s) of a text other than the policy's own (its "
            f"fingerprint differs: replayed from another version?): {', '.join(wrong_text[:20])}"
            f"{' ...' if len(wrong_text) > 20 else ''}"
        )
    if rewritten_policies:
        problems.append(
            f"{len(rewritten_policies)} published polic(ies) rewritten afterwards (what people "
            f"acknowledged is no longer what they read): {', '.join(rewritten_policies[:20])}"
        )
    if unentitled:
        problems.append(
            f"{len(unentitled)} correction(s) not recorded by an admin or by whoever recorded "
            f"the event they void (the kiosk allows only those): {', '.join(unentitled[:20])}"
            f"{' ...' if len(unentitled) > 20 else ''}"
        )
    if refers_purged:
        problems.append(
            f"{len(refers_purged)} kept event(s) refer to an event a purge removed, which the "
            "kiosk's purge never does (it keeps every event a kept event refers to): the purge "
            "was not the kiosk's, and the state those events defined (a device off site) may "
            f"have gone with them: {'; '.join(refers_purged[:20])}"
            f"{' ...' if len(refers_purged) > 20 else ''}"
        )
    if leaps:
        left = MAX_EVENT_ID - head_id if type(head_id) is int else None
        problems.append(
            f"{len(leaps)} event(s) given an id more than {ID_LEAP:,} past the event before "
            "them (the kiosk gives each event the id after the newest: written by hand, or by "
            f"a database login holding the school key): {', '.join(leaps[:20])}"
            f"{' ...' if len(leaps) > 20 else ''}"
            + (
                (
                    "; no id is left after the newest event, so no kiosk can record anything"
                    if left <= 0
                    else f"; only {left:,} id(s) are left after the newest event: once they are "
                    "used, no kiosk can record anything"
                )
                + ": keep this result and tell whoever looks after the database"
                if left is not None and left < ID_LEAP
                else ""
            )
        )
    if future:
        shown = ", ".join(str(i) for i in future[:20])
        problems.append(
            f"{len(future)} event(s) dated in the future (after {latest_time[:16]}, this "
            f"machine's clock): {shown}{' ...' if len(future) > 20 else ''}"
        )
    if bad_category:
        problems.extend(bad_category)
    if bad_mac:
        shown = ", ".join(str(i) for i in bad_mac[:20])
        problems.append(
            f"{len(bad_mac)} event(s) without a valid MAC (written without the school's key: "
            f"forged or rewritten): {shown}{' ...' if len(bad_mac) > 20 else ''}"
        )

    anchor = "genesis"
    offset: int | None = 0
    if first_id is not None and first_prev != GENESIS_HASH:
        vouching = [
            c
            for c in checkpoints
            if c.last_removed_hash == first_prev and c.last_removed_id < first_id
        ]
        if vouching:
            cp = vouching[-1]
            anchor = f"checkpoint {cp.event_id}"
            position = cp.details.get("last_removed_position")
            offset = int(position) if isinstance(position, int) else None
        else:
            anchor = "missing"
            offset = None
            broken.insert(0, first_id)
    for cp in checkpoints:
        problems.extend(_checkpoint_problems(cp, now))
    # A purge removes every event up to the one it names, so the register then starts after
    # it. A checkpoint naming an event at or after the register's first one removed nothing
    # that is missing: it accounts for no missing event (a shell with the key wrote one to
    # excuse events cut off the end, the newest at the last check among them).
    purged = [c for c in checkpoints if _earlier(c.last_removed_id, first_id)]
    problems.extend(
        f"purge checkpoint {c.event_id} says it removed events up to {c.last_removed_id}, but "
        f"the register still starts at event {first_id}: it accounts for no missing event"
        for c in checkpoints
        if not _earlier(c.last_removed_id, first_id)
    )

    head_position = offset + checked if offset is not None and head_id is not None else None
    for wanted in anchors:
        problems.extend(_anchor_problems(wanted, anchor_seen, offset, purged, restores))
    for restored_by_event, first_dropped, last_dropped, who, why in restores:
        dropped, copy = restore_kept.get(restored_by_event, (None, None))
        count = f"{dropped} newer event(s)" if dropped is not None else "newer events"
        kept = (
            f"the copy the restore kept beside the register, {copy}"
            if copy
            else "the copy the restore kept beside the register, named after it with "
            "'.before-restore-' and the time of the restore"
        )
        # A shell can delete that copy, or put another in its place: the events are then
        # gone for good, and "holds them" was said of a copy that did not.
        name, after = restore_copies.get(restored_by_event, ("", None))
        lost = (
            restore_copy(name, first_dropped, last_dropped, dropped, after)
            if restore_copy is not None and name
            else None
        )
        # Said to hold them only when looked at: a check of a backup looks at no copy.
        holds = (
            "not looked at"
            if restore_copy is None or not name
            else "holds them"
            if lost is None
            else f"was to hold them, but {lost}"
        )
        notes.append(
            f"event {restored_by_event} records a restore by {who} that dropped {count} "
            f"(ids {first_dropped} to {last_dropped}), reason: {why or '(none given)'}: those "
            f"events are not in the register and no check here can say what they were ({kept}, "
            f"{holds})"
        )
    if anchors and offset is None and first_id is not None:
        problems.append(
            "the anchors cannot be checked: positions in the register are not known (the "
            "first event does not follow a checkpoint that records them)"
        )

    if lists_unread is not None:
        problems.append(
            f"event {lists_unread} is a list change whose details, stored as binary data, "
            "cannot be read: the lists are not replayed past it, so verify cannot rule out "
            "an event after it recorded by someone without the role it needs, under a "
            "code or tag the lists did not give, or a list row changed by hand"
        )
    elif tables is not None:
        problems.extend(_reference_problems(replay, replay_event, tables))

    tail_problem = None
    witness_id = head_id
    witness_hash = head_hash if head_id is not None else None
    if previous is not None and previous.witness_id is not None:
        purged_past = any(c.last_removed_id >= previous.witness_id for c in purged)
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
    for other_id, other in other_witnesses.items():
        found = None
        if other_id in other_seen:
            if other_seen[other.witness_id] != other.witness_hash:
                found = (
                    f"event {other.witness_id}, the newest at an earlier check, has been "
                    "changed (a later check in the chain names another head)"
                )
        elif not any(c.last_removed_id >= other_id for c in purged):
            found = (
                f"event {other.witness_id}, the newest at an earlier check, is missing: events "
                "were removed (a later check in the chain names another head)"
            )
        if found is None:
            continue
        if tail_problem is None:  # the witness stays put while the problem persists
            tail_problem = found
            witness_id, witness_hash = other.witness_id, other.witness_hash
        else:
            problems.append(found)

    cannot: list[str] = []
    if not anchors:
        cannot.append(
            "Without an anchor (kiosk verify --anchor FILE), this check cannot rule out that "
            "the register was put back to an older copy, or events were cut off the end, "
            "with this machine's witness file rewritten to agree (whoever can change the "
            "register's file here can change that one too), or that the whole register was "
            "rewritten with recomputed hashes."
        )
    else:
        # An anchor proves the register up to its event; what came after it rests on this
        # machine's witness file, which a shell here can rewrite to agree.
        newest_anchor = max(a.event_id for a in anchors)
        cannot.append(
            f"The anchor(s) given cover the register up to event {newest_anchor}. After "
            f"event {newest_anchor}, this check cannot rule out that the register was put "
            "back to an older copy, or events were cut off the end, with this machine's "
            "witness file rewritten to agree, or that those events were rewritten with "
            "recomputed hashes. Check again with a newer anchor to cover them."
        )
    if key is not None:
        # The kiosk MACs every event with the key, so its own user can read it: a MAC tells
        # the key's holder from someone without it, not the kiosk app from a shell there.
        # (Where this check read it is not known here: the data folder, a file named by
        # KIOSK_SCHOOL_KEY_FILE, removable media, an office machine's copy.)
        cannot.append(
            "MACs were checked with the school key: whoever can read the key can add or "
            "rewrite events with valid MACs (each kiosk reads it to record, so the kiosk's "
            "own user and an administrator of a kiosk machine can). A valid MAC shows an "
            "event was made with the key, not that the kiosk app recorded it; only an anchor "
            "shows that what it covers was not rewritten since."
        )
    if key is None:
        cannot.append(
            "The school's key is not on this machine: MACs were not checked, so an event "
            "appended with a correct hash cannot be told from a real one."
        )
    if offset is None and first_id is not None:
        notes.append("positions are not known (the purge checkpoint does not record them)")

    ok = not broken and not mismatched and tail_problem is None and not problems
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
        problems=tuple(problems),
        macs_checked=key is not None,
        anchors_checked=len(anchors),
        head_position=head_position,
        cannot_rule_out=tuple(cannot),
        last_anchor_at=datetime.fromisoformat(last_anchor_taken) if last_anchor_taken else None,
    )


def _checkpoint_problems(cp: _Checkpoint, now: datetime) -> list[str]:
    """What is wrong with one purge checkpoint: who recorded it, what it says, its dates."""
    problems = []
    name = f"purge checkpoint {cp.event_id}"
    if cp.by is None or not cp.by_was_admin:
        problems.append(
            f"{name} was not recorded by an admin: it does not account for what was removed"
        )
    details = cp.details
    missing = [f for f in CHECKPOINT_FIELDS if details.get(f) is None]
    if missing or not isinstance(details.get("last_removed_position"), int):
        problems.append(
            f"{name} is not a valid checkpoint: it does not say "
            f"{', '.join(missing) or 'the position'}"
            " (a purge records the date, and the last removed event's id, hash, time and "
            "position)"
        )
    try:
        at = datetime.fromisoformat(cp.occurred_at) if cp.occurred_at else None
        before_text = details.get("before")
        before = date.fromisoformat(before_text) if isinstance(before_text, str) else None
        last_text = details.get("last_removed_at")
        last_at = datetime.fromisoformat(last_text) if isinstance(last_text, str) else None
    except ValueError:
        return [*problems, f"{name} has dates that cannot be read"]
    if at is None:
        return problems
    if at > now + CLOCK_SKEW:
        problems.append(f"{name} is dated {cp.occurred_at[:16]}, in the future")
    try:
        year_before = at - timedelta(days=MIN_RETENTION_DAYS)
    except OverflowError:  # dated in the year 1 (SQLite keeps such a time as text)
        return [*problems, f"{name} is dated {cp.occurred_at[:16]}: no year before it to purge"]
    # The purge's date is a local date: a day of slack for the school's zone.
    if before is not None and before > year_before.date() + timedelta(days=1):
        problems.append(f"{name} removed events less than a year old (before {before_text})")
    if last_at is not None:
        if last_at.tzinfo is None:
            last_at = last_at.replace(tzinfo=at.tzinfo)
        if last_at > year_before:
            problems.append(
                f"{name} removed event {cp.last_removed_id}, recorded {last_text}: less than a "
                "year before the purge"
            )
        if before is not None and last_at.date() > before:
            problems.append(
                f"{name} removed event {cp.last_removed_id}, recorded {last_text}, after its "
                f"own date (before {before_text})"
            )
    return problems


def _earlier(target: Any, event_id: Any) -> bool:
    try:
        return bool(target < event_id)
    except TypeError:
        return False


def _correction_problem(
    row: Mapping[str, Any], voidable: Mapping[Any, tuple[Any, Any]], first_id: Any
) -> str | None:
    """What is wrong with a correction's target, if anything: none, one recorded after it
    (the kiosk would confirm an event void from the start), one not in the register (unless
    purged before the first event kept), or another correction."""
    event_id, target = row["id"], row["target_event_id"]
    name = f"correction {event_id} voids event {target}"
    if not isinstance(target, int):
        return f"correction {event_id} voids no event"
    if not _earlier(target, event_id):
        return (
            f"{name}, an id after its own: written by hand (an event given that id would be "
            "void from the moment it was stored)"
        )
    if target not in voidable:
        if _earlier(target, first_id):
            return None  # purged: named with every kept event referring to a purged one
        return f"{name}, which is not in the register"
    if voidable[target][0] == EventKind.CORRECTION.value:
        return f"{name}, itself a correction (the kiosk never voids one)"
    return None


def _when(text: str) -> datetime | None:
    """An aware time from stored or typed text (none given: UTC); None when it is none."""
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _anchor_problems(
    wanted: Anchor,
    seen: Mapping[int, tuple[str, int, str]],
    offset: int | None,
    checkpoints: Sequence[_Checkpoint],
    restores: Sequence[tuple[Any, int, int, str, str | None]] = (),
) -> list[str]:
    name = f"anchor {wanted.source or ''} (event {wanted.event_id}, {wanted.occurred_at})".replace(
        "anchor  (", "anchor ("
    )
    found = seen.get(wanted.event_id)
    if wanted.position is None:
        return [
            f"{name}: the anchor does not say the event's position, so it cannot show that "
            "no events before it were removed or inserted: take a new anchor"
        ]
    if found is None:
        covering = [
            c
            for c in checkpoints
            if c.last_removed_id >= wanted.event_id
            or (
                isinstance(c.details.get("last_removed_position"), int)
                and c.details["last_removed_position"] >= wanted.position
            )
        ]
        dropped_by = [r for r in restores if r[1] <= wanted.event_id <= r[2]]
        if not covering and dropped_by:
            # Still a problem (the anchor's event is gone, and a shell with the key can write
            # such a record too), but said as what the register records.
            restore = dropped_by[-1]
            return [
                f"{name}: the event is no longer in the register: the restore recorded in "
                f"event {restore[0]} dropped events {restore[1]} to {restore[2]}, this one "
                f"among them (by {restore[3]}; its reason is in the notes)"
            ]
        if not covering:
            return [
                f"{name}: the event is no longer in the register: events were removed "
                "(cut off the end or deleted)"
            ]
        cp = covering[0]
        problems = []
        before_text = cp.details.get("before")
        # "Recorded at" is the anchor holder's text: typed back without its offset, it is
        # UTC, as the kiosk writes it (a naive time compared with the checkpoint's was a
        # TypeError).
        recorded = _when(wanted.occurred_at)
        try:
            before = date.fromisoformat(before_text) if isinstance(before_text, str) else None
        except ValueError:
            before = None
        if recorded is None or before is None:
            problems.append(
                f"{name}: purged by checkpoint {cp.event_id}, but when it was recorded cannot "
                "be compared with the purge's date: the purge cannot be shown to be lawful"
            )
        elif recorded.date() >= before:
            problems.append(
                f"{name}: an anchored event less than a year old was purged (checkpoint "
                f"{cp.event_id} removed events before {before_text})"
            )
        else:
            purged_at = _when(cp.occurred_at)
            try:
                year_before = purged_at - timedelta(days=MIN_RETENTION_DAYS) if purged_at else None
            except OverflowError:  # a checkpoint dated in the year 1 (named on its own)
                year_before = None
            if year_before is not None and recorded > year_before:
                problems.append(
                    f"{name}: purged by checkpoint {cp.event_id} less than a year after "
                    "it was recorded"
                )
        position = cp.details.get("last_removed_position")
        if isinstance(position, int) and wanted.position > position:
            problems.append(
                f"{name}: checkpoint {cp.event_id} accounts for {position} events, "
                f"not position {wanted.position}"
            )
        return problems
    stored_hash, index, _at = found
    problems = []
    if stored_hash != wanted.hash:
        problems.append(
            f"{name}: event {wanted.event_id} is not the anchored event any more (its hash "
            f"is now {str(stored_hash)[:16]}..., the anchor says {wanted.hash[:16]}...): it or "
            "an event before it was changed, removed or replaced, and the hashes recomputed"
        )
    if offset is not None and wanted.position is not None and offset + index != wanted.position:
        problems.append(
            f"{name}: the event is now at position {offset + index}, the anchor says "
            f"{wanted.position}: events before it were removed or inserted"
        )
    return problems


def _show(value: Any) -> str:
    # A stored value may be anything SQLite keeps (binary data too): shown, never a TypeError.
    shown = json.dumps(value, ensure_ascii=True, default=repr)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _late_baseline(
    event_id: Any, details: Mapping[str, Any], replay: Mapping[str, Mapping[Any, Any]]
) -> str:
    """One late baseline event, named with what it changed of the row as recorded before."""
    table, key, row = details.get("table"), details.get("key"), details.get("row")
    try:
        before = replay.get(str(table), {}).get(normalise_key(str(table), key))
    except (TypeError, ValueError, OverflowError):
        before = None
    said = f"event {event_id} ({str(table)[:20]} {_show(key)})"
    if not isinstance(row, dict):
        return said
    if not isinstance(before, dict):
        return f"{said}: a row never recorded before"
    changed = [
        f"{column} {_show(before.get(column))} -> {_show(row.get(column))}"
        for column in sorted(set(row) | set(before), key=str)
        if row.get(column) != before.get(column)
    ]
    return f"{said}: {', '.join(changed[:5])}" if changed else said


def _reference_problems(
    replay: Mapping[str, Mapping[Any, Mapping[str, Any] | None]],
    replay_event: Mapping[tuple[str, Any], int],
    tables: Mapping[str, Mapping[Any, Mapping[str, Any]]],
) -> list[str]:
    problems: list[str] = []
    for table in REFERENCE_FIELDS:
        recorded = {k: v for k, v in replay.get(table, {}).items() if v is not None}
        stored = tables.get(table, {})
        for key in sorted(set(recorded) | set(stored), key=str):
            rec, got = recorded.get(key), stored.get(key)
            if rec is None:
                problems.append(
                    f"{table} {key}: in the table but never recorded in the register "
                    "(added directly)"
                )
                continue
            if got is None:
                problems.append(
                    f"{table} {key}: recorded (event {replay_event.get((table, key))}) but "
                    "missing from the table (deleted directly)"
                )
                continue
            for column in differing_fields(table, rec, got):
                problems.append(
                    f"{table} {key} column {column}: stored {_show(got.get(column))}, "
                    f"recorded {_show(rec.get(column))} "
                    f"(event {replay_event.get((table, key))})"
                )
    return problems


def one_snapshot(session: Session) -> None:
    """Make the read transaction behind ``session`` one snapshot (call it first). SQLite's
    read transaction is one already; PostgreSQL's default (READ COMMITTED) gives each
    statement its own, so a list change or a correction committed between verify's reads of
    the lists and of the events was named as tampering in an honest register."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))


def verify_session(
    session: Session,
    *,
    now: datetime,
    previous: VerifyReport | None = None,
    witnesses: Sequence[VerifyReport] = (),
    key: bytes | None = None,
    anchors: Sequence[Anchor] = (),
    guards: bool = True,
    restore_copy: RestoreCopyCheck | None = None,
) -> VerifyReport:
    """Walk every event of the database behind ``session`` (one consistent snapshot), compare
    the reference tables and check the database's own guards (``restore_copy``: see
    :func:`walk`)."""
    started = time.perf_counter()
    conn = session.connection()
    tables = all_table_rows(conn)
    targets = set(conn.execute(_CORRECTED).scalars())
    select_events = _SELECT_EVENTS_PG if conn.dialect.name == "postgresql" else _SELECT_EVENTS
    stream = conn.execution_options(yield_per=STREAM_BATCH).execute(select_events)
    report = walk(
        stream,
        now=now,
        previous=previous,
        key=key,
        anchors=anchors,
        tables=tables,
        targets=targets,
        witnesses=witnesses,
        restore_copy=restore_copy,
        restores_recorded=conn.dialect.name != "postgresql",
    )
    guard_problems = tuple(missing_guards(conn)) if guards else ()
    if guard_problems:
        report = replace(report, ok=False, problems=(*report.problems, *guard_problems))
    return replace(report, seconds=round(time.perf_counter() - started, 3))


@dataclass(frozen=True)
class ChainFaults:
    """What a purge's check found: the events whose link before them is broken (an event
    before each erased or inserted: the event named is there), those changed since they were
    recorded, and those without a valid MAC. False when there is none."""

    broken_links: tuple[int, ...] = ()
    changed: tuple[int, ...] = ()
    without_mac: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.broken_links or self.changed or self.without_mac)

    def said(self) -> str:
        """Each kind in words, the events named (ten at most of each)."""

        def ids(found: tuple[int, ...]) -> str:
            return ", ".join(str(i) for i in found[:10]) + (" ..." if len(found) > 10 else "")

        parts = []
        if len(self.broken_links) == 1:
            parts.append(
                f"the link before event {self.broken_links[0]} is broken (an event before it "
                "erased or inserted)"
            )
        elif self.broken_links:
            parts.append(
                f"the links before events {ids(self.broken_links)} are broken (an event "
                "before each erased or inserted)"
            )
        if self.changed:
            parts.append(f"event(s) {ids(self.changed)} changed since they were recorded")
        if self.without_mac:
            parts.append(
                f"event(s) {ids(self.without_mac)} without a valid MAC (written without the "
                "school key)"
            )
        return "; ".join(parts)


def chain_faults_upto(
    session: Session, upto: int, *, now: datetime, key: bytes | None
) -> ChainFaults:
    """The events, up to ``upto`` and the first one after it (its link), whose chain does not
    hold as verify walks it: a broken link (an event erased, inserted or reordered), a
    changed event or one without a valid MAC (with ``key``), one that cannot be read. A purge
    must not remove these: its checkpoint would sign what is left and hide them for good.
    The checkpoint that vouches for where the register starts (an earlier purge's) is judged
    too, but for its link: changed or without a valid MAC, it vouches for nothing."""
    conn = session.connection()
    last = int(session.scalar(select(func.min(Event.id)).where(Event.id > upto)) or upto)
    # The admin actions after the range too: an earlier purge's checkpoint, recorded after
    # the events this one removes, vouches for where the register starts (what they say of
    # themselves, and their links, are not this purge's to judge: only ids up to ``last``).
    # (Options of this statement only: the session's connection goes on to record.)
    stream = conn.execute(
        select_events(conn.dialect.name == "postgresql", "id <= :last OR kind = :admin"),
        {"last": last, "admin": EventKind.ADMIN_ACTION.value},
        execution_options={"yield_per": STREAM_BATCH},
    )
    macs: list[int] = []
    try:
        report = walk(stream, now=now, key=key, mac_faults=macs)
    finally:
        stream.close()
    vouching = (
        int(report.anchor.removeprefix("checkpoint "))
        if report.anchor.startswith("checkpoint ")
        else None
    )

    def judged(found: Iterable[Any], *, vouched: bool = True) -> tuple[int, ...]:
        return tuple(
            sorted(
                {i for i in found if type(i) is int and (i <= last or (vouched and i == vouching))}
            )
        )

    return ChainFaults(
        judged(report.broken_links, vouched=False), judged(report.mismatched), judged(macs)
    )


# --- the witness: a local file, and the newest register_verified event ---------------------


def witness_path() -> Path:
    return data_dir() / WITNESS_FILE


class WitnessGarbled(ValueError):
    """This machine's witness file holds what the kiosk never writes there (nothing, what is
    not JSON, a folder in its place): emptied or overwritten, judged as a deleted one is."""


def _witness_file() -> dict[str, Any]:
    """This machine's witness file, read (FileNotFoundError: none yet; WitnessGarbled, saying
    why, for one that holds what the kiosk never writes; ValueError, saying why, for one this
    user may not read)."""
    path = witness_path()
    try:
        found = path.lstat()
    except FileNotFoundError:
        raise
    except OSError as exc:  # the data folder itself cannot be searched by this user
        raise ValueError(exc.strerror or type(exc).__name__) from None
    if stat.S_ISLNK(found.st_mode):
        # The kiosk writes a file there, never a link: a link to itself, to a file this user
        # may not read (/etc/shadow) or to nothing made the read fail, and a failed read was
        # a note, so a register put back passed.
        raise WitnessGarbled("a symbolic link is in its place")
    try:
        raw = read_small_file(path, WITNESS_LIMIT)
    except FileRefused as exc:
        raise WitnessGarbled(str(exc)) from None
    except FileNotFoundError:
        raise
    except OSError as exc:
        said = exc.strerror or type(exc).__name__
        if stat.S_ISREG(found.st_mode) and found.st_uid != os.geteuid():
            # Root ran verify with the kiosk's environment (sudo -E): the file is root's,
            # 0600. This user cannot make a file another user owns.
            raise ValueError(
                f"{said}: this user may not read it (a check run as another user, with "
                "sudo, left it so?); run checks as the kiosk user"
            ) from None
        # This user's own file, or a folder in its place, that it cannot read (chmod 000):
        # what a shell that puts back an older register can leave instead of deleting it.
        raise WitnessGarbled(f"this user's own file cannot be read ({said})") from None
    # The kiosk writes it whole and synced (written_whole): a power cut leaves the old file
    # or the new one, never an empty one. Nothing in it is what a shell that puts back an
    # older register leaves instead of deleting it.
    if not raw.strip():
        raise WitnessGarbled("it is empty") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:  # not a ValueError: it stopped verify
        raise WitnessGarbled("it is nested too deep to read") from None
    except ValueError:
        raise WitnessGarbled("it is not JSON") from None
    if not isinstance(data, dict):
        raise WitnessGarbled("it is not a JSON object")
    return data


def read_witness(
    database: str, *, formerly: str | None = None
) -> tuple[VerifyReport | None, str | None, str | None]:
    """The last result this machine saw for this database (None: none, or unreadable); a
    sentence naming the witness file when this user may not read it (then its witness is not
    checked: the chain's last check still is, and the file is written anew); and why, when
    the file (or its entry for this database) holds what the kiosk never writes there
    (emptied or overwritten: judged as a deleted file is, by :func:`witness_behind`).
    ``formerly``: the name an older version kept it under (read when there is none under
    ``database``)."""
    try:
        data = _witness_file()
    except FileNotFoundError:
        return None, None, None
    except WitnessGarbled as exc:
        return None, None, str(exc)
    except ValueError as exc:
        return (
            None,
            (
                f"this machine's witness file {witness_path()} cannot be read ({exc}): the end of "
                "the register was not checked against it"
            ),
            None,
        )
    name = database if database in data else formerly
    if name is None or name not in data:
        return None, None, None
    try:
        return VerifyReport.from_data(data[name]), None, None
    except ValueError as exc:
        return None, None, f"its entry for this register is no check ({exc})"


# What the register may have been, in the problem that says so (looked for by the next check).
PUT_BACK = "may have been put back to an older copy"


def witness_behind(
    witness: VerifyReport | None,
    last_id: int | None,
    last: VerifyReport | None,
    database: str,
    garbled: str | None = None,
) -> tuple[bool, str] | None:
    """When this machine's witness file is behind the register's own newest stored check
    (it has no entry for the register ``database``, or an older one): True and a sentence
    when that says the register was put back (a problem), False and a sentence when it may
    as well be honest (a note); None when the file is not behind.

    A shell that puts back an older copy of a SQLite register and deletes the witness file
    (or puts back an older copy of it) leaves a chain that is whole and a witness that
    agrees: this is what is left to tell. Each check says where it was kept
    (``kept_in``: the witness file's random id, and the register's name there; ``kept_at``:
    the file's path). It is a problem when this very file kept it and has lost it, or when
    the file is gone, holds no id, or holds another id at the same place, and the register
    is this user's. A check of a copy (kept under the original's
    name), or one kept in another witness file (another user's, ``sudo kiosk verify``;
    another machine's), is only noted: said as a problem, each was an alarm that the next
    check took back, which teaches an office to read past "TAMPERED".

    ``garbled``: why the file, or its entry for ``database``, holds what the kiosk never
    writes there (``read_witness``): emptied or overwritten, it is judged as a deleted file
    is, and said so; when the register holds no check kept in it, that is a note."""
    if garbled is not None and (last is None or last_id is None or not last.kept_in):
        return False, (
            f"this machine's witness file {witness_path()} held what the kiosk never writes "
            f"there ({garbled}): it is written anew"
        )
    if last is None or last_id is None or not last.kept_in:
        return None
    if witness is not None and (witness.checked_at, witness.witness_id or 0) >= (
        last.checked_at,
        last.witness_id or 0,
    ):
        return None
    file_id, _, name = last.kept_in.partition(" ")
    at = f"{last.checked_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC (event {last_id})"
    if name != database:
        return False, (
            f"the register's last check, made at {at}, was of {shown_database(name)}: this is "
            "a copy of that register, or it was moved here; its end was compared with nothing "
            "this machine kept of it"
        )
    here = witness_file_id()
    lost = (
        f"holds no check of it ({garbled})"
        if garbled is not None
        else "has no record of it"
        if witness is None
        else f"holds an older check (of {witness.checked_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
    )
    put_back = (
        f"the register {PUT_BACK}, losing every event since. "
        "Only an anchor kept away from the kiosk can show it was not (kiosk verify --anchor "
        "FILE)"
    )
    if here == file_id:
        return True, (
            f"this machine's witness file {witness_path()} kept the register's check made at "
            f"{at} and now {lost}: "
            + (
                "it was emptied or overwritten"
                if garbled is not None
                else "an older copy of the witness file was put back"
            )
            + f", and {put_back}"
        )
    if (here is None or last.kept_at == str(witness_path())) and _owned_here(name):
        gone = (
            f"was emptied or overwritten ({garbled})"
            if garbled is not None and here is None
            else "is gone or was replaced"
        )
        return True, (
            f"this machine's witness file {witness_path()} {gone}, yet the "
            f"register holds a check made at {at} that was kept in it: {put_back}; if this "
            "register was moved here from another machine without its data folder"
            + (
                ", or a power cut emptied the file before this kiosk's December 2026 release "
                "(which syncs it to the disk)"
                if garbled == "it is empty"
                else ""
            )
            + ", say so to whoever checks the register"
        )
    return False, (
        f"the register's last check, made at {at}, was kept in another witness file than "
        f"this machine's {witness_path()}, which {lost}: a check by another user or on another "
        f"machine. If there was none, {put_back}"
    )


def with_earlier_alarm(report: VerifyReport, last: VerifyReport | None) -> VerifyReport:
    """``report`` with a note when the register's last stored check said it may have been put
    back and this one finds nothing: that check wrote the witness file anew, so this one
    compares the register with that and cannot tell again; the alarm is not dropped
    silently."""
    if last is None or last.ok or not report.ok:
        return report
    said = next((p for p in last.problems if PUT_BACK in p), None)
    if said is None:
        return report
    at = f"{last.checked_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    note = (
        f"the check before this one, made at {at}, said: {said.rstrip('.')}. This check "
        "compares the register with the witness file that check wrote anew, so it cannot "
        "tell that again: until someone accounts for it, keep that result"
    )
    return replace(report, notes=(*report.notes, note))


def with_witness_behind(report: VerifyReport, behind: tuple[bool, str] | None) -> VerifyReport:
    """``report`` with what :func:`witness_behind` said: a problem, or a note."""
    if behind is None:
        return report
    problem, sentence = behind
    if problem:
        return replace(report, ok=False, problems=(*report.problems, sentence))
    return replace(report, notes=(*report.notes, sentence))


def _owned_here(name: str) -> bool:
    """The SQLite file ``name`` belongs to this user (the kiosk's own register, not one that
    another user, checking it, merely reads)."""
    path = name.removeprefix("sqlite:///")
    geteuid = getattr(os, "geteuid", None)
    try:
        return geteuid is None or os.stat(path).st_uid == geteuid()
    except OSError:
        return False


# The witness file's own entry: a random id, kept by each check stored in the register.
_FILE_ID = "$witness-file"


def _witness_id(data: Mapping[str, Any]) -> str | None:
    entry = data.get(_FILE_ID)
    value = entry.get("id") if isinstance(entry, dict) else None
    return value if isinstance(value, str) and value else None


def witness_file_id() -> str | None:
    """This machine's witness file's id (None: no file, one that cannot be read, or one
    written before files had ids)."""
    try:
        return _witness_id(_witness_file())
    except (OSError, ValueError):
        return None


def _checked_elsewhere(database: str, formerly: str, witness: VerifyReport | None) -> str | None:
    """A sentence when this machine's witness file shows another register checked here more
    recently than this one (or this one never): the office's check may not be of the
    register the kiosks write (a ``database_url`` pointed at a copy)."""
    try:
        data = _witness_file()
    except (OSError, ValueError):
        return None
    newest: tuple[datetime, str, VerifyReport] | None = None
    for name, entry in data.items():
        if name in (database, formerly, _FILE_ID) or not isinstance(name, str):
            continue
        try:
            other = VerifyReport.from_data(entry)
        except (ValueError, TypeError, OverflowError):
            continue
        if newest is None or other.checked_at > newest[0]:
            newest = (other.checked_at, name, other)
    if newest is None or (witness is not None and witness.checked_at >= newest[0]):
        return None
    at, name, other = newest
    here = (
        "never before"
        if witness is None
        else f"last at {witness.checked_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    )
    return (
        f"this machine last checked another register, {shown_database(name)} (newest event "
        f"{other.witness_id if other.witness_id is not None else '-'}, at "
        f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC); this one was checked here {here}: if the "
        "kiosks record into that one, this check was not of their register (see where the "
        "database URL comes from, above)"
    )


def _settings_name_another(name: str, source: str | None) -> str:
    """When the database URL came from the environment: which database this machine's
    settings name without it (``config.toml``, or the default), if another. The kiosk's
    service reads its settings without the shell's environment: a ``KIOSK_DATABASE_URL``
    put in a shell profile made every check typed there read a copy, saying only "from
    environment", while the kiosk recorded into the one its settings name."""
    if not (source or "").startswith("environment"):
        return ""
    try:
        environ = {k: v for k, v in os.environ.items() if k != "KIOSK_DATABASE_URL"}
        settings = load_settings(environ)
        other = witness_name(settings.database_url)
    except (ConfigError, ValueError, OSError, SQLAlchemyError):  # said when the kiosk starts
        return ""
    if other == name:
        return ""
    where = settings.sources.get("database_url") or "default"
    where = "the default" if where == "default" else where
    return (
        f"; WITHOUT that variable this machine's settings ({where}) name another "
        f"database, {shown_database(other)}: the kiosk records into that one unless its "
        "service sets the variable too"
    )


def save_witness(
    database: str, report: VerifyReport, *, formerly: str | None = None
) -> tuple[VerifyReport, str | None]:
    """Keep ``report`` as this machine's witness of ``database`` (under that name only: one
    kept under ``formerly`` goes). Returns the report saying where it was kept
    (``kept_in``), and None; or the report as given, and a sentence saying why it could not
    be kept."""
    try:
        data = _witness_file()
    except (OSError, ValueError):
        data = {}
    if formerly is not None and formerly != database:
        data.pop(formerly, None)
    file_id = _witness_id(data) or secrets.token_hex(8)
    data[_FILE_ID] = {"id": file_id}
    kept = replace(report, kept_in=f"{file_id} {database}", kept_at=str(witness_path()))
    data[database] = json.loads(kept.to_json())
    problem = _write_witness_file(data)
    if problem is None:
        return kept, None
    return report, (
        f"this machine's witness file {witness_path()} could not be written ({problem}): the "
        "next check here compares the end of the register with an older result, or none"
    )


def _write_witness_file(data: dict[str, Any]) -> str | None:
    """This machine's witness file, written whole (0600; in place only once complete): None,
    or why it could not be (the chain's own last check still witnesses). Written to a new
    temporary file of its own beside it (``mkstemp``), never to a name given in advance: a
    folder planted at such a name froze the witness, a symlink had it written into whatever
    it named, and two checks at once shared it."""
    path = witness_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with written_whole(path, encoding="utf-8") as fh:
            json.dump(data, fh)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def witness_name(url: str) -> str:
    """How this machine's witness file names the database at ``url`` (no password). A SQLite
    file by its real path alone (``sqlite:////data/kiosk.sqlite3``): the same file spelt
    another way (``/data/./kiosk.sqlite3``, a relative path, another driver's name, a query
    string, a folder reached through a symlink) had no witness, and verify said "intact"
    over an end cut off."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database
    if (
        parsed.get_backend_name() == "sqlite"
        and database
        and not database.startswith((":memory:", "file:"))
    ):
        return f"sqlite:///{os.path.realpath(database)}"
    return url_without_secrets(parsed).render_as_string(hide_password=True)


def shown_database(name: str) -> str:
    """A database's name as the witness file keeps it, fit to print: any password in a URL's
    query masked (a name kept before it was masked there), and no terminal escape, bidi
    control or line break (a file's name is whatever a shell chose: the note naming another
    register checked here printed it raw, and kept it in the register's stored check)."""
    from sqlalchemy.engine import make_url

    if not name.startswith("sqlite:"):
        with suppress(Exception):
            name = url_without_secrets(make_url(name)).render_as_string(hide_password=True)
    return display_text(name)


def former_witness_name(url: str) -> str:
    """How the witness file named the database at ``url`` before :func:`witness_name` (the
    URL as written, no password): a witness kept then is still read."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def forget_witness(*names: str) -> None:
    """Drop this machine's witness of a database, under each of its ``names`` (a register
    built anew in its place: the demo school rebuilt), so that its first check does not report
    the old one's end missing."""
    try:
        data = _witness_file()
    except (OSError, ValueError):
        return
    if not [data.pop(name) for name in names if name in data]:
        return
    _write_witness_file(data)


@dataclass(frozen=True, slots=True)
class LastCheck:
    """The newest check stored in the register, as the admin console may show it."""

    report: VerifyReport | None = None  # None: never checked, or not to be shown (problem)
    event_id: int | None = None
    # Why the stored check is not shown: "cannot be read (...)" or "cannot be trusted (...)".
    problem: str | None = None
    # The newest anchor events looked through were none of them the kiosk's (a pile with
    # MACs not the school key's): any anchor the kiosk recorded is behind them, not "none".
    anchor_hidden: bool = False


def stored_events(
    session: Session,
    kinds: Collection[str],
    *,
    since: datetime | None = None,
    newest_first: bool = False,
    limit: int | None = None,
    from_table: bool = False,
    after_id: int | None = None,
    ids: Collection[int] | None = None,
    keyed_or_before: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Every column of the events of ``kinds``, as stored (as verify reads them: details as its
    JSON text, a time no driver can load as NULL), in id order (``newest_first``: the reverse),
    streamed: what :func:`seal_fault` checks. ``since``: recorded then or later.
    ``from_table``: on SQLite, read from the table itself, not through an index (one rebuilt
    without the newest of them, its CREATE text written back, would make an older one look
    newest: what verify walks is the table). ``after_id``: only events after that id (a
    range of the table's own key: cheap, from the table too). ``ids``: only those events.
    ``keyed_or_before``: only events with a MAC, or before that id (``first_mac_id``): one
    without a MAC after the first with one is never the kiosk's, and is passed over in SQL
    (a pile of them costs nothing, and hides nothing behind it)."""
    conn = session.connection()
    postgresql = conn.dialect.name == "postgresql"
    columns = (
        ", ".join(_PG_COLUMN.get(c, c) for c in EVENT_COLUMNS)
        if postgresql
        else ", ".join(EVENT_COLUMNS)
    )
    hint = " NOT INDEXED" if from_table and not postgresql else ""
    params: dict[str, Any] = {}
    binds: list[BindParameter[Any]] = []
    if ids is None:
        sql = f"SELECT {columns} FROM events{hint} WHERE kind IN :kinds"
        params["kinds"] = list(kinds)
        binds.append(bindparam("kinds", expanding=True))
    else:
        # By the table's own key only, the kinds sorted out below: asked for both, SQLite
        # searched the kinds' index, every event of those kinds in the register (17 ms a
        # page of the day's register at 100,000 events, ten times that at a million).
        sql = f"SELECT {columns} FROM events{hint} WHERE id IN :ids"
        params["ids"] = [int(i) for i in ids]
        binds.append(bindparam("ids", expanding=True))
    if after_id is not None:
        sql += " AND id > :after_id"
        params["after_id"] = int(after_id)
        binds.append(bindparam("after_id"))
    if keyed_or_before is not None:
        sql += " AND (mac IS NOT NULL OR id < :keyed_or_before)"
        params["keyed_or_before"] = int(keyed_or_before)
        binds.append(bindparam("keyed_or_before"))
    if since is not None:
        sql += " AND occurred_at >= :since"
        params["since"] = since
        binds.append(bindparam("since", type_=UTCDateTime()))
    sql += f" ORDER BY id {'DESC' if newest_first else 'ASC'}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    # (Options of this statement only: the session's connection may go on to record.)
    result = conn.execute(
        text(sql).bindparams(*binds), params, execution_options={"yield_per": STORED_BATCH}
    )
    wanted = set(kinds) if ids is not None else None
    try:
        for row in result:
            stored = dict(zip(EVENT_COLUMNS, row, strict=True))
            if wanted is None or stored["kind"] in wanted:
                yield stored
    finally:
        result.close()


def _last_check_row(session: Session, key: bytes | None = None) -> dict[str, Any] | None:
    """Every column of the newest ``register_verified`` event, as stored; with ``key`` (the
    school's), of the newest the kiosk recorded (its hash and MAC the key's; among the
    newest few hundred with a MAC). A check appended by the kiosks' login without the key,
    naming a head the register never had, was taken for the last check: verify said
    "events were removed from the end", and kept saying it, for good."""
    if key is None:
        rows = stored_events(
            session, (EventKind.REGISTER_VERIFIED.value,), newest_first=True, limit=1
        )
        return next(rows, None)
    for row in stored_events(
        session,
        (EventKind.REGISTER_VERIFIED.value,),
        newest_first=True,
        limit=LAST_ANCHOR_CANDIDATES,
        keyed_or_before=first_mac_id(session),
    ):
        if seal_fault(row, key) is None:
            return row
    return None


def stored_time(value: Any) -> datetime:
    """An ``occurred_at`` as :func:`stored_events` reads it (SQLite: its stored text), as an
    aware UTC datetime. Raises UnreadableEvent for what is no time (a sealed event's is one)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    moment = iso_utc(value)
    if moment is None:
        raise UnreadableEvent("it has no time")
    return datetime.fromisoformat(moment)


def _report_in(row: Mapping[str, Any]) -> VerifyReport:
    """The result a stored check holds; ValueError saying why it cannot be read."""
    details = row["details"]
    if isinstance(details, str | bytes):
        try:
            details = parse_details(details)
        except UnreadableEvent as exc:
            raise ValueError(str(exc)) from None
    if not isinstance(details, dict):
        raise ValueError("its details are not a JSON object")
    if "report" not in details:
        raise ValueError("it holds no report")
    return VerifyReport.from_data(details["report"])


def read_last(
    session: Session, key: bytes | None = None
) -> tuple[int | None, VerifyReport | None, str | None]:
    """The newest ``register_verified`` event's id (with ``key``: the newest the kiosk
    recorded, as :func:`_last_check_row`), its result, and why that result cannot be read
    (then it is no check: verify names the event, and carries on)."""
    row = _last_check_row(session, key)
    if row is None:
        return None, None, None
    try:
        return row["id"], _report_in(row), None
    except ValueError as exc:
        return row["id"], None, f"cannot be read ({exc})"


# Why a stored event is not the kiosk's, as :func:`seal_fault` says it.
UNREADABLE, CHANGED, NO_MAC = "unreadable", "changed", "no MAC"
_SEAL_SAID = {
    UNREADABLE: "it cannot be read as an event",
    CHANGED: "it was changed after it was recorded: its hash does not match",
    NO_MAC: "its MAC is not the school key's: it was written without the key",
}


def seal_fault(row: Mapping[str, Any], key: bytes) -> str | None:
    """What is wrong with a stored event's seal, as verify checks it (a row of
    :func:`stored_events`): UNREADABLE, CHANGED (its hash does not recompute), NO_MAC (its
    MAC is not ``key``'s: written by a login or a shell without the school's key), or None:
    the kiosk recorded it. One hash and one HMAC: cheap enough for every event read."""
    try:
        recomputed = hash_as_stored(tuple(row[c] for c in EVENT_COLUMNS))
    except (UnreadableEvent, TypeError, ValueError, AttributeError, OverflowError):
        return UNREADABLE
    if recomputed != row["hash"]:
        return CHANGED
    if not isinstance(row["hash"], str) or row["mac"] != event_mac(key, row["hash"]):
        return NO_MAC
    return None


def is_recorded_by_kiosk(row: Mapping[str, Any], key: bytes, old: Container[int]) -> bool:
    """:func:`recorded_by_kiosk` for a stored event (a row of :func:`stored_events`), its
    hash and MAC checked as :func:`seal_fault` does; ``old``: ``uow.old_events``, the events
    without a MAC the chain links into the first with one."""
    fault = seal_fault(row, key)
    return recorded_by_kiosk(
        row["id"],
        has_mac=row["mac"] is not None,
        hash_ok=fault in (None, NO_MAC),
        mac_ok=fault is None,
        first_mac_id=None,
        old=old,
    )


def _unsealed(row: Mapping[str, Any], key: bytes) -> str | None:
    """Why a stored event's hash or MAC is not right (None: both are), in words."""
    fault = seal_fault(row, key)
    return None if fault is None else _SEAL_SAID[fault]


LAST_ANCHOR_CANDIDATES = 500


class AnchorHidden(Exception):
    """The newest ``LAST_ANCHOR_CANDIDATES`` events looked through hold anchors not the
    kiosk's and none of its own: whether one was taken cannot be told (not "none taken")."""


def last_anchor_at(session: Session, key: bytes) -> datetime | None:
    """When an anchor last left the database: `kiosk anchor`, or the daily anchor e-mail
    (`kiosk notify`, a ``notice_sent`` of the ``anchor`` notice). Only an event the kiosk
    recorded counts, its hash and MAC checked with ``key`` (the school's): one appended by a
    login without the key (PostgreSQL's kiosk login, a shell on the SQLite file) made the
    console say "last anchor taken" when none was."""
    anchor_kind = EventKind.ANCHOR_TAKEN.value
    looked, forged = 0, False
    # The newest few hundred only: an anchor is taken daily, and a pile of forged ones (each
    # an HMAC to check) must not make every console sign-in slow. One without a MAC after
    # the first with one is never the kiosk's: passed over in SQL, as for the kinds of
    # device (a pile of them appended by the kiosks' login made the console say "no anchor
    # taken yet" of a register anchored that day).
    for row in stored_events(
        session,
        (anchor_kind, EventKind.NOTICE_SENT.value),
        newest_first=True,
        limit=LAST_ANCHOR_CANDIDATES,
        keyed_or_before=first_mac_id(session),
    ):
        looked += 1
        if row["kind"] != anchor_kind:
            try:
                details = details_of(row["details"])
            except UnreadableEvent:
                continue
            if details.get("notice") != "anchor":
                continue
        if seal_fault(row, key) is None:
            with suppress(UnreadableEvent):
                return stored_time(row["occurred_at"])
        forged = True
    if forged and looked >= LAST_ANCHOR_CANDIDATES:
        # Anchors with a MAC not the school key's (the kiosks' login writes that column too)
        # filled the few hundred: the console said "no anchor taken yet" of a register
        # anchored that day.
        raise AnchorHidden
    return None


def head_anchor(session: Session, school: str, *, taken_at: str = "") -> Anchor | None:
    """The newest event as an anchor, without recording anything (None: no events)."""
    row = session.execute(
        select(Event.id, Event.hash, Event.occurred_at).order_by(Event.id.desc()).limit(1)
    ).first()
    if row is None:
        return None
    count = session.scalar(select(func.count()).select_from(Event)) or 0
    offset = chain_offset(session)
    return Anchor(
        event_id=row[0],
        position=offset + count if offset is not None else None,
        hash=row[1],
        occurred_at=iso(row[2]) or "",
        school=school,
        taken_at=taken_at,
    )


def save_last(uow: UnitOfWork, report: VerifyReport) -> None:
    """Record the result as an event (the kiosk role needs no write on settings)."""
    uow.record(
        EventKind.REGISTER_VERIFIED,
        staff_id=None,
        details={"report": json.loads(report.to_json())},
    )


def _older_witness(a: VerifyReport | None, b: VerifyReport | None) -> VerifyReport | None:
    """Of two witnesses, the one naming the newer event (it proves more)."""
    if a is None or a.witness_id is None:
        return b
    if b is None or b.witness_id is None:
        return a
    return a if a.witness_id >= b.witness_id else b


def verify_with_witnesses(
    session: Session,
    *,
    now: datetime,
    key: bytes | None,
    witnesses: tuple[VerifyReport | None, VerifyReport | None],
    anchors: Sequence[Anchor] = (),
    restore_copy: RestoreCopyCheck | None = None,
) -> VerifyReport:
    """``verify_session`` with both witnesses of a register (this machine's file, the last
    check stored in the chain): the one naming the newer event is the previous check, and
    the other is checked too (a forged check in the chain naming a newer head must not leave
    this machine's witness unread, nor the reverse)."""
    previous = _older_witness(*witnesses)
    others = tuple(w for w in witnesses if w is not None and w is not previous)
    return verify_session(
        session,
        now=now,
        previous=previous,
        witnesses=others,
        key=key,
        anchors=anchors,
        restore_copy=restore_copy,
    )


def chain_offset(session: Session) -> int | None:
    """How many events came before the first one still in the table (None: unknown)."""
    first = session.execute(select(Event.prev_hash).order_by(Event.id).limit(1)).first()
    if first is None or first[0] == GENESIS_HASH:
        return 0
    for (details,) in session.execute(
        select(Event.details).where(Event.kind == EventKind.ADMIN_ACTION.value).order_by(Event.id)
    ):
        if is_checkpoint(EventKind.ADMIN_ACTION.value, details) and (
            details.get("last_removed_hash") == first[0]
        ):
            position = details.get("last_removed_position")
            return int(position) if isinstance(position, int) else None
    return None


class IntegrityService(UseCases):
    def database_name(self) -> str:
        """This register's name in this machine's witness file."""
        return witness_name(self.ctx.engine.url.render_as_string(hide_password=False))

    def _former_database(self) -> str:
        return former_witness_name(self.ctx.engine.url.render_as_string(hide_password=False))

    def read_witness(self) -> tuple[VerifyReport | None, str | None, str | None]:
        """This machine's witness of this register, a note when this user may not read it,
        and why it was emptied or overwritten (``read_witness``)."""
        return read_witness(self.database_name(), formerly=self._former_database())

    def forget_witness(self) -> None:
        """This machine's witness of this database goes (its newer events were dropped by a
        recorded restore: the end it names is gone as asked)."""
        forget_witness(self.database_name(), self._former_database())

    def verify(
        self, *, save: bool = True, anchors: Sequence[Anchor] = (), after_restore: bool = False
    ) -> VerifyReport:
        """Walk the whole chain, replay the reference data, check the anchors; keep the
        result as an event and in this machine's witness file. ``after_restore``: the
        check right after a recorded restore, which compared the backup with the live
        register itself: the register's stored checks are then not looked for in this
        machine's witness file (a new machine's holds none of them)."""
        try:
            with self.ctx.write():
                pass  # the reference baseline, when the chain has none yet
        except (DatabaseUnavailable, KioskError):
            pass
        key = school_key_if_present(self.ctx.settings)
        database = self.database_name()
        with self.ctx.read() as session:
            one_snapshot(session)
            witness, witness_note, garbled = self.read_witness()
            last_id, last, last_unreadable = read_last(session, key)
            report = verify_with_witnesses(
                session,
                now=self.ctx.clock(),
                key=key,
                witnesses=(witness, last),
                anchors=anchors,
                restore_copy=restore_copy_check(self.ctx.engine.url.database, key)
                if self.ctx.engine.dialect.name == "sqlite"
                else None,
            )
            settings_notes = kiosk_role_settings(session.connection(), KIOSK_ASKS)
        share = on_network_share(self.ctx.engine)
        if share is not None and report.head_id is None:
            # The lists' starting point is recorded at the first write, which a share refuses.
            note = (
                f"the register has recorded nothing: its SQLite file is on a network share "
                f"({share}), where the kiosk records nothing, so the lists as the database was "
                "set up (recorded at its first write) are not recorded yet, and each of their "
                "rows is named here as never recorded. Keep the file on this machine's own "
                "disk, or use PostgreSQL for several kiosks (docs/deploy.md)."
            )
            report = replace(report, notes=(note, *report.notes))
        if settings_notes:
            report = replace(report, notes=(*report.notes, *settings_notes))
        if last_unreadable:
            # The kiosk never stores such a check: written by hand, and no check.
            problem = (
                f"event {last_id}, the last check stored in the register, {last_unreadable}: "
                "it was not taken as a check (the kiosk never stores one so)"
            )
            report = replace(report, ok=False, problems=(*report.problems, problem))
        if witness_note:
            report = replace(report, notes=(*report.notes, witness_note))
        elif self.ctx.engine.dialect.name == "sqlite" and not after_restore:
            behind = witness_behind(witness, last_id, last, database, garbled)
            report = with_earlier_alarm(with_witness_behind(report, behind), last)
        elif garbled is not None:
            report = with_witness_behind(report, witness_behind(None, None, None, "", garbled))
        elsewhere = _checked_elsewhere(database, self._former_database(), witness)
        if elsewhere:
            report = replace(report, notes=(*report.notes, elsewhere))
        if save:
            report, unsaved = save_witness(database, report, formerly=self._former_database())
            if unsaved:
                report = replace(report, notes=(*report.notes, unsaved))
            try:
                with self.ctx.write() as uow:
                    save_last(uow, report)
            except DatabaseUnavailable as exc:
                # A read-only database (a copy, a full disk) can still be checked; why it
                # could not be written is said (a connection holding the write lock, named).
                note = (
                    "this result could not be saved: the database cannot be written ("
                    f"{exc.message.removeprefix('Not recorded: ')})"
                )
                report = replace(report, notes=(*report.notes, note))
        return report

    def checked_database(self) -> str:
        """Which database a check reads, in words for the office: its name (a SQLite file by
        its real path), where that came from (the environment, a config file, the default)
        and, for a file, its size. A shell that points the kiosk's ``config.toml`` at a
        frozen copy makes every later check read the copy while the running kiosk records
        into the real file: the office can then see which one was checked."""
        name = self.database_name()
        source = self.ctx.settings.sources.get("database_url")
        line = f"{name} ({'from ' + source if source else 'as given'})"
        if name.startswith("sqlite:///"):
            path = name.removeprefix("sqlite:///")
            try:
                size = os.stat(path).st_size
            except OSError:
                return line
            try:
                wal = os.stat(f"{path}-wal").st_size
            except OSError:
                wal = 0
            line += f", {size:,} bytes" + (f" (+ {wal:,} in its -wal file)" if wal else "")
        return line + _settings_name_another(name, source)

    def last_result(self) -> VerifyReport | None:
        """The result of the last ``verify`` (None when the register was never checked, or
        when its stored result cannot be read or trusted: see :meth:`last_check`), with when
        the last anchor was taken."""
        return self.last_check().report

    def last_check(self) -> LastCheck:
        """The newest stored check, shown only when it can be believed: its event's hash and
        MAC right (checked with this machine's school key, as verify checks them) and its
        result one the kiosk writes. Otherwise ``problem`` says, in words, why not: a login
        without the key could otherwise make the console say "intact" until the next verify."""
        try:
            key = school_key_if_present(self.ctx.settings)
            no_key = "this machine has no school key to check its MAC" if key is None else ""
        except SchoolKeyError:
            key, no_key = None, "the school key file here cannot be read to check its MAC"
        with self.ctx.read() as session:
            row = _last_check_row(session)
            if row is None:
                return LastCheck()
            event_id = row["id"]
            why = _unsealed(row, key) if key is not None else no_key
            if key is None or why:
                return LastCheck(None, event_id, f"cannot be trusted ({why})")
            try:
                report = _report_in(row)
            except ValueError as exc:
                return LastCheck(None, event_id, f"cannot be read ({exc})")
            try:
                anchored = last_anchor_at(session, key)
            except AnchorHidden:
                return LastCheck(report, event_id, anchor_hidden=True)
            return LastCheck(replace(report, last_anchor_at=anchored), event_id)

    def anchor(self, *, admin_code: str | None = None) -> Anchor:
        """Record that an anchor is taken, and return the head it describes (that event)."""
        from kiosk.services import state

        with self.ctx.write() as uow:
            by = state.get_staff_info(uow.session, admin_code).id if admin_code else None
            event = uow.record(EventKind.ANCHOR_TAKEN, staff_id=by, details={})
            count = uow.session.scalar(select(func.count()).select_from(Event)) or 0
            offset = chain_offset(uow.session)
            position = offset + count if offset is not None else None
            return Anchor(
                event_id=event.id,
                position=position,
                hash=event.hash,
                occurred_at=iso(event.occurred_at) or "",
                school=self.ctx.settings.school_name,
                taken_at=iso(uow.now) or "",
            )


# An anchor is a dozen short lines (well under 1 KiB): read no more than this.
ANCHOR_LIMIT = 64 * 1024


def read_anchor(path: str | Path) -> Anchor:
    """The anchor in the file at ``path``. Only a small regular file is read: a symlink to
    /dev/zero read until memory ran out, a FIFO waited for ever (InvalidInput, saying why)."""
    source = Path(path)
    try:
        content = read_small_file(source, ANCHOR_LIMIT).decode("utf-8")
    except FileRefused as exc:
        raise InvalidInput(f"The anchor file {source} cannot be read ({exc}).") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"The anchor file {source} cannot be read ({exc}).") from None
    return Anchor.parse(content, source=str(source))

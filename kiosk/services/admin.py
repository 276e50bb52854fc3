"""The admin PIN and the one way an admin signs in: ``AdminService.sign_in(pin, code)``.

A 6-digit PIN has a million values: its hash alone falls to brute force in minutes. The
hash (in the shared database) is therefore computed over HMAC(school key, PIN), where the
school key is a random secret in a file on each kiosk of the school, never in the database
(``kiosk.services.secret``). One PIN works on every kiosk holding the school's key.

Wrong PINs are counted per keyboard, in this kiosk's data folder, not in the database: from
the third wrong PIN each attempt must wait a little longer, and the fifth locks this keyboard
for five minutes. Five wrong PINs at a staff-room kiosk cannot lock the office out of its own
console. Each lockout is recorded as an event and reported to the next admin who signs in.
A lockout that cannot be recorded (the database away or read-only: the pad then checks the
PIN against its copy) is kept in the data folder and recorded, once, when the database next
answers a PIN attempt or the kiosk's start: five guesses with the cable pulled are not
silently dropped from the register.

Checking a PIN never writes the database's settings (the kiosk's database login may not).
Whenever the PIN's hash is read, a copy is kept in the data folder (0600): with the database
away, the PIN pad can still check the PIN and let the kiosk be closed (``check_pin_offline``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from kiosk.config import data_dir
from kiosk.db.models import KioskSetting
from kiosk.domain.chain import UnreadableEvent, parse_details
from kiosk.domain.errors import DatabaseUnavailable, InvalidInput, KioskError, RuleViolation
from kiosk.domain.events import EventKind, Role
from kiosk.domain.scan import MIN_PIN_LENGTH
from kiosk.domain.timeutil import utc_now
from kiosk.services import state
from kiosk.services.common import UseCases
from kiosk.services.secret import school_key, school_key_if_present
from kiosk.services.uow import UnitOfWork
from kiosk.services.views import StaffInfo

log = logging.getLogger(__name__)

PIN_KEY = "admin_pin"
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=5)
FREE_FAILURES = 2  # wrong PINs before each next attempt has to wait
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
ATTEMPTS_FILE = "pin-attempts.json"
ATTEMPTS_LOCK_FILE = "pin-attempts.lock"  # held while one attempt is checked
PIN_COPY_FILE = "admin-pin.json"
# Lockouts that could not be recorded yet (the database away): recorded when it is back.
LOCKOUTS_FILE = "pin-lockouts-to-record.json"


@dataclass(frozen=True, slots=True)
class PinCheck:
    """The outcome of one PIN attempt."""

    ok: bool
    message: str
    attempts_left: int
    locked_until: datetime | None = None
    lockouts_since_last_sign_in: tuple[datetime, ...] = ()


@dataclass(frozen=True, slots=True)
class SignIn:
    """An admin signed in with the PIN and their own code."""

    admin: StaffInfo
    lockouts_since_last_sign_in: tuple[datetime, ...] = ()


class WrongPin(RuleViolation):
    """The PIN was wrong, or this keyboard is locked: ``check`` says which."""

    title = "Not accepted"

    def __init__(self, check: PinCheck) -> None:
        super().__init__(check.message)
        self.check = check
        if check.locked_until is not None:
            self.title = "Locked"


def _digest(pin: str, salt: bytes, key: bytes) -> bytes:
    keyed = hmac.new(key, pin.encode(), hashlib.sha256).digest()
    return hashlib.scrypt(keyed, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)


def validate_pin(pin: str) -> str:
    pin = pin.strip()
    if not pin.isdigit() or not pin.isascii():
        raise InvalidInput("The PIN must be digits only.")
    if len(pin) < MIN_PIN_LENGTH:
        raise InvalidInput(f"The PIN must have at least {MIN_PIN_LENGTH} digits.")
    if len(pin) > 32:
        raise InvalidInput("The PIN must have at most 32 digits.")
    if len(set(pin)) == 1 or pin in "0123456789012345678909876543210":
        raise InvalidInput("That PIN is too easy to guess. Choose another.")
    return pin


# --- this kiosk's own files: the attempts on this keyboard, the copy of the PIN's hash -----


def _local_path(name: str) -> Path:
    return data_dir() / name


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _write_json(path: Path, value: dict[str, Any]) -> None:
    """Replace ``path`` atomically with ``value`` (mode 0600). A failure is logged: the
    attempt counter must not stop a sign-in, and the copy is only a fallback."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(value, fh)
        os.replace(temp, path)
    except OSError as exc:
        log.warning("cannot write %s: %s", path, exc)


def _attempts() -> dict[str, Any]:
    return _read_json(_local_path(ATTEMPTS_FILE))


def _save_attempts(value: dict[str, Any]) -> None:
    _write_json(_local_path(ATTEMPTS_FILE), value)


def _keep_copy(record_json: str) -> None:
    path = _local_path(PIN_COPY_FILE)
    if _read_json(path).get("record") != record_json:
        _write_json(path, {"record": record_json})


def _keep_lockout(until: datetime | None, now: datetime) -> None:
    """A lockout the database could not be told of: kept until it can."""
    if until is None:
        return
    kept = _kept_lockouts()
    kept.append({"locked_until": until.isoformat(), "locked_at": now.isoformat()})
    _write_json(_local_path(LOCKOUTS_FILE), {"lockouts": kept})
    log.warning("PIN pad lockout kept on this kiosk until the database can record it")


def _kept_lockouts() -> list[dict[str, str]]:
    kept = _read_json(_local_path(LOCKOUTS_FILE)).get("lockouts")
    if not isinstance(kept, list):
        return []
    return [
        item
        for item in kept
        if isinstance(item, dict) and isinstance(item.get("locked_until"), str)
    ]


def _lockout_details(until: str, kiosk: str, locked_at: str | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {"failures": MAX_FAILURES, "locked_until": until, "kiosk": kiosk}
    if locked_at is not None:
        details["locked_at"] = locked_at  # recorded late: the database was away then
    return details


def _wait_message(seconds: float) -> str:
    return f"Too many wrong PINs: wait {max(1, int(seconds + 0.999))} s before trying again."


@contextmanager
def _one_attempt_at_a_time() -> Iterator[None]:
    """The attempts on this machine, one after another. Each browser tab of the served
    console is a process of its own, and so is each `kiosk ... --pin-stdin`: all read the
    count, spent a tenth of a second on the PIN's hash, then wrote the count plus one, so
    eight guesses at once counted as one. An exclusive lock on a file beside the count (a
    lock that cannot be had, a read-only folder, is logged: the count goes on as before).

    The lock is POSIX's (fcntl, imported here: at the top of the module it stopped the app
    importing at all on Windows, where the count goes on without it); a lock the file system
    refuses (ENOLCK: a home folder on NFS without a lock daemon) is logged and the count goes
    on without it, rather than failing every PIN."""
    try:
        import fcntl
    except ImportError:  # not POSIX (Windows): no lock between processes
        yield
        return
    path = _local_path(ATTEMPTS_LOCK_FILE)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        log.warning("cannot lock %s: %s", path, exc)
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            log.warning("cannot lock %s: %s (the PIN is counted without the lock)", path, exc)
        yield
    finally:
        os.close(fd)  # releases the lock


def _check_against(record_json: str, pin: str, key: bytes, now: datetime) -> tuple[PinCheck, bool]:
    """One attempt on this keyboard against ``record_json``: (outcome, this attempt locked)."""
    with _one_attempt_at_a_time():
        return _check_locked(record_json, pin, key, now)


def _check_locked(record_json: str, pin: str, key: bytes, now: datetime) -> tuple[PinCheck, bool]:
    attempts = _attempts()
    count = int(attempts.get("count") or 0)
    locked_until = _parse_time(attempts.get("locked_until"))
    if locked_until is not None and now < locked_until:
        return PinCheck(False, _locked_message(locked_until, now), 0, locked_until), False
    if locked_until is not None:
        count = 0  # the lock has run out: a fresh start
    next_at = _parse_time(attempts.get("next_attempt_at"))
    if next_at is not None and now < next_at and count:
        left = MAX_FAILURES - count
        return PinCheck(False, _wait_message((next_at - now).total_seconds()), left), False
    record = json.loads(record_json)
    expected = bytes.fromhex(record["hash"])
    ok = hmac.compare_digest(_digest(pin.strip(), bytes.fromhex(record["salt"]), key), expected)
    last_sign_in = attempts.get("last_sign_in")
    if ok:
        _save_attempts({"count": 0, "last_sign_in": now.isoformat()})
        return PinCheck(True, "PIN accepted.", MAX_FAILURES), False
    count += 1
    if count >= MAX_FAILURES:
        until = now + LOCKOUT
        _save_attempts(
            {"count": 0, "locked_until": until.isoformat(), "last_sign_in": last_sign_in}
        )
        return PinCheck(False, _locked_message(until, now), 0, until), True
    wait = timedelta(seconds=2 ** (count - FREE_FAILURES)) if count >= FREE_FAILURES else None
    _save_attempts(
        {
            "count": count,
            "next_attempt_at": (now + wait).isoformat() if wait else None,
            "last_sign_in": last_sign_in,
        }
    )
    left = MAX_FAILURES - count
    message = f"Wrong PIN. {left} attempt{'s' if left != 1 else ''} left."
    if wait:
        message += f" Wait {int(wait.total_seconds())} s before the next."
    return PinCheck(False, message, left), False


def check_pin_offline(pin: str, now: datetime | None = None) -> PinCheck:
    """Check ``pin`` without the database, against the copy of its hash this kiosk kept when
    it last could read it (and this kiosk's school key). Counts towards this keyboard's
    lockout like any attempt. For closing the kiosk when the database is away: who is signing
    in cannot be checked without it."""
    copy = _read_json(_local_path(PIN_COPY_FILE)).get("record")
    if not isinstance(copy, str):
        raise RuleViolation(
            "The PIN cannot be checked without the database: this kiosk has never read it. "
            "Close the kiosk from the machine's own login (or wait for the database)."
        )
    try:
        key = school_key()
        check, locked = _check_against(copy, pin, key, now or utc_now())
    except (ValueError, KeyError, TypeError):
        raise RuleViolation(
            "The copy of the PIN kept on this kiosk cannot be read: wait for the database."
        ) from None
    if locked:
        log.warning("PIN pad locked by wrong PINs while the database was unreachable")
        _keep_lockout(check.locked_until, now or utc_now())
    return check


def _key_if_readable(settings: Any) -> bytes | None:
    """The school key to check the PIN's record with; None when this machine has none or it
    cannot be read (the newest record is then taken as it stands; the PIN's own check says
    what is wrong with the key)."""
    try:
        return school_key_if_present(settings)
    except (KioskError, ValueError, OSError):
        return None


# What this process last read of the PIN's records, per database (and with or without the
# school key): how far the events were read (id and hash of that event) and what the newest
# record found was (None: none found). The next look reads only the events after that
# event, while it is still there unchanged (else everything again): reading the whole table
# on SQLite (not through an index: see pin_record) took 0.2 s at a million events, 15 s
# from a cold disk, at each kiosk start and twice at each sign-in.
_PinRead = tuple[int, str, tuple[str | None] | None]
_PIN_READS: dict[tuple[str, bool], _PinRead] = {}
_PIN_READS_LOCK = threading.Lock()
_HEAD = text("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1")
_HASH_AT = text("SELECT hash FROM events WHERE id = :id")


def _newest_pin_record(
    session: Session, key: bytes | None, after_id: int | None
) -> tuple[str | None] | None:
    """The newest PIN record among the events (after ``after_id``): (its value,) with None
    for a removal; None when there is none."""
    from kiosk.services.integrity import seal_fault, stored_events

    for row in stored_events(
        session,
        (EventKind.REFERENCE_CHANGED.value,),
        newest_first=True,
        from_table=True,
        after_id=after_id,
    ):
        try:
            details = json.loads(row["details"]) if row["details"] is not None else None
        except (ValueError, TypeError, RecursionError):  # (a number or NULL stored by hand)
            continue
        if not isinstance(details, dict):
            continue
        if details.get("table") != "kiosk_settings" or details.get("key") != PIN_KEY:
            continue
        if key is not None and seal_fault(row, key) is not None:
            continue  # not recorded by the kiosk (verify names it)
        value = details.get("row")
        if not isinstance(value, dict):
            return (None,)  # the PIN was removed
        recorded = value.get("value")
        return (recorded if isinstance(recorded, str) else None,)
    return None


def pin_record(session: Session, key: bytes | None) -> str | None:
    """The admin PIN's stored record (its salted hash) as the register's newest record of it
    says, its hash and MAC checked with ``key`` (the school's; without one, the newest as it
    stands); the ``kiosk_settings`` row only when the register holds none (a register from
    before revision 0005, before its first write). None: no PIN is set.

    The table is a projection of the register, and a shell could write an older PIN's record
    back into it (the file keeps every one): that older PIN then signed in as any admin; or
    delete the row, and ``kiosk admin set-pin`` then asked for no current PIN.

    Only the events recorded since this process last looked are read (``_PIN_READS``)."""
    conn = session.connection()
    head = conn.execute(_HEAD).first()
    found: tuple[str | None] | None = None
    if head is not None:
        head_id, head_hash = int(head[0]), str(head[1])
        where = (conn.engine.url.render_as_string(hide_password=True), key is not None)
        with _PIN_READS_LOCK:
            last = _PIN_READS.get(where)
        if last is not None and conn.execute(_HASH_AT, {"id": last[0]}).scalar() == last[1]:
            found = _newest_pin_record(session, key, after_id=last[0]) or last[2]
        else:
            found = _newest_pin_record(session, key, after_id=None)
        with _PIN_READS_LOCK:
            _PIN_READS[where] = (head_id, head_hash, found)
    if found is not None:
        return found[0]
    setting = session.get(KioskSetting, PIN_KEY)
    return setting.value if setting is not None else None


class AdminService(UseCases):
    def is_pin_set(self) -> bool:
        with self.ctx.read() as session:
            record = pin_record(session, _key_if_readable(self.ctx.settings))
        if record is not None:
            _keep_copy(record)
        return record is not None

    def keep_local_pin_copy(self) -> bool:
        """Read the PIN's hash and keep a copy in this kiosk's data folder (for the PIN pad
        when the database is away). True if a PIN is set. Writes nothing to the database
        but the lockouts kept while it was away (``record_kept_lockouts``)."""
        self.record_kept_lockouts()
        return self.is_pin_set()

    def record_kept_lockouts(self) -> int:
        """Record the lockouts this keyboard kept while the database was away (each once: one
        already in the register, the kiosk stopped between the commit and forgetting it,
        is not recorded again). Returns how many were recorded; a failure is logged and they
        stay kept for the next time."""
        kept = _kept_lockouts()
        if not kept:
            return 0
        kiosk = self.ctx.settings.kiosk_name[:64]
        try:
            with self.ctx.write() as uow:
                # Only a lockout the kiosk recorded is one already in the register: one the
                # kiosks' login appended, without the key, is no record of this one.
                recorded = {
                    (details.get("locked_until"), details.get("kiosk"))
                    for _at, details in _recorded_lockouts(uow.session, uow.ctx.key)
                }
                count = 0
                for item in kept:
                    if (item["locked_until"], kiosk) in recorded:
                        continue
                    uow.record(
                        EventKind.ADMIN_LOCKOUT,
                        staff_id=None,
                        details=_lockout_details(
                            item["locked_until"], kiosk, item.get("locked_at") or None
                        ),
                    )
                    count += 1
        except KioskError as exc:
            log.warning("kept PIN pad lockouts not recorded yet: %s", exc.message)
            return 0
        _write_json(_local_path(LOCKOUTS_FILE), {"lockouts": []})
        return count

    def set_pin(
        self, pin: str, *, admin_code: str | None = None, current_pin: str | None = None
    ) -> None:
        """Set or replace the admin PIN (at least 6 digits). Once a PIN is set, replacing it
        needs the current one (``current_pin``, checked like any attempt on this keyboard).
        The school key is created on this kiosk when it has none yet and no PIN is set."""
        pin = validate_pin(pin)
        replacing = self.is_pin_set()
        if replacing:
            if current_pin is None:
                raise RuleViolation("A PIN is already set: give the current PIN to change it.")
            outcome = self.check_pin(current_pin)
            if not outcome.ok:
                raise WrongPin(outcome)
        key = school_key(self.ctx.settings, create=not replacing)
        salt = secrets.token_bytes(16)
        record = json.dumps(
            {
                "alg": "hmac-sha256+scrypt",
                "n": SCRYPT_N,
                "r": SCRYPT_R,
                "p": SCRYPT_P,
                "salt": salt.hex(),
                "hash": _digest(pin, salt, key).hex(),
            }
        )
        with self.ctx.write() as uow:
            by = state.get_staff_info(uow.session, admin_code) if admin_code else None
            if by is not None and not by.has_role(Role.ADMIN.value):
                raise RuleViolation(f"{by.name} is not an admin: only admins can set the PIN.")
            _put(uow, PIN_KEY, record, by=by.id if by else None)
            uow.record(
                EventKind.ADMIN_ACTION,
                staff_id=by.id if by else None,
                details={"action": "admin_pin_set"},
            )
        _keep_copy(record)

    def check_pin(self, pin: str) -> PinCheck:
        """One attempt on this keyboard. From the third wrong PIN the next attempt waits a
        little; the fifth locks this keyboard for five minutes (recorded as an event). Writes
        no setting: the attempts are counted in this kiosk's data folder."""
        with self.ctx.read() as session:
            record = pin_record(session, _key_if_readable(self.ctx.settings))
            if record is None:
                raise RuleViolation("No admin PIN is set yet: run `kiosk admin set-pin`.")
        _keep_copy(record)
        self.record_kept_lockouts()
        key = school_key(self.ctx.settings)
        now = self.ctx.clock()
        since = _parse_time(_attempts().get("last_sign_in"))
        check, locked = _check_against(record, pin, key, now)
        if locked:
            until = check.locked_until.isoformat() if check.locked_until else None
            try:
                with self.ctx.write() as uow:
                    uow.record(
                        EventKind.ADMIN_LOCKOUT,
                        staff_id=None,
                        details={
                            "failures": MAX_FAILURES,
                            "locked_until": until,
                            "kiosk": self.ctx.settings.kiosk_name[:64],
                        },
                    )
            except DatabaseUnavailable:
                _keep_lockout(check.locked_until, now)  # recorded when the database is back
                raise
        if not check.ok:
            return check
        with self.ctx.read() as session:
            lockouts = _lockouts_since(session, since, key)
        return PinCheck(True, check.message, MAX_FAILURES, None, lockouts)

    def sign_in(self, pin: str, code: str) -> SignIn:
        """THE admin sign-in, for the kiosk's PIN pad, ``kiosk admin`` and the command line:
        ``code`` must be an admin's staff code (checked first, so a mistyped code does not use
        up an attempt), then ``pin`` the admin PIN. Raises ``WrongPin`` (a ``RuleViolation``)
        when the PIN is wrong or this keyboard is locked."""
        admin = self.admin(code)
        outcome = self.check_pin(pin)
        if not outcome.ok:
            raise WrongPin(outcome)
        return SignIn(admin, outcome.lockouts_since_last_sign_in)

    def record_app_closed(self, admin_code: str, *, where: str = "admin console") -> int:
        """Record that an admin closed the kiosk app (an admin_action naming them), before it
        exits: nothing can be recorded on this machine until it is started again. Returns
        the event's id."""
        with self.ctx.write() as uow:
            admin = state.get_staff_info(uow.session, admin_code)
            if not admin.has_role(Role.ADMIN.value):
                raise RuleViolation(f"{admin.name} is not an admin: only admins can close it.")
            event = uow.record(
                EventKind.ADMIN_ACTION,
                staff_id=admin.id,
                details={"action": "kiosk_app_closed", "from": where[:64]},
            )
            return event.id

    def can_anyone_sign_in(self) -> bool:
        """A PIN is set and an active member of staff holds the admin role: until both, a
        new school is being set up and nobody could sign in."""
        if not self.is_pin_set():
            return False
        from kiosk.db.models import Staff, StaffRole

        with self.ctx.read() as session:
            found = session.execute(
                select(StaffRole.staff_id)
                .join(Staff, Staff.id == StaffRole.staff_id)
                .where(StaffRole.role == Role.ADMIN.value, Staff.retired_at.is_(None))
                .limit(1)
            ).first()
        return found is not None

    def admin(self, staff_code: str) -> StaffInfo:
        """The member of staff acting in the console: must hold the admin role."""
        with self.ctx.read() as session:
            person = state.get_staff_info(session, staff_code)
        if not person.has_role(Role.ADMIN.value):
            raise RuleViolation(f"{person.name} is not an admin: only admins can act here.")
        return person


def _put(uow: UnitOfWork, key: str, value: str, *, by: int | None) -> None:
    """A kiosk setting, changed under the chain (a ``reference_changed`` event) by an admin
    (``by``: None only while the school has no admin yet)."""
    uow.set_setting(key, value, by=by)


def _parse_time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return f"Too many wrong PINs: the admin console is locked for {minutes} more minute(s)."


def _recorded_lockouts(
    session: Session, key: bytes, since: datetime | None = None
) -> Iterator[tuple[datetime, dict[str, Any]]]:
    """The PIN pad lockouts the kiosk recorded (from ``since``), with their details, each
    one's hash and MAC checked with ``key``, the school's (as verify checks them)."""
    from kiosk.services.integrity import seal_fault, stored_events, stored_time

    for row in stored_events(session, (EventKind.ADMIN_LOCKOUT.value,), since=since):
        if seal_fault(row, key) is not None:
            continue  # not the kiosk's: verify names it
        try:
            recorded = stored_time(row["occurred_at"])
            details = parse_details(row["details"]) if row["details"] is not None else None
        except (UnreadableEvent, ValueError, TypeError):
            continue  # (the kiosk's own always reads)
        yield recorded, details if isinstance(details, dict) else {}


def _lockouts_since(session: Session, since: datetime | None, key: bytes) -> tuple[datetime, ...]:
    """The PIN pad lockouts the kiosk recorded after ``since`` (the last sign-in on this
    keyboard): one appended by the kiosks' login without the key (dated 2999: at every
    sign-in for ever) told each admin that five wrong PINs had locked the console when
    nobody had typed one."""
    return tuple(
        _locked_at(recorded, details)
        for recorded, details in _recorded_lockouts(session, key, since)
        if since is None or recorded > since
    )


def _locked_at(recorded: datetime, details: Any) -> datetime:
    """When the pad was locked: the event's time or, for a lockout recorded late (the
    database was away), the time the pad kept."""
    kept = details.get("locked_at") if isinstance(details, dict) else None
    try:
        moment = datetime.fromisoformat(kept) if isinstance(kept, str) and kept else None
    except ValueError:
        return recorded
    return moment if moment is not None and moment.tzinfo is not None else recorded

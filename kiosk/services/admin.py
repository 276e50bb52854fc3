"""The admin PIN: a salted scrypt hash keyed with a secret kept outside the database.

A 6-digit PIN has a million values: its hash alone falls to brute force in minutes. The
hash is therefore computed over HMAC(secret, PIN), where ``secret`` is a random key in a
file only the kiosk's user can read (``<data dir>/admin-secret.key``, mode 0600). Someone
with a copy of the database but not of that file learns nothing from the hash.

Five wrong PINs lock the console for five minutes; the lockout is recorded as an event
and reported to the next admin who signs in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.db.models import Event, KioskSetting
from kiosk.domain.errors import InvalidInput, RuleViolation
from kiosk.domain.events import EventKind, Role
from kiosk.services import state
from kiosk.services.common import UseCases
from kiosk.services.secret import school_key
from kiosk.services.secret import secret_path as secret_path  # where tests and the CLI look
from kiosk.services.uow import UnitOfWork
from kiosk.services.views import StaffInfo

PIN_KEY = "admin_pin"
FAILURES_KEY = "admin_pin_failures"
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=5)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PIN_LENGTH = 6


@dataclass(frozen=True, slots=True)
class PinCheck:
    """The outcome of one PIN attempt."""

    ok: bool
    message: str
    attempts_left: int
    locked_until: datetime | None = None
    lockouts_since_last_sign_in: tuple[datetime, ...] = ()


def _secret(create: bool) -> bytes:
    return school_key(create=create)


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


class AdminService(UseCases):
    def is_pin_set(self) -> bool:
        with self.ctx.read() as session:
            return session.get(KioskSetting, PIN_KEY) is not None

    def set_pin(self, pin: str, *, admin_code: str | None = None) -> None:
        """Set or replace the admin PIN (at least 6 digits)."""
        pin = validate_pin(pin)
        salt = secrets.token_bytes(16)
        key = _secret(create=True)
        record = {
            "alg": "hmac-sha256+scrypt",
            "n": SCRYPT_N,
            "r": SCRYPT_R,
            "p": SCRYPT_P,
            "salt": salt.hex(),
            "hash": _digest(pin, salt, key).hex(),
        }
        with self.ctx.write() as uow:
            by = state.get_staff_info(uow.session, admin_code) if admin_code else None
            if by is not None and not by.has_role(Role.ADMIN.value):
                raise RuleViolation(f"{by.name} is not an admin: only admins can set the PIN.")
            _put(uow, PIN_KEY, json.dumps(record))
            _put(uow, FAILURES_KEY, json.dumps({"count": 0, "locked_until": None}))
            uow.record(
                EventKind.ADMIN_ACTION,
                staff_id=by.id if by else None,
                details={"action": "admin_pin_set"},
            )

    def check_pin(self, pin: str) -> PinCheck:
        """One attempt. Wrong attempts count; the fifth locks the console for five minutes."""
        with self.ctx.write() as uow:
            stored = uow.session.get(KioskSetting, PIN_KEY)
            if stored is None:
                raise RuleViolation("No admin PIN is set yet: run `kiosk admin set-pin`.")
            failures = _failures(uow.session)
            locked_until = _parse_time(failures.get("locked_until"))
            if locked_until is not None and uow.now < locked_until:
                return PinCheck(False, _locked_message(locked_until, uow.now), 0, locked_until)
            record = json.loads(stored.value)
            key = _secret(create=False)
            expected = bytes.fromhex(record["hash"])
            ok = hmac.compare_digest(
                _digest(pin.strip(), bytes.fromhex(record["salt"]), key), expected
            )
            if ok:
                lockouts = _lockouts_since(uow.session, _parse_time(failures.get("last_sign_in")))
                _put(
                    uow,
                    FAILURES_KEY,
                    json.dumps(
                        {"count": 0, "locked_until": None, "last_sign_in": uow.now.isoformat()}
                    ),
                )
                return PinCheck(True, "PIN accepted.", MAX_FAILURES, None, lockouts)
            count = int(failures.get("count") or 0) + 1
            if count >= MAX_FAILURES:
                until = uow.now + LOCKOUT
                _put(
                    uow,
                    FAILURES_KEY,
                    json.dumps(
                        {
                            "count": 0,
                            "locked_until": until.isoformat(),
                            "last_sign_in": failures.get("last_sign_in"),
                        }
                    ),
                )
                uow.record(
                    EventKind.ADMIN_LOCKOUT,
                    staff_id=None,
                    details={"failures": MAX_FAILURES, "locked_until": until.isoformat()},
                )
                return PinCheck(False, _locked_message(until, uow.now), 0, until)
            _put(
                uow,
                FAILURES_KEY,
                json.dumps({**failures, "count": count, "locked_until": None}),
            )
            left = MAX_FAILURES - count
            return PinCheck(
                False, f"Wrong PIN. {left} attempt{'s' if left != 1 else ''} left.", left
            )

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

    def admin(self, staff_code: str) -> StaffInfo:
        """The member of staff acting in the console: must hold the admin role."""
        with self.ctx.read() as session:
            person = state.get_staff_info(session, staff_code)
        if not person.has_role(Role.ADMIN.value):
            raise RuleViolation(f"{person.name} is not an admin: only admins can act here.")
        return person


def _put(uow: UnitOfWork, key: str, value: str) -> None:
    """A kiosk setting, changed under the chain (a ``reference_changed`` event)."""
    uow.set_setting(key, value)


def _failures(session: Session) -> dict[str, str | int | None]:
    row = session.get(KioskSetting, FAILURES_KEY)
    return json.loads(row.value) if row is not None else {"count": 0, "locked_until": None}


def _parse_time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return f"Too many wrong PINs: the admin console is locked for {minutes} more minute(s)."


def _lockouts_since(session: Session, since: datetime | None) -> tuple[datetime, ...]:
    stmt = select(Event.occurred_at).where(Event.kind == EventKind.ADMIN_LOCKOUT.value)
    if since is not None:
        stmt = stmt.where(Event.occurred_at > since)
    return tuple(session.scalars(stmt.order_by(Event.id)))

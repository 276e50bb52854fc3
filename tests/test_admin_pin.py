from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kiosk.config import data_dir
from kiosk.db.models import KioskSetting
from kiosk.domain.errors import InvalidInput, RuleViolation
from kiosk.services import secret
from kiosk.services.admin import WrongPin, check_pin_offline
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_school

PIN = "402718"


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


@contextmanager
def kiosk_folder(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Iterator[Path]:
    """Act as the kiosk whose data folder is ``folder`` (its key, its keyboard's attempts)."""
    before = os.environ["KIOSK_DATA_DIR"]
    monkeypatch.setenv("KIOSK_DATA_DIR", str(folder))
    try:
        yield folder
    finally:
        monkeypatch.setenv("KIOSK_DATA_DIR", before)


def wrong(services: Services, clock: FakeClock, times: int) -> list[str]:
    """``times`` wrong PINs, each after the wait the previous one asked for."""
    messages = []
    for _ in range(times):
        messages.append(services.admin.check_pin("000000").message)
        clock.advance(seconds=20)
    return messages


def test_pin_rules(school: Services) -> None:
    assert not school.admin.is_pin_set()
    with pytest.raises(RuleViolation, match="No admin PIN"):
        school.admin.check_pin("123456")
    for bad, why in [("12345", "at least 6"), ("12a456", "digits only"), ("111111", "easy")]:
        with pytest.raises(InvalidInput, match=why):
            school.admin.set_pin(bad)
    school.admin.set_pin(PIN)
    assert school.admin.is_pin_set()
    assert school.admin.check_pin(PIN).ok
    assert stat.S_IMODE(secret.key_path().stat().st_mode) == 0o600
    assert secret.key_path() == data_dir() / "school.key"


def test_hash_is_keyed_with_the_school_key(school: Services) -> None:
    school.admin.set_pin(PIN)
    secret.key_path().write_text("00" * 32)  # a different key: the stored hash no longer matches
    assert not school.admin.check_pin(PIN).ok


def test_changing_the_pin_needs_the_current_one(school: Services, clock: FakeClock) -> None:
    school.admin.set_pin(PIN, admin_code="CHEAD")
    with pytest.raises(RuleViolation, match="give the current PIN"):
        school.admin.set_pin("583920", admin_code="CHEAD")
    with pytest.raises(WrongPin, match="Wrong PIN"):
        school.admin.set_pin("583920", admin_code="CHEAD", current_pin="999999")
    assert school.admin.check_pin(PIN).ok
    school.admin.set_pin("583920", admin_code="CHEAD", current_pin=PIN)
    assert school.admin.check_pin("583920").ok and not school.admin.check_pin(PIN).ok


def test_wrong_pins_slow_down_then_lock_this_keyboard(school: Services, clock: FakeClock) -> None:
    school.admin.set_pin(PIN)
    first = school.admin.check_pin("000000")
    assert first.attempts_left == 4 and "Wait" not in first.message
    second = school.admin.check_pin("000000")
    assert second.attempts_left == 3 and "Wait 1 s" in second.message
    # Straight away, even the right PIN is not tried: the keyboard must wait.
    hurried = school.admin.check_pin(PIN)
    assert not hurried.ok and "wait" in hurried.message
    clock.advance(seconds=2)
    third = school.admin.check_pin("000000")
    assert third.attempts_left == 2 and "Wait 2 s" in third.message
    clock.advance(seconds=3)
    assert school.admin.check_pin("000000").attempts_left == 1
    clock.advance(seconds=5)
    locked = school.admin.check_pin("000000")
    assert locked.attempts_left == 0 and locked.locked_until is not None
    assert "locked" in locked.message
    assert not school.admin.check_pin(PIN).ok  # right PIN, but locked
    clock.advance(minutes=5, seconds=1)
    check = school.admin.check_pin(PIN)
    assert check.ok and len(check.lockouts_since_last_sign_in) == 1
    # Reported once: the next sign-in sees no new lockout.
    assert school.admin.check_pin(PIN).lockouts_since_last_sign_in == ()
    rows = school.register.day(clock.now.date()).rows
    assert [r.kind for r in rows].count("admin_lockout") == 1


def test_checking_the_pin_writes_no_setting(school: Services, clock: FakeClock) -> None:
    school.admin.set_pin(PIN)

    def settings_rows() -> list[tuple[str, str]]:
        with school.ctx.read() as session:
            return [(r.key, r.value) for r in session.scalars(select(KioskSetting))]

    before = settings_rows()
    wrong(school, clock, 5)
    clock.advance(minutes=6)
    assert school.admin.check_pin(PIN).ok
    assert settings_rows() == before


def test_a_locked_kiosk_keyboard_does_not_lock_the_office(
    school: Services, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    school.admin.set_pin(PIN)
    key = secret.school_key()
    office = tmp_path / "office"
    secret.write_key(office / "school.key", key)
    messages = wrong(school, clock, 5)  # at the staff-room kiosk
    assert "locked" in messages[-1]
    assert not school.admin.check_pin(PIN).ok
    with kiosk_folder(monkeypatch, office):
        assert school.admin.sign_in(PIN, "CHEAD").admin.code == "CHEAD"


def test_sign_in_checks_the_admin_then_the_pin(school: Services, clock: FakeClock) -> None:
    school.admin.set_pin(PIN)
    with pytest.raises(RuleViolation, match="not an admin"):
        school.admin.sign_in(PIN, "ASMITH")
    with pytest.raises(WrongPin, match=r"Wrong PIN\. 4 attempts left"):
        school.admin.sign_in("000000", "CHEAD")
    signed = school.admin.sign_in(PIN, "chead")
    assert signed.admin.code == "CHEAD" and signed.admin.has_role("admin")


def test_key_file_problems_are_sentences(school: Services) -> None:
    school.admin.set_pin(PIN)
    path = secret.key_path()
    path.write_text("not a key\n")
    with pytest.raises(secret.SchoolKeyError, match="does not hold a school key"):
        school.admin.check_pin(PIN)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(secret.SchoolKeyError, match="cannot be read"):
        school.admin.check_pin(PIN)
    path.unlink()
    with pytest.raises(secret.SchoolKeyError, match="kiosk secret import"):
        school.admin.check_pin(PIN)
    # A PIN set elsewhere is not silently replaced with one under a new key.
    with pytest.raises(secret.SchoolKeyError, match="no school key"):
        school.admin.set_pin("583920", current_pin=PIN)
    assert not path.exists()


def test_export_and_import_of_the_key(tmp_path: Path) -> None:
    key = secret.school_key(create=True)
    text = secret.export_text(key, "Hillside Primary")
    assert key.hex()[:8] in text and secret.fingerprint(key) in text
    other = tmp_path / "other.key"
    os.environ["KIOSK_SCHOOL_KEY_FILE"] = str(other)
    try:
        assert secret.import_key(text) == key
        assert secret.school_key() == key
        assert stat.S_IMODE(other.stat().st_mode) == 0o600
        with pytest.raises(secret.SchoolKeyError, match="different school key"):
            secret.import_key(secret.export_text(b"\x01" * 32))
        other.unlink()
        mistyped = text.replace(key.hex()[:2], "00" if key.hex()[:2] != "00" else "11", 1)
        with pytest.raises(secret.SchoolKeyError, match="mistyped"):
            secret.import_key(mistyped)
    finally:
        del os.environ["KIOSK_SCHOOL_KEY_FILE"]


def test_offline_check_uses_the_copy_kept_when_the_database_was_read(
    school: Services, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    school.admin.set_pin(PIN)
    copy = data_dir() / "admin-pin.json"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert PIN not in copy.read_text() and "hash" in json.loads(copy.read_text())["record"]
    assert check_pin_offline(PIN, clock.now).ok
    assert not check_pin_offline("000000", clock.now).ok
    fresh = tmp_path / "fresh"
    secret.write_key(fresh / "school.key", secret.school_key())
    with kiosk_folder(monkeypatch, fresh):
        with pytest.raises(RuleViolation, match="never read it"):
            check_pin_offline(PIN, clock.now)
        assert school.admin.keep_local_pin_copy()
        assert check_pin_offline(PIN, clock.now).ok


@pytest.mark.postgresql
def test_one_pin_on_two_kiosks_sharing_postgresql(
    pg_url: str, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from kiosk.config import Settings
    from kiosk.db.engine import make_engine

    def kiosk(name: str) -> Services:
        settings = replace(Settings(database_url=pg_url), kiosk_name=name)
        return Services(make_engine(pg_url), settings, clock)

    a, b = kiosk("kiosk-a"), kiosk("kiosk-b")
    try:
        make_school(a)
        with kiosk_folder(monkeypatch, tmp_path / "a"):
            a.admin.set_pin(PIN, admin_code="CHEAD")
            exported = secret.export_text(secret.school_key())
        with kiosk_folder(monkeypatch, tmp_path / "b"):
            # Kiosk B has no key yet: told how to install it, in words.
            with pytest.raises(secret.SchoolKeyError, match="kiosk secret import"):
                b.admin.sign_in(PIN, "CHEAD")
            secret.import_key(exported)
            assert b.admin.sign_in(PIN, "CHEAD").admin.code == "CHEAD"
            b.admin.set_pin("583920", admin_code="CHEAD", current_pin=PIN)
        with kiosk_folder(monkeypatch, tmp_path / "a"):
            assert a.admin.sign_in("583920", "CHEAD").admin.code == "CHEAD"
            assert not a.admin.check_pin(PIN).ok
    finally:
        a.close()
        b.close()


def test_the_pins_record_is_read_from_the_events_since_the_last_look(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The PIN's record is read from the register's events, not through an index (one
    # rebuilt without the newest record would make an older PIN sign in). Read whole at
    # each kiosk start and twice at each sign-in, that took 0.2 s at a million events (15 s
    # from a cold disk): now only the events since this process last looked are read.
    from kiosk.services import integrity

    make_school(services)
    services.admin.set_pin("135790")
    reads: list[int | None] = []
    real = integrity.stored_events

    def counted(*args: Any, **kwargs: Any) -> Any:
        if "reference_changed" in args[1]:  # (the PIN's record; lockouts are read too)
            reads.append(kwargs.get("after_id"))
        return real(*args, **kwargs)

    monkeypatch.setattr(integrity, "stored_events", counted)
    assert services.admin.is_pin_set()
    head = services.phones.deposit("ASMITH").event_id
    assert services.admin.check_pin("135790").ok
    assert reads[-1] is not None and reads[-1] < head  # from the last look on, not all
    services.admin.set_pin("246802", current_pin="135790")
    assert not services.admin.check_pin("135790").ok  # the newer record is found
    assert services.admin.check_pin("246802").ok

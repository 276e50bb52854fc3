"""Round 10 of the red team on the record: a shell, the SQLite file, and the edges between
the witness, anchors, the purge and restore.

Each test here failed on the code before its fix (see the commit that added it).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from kiosk.services.integrity import Anchor, VerifyReport, witness_path
from tests.conftest import FakeClock
from tests.reliability.helpers import meddle
from tests.reliability.test_attacks import _admin_id, _append, _carry_over, said, shift_school
from tests.reliability.test_tamper import record_shift
from tests.school import make_ready, make_school

# Old enough for a lawful purge by the database's own clock too (as in test_purge.py).
EARLY = datetime(2022, 3, 10, 8, 5, tzinfo=UTC)
LATER = datetime(2024, 6, 5, 9, 0, tzinfo=UTC)
BEFORE = date(2023, 1, 1)


# --- 1. an anchor whose "Recorded at" has no offset, its event purged ---------------------------


@pytest.mark.parametrize("recorded", ["2022-03-10 08:05:00", "2022-03-10T08:05", "2022-03-10"])
def test_an_anchor_recorded_at_without_an_offset_is_checked_not_a_crash(
    sqlite_services: Services, clock: FakeClock, recorded: str
) -> None:
    """An anchor's "Recorded at" line typed back without its "+00:00" (from a printout, or
    edited), once a purge had removed the anchored event: verify compared that naive time
    with the checkpoint's aware one (TypeError: "something unexpected went wrong" from
    `kiosk verify --anchor`, every time). It is read as UTC, as the kiosk writes it."""
    services = sqlite_services
    clock.set(EARLY)
    make_school(services)
    record_shift(services, rounds=2)
    anchor = services.integrity.anchor()
    clock.set(LATER)
    services.phones.deposit("ASMITH")
    services.backup.purge(BEFORE, "CHEAD")
    typed = Anchor.parse(replace(anchor, occurred_at=recorded).to_text(), source="typed.txt")

    report = services.integrity.verify(save=False, anchors=(typed,))

    assert report.ok, said(report)
    # A year-old anchored event is purged lawfully; a younger one is still named.
    young = replace(typed, occurred_at="2023-06-01 09:00:00")
    report = services.integrity.verify(save=False, anchors=(young,))
    assert not report.ok
    assert "an anchored event less than a year old was purged" in said(report)


def test_an_anchor_purged_by_a_checkpoint_dated_in_the_year_one_is_named_not_a_crash() -> None:
    """The same comparison, with a checkpoint written into the SQLite file dated in the year 1
    (round 5 names such a checkpoint): a year before it is no date (OverflowError)."""
    from kiosk.services.integrity import _anchor_problems, _Checkpoint

    checkpoint = _Checkpoint(
        event_id=90,
        last_removed_id=80,
        last_removed_hash="f" * 64,
        details={"before": "2023-01-01", "last_removed_position": 80},
        occurred_at="0001-01-01T00:00:00+00:00",
        by=1,
        by_was_admin=True,
    )
    anchor = Anchor(50, 50, "a" * 64, "2022-03-10T08:05:00+00:00", "school", source="a.txt")

    assert _anchor_problems(anchor, {}, 80, [checkpoint]) == []


# --- 2. a purge checkpoint forged with the key, removing what a kept event refers to -----------


def test_a_purge_that_removed_what_a_kept_event_refers_to_is_named(
    sqlite_services: Services, sqlite_url: str, clock: FakeClock
) -> None:
    """A shell with the key on the SQLite file drops the triggers, writes a purge checkpoint
    as the kiosk writes one (every field, lawful dates, MACed, recorded by an admin, the list
    rows carried over), deletes the prefix and puts the triggers back: the sign-out of a
    laptop still off site (extended last week) went with it, the laptop showed as in school,
    and verify said "Register intact". The kiosk's purge keeps every event a kept event
    refers to, so a kept extension naming a purged sign-out is named."""
    services = sqlite_services
    clock.set(EARLY)
    make_school(services)
    make_ready(services, "ASMITH")
    receipt = services.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    signed_out = receipt.receipts[0].event_id
    clock.set(LATER - timedelta(days=7))
    extended = services.devices.extend(
        "LAP-001", LATER + timedelta(days=30), reason="Long project", staff_code="ASMITH"
    ).event_id
    clock.set(LATER)
    assert [o.device.tag for o in services.devices.offsite_now()] == ["LAP-001"]

    with meddle(sqlite_url) as db:
        gone = db.event(signed_out)
        _carry_over(db, signed_out)
        admin = _admin_id(db)
        _append(
            db,
            {
                "kind": "admin_action",
                "category": "admin",
                "staff_id": admin,
                "recorded_by_id": admin,
                "occurred_at": LATER.replace(tzinfo=None).isoformat(" ", "microseconds"),
                "details": {
                    "action": "events_purged",
                    "before": BEFORE.isoformat(),
                    "removed": signed_out,
                    "first_removed_id": 1,
                    "last_removed_id": signed_out,
                    "last_removed_hash": gone["hash"],
                    "last_removed_at": EARLY.isoformat(),
                    "last_removed_position": signed_out,
                },
            },
        )
        db.execute("DELETE FROM events WHERE id <= %s", (signed_out,))
    assert services.devices.offsite_now() == ()  # the laptop is "in school"

    report = services.integrity.verify(save=False)

    assert not report.ok
    assert (
        f"event {extended} (return_extended) refers to event {signed_out}, which a purge removed"
    ) in said(report)


# --- 3. this machine's witness file cannot be written ------------------------------------------


@pytest.mark.parametrize("planted", ["folder", "symlink", "witness-folder"])
def test_a_witness_file_that_cannot_be_written_is_said(
    sqlite_services: Services, sqlite_url: str, tmp_path: Path, planted: str
) -> None:
    """verify wrote its witness to ``verify-witness.json.partial``, then renamed it into
    place, and said nothing when it could not: a folder planted under that name (or a full
    disk, a read-only data folder) froze this machine's witness at an old event, silently, so
    a later cut of the end back to it went unseen; a symlink planted there had the witness
    written through it into the file it points at. The witness is now written to a new
    temporary file of its own (what is planted at a name is never used), and verify says so
    when it cannot be kept (here: a folder where the witness file goes)."""
    services = sqlite_services
    shift_school(services)
    assert services.integrity.verify().ok
    partial = witness_path().with_name(witness_path().name + ".partial")
    victim = tmp_path / "victim.txt"
    victim.write_text("the school's own file\n")
    frozen = witness_path().read_text()
    if planted == "folder":
        partial.mkdir()
    elif planted == "symlink":
        partial.symlink_to(victim)
    else:
        witness_path().unlink()
        witness_path().mkdir()
    services.phones.deposit("ASMITH")

    report = services.integrity.verify()

    # A folder where the witness file was: judged as a file deleted, with the register
    # holding a check kept in it (the register may have been put back; round 16's review).
    assert report.ok is (planted != "witness-folder"), said(report)
    assert victim.read_text() == "the school's own file\n"
    leftovers = [p.name for p in witness_path().parent.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers
    if planted == "witness-folder":
        assert any(
            "this machine's witness file" in note and "could not be written" in note
            for note in report.notes
        ), report.notes
    else:  # what was planted is not used: the witness is kept
        assert witness_path().is_file() and not witness_path().is_symlink()
        assert witness_path().read_text() != frozen
        assert not any("could not be written" in note for note in report.notes)


# --- 4. the same SQLite file under another spelling of its URL ---------------------------------


@pytest.mark.parametrize("spelling", ["{dir}/./kiosk.sqlite3", "{dir}//kiosk.sqlite3", "rel"])
def test_the_same_sqlite_file_under_another_url_keeps_its_witness(
    sqlite_services: Services,
    sqlite_url: str,
    tmp_path: Path,
    clock: FakeClock,
    spelling: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """This machine's witness is kept per database URL, as written: a shell that cut the end
    of the SQLite file, then spelt its path another way in KIOSK_DATABASE_URL
    (``/data/./kiosk.sqlite3``, a double slash, a path relative to the working folder), had
    verify look up no witness and say "Register intact", the witness file untouched. The
    path is now normalised before it names the database."""
    from kiosk.config import Settings
    from kiosk.db.engine import make_engine

    services = sqlite_services
    shift_school(services)
    assert services.integrity.verify().ok
    newest = services.phones.deposit("ASMITH").event_id
    assert services.integrity.verify().ok
    with meddle(sqlite_url) as db:
        db.execute("DELETE FROM events WHERE id >= %s", (newest,))
    if spelling == "rel":
        monkeypatch.chdir(tmp_path)
        url = "sqlite:///kiosk.sqlite3"
    else:
        url = "sqlite:///" + spelling.format(dir=tmp_path)
    other = Services(make_engine(url), Settings(kiosk_name="k1", database_url=url), clock)
    try:
        report = other.integrity.verify(save=False)
    finally:
        other.close()

    assert not report.ok
    assert f"event {newest}, the newest at an earlier check, is missing" in said(report)


# --- the witness under other spellings of the same SQLite file (review of round 10) ----------


def _cut_end(services: Services, url: str) -> None:
    """A verified register, one more event verified, then that event cut off by hand."""
    shift_school(services)
    assert services.integrity.verify().ok
    newest = services.phones.deposit("ASMITH").event_id
    assert services.integrity.verify().ok
    with meddle(url) as db:
        db.execute("DELETE FROM events WHERE id >= %s", (newest,))


def _verify_at(url: str, clock: FakeClock) -> VerifyReport:
    other = Services(make_engine(url), Settings(kiosk_name="k1", database_url=url), clock)
    try:
        return other.integrity.verify(save=False)
    finally:
        other.close()


@pytest.mark.parametrize("spelling", ["driver", "query", "symlink"])
def test_the_witness_finds_the_file_under_any_spelling(
    sqlite_services: Services, sqlite_url: str, tmp_path: Path, clock: FakeClock, spelling: str
) -> None:
    # Round 10 made the path absolute and normal; another driver name, a query string or a
    # folder reached through a symlink still had no witness: "Register intact" over a cut end.
    _cut_end(sqlite_services, sqlite_url)
    path = sqlite_url.removeprefix("sqlite:///")
    if spelling == "driver":
        url = "sqlite+pysqlite:///" + path
    elif spelling == "query":
        url = sqlite_url + "?timeout=5"
    else:
        link = tmp_path / "via"
        link.symlink_to(tmp_path)
        url = f"sqlite:///{link}/kiosk.sqlite3"
    report = _verify_at(url, clock)
    assert not report.ok, "cut end not seen: " + said(report)


def test_a_witness_kept_under_its_name_before_is_still_read(
    sqlite_url: str, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A kiosk configured with a relative path kept its witness under the URL as written
    # ("sqlite:///kiosk.sqlite3"); read only under the new name, it was lost at the upgrade.
    monkeypatch.chdir(tmp_path)
    url = "sqlite:///kiosk.sqlite3"
    assert Path(sqlite_url.removeprefix("sqlite:///")) == tmp_path / "kiosk.sqlite3"
    services = Services(make_engine(url), Settings(kiosk_name="k1", database_url=url), clock)
    try:
        _cut_end(services, sqlite_url)
    finally:
        services.close()
    witness = json.loads(witness_path().read_text())
    (name,) = [n for n in witness if n != "$witness-file"]  # and the file's id
    assert name != url
    witness_path().write_text(json.dumps({url: witness[name]}))  # as the version before kept it
    report = _verify_at(url, clock)
    assert not report.ok, "cut end not seen: " + said(report)

"""The demo school: built through the services, plausible, chained and separate (how quickly
is a figure of `make bench`: "demo school built")."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.cli import main
from kiosk.config import default_database_url, demo_database_url, load_settings
from kiosk.db.models import Event, Staff
from kiosk.domain.chain import GENESIS_HASH, hash_of
from kiosk.domain.events import (
    BREAKFAST_DRAWER_STORE,
    NOTICE_KINDS,
    STAFF_ROOM_STORE,
    EventKind,
    Role,
)
from kiosk.services import demo
from kiosk.services.app import Services

LONDON = load_settings().zone

# A Wednesday at 10:15 in March (GMT); a Saturday evening; a Thursday afternoon in June (BST).
SCHOOL_MORNING = datetime(2026, 3, 11, 10, 15, tzinfo=UTC)
SATURDAY = datetime(2026, 3, 14, 19, 0, tzinfo=UTC)
SUMMER_AFTERNOON = datetime(2026, 6, 11, 13, 40, tzinfo=UTC)  # 14:40 BST


def open_demo() -> Services:
    return Services.open(load_settings(demo=True))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo-data")


@pytest.fixture(scope="module")
def built(
    data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Services, float]]:
    """One demo school built at SCHOOL_MORNING, shared by the read-only tests below."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KIOSK_DATA_DIR", str(data_dir))
        mp.setenv("KIOSK_CONFIG_DIR", str(tmp_path_factory.mktemp("demo-config")))
        started = time.monotonic()
        demo.build_demo(load_settings(demo=True), now=SCHOOL_MORNING)
        seconds = time.monotonic() - started
        services = open_demo()
        services.ctx.clock = lambda: SCHOOL_MORNING
        yield services, seconds
        services.close()


def events(services: Services) -> list[Event]:
    with services.ctx.read() as session:
        return list(session.scalars(select(Event).order_by(Event.id)))


def test_staff_with_every_role_and_line_managers(built: tuple[Services, float]) -> None:
    services, _ = built
    people = services.people.list_staff()
    assert 35 <= len(people) <= 45
    assert all(p.code.isalnum() and p.code.isupper() for p in people)
    roles = Counter(role for p in people for role in p.roles)
    assert set(roles) == {r.value for r in Role}
    assert roles[Role.LAPTOP_USER.value] >= 15
    managed = [p for p in people if p.line_manager]
    assert len(managed) >= len(people) - 2
    # The roster names line managers; the import keeps a reference to them: their code.
    codes = {p.code for p in services.people.list_staff(include_retired=True)}
    assert all(p.line_manager in codes for p in managed)
    leavers = [p for p in services.people.list_staff(include_retired=True) if p.retired]
    assert len(leavers) == 1


def test_devices_stores_and_policies(built: tuple[Services, float]) -> None:
    services, _ = built
    kinds = Counter(d.kind for d in services.people.list_devices())
    assert kinds == {"laptop": 15, "work_phone": 5, "tablet": 2}
    assert {s.code for s in services.phones.stores()} >= {STAFF_ROOM_STORE, BREAKFAST_DRAWER_STORE}
    current = {p.title: p for p in services.policies.current()}
    assert set(current) == {"School Acceptable Use Policy", demo.LA_SAMPLE_TITLE}
    sample = current[demo.LA_SAMPLE_TITLE]
    assert "SAMPLE" in sample.title and "SAMPLE" in sample.version and sample.required
    text = services.policies.text(sample.id).text
    assert "SAMPLE" in text.splitlines()[0]
    assert "not the Local Authority's policy" in text


def test_the_picture_now(built: tuple[Services, float]) -> None:
    services, _ = built
    offsite = services.devices.offsite_now()
    assert len({item.device.tag for item in offsite}) >= 3
    overdue = [item for item in offsite if item.overdue]
    assert len(overdue) == 1
    assert overdue[0].expected_return < SCHOOL_MORNING
    assert any(item.device.kind == "work_phone" for item in offsite)
    batches = Counter(item.batch for item in offsite)
    assert max(batches.values()) == 2  # a laptop and a work phone signed out together

    gaps = {g.policy.title: g for g in services.policies.gaps()}
    assert gaps["School Acceptable Use Policy"].missing == ()
    assert 1 <= len(gaps[demo.LA_SAMPLE_TITLE].missing) <= 3
    untrained = services.policies.staff_without_vdu()
    assert 1 <= len(untrained) <= 5

    open_reviews = services.policies.reviews()
    assert any(r.status == "open" for r in open_reviews)
    exemptions = services.policies.exemptions()
    assert len(exemptions) == 1 and exemptions[0].staff.has_role(Role.SLT.value)

    # Wednesday 10:15: this morning's phones are in the staff room (the drawer was emptied).
    phones = services.phones.phones_now()
    assert len(phones) >= 25
    assert {h.store.code for h in phones} == {STAFF_ROOM_STORE}
    assert all(h.since.astimezone(LONDON).date() == SCHOOL_MORNING.date() for h in phones)

    workload = services.devices.workload()
    assert any(row.above_threshold for row in workload)


def test_history_is_plausible(built: tuple[Services, float]) -> None:
    services, _ = built
    history = events(services)
    assert all(e.occurred_at <= SCHOOL_MORNING for e in history)
    assert history[0].occurred_at >= SCHOOL_MORNING - timedelta(days=15)
    kinds = Counter(e.kind for e in history)
    # Anchors and recorded checks are taken by the office, not by a school's days.
    everyday = set(EventKind) - {
        EventKind.EXEMPTION_REVOKED,
        EventKind.ADMIN_LOCKOUT,
        EventKind.ANCHOR_TAKEN,
        EventKind.REGISTER_VERIFIED,
    }
    # Notices are recorded by `kiosk notify` (e-mail), which the demo does not run.
    everyday -= NOTICE_KINDS
    assert {kind for kind in everyday if kinds[kind] == 0} == set()
    local = [(e, e.occurred_at.astimezone(LONDON)) for e in history]
    assert all(at.weekday() < 5 for _, at in local)
    deposits = [at for e, at in local if e.kind == EventKind.PHONE_DEPOSITED.value]
    assert all((7, 20) <= (at.hour, at.minute) <= (8, 40) for at in deposits)
    collections = [at for e, at in local if e.kind == EventKind.PHONE_COLLECTED.value]
    assert all((15, 30) <= (at.hour, at.minute) <= (17, 30) for at in collections)
    # 25 Feb to 10 Mar has ten school days, then this morning.
    assert len({at.date() for at in deposits}) == 11

    # The breakfast-club lead logs colleagues' phones into the drawer, then moves them.
    lead = next(p for p in services.people.list_staff() if p.has_role("breakfast_club_lead"))
    logged = [
        e
        for e in history
        if e.kind == EventKind.PHONE_DEPOSITED.value
        and e.recorded_by_id == lead.id
        and e.staff_id != lead.id
    ]
    assert len(logged) >= 20
    moved = [e for e in history if e.kind == EventKind.PHONE_MOVED.value]
    assert moved and all(e.recorded_by_id == lead.id for e in moved)


def test_hash_chain_is_intact(built: tuple[Services, float]) -> None:
    services, _ = built
    previous = GENESIS_HASH
    history = events(services)
    assert len(history) > 500
    for e in history:
        assert e.prev_hash == previous
        assert e.hash == hash_of(e)
        previous = e.hash
    assert [e.occurred_at for e in history] == sorted(e.occurred_at for e in history)


def test_demo_admin_pin(
    built: tuple[Services, float], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIOSK_DATA_DIR", str(data_dir))  # where the PIN's secret key is
    services, _ = built
    assert services.admin.check_pin(demo.DEMO_ADMIN_PIN).ok
    # The register names who set it: the office manager the README points to.
    with services.ctx.read() as session:
        actions = session.scalars(
            select(Event).where(Event.kind == EventKind.ADMIN_ACTION.value)
        ).all()
        pin_set = [e for e in actions if e.details.get("action") == "admin_pin_set"]
        assert len(pin_set) == 1
        by = session.scalar(select(Staff.code).where(Staff.id == pin_set[0].staff_id))
        assert by == demo.DEMO_ADMIN


@pytest.mark.parametrize("now", [SATURDAY, SUMMER_AFTERNOON], ids=["saturday", "summer"])
def test_other_moments(now: datetime) -> None:
    demo.build_demo(load_settings(demo=True), now=now)
    services = open_demo()
    services.ctx.clock = lambda: now
    try:
        offsite = services.devices.offsite_now()
        assert len([i for i in offsite if i.overdue]) == 1
        assert len(offsite) >= 3
        phones = services.phones.phones_now()
        if now is SATURDAY:
            assert phones == ()
        else:  # 14:40 on a school day: phones in, none collected yet
            assert len(phones) >= 25
        history = events(services)
        assert max(e.occurred_at for e in history) <= now
        deposits = [
            e.occurred_at.astimezone(LONDON)
            for e in history
            if e.kind == EventKind.PHONE_DEPOSITED.value
        ]
        assert all((7, 20) <= (at.hour, at.minute) <= (8, 40) for at in deposits)
    finally:
        services.close()


def test_refresh_rebuilds_from_scratch_in_its_own_file() -> None:
    settings = load_settings(demo=True)
    assert settings.database_url == demo_database_url() != default_database_url()
    first = demo.build_demo(settings, now=SCHOOL_MORNING)
    services = open_demo()
    assert services.integrity.verify().ok  # this machine's witness now names its end
    services.people.add_staff("ZZTEST", "Someone Added Later")
    services.close()

    second = demo.build_demo(settings, now=SCHOOL_MORNING)
    assert second.path == first.path
    assert second.events == first.events
    services = open_demo()
    assert "ZZTEST" not in {p.code for p in services.people.list_staff()}
    # A new register, not the old one cut short: the old one's witness is gone with it (the
    # first check of the rebuilt school said "REGISTER TAMPERED WITH").
    report = services.integrity.verify()
    assert report.ok, report.summary
    services.close()
    leftovers = sorted(p.name for p in second.path.parent.iterdir() if "building" in p.name)
    assert leftovers == []
    assert not Path(default_database_url().removeprefix("sqlite:///")).exists()


def test_demo_refuses_a_database_that_is_not_a_file() -> None:
    from dataclasses import replace

    from kiosk.domain.errors import InvalidInput

    settings = replace(load_settings(), database_url="postgresql://localhost/kiosk")
    with pytest.raises(InvalidInput, match="own SQLite file"):
        demo.build_demo(settings)


def test_kiosk_demo_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out.splitlines()
    path = Path(demo_database_url().removeprefix("sqlite:///"))
    assert out[0].startswith("Demo school built in ")
    assert out[1] == f"Database: {path} (separate from the real database)"
    assert out[2] == "Demo admin PIN: 246810"
    assert out[3] == "Start the kiosk on it with: kiosk --demo"
    assert path.is_file()

"""A synthetic school for the benchmarks: N events (default 1,000,000) with a valid hash chain.

The school: 60 posts (head, two deputies with an SLT phone exemption, an office manager,
two breakfast-club leads, 30 teachers who use laptops, 24 support staff), filled by a
succession of people over the years (the ones who left are retired, never deleted),
15 laptops and 5 work phones, the two stores, a new School AUP each September and a new
LA policy every third January.

Each school day (weekdays outside the holidays), every member of staff who is in (95 %)
deposits a phone on arrival and collects it on leaving; some collect it at lunch and put
it back; the breakfast-club lead logs their own and two helpers' phones into the drawer
and moves them to the staff room at 08:50. About three laptops go home each afternoon
and come back the next morning (some late, some extended, a few very late); now and then
a trip takes a laptop and work phones for the day. New policy versions are acknowledged
over the following days (a few people take weeks), VDU training is declared on joining
and every three years (from 2000), there is the odd workstation review and the odd
correction (a wrong badge, a wrong label undone at the kiosk).

That is about 135 events a school day, ~26,000 a school year: a million events is about
38 school years of this school, so the history starts in the late 1980s and ends on
``ANCHOR_DAY`` mid-morning. The dataset is deterministic (fixed seed) and ends at a fixed
moment, so a built SQLite file can be cached and reused (see :func:`cached_sqlite`).

Events are written in id order with the same content and hash functions as
``UnitOfWork.record`` (``kiosk.domain.chain``), so the chain verifies (:func:`verify_chain`).
Bulk loading goes straight into a database migrated to head: SQLAlchemy Core executemany
in big batches on SQLite, COPY through psycopg on PostgreSQL. The append-only triggers
only refuse UPDATE and DELETE, and every constraint and index stays in place.

``python -m bench.synth --events N [--engine sqlite|postgresql] [--verify]`` builds one on
its own and prints what it made.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import os
import random
import shutil
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, event, insert, select

from kiosk.db import migrate
from kiosk.db.engine import make_engine, null_pool_engine
from kiosk.db.models import Device, Event, Policy, Staff, StaffRole
from kiosk.domain.chain import (
    EVENT_COLUMNS,
    GENESIS_HASH,
    event_mac,
    hash_of,
    sealed_event,
    text_fingerprint,
)
from kiosk.domain.events import SIGN_OUT_REASONS, EventKind
from kiosk.domain.reference import REFERENCE_FIELDS
from kiosk.resources import SEED_POLICY_TITLE
from kiosk.services.reference import all_table_rows, normalise_row

SEED = 2018
ZONE = ZoneInfo("Europe/London")
# The last day of the history (a Wednesday in term); it ends around ANCHOR_SECONDS.
ANCHOR_DAY = date(2026, 3, 11)
ANCHOR_SECONDS = 10 * 3600 + 30 * 60  # 10:30 local time
POSTS = 60
LAPTOPS = 15
WORK_PHONES = 5
KIOSK = "staffroom-kiosk"
OFFICE_KIOSK = "office-kiosk"
LA_TITLE = "LA Acceptable Use Policy"
VDU_FROM = date(2000, 1, 1)
BATCH_ROWS = 20_000

STAFFROOM_ID = 1  # created by migration 0001, in this order
DRAWER_ID = 2
SEED_POLICY_ID = 1  # the seed AUP's id in databases made before issue 16; left free now

HEAD, DEPUTIES, OFFICE, BC_LEADS = 0, (1, 2), 3, (4, 5)
TEACHERS = range(6, 36)  # laptop users

FIRST = [
    "Aisha",
    "Alex",
    "Amir",
    "Amy",
    "Anna",
    "Ben",
    "Beth",
    "Callum",
    "Chloe",
    "Dan",
    "Dina",
    "Ella",
    "Emma",
    "Faisal",
    "Finn",
    "Grace",
    "Hannah",
    "Harry",
    "Isla",
    "Jack",
    "James",
    "Jo",
    "Kate",
    "Leah",
    "Liam",
    "Lucy",
    "Maya",
    "Mo",
    "Nadia",
    "Noah",
    "Olivia",
    "Omar",
    "Priya",
    "Rosa",
    "Ruth",
    "Sam",
    "Sara",
    "Tom",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Adams",
    "Ahmed",
    "Ali",
    "Baker",
    "Bell",
    "Brown",
    "Clark",
    "Cole",
    "Cooper",
    "Davies",
    "Evans",
    "Fisher",
    "Ford",
    "Green",
    "Hall",
    "Harris",
    "Hill",
    "Hughes",
    "Hussain",
    "Jackson",
    "James",
    "Jones",
    "Khan",
    "King",
    "Lee",
    "Lewis",
    "Martin",
    "Mason",
    "Moore",
    "Morgan",
    "Murphy",
    "Nash",
    "Owen",
    "Patel",
    "Price",
    "Quinn",
    "Reid",
    "Roberts",
    "Robinson",
    "Scott",
    "Shah",
    "Singh",
    "Smith",
    "Stone",
    "Taylor",
    "Thomas",
    "Turner",
    "Walker",
    "Ward",
    "Watson",
    "White",
    "Wilson",
    "Wood",
    "Wright",
    "Young",
]
NEEDS = (
    "A laptop stand and separate keyboard",
    "A monitor riser: neck pain after marking",
    "An adjustable chair",
    "A footrest",
    "Screen filter for glare by the window",
)
CONDITIONS = ("Scuffed lid", "Charger missing, returned later", "Key sticking", "Fine")


# --- the school calendar ----------------------------------------------------------------


def _week_of(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=4)


def _holidays(year: int) -> list[tuple[date, date]]:
    return [
        (date(year, 1, 1), date(year, 1, 3)),
        _week_of(date(year, 2, 15)),
        (date(year, 4, 1), date(year, 4, 14)),
        _week_of(date(year, 5, 28)),
        (date(year, 7, 21), date(year, 9, 2)),
        _week_of(date(year, 10, 27)),
        (date(year, 12, 21), date(year, 12, 31)),
    ]


_HOLIDAY_CACHE: dict[int, list[tuple[date, date]]] = {}


def is_school_day(day: date) -> bool:
    if day.weekday() >= 5:
        return False
    spans = _HOLIDAY_CACHE.get(day.year)
    if spans is None:
        spans = _HOLIDAY_CACHE[day.year] = _holidays(day.year)
    return not any(a <= day <= b for a, b in spans)


def first_school_day(on_or_after: date) -> date:
    day = on_or_after
    while not is_school_day(day):
        day += timedelta(days=1)
    return day


def last_school_day(on_or_before: date) -> date:
    day = on_or_before
    while not is_school_day(day):
        day -= timedelta(days=1)
    return day


class Calendar:
    """School days from ``start`` on, with 'n school days later' lookups."""

    def __init__(self, start: date, end: date) -> None:
        self.days: list[date] = []
        day = start
        while day <= end:
            if is_school_day(day):
                self.days.append(day)
            day += timedelta(days=1)
        self._index = {d: i for i, d in enumerate(self.days)}

    def after(self, day: date, n: int) -> date:
        """The n-th school day after ``day`` (n=0: ``day`` itself, or the next school day)."""
        i = self._index.get(day)
        if i is None:
            i = bisect.bisect_left(self.days, day)
            n = max(n - 1, 0) if i < len(self.days) else n
        j = i + n
        if j >= len(self.days):
            return self.days[-1] + timedelta(days=7 * (j - len(self.days) + 1))
        return self.days[j]


# --- people, devices, policies -----------------------------------------------------------


@dataclass
class Holder:
    """One person holding a post from ``start`` to ``end`` (last day; None: still here)."""

    post: int
    start: date
    end: date | None
    first: str
    last: str
    id: int = 0
    code: str = ""
    line_manager: str | None = None

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def roles(self) -> tuple[str, ...]:
        if self.post == HEAD:
            return ("slt", "admin")
        if self.post in DEPUTIES:
            return ("slt",)
        if self.post == OFFICE:
            return ("admin",)
        if self.post in BC_LEADS:
            return ("breakfast_club_lead",)
        if self.post in TEACHERS:
            return ("laptop_user",)
        return ()


def _post_holders(post: int) -> list[Holder]:
    """Everyone who held a post, oldest first: independent of where the history starts."""
    rng = random.Random(f"{SEED}:post:{post}")
    year = ANCHOR_DAY.year - 1 - rng.randint(0, 14)  # the current holder joined then
    years = [year]
    while year > ANCHOR_DAY.year - 90:
        year -= rng.randint(2, 15)
        years.append(year)
    years.reverse()
    holders = []
    for i, y in enumerate(years):
        start = first_school_day(date(y, 9, 1))
        end = None
        if i + 1 < len(years):
            end = last_school_day(first_school_day(date(years[i + 1], 9, 1)) - timedelta(days=1))
        holders.append(Holder(post, start, end, rng.choice(FIRST), rng.choice(LAST)))
    return holders


@dataclass
class PolicyVersion:
    title: str
    version: str
    published: date
    id: int = 0

    @property
    def text(self) -> str:
        return (
            f"# {self.title}\n\nVersion: {self.version}\n\n"
            "Synthetic text for the benchmarks (not a real policy).\n"
        )

    @property
    def sha256(self) -> str:
        return text_fingerprint(self.text)


def _policy_schedule(first_year: int) -> list[PolicyVersion]:
    versions = []
    for year in range(first_year, ANCHOR_DAY.year + 2):
        if year % 3 == 1:
            versions.append(
                PolicyVersion(LA_TITLE, f"January {year}", first_school_day(date(year, 1, 4)))
            )
        versions.append(
            PolicyVersion(SEED_POLICY_TITLE, f"Autumn {year}", first_school_day(date(year, 9, 1)))
        )
    versions.sort(key=lambda v: (v.published, v.title))
    return versions


# --- events ------------------------------------------------------------------------------


class Ev:
    """An event before it has an id and a hash (``target`` is another Ev)."""

    __slots__ = (
        "at",
        "batch",
        "by",
        "details",
        "device",
        "due",
        "id",
        "kind",
        "kiosk",
        "policy",
        "staff",
        "store",
        "target",
    )

    def __init__(
        self,
        at: datetime,
        kind: EventKind,
        staff: int | None,
        by: int | None = None,
        *,
        kiosk: str = KIOSK,
        store: int | None = None,
        device: int | None = None,
        policy: int | None = None,
        target: Ev | None = None,
        batch: str | None = None,
        due: datetime | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.at = at
        self.kind = kind
        self.staff = staff
        self.by = by if by is not None else staff  # as UnitOfWork.record does
        self.kiosk = kiosk
        self.store = store
        self.device = device
        self.policy = policy
        self.target = target
        self.batch = batch
        self.due = due
        self.details = details or {}
        self.id = 0


@dataclass
class Out:
    """A device off site: its sign-out and when it comes back."""

    sign_out: Ev
    staff: int
    due: datetime
    return_day: date
    extend_day: date | None = None
    new_due: datetime | None = None


class School:
    """The school from its first day with the kiosk (``start``); yields each day's events."""

    def __init__(self, start: date) -> None:
        self.start = start
        self.calendar = Calendar(start, ANCHOR_DAY + timedelta(days=800))
        holders = [h for post in range(POSTS) for h in _post_holders(post)]
        self.people = [
            h for h in holders if h.start <= ANCHOR_DAY and (h.end is None or h.end >= start)
        ]
        self.people.sort(key=lambda h: (max(h.start, start), h.post))
        used: set[str] = set()
        for i, person in enumerate(self.people, start=1):
            person.id = i
            base = (person.first[0] + person.last).upper()[:10]
            code, n = base, 1
            while code in used:
                n += 1
                code = f"{base}{n}"
            used.add(code)
            person.code = code
        self.by_post: list[list[Holder]] = [[] for _ in range(POSTS)]
        for person in sorted(self.people, key=lambda h: h.start):
            self.by_post[person.post].append(person)
        for person in self.people:
            head = self.holder(HEAD, max(person.start, start))
            # Kept as the manager's code, as the roster import and the kiosk keep it.
            person.line_manager = None if person.post == HEAD else head.code
        self.laptops = list(range(1, LAPTOPS + 1))
        self.work_phones = list(range(LAPTOPS + 1, LAPTOPS + WORK_PHONES + 1))
        schedule = _policy_schedule(start.year - 4)
        self.policies: list[PolicyVersion] = []
        for title in (SEED_POLICY_TITLE, LA_TITLE):
            mine = [v for v in schedule if v.title == title]
            before = [v for v in mine if v.published <= start]
            self.policies += before[-1:] + [v for v in mine if v.published > start]
        self.policies.sort(key=lambda v: (v.published, v.title))
        for i, policy in enumerate(self.policies, start=SEED_POLICY_ID + 1):
            policy.id = i
        self.published: dict[date, list[PolicyVersion]] = defaultdict(list)
        for policy in self.policies:
            if policy.published > start:
                self.published[policy.published].append(policy)
        self.acks = self._plan_acks()
        self.vdu = self._plan_vdu()
        self.out: dict[int, Out] = {}
        self.laptop_of: dict[int, int] = {}
        self.recent: dict[int, list[date]] = defaultdict(list)
        self.reviews: list[tuple[Ev, date, int]] = []

    def holder(self, post: int, day: date) -> Holder:
        for person in self.by_post[post]:
            if person.start <= day and (person.end is None or person.end >= day):
                return person
        return self.by_post[post][0]

    def _plan_acks(self) -> dict[date, list[tuple[Holder, PolicyVersion]]]:
        plan: dict[date, list[tuple[Holder, PolicyVersion]]] = defaultdict(list)
        by_title: dict[str, list[PolicyVersion]] = defaultdict(list)
        for policy in self.policies:
            by_title[policy.title].append(policy)
        for person in self.people:
            for versions in by_title.values():
                for i, version in enumerate(versions):
                    nxt = versions[i + 1].published if i + 1 < len(versions) else None
                    trigger = max(version.published, person.start, self.start)
                    if nxt is not None and trigger >= nxt:
                        continue
                    rng = random.Random(
                        f"{SEED}:ack:{person.post}:{person.start}:{version.title}:{version.version}"
                    )
                    r = rng.random()
                    delay = (
                        rng.randint(0, 2)
                        if r < 0.55
                        else rng.randint(3, 10)
                        if r < 0.9
                        else rng.randint(11, 40)
                    )
                    day = self.calendar.after(trigger, delay)
                    if (nxt is not None and day >= nxt) or (
                        person.end is not None and day > person.end
                    ):
                        continue
                    plan[day].append((person, version))
        return plan

    def _plan_vdu(self) -> dict[date, list[Holder]]:
        plan: dict[date, list[Holder]] = defaultdict(list)
        for person in self.people:
            rng = random.Random(f"{SEED}:vdu:{person.post}:{person.start}")
            first = max(person.start, self.start, VDU_FROM)
            days = [self.calendar.after(first, rng.randint(0, 10))]
            year = days[0].year + 3
            while date(year, 9, 1) <= ANCHOR_DAY + timedelta(days=400):
                days.append(self.calendar.after(date(year, 9, 1), rng.randint(0, 15)))
                year += 3
            for day in days:
                if person.end is None or day <= person.end:
                    plan[day].append(person)
        return plan

    # --- one day -------------------------------------------------------------------------

    def days(self) -> Iterator[tuple[date, list[Ev]]]:
        for day in self.calendar.days:
            events = self.day(day)
            events.sort(key=lambda e: e.at)
            yield day, events

    def day(self, day: date) -> list[Ev]:
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=ZONE)
        offset = noon.utcoffset() or timedelta(0)
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) - offset

        def at(seconds: float, rng: random.Random) -> datetime:
            return midnight + timedelta(seconds=int(seconds), microseconds=rng.randrange(10**6))

        def local(seconds: float) -> datetime:
            return midnight + timedelta(seconds=seconds)

        rp = random.Random(f"{SEED}:phones:{day.isoformat()}")
        rd = random.Random(f"{SEED}:devices:{day.isoformat()}")
        rm = random.Random(f"{SEED}:misc:{day.isoformat()}")
        staff = [self.holder(post, day) for post in range(POSTS)]
        head, office = staff[HEAD], staff[OFFICE]
        events: list[Ev] = []

        def admin(seconds: float, action: str, by: Holder | None = None, **details: Any) -> None:
            who = by or office
            events.append(
                Ev(
                    at(seconds, rm),
                    EventKind.ADMIN_ACTION,
                    who.id,
                    kiosk=OFFICE_KIOSK,
                    details={"action": action, **details},
                )
            )

        # --- office work --------------------------------------------------------------
        new_year = day == first_school_day(date(day.year, 9, 1))
        if day == self.start:
            for i, person in enumerate(staff):
                admin(7 * 3600 + i, "staff_added", code=person.code)
            for i, tag in enumerate(self.device_tags()):
                admin(7 * 3600 + 120 + i, "device_added", tag=tag)
        for person in staff:
            if person.start == day and day != self.start:
                admin(9 * 3600 + person.post, "staff_added", code=person.code)
            if person.end == day:
                admin(15 * 3600 + 45 * 60 + person.post, "staff_retired", code=person.code)
        for policy in self.published.get(day, ()):
            events.append(
                Ev(
                    at(7 * 3600 + 600, rm),
                    EventKind.ADMIN_ACTION,
                    head.id,
                    kiosk=OFFICE_KIOSK,
                    policy=policy.id,
                    details={
                        "action": "policy_published",
                        "title": policy.title,
                        "version": policy.version,
                    },
                )
            )
        if day == self.start or new_year:
            until = date(day.year + (1 if day.month >= 8 else 0), 7, 31).isoformat()
            for post in DEPUTIES:
                events.append(
                    Ev(
                        at(7 * 3600 + 900 + post, rm),
                        EventKind.EXEMPTION_GRANTED,
                        staff[post].id,
                        head.id,
                        kiosk=OFFICE_KIOSK,
                        details={"granted_by": head.name, "until": until},
                    )
                )

        # --- phones -------------------------------------------------------------------
        present = [rp.random() < 0.95 for _ in range(POSTS)]
        arrive = [7 * 3600 + 25 * 60 + rp.random() * 80 * 60 for _ in range(POSTS)]
        leave = [15 * 3600 + 20 * 60 + rp.random() * 140 * 60 for _ in range(POSTS)]
        lunch = [rp.random() < 0.12 for _ in range(POSTS)]
        lead_post = BC_LEADS[day.toordinal() % 2]
        if not present[lead_post]:
            lead_post = BC_LEADS[(day.toordinal() + 1) % 2]
        helpers = rp.sample(range(6, POSTS), 2)
        lead = staff[lead_post] if present[lead_post] else None
        absent = [p for p in range(POSTS) if not present[p] and p not in DEPUTIES]
        drawer: list[Holder] = []
        for post, person in enumerate(staff):
            if post in DEPUTIES or not present[post]:
                continue
            if lead is not None and post == lead_post:
                t = 7 * 3600 + 30 * 60 + rp.random() * 300
                events.append(
                    Ev(
                        at(t, rp),
                        EventKind.PHONE_DEPOSITED,
                        person.id,
                        kiosk=OFFICE_KIOSK,
                        store=DRAWER_ID,
                    )
                )
                drawer.append(person)
            elif lead is not None and post in helpers:
                t = 7 * 3600 + 36 * 60 + rp.random() * 600
                events.append(
                    Ev(
                        at(t, rp),
                        EventKind.PHONE_DEPOSITED,
                        person.id,
                        lead.id,
                        kiosk=OFFICE_KIOSK,
                        store=DRAWER_ID,
                    )
                )
                drawer.append(person)
            else:
                t = arrive[post]
                if absent and rp.random() < 0.003:  # someone scans the wrong badge
                    other = staff[rp.choice(absent)]
                    wrong = Ev(
                        at(t - 40, rp), EventKind.PHONE_DEPOSITED, other.id, store=STAFFROOM_ID
                    )
                    fixer = office if present[OFFICE] else head
                    events.append(wrong)
                    events.append(
                        Ev(
                            at(t + 120 + rp.random() * 240, rp),
                            EventKind.CORRECTION,
                            other.id,
                            fixer.id,
                            kiosk=OFFICE_KIOSK,
                            target=wrong,
                            details={
                                "reason": "Wrong badge scanned",
                                "voided_kind": "phone_deposited",
                            },
                        )
                    )
                events.append(
                    Ev(at(t, rp), EventKind.PHONE_DEPOSITED, person.id, store=STAFFROOM_ID)
                )
            if lunch[post]:
                t = 12 * 3600 + rp.random() * 1200
                events.append(
                    Ev(at(t, rp), EventKind.PHONE_COLLECTED, person.id, store=STAFFROOM_ID)
                )
                t = 12 * 3600 + 40 * 60 + rp.random() * 1800
                events.append(
                    Ev(at(t, rp), EventKind.PHONE_DEPOSITED, person.id, store=STAFFROOM_ID)
                )
            events.append(
                Ev(at(leave[post], rp), EventKind.PHONE_COLLECTED, person.id, store=STAFFROOM_ID)
            )
        for i, person in enumerate(drawer):
            assert lead is not None
            events.append(
                Ev(
                    at(8 * 3600 + 50 * 60 + i * 3, rp),
                    EventKind.PHONE_MOVED,
                    person.id,
                    lead.id,
                    kiosk=OFFICE_KIOSK,
                    store=STAFFROOM_ID,
                    details={"from_store": "DRAWER"},
                )
            )

        # --- laptops and work phones --------------------------------------------------
        busy: set[int] = set()
        for device in sorted(self.out):
            out = self.out[device]
            if out.extend_day == day and out.new_due is not None:
                events.append(
                    Ev(
                        at(8 * 3600 + rd.random() * 1200, rd),
                        EventKind.RETURN_EXTENDED,
                        out.staff,
                        device=device,
                        target=out.sign_out,
                        due=out.new_due,
                        details={"reason": "Still finishing reports"},
                    )
                )
                out.due, out.extend_day = out.new_due, None
            if out.return_day == day:
                t = 7 * 3600 + 30 * 60 + rd.random() * 4500
                by = office.id if rd.random() < 0.2 and present[OFFICE] else None
                note = rd.choice(CONDITIONS) if rd.random() < 0.1 else ""
                events.append(
                    Ev(
                        at(t, rd),
                        EventKind.DEVICE_RETURNED,
                        out.staff,
                        by,
                        device=device,
                        target=out.sign_out,
                        details={"condition": note} if note else {},
                    )
                )
                del self.out[device]
                if self.laptop_of.get(out.staff) == device:
                    del self.laptop_of[out.staff]
                busy.add(device)  # back this morning: not signed out again today

        def free(devices: list[int]) -> list[int]:
            return [d for d in devices if d not in self.out and d not in busy]

        if rd.random() < 0.15:  # a trip: a laptop and work phones, back the same day
            post = rd.choice(list(TEACHERS))
            person = staff[post]
            laptops, phones = free(self.laptops), free(self.work_phones)
            if present[post] and person.id not in self.laptop_of and laptops and phones:
                kit = [rd.choice(laptops), *rd.sample(phones, min(len(phones), rd.randint(1, 2)))]
                start_t = 8 * 3600 + rd.random() * 1800
                due = local(17 * 3600)
                batch = str(uuid.UUID(int=rd.getrandbits(128), version=4))
                for device in kit:
                    details: dict[str, Any] = {"reason": "School trip or visit"}
                    if device in self.work_phones:
                        details["charged"] = True
                    sign_out = Ev(
                        at(start_t, rd),
                        EventKind.DEVICE_SIGNED_OUT,
                        person.id,
                        device=device,
                        batch=batch,
                        due=due,
                        details=details,
                    )
                    events.append(sign_out)
                    events.append(
                        Ev(
                            at(16 * 3600 + 30 * 60 + rd.random() * 3600, rd),
                            EventKind.DEVICE_RETURNED,
                            person.id,
                            device=device,
                            target=sign_out,
                        )
                    )
                    busy.add(device)

        due_day = self.calendar.after(day, 1)
        due = datetime(due_day.year, due_day.month, due_day.day, 8, 30, tzinfo=ZONE).astimezone(UTC)
        wants = [rd.random() < 0.10 for _ in TEACHERS]
        for post, want in zip(TEACHERS, wants, strict=True):
            person = staff[post]
            laptops = free(self.laptops)
            if not want or not present[post] or person.id in self.laptop_of or not laptops:
                continue
            t = 15 * 3600 + 15 * 60 + rd.random() * 5400
            recent = [d for d in self.recent[person.id] if (day - d).days < 28]
            details = {"reason": rd.choice(SIGN_OUT_REASONS)}
            if len(recent) >= 2:
                details["line_manager"] = person.line_manager or head.code
            device = rd.choice(laptops)
            if rd.random() < 0.005 and len(laptops) > 1:  # wrong label, undone at once
                wrong_device = rd.choice([d for d in laptops if d != device])
                wrong = Ev(
                    at(t - 200, rd),
                    EventKind.DEVICE_SIGNED_OUT,
                    person.id,
                    device=wrong_device,
                    batch=str(uuid.UUID(int=rd.getrandbits(128), version=4)),
                    due=due,
                    details=dict(details),
                )
                events.append(wrong)
                events.append(
                    Ev(
                        at(t - 100, rd),
                        EventKind.CORRECTION,
                        person.id,
                        target=wrong,
                        details={
                            "reason": "undone at the kiosk",
                            "voided_kind": "device_signed_out",
                        },
                    )
                )
            sign_out = Ev(
                at(t, rd),
                EventKind.DEVICE_SIGNED_OUT,
                person.id,
                device=device,
                batch=str(uuid.UUID(int=rd.getrandbits(128), version=4)),
                due=due,
                details=details,
            )
            events.append(sign_out)
            self.recent[person.id] = [*recent, day]
            self.laptop_of[person.id] = device
            r = rd.random()
            out = Out(sign_out, person.id, due, due_day)
            if r < 0.90:
                pass
            elif r < 0.97:
                out.return_day = self.calendar.after(due_day, rd.randint(1, 3))
            elif r < 0.99:
                out.extend_day = due_day
                out.return_day = self.calendar.after(due_day, 2)
                rd_day = out.return_day
                out.new_due = datetime(
                    rd_day.year, rd_day.month, rd_day.day, 8, 30, tzinfo=ZONE
                ).astimezone(UTC)
            else:
                out.return_day = self.calendar.after(due_day, rd.randint(5, 25))
            self.out[device] = out

        # --- policies, VDU, reviews -----------------------------------------------------
        for person, policy in self.acks.get(day, ()):
            t = arrive[person.post] + 60 + rm.random() * 600
            events.append(
                Ev(
                    at(t, rm),
                    EventKind.POLICY_ACKNOWLEDGED,
                    person.id,
                    policy=policy.id,
                    details={
                        "version": policy.version,
                        "sha256": policy.sha256,
                        "title": policy.title,
                    },
                )
            )
        for person in self.vdu.get(day, ()):
            done = max(day - timedelta(days=rm.randint(0, 20)), VDU_FROM)
            events.append(
                Ev(
                    at(arrive[person.post] + 30 + rm.random() * 600, rm),
                    EventKind.VDU_TRAINING_DECLARED,
                    person.id,
                    details={"completed_on": done.isoformat()},
                )
            )
        if rm.random() < 0.02:
            person = staff[rm.randrange(POSTS)]
            request = Ev(
                at(13 * 3600 + rm.random() * 3600, rm),
                EventKind.WORKSTATION_REVIEW_REQUESTED,
                person.id,
                details={"needs": rm.choice(NEEDS)},
            )
            events.append(request)
            self.reviews.append((request, self.calendar.after(day, 5), 0))
        pending = []
        for request, when, stage in self.reviews:
            if when != day:
                pending.append((request, when, stage))
                continue
            status = "taken_up" if stage == 0 else "done"
            events.append(
                Ev(
                    at(16 * 3600 + rm.random() * 1800, rm),
                    EventKind.WORKSTATION_REVIEW_UPDATED,
                    request.staff,
                    head.id,
                    kiosk=OFFICE_KIOSK,
                    target=request,
                    details={"status": status, "note": "" if stage == 0 else "Equipment fitted"},
                )
            )
            if stage == 0:
                pending.append((request, self.calendar.after(day, 10), 1))
        self.reviews = pending
        return events

    def device_tags(self) -> list[str]:
        return [f"LAP-{i:03d}" for i in self.laptops] + [
            f"WP-{i - LAPTOPS:02d}" for i in self.work_phones
        ]


# --- planning: where the history must start to end at the anchor with N events ------------


def _estimate_start(events: int, per_day: float) -> date:
    days = int(events / per_day) + 1
    day = ANCHOR_DAY
    counted = 0
    while counted < days:
        day -= timedelta(days=1)
        if is_school_day(day):
            counted += 1
    return day


def _landing(start: date, events: int, target: datetime) -> tuple[datetime, int]:
    """Dry run (no hashing) from ``start``: when the N-th event happens, and how many events
    lie between it and ``target`` (positive: it is before the target)."""
    school = School(start)
    # The list events: the baseline first (about one a row: people, devices, policies and the
    # two seeded stores), then each leaving before the day after it (``leavings``).
    count = (
        len(school.people)
        + len(school.laptops)
        + len(school.work_phones)
        + len(school.policies)
        + 2
    )
    leaving = sorted(p.end for p in school.people if p.end is not None and p.end <= ANCHOR_DAY)
    landed: datetime | None = None
    between = 0
    for day, evs in school.days():
        while leaving and leaving[0] < day:
            leaving.pop(0)
            count += 1
        for ev in evs:
            count += 1
            if count == events:
                landed = ev.at
            if landed is not None:
                if ev.at > target:
                    return landed, between
                between += 1
            elif ev.at > target:
                between -= 1
    raise AssertionError("the calendar ended first")


def plan_start(events: int, log: Callable[[str], None] = lambda _m: None) -> date:
    """The first day, chosen so that the N-th event falls in a school day's working hours
    (08:45 to 15:00 local time: phones in the stores, laptops out) in the week that ends
    on ANCHOR_DAY.

    Dry runs (events generated, not hashed) from a first guess; each one moves the first
    day by as many school days as the miss from ANCHOR_DAY 10:30 is worth.
    """
    midnight = datetime(ANCHOR_DAY.year, ANCHOR_DAY.month, ANCHOR_DAY.day, tzinfo=ZONE)
    target = midnight + timedelta(seconds=ANCHOR_SECONDS)
    per_day = 133.0
    start = _estimate_start(events, per_day)
    tried: dict[date, datetime] = {}
    for _attempt in range(8):
        landed, between = _landing(start, events, target)
        tried[start] = landed
        log(f"dry run from {start}: the last event lands at {landed:%Y-%m-%d %H:%M} UTC")
        local = landed.astimezone(ZONE)
        hours = local.hour + local.minute / 60
        if ANCHOR_DAY - timedelta(days=7) < local.date() <= ANCHOR_DAY and 8.75 <= hours <= 15:
            return start
        shift = round(between / per_day) or (1 if between > 0 else -1)
        step = timedelta(days=1 if shift > 0 else -1)
        for _ in range(abs(shift)):
            start += step
            while not is_school_day(start):
                start += step
        while start in tried:  # already seen: try the next day out instead
            start += step
            while not is_school_day(start):
                start += step
    return min(tried, key=lambda d: abs((tried[d] - target).total_seconds()))


# --- building -----------------------------------------------------------------------------


@dataclass
class SynthInfo:
    """What a build made: shown with the results, used to pick the benchmarks' inputs."""

    events: int
    first_day: str
    last_event_at: str
    now: str  # the benchmarks' clock starts here (a minute after the last event)
    busiest_day: str
    busiest_day_events: int
    typical_day_events: int
    school_years: float
    staff: int
    staff_active: int
    devices: int
    policies: int
    corrections: int
    kinds: dict[str, int] = field(default_factory=dict)
    build_seconds: float = 0.0
    engine: str = ""
    schema: str = ""

    @property
    def now_dt(self) -> datetime:
        return datetime.fromisoformat(self.now)

    @property
    def busiest(self) -> date:
        return date.fromisoformat(self.busiest_day)

    def summary(self) -> str:
        return (
            f"{self.events:,} events over {self.school_years:.0f} school years "
            f"({self.first_day} to {self.last_event_at[:10]}) of a {POSTS}-post school: "
            f"{self.staff} staff ({self.staff_active} current), {self.devices} devices, "
            f"{self.policies} policy versions, {self.corrections:,} corrections; "
            f"a typical school day has {self.typical_day_events} events, the busiest "
            f"({self.busiest_day}) {self.busiest_day_events}"
        )


def _reference_rows(school: School) -> dict[str, list[dict[str, Any]]]:
    def local_at(day: date, hour: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, tzinfo=ZONE).astimezone(UTC)

    staff, roles = [], []
    for person in school.people:
        joined = max(person.start, school.start)
        retired = None
        if person.end is not None and person.end <= ANCHOR_DAY:
            retired = local_at(person.end, 16)
        staff.append(
            {
                "id": person.id,
                "code": person.code,
                "name": person.name,
                "email": f"{person.code.lower()}@school.example",
                "line_manager": person.line_manager,
                "created_at": local_at(joined, 7),
                "retired_at": retired,
            }
        )
        roles += [{"staff_id": person.id, "role": role} for role in person.roles]
    devices = []
    for device_id, tag in zip(
        school.laptops + school.work_phones, school.device_tags(), strict=True
    ):
        devices.append(
            {
                "id": device_id,
                "tag": tag,
                "kind": "laptop" if device_id in school.laptops else "work_phone",
                "description": f"Synthetic {'laptop' if device_id in school.laptops else 'phone'}",
                "created_at": local_at(school.start, 7),
                "retired_at": None,
            }
        )
    policies = [
        {
            "id": p.id,
            "title": p.title,
            "version": p.version,
            "text": p.text,
            "sha256": p.sha256,
            "required": True,
            "published_at": local_at(p.published, 7),
        }
        for p in school.policies
    ]
    return {"staff": staff, "staff_roles": roles, "devices": devices, "policies": policies}


# EVENT_COLUMNS (kiosk.domain.chain): every column of events, the MAC last.


class _Tally:
    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.per_day: Counter[date] = Counter()
        self.last_at: datetime | None = None


def baseline_details(
    reference: dict[str, list[dict[str, Any]]], stored: dict[str, dict[Any, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The list rows as the kiosk's first write records them (``UnitOfWork.ensure_baseline``:
    one ``reference_changed`` event each, reason "baseline", before any other event): the
    synthetic lists, and what the database already holds (the seeded stores). Everyone is
    in as not yet left: each leaving is recorded when it happens (``leavings``), so that
    verify knows who the admins were at each correction (those who left long ago made the
    old ones)."""
    roles: dict[Any, list[str]] = defaultdict(list)
    for row in reference["staff_roles"]:
        roles[row["staff_id"]].append(row["role"])
    rows: dict[str, dict[Any, dict[str, Any]]] = {t: dict(v) for t, v in stored.items()}
    for table in ("staff", "devices", "policies"):
        for row in reference[table]:
            fields = {k: v for k, v in row.items() if k != "id"}
            if table == "staff":
                fields["roles"] = roles.get(row["id"], [])
                fields["retired_at"] = None
            rows[table][row["id"]] = normalise_row(table, fields) or {}
    return [
        {"table": table, "key": key, "row": rows[table][key], "reason": "baseline"}
        for table in REFERENCE_FIELDS
        for key in sorted(rows.get(table, {}))
    ]


def leavings(
    school: School, reference: dict[str, list[dict[str, Any]]]
) -> list[tuple[datetime, int, dict[str, Any]]]:
    """Each leaver's row recorded again as they leave (its ``retired_at`` set), by an admin
    who stays (the office, else the head): (when, by whom, the event's details), in time
    order."""
    roles: dict[Any, list[str]] = defaultdict(list)
    for row in reference["staff_roles"]:
        roles[row["staff_id"]].append(row["role"])
    out = []
    for row in reference["staff"]:
        left = row["retired_at"]
        if left is None:
            continue
        day = left.astimezone(ZONE).date()
        # An admin still there after that day (the head and the office may leave together):
        # one in post already, the office first.
        staying = [
            p
            for p in school.people
            if "admin" in p.roles and p.id != row["id"] and (p.end is None or p.end > day)
        ]
        by = min(staying, key=lambda p: (p.start > day, p.post != OFFICE, p.start)).id
        fields = {k: v for k, v in row.items() if k != "id"}
        fields["roles"] = roles.get(row["id"], [])
        details = {
            "table": "staff",
            "key": row["id"],
            "row": normalise_row("staff", fields) or {},
            "reason": "left the school",
        }
        out.append((left, by, details))
    return sorted(out, key=lambda leaving: leaving[0])


def _with_labels(ev: Ev, labels: dict[tuple[str, Any], Any]) -> dict[str, Any]:
    """``ev``'s details with the codes and tag ``UnitOfWork.record`` adds."""
    details = dict(ev.details)
    by = ev.by if ev.by != ev.staff else None
    for key, where in (
        ("staff_code", ("staff", ev.staff)),
        ("recorded_by_code", ("staff", by)),
        ("device_tag", ("devices", ev.device)),
        ("store_code", ("stores", ev.store)),
    ):
        label = labels.get(where)
        if isinstance(label, str) and key not in details:
            details[key] = label
    return details


def _list_event(
    event_id: int, at: datetime, by: int | None, details: dict[str, Any], prev: str, key: bytes
) -> dict[str, Any]:
    """A ``reference_changed`` event as the office's kiosk records it."""
    return sealed_event(
        event_id,
        at,
        EventKind.REFERENCE_CHANGED,
        kiosk=OFFICE_KIOSK,
        details=details,
        prev_hash=prev,
        key=key,
        staff_id=by,
        recorded_by_id=by,
    )


def event_rows(
    school: School,
    events: int,
    tally: _Tally,
    baseline: list[dict[str, Any]] | None = None,
    leaving: Sequence[tuple[datetime, int, dict[str, Any]]] = (),
) -> Iterator[tuple[Any, ...]]:
    """Exactly ``events`` rows in id order, each chained to the one before: the ``baseline``
    list events first (at the first day's 06:00), then the school's, each ``leaving``
    recorded before the first day after it (after the day's last event)."""
    prev = GENESIS_HASH
    next_id = 1
    key = bench_key()
    first_at = datetime(
        school.start.year, school.start.month, school.start.day, 6, tzinfo=ZONE
    ).astimezone(UTC)
    for details in baseline or ():
        row = _list_event(next_id, first_at, None, details, prev, key)
        digest = row["hash"]
        yield tuple(row.values())
        tally.kinds[row["kind"]] += 1
        tally.per_day[school.start] += 1
        prev = digest
        next_id += 1
        if next_id > events:
            return
    pending = list(leaving)
    # The code and tag each event carries, as the kiosk read them from the lists (the
    # synthetic lists do not change after the baseline).
    labels = {
        (d["table"], d["key"]): d["row"].get("tag" if d["table"] == "devices" else "code")
        for d in baseline or ()
        if d["table"] in ("staff", "devices", "stores")
    }
    for day, evs in school.days():
        while pending and pending[0][0].astimezone(ZONE).date() < day:
            left, by, details = pending.pop(0)
            at = max(left, (tally.last_at or left) + timedelta(seconds=1))
            row = _list_event(next_id, at, by, details, prev, key)
            digest = row["hash"]
            yield tuple(row.values())
            tally.kinds[row["kind"]] += 1
            tally.last_at = at
            prev = digest
            next_id += 1
            if next_id > events:
                return
        for ev in evs:
            ev.id = next_id
            row = sealed_event(  # as UnitOfWork.record makes it
                next_id,
                ev.at,
                ev.kind,
                kiosk=ev.kiosk,
                details=_with_labels(ev, labels),
                prev_hash=prev,
                key=key,
                staff_id=ev.staff,
                recorded_by_id=ev.by,
                store_id=ev.store,
                device_id=ev.device,
                policy_id=ev.policy,
                target_event_id=ev.target.id if ev.target is not None else None,
                batch=ev.batch,
                due_at=ev.due,
            )
            digest = row["hash"]
            yield tuple(row.values())
            tally.kinds[row["kind"]] += 1
            tally.per_day[day] += 1
            tally.last_at = ev.at
            prev = digest
            next_id += 1
            if next_id > events:
                return


def _batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def build(
    engine: Engine,
    events: int,
    *,
    start: date | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> SynthInfo:
    """Fill a database at schema head (with nothing recorded yet) with the synthetic school."""
    began = time.perf_counter()
    if start is None:
        start = plan_start(events, log)
    school = School(start)
    tally = _Tally()
    reference = _reference_rows(school)
    with engine.connect() as conn:
        stored = all_table_rows(conn)
    rows = event_rows(
        school, events, tally, baseline_details(reference, stored), leavings(school, reference)
    )
    if engine.dialect.name == "postgresql":
        _load_postgresql(engine, reference, rows, log)
    else:
        _load_sqlite(engine, reference, rows)
    assert tally.last_at is not None
    loaded = time.perf_counter()
    log(f"{events:,} events generated, hashed and loaded in {loaded - began:.1f} s")
    # Read back through the ORM types: the chain must verify at both ends.
    verify_chain(engine, last=min(events, 2000))
    verify_chain(engine, first=max(1, events - 2000))
    school_days = [n for d, n in tally.per_day.items() if d not in (start, ANCHOR_DAY)]
    # The busiest ordinary day: the kiosk's first day (everyone added) is not one.
    ordinary = {d: n for d, n in tally.per_day.items() if d != start} or tally.per_day
    busiest = max(ordinary.items(), key=lambda kv: (kv[1], kv[0]))
    now = (tally.last_at + timedelta(minutes=1)).replace(second=0, microsecond=0)
    return SynthInfo(
        events=events,
        first_day=start.isoformat(),
        last_event_at=tally.last_at.isoformat(),
        now=now.isoformat(),
        busiest_day=busiest[0].isoformat(),
        busiest_day_events=busiest[1],
        typical_day_events=sorted(school_days)[len(school_days) // 2] if school_days else 0,
        school_years=len(tally.per_day) / 190,
        staff=len(school.people),
        staff_active=sum(1 for s in reference["staff"] if s["retired_at"] is None),
        devices=len(reference["devices"]),
        policies=len(reference["policies"]),  # a new database has no seed policy (issue 16)
        corrections=tally.kinds.get(EventKind.CORRECTION.value, 0),
        kinds=dict(tally.kinds.most_common()),
        build_seconds=round(time.perf_counter() - began, 1),
        engine=engine.dialect.name,
        schema=migrate.head_revision(),
    )


def _sqlite_time(moment: datetime | None) -> str | None:
    """What UTCDateTime stores on SQLite: naive UTC, SQLAlchemy's DATETIME text format."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _load_sqlite(
    engine: Engine, reference: dict[str, list[dict[str, Any]]], rows: Iterator[tuple[Any, ...]]
) -> None:
    """Executemany in big batches through the Core connection, one transaction, every index
    and trigger in place. The small tables go through ``insert()``; the events, for speed,
    as driver-level rows already in the form SQLAlchemy stores (times as UTCDateTime writes
    them, details through ``json.dumps`` as the JSON type does): :func:`build` then checks a
    window at each end of the chain through the ORM types, so a difference would show.
    """

    @event.listens_for(engine, "connect")
    def fast(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")  # a build: the file is renamed in at the end
        cursor.execute("PRAGMA cache_size=-1000000")
        cursor.close()

    sql = f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * 17)})"
    dumps = json.dumps
    with engine.begin() as conn:
        # The secondary indexes are dropped for the load and re-created from their own DDL
        # (as the migrations made them): one sorted build each instead of a million inserts.
        indexes = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' "
            "AND sql IS NOT NULL"
        ).all()
        for name, _ddl in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        for model in (Staff, StaffRole, Device, Policy):
            conn.execute(insert(model), reference[str(model.__tablename__)])
        for batch in _batches(rows, BATCH_ROWS):
            conn.exec_driver_sql(
                sql,
                [
                    (
                        *r[:1],
                        _sqlite_time(r[1]),
                        *r[2:12],
                        _sqlite_time(r[12]),
                        dumps(r[13]) if r[13] else "{}",
                        r[14],
                        r[15],
                        r[16],
                    )
                    for r in batch
                ],
            )
        for _name, ddl in indexes:
            conn.exec_driver_sql(ddl)
    event.remove(engine, "connect", fast)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _load_postgresql(
    engine: Engine,
    reference: dict[str, list[dict[str, Any]]],
    rows: Iterator[tuple[Any, ...]],
    log: Callable[[str], None],
) -> None:
    """COPY through psycopg; then the sequences, VACUUM ANALYZE and a checkpoint.

    In the load's transaction the foreign keys and secondary indexes of ``events`` are
    dropped and re-created afterwards from their own definitions (one validating join and
    one sorted build each, instead of five trigger checks and six index inserts per row).
    The primary key, the unique hash and the append-only triggers stay throughout.
    """
    with engine.begin() as conn:
        for model in (Staff, StaffRole, Device, Policy):
            conn.execute(insert(model), reference[str(model.__tablename__)])
    raw = engine.raw_connection()
    try:
        pg = raw.driver_connection
        assert pg is not None
        with pg.cursor() as cur:
            cur.execute("SET synchronous_commit = off")  # the load only; not the benchmarks
            cur.execute("SET maintenance_work_mem = '256MB'")
            cur.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'events'::regclass AND contype = 'f'"
            )
            foreign_keys = cur.fetchall()
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes i "
                "WHERE tablename = 'events' AND schemaname = current_schema() "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conrelid = 'events'::regclass AND c.conname = i.indexname)"
            )
            indexes = cur.fetchall()
            for name, _ in foreign_keys:
                cur.execute(f'ALTER TABLE events DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            columns = ", ".join(EVENT_COLUMNS)
            began = time.perf_counter()
            with cur.copy(f"COPY events ({columns}) FROM STDIN") as copy:
                dumps = json.dumps
                for row in rows:
                    copy.write_row((*row[:13], dumps(row[13]), row[14], row[15], row[16]))
            copied = time.perf_counter()
            for _, ddl in indexes:
                cur.execute(ddl)
            for name, ddl in foreign_keys:
                cur.execute(f'ALTER TABLE events ADD CONSTRAINT "{name}" {ddl}')
            log(
                f"COPY {copied - began:.1f} s, then {len(indexes)} indexes and "
                f"{len(foreign_keys)} foreign keys in {time.perf_counter() - copied:.1f} s"
            )
            for name in ("staff", "devices", "policies", "events"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))"
                )
        pg.commit()
        pg.autocommit = True
        began = time.perf_counter()
        with pg.cursor() as cur:
            # What autovacuum would have done by the time a school had a million events.
            cur.execute("VACUUM ANALYZE")
            cur.execute("CHECKPOINT")
        log(f"VACUUM ANALYZE and CHECKPOINT in {time.perf_counter() - began:.1f} s")
        pg.autocommit = False
    finally:
        raw.close()


def verify_chain(engine: Engine, *, first: int = 1, last: int | None = None) -> int:
    """Recompute the hash of events ``first``..``last`` as UnitOfWork.record would.

    Raises AssertionError at the first event whose hash or link does not match; returns
    the number of events checked.
    """
    stmt = select(Event).where(Event.id >= first).order_by(Event.id)
    if last is not None:
        stmt = stmt.where(Event.id <= last)
    checked = 0
    prev: str | None = None
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        for ev in session.scalars(stmt.execution_options(yield_per=5000)):
            if prev is None and ev.id > 1:
                prev = session.scalar(select(Event.hash).where(Event.id == ev.id - 1))
            expected_prev = prev or GENESIS_HASH
            assert ev.prev_hash == expected_prev, f"event {ev.id}: broken link"
            assert hash_of(ev) == ev.hash, f"event {ev.id}: wrong hash"
            assert ev.mac == event_mac(bench_key(), ev.hash), f"event {ev.id}: wrong MAC"
            prev = ev.hash
            checked += 1
            session.expunge(ev)
    return checked


# --- the SQLite cache ---------------------------------------------------------------------


def _source_digest() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:10]


def bench_key() -> bytes:
    """The school key the events' MACs are made with: this machine's (created at first need),
    as the kiosk that later verifies the database uses."""
    from kiosk.services.secret import school_key

    return school_key(create=True)


def cache_key(events: int) -> str:
    """Size + schema head + this generator's source + the school key's fingerprint: a change
    to any of them rebuilds."""
    key = hashlib.sha256(bench_key()).hexdigest()[:8]
    # The shipped head read as the kiosk reads it at start (no Alembic import): the UI figures
    # are taken in this process, and Alembic with Mako and Pygments would add about 21,000
    # long-lived objects that a kiosk does not carry, to every full collection measured.
    head = migrate.shipped_head() or migrate.head_revision()
    return f"school-{events}-{head}-{_source_digest()}-{key}"


def build_sqlite_file(
    path: Path,
    events: int,
    *,
    cache_dir: Path | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> SynthInfo:
    """Build the school into a new SQLite file (written aside, renamed in when complete)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".building-{os.getpid()}")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    engine = null_pool_engine(f"sqlite:///{tmp}")
    try:
        migrate.upgrade(engine)
        start = _cached_start(cache_dir or path.parent, events, log)
        info = build(engine, events, start=start, log=log)
    finally:
        engine.dispose()
    os.replace(tmp, path)
    return info


def _cached_start(folder: Path, events: int, log: Callable[[str], None]) -> date:
    """The planned first day, remembered: the PostgreSQL build each run reuses it."""
    plan = folder / f"plan-{events}-{_source_digest()}.json"
    if plan.exists():
        return date.fromisoformat(json.loads(plan.read_text())["start"])
    log(f"planning the history of {events:,} events (a dry run)")
    start = plan_start(events, log)
    folder.mkdir(parents=True, exist_ok=True)
    plan.write_text(json.dumps({"start": start.isoformat()}))
    return start


def cached_sqlite(
    events: int,
    cache_dir: Path,
    *,
    rebuild: bool = False,
    log: Callable[[str], None] = lambda _m: None,
) -> tuple[Path, SynthInfo, bool]:
    """The cached SQLite school of this size and schema, built when missing.

    Returns (path, info, built_now). Older cached schools of other keys are removed. Copy
    the file before writing to it: the benchmarks must not change the cached one.
    """
    key = cache_key(events)
    path = cache_dir / f"{key}.sqlite3"
    meta = cache_dir / f"{key}.json"
    if path.exists() and meta.exists() and not rebuild:
        return path, SynthInfo(**json.loads(meta.read_text())), False
    if cache_dir.exists():
        for stale in cache_dir.glob("school-*"):
            if not stale.name.startswith(key + "."):
                stale.unlink(missing_ok=True)
    log(f"building the synthetic school ({events:,} events) into {path}")
    info = build_sqlite_file(path, events, cache_dir=cache_dir, log=log)
    meta.write_text(json.dumps(asdict(info), indent=2))
    return path, info, True


def build_postgresql(
    url: str, events: int, cache_dir: Path, *, log: Callable[[str], None] = lambda _m: None
) -> SynthInfo:
    """Migrate an empty PostgreSQL database to head and load the school into it."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        return build(engine, events, start=_cached_start(cache_dir, events, log), log=log)
    finally:
        engine.dispose()


def copy_database(source: Path, dest: Path) -> None:
    shutil.copyfile(source, dest)


# --- command line -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.synth", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--out", type=Path, help="SQLite file to write (default: the cache)")
    parser.add_argument("--verify", action="store_true", help="recompute every hash afterwards")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    from bench import BenchContext

    ctx = BenchContext(events=args.events, rebuild=args.rebuild)
    try:
        if args.engine == "sqlite":
            if args.out:
                path = args.out
                path.unlink(missing_ok=True)
                info = build_sqlite_file(path, args.events, cache_dir=ctx.cache_dir, log=ctx.log)
            else:
                path, info, _ = cached_sqlite(
                    args.events, ctx.cache_dir, rebuild=args.rebuild, log=ctx.log
                )
            url = f"sqlite:///{path}"
        else:
            server = ctx.postgres()
            url = server.url("postgres")
            info = build_postgresql(url, args.events, ctx.cache_dir, log=ctx.log)
        print(info.summary())
        print(f"built in {info.build_seconds} s; now = {info.now}")
        if args.verify:
            began = time.perf_counter()
            engine = null_pool_engine(url) if args.engine == "sqlite" else make_engine(url)
            checked = verify_chain(engine)
            engine.dispose()
            print(f"hash chain verified: {checked:,} events in {time.perf_counter() - began:.1f} s")
    finally:
        ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

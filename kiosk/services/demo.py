"""The demo school: a plausible fortnight of a primary school's register, built for real.

Everything goes through the services with a clock that walks forward through the last two
weeks, so every event is one a kiosk could have recorded, every rule is checked and the
hash chain is intact. About forty staff with every role, fifteen laptops and five work
phones and two iPads (a kind the demo school added), the School AUP (the seed school's, which
a new database no longer has) and a short LA policy clearly
marked as a SAMPLE (``assets/la-aup-sample.md``), then school days of phone deposits and
collections (the breakfast-club lead logging colleagues' phones into the office drawer and
moving them to the staff room), laptops taken home and brought back, a trip with a work
phone, a correction, VDU training, workstation reviews and an SLT exemption. At the end:
some laptops off site now, exactly one overdue, someone who has not acknowledged the LA
sample, and, during the school day, this morning's phones in the stores.

The demo lives in its own SQLite file (``config.demo_database_url()``), never the real
database. It is built in a temporary file next to it and moved into place when complete.
"""

from __future__ import annotations

import os
import random
import time as timer
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.db.models import Event
from kiosk.domain.errors import InvalidInput
from kiosk.domain.events import BREAKFAST_DRAWER_STORE, SIGN_OUT_REASONS, ReviewStatus
from kiosk.domain.timeutil import next_school_day, utc_now
from kiosk.resources import SEED_POLICY_FILE, SEED_POLICY_TITLE, SEED_POLICY_VERSION, asset_text
from kiosk.services.app import Services, prepare_database
from kiosk.services.integrity import forget_witness, former_witness_name, witness_name

DEMO_ADMIN_PIN = "246810"
# The office manager: the admin the README names, who sets the demo's PIN.
DEMO_ADMIN = "GEVANS"
DEMO_KIOSK_NAME = "staff-room-kiosk"
LA_SAMPLE_FILE = "la-aup-sample.md"
LA_SAMPLE_TITLE = "LA Acceptable Use Policy (SAMPLE)"
LA_SAMPLE_VERSION = "SAMPLE 1 (demo only)"
HISTORY_DAYS = 14

# code, name, job, line manager, roles ("+" separated); email is made from the name.
STAFF: tuple[tuple[str, str, str, str | None, str], ...] = (
    ("MWHITFIELD", "Margaret Whitfield", "Head Teacher", None, "slt+admin"),
    ("DOKAFOR", "David Okafor", "Deputy Head", "Margaret Whitfield", "slt+laptop_user"),
    ("HCARTER", "Helen Carter", "Assistant Head (KS2)", "Margaret Whitfield", "slt+laptop_user"),
    ("PSHARMA", "Priya Sharma", "SENCo", "Margaret Whitfield", "slt+laptop_user"),
    ("SCLARKE", "Susan Clarke", "School Business Manager", "Margaret Whitfield", "admin"),
    ("GEVANS", "Gareth Evans", "Office Manager", "Susan Clarke", "admin"),
    ("JHUGHES", "Janet Hughes", "Breakfast Club Lead", "Priya Sharma", "breakfast_club_lead"),
    ("TWRIGHT", "Thomas Wright", "Year 6 Teacher", "Helen Carter", "laptop_user"),
    ("EROBINSON", "Emily Robinson", "Year 5 Teacher", "Helen Carter", "laptop_user"),
    ("JTHOMPSON", "James Thompson", "Year 4 Teacher", "Helen Carter", "laptop_user"),
    ("SWALKER", "Sophie Walker", "Year 3 Teacher", "Helen Carter", "laptop_user"),
    ("OBENNETT", "Oliver Bennett", "Year 5 Teacher", "Helen Carter", "laptop_user"),
    ("HLEWIS", "Hannah Lewis", "Year 2 Teacher", "David Okafor", "laptop_user"),
    ("DHALL", "Daniel Hall", "Year 1 Teacher", "David Okafor", "laptop_user"),
    ("CGREEN", "Charlotte Green", "Reception Teacher", "David Okafor", "laptop_user"),
    ("MWOOD", "Matthew Wood", "Year 6 Teacher", "Helen Carter", "laptop_user"),
    ("LTURNER", "Lucy Turner", "Nursery Teacher", "David Okafor", "laptop_user"),
    ("RHILL", "Rebecca Hill", "Year 4 Teacher", "Helen Carter", "laptop_user"),
    ("AMOORE", "Andrew Moore", "Year 3 Teacher", "Helen Carter", "laptop_user"),
    ("FMACLEOD", "Fiona MacLeod", "Year 2 Teacher", "David Okafor", "laptop_user"),
    ("RMORGAN", "Rhys Morgan", "Year 1 Teacher", "David Okafor", "laptop_user"),
    ("ABEGUM", "Aisha Begum", "Reception Teacher", "David Okafor", "laptop_user"),
    ("KONEILL", "Kieran O'Neill", "Year 5 Teacher (new)", "Helen Carter", "laptop_user"),
    ("GEDWARDS", "Grace Edwards", "PPA Cover Teacher", "David Okafor", "laptop_user"),
    ("KMITCHELL", "Karen Mitchell", "Teaching Assistant", "Priya Sharma", ""),
    ("CBAKER", "Claire Baker", "Teaching Assistant", "Priya Sharma", ""),
    ("DPHILLIPS", "Dawn Phillips", "Teaching Assistant", "Priya Sharma", ""),
    ("NHUSSAIN", "Nadia Hussain", "Teaching Assistant", "Priya Sharma", ""),
    ("PGRIFFITHS", "Paula Griffiths", "Teaching Assistant", "Priya Sharma", ""),
    ("TDAVIES", "Tracey Davies", "Teaching Assistant", "Priya Sharma", ""),
    ("MROBERTS", "Michelle Roberts", "Teaching Assistant", "Priya Sharma", ""),
    ("SKHAN", "Samira Khan", "Teaching Assistant", "Priya Sharma", ""),
    ("JPRICE", "Joanne Price", "Learning Mentor", "Priya Sharma", ""),
    ("PJENKINS", "Peter Jenkins", "Site Manager", "Susan Clarke", ""),
    ("LCOOPER", "Linda Cooper", "Kitchen Manager", "Susan Clarke", ""),
    ("SWARD", "Stephen Ward", "IT Technician", "Susan Clarke", "admin+laptop_user"),
    ("RALLEN", "Ruth Allen", "Librarian", "David Okafor", ""),
    ("MFOSTER", "Mark Foster", "PE Coach", "David Okafor", "laptop_user"),
    ("ZCAMPBELL", "Zoe Campbell", "Year 6 Teacher", "Helen Carter", "laptop_user"),
    ("WSHAW", "William Shaw", "Music Teacher (Tue, Thu)", "David Okafor", "laptop_user"),
    ("BKELLY", "Brian Kelly", "Teaching Assistant (left)", "Priya Sharma", ""),
)

LAPTOPS = tuple(
    (f"LAP-{n:03d}", "laptop", description)
    for n, description in enumerate(
        (
            "Dell Latitude 3540, Year 6",
            "Dell Latitude 3540, Year 6",
            "Dell Latitude 3540, Year 5",
            "Dell Latitude 3540, Year 5",
            "Dell Latitude 3540, Year 4",
            "Dell Latitude 3540, Year 4",
            "Dell Latitude 3540, Year 3",
            "Dell Latitude 3540, Year 3",
            "Lenovo ThinkPad E14, KS1",
            "Lenovo ThinkPad E14, KS1",
            "Lenovo ThinkPad E14, EYFS",
            "Lenovo ThinkPad E14, PPA room",
            "Lenovo ThinkPad E14, PPA room",
            "HP ProBook 450, SLT",
            "HP ProBook 450, SLT",
        ),
        start=1,
    )
)
WORK_PHONES = tuple(
    (f"WP-{n:02d}", "work_phone", f"Trip phone {n} (Samsung Galaxy A15)") for n in range(1, 6)
)

# A kind of device the school defined itself (kiosk devices kind add).
TABLETS = tuple((f"TAB-{n:02d}", "tablet", f"iPad {n} (Reception)") for n in range(1, 3))

BREAKFAST_CLUB_LEAD = "JHUGHES"
BREAKFAST_CLUB = ("KMITCHELL", "CBAKER", "NHUSSAIN", "PGRIFFITHS")
EXEMPT_SLT = "DOKAFOR"
NOT_ACKNOWLEDGED_LA = ("KONEILL", "LCOOPER")
NO_VDU_TRAINING = ("LCOOPER", "PJENKINS", "SKHAN")
LATE_VDU = "TDAVIES"  # declares later, mistypes the year, and the office corrects it
LEAVER = "BKELLY"
PART_TIME_DAYS = {"WSHAW": (1, 3)}  # Tuesday, Thursday
# Devices kept for the "off site now" picture, never used by the random history.
OVERDUE = ("SWALKER", "LAP-013")
EXTENDED = ("OBENNETT", "LAP-014")
RESIDENTIAL = ("HCARTER", ("LAP-015", "WP-05"))
TAKEN_HOME = ("HLEWIS", "LAP-012")
RESERVED = {"LAP-012", "LAP-013", "LAP-014", "LAP-015", "WP-05"}


@dataclass(frozen=True, slots=True)
class DemoSchool:
    """What ``kiosk demo`` reports."""

    database_url: str
    path: Path
    staff: int
    devices: int
    events: int
    admin_pin: str
    built_at: datetime
    seconds: float


def demo_calendar(today: date) -> str:
    """The demo's calendar (CSV): a term around the fortnight, with an INSET day and a
    holiday week after today, so `kiosk calendar show` has something to show."""
    start = today - timedelta(days=HISTORY_DAYS + 30)
    inset = today + timedelta(days=(7 - today.weekday()) % 7 + 7)  # Monday week
    half_term = inset + timedelta(days=14)
    return "\n".join(
        [
            "start,end,kind,name",
            f"{start},{today + timedelta(days=60)},term,Term (demo)",
            f"{inset},,inset,INSET day (demo)",
            f"{half_term},{half_term + timedelta(days=4)},holiday,Holiday (demo)",
        ]
    )


def demo_path(settings: Settings) -> Path:
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise InvalidInput("The demo school lives in its own SQLite file, not in this database.")
    return Path(url.database).expanduser()


def demo_exists(settings: Settings) -> bool:
    return demo_path(settings).is_file()


def ensure_demo(settings: Settings, *, now: datetime | None = None) -> DemoSchool | None:
    """Build the demo school where its file is missing; None when it is already there."""
    if demo_exists(settings):
        return None
    return build_demo(settings, now=now)


def build_demo(settings: Settings, *, now: datetime | None = None, seed: int = 2018) -> DemoSchool:
    """Create (or rebuild from scratch) the demo school; it ends at ``now``."""
    started = timer.monotonic()
    end = (now or utc_now()).astimezone(UTC)
    path = demo_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # as prepare_database's
    building = path.with_name(path.name + ".building")
    _remove(building)
    engine = make_engine(f"sqlite:///{building}")

    # The file is only moved into place once complete, so building need not be durable:
    # without an fsync per transaction it takes a second or two instead of many.
    @sa_event.listens_for(engine, "connect")
    def _fast(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    try:
        prepare_database(engine)
        clock = _WalkingClock(end - timedelta(days=HISTORY_DAYS + 1))
        services = Services(engine, replace(settings, kiosk_name=DEMO_KIOSK_NAME), clock)
        _History(services, clock, end, random.Random(seed)).run()
        clock.now = end
        services.admin.set_pin(DEMO_ADMIN_PIN, admin_code=DEMO_ADMIN)
        with services.ctx.read() as session:
            events = session.scalar(select(func.count(Event.id))) or 0
        staff = len(services.people.list_staff())
        devices = len(services.people.list_devices())
    except BaseException:
        engine.dispose()
        _remove(building)
        raise
    engine.dispose()
    _remove(path)
    os.replace(building, path)
    # A new register in the old one's place: this machine's witness of the old one would
    # make the first `kiosk --demo verify` report its end missing.
    url = f"sqlite:///{path}"
    forget_witness(witness_name(url), former_witness_name(url))
    return DemoSchool(
        database_url=f"sqlite:///{path}",
        path=path,
        staff=staff,
        devices=devices,
        events=events,
        admin_pin=DEMO_ADMIN_PIN,
        built_at=end,
        seconds=timer.monotonic() - started,
    )


def _remove(path: Path) -> None:
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        candidate.unlink(missing_ok=True)


class _WalkingClock:
    """The demo's time: set to each step's moment; never goes backwards."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def walk_to(self, moment: datetime) -> None:
        self.now = max(self.now + timedelta(milliseconds=1), moment)


@dataclass(order=True)
class _Step:
    at: datetime
    order: int
    run: Callable[[], Any] = field(compare=False)


class _History:
    """Plans the fortnight as timed steps, then plays back those up to ``end``."""

    def __init__(
        self, services: Services, clock: _WalkingClock, end: datetime, rng: random.Random
    ) -> None:
        self.svc = services
        self.clock = clock
        self.end = end
        self.rng = rng
        self.zone = services.settings.zone
        self.steps: list[_Step] = []
        self.today = end.astimezone(self.zone).date()
        calendar = [self.today - timedelta(days=n) for n in range(HISTORY_DAYS, 0, -1)]
        self.days = [d for d in calendar if d.weekday() < 5]  # school days before today
        self.managers = {code: manager for code, _, _, manager, _ in STAFF}

    # --- helpers ---------------------------------------------------------------------------

    def at(self, day: date, hour: int, minute: int, second: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute, second), tzinfo=self.zone).astimezone(UTC)

    def between(self, day: date, start: tuple[int, int], stop: tuple[int, int]) -> datetime:
        first = start[0] * 3600 + start[1] * 60
        last = stop[0] * 3600 + stop[1] * 60
        seconds = self.rng.randrange(first, last)
        return self.at(day, seconds // 3600, seconds // 60 % 60, seconds % 60)

    def plan(self, moment: datetime, action: Callable[[], Any]) -> None:
        self.steps.append(_Step(moment, len(self.steps), action))

    def run(self) -> None:
        self.setup()
        school_days = [*self.days, self.today] if self.today.weekday() < 5 else self.days
        out_until: dict[str, datetime] = {}
        for day in school_days:
            self.phones(day)
            self.laptops(day, out_until)
        self.special_events()
        self.off_site_now()
        for step in sorted(self.steps):
            if step.at > self.end:
                continue
            self.clock.walk_to(step.at)
            step.run()

    # --- the school's set-up ---------------------------------------------------------------

    def setup(self) -> None:
        first = self.days[0]
        roster = ["code,name,email,line_manager,roles"]
        for code, name, _job, manager, roles in STAFF:
            email = name.lower().replace("'", "").replace(" ", ".") + "@demo-primary.example"
            roles_field = roles.replace("+", ";")
            roster.append(f'{code},"{name}",{email},"{manager or ""}",{roles_field}')
        devices = ["tag,kind,description"]
        devices += [f'{tag},{kind},"{d}"' for tag, kind, d in (*LAPTOPS, *WORK_PHONES, *TABLETS)]
        people = self.svc.people
        self.plan(
            self.at(first, 7, 0),
            lambda: people.import_staff_csv("\n".join(roster).encode()),
        )
        self.plan(
            self.at(first, 7, 1),
            lambda: self.svc.school.set_device_kind(
                "tablet", "iPad", needs_charged=True, admin_code=DEMO_ADMIN
            ),
        )
        # The demo school's AUP (it is the seed school's own; a new school publishes its own).
        school_aup = asset_text(SEED_POLICY_FILE)
        self.plan(
            self.at(first, 7, 4),
            lambda: self.svc.policies.publish(
                SEED_POLICY_TITLE,
                SEED_POLICY_VERSION,
                school_aup,
                required=True,
                published_by="SCLARKE",
            ),
        )
        calendar = demo_calendar(self.today).encode()
        self.plan(
            self.at(first, 7, 6),
            lambda: self.svc.school.import_calendar(
                "demo-calendar.csv", calendar, admin_code=DEMO_ADMIN
            ),
        )
        self.plan(
            self.at(first, 7, 2),
            lambda: people.import_devices_csv("\n".join(devices).encode(), admin_code=DEMO_ADMIN),
        )
        text = asset_text(LA_SAMPLE_FILE)
        self.plan(
            self.at(first, 7, 5),
            lambda: self.svc.policies.publish(
                LA_SAMPLE_TITLE, LA_SAMPLE_VERSION, text, required=True, published_by="SCLARKE"
            ),
        )
        # Staff meeting at lunchtime on the first day: policies read and acknowledged at the
        # kiosk, VDU training declared (most did the online course during the last year).
        for code, *_ in STAFF:
            moment = self.between(first, (12, 10), (13, 20))
            self.plan(moment, partial(self.acknowledge, code))
            if code not in NO_VDU_TRAINING and code != LATE_VDU:
                completed = first - timedelta(days=self.rng.randrange(3, 330))
                self.plan(
                    moment + timedelta(minutes=1),
                    partial(self.svc.policies.declare_vdu_training, code, completed),
                )

    def acknowledge(self, code: str) -> None:
        for policy in self.svc.policies.outstanding(code):
            if code in NOT_ACKNOWLEDGED_LA and policy.title == LA_SAMPLE_TITLE:
                continue
            self.svc.policies.acknowledge(code, policy.id, policy.sha256)

    # --- phones ----------------------------------------------------------------------------

    def phones(self, day: date) -> None:
        phones = self.svc.phones
        index = self.days.index(day) if day in self.days else len(self.days)
        on_site = [
            code
            for code, *_ in STAFF
            if code != BREAKFAST_CLUB_LEAD
            and not (code == EXEMPT_SLT and index >= 2)
            and day.weekday() in PART_TIME_DAYS.get(code, range(5))
            and not (code == LEAVER and index >= 4)
        ]
        # Breakfast club: the lead logs her own phone and her colleagues' into the drawer,
        # then moves them all to the staff room when the club closes.
        club = [c for c in BREAKFAST_CLUB if index == 3 or self.rng.random() < 0.9]
        lead = BREAKFAST_CLUB_LEAD
        start = self.between(day, (7, 25), (7, 30))
        self.plan(start, lambda: phones.deposit(lead, BREAKFAST_DRAWER_STORE))
        for n, code in enumerate(club, start=1):
            moment = start + timedelta(minutes=2 * n, seconds=self.rng.randrange(60))
            if index == 3 and n == 2:
                self.plan(moment, partial(self.mistaken_logging, code, "DPHILLIPS"))
            else:
                self.plan(
                    moment, partial(phones.deposit, code, BREAKFAST_DRAWER_STORE, recorded_by=lead)
                )
        self.plan(self.between(day, (8, 45), (8, 50)), lambda: phones.move_all(lead))
        self.plan(self.between(day, (15, 30), (15, 50)), lambda: phones.collect(lead))
        for code in club:
            self.plan(self.between(day, (15, 30), (16, 0)), partial(phones.collect, code))
        # Everyone else: most mornings into the staff-room store, collected after school.
        for code in on_site:
            if code in club or self.rng.random() < 0.08:
                continue  # not in today, or no phone brought
            self.plan(self.between(day, (7, 40), (8, 40)), partial(phones.deposit, code))
            self.plan(self.between(day, (15, 30), (17, 30)), partial(phones.collect, code))

    def mistaken_logging(self, meant: str, scanned: str) -> None:
        """The lead scans the wrong badge, undoes it at once, then logs the right person."""
        phones = self.svc.phones
        wrong = phones.deposit(scanned, BREAKFAST_DRAWER_STORE, recorded_by=BREAKFAST_CLUB_LEAD)
        self.clock.walk_to(self.clock.now + timedelta(seconds=20))
        self.svc.register.undo(wrong.event_id, recorded_by=BREAKFAST_CLUB_LEAD)
        self.clock.walk_to(self.clock.now + timedelta(seconds=15))
        phones.deposit(meant, BREAKFAST_DRAWER_STORE, recorded_by=BREAKFAST_CLUB_LEAD)

    # --- laptops and work phones -------------------------------------------------------------

    def laptops(self, day: date, out_until: dict[str, datetime]) -> None:
        """Laptops home for the evening, back the next school day before 08:30."""
        users = [
            code
            for code, _, _, _, roles in STAFF
            if "laptop_user" in roles
            and code not in NOT_ACKNOWLEDGED_LA
            and code not in {OVERDUE[0], EXTENDED[0], RESIDENTIAL[0], TAKEN_HOME[0]}
        ]
        people = self.rng.sample(users, self.rng.randint(1, 3))
        if day in self.days and self.days.index(day) % 2 == 0:
            people.append("TWRIGHT")  # takes one home often: the line manager agreed
        for code in dict.fromkeys(people):
            moment = self.between(day, (15, 35), (16, 45))
            free = [
                tag
                for tag, *_ in LAPTOPS
                if tag not in RESERVED and out_until.get(tag, moment) <= moment
            ]
            if not free:
                continue
            tag = self.rng.choice(free)
            back = self.between(next_school_day(day), (7, 45), (8, 25))
            out_until[tag] = back + timedelta(minutes=1)
            reason = self.rng.choice(SIGN_OUT_REASONS[:4])
            self.plan(moment, partial(self.sign_out, code, [tag], reason))
            note = self.rng.choice(["", "", "", "Fine", "Battery flat", "Charger left at home"])
            self.plan(back, partial(self.svc.devices.return_device, tag, condition=note))
        index = self.days.index(day) if day in self.days else -1
        if index == 4:
            # A day trip: a laptop and a work phone signed out together, returned one by one.
            leaves = self.at(day, 8, 50)
            tag = next(
                t for t, *_ in LAPTOPS if t not in RESERVED and out_until.get(t, leaves) <= leaves
            )
            out_until[tag] = self.at(day, 16, 0)
            due = self.at(day, 17, 0)
            self.plan(
                self.at(day, 8, 50),
                lambda: self.sign_out(
                    "EROBINSON", [tag, "WP-01"], "School trip or visit", due=due, charged=True
                ),
            )
            self.plan(self.at(day, 15, 52), lambda: self.svc.devices.return_device(tag))
            self.plan(
                self.at(day, 15, 54),
                lambda: self.svc.devices.return_device("WP-01", condition="Battery low"),
            )
        if index == 7:
            due = self.at(day, 18, 30)
            self.plan(
                self.at(day, 13, 5),
                lambda: self.sign_out(
                    "MFOSTER", ["WP-02"], "Sports fixture away", due=due, charged=True
                ),
            )
            self.plan(self.at(day, 17, 40), lambda: self.svc.devices.return_device("WP-02"))

    def sign_out(
        self,
        code: str,
        tags: list[str],
        reason: str,
        *,
        due: datetime | None = None,
        charged: bool = False,
    ) -> None:
        check = self.svc.devices.check_sign_out(code, tags)
        self.svc.devices.sign_out(
            code,
            tags,
            reason=reason,
            expected_return=due,
            line_manager=self.managers[code] if check.needs_line_manager else None,
            charged=charged,
        )

    def off_site_now(self) -> None:
        """The picture at the end: three sign-outs still out, one of them overdue."""
        days = self.days
        devices = self.svc.devices
        after_today = next_school_day(self.today)
        # Overdue: due back at 08:30 on a school day that has passed.
        code, tag = OVERDUE
        self.plan(self.at(days[-3], 16, 5), lambda: self.sign_out(code, [tag], "Report writing"))
        # Kept longer, with the expected return extended to the next school day.
        code2, tag2 = EXTENDED
        self.plan(
            self.at(days[-2], 15, 41),
            lambda: self.sign_out(code2, [tag2], "Planning and marking at home"),
        )
        new_due = self.at(after_today, 8, 30)
        self.plan(
            self.at(days[-1], 8, 12),
            lambda: devices.extend(
                tag2, new_due, reason="Year 5 assessments need another evening", staff_code=code2
            ),
        )
        # A residential trip: a laptop and a charged work phone, back after the trip.
        code3, tags3 = RESIDENTIAL
        trip_due = self.at(after_today, 17, 0)
        self.plan(
            self.at(days[-1], 14, 30),
            lambda: self.sign_out(
                code3, list(tags3), "Year 6 residential trip", due=trip_due, charged=True
            ),
        )
        code4, tag4 = TAKEN_HOME
        self.plan(
            self.at(days[-1], 16, 10),
            lambda: self.sign_out(code4, [tag4], "Report writing", due=new_due),
        )

    # --- training, reviews, exemptions, corrections -----------------------------------------

    def special_events(self) -> None:
        days = self.days
        policies = self.svc.policies
        until = self.today + timedelta(days=45)
        self.plan(
            self.at(days[2], 9, 15),
            lambda: policies.grant_exemption(
                EXEMPT_SLT,
                granted_by="Margaret Whitfield (Head Teacher)",
                until=until,
                admin_code="SCLARKE",
            ),
        )
        self.plan(
            self.at(days[1], 12, 35),
            lambda: policies.request_workstation_review(
                "AMOORE", "A chair with better lower-back support for marking at my desk."
            ),
        )
        self.plan(self.at(days[2], 10, 5), self.take_up_review)
        self.plan(
            self.at(days[5], 12, 40),
            lambda: policies.request_workstation_review(
                "RHILL",
                "A laptop stand and a separate keyboard and mouse: my neck aches after "
                "an afternoon of marking on the laptop.",
            ),
        )
        self.plan(self.at(days[3], 12, 50), self.corrected_training_date)
        self.plan(
            self.at(days[4], 16, 30),
            lambda: self.svc.people.retire_staff(LEAVER, admin_code=DEMO_ADMIN),
        )

    def take_up_review(self) -> None:
        request = next(r for r in self.svc.policies.reviews() if r.staff.code == "AMOORE")
        self.svc.policies.update_review(
            request.event_id,
            ReviewStatus.TAKEN_UP,
            admin_code="MWHITFIELD",
            note="Occupational health referral made",
        )

    def corrected_training_date(self) -> None:
        """A VDU declaration with a mistyped year, voided by the office and entered again."""
        first = self.days[0]
        wrong = self.svc.policies.declare_vdu_training(LATE_VDU, first - timedelta(days=3653))
        self.clock.walk_to(self.clock.now + timedelta(minutes=3))
        self.svc.register.void(
            wrong.event_id, reason="Wrong year entered; declared again", admin_code=DEMO_ADMIN
        )
        self.clock.walk_to(self.clock.now + timedelta(minutes=1))
        self.svc.policies.declare_vdu_training(LATE_VDU, first - timedelta(days=40))

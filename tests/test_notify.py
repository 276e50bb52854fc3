"""kiosk notify: notices by e-mail to a real SMTP server on localhost, each sent once (18.1).

The server is aiosmtpd's, in a thread of the test process; every message it accepts is
parsed back and its recipients, subject and bodies checked.
"""

from __future__ import annotations

import email
import email.policy
import json
import multiprocessing
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.chain import EVENT_COLUMNS as CHAIN_COLUMNS
from kiosk.domain.chain import hash_of
from kiosk.domain.events import EventKind
from kiosk.services.app import Services
from kiosk.services.integrity import Anchor, last_anchor_at
from kiosk.services.notices import current_anchor_text
from kiosk.services.uow import iso
from tests.conftest import FakeClock, with_settings
from tests.reliability.helpers import is_sqlite, meddle
from tests.school import make_ready, make_school

OFFICE = "office@school.example"
HEAD = "head@school.example"
DPO = "dpo@school.example"
TUESDAY = date(2026, 3, 10)  # the fake clock's day; London is on GMT in March


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC)


class Inbox:
    """aiosmtpd handler: keeps every message accepted."""

    def __init__(self) -> None:
        self.messages: list[tuple[tuple[str, ...], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((tuple(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def sent(self) -> list[tuple[str, str]]:
        return sorted((rcpt[0], subject(msg)) for rcpt, msg in self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [msg for rcpt, msg in self.messages if address in rcpt]


def subject(message: EmailMessage) -> str:
    return " ".join(str(message["Subject"]).split())  # a long one is folded


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


def mail_settings(settings: Settings, port: int, **more: Any) -> Settings:
    return replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_from="Staff Room Kiosk <kiosk@school.example>",
        office_email=OFFICE,
        head_email=HEAD,
        anchor_email=DPO,
        **more,
    )


@pytest.fixture
def school(services: Services, smtp: SmtpServer, clock: FakeClock) -> Services:
    """A school on the SMTP server, with something for each notice on Tuesday 10 March."""
    svc = Services(services.ctx.engine, mail_settings(services.settings, smtp.port), clock)
    # The school is recorded from last Friday on (the chain is in time order: verify names
    # an event dated well before one ahead of it).
    clock.set(at(date(2026, 3, 6), 15))
    make_school(svc)
    svc.people.add_staff("FMGR", "Fay Manager", email="fay@school.example")
    svc.people.add_staff(
        "GLEE", "Gina Lee", email="gina@school.example", line_manager="Fay Manager"
    )
    svc.people.add_staff("HNEW", "Hal New", email="hal@school.example")
    for code in ("ASMITH", "GLEE", "FMGR", "BJONES", "CHEAD", "DOFFICE", "EPATEL"):
        make_ready(svc, code)
    # Gina signed a laptop out last Friday, due back Monday 9 March: overdue on Tuesday.
    svc.devices.sign_out(
        "GLEE", ["LAP-002"], reason="Report writing", expected_return=at(date(2026, 3, 9), 8)
    )
    clock.set(at(TUESDAY, 8, 5))
    # Alice's laptop is due back tomorrow; her phone and Ben's (no e-mail) stay in the store.
    svc.devices.sign_out(
        "ASMITH",
        ["LAP-001"],
        reason="Report writing",
        expected_return=at(date(2026, 3, 11), 16, 30),
    )
    svc.phones.deposit("ASMITH")
    svc.phones.deposit("BJONES")
    svc.policies.request_workstation_review("EPATEL", "A laptop stand, please")
    return svc


def last_anchor_at_of(services: Services) -> object:
    with services.ctx.read() as session:
        return last_anchor_at(session, services.ctx.key)


def monday_off(day: date) -> bool:
    """A calendar where Monday 9 March is a holiday: Tuesday is the week's first school day."""
    return day.weekday() < 5 and day != date(2026, 3, 9)


def test_each_notice_goes_to_whom_it_concerns_once(
    school: Services, smtp: SmtpServer, clock: FakeClock
) -> None:
    clock.set(at(TUESDAY, 10))
    report = school.notify.run(is_school_day=monday_off)
    assert not report.failed and not report.problems
    assert smtp.inbox.sent() == [
        ("asmith@school.example", "Laptop LAP-001 is due back tomorrow"),
        ("gina@school.example", "Overdue: please return Laptop LAP-002"),
        (
            "hal@school.example",
            "Please read and acknowledge: School Acceptable Use Policy (Spring 2018)",
        ),
        (HEAD, "Workstation review requested by Esha Patel"),
    ]
    (overdue,) = smtp.inbox.to("gina@school.example")
    text = overdue.get_body(("plain",)).get_content()
    assert "Dear Gina Lee" in text and "Mon 09 Mar 2026 08:00" in text
    html = overdue.get_body(("html",)).get_content()
    assert "<strong>Laptop LAP-002</strong>" in html
    assert overdue["From"] == "Staff Room Kiosk <kiosk@school.example>"
    assert overdue["X-Kiosk-Notice"].startswith("overdue:")
    (review,) = smtp.inbox.to(HEAD)
    assert "A laptop stand, please" in review.get_body(("plain",)).get_content()

    # Every notice is in the register, sent.
    rows = school.register.rows_between(TUESDAY, TUESDAY)
    sent = [r for r in rows if r.kind == EventKind.NOTICE_SENT.value]
    assert len(sent) == 4 and all("subject:" in r.detail for r in sent)

    # A second run the same morning sends nothing again.
    clock.set(at(TUESDAY, 10, 15))
    again = school.notify.run(is_school_day=monday_off)
    assert again.due == () and again.outcomes == ()
    assert len(smtp.inbox.messages) == 4

    # After the end of the school day (16:30): the office, Alice's phone, the line manager
    # (Tuesday is this week's first school day), the anchor.
    clock.set(at(TUESDAY, 17))
    report = school.notify.run(is_school_day=monday_off)
    assert not report.failed
    new = sorted((rcpt[0], subject(msg)) for rcpt, msg in smtp.inbox.messages[4:])
    assert new == [
        ("asmith@school.example", "Your phone is still in the Staff-room secure store"),
        ("dpo@school.example", new[1][1]),
        ("fay@school.example", "Your team's off-site sign-outs, week of 09 March 2026"),
        (
            OFFICE,
            "End of day Tuesday 10 March 2026: 2 phones, 1 overdue device, 1 review, "
            "policies not acknowledged",
        ),
    ]
    assert new[1][1].startswith("Register anchor for Tuesday 10 March 2026: event ")

    (office,) = smtp.inbox.to(OFFICE)
    body = office.get_body(("plain",)).get_content()
    assert "- Ben Jones (BJONES), since Tue 10 Mar 2026 08:05" in body
    assert "- Laptop LAP-002: Gina Lee (GLEE), due Mon 09 Mar 2026 08:00" in body
    assert (
        "- Esha Patel (EPATEL), asked Tue 10 Mar 2026 08:05, open: A laptop stand, please" in body
    )
    assert "School Acceptable Use Policy (Spring 2018):\n- Hal New (HNEW)\n" in body.replace(
        "\r\n", "\n"
    )
    # Ben has no e-mail address, nor has Alice's line manager (Carol Head): the office is told.
    assert "NOT TOLD BY E-MAIL" in body
    assert (
        "- Ben Jones (BJONES): phone still in the Staff-room secure store since "
        "Tue 10 Mar 2026 08:05" in body
    )
    assert "- Carol Head (CHEAD): weekly sign-outs of their team (1 person)" in body
    (manager,) = smtp.inbox.to("fay@school.example")
    assert (
        "- Gina Lee: 1 in the last 4 weeks, 1 in the last 12 weeks"
        in manager.get_body(("plain",)).get_content()
    )
    (anchor,) = smtp.inbox.to(DPO)
    assert current_anchor_text(school.ctx) is not None
    # The e-mail carries a `kiosk anchor` text: saved as a file, `kiosk verify --anchor` reads
    # it, and the register holds that head.
    mailed = Anchor.parse(anchor.get_body(("plain",)).get_content())
    assert school.integrity.verify(anchors=[mailed]).ok
    assert last_anchor_at_of(school) is not None  # the console's "last anchor" counts it

    # And again: nothing twice.
    clock.set(at(TUESDAY, 17, 15))
    assert school.notify.run(is_school_day=monday_off).outcomes == ()
    assert len(smtp.inbox.messages) == 8


def test_nothing_overdue_on_a_holiday(school: Services, smtp: SmtpServer, clock: FakeClock) -> None:
    holiday = lambda day: False  # noqa: E731 - the school calendar says: no school
    clock.set(at(TUESDAY, 17))
    report = school.notify.run(is_school_day=holiday)
    assert not report.failed
    subjects = smtp.inbox.sent()
    # No overdue, due-tomorrow, phone or office notice; a review request and a policy
    # waiting are not about a school day, and the anchor is daily.
    assert [to for to, _ in subjects] == [DPO, "hal@school.example", HEAD]
    assert not any("Overdue" in s or "End of day" in s for _, s in subjects)

    # The next school day, the overdue laptop is reported.
    clock.set(at(TUESDAY + timedelta(days=1), 9))
    school.notify.run(is_school_day=lambda day: day != TUESDAY)
    assert ("gina@school.example", "Overdue: please return Laptop LAP-002") in smtp.inbox.sent()


def test_the_imported_school_calendar_is_the_one_in_force(
    school: Services, smtp: SmtpServer, clock: FakeClock
) -> None:
    """No predicate given (as `kiosk notify` runs): an INSET day from `kiosk calendar import`
    means no overdue and no end-of-day notice that day."""
    school.school.import_calendar(
        "calendar.csv", f"start,end,kind,name\n{TUESDAY.isoformat()},,inset,Training\n".encode()
    )
    clock.set(at(TUESDAY, 17))
    school.notify.run()
    subjects = smtp.inbox.sent()
    assert subjects, "the anchor and the review request are still sent"
    assert not any("Overdue" in s or "End of day" in s for _, s in subjects)


def test_a_failed_send_is_recorded_and_retried_at_the_next_run(
    school: Services, smtp: SmtpServer, clock: FakeClock
) -> None:
    smtp.stop()
    clock.set(at(TUESDAY, 10))
    report = school.notify.run(is_school_day=monday_off)
    assert report.sent == () and len(report.failed) == 4
    assert all("ConnectionRefusedError" in (o.error or "") for o in report.failed)
    assert smtp.inbox.messages == []
    status = school.notify.status()
    assert sorted(s.state for s in status) == ["failed"] * 4
    rows = school.register.rows_between(TUESDAY, TUESDAY)
    assert sum(r.kind == EventKind.NOTICE_FAILED.value for r in rows) == 4

    smtp.start()
    clock.set(at(TUESDAY, 10, 15))
    report = school.notify.run(is_school_day=monday_off)
    assert len(report.sent) == 4 and not report.failed
    assert len(smtp.inbox.messages) == 4
    assert school.notify.status() == ()
    clock.set(at(TUESDAY, 10, 30))
    school.notify.run(is_school_day=monday_off)
    assert len(smtp.inbox.messages) == 4


def test_a_claim_without_an_outcome_is_not_sent_again_and_is_shown(
    school: Services, smtp: SmtpServer, clock: FakeClock
) -> None:
    # A sender killed between its claim and its outcome: it may have sent the message.
    clock.set(at(TUESDAY, 10))
    due, _ = school.notify.due(is_school_day=monday_off)
    school.notify._claim([n for n in due if n.kind == "device_overdue"])
    clock.set(at(TUESDAY, 10, 5))
    school.notify.run(is_school_day=monday_off)
    assert "gina@school.example" not in [to for to, _ in smtp.inbox.sent()]
    assert len(smtp.inbox.messages) == 3
    assert school.notify.status() == ()  # not yet stale: maybe still sending
    clock.set(at(TUESDAY, 10, 30))
    (unknown,) = school.notify.status()
    assert (unknown.state, unknown.to) == ("claimed", "gina@school.example")


def test_a_school_can_change_the_templates(
    school: Services, smtp: SmtpServer, clock: FakeClock, tmp_path: Path
) -> None:
    (tmp_path / "device_overdue.txt").write_text(
        "Subject: {{ device }} is late, {{ name }}\nPlease bring {{ device }} back.\n"
    )
    own = Services(
        school.ctx.engine, replace(school.settings, notice_templates=str(tmp_path)), clock
    )
    clock.set(at(TUESDAY, 10))
    own.notify.run(is_school_day=monday_off)
    (message,) = smtp.inbox.to("gina@school.example")
    assert subject(message) == "Laptop LAP-002 is late, Gina Lee"
    assert message.get_body(("plain",)).get_content().strip() == "Please bring Laptop LAP-002 back."
    # The other notices keep the kiosk's own templates.
    assert ("asmith@school.example", "Laptop LAP-001 is due back tomorrow") in smtp.inbox.sent()


# --- two processes at once -------------------------------------------------------------------


def _notify_in_process(url: str, port: int, now: datetime, barrier: Any, out: Any) -> None:
    settings = mail_settings(Settings(kiosk_name="other-kiosk", database_url=url), port)
    services = Services(make_engine(url), settings, lambda: now)
    try:
        services.notify.due(is_school_day=monday_off)  # warm up (imports, templates)
        barrier.wait(timeout=60)
        report = services.notify.run(is_school_day=monday_off)
        out.put(sorted(n.key for n in report.sent))
    finally:
        services.close()


def test_two_processes_at_once_send_each_notice_once(
    school: Services, smtp: SmtpServer, db_url: str
) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    out = context.Queue()
    now = at(TUESDAY, 17)
    workers = [
        context.Process(target=_notify_in_process, args=(db_url, smtp.port, now, barrier, out))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    keys = [key for msgs in results for key in msgs]
    assert len(keys) == 8 and len(set(keys)) == 8  # shared between them, none twice
    received = [str(msg["X-Kiosk-Notice"]) for _, msg in smtp.inbox.messages]
    assert sorted(received) == sorted(keys)


def test_a_dry_run_says_when_no_mail_server_is_set(school: Services) -> None:
    without = with_settings(school, smtp_host="")
    try:
        report = without.notify.run(dry_run=True)
    finally:
        without.close()
    assert report.due and report.outcomes == ()
    assert report.problems[0].startswith("No mail server is set: set smtp_host")
    # With a server set, the dry run has nothing to say about it.
    assert not any("mail server" in p for p in school.notify.run(dry_run=True).problems)


# --- the command ------------------------------------------------------------------------------


def test_notify_command_dry_run_send_and_status(
    school: Services,
    smtp: SmtpServer,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kiosk.cli import main

    monkeypatch.setenv("KIOSK_DATABASE_URL", db_url)
    # No mail server set: the command says so and sends nothing.
    assert main(["notify"]) == 1
    assert "set smtp_host (KIOSK_SMTP_HOST)" in capsys.readouterr().err

    # --dry-run needs no server: it prints each notice due now (on the real clock, so only
    # notices that do not depend on the day are checked: the review request for the Head).
    monkeypatch.setenv("KIOSK_HEAD_EMAIL", HEAD)
    assert main(["notify", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert "kiosk: note: No mail server is set: set smtp_host (KIOSK_SMTP_HOST)" in err
    assert f"To: {HEAD}\nSubject: Workstation review requested by Esha Patel" in out
    assert "A laptop stand, please" in out
    assert smtp.inbox.messages == []

    for name, value in {
        "KIOSK_SMTP_HOST": "127.0.0.1",
        "KIOSK_SMTP_PORT": str(smtp.port),
        "KIOSK_SMTP_SECURITY": "none",
        "KIOSK_OFFICE_EMAIL": OFFICE,
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["notify"]) == 0
    out = capsys.readouterr().out
    assert f"to {HEAD}: Workstation review requested by Esha Patel" in out
    assert HEAD in [to for to, _ in smtp.inbox.sent()]
    count = len(smtp.inbox.messages)
    assert main(["notify"]) == 0
    assert " 0 notices sent, 0 failed." in capsys.readouterr().out
    assert len(smtp.inbox.messages) == count

    # A server that is down: exit 1, and --status lists what failed. (The command recorded
    # its notices on this machine's clock: the school's goes on from there, not back to March,
    # which this kiosk would refuse as a clock gone back.)
    clock = school.ctx.clock
    assert isinstance(clock, FakeClock)
    clock.set(datetime.now(UTC))
    school.policies.request_workstation_review("ASMITH", "A footrest")
    smtp.stop()
    assert main(["notify"]) == 1
    err = capsys.readouterr().err
    assert "NOT SENT review:" in err and "ConnectionRefusedError" in err
    assert main(["notify", "--status"]) == 0
    out = capsys.readouterr().out
    assert "FAILED" in out and f"{HEAD}" in out and "ConnectionRefusedError" in out


def test_starttls_is_never_dropped_for_a_clear_connection(
    school: Services, smtp: SmtpServer, clock: FakeClock
) -> None:
    # The server offers no STARTTLS: with smtp_security = starttls nothing goes in clear.
    secure = Services(school.ctx.engine, replace(school.settings, smtp_security="starttls"), clock)
    clock.set(at(TUESDAY, 10))
    report = secure.notify.run(is_school_day=monday_off)
    assert report.sent == () and len(report.failed) == 4
    assert all("STARTTLS extension not supported" in (o.error or "") for o in report.failed)
    assert smtp.inbox.messages == []


def test_mail_settings_from_the_environment_and_the_password_never_shown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiosk.cli import main
    from kiosk.config import load_settings

    monkeypatch.setenv("KIOSK_SMTP_HOST", "smtp.school.example")
    monkeypatch.setenv("KIOSK_SMTP_PORT", "465")
    monkeypatch.setenv("KIOSK_SMTP_SECURITY", "tls")
    monkeypatch.setenv("KIOSK_SMTP_USER", "kiosk@school.example")
    monkeypatch.setenv("KIOSK_SMTP_PASSWORD", "correct horse battery")
    monkeypatch.setenv("KIOSK_OFFICE_EMAIL", OFFICE)
    settings = load_settings()
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_security) == (
        "smtp.school.example",
        465,
        "tls",
    )
    assert settings.smtp_password == "correct horse battery"
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "correct horse battery" not in out
    assert "(set, not shown)" in out and "smtp.school.example" in out

    monkeypatch.setenv("KIOSK_SMTP_SECURITY", "ssl3")
    assert main(["config"]) == 1
    assert "smtp_security 'ssl3' must be one of starttls, tls, none" in capsys.readouterr().err


def test_an_address_that_is_not_one_address_is_not_sent_to_and_the_run_says_so(
    school: Services, smtp: SmtpServer, clock: FakeClock
) -> None:
    # Written by hand past the import's check: Alice's e-mail names a second recipient, and
    # the anchor's setting a display name with another address.
    with school.ctx.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE staff SET email = :e WHERE code = 'ASMITH'"),
            {"e": "asmith@school.example,spy@evil.example"},
        )
    school = with_settings(school, anchor_email='"DPO" <spy@evil.example>')
    clock.set(at(TUESDAY, 17))
    report = school.notify.run(is_school_day=monday_off)
    assert not report.failed
    recipients = [address for rcpt, _ in smtp.inbox.messages for address in rcpt]
    assert not [a for a in recipients if "evil" in a or "asmith" in a], recipients
    assert all(len(rcpt) == 1 for rcpt, _ in smtp.inbox.messages)
    assert (
        "device due notice not sent: the address 'asmith@school.example,spy@evil.example' is "
        "not one e-mail address such as name@school.example: it holds a comma (one address "
        "only, no name or list). Correct it on the staff list or in the settings."
    ) in report.problems
    assert any(p.startswith('anchor notice not sent: the address \'"DPO"') for p in report.problems)
    (office,) = smtp.inbox.to(OFFICE)
    body = office.get_body(("plain",)).get_content()
    assert "- Alice Smith (ASMITH): Laptop LAP-001 due back" in body
    assert "their e-mail is not valid" in body


# --- notice records the kiosk did not write (no school key) --------------------------------------


def forge_notice(
    db_url: str, kind: str, details: dict[str, Any], when: datetime | None = None
) -> int:
    """An event appended as the kiosk's database login (PostgreSQL) or a shell on the SQLite
    file can, without the school's key: chained to the head, its hash right, no MAC."""
    with meddle(db_url) as db:
        head = db.event(db.execute("SELECT max(id) FROM events")[0][0])
        row: dict[str, Any] = {c: None for c in CHAIN_COLUMNS}
        occurred: Any = head["occurred_at"]
        if when is not None:
            occurred = when if not is_sqlite(db_url) else when.strftime("%Y-%m-%d %H:%M:%S.%f")
        row.update(
            id=head["id"] + 1,
            occurred_at=occurred,
            kind=kind,
            category=EventKind(kind).category,
            kiosk=head["kiosk"],
            details=details,
            prev_hash=head["hash"],
        )
        row["hash"] = hash_of(row)  # no MAC: the old format's hash, as the tester computed it
        marks = ", ".join(["%s"] * len(CHAIN_COLUMNS))
        db.execute(
            f"INSERT INTO events ({', '.join(CHAIN_COLUMNS)}) VALUES ({marks})",
            tuple(
                json.dumps(row[c]) if isinstance(row[c], dict) else row[c] for c in CHAIN_COLUMNS
            ),
        )
    return int(row["id"])


def anchor_record(day: date, claim: int = 25) -> dict[str, Any]:
    return {
        "key": f"anchor:{day}",
        "notice": "anchor",
        "to": DPO,
        "subject": "Register anchor",
        "claim": claim,
    }


@pytest.mark.parametrize(
    ("kind", "state"), [("notice_sent", "sent"), ("notice_claimed", "claimed")]
)
def test_a_forged_notice_record_does_not_stop_the_daily_anchor(
    school: Services, smtp: SmtpServer, clock: FakeClock, db_url: str, kind: str, state: str
) -> None:
    """A ``notice_sent`` (or ``notice_claimed``) for today's anchor appended without the key
    made every run that day leave the anchor out ("0 notices due"), and --status say nothing.
    Only records whose hash and MAC are the kiosk's count: the anchor is sent, and the run
    names the record it did not believe."""
    clock.set(at(TUESDAY, 17))
    forged = forge_notice(db_url, kind, anchor_record(TUESDAY))

    due, problems = school.notify.due(is_school_day=monday_off)

    assert f"anchor:{TUESDAY}" in [n.key for n in due]
    said = f"{kind} event {forged} for anchor:{TUESDAY} has no valid MAC: not taken as {state}"
    assert said in problems
    report = school.notify.run(is_school_day=monday_off)
    assert said in report.problems and not report.failed
    (anchor,) = smtp.inbox.to(DPO)
    assert subject(anchor).startswith("Register anchor for Tuesday 10 March 2026")
    # Sent once: the next run has nothing to send, and no longer names the forged record (the
    # anchor is no longer due: its own record says sent).
    clock.set(at(TUESDAY, 17, 15))
    again = school.notify.run(is_school_day=monday_off)
    assert again.outcomes == () and len(smtp.inbox.to(DPO)) == 1


@pytest.mark.parametrize("kind", ["notice_failed", "notice_claimed"])
def test_a_forged_notice_record_is_not_listed_as_failed_or_unknown(
    school: Services, clock: FakeClock, db_url: str, kind: str
) -> None:
    """A forged failure (or claim left without an outcome) was listed by --status as the
    kiosk's own; it is not one, and the status says which event it is and why."""
    clock.set(at(TUESDAY, 17))
    details = anchor_record(TUESDAY) | (
        {"error": "SMTP 550: no"} if kind == "notice_failed" else {}
    )
    forged = forge_notice(db_url, kind, details)
    clock.set(at(TUESDAY, 18))

    assert school.notify.status() == ()
    states, untrusted = school.notify.status_report()
    state = "failed" if kind == "notice_failed" else "claimed"
    assert states == ()
    assert untrusted == (
        f"{kind} event {forged} for anchor:{TUESDAY} has no valid MAC: not taken as {state}",
    )


def test_notify_command_names_a_forged_anchor_record(
    school: Services,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The tester's statement: with KIOSK_ANCHOR_EMAIL set and the day over (KIOSK_END_OF_DAY
    00:01), a forged ``notice_sent`` for today's anchor turned `kiosk notify --dry-run`'s list
    into "0 notices due" and `--status` said nothing failed. Now the anchor is due and both
    name the forged event. (The command runs on the real clock.)"""
    from kiosk.cli import main
    from kiosk.domain.timeutil import local_date, utc_now

    monkeypatch.setenv("KIOSK_DATABASE_URL", db_url)
    monkeypatch.setenv("KIOSK_ANCHOR_EMAIL", DPO)
    monkeypatch.setenv("KIOSK_END_OF_DAY", "00:01")
    now = utc_now()
    today = local_date(now, school.settings.zone)
    forged = forge_notice(db_url, "notice_sent", anchor_record(today), when=now)
    said = f"notice_sent event {forged} for anchor:{today} has no valid MAC: not taken as sent"

    assert main(["notify", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert f"To: {DPO}\nSubject: Register anchor for " in out and f"Key: anchor:{today}" in out
    assert f"kiosk: note: {said}" in err

    assert main(["notify", "--status"]) == 0
    out = capsys.readouterr().out
    assert said in out


@pytest.mark.parametrize("kind", ["anchor_taken", "notice_sent"])
def test_a_forged_anchor_event_is_not_the_consoles_last_anchor(
    services: Services, db_url: str, kind: str
) -> None:
    """On SQLite the same row written into the file (or by the kiosk's login on PostgreSQL)
    changed the console's status line from "no anchor taken yet" to "last anchor taken ...":
    only anchor events whose hash and MAC are the kiosk's count."""
    make_school(services)
    services.integrity.verify()
    forge_notice(db_url, kind, anchor_record(TUESDAY) if kind == "notice_sent" else {})

    last = services.integrity.last_check()

    assert last.report is not None and last.report.last_anchor_at is None
    taken = services.integrity.anchor()  # a real one counts
    last = services.integrity.last_check()
    assert last.report is not None and last.report.last_anchor_at is not None
    assert iso(last.report.last_anchor_at) == taken.taken_at


# --- round 15's review: the anchor kept as its e-mail, the sender ------------------------------


def test_the_anchor_e_mail_saved_whole_is_an_anchor_verify_reads(
    school: Services, smtp: SmtpServer, clock: FakeClock, tmp_path: Path
) -> None:
    # The e-mail says "please keep this e-mail": saved whole (an .eml, a forward), it holds the
    # anchor twice, in its text part and in its HTML part. Refusing any anchor with two Event
    # lines (against a school name that wrote one of its own) refused it too.
    from kiosk.services.integrity import read_anchor

    clock.set(at(TUESDAY, 17))
    school.notify.run(is_school_day=monday_off)
    (mail,) = smtp.inbox.to(DPO)
    saved = tmp_path / "anchor.eml"
    saved.write_bytes(mail.as_bytes())
    assert saved.read_text().count("Event: ") == 2
    anchor = read_anchor(saved)
    assert school.integrity.verify(anchors=[anchor]).ok


@pytest.mark.parametrize(
    "sender",
    [
        "=?utf-8?q?Office=0ABcc=3A_spy=40evil=2Eexample?= <kiosk@school.example>",
        "Hillside Office \u202e <office@school.example>",
        "office@school.example, spy@evil.example",
    ],
    ids=["encoded-word", "override", "two"],
)
def test_a_sender_that_is_not_one_address_after_plain_words_is_refused_and_named(
    sender: str, school: Services, smtp: SmtpServer, clock: FakeClock
) -> None:
    # The From setting went into every e-mail unchecked: an encoded word in its name made
    # the mail package refuse to build each message, and that ValueError ended the run with
    # nothing sent, the daily anchor included; an override was sent in the From line.
    from kiosk.config import ConfigError, check_value

    with pytest.raises(ConfigError) as refused:
        check_value("smtp_from", sender)
    assert "is not a sender such as office@school.example" in str(refused.value)
    school = with_settings(school, smtp_from=sender)  # written by hand past that check
    clock.set(at(TUESDAY, 17))
    report = school.notify.run(is_school_day=monday_off)
    assert smtp.inbox.messages == []
    assert report.outcomes and all(not o.sent for o in report.outcomes)
    assert all("kiosk config set smtp_from" in (o.error or "") for o in report.outcomes)
    # Put right, the next run sends what failed.
    school = with_settings(school, smtp_from="Hillside Office <office@school.example>")
    assert all(o.sent for o in school.notify.run(is_school_day=monday_off).outcomes)
    (anchor,) = smtp.inbox.to(DPO)
    assert anchor["From"] == "Hillside Office <office@school.example>"

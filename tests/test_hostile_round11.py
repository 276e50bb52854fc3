"""Hostile text, round 11: sinks the earlier rounds did not reach (label sheets, e-mail
bodies, the log file). Names and other stored text are written by raw SQL, as someone with
the SQLite file or the database login would."""

from __future__ import annotations

import base64
import email.policy
import io
import logging
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from kiosk.cli import main
from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.errors import InvalidInput
from kiosk.services import labels
from kiosk.services.app import Services
from kiosk.services.notices import build_message
from tests.conftest import FakeClock, with_settings
from tests.hostile import ESC, make_hostile_school
from tests.school import make_school
from tests.test_cli_hostile_text import DAY, PIN

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def cli_school(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The hostile school, in the database the command line opens."""
    monkeypatch.setenv("KIOSK_DATABASE_URL", db_url)
    services = Services(make_engine(db_url), Settings(database_url=db_url), FakeClock())
    make_hostile_school(services)
    services.admin.set_pin(PIN, admin_code="DOFFICE")
    yield services
    services.close()


def test_a_label_sheet_prints_hostile_names_as_plain_text(
    services: Services, tmp_path: Path
) -> None:
    # A name holding ESC made the whole SVG sheet not well-formed XML (no badge on it could
    # be printed), and a right-to-left override printed "Esha" U+202E "letaP" as "EshaPatel"
    # on the PNG and PDF badge (Pillow lays text out with bidi): a badge reading as another
    # person's name.
    make_hostile_school(services)
    sheet = labels.staff_labels(services.people) + labels.device_labels(services.people)
    (path,) = labels.write_sheet(sheet, tmp_path / "badges.svg")
    root = ET.parse(path).getroot()  # well-formed
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "Esha\ufffdletaP\ufffd" in texts and "[@click=screen.exit" in texts
    for label in sheet:
        layout = labels.layout_label(label)
        for line in (*layout.code.lines, *layout.title.lines):
            assert ESC not in line and "\x07" not in line, line
            assert "\u202e" not in line and "\u200b" not in line, line


def test_a_stored_name_or_description_is_one_line_in_every_e_mail(services: Services) -> None:
    # Titles, versions and store names were made one line (round 10), but a person's name or
    # a device's description went into the body with its line breaks kept: a name stored as
    # "Hal New" LF "URGENT: reply with your PIN" wrote its own line in the e-mail to Hal and
    # a forged entry in the office's end-of-day list; in a subject it cut the line and began
    # the body with the rest.
    forged = "Hal New\nURGENT: reply to this e-mail with your PIN"
    make_school(services)
    services.policies.publish("Phones", "2026", "Be kind.\n")
    services.people.add_staff("HNEW", "Hal New", email="hal@school.example")
    services.policies.request_workstation_review("HNEW", "A laptop stand, please")
    with services.ctx.engine.begin() as connection:
        connection.execute(sa.text("UPDATE staff SET name = :n WHERE code = 'HNEW'"), {"n": forged})
    mailing = with_settings(
        services, office_email="office@school.example", head_email="head@school.example"
    )
    try:
        due = mailing.notify.run(dry_run=True).due
    finally:
        mailing.close()
    kinds = {n.kind for n in due}
    assert {"policy_waiting", "review_request"} <= kinds, kinds
    for notice in due:
        for text in (notice.subject, notice.text, notice.html):
            assert "\nURGENT" not in text and "<br>URGENT" not in text, (notice.kind, text)
    [review] = [n for n in due if n.kind == "review_request"]
    assert (
        review.subject
        == "Workstation review requested by Hal New URGENT: reply to this e-mail with your PIN"
    )


@pytest.mark.parametrize(
    "command",
    [
        ["register", "--date", DAY, "--csv", "-"],
        ["export", "--staff", "BJONES", "--admin", "DOFFICE", "--pin-stdin"],
    ],
    ids=" ".join,
)
def test_a_carriage_return_in_a_name_does_not_redraw_a_line_on_the_terminal(
    cli_school: Services,
    command: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # CSV printed to the terminal kept a name's own CR, VT and FF (terminal_text left them,
    # as it does line breaks): "Ben Jones" CR "Carol Head" put the cursor back at the start
    # of the row, and the terminal showed the row with its start overwritten by whatever
    # followed (a status, a time, another person's name). Line ends (CR LF) stay.
    with cli_school.ctx.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE staff SET name = :n WHERE code = 'BJONES'"),
            {"n": "Ben Jones\r12,2026-03-10 08:00:00,,Phone collected\vX\fY"},
        )
    monkeypatch.setattr(sys, "stdin", io.StringIO(PIN + "\n"))
    status = main(command)
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "Ben Jones\ufffd12,2026-03-10" in out
    assert "\v" not in out and "\f" not in out
    assert "\r" not in out.replace("\r\n", "")


def test_a_name_in_the_log_file_cannot_write_a_line_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The PIN pad logs who closed the kiosk by name. An admin's name stored as "Dina" LF and
    # a whole forged record wrote a line that reads as the log's own (another admin closed
    # the kiosk), and ESC reached whoever read the log with cat or tail (a terminal title, the
    # clipboard through OSC 52). A record's own further lines (a traceback) are indented now,
    # so nothing in one can pose as another, and no escape or override is written.
    from kiosk.ui import logfile

    monkeypatch.setenv("KIOSK_LOG_DIR", str(tmp_path))
    monkeypatch.setattr(logfile, "_handler", None)
    logger = logging.getLogger("kiosk")
    before = list(logger.handlers)
    path = logfile.setup_file_logging()
    assert path is not None
    try:
        name = (
            "Dina\n2026-03-10 16:02:11,204 INFO kiosk.ui.pin: kiosk app closed by Gareth Evans "
            f"(GEVANS) from the PIN pad (event 4711){ESC}]0;pwned\x07\u202e"
        )
        logging.getLogger("kiosk.ui.pin").info(
            "kiosk app closed by %s (%s) from the PIN pad (event %s)", name, "DOFFICE", 12
        )
    finally:
        for handler in logger.handlers:
            if handler not in before:
                logger.removeHandler(handler)
                handler.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    records = [line for line in lines if not line.startswith(" ")]
    assert len(records) == 1 and "closed by Dina" in records[0], lines
    text = "\n".join(lines)
    assert ESC not in text and "\x07" not in text and "\u202e" not in text


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("C\u0430rol Head", "CYRILLIC SMALL LETTER A"),  # a Cyrillic a
        ("Carol H\u0435ad", "CYRILLIC SMALL LETTER IE"),
        ("\u039fscar Lee", "GREEK CAPITAL LETTER OMICRON"),  # a Greek capital O
        ("\U0001d5a2arol Head", "MATHEMATICAL SANS-SERIF CAPITAL C"),
        ("\uff23arol Head", "FULLWIDTH LATIN CAPITAL LETTER C"),
    ],
)
def test_a_name_made_to_look_like_another_is_refused(
    services: Services, name: str, said: str
) -> None:
    # Every character in these is a letter (no hidden character), so they went in: a second
    # "Carol Head" whose a is Cyrillic looks the same as the head's own name on every list,
    # in the "granted by" list of an exemption, in the register; and "is the name of 2
    # people" did not see it. A word mixing alphabets, or a letter written in a
    # compatibility form (mathematical, full-width), is refused, naming the letter.
    make_school(services)
    report = services.people.import_staff_csv(
        f"code,name\nCHEAD2,{name}\n".encode(), admin_code="CHEAD"
    )
    assert not report.imported
    [problem] = report.problems
    assert problem.line == 2 and problem.reason.startswith("name ") and said in problem.reason
    with pytest.raises(InvalidInput, match=said):
        services.people.add_staff("CHEAD3", name, admin_code="CHEAD")


@pytest.mark.parametrize(
    "name",
    [
        "Zoë O'Brien-Smith",
        "Иван Петров",
        "Γιώργος Παπαδόπουλος",
        "山田 太郎",
        "Nguyễn Văn An",
        "José Müller",
    ],
)
def test_names_in_one_alphabet_each_still_go_in(services: Services, name: str) -> None:
    make_school(services)
    services.people.add_staff("NEW1", name, admin_code="CHEAD")


def test_a_name_spelt_as_an_encoded_word_cannot_write_e_mail_headers(services: Services) -> None:
    # "=?utf-8?b?...?=" is all printable ASCII, so a roster name spelt that way went in. Put in
    # a subject (a workstation review "requested by" them), Python's e-mail package decodes it
    # as an RFC 2047 encoded word when the header is set, and wrote what it decoded, CR LF
    # and all: a Bcc header of the sender's choosing, then a blank line and a body of theirs
    # in place of the kiosk's (and a bidi override or ESC past every text check).
    hidden = "Hal New\r\nBcc: evil@example.com\r\n\r\nReply with your PIN.\u202e"
    name = "=?utf-8?b?" + base64.b64encode(hidden.encode()).decode() + "?="
    make_school(services)
    services.people.add_staff("HNEW", name, email="hal@school.example")
    services.policies.request_workstation_review("HNEW", "A laptop stand, please")
    mailing = with_settings(
        services, office_email="office@school.example", head_email="head@school.example"
    )
    try:
        due = mailing.notify.run(dry_run=True).due
        [review] = [n for n in due if n.kind == "review_request"]
        wire = build_message(review, mailing.settings).as_bytes(policy=email.policy.SMTP)
    finally:
        mailing.close()
    received = email.message_from_bytes(wire, policy=email.policy.default)
    assert received["Bcc"] is None and b"\r\nBcc:" not in wire
    assert received["To"] == "head@school.example"
    subject = str(received["Subject"])
    assert "\r" not in subject and "\n" not in subject and "\u202e" not in subject
    assert subject == "Workstation review requested by " + name.replace("=?", "= ?")
    # The body is the kiosk's, quoting the name as written.
    assert received.get_body(("plain",)).get_content().startswith(f"{name} (HNEW) asked for")


ENCODED_ADDRESSES = [
    # read as "evil@example.com,"@school.example, written in the To header as
    # "evil@example.com,@school.example": a reply goes to evil@example.com
    "=?utf-8?q?evil=40example=2Ecom=2C?=@school.example",
    # decodes to a line break: building the message raised ValueError, which stopped the run
    "=?utf-8?b?" + base64.b64encode(b"a\r\nBcc: e@example.com\r\n").decode() + "?=@school.example",
]


@pytest.mark.parametrize("address", ENCODED_ADDRESSES, ids=["q", "b"])
def test_an_address_holding_an_encoded_word_is_not_one_address(
    services: Services, address: str
) -> None:
    # "=" and "?" are letters of an address's local part, so an RFC 2047 encoded word passed
    # as one; Python's e-mail package decodes it in a To header.
    make_school(services)
    with pytest.raises(InvalidInput, match="encoded"):
        services.people.add_staff("HNEW", "Hal New", email=address)
    services.people.add_staff("HNEW", "Hal New", email="hal@school.example")
    services.policies.publish("Phones", "2026", "Be kind.\n")
    with services.ctx.engine.begin() as connection:  # stored by someone with the database
        connection.execute(
            sa.text("UPDATE staff SET email = :e WHERE code = 'HNEW'"), {"e": address}
        )
    report = services.notify.run(dry_run=True)
    assert all(n.to != address for n in report.due)
    for notice in report.due:
        build_message(notice, services.settings)  # every one can be built

"""Hostile text, round 11: sinks the earlier rounds did not reach (label sheets, e-mail
bodies, the log file). Names and other stored text are written by raw SQL, as someone with
the SQLite file or the database login would."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import sqlalchemy as sa

from kiosk.services import labels
from kiosk.services.app import Services
from tests.conftest import with_settings
from tests.hostile import ESC, make_hostile_school
from tests.school import make_school

SVG = "{http://www.w3.org/2000/svg}"


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

"""Hostile text, round 11: sinks the earlier rounds did not reach (label sheets, e-mail
bodies, the log file). Names and other stored text are written by raw SQL, as someone with
the SQLite file or the database login would."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from kiosk.services import labels
from kiosk.services.app import Services
from tests.hostile import ESC, make_hostile_school

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

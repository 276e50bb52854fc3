"""Text is text on the command line (issue 15.7): hostile names written straight into the
database are printed literally by every listing, with no escape sequence reaching the
terminal; a CSV file keeps the real data, spreadsheet-safe; hostile characters are refused
where data comes in, naming the character."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from rich.cells import cell_len

from kiosk.cli import main
from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.hostile import ESC, HOSTILE, SHOWN, make_hostile_school

PIN = "402718"
DAY = "2026-03-10"  # the fake clock's day


@pytest.fixture
def school(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    monkeypatch.setenv("KIOSK_DATABASE_URL", db_url)
    services = Services(make_engine(db_url), Settings(database_url=db_url), FakeClock())
    make_hostile_school(services)
    services.admin.set_pin(PIN, admin_code="DOFFICE")
    yield services
    services.close()


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(PIN + "\n"))
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


LISTINGS = [
    ["staff", "list"],
    ["devices", "list"],
    ["register", "--date", DAY],
    ["register", "--date", DAY, "--csv", "-"],
    ["policy", "list"],
    ["verify"],
    ["export", "--staff", "BJONES", "--admin", "DOFFICE", "--pin-stdin"],
    ["export", "--staff", "CHEAD", "--format", "json", "--admin", "DOFFICE", "--pin-stdin"],
]


@pytest.mark.parametrize("command", LISTINGS, ids=" ".join)
def test_every_listing_prints_hostile_names_literally_and_no_escape(
    school: Services,
    command: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    status, out, err = run(capsys, monkeypatch, *command)
    assert status in (0, 1), err
    for stream in (out, err):
        assert ESC not in stream and "\x07" not in stream
        assert "\u202e" not in stream and "\u200b" not in stream
    if command[0] in ("staff", "register"):
        for code in ("ASMITH", "CHEAD", "BJONES"):
            assert SHOWN[code] in out, code
    if command[0] == "devices":
        assert "[@click=app.quit]Dell[/]\ufffd]0;pwned\ufffd\ufffdLatitude" in out
    if command[0] == "export" and "json" not in command:
        assert SHOWN["BJONES"] in out


def test_a_csv_file_keeps_the_real_data(
    school: Services,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / "register.csv"
    status, _, err = run(capsys, monkeypatch, "register", "--date", DAY, "--csv", str(target))
    assert status == 0, err
    import stat

    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # names: personal data
    written = target.read_text(encoding="utf-8-sig")
    assert HOSTILE["BJONES"] in written and HOSTILE["ASMITH"] in written


def test_hostile_characters_are_refused_where_data_comes_in(
    school: Services,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "code,name\nZED,Zed\u202eyrraH\nYAN,Yan\u200bLi\nXIA,Xia\x1b]0;t\x07\nWEN,Wen Ok\n",
        encoding="utf-8",
    )
    status, _, err = run(
        capsys, monkeypatch, "staff", "import", str(roster), "--admin", "DOFFICE", "--pin-stdin"
    )
    assert status == 1
    assert "line 2: name contains RIGHT-TO-LEFT OVERRIDE" in err
    assert "line 3: name contains ZERO WIDTH SPACE" in err
    assert "line 4: name contains U+001B (a control character), U+0007" in err
    assert ESC not in err
    assert "WEN" not in [p.code for p in school.people.list_staff()]
    status, _, err = run(
        capsys,
        monkeypatch,
        "devices",
        "add",
        "LAP-050",
        "--kind",
        "laptop",
        "--description",
        "Dell\u2066 Latitude",
        "--admin",
        "DOFFICE",
        "--pin-stdin",
    )
    assert status == 1 and "description contains LEFT-TO-RIGHT ISOLATE" in err


def test_wide_and_combining_names_keep_the_staff_lists_columns_in_line(
    school: Services,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A terminal draws a CJK character or an emoji two columns wide, and a combining mark on
    # the letter before it: the columns after a name must still start under their heading.
    school.people.add_staff("WIDE", "山田 太郎 🙂", roles=["slt"], admin_code="DOFFICE")
    # (at most five marks on a letter: more is refused, tests/test_hostile_round15.py)
    school.people.add_staff("ZALGO", "Zoe" + "\u0301" * 5, roles=["slt"], admin_code="DOFFICE")
    status, out, err = run(capsys, monkeypatch, "staff", "list")
    assert status == 0, err
    lines = out.splitlines()
    heading = cell_len(lines[0][: lines[0].index("ROLES")])
    for code in ("WIDE", "ZALGO", "ASMITH"):
        [line] = [line for line in lines if line.startswith(code + " ")]
        roles = "slt" if code != "ASMITH" else "laptop_user"
        assert cell_len(line[: line.index(roles)]) == heading, line


def test_invisible_tag_characters_are_refused_and_never_printed(
    school: Services,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Unicode "tag" characters (U+E0000 to U+E007F) and the Hangul fillers draw as nothing:
    # "Ben Jones" plus them looks like "Ben Jones", the way a zero-width space does.
    tags = "".join(chr(0xE0000 + ord(c)) for c in "HI")
    roster = tmp_path / "roster.csv"
    roster.write_text(f"code,name\nBJ2,Ben Jones{tags}\nHF,\u3164\nWEN,Wen Ok\n", encoding="utf-8")
    status, _, err = run(
        capsys, monkeypatch, "staff", "import", str(roster), "--admin", "DOFFICE", "--pin-stdin"
    )
    assert status == 1, err
    assert "line 2: name contains TAG LATIN CAPITAL LETTER H, TAG LATIN CAPITAL LETTER I" in err
    assert "line 3: name contains HANGUL FILLER" in err
    with school.ctx.engine.begin() as connection:  # written by someone with the file
        connection.execute(
            sa.text("UPDATE staff SET name = :name WHERE code = 'EPATEL'"),
            {"name": f"Esha Patel{tags}"},
        )
    status, out, err = run(capsys, monkeypatch, "staff", "list")
    assert status == 0, err
    assert not any(0xE0000 <= ord(c) <= 0xE007F for c in out)
    assert "Esha Patel\ufffd\ufffd" in out


def test_a_kind_of_devices_label_is_refused_with_hidden_characters(
    school: Services,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The label is shown on every screen that names a device: refused at input, as staff
    # names and device descriptions are, naming the character.
    for label, named in (
        ("iPad\u202e riA", "RIGHT-TO-LEFT OVERRIDE"),
        ("iPad\u200b", "ZERO WIDTH SPACE"),
        ("iPad\x1b[2J", "U+001B (a control character)"),
    ):
        status, _, err = run(
            capsys, monkeypatch, "devices", "kind", "add", "ipad", "--label", label,
            "--admin", "DOFFICE", "--pin-stdin",
        )  # fmt: skip
        assert status == 1 and f"label contains {named}" in err, err
        assert ESC not in err
    assert school.school.device_kinds().get("ipad") is None

"""Hostile text, round 15: text that reaches a surface by a way the earlier rounds did not
guard (the school's own settings, the register's anchor, the console server's terminal).
Each test here failed on the code before its fix (see the commit that added it)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from kiosk.cli import main
from kiosk.config import ConfigError
from kiosk.domain.errors import InvalidInput
from kiosk.services.app import Services
from kiosk.services.integrity import Anchor
from kiosk.services.notices import current_anchor_text
from tests.conftest import with_settings
from tests.school import make_school


def _first_event(services: Services) -> tuple[int, str]:
    with services.ctx.engine.connect() as connection:
        row = connection.execute(sa.text("SELECT id, hash FROM events ORDER BY id LIMIT 1")).one()
    return int(row[0]), str(row[1])


def test_a_school_name_cannot_write_the_anchors_event_and_hash(services: Services) -> None:
    # The anchor is the register's proof kept off the machine: `kiosk verify --anchor FILE`
    # checks the event it names is still there, unchanged, with all before it. Its School
    # line came first and was written as the setting holds it: a school name holding line
    # breaks ("Hillside" LF "Event: 1" LF "Hash: <event 1's hash>", one line in the kiosk's
    # environment file or a "\n" in config.toml) made every anchor, the one e-mailed each
    # day included, name event 1, and the reader kept the first Event and Hash lines. A
    # history rewritten after event 1 then passed every anchor the school kept.
    make_school(services)
    services.phones.deposit("BJONES")
    first_id, first_hash = _first_event(services)
    forged = f"Hillside\nEvent: {first_id}\nPosition: 1\nHash: {first_hash}"
    school = with_settings(services, school_name=forged)
    try:
        anchor = school.integrity.anchor()
        assert anchor.event_id > first_id
        for text in (anchor.to_text(), current_anchor_text(school.ctx) or ""):
            read = Anchor.parse(text)
            assert (read.event_id, read.hash) == (anchor.event_id, anchor.hash), text
            assert read.school == f"Hillside Event: {first_id} Position: 1 Hash: {first_hash}"
    finally:
        school.close()


def test_an_anchor_with_two_event_or_hash_lines_is_refused() -> None:
    # An anchor written before the fix above (or edited) holds two Event and Hash lines: which
    # one the school meant cannot be known, so it is refused in words, not read as the first.
    head = "a" * 64
    text = (
        "Staff Room Kiosk register anchor\nSchool: Hillside\nEvent: 1\nPosition: 1\n"
        f"Hash: {'b' * 64}\nEvent: 40\nPosition: 40\nHash: {head}\nRecorded at: x\n"
    )
    with pytest.raises(InvalidInput) as refused:
        Anchor.parse(text, source="anchor.txt")
    assert "anchor.txt" in refused.value.message
    assert "two different Event lines" in refused.value.message


# --- the school's settings: the same rule from the file and the environment ------------------


@pytest.mark.parametrize(
    ("where", "key", "value", "named"),
    [
        # Every event records the kiosk's name; `kiosk config set kiosk_name` refuses these.
        ("env", "kiosk_name", "Staff room\u202emoor ffatS", "RIGHT-TO-LEFT OVERRIDE"),
        ("env", "kiosk_name", "Staff room\x1b]0;pwned\x07", "control characters"),
        ("file", "school_name", "Hillside\nEvent: 1", "control characters"),
        ("file", "school_name", "Hill\u200bside", "ZERO WIDTH SPACE"),
        # The number families ring, on the home screen and in every e-mail: an override
        # turns "0121 496 0000" round.
        ("env", "office_phone", "\u202e0000 694 1210", "RIGHT-TO-LEFT OVERRIDE"),
    ],
    ids=lambda v: v if v in ("env", "file") else None,
)
def test_a_setting_from_the_file_or_the_environment_meets_the_rule_config_set_applies(
    where: str,
    key: str,
    value: str,
    named: str,
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # `kiosk config set` refused a control character, an override or a zero-width character
    # in a setting shown to people, and a recipient that is not one address; the same values
    # in config.toml or the environment (the service's environment file, `sudo kiosk-as`)
    # were taken as they were: a kiosk name holding an override went into every event it
    # recorded, for good, and a school name holding line breaks into every anchor.
    from kiosk.config import SETTINGS, check_value, load_settings

    monkeypatch.setenv("KIOSK_DATABASE_URL", sqlite_url)
    setting = next(s for s in SETTINGS if s.key == key)
    with pytest.raises(ConfigError):
        check_value(key, value)  # the rule config set applies
    if where == "env":
        monkeypatch.setenv(setting.env, value)
        origin = f"${setting.env}"
    else:
        path = tmp_path / "config.toml"
        path.write_text(f"{key} = {json.dumps(value)}\n", encoding="utf-8")
        monkeypatch.setenv("KIOSK_CONFIG", str(path))
        origin = str(path)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert f"{key} ({origin})" in str(refused.value)
    assert named in str(refused.value)
    status = main(["staff", "list"])
    _, err = capsys.readouterr()
    assert status == 1
    assert f"kiosk: configuration: {key} ({origin})" in err
    assert (f"correct ${setting.env}" if where == "env" else f"kiosk config set {key}") in err
    assert "\x1b" not in err and "\u202e" not in err


# --- kiosk admin --serve: what reaches the office's terminal ---------------------------------


@pytest.mark.ui
def test_a_request_cannot_write_escapes_or_overrides_to_the_servers_terminal(
    sqlite_url: str, tmp_path: Path
) -> None:
    # The server logs each request on the terminal it runs in (textual-serve's log: the
    # access line quotes the User-Agent and Referer). Anything that reaches its port (a
    # machine on the school's network through the proxy, a page in the office's browser)
    # chose those headers: the HTTP parser refuses ESC there, but took the 8-bit CSI
    # (U+009B, ESC [ to a terminal that reads C1 controls: colours, cursor moves, the
    # screen cleared) and a right-to-left override that turned the rest of the log line
    # round. They were written to the terminal as they came.
    from tests.test_admin_browser import free_port, wait_for

    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "KIOSK_DATABASE_URL": sqlite_url}
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "admin", "--serve", "--port", str(port)],
            cwd=tmp_path,
            stdout=stderr,
            stderr=stderr,
            env=env,
        )
        try:

            def answering() -> bool:
                with socket.socket() as s:
                    return s.connect_ex(("127.0.0.1", port)) == 0

            wait_for("the server to answer", answering, 30)
            request = (
                b"GET /nothing-here HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"User-Agent: Mozilla \xc2\x9b2J\xc2\x9b31mFORGED\r\n"
                b"Referer: http://x/\xe2\x80\xaeexe.txt\r\nConnection: close\r\n\r\n"
            )
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(request)
                assert s.recv(100).startswith(b"HTTP/1.1 404")
            wait_for("the request's log line", lambda: b"FORGED" in log.read_bytes(), 10)
        finally:
            process.terminate()
            process.wait(timeout=15)
    written = log.read_bytes().decode("utf-8", "replace")
    assert "FORGED" in written
    assert "\x9b" not in written and "\u202e" not in written


# --- combining marks stacked on one letter ("Zalgo") ----------------------------------------

# 190 different combining marks on one letter: well under a name's 200 characters.
ZALGO = "Zoe" + "".join(chr(0x300 + i % 0x4F) for i in range(190))


def _most_marks(text: str) -> int:
    """The most combining marks drawn on one letter of ``text``."""
    import unicodedata

    most = run = 0
    for char in text:
        run = run + 1 if unicodedata.category(char) in ("Mn", "Me") else 0
        most = max(most, run)
    return most


def test_a_name_or_reason_stacking_marks_on_a_letter_is_refused_where_it_comes_in(
    services: Services,
) -> None:
    # A name of 190 combining marks on one letter went in on every path (the roster, a
    # person added, a reason typed at the kiosk): drawn in the console in the office's
    # browser, it kept the page's renderer busy for minutes (the console could not be used),
    # and on a terminal or a label its marks are drawn over the lines above and below.
    from kiosk.config import check_value
    from kiosk.domain.text import check_typed_line

    make_school(services)
    with pytest.raises(InvalidInput) as refused:
        services.people.add_staff("ZALGO", ZALGO)
    assert "stacked on one letter" in refused.value.message
    report = services.people.import_staff_csv(
        f"code,name\nZALGO,{ZALGO}\n".encode(), skip_invalid=True
    )
    assert [p.line for p in report.problems] == [2]
    assert "stacked on one letter" in report.problems[0].reason
    with pytest.raises(InvalidInput):
        check_typed_line("Dentist" + ZALGO, "reason")
    with pytest.raises(ConfigError):
        check_value("school_name", "Hillside" + ZALGO)
    assert "ZALGO" not in [p.code for p in services.people.list_staff()]
    # Letters as the world's scripts write them still go in: Vietnamese, Hebrew pointed.
    for code, name in (("NGUYEN", "Nguye\u0302\u0303n Va\u0306n"), ("COHEN", "שָׁלוֹם Cohen")):
        assert services.people.add_staff(code, name).name


def test_a_stored_name_stacking_marks_is_drawn_with_a_few_of_them(
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Stored before the rule (or by someone with the database): every surface draws at most
    # five marks on a letter, and a U+FFFD where the rest were.
    from kiosk.domain.text import display_text, terminal_text

    make_school(services)
    with services.ctx.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE staff SET name = :n WHERE code = 'BJONES'"), {"n": ZALGO}
        )
    shown = display_text(ZALGO)
    assert _most_marks(shown) == 5 and shown.endswith("\ufffd")
    assert _most_marks(terminal_text(ZALGO)) == 5
    assert _most_marks(display_text(ZALGO, multiline=True)) == 5
    monkeypatch.setenv("KIOSK_DATABASE_URL", services.settings.database_url)
    assert main(["staff", "list"]) == 0
    out, _ = capsys.readouterr()
    assert "BJONES" in out and _most_marks(out) <= 5


# --- the register's detail: a value cannot pose as another field ----------------------------


def test_a_name_or_reason_cannot_write_a_field_of_the_registers_detail(services: Services) -> None:
    # A list change shows the row's fields as "code: X; name: Y; roles: Z", and a sign-out
    # "reason: ...; line manager: ...", each value as it is. A roster name "Ben Jones; roles:
    # admin" made the register (console, `kiosk register`, the CSV) read as if an admin had
    # been made, the real "roles: none" after it, often past the column's edge; a reason
    # typed at the kiosk "Report writing; line manager: CHEAD" read as the head's agreement
    # to a regular sign-out, which nobody gave.
    from datetime import timedelta

    from tests.school import make_ready

    make_school(services)
    services.people.add_staff("BJ2", "Ben Jones; roles: admin", admin_code="DOFFICE")
    make_ready(services, "ASMITH")
    services.devices.sign_out(
        "ASMITH",
        ["LAP-001"],
        reason="Report writing; line manager: CHEAD",
        expected_return=services.ctx.clock() + timedelta(hours=3),
    )
    rows = services.register.day(services.ctx.clock().date()).rows
    [added] = [r for r in rows if r.kind == "reference_changed" and "BJ2" in r.detail]
    assert added.detail.endswith('code: BJ2; name: "Ben Jones; roles: admin"; roles: none')
    [signed] = [r for r in rows if r.kind == "device_signed_out"]
    assert signed.detail.startswith('reason: "Report writing; line manager: CHEAD"; due: ')
    # An ordinary value reads as it did.
    [ben] = [r for r in rows if r.kind == "reference_changed" and "code: BJONES" in r.detail]
    assert "; name: Ben Jones;" in ben.detail


# --- the command line's own usage errors ---------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["staff", "list", "\x1b]0;pwned\x07"],  # unrecognized arguments: quoted as given
        ["staff", "retire", "BJONES", "--forc\u202e"],
        ["staff", "list", "\x9b2J\x9b31mFORGED"],
    ],
    ids=["osc", "bidi", "csi8"],
)
def test_a_usage_error_quotes_the_arguments_without_their_controls(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Every command's output goes through terminal_text, "whatever the command prints"; the
    # arguments were read before that, and argparse quotes the ones it does not know as they
    # are: an argument holding ESC, the 8-bit CSI or an override (a code taken from a file
    # by an office script: `kiosk staff retire "$code"`) reached the terminal as it was.
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    _, err = capsys.readouterr()
    assert "unrecognized arguments" in err
    for char in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert char not in err


# --- the school's own notice templates ------------------------------------------------------


def test_a_notice_template_cannot_run_code_in_the_notifier(
    services: Services, tmp_path: Path
) -> None:
    # A school may keep its own wording of the e-mails (notice_templates: a folder, often one
    # the office edits). A template is text, but Jinja2's plain Environment lets it reach
    # Python: "{{ cycler.__init__.__globals__.os.system(...) }}" ran a command as the kiosk's
    # user, who holds the school key (forge the register's MACs) and the database login,
    # every time `kiosk notify` rendered that notice.
    folder = tmp_path / "templates"
    folder.mkdir()
    planted = tmp_path / "ran"
    (folder / "review_request.txt").write_text(
        "Subject: Review for {{ name }}\n"
        f"{{{{ cycler.__init__.__globals__.os.system('touch {planted}') }}}}\n",
        encoding="utf-8",
    )
    make_school(services)
    services.policies.request_workstation_review("EPATEL", "A laptop stand, please")
    mailing = with_settings(
        services, head_email="head@school.example", notice_templates=str(folder)
    )
    try:
        with pytest.raises(InvalidInput) as refused:
            mailing.notify.run(dry_run=True)
    finally:
        mailing.close()
    assert not planted.exists()
    assert "The notice template for review_request cannot be used" in refused.value.message
    # The school's own wording still works.
    (folder / "review_request.txt").write_text(
        "Subject: Review for {{ name }}\n{{ name }} asked: {{ needs | upper }}\n",
        encoding="utf-8",
    )
    mailing = with_settings(
        services, head_email="head@school.example", notice_templates=str(folder)
    )
    try:
        due = mailing.notify.run(dry_run=True).due
    finally:
        mailing.close()
    [review] = [n for n in due if n.kind == "review_request"]
    assert review.subject == "Review for Esha Patel"
    assert "Esha Patel asked: A LAPTOP STAND, PLEASE" in review.text


@pytest.mark.parametrize("argv", [[], ["admin"]], ids=["kiosk", "kiosk admin"])
def test_the_apps_refusal_of_their_settings_writes_no_escape(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The kiosk and the console draw on the terminal themselves, so their output is not put
    # through terminal_text; but a refusal before they start (the settings) is printed like
    # any command's. A config.toml key "ESC ]0;pwned BEL" (a quoted TOML key may hold any
    # character) was quoted as it was in "unknown setting(s): ...", on the kiosk's own
    # screen as the service started it.
    path = tmp_path / "config.toml"
    path.write_text('"\\u001b]0;pwned\\u0007\\u202e" = 1\n', encoding="utf-8")
    monkeypatch.setenv("KIOSK_CONFIG", str(path))
    assert main(argv) == 1
    _, err = capsys.readouterr()
    assert "unknown setting(s)" in err
    for char in ("\x1b", "\x07", "\u202e"):
        assert char not in err

"""Round 21, the office's side: what a new member of the office types at the command line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.domain.errors import RuleViolation
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_school


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def database(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The CLI's database (KIOSK_DATABASE_URL), a school on it, run from ``tmp_path``."""
    monkeypatch.setenv("KIOSK_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    services = Services(make_engine(db_url), Settings(database_url=db_url), FakeClock())
    make_school(services)
    yield services
    services.close()


def test_register_csv_keeps_a_file_already_there_unless_replace(
    database: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: `kiosk register --csv staff.csv` (the roster the office imports, or any of the
    # school's spreadsheets saved as CSV) wrote the day's register over it without a word:
    # the roster was gone. The console's export, `kiosk export`, `kiosk labels` and `kiosk
    # backup` all keep a file already there.
    roster = tmp_path / "staff.csv"
    roster.write_text("code,name\nASMITH,Alice Smith\n", encoding="utf-8")

    status, out, err = run(capsys, "register", "--date", "2026-03-10", "--csv", "staff.csv")

    assert status == 1 and out == ""
    assert "staff.csv already exists" in err and "--replace" in err
    assert roster.read_text(encoding="utf-8") == "code,name\nASMITH,Alice Smith\n"
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

    # Asked for, it is replaced whole (0600, the byte-order mark first).
    status, _, err = run(
        capsys, "register", "--date", "2026-03-10", "--csv", "staff.csv", "--replace"
    )
    assert status == 0 and "Wrote" in err
    assert roster.read_bytes().startswith(b"\xef\xbb\xbfevent_id,")
    assert roster.stat().st_mode & 0o777 == 0o600

    # A new name is written as before.
    status, _, _ = run(capsys, "register", "--date", "2026-03-10", "--csv", "register.csv")
    assert status == 0 and (tmp_path / "register.csv").exists()


@pytest.mark.parametrize(
    "code_cell",
    [
        "BJONES\u200b",  # a zero-width space after it (copied from a web page)
        "\u2066BJONES\u2069",  # bidi isolates round it (a spreadsheet's right-to-left cell)
        "BJ\u00adONES",  # a soft hyphen inside it
        "",  # no code at all, the name there
    ],
)
def test_retire_missing_keeps_someone_whose_code_cell_could_not_be_read(
    services: Services, code_cell: str
) -> None:
    # `kiosk staff import roster.csv --skip-invalid --retire-missing`: Ben's line was left out
    # (its code has an invisible character in it, or none), and he was then retired as "not
    # in the file": his badge stopped working, though his line was there, named, in the file.
    make_school(services)
    lines = ["code,name,roles"]
    for person in services.people.list_staff():
        code = code_cell if person.code == "BJONES" else person.code
        lines.append(f"{code},{person.name},{';'.join(sorted(person.roles))}")
    report = services.people.import_staff_csv(
        ("\n".join(lines) + "\n").encode(), skip_invalid=True, retire_missing=True
    )
    assert [p.line for p in report.problems] == [
        i for i, line in enumerate(lines, 1) if "Ben Jones" in line
    ], report.problems
    assert report.retired == (), report
    assert "BJONES" in {p.code for p in services.people.list_staff()}


def test_a_kinds_new_label_keeps_its_rules_unless_told(
    database: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    # `kiosk devices kind add laptop --label "Laptop (school)"`, to change the label only:
    # laptops then needed no line manager's agreement however often they went home (the
    # flags left out were read as "no"), and "Kind laptop (Laptop (school)) recorded." said
    # nothing of it. A school's tablet lost its "charged and ready" the same way.
    database.school.set_device_kind("tablet", "iPad", needs_charged=True)

    status, out, err = run(capsys, "devices", "kind", "add", "laptop", "--label", "Laptop (school)")
    assert status == 0, err
    assert "needs a line manager when taken home regularly" in out
    status, out, err = run(capsys, "devices", "kind", "add", "tablet", "--label", "iPad (school)")
    assert status == 0, err
    assert "asks 'charged and ready'" in out

    kinds = database.school.device_kinds()
    laptop, tablet = kinds.require("laptop"), kinds.require("tablet")
    assert (laptop.label, laptop.regular_use, laptop.needs_charged) == (
        "Laptop (school)",
        True,
        False,
    )
    assert (tablet.label, tablet.needs_charged, tablet.regular_use) == (
        "iPad (school)",
        True,
        False,
    )

    # Said, a rule is changed; a new kind has the rules it is given, none by default.
    args = ("devices", "kind", "add", "tablet", "--label", "iPad", "--no-needs-charged")
    assert run(capsys, *args)[0] == 0
    assert run(capsys, "devices", "kind", "add", "camera", "--label", "Camera")[0] == 0
    kinds = database.school.device_kinds()
    assert kinds.require("tablet").needs_charged is False
    camera = kinds.require("camera")
    assert (camera.needs_charged, camera.regular_use) == (False, False)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("smtp_security", "ssl"),  # what many mail providers call port 465's TLS
        ("smtp_security", "SSL/TLS"),
        ("smtp_port", "0"),
        ("smtp_port", "99999"),
        ("database_url", "kiosk.sqlite3"),  # a file name, not a URL
        ("database_url", "mysql://kiosk@db/kiosk"),
    ],
)
def test_config_set_refuses_what_would_stop_every_command(
    key: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # `kiosk config set smtp_security ssl` said "written", and then every command, and the
    # kiosk itself at its next start, stopped: "configuration: smtp_security 'ssl' must be
    # one of starttls, tls, none" (a port of 99999 the same). A database URL that is not one
    # was written too, and the kiosk could open no database.
    assert run(capsys, "config", "set", "school_name", "Hillside Primary")[0] == 0

    status, out, err = run(capsys, "config", "set", key, value)

    assert status == 1 and out == "", out
    assert key in err and "written" not in err
    status, out, err = run(capsys, "config")
    assert status == 0, err
    assert "Hillside Primary" in out


def test_config_set_still_takes_what_every_command_takes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in [
        ("smtp_security", "TLS"),
        ("smtp_port", "465"),
        ("database_url", "postgresql://kiosk@db.school.example/kiosk"),
        ("database_url", "sqlite:////srv/kiosk/kiosk.sqlite3"),
    ]:
        status, _, err = run(capsys, "config", "set", key, value)
        assert status == 0, err
        assert run(capsys, "config")[0] == 0


@pytest.mark.parametrize("typed", ["4:30", "4.30", "3:15", "6:00"])
def test_end_of_day_with_an_hour_either_half_of_the_day_is_refused(
    typed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # `kiosk config set end_of_day 4:30` wrote 04:30: from half past four in the morning the
    # school day had "ended", the office's end-of-day e-mail went out then (and, sent once a
    # day, not at 16:30), and the phones list put every phone first as still held all day.
    # Typed on a form, "3:30" is refused as either half of the day; here too.
    status, out, err = run(capsys, "config", "set", "end_of_day", typed)

    assert status == 1 and out == ""
    hour, minutes = typed.replace(".", ":").split(":")
    assert f"0{hour}:{minutes}" in err and f"{int(hour) + 12}:{minutes}" in err
    config = Path(os.environ["KIOSK_CONFIG_DIR"]) / "config.toml"
    assert not config.exists() or "end_of_day" not in config.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("16:30", "16:30"),
        ("04:30", "04:30"),
        ("9:05", "09:05"),
        ("15.45", "15:45"),
        ("12:30", "12:30"),
    ],
)
def test_end_of_day_written_as_typed_when_it_reads_one_way(
    typed: str, written: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "config", "set", "end_of_day", typed)
    assert status == 0, err
    assert f"end_of_day = '{written}' written" in out


@pytest.mark.parametrize(
    "args",
    [
        ["--host", "0.0.0.0"],  # every interface, plain HTTP: the PIN in clear on the network
        ["--host", "10.0.10.5", "--public-url", "http://10.0.10.5:8000"],
        ["--host", "::"],
        ["--public-url", "kiosk.school.example"],  # no https://: no page could open a console
        ["--public-url", "https://kiosk.school.example,https://evil.example"],
    ],
)
def test_serve_refuses_a_console_on_the_network_without_tls(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `kiosk admin --serve --host 0.0.0.0` served the admin console to the school's network
    # over plain HTTP ("Serving the admin console on http://0.0.0.0:8000"): the PIN and
    # everything the console shows crossed it in clear, though the README says the console
    # is never on the network without TLS in front of it. A --public-url a browser cannot
    # open was taken as well, and every browser tab then said only that the console closed.
    import kiosk.ui.admin.serve as serve

    served: list[object] = []
    monkeypatch.setattr(serve, "serve_admin", lambda **kw: served.append(kw))

    status, out, err = run(capsys, "admin", "--serve", *args)

    assert status == 2 and out == "", err
    assert "Serving" not in err and served == []
    assert "https://" in err


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--host", "localhost", "--port", "8001"],
        ["--public-url", "https://kiosk.school.example"],
        # A proxy on another machine: this one listens on the school's network, and only the
        # proxy's HTTPS page (and this machine's own) opens a console.
        ["--host", "10.0.10.5", "--public-url", "https://kiosk.school.example"],
        # A scheme in capitals is the same scheme (a browser's Origin is lower case).
        ["--host", "10.0.10.5", "--public-url", "HTTPS://Kiosk.School.Example"],
    ],
)
def test_serve_still_starts_on_this_machine_or_behind_https(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import kiosk.ui.admin.serve as serve

    served: list[dict[str, object]] = []
    monkeypatch.setattr(serve, "serve_admin", lambda **kw: served.append(kw))

    status, _, err = run(capsys, "admin", "--serve", *args)

    assert status == 0, err
    assert len(served) == 1


def test_on_the_network_a_plain_http_page_opens_no_console() -> None:
    from kiosk.ui.admin.serve import allowed_origins, origin_allowed

    allowed = allowed_origins("10.0.10.5", 8000, "https://kiosk.school.example")
    assert origin_allowed("https://kiosk.school.example", allowed)
    assert origin_allowed("http://127.0.0.1:8000", allowed)
    assert not origin_allowed("http://10.0.10.5:8000", allowed)


@pytest.mark.parametrize(
    "again", ["spring  2018", "SPRING 2018", "Spring\u00a02018", "\uff33pring 2018"]
)
def test_a_version_that_reads_as_one_already_published_is_refused(
    services: Services, again: str
) -> None:
    # `kiosk policy publish --title "School AUP" --version "spring  2018" new.txt` published
    # beside "Spring 2018": the register then held acknowledgements of "Spring 2018" and of
    # "spring 2018", two versions that read the same on every list, the export, a notice,
    # with different words. The title typed differently is refused; the version was not.
    make_school(services)
    services.policies.publish("School AUP", "Spring 2018", "The first words.\n")

    with pytest.raises(RuleViolation) as refused:
        services.policies.publish("School AUP", again, "Other words.\n")

    assert "Spring 2018" in refused.value.message
    assert [p.version for p in services.policies.all_versions() if p.title == "School AUP"] == [
        "Spring 2018"
    ]
    # A version that reads differently is a new version.
    services.policies.publish("School AUP", "Spring 2019", "Other words.\n")


def test_a_new_code_that_reads_as_another_is_refused(services: Services) -> None:
    # `kiosk devices add LAP.001` beside LAP-001, a member of staff D.HALL beside DHALL (or a
    # device D-HALL): each was added. At the kiosk a code is typed by hand as often as it is
    # scanned, and "LAP-001" typed for the laptop labelled LAP.001 signed out (or returned)
    # the other laptop: the register said LAP-001 left while LAP.001 was in the bag.
    make_school(services)

    for tag in ("LAP.001", "lap/001", "A-SMITH"):
        with pytest.raises(RuleViolation) as refused:
            services.people.add_device(tag, "laptop")
        assert "reads as" in refused.value.message
    with pytest.raises(RuleViolation) as refused:
        services.people.add_staff("B.JONES", "Bea Jones")
    assert "reads as BJONES" in refused.value.message

    report = services.people.import_devices_csv(
        b"tag,kind\nLAP-002,laptop\nLAP/001,laptop\nLAP-009,laptop\nLAP.009,laptop\n",
        skip_invalid=True,
    )
    assert [p.line for p in report.problems] == [3, 5], report.problems
    report = services.people.import_staff_csv(
        b"code,name\nASMITH,Alice Smith\nE.PATEL,Ed Patel\nLAP-003,Lap Person\n",
        skip_invalid=True,
    )
    assert [p.line for p in report.problems] == [3], report.problems
    tags = {d.tag for d in services.people.list_devices()}
    assert {"LAP.001", "LAP/001", "LAP.009", "A-SMITH"}.isdisjoint(tags) and "LAP-009" in tags
    codes = {p.code for p in services.people.list_staff()}
    assert {"B.JONES", "E.PATEL"}.isdisjoint(codes) and "LAP-003" in codes


def test_retire_missing_with_a_file_that_is_not_the_whole_roster_is_refused(
    services: Services,
) -> None:
    # `kiosk staff import new-starters.csv --retire-missing` (the flag kept from last
    # year's command): everyone not among the two new starters was retired, their badges
    # refused at the kiosk the next morning, bar those holding a laptop.
    make_school(services)
    for n in range(8):
        services.people.add_staff(f"T{n}", f"Teacher {n}")
    before = {p.code for p in services.people.list_staff()}
    starters = b"code,name,roles\nCHEAD,Carol Head,slt;admin\nZNEW,Zoe New,\n"

    with pytest.raises(RuleViolation) as refused:
        services.people.import_staff_csv(starters, retire_missing=True)

    assert "would retire 12 of the 13" in refused.value.message
    assert "--force" in refused.value.message
    # --force says what else it does: those still holding something are retired too.
    assert "also retires those still holding" in refused.value.message
    assert {p.code for p in services.people.list_staff()} == before
    # Meant (a school closing a site, say): --force retires them.
    report = services.people.import_staff_csv(starters, retire_missing=True, force=True)
    assert len(report.retired) == 12
    # A real roster, a leaver or two missing, is imported as before.
    services.people.import_staff_csv(
        ("code,name\n" + "".join(f"T{n},Teacher {n}\n" for n in range(8))).encode(),
        retire_missing=False,
    )


@pytest.mark.parametrize("zone", ["GMT", "UTC", "Etc/GMT", "Greenwich"])
def test_a_time_zone_without_summer_time_is_said_so(
    zone: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # `kiosk config set timezone GMT` (UK time, as the office calls it): written without a
    # word, and from the end of March every time the kiosk showed, the register's days,
    # the end of the school day and its e-mail were an hour out.
    status, out, err = run(capsys, "config", "set", "timezone", zone)

    assert status == 0, err
    assert "no summer time" in out and "Europe/London" in out
    status, out, _ = run(capsys, "config", "set", "timezone", "Europe/London")
    assert status == 0 and "summer time" not in out

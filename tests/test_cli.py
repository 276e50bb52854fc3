"""The ``kiosk`` command: in-process through kiosk.cli.main, and a few real subprocesses."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import types
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from kiosk import __version__
from kiosk.cli import main
from kiosk.config import Settings, demo_database_url
from kiosk.db.engine import make_engine
from kiosk.domain.events import BREAKFAST_DRAWER_STORE
from kiosk.services.app import Services
from kiosk.services.register import CSV_COLUMNS
from tests.conftest import FakeClock
from tests.school import make_ready, make_school

ROOT = Path(__file__).resolve().parent.parent

GOOD_STAFF = (
    "code,name,email,line_manager,roles\n"
    "asmith,Alice Smith,asmith@school.example,Carol Head,laptop_user\n"
    "BJONES,Ben Jones,,Carol Head,breakfast_club_lead\n"
    "CHEAD,Carol Head,,,slt;admin\n"
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """The CLI's database (KIOSK_DATABASE_URL), and services on it to check what it holds."""
    monkeypatch.setenv("KIOSK_DATABASE_URL", db_url)
    services = Services(make_engine(db_url), Settings(database_url=db_url), FakeClock())
    yield services
    services.close()


@pytest.fixture
def sqlite_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database file that does not exist yet (the CLI creates and migrates it)."""
    url = f"sqlite:///{tmp_path / 'data' / 'kiosk.sqlite3'}"
    monkeypatch.setenv("KIOSK_DATABASE_URL", url)
    return url


def staff_codes(services: Services) -> list[str]:
    return [p.code for p in services.people.list_staff(include_retired=True)]


# --- help, version, subprocesses -----------------------------------------------------------------

COMMANDS = [
    [],
    ["db"],
    ["db", "upgrade"],
    ["staff"],
    ["staff", "import"],
    ["staff", "list"],
    ["devices"],
    ["devices", "import"],
    ["devices", "add"],
    ["devices", "list"],
    ["policy"],
    ["policy", "publish"],
    ["policy", "list"],
    ["register"],
    ["labels"],
    ["admin"],
    ["admin", "set-pin"],
    ["secret"],
    ["secret", "export"],
    ["secret", "import"],
    ["secret", "check"],
    ["demo"],
    ["config"],
    ["config", "set"],
    ["setup"],
    ["calendar"],
    ["calendar", "import"],
    ["calendar", "show"],
    ["devices", "kinds"],
    ["devices", "kind", "add"],
    ["staff", "retire"],
    ["install-service"],
    ["notify"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "kiosk")
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: kiosk {' '.join(command)}".rstrip())
    assert "--help" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"kiosk {__version__}"


@pytest.mark.parametrize("argv", [[], ["--demo"]])
def test_starting_the_app_skips_the_parser_but_means_the_same(argv: list[str]) -> None:
    """``kiosk`` and ``kiosk --demo`` are taken without building the commands' parser (it
    would only delay the first frame); what they mean is what the parser says."""
    from kiosk import cli

    assert vars(cli.parse_arguments(argv)) == vars(cli.build_parser().parse_args(argv))
    assert cli.parse_arguments(argv).handler is cli._cmd_run_app


def test_the_app_start_does_not_import_argparse_sqlalchemy_or_alembic() -> None:
    probe = (
        "import sys\n"
        "from kiosk import cli\n"
        "args = cli.parse_arguments([])\n"
        "assert args.handler is cli._cmd_run_app\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'argparse', 'sqlalchemy', 'alembic', 'tomllib'}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "KIOSK_CONFIG": str(ROOT / "no-such-config.toml")},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_python_dash_m_kiosk_version_in_a_real_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"kiosk {__version__}"


def test_a_failing_command_exits_non_zero_with_one_line_and_no_traceback(
    tmp_path: Path, sqlite_db: str
) -> None:
    missing = tmp_path / "nobody.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk", "staff", "import", str(missing)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == f"kiosk: {missing}: No such file or directory\n"


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["devices", "add", "LAP-9"])
    assert exit_.value.code == 2
    assert "the following arguments are required: --kind" in capsys.readouterr().err


# --- the database --------------------------------------------------------------------------------


def test_db_upgrade_creates_then_reports_head(
    sqlite_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiosk.db import migrate

    status, out, _ = run(capsys, "db", "upgrade")
    head = migrate.head_revision()
    assert status == 0
    assert out.strip().endswith(f"upgraded from empty to revision {head}.")
    status, out, _ = run(capsys, "db", "upgrade")
    assert status == 0
    assert f"already at revision {head}" in out


def test_unreachable_database_is_said_clearly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("KIOSK_DATABASE_URL", f"postgresql://kiosk:s3cret@127.0.0.1:{port}/kiosk")
    status, out, err = run(capsys, "staff", "list")
    assert status == 1 and out == ""
    assert err == (
        "kiosk: The database cannot be opened (OperationalError). Check KIOSK_DATABASE_URL.\n"
    )
    assert "s3cret" not in err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a database URL. Use sqlite:///"),
        ("sqlite:///:memory:", "not an in-memory database"),
        # A SQLite URI: a register in memory (gone when the kiosk stops, every deposit
        # confirmed), or a file other than the path every check looks at.
        ("sqlite:///file:/tmp/k.sqlite3?mode=memory&cache=shared&uri=true", "not a SQLite URI"),
        ("sqlite:///file:/mnt/share/k.sqlite3?uri=true", "not a SQLite URI"),
        ("sqlite:////tmp/k.sqlite3?vfs=memdb&uri=true", "not a SQLite URI"),
        ("mysql://kiosk@db/register", "names mysql, which the kiosk does not support"),
        ("postgresql+asyncpg://kiosk@db/register", "talks to PostgreSQL with psycopg"),
        ("mssql+pyodbc://kiosk@db/register", "names mssql"),
    ],
)
def test_unusable_database_urls(
    url: str, message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KIOSK_DATABASE_URL", url)
    status, _, err = run(capsys, "staff", "list")
    assert status == 1
    assert err.startswith("kiosk: ") and message in err and err.count("\n") == 1


# --- staff and device imports --------------------------------------------------------------------


def test_staff_import_good_file(
    database: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(GOOD_STAFF, encoding="utf-8")
    status, out, err = run(capsys, "staff", "import", str(path))
    assert (status, err) == (0, "")
    assert out == "Staff imported: 3 added, 0 updated, 0 unchanged.\n"
    people = {p.code: p for p in database.people.list_staff()}
    assert sorted(people) == ["ASMITH", "BJONES", "CHEAD"]
    assert people["CHEAD"].roles == {"slt", "admin"}
    assert people["ASMITH"].email == "asmith@school.example"

    status, out, _ = run(capsys, "staff", "list")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["CODE", "NAME", "ROLES", "LINE", "MANAGER", "EMAIL"]
    assert lines[1].split()[:3] == ["ASMITH", "Alice", "Smith"]
    assert "admin, slt" in lines[3]
    assert lines[-1] == "3 members of staff."


def test_staff_import_twice_duplicates_nobody(
    database: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(GOOD_STAFF, encoding="utf-8")
    assert run(capsys, "staff", "import", str(path))[0] == 0
    status, out, _ = run(capsys, "staff", "import", str(path))
    assert status == 0
    assert out == "Staff imported: 0 added, 0 updated, 3 unchanged.\n"
    assert sorted(staff_codes(database)) == ["ASMITH", "BJONES", "CHEAD"]
    # A changed row updates the person in place.
    path.write_text(GOOD_STAFF.replace("Ben Jones", "Benjamin Jones"), encoding="utf-8")
    status, out, _ = run(capsys, "staff", "import", str(path))
    assert out == "Staff imported: 0 added, 1 updated, 2 unchanged.\n"
    assert len(staff_codes(database)) == 3
    assert database.people.status("BJONES").staff.name == "Benjamin Jones"


def test_a_roster_with_fewer_columns_keeps_the_other_fields(
    database: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(GOOD_STAFF, encoding="utf-8")
    assert run(capsys, "staff", "import", str(path))[0] == 0
    names = tmp_path / "mb.csv"
    names.write_text("code,name\nASMITH,Alice Smith-Jones\n", encoding="utf-8")
    status, out, _ = run(capsys, "staff", "import", str(names))
    assert (status, out) == (0, "Staff imported: 0 added, 1 updated, 0 unchanged.\n")
    alice = database.people.status("ASMITH").staff
    assert (alice.name, alice.email, alice.line_manager, alice.roles) == (
        "Alice Smith-Jones",
        "asmith@school.example",
        "CHEAD",
        {"laptop_user"},
    )
    with pytest.raises(SystemExit):
        main(["staff", "import", "--help"])
    out = capsys.readouterr().out
    assert "A column the file does not have leaves that field as it is" in " ".join(out.split())


BAD_STAFF = (
    "code,name,email,line_manager,roles\n"
    "ASMITH,Alice Smith,,,laptop_user\n"
    "BJONES,,,,\n"
    "CHEAD,Carol Head,not-an-email,,\n"
    "DOFFICE,Dina Office,,,janitor\n"
    "EPATEL,Esha Patel,,,\n"
)


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(
    database: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(BAD_STAFF, encoding="utf-8")
    status, out, err = run(capsys, "staff", "import", str(path))
    assert status == 1
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == "line 3: name is empty"
    assert lines[1] == (
        "line 4: email 'not-an-email' is not one e-mail address such as name@school.example: "
        "it has no @"
    )
    assert lines[2].startswith("line 5: role 'janitor' is not one of")
    assert lines[3].startswith("kiosk: nothing imported: 3 invalid lines")
    assert len(lines) == 4
    assert staff_codes(database) == []


def test_skip_invalid_imports_the_good_rows(
    database: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(BAD_STAFF, encoding="utf-8")
    status, out, err = run(capsys, "staff", "import", "--skip-invalid", str(path))
    assert status == 0
    assert out.splitlines() == [
        "Staff imported: 2 added, 0 updated, 0 unchanged.",
        "Skipped 3 invalid lines (listed above).",
    ]
    assert [line.split(":")[0] for line in err.splitlines()] == ["line 3", "line 4", "line 5"]
    assert sorted(staff_codes(database)) == ["ASMITH", "EPATEL"]


def test_skip_invalid_with_no_valid_row_fails(
    sqlite_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "staff.csv"
    path.write_text("code,name\n,Nobody\n", encoding="utf-8")
    status, _, err = run(capsys, "staff", "import", "--skip-invalid", str(path))
    assert status == 1
    assert err.splitlines() == [
        "line 2: code is empty",
        "kiosk: nothing imported: every row was invalid.",
    ]


def test_wrong_encoding_and_missing_columns(
    sqlite_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("code,name\nZBRONTE,Zoë Brontë\n".encode("latin-1"))
    status, out, err = run(capsys, "staff", "import", str(latin))
    assert (status, out) == (1, "")
    assert err.startswith("kiosk: The file is not UTF-8 text.")

    columns = tmp_path / "columns.csv"
    columns.write_text("code,full_name\nASMITH,Alice\n", encoding="utf-8")
    status, _, err = run(capsys, "staff", "import", str(columns))
    assert status == 1
    assert "missing: name" in err and err.count("\n") == 1

    status, _, err = run(capsys, "staff", "import", str(tmp_path))
    assert status == 1 and "is a folder" in err

    services = Services.open(Settings(database_url=sqlite_db))
    assert services.people.list_staff() == ()
    services.close()


def test_utf8_with_bom_from_excel_is_accepted(
    sqlite_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("code,name\r\nZBRONTE,Zoë Brontë\r\n".encode("utf-8-sig"))
    assert run(capsys, "staff", "import", str(path))[0] == 0
    out = run(capsys, "staff", "list")[1]
    assert "ZBRONTE  Zoë Brontë" in out


def test_devices_import_add_and_list(
    database: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "devices.csv"
    path.write_text(
        "tag,kind,description\nLAP-001,laptop,Dell Year 3\nwp-01,Work phone,Trip phone\n"
        "LAP-002,tablet,iPad\n",
        encoding="utf-8",
    )
    status, _, err = run(capsys, "devices", "import", str(path))
    assert status == 1
    assert err.splitlines()[0] == "line 4: kind 'tablet' must be one of laptop, work_phone"
    assert database.people.list_devices() == ()
    status, out, _ = run(capsys, "devices", "import", "--skip-invalid", str(path))
    assert status == 0 and out.startswith("Devices imported: 2 added")

    status, out, _ = run(capsys, "devices", "add", "lap-003", "--kind", "laptop")
    assert (status, out) == (0, "Added laptop LAP-003.\n")
    status, _, err = run(capsys, "devices", "add", "LAP-003", "--kind", "laptop")
    assert (status, err) == (1, "kiosk: Asset tag LAP-003 is already in use.\n")

    # Off site and overdue devices show in the list.
    # The command runs on the real clock: sign out relative to it.
    clock = database.ctx.clock
    assert isinstance(clock, FakeClock)
    now = datetime.now(UTC)
    clock.set(now - timedelta(days=5))
    database.people.add_staff("ASMITH", "Alice Smith", roles=["laptop_user"])
    make_ready(database, "ASMITH")
    database.devices.sign_out("ASMITH", ["WP-01"], reason="School trip", charged=True)
    clock.set(now)
    database.devices.sign_out("ASMITH", ["LAP-001"], reason="Report writing")
    status, out, _ = run(capsys, "devices", "list")
    lines = {line.split()[0]: line for line in out.splitlines()[1:] if line}
    assert lines["LAP-003"].endswith("in school")
    assert "  off site: Alice Smith, due " in lines["LAP-001"]
    assert "  OVERDUE: Alice Smith, due " in lines["WP-01"]
    assert out.splitlines()[-1] == "3 devices; 2 off site now, 1 overdue."


# --- policies ------------------------------------------------------------------------------------


def test_policy_publish_and_list(
    database: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "la.md"
    text.write_text("# LA policy\n\nBe careful with data.\n", encoding="utf-8")
    status, out, _ = run(
        capsys, "policy", "publish", "--title", "LA Acceptable Use Policy", "--version", "2025",
        str(text),
    )  # fmt: skip
    assert status == 0
    assert out.splitlines()[0].startswith("Published LA Acceptable Use Policy (2025), SHA-256 ")
    published = {p.title: p for p in database.policies.current()}
    la = published["LA Acceptable Use Policy"]
    assert la.required and la.sha256 in out
    assert database.policies.text(la.id).text == text.read_text(encoding="utf-8")

    notes = tmp_path / "notes.txt"
    notes.write_text("Staff room rota.\n", encoding="utf-8")
    status, out, _ = run(
        capsys, "policy", "publish", "--title", "Rota", "--version", "1", "--not-required",
        str(notes),
    )  # fmt: skip
    assert status == 0 and "Not required" in out
    assert not {p.title: p for p in database.policies.current()}["Rota"].required

    status, _, err = run(
        capsys, "policy", "publish", "--title", "Rota", "--version", "1", str(notes)
    )
    assert (status, err) == (1, "kiosk: Rota version 1 is already published.\n")

    status, out, _ = run(capsys, "policy", "list")
    rows = [line.split("  ") for line in out.splitlines()[1:]]
    titles = [row[0].strip() for row in rows]
    assert titles == ["LA Acceptable Use Policy", "Rota", "School Acceptable Use Policy"]
    assert out.count("current") == 3


def test_policy_file_must_be_utf8_text(
    sqlite_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "policy.doc"
    doc.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 a Word file")
    status, _, err = run(capsys, "policy", "publish", "--title", "T", "--version", "1", str(doc))
    assert status == 1
    assert err == f"kiosk: {doc} is not UTF-8 text; save it as UTF-8 and try again.\n"


# --- the register --------------------------------------------------------------------------------


def _busy_day(services: Services, clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 10, 7, 40, tzinfo=UTC))  # the school set up before breakfast
    make_school(services)
    clock.set(datetime(2026, 3, 10, 7, 45, tzinfo=UTC))
    services.phones.deposit("BJONES", BREAKFAST_DRAWER_STORE)
    services.phones.deposit("ASMITH", BREAKFAST_DRAWER_STORE, recorded_by="BJONES")
    clock.advance(minutes=5)
    wrong = services.phones.deposit("EPATEL", recorded_by="BJONES")
    services.register.void(wrong.event_id, reason="Wrong badge, =1+1", admin_code="CHEAD")
    clock.advance(hours=8)
    services.phones.collect("ASMITH")
    clock.set(datetime(2026, 3, 11, 8, 0, tzinfo=UTC))
    services.phones.deposit("CHEAD")


def test_register_table_shows_what_the_database_holds(
    database: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = database.ctx.clock
    assert isinstance(clock, FakeClock)
    _busy_day(database, clock)
    day = date(2026, 3, 10)
    rows = database.register.day(day).rows
    status, out, _ = run(capsys, "register", "--date", "2026-03-10")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == f"Register for Tuesday 10 March 2026 (Europe/London): {len(rows)} events"
    assert lines[1].split()[:3] == ["ID", "TIME", "WHAT"]
    body = lines[2:]
    assert len(body) == len(rows)
    for line, row in zip(body, rows, strict=True):
        assert line.split()[0] == str(row.event_id)
        assert line.split()[1] == row.occurred_at.astimezone(database.settings.zone).strftime(
            "%H:%M"
        )
        assert row.what in line
        if row.staff_code:
            assert f"{row.staff_name} ({row.staff_code})" in line
    voided = [line for line in body if "VOIDED" in line]
    assert len(voided) == 1 and "Esha Patel" in voided[0] and "Wrong badge" in voided[0]
    assert "Ben Jones" in next(line for line in body if "(ASMITH)" in line)

    status, out, _ = run(capsys, "register", "--date", "2026-03-12")
    assert out == "No events recorded on Thursday 12 March 2026 (Europe/London).\n"

    # The same date forms as the screens: day first.
    assert run(capsys, "register", "--date", "12/03/2026")[1] == out
    assert run(capsys, "register", "--date", "12 Mar 2026")[1] == out


def test_register_csv_matches_the_database(
    database: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = database.ctx.clock
    assert isinstance(clock, FakeClock)
    _busy_day(database, clock)
    target = tmp_path / "register.csv"
    status, _, err = run(
        capsys, "register", "--from", "2026-03-10", "--to", "2026-03-11", "--csv", str(target)
    )
    assert status == 0
    expected = list(database.register.rows_between(date(2026, 3, 10), date(2026, 3, 11)))
    assert err == f"Wrote {len(expected)} events to {target}.\n"
    # A byte-order mark first, so that Excel reads the accents right.
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")
    with target.open(newline="", encoding="utf-8-sig") as fh:
        written = list(csv.DictReader(fh))
    assert tuple(written[0]) == CSV_COLUMNS
    assert [int(r["event_id"]) for r in written] == [r.event_id for r in expected]
    assert [r["staff_code"] for r in written] == [r.staff_code or "" for r in expected]
    assert [r["voided"] for r in written].count("yes") == 1
    voided = next(r for r in written if r["voided"])
    assert voided["void_reason"] == "Wrong badge, =1+1"
    assert written[-1]["staff_code"] == "CHEAD" and written[-1]["local_time"].startswith(
        "2026-03-11 08:00"
    )

    status, out, _ = run(capsys, "register", "--date", "2026-03-11", "--csv", "-")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["what"] for r in rows] == ["Phone deposited"]

    # Written again where it was (a day exported anew, --replace), never through a symbolic
    # link: one planted where the office writes would have put the names into another file.
    args = ("register", "--date", "2026-03-11", "--csv", str(target))
    assert run(capsys, *args, "--replace")[0] == 0
    other = tmp_path / "notes.txt"
    other.write_text("keep\n", encoding="utf-8")
    link = tmp_path / "linked.csv"
    link.symlink_to(other)
    status, _, err = run(capsys, "register", "--date", "2026-03-11", "--csv", str(link))
    assert status == 1 and "cannot be written (it is a symbolic link)" in err
    assert other.read_text(encoding="utf-8") == "keep\n"


@pytest.mark.parametrize(
    "args",
    [
        ["--date", "2026-03-10", "--from", "2026-03-09", "--to", "2026-03-10"],
        ["--from", "2026-03-09"],
        ["--from", "2026-03-10", "--to", "2026-03-09"],
        ["--date", "10/13/2026"],
        ["--date", "next week"],
    ],
)
def test_register_date_mistakes_are_usage_errors(
    args: list[str], sqlite_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["register", *args])
    assert exit_.value.code == 2
    assert "usage: kiosk register" in capsys.readouterr().err


# --- labels, admin PIN ---------------------------------------------------------------------------


def test_labels_command_writes_scannable_labels(
    database: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "labels", "--staff", "--out", str(tmp_path / "badges.png"))
    assert (status, err) == (1, "kiosk: there are no active staff to label.\n")
    make_school(database)
    out_file = tmp_path / "devices.png"
    status, out, _ = run(capsys, "labels", "--devices", "--out", str(out_file))
    assert status == 0
    assert out.splitlines() == ["3 device labels on 1 page:", f"  {out_file}"]
    with Image.open(out_file) as image:
        texts = sorted(r.text for r in zxingcpp.read_barcodes(image))
    assert texts == ["SRK1:D:LAP-001", "SRK1:D:LAP-002", "SRK1:D:WP-01"]

    status, _, err = run(capsys, "labels", "--staff", "--out", str(tmp_path / "b.jpg"))
    assert status == 1 and ".png, .svg, .pdf" in err
    status, _, err = run(capsys, "labels", "--staff", "--out", str(tmp_path / "no" / "b.png"))
    assert status == 1 and "does not exist" in err


def test_labels_only_some_codes_on_a_label_printer(
    database: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_school(database)
    out_file = tmp_path / "one.png"
    status, out, _ = run(
        capsys,
        "labels",
        "--only",
        "lap-002, ASMITH",
        "--stock",
        "Dymo-99012",
        "--out",
        str(out_file),
    )
    assert status == 0
    written = [tmp_path / "one-1.png", tmp_path / "one-2.png"]
    assert out.splitlines() == [
        "2 labels on 2 pages (Dymo 99012 label printer roll, 89 x 36 mm):",
        *(f"  {p}" for p in written),
    ]
    texts = []
    for path in written:
        with Image.open(path) as image:
            assert image.size == (1051, 425)  # 89 x 36 mm at 300 dpi
            texts += [r.text for r in zxingcpp.read_barcodes(image)]
    assert texts == ["SRK1:D:LAP-002", "SRK1:S:ASMITH"]

    status, _, err = run(capsys, "labels", "--only", "LAP-001,NOPE,T9", "--out", str(out_file))
    assert (status, err) == (1, "kiosk: No active staff code or asset tag: NOPE, T9.\n")
    status, _, err = run(capsys, "labels", "--devices", "--only", "ASMITH", "--out", str(out_file))
    assert (status, err) == (1, "kiosk: No active tag: ASMITH.\n")
    status, _, err = run(capsys, "labels", "--out", str(out_file))
    assert status == 2 and "--staff, --devices or --only" in err
    with pytest.raises(SystemExit) as exit_:
        main(["labels", "--staff", "--stock", "L9999", "--out", str(out_file)])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def _import_roster(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(GOOD_STAFF, encoding="utf-8")
    assert run(capsys, "staff", "import", str(path))[0] == 0  # set-up: no PIN yet


def test_set_pin_from_stdin(
    sqlite_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    _import_roster(capsys, tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("135792\n"))
    status, _, err = run(capsys, "admin", "set-pin")
    assert status == 1 and "--admin CODE" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("135792\n"))
    status, _, err = run(capsys, "admin", "set-pin", "--admin", "ASMITH")
    assert status == 1 and "Alice Smith is not an admin" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("135792\n"))
    status, out, _ = run(capsys, "admin", "set-pin", "--admin", "chead")
    assert status == 0 and out.startswith("Admin PIN set.") and "kiosk secret export" in out
    services = Services.open(Settings(database_url=sqlite_db))
    assert services.admin.check_pin("135792").ok

    # Once set, changing it needs the current PIN, and a wrong one changes nothing.
    monkeypatch.setattr(sys, "stdin", io.StringIO("246813\n975318\n"))
    status, _, err = run(capsys, "admin", "set-pin", "--admin", "CHEAD")
    assert status == 1 and "Wrong PIN" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("135792\n1234\n"))
    status, _, err = run(capsys, "admin", "set-pin", "--admin", "CHEAD")
    assert status == 1 and "The PIN must have at least 6 digits." in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("135792\n"))
    status, _, err = run(capsys, "admin", "set-pin", "--admin", "CHEAD")
    assert status == 1 and "no PIN given" in err
    assert services.admin.check_pin("135792").ok
    monkeypatch.setattr(sys, "stdin", io.StringIO("135792\n246813\n"))
    assert run(capsys, "admin", "set-pin", "--admin", "CHEAD")[0] == 0
    assert services.admin.check_pin("246813").ok
    rows = services.register.day(datetime.now(UTC).date()).rows
    assert [(r.detail, r.staff_code) for r in rows if r.kind == "admin_action"][-2:] == [
        ("action: admin_pin_set", "CHEAD"),
        ("action: admin_pin_set", "CHEAD"),
    ]
    services.close()


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_set_pin_on_a_terminal_asks_twice(
    sqlite_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    import getpass

    _import_roster(capsys, tmp_path)
    answers = iter(["864209", "864290"])
    monkeypatch.setattr(sys, "stdin", _Tty("CHEAD\n"))
    monkeypatch.setattr("builtins.input", lambda prompt: "CHEAD")
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(answers))
    status, _, err = run(capsys, "admin", "set-pin")
    assert (status, err) == (1, "kiosk: the two PINs differ; the PIN was not changed.\n")
    services = Services.open(Settings(database_url=sqlite_db))
    assert not services.admin.is_pin_set()

    answers = iter(["864209", "864209"])
    assert run(capsys, "admin", "set-pin")[0] == 0
    assert services.admin.check_pin("864209").ok
    prompts: list[str] = []
    answers = iter(["864209", "975318", "975318"])

    def answer(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(getpass, "getpass", answer)
    assert run(capsys, "admin", "set-pin")[0] == 0
    assert prompts[0] == "Current admin PIN: "
    assert services.admin.check_pin("975318").ok
    services.close()


# --- acting for someone: commands that change the register sign an admin in -------------------

STRANGER = "code,name,roles\nMALLORY,Mallory Stranger,admin\n"


def _school_with_pin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _import_roster(capsys, tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("135792\n"))
    assert run(capsys, "admin", "set-pin", "--admin", "CHEAD")[0] == 0


def _admin_actions(url: str) -> list[tuple[str, str | None]]:
    services = Services.open(Settings(database_url=url))
    try:
        rows = services.register.day(datetime.now(UTC).date()).rows
        return [(r.detail, r.staff_code) for r in rows if r.kind == "admin_action"]
    finally:
        services.close()


def test_a_stranger_cannot_make_themself_an_admin(
    sqlite_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    _school_with_pin(capsys, monkeypatch, tmp_path)
    path = tmp_path / "stranger.csv"
    path.write_text(STRANGER, encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    status, _, err = run(capsys, "staff", "import", str(path))
    assert status == 1 and "sign in as an admin" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("999999\n"))
    status, _, err = run(capsys, "staff", "import", str(path), "--admin", "CHEAD", "--pin-stdin")
    assert status == 1 and "Wrong PIN" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("135792\n"))
    status, _, err = run(capsys, "staff", "import", str(path), "--admin", "ASMITH", "--pin-stdin")
    assert status == 1 and "not an admin" in err
    services = Services.open(Settings(database_url=sqlite_db))
    assert "MALLORY" not in staff_codes(services)
    services.close()

    monkeypatch.setattr(sys, "stdin", io.StringIO("135792\n"))
    status, _, err = run(capsys, "staff", "import", str(path), "--admin", "CHEAD", "--pin-stdin")
    assert status == 0 and "Signed in as Carol Head (CHEAD)" in err
    assert ("action: staff_imported", "CHEAD") in _admin_actions(sqlite_db)


def test_every_changing_command_needs_the_admin_to_sign_in(
    sqlite_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    _school_with_pin(capsys, monkeypatch, tmp_path)
    devices = tmp_path / "devices.csv"
    devices.write_text("tag,kind\nLAP-101,laptop\n", encoding="utf-8")
    policy = tmp_path / "aup.txt"
    policy.write_text("Be kind to the laptops.\n", encoding="utf-8")
    commands = [
        ["devices", "import", str(devices)],
        ["devices", "add", "LAP-102", "--kind", "laptop"],
        ["policy", "publish", str(policy), "--title", "AUP", "--version", "1"],
        ["export", "--staff", "ASMITH", "--out", str(tmp_path / "sar.csv")],
        ["purge", "--before", "2020-01-01", "--yes"],
        ["restore", str(tmp_path / "nothing.sqlite3"), "--yes"],
    ]
    before = _admin_actions(sqlite_db)
    for command in commands:
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        status, _, err = run(capsys, *command, "--admin", "CHEAD")
        assert status == 1 and "sign in as an admin" in err, command
    assert _admin_actions(sqlite_db) == before
    for command in commands[:3]:
        monkeypatch.setattr(sys, "stdin", io.StringIO("135792\n"))
        status, _, err = run(capsys, *command, "--admin", "CHEAD", "--pin-stdin")
        assert status == 0, (command, err)
    done = _admin_actions(sqlite_db)[len(before) :]
    assert [by for _, by in done] == ["CHEAD", "CHEAD", "CHEAD"]


def test_purge_records_only_an_admin_who_signed_in(
    sqlite_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    _school_with_pin(capsys, monkeypatch, tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("111111\n"))
    status, _, err = run(
        capsys, "purge", "--before", "2020-01-01", "--admin", "CHEAD", "--pin-stdin", "--yes"
    )
    assert status == 1 and "Wrong PIN" in err
    assert not [d for d, _ in _admin_actions(sqlite_db) if "purge" in d]


def test_school_key_export_and_import_between_two_machines(
    sqlite_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    import os
    import stat

    _school_with_pin(capsys, monkeypatch, tmp_path)
    exported = tmp_path / "school-key.txt"
    status, out, _ = run(capsys, "secret", "export", "--out", str(exported))
    assert status == 0 and stat.S_IMODE(exported.stat().st_mode) == 0o600
    status, check_a, _ = run(capsys, "secret", "check")
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "kiosk-b"))
    status, _, err = run(capsys, "secret", "check")
    assert status == 1 and "no school key" in err and "kiosk secret import" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO("135792\n"))
    status, _, err = run(
        capsys, "devices", "add", "LAP-7", "--kind", "laptop", "--admin", "CHEAD", "--pin-stdin"
    )
    assert status == 1 and "kiosk secret import" in err and "Traceback" not in err
    status, out, _ = run(capsys, "secret", "import", str(exported))
    assert status == 0 and "installed" in out
    assert stat.S_IMODE((tmp_path / "kiosk-b" / "school.key").stat().st_mode) == 0o600
    assert run(capsys, "secret", "check")[1].splitlines()[1] == check_a.splitlines()[1]
    monkeypatch.setattr(sys, "stdin", io.StringIO("135792\n"))
    status, _, err = run(
        capsys, "devices", "add", "LAP-7", "--kind", "laptop", "--admin", "CHEAD", "--pin-stdin"
    )
    assert status == 0, err
    (tmp_path / "kiosk-b" / "school.key").write_text("garbage")
    status, _, err = run(capsys, "secret", "check")
    assert status == 1 and "does not hold a school key" in err
    assert os.environ["KIOSK_DATA_DIR"].endswith("kiosk-b")


# --- the apps (their modules are faked here: the tests check the wiring only) --------------------


def _fake_app_module(monkeypatch: pytest.MonkeyPatch, module: str, cls: str) -> list[Settings]:
    started: list[Settings] = []

    class FakeApp:
        return_code = 0

        def __init__(self, settings: Settings | None = None) -> None:
            self.settings = settings

        def run(self) -> None:
            assert self.settings is not None
            started.append(self.settings)

    fake = types.ModuleType(module)
    setattr(fake, cls, FakeApp)
    monkeypatch.setitem(sys.modules, module, fake)
    return started


def test_kiosk_alone_runs_the_app_on_the_configured_database(
    sqlite_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started = _fake_app_module(monkeypatch, "kiosk.ui.app", "KioskApp")
    assert run(capsys)[0] == 0
    assert [s.database_url for s in started] == [sqlite_db]


def test_kiosk_demo_builds_the_demo_school_first(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started = _fake_app_module(monkeypatch, "kiosk.ui.app", "KioskApp")
    demo_file = Path(demo_database_url().removeprefix("sqlite:///"))
    assert not demo_file.exists()
    status, _, err = run(capsys, "--demo")
    assert status == 0
    assert "Building the demo school" in err
    assert demo_file.is_file()
    assert [s.database_url for s in started] == [demo_database_url()]
    assert started[0].sources["database_url"].startswith("demo school")
    # The second time it is there already: not rebuilt.
    built = demo_file.stat().st_mtime_ns
    status, _, err = run(capsys, "--demo")
    assert (status, err) == (0, "")
    assert demo_file.stat().st_mtime_ns == built


def test_admin_console_is_wired(
    sqlite_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    started = _fake_app_module(monkeypatch, "kiosk.ui.admin.app", "AdminApp")
    assert run(capsys, "admin")[0] == 0
    assert [s.database_url for s in started] == [sqlite_db]


@pytest.mark.parametrize(
    ("args", "module"), [([], "kiosk.ui.app"), (["admin"], "kiosk.ui.admin.app")]
)
def test_missing_app_is_a_clear_error(
    args: list[str],
    module: str,
    sqlite_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if it were not installed
    status, out, err = run(capsys, *args)
    assert status == 1 and out == ""
    assert err.startswith("kiosk: the ") and "cannot be started" in err
    assert err.count("\n") == 1


# --- kiosk config --------------------------------------------------------------------------------


def _config_rows(out: str) -> dict[str, tuple[str, str]]:
    rows = {}
    for line in out.splitlines()[1:]:
        if not line.strip():
            break
        parts = [p for p in line.split("  ") if p.strip()]
        rows[parts[0].strip()] = (parts[1].strip(), parts[2].strip())
    return rows


def test_config_shows_where_each_value_comes_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    monkeypatch.setenv("KIOSK_CONFIG_DIR", str(config_dir))
    path = config_dir / "config.toml"
    path.write_text(
        'school_name = "St Mary\'s Primary"\nidle_timeout = 45\ntimezone = "Europe/London"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("KIOSK_IDLE_TIMEOUT", "60")
    monkeypatch.setenv("KIOSK_OFFICE_PHONE", "0121 496 0000")
    status, out, _ = run(capsys, "config")
    assert status == 0
    rows = _config_rows(out)
    assert rows["idle_timeout"] == ("60", "environment $KIOSK_IDLE_TIMEOUT")  # env beats file
    assert rows["school_name"] == ("St Mary's Primary", str(path))  # file beats default
    assert rows["office_phone"] == ("0121 496 0000", "environment $KIOSK_OFFICE_PHONE")
    assert rows["regular_use_threshold"] == ("2", "default")
    assert rows["kiosk_name"] == ("test-kiosk", "environment $KIOSK_NAME")
    assert f"Config file: {path}\n" in out


def test_config_hides_database_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KIOSK_DATABASE_URL", "postgresql://kiosk:s3cret@db.school.example/kiosk")
    status, out, _ = run(capsys, "config")
    assert status == 0
    assert "s3cret" not in out
    assert _config_rows(out)["database_url"][0] == "postgresql://kiosk:***@db.school.example/kiosk"


def test_a_broken_config_file_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KIOSK_CONFIG_DIR", str(tmp_path))
    (tmp_path / "config.toml").write_text("idle_timeout = 'soon'\n", encoding="utf-8")
    for args in (["config"], ["staff", "list"]):
        status, out, err = run(capsys, *args)
        assert status == 1 and out == ""
        assert err.startswith("kiosk: configuration: idle_timeout")
        assert "whole number" in err and err.count("\n") == 1


def test_demo_settings_are_used_by_subcommands_with_demo_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(capsys, "--demo", "config")
    assert status == 0
    assert _config_rows(out)["database_url"] == (demo_database_url(), "demo school (kiosk --demo)")
    # The demo school was built on first use; the staff list is the demo's.
    status, out, _ = run(capsys, "--demo", "staff", "list")
    assert status == 0 and "Janet Hughes" in out
    assert out.splitlines()[-1] == "40 members of staff."


# --- kiosk anchor --out: recorded only when the file is written ----------------------------------


def _anchors_taken(services: Services) -> int:
    import sqlalchemy as sa

    with services.ctx.engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM events WHERE kind = 'anchor_taken'")
            ).scalar_one()
        )


def test_anchor_out_writes_the_file_and_records_it(
    database: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_school(database)
    out = tmp_path / "anchor.txt"
    status, printed, err = run(capsys, "anchor", "--out", str(out))
    assert status == 0, err
    assert f"Anchor written to {out} (event " in printed
    assert out.read_text(encoding="utf-8").startswith("Staff Room Kiosk register anchor\n")
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert _anchors_taken(database) == 1
    assert run(capsys, "verify", "--anchor", str(out))[0] == 0


@pytest.mark.parametrize("where", ["dangling symlink", "/proc/self"])
def test_anchor_out_that_cannot_be_written_records_no_anchor(
    database: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """`kiosk anchor --out` checked the name with ``exists()`` (False for a dangling symlink)
    and recorded ``anchor_taken`` before opening the file, which then failed ("File exists",
    "No such file or directory", exit 1): the console said an anchor was taken when none left
    the machine. The file is created first; nothing is recorded when it cannot be."""
    make_school(database)
    if where == "dangling symlink":
        out = tmp_path / "dangling.txt"
        out.symlink_to(tmp_path / "nowhere" / "x")
        said = f"kiosk: {out} already exists: choose a new file name. No anchor was taken."
    else:
        out = Path("/proc/self/anchor.txt")
        said = f"kiosk: {out} cannot be created (No such file or directory). No anchor was taken."

    status, printed, err = run(capsys, "anchor", "--out", str(out))

    assert _anchors_taken(database) == 0
    assert status == 1 and printed == ""
    assert said in err and "Traceback" not in err
    assert not (tmp_path / "nowhere").exists()


def test_anchor_out_not_recorded_leaves_no_file(
    database: Services,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The file is created before the event is recorded: when recording fails, the empty file
    is removed and the command says why."""
    from kiosk.domain.errors import DatabaseUnavailable
    from kiosk.services.integrity import IntegrityService

    make_school(database)

    def refused(self: object, **_: object) -> None:
        raise DatabaseUnavailable("Not recorded: the database is away.")

    monkeypatch.setattr(IntegrityService, "anchor", refused)
    out = tmp_path / "anchor.txt"

    status, printed, err = run(capsys, "anchor", "--out", str(out))

    assert status == 1 and printed == ""
    assert "Not recorded: the database is away." in err
    assert not out.exists()


def test_register_csv_replaces_a_file_whole_and_only_a_csv(
    database: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: the CSV was written into an existing file in place (O_TRUNC), keeping its mode,
    # whatever its name: `--csv` given the register's own SQLite file overwrote the register,
    # and an old export readable by every account stayed so, now with this day's names.
    register = tmp_path / "other-register.sqlite3"
    register.write_bytes(b"SQLite format 3\x00 the live register")
    status, _, err = run(capsys, "register", "--date", "2026-03-10", "--csv", str(register))
    assert status == 1 and ".csv" in err
    assert register.read_bytes() == b"SQLite format 3\x00 the live register"

    old = tmp_path / "old.csv"
    old.write_text("last week's names\n", encoding="utf-8")
    old.chmod(0o644)
    args = ("register", "--date", "2026-03-10", "--csv", str(old), "--replace")
    assert run(capsys, *args)[0] == 0
    assert old.stat().st_mode & 0o777 == 0o600
    assert old.read_bytes().startswith(b"\xef\xbb\xbf")
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

"""A new school's set-up from the command line: kiosk setup (stdin piped), config set,
calendar, device kinds, staff retire and import --retire-missing."""

from __future__ import annotations

import io
import os
import stat
import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.config import config_file, load_settings
from kiosk.db.engine import make_engine
from kiosk.domain.events import EventKind
from kiosk.resources import assets_dir
from kiosk.services.app import Services
from kiosk.services.secret import key_path as secret_path
from tests.conftest import FakeClock

ROSTER = (
    "code,name,email,line_manager,roles\n"
    "MHEAD,Mo Head,,,slt;admin\n"
    "ELOUIS,Élodie Louis,elodie@school.example,Mo Head,laptop_user\n"
)
DEVICES = "tag,kind,description\nLAP-1,laptop,Dell\nWP-1,work_phone,Trip phone\n"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def fresh_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database file that does not exist yet: a new school."""
    url = f"sqlite:///{tmp_path / 'school' / 'kiosk.sqlite3'}"
    monkeypatch.setenv("KIOSK_DATABASE_URL", url)
    yield url


def services_on(url: str) -> Services:
    return Services(make_engine(url), load_settings(), FakeClock())


def piped(monkeypatch: pytest.MonkeyPatch, *lines: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines)))


def test_setup_walks_a_new_school_through(
    fresh_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    devices = tmp_path / "devices.csv"
    devices.write_text(DEVICES, encoding="utf-8")
    policy = tmp_path / "aup.txt"
    policy.write_text("St Mary's Acceptable Use Policy\n\nPhones go in the store.\n")
    badges = tmp_path / "badges.pdf"
    piped(
        monkeypatch,
        "St Mary's Primary",  # school name
        "europe/dublin",  # any case: written as zoneinfo spells it
        "15:45",  # end of the day
        "office@stmarys.example",
        "135792",  # admin PIN
        str(roster),
        str(devices),
        str(policy),  # school policy
        "",  # title: the default
        "Autumn 2026",
        "",  # required: yes
        "",  # LA policy: skipped
        str(badges),  # staff badges
        "-",  # device labels: skipped
    )
    status, out, _ = run(capsys, "setup")
    assert status == 0, out
    assert "Done: the school has staff, an admin, an admin PIN and a policy." in out
    assert "Plain Text (.txt)" in out  # how to save a Word document as text

    values = tomllib.loads(config_file().read_text(encoding="utf-8"))
    assert values["school_name"] == "St Mary's Primary"
    assert values["timezone"] == "Europe/Dublin"
    assert values["end_of_day"] == "15:45"
    assert values["office_email"] == "office@stmarys.example"
    services = services_on(fresh_db)
    try:
        assert services.admin.check_pin("135792").ok
        people = {p.code: p for p in services.people.list_staff()}
        assert set(people) == {"MHEAD", "ELOUIS"} and people["ELOUIS"].line_manager == "MHEAD"
        assert [d.tag for d in services.people.list_devices()] == ["LAP-1", "WP-1"]
        [aup] = services.policies.current()
        assert (aup.title, aup.version, aup.required) == (
            "School Acceptable Use Policy",
            "Autumn 2026",
            True,
        )
    finally:
        services.close()
    assert badges.read_bytes().startswith(b"%PDF")
    # What a kiosk needs: the database URL and the PIN key file.
    assert f"KIOSK_DATABASE_URL={fresh_db}" in out
    assert str(secret_path()) in out and secret_path().exists()

    # Run again without signing in: the school has a PIN now, so set-up changes nothing in
    # the register for no one (here: a roster making a stranger an admin).
    stranger = tmp_path / "stranger.csv"
    stranger.write_text("code,name,roles\nEVIL,Eve Vil,admin\n", encoding="utf-8")
    piped(monkeypatch, "", "", "", "", "", str(stranger))
    status, out, _ = run(capsys, "setup")
    assert status == 1 and "not signed in" in out, out
    services = services_on(fresh_db)
    try:
        assert "EVIL" not in {p.code for p in services.people.list_staff()}
    finally:
        services.close()

    # Run again signed in, to change one thing: Enter keeps every other answer and skips
    # every step.
    piped(monkeypatch, "135792", "", "", "16:00")
    status, out, _ = run(capsys, "setup", "--admin", "MHEAD", "--pin-stdin")
    assert status == 0, out
    values = tomllib.loads(config_file().read_text(encoding="utf-8"))
    assert values["end_of_day"] == "16:00" and values["timezone"] == "Europe/Dublin"
    services = services_on(fresh_db)
    try:
        assert services.admin.check_pin("135792").ok  # the PIN kept
        assert len(services.policies.all_versions()) == 1
        assert len(services.people.list_staff()) == 2
    finally:
        services.close()


def test_a_new_database_has_no_policy_until_the_school_publishes_one(
    fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "db", "upgrade")[0] == 0
    status, out, _ = run(capsys, "policy", "list")
    assert status == 0 and "Spring 2018" not in out and "Birmingham" not in out


def test_config_set_checks_and_writes_the_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Set by the IT technician\nidle_timeout = 45\n", encoding="utf-8")
    status, out, _ = run(capsys, "config", "set", "end_of_day", "9:05")
    assert status == 0 and "'09:05'" in out
    status, _, err = run(capsys, "config", "set", "timezone", "Europe/Londres")
    assert status == 1 and "not a known time zone" in err
    status, _, err = run(capsys, "config", "set", "colour", "blue")
    assert status == 1 and "no setting 'colour'" in err
    # A name everyone reads may not hide characters (a bidi override reads as other text).
    status, _, err = run(capsys, "config", "set", "school_name", "Our\u202eSchool")
    assert status == 1 and "RIGHT-TO-LEFT OVERRIDE" in err
    assert run(capsys, "config", "set", "school_name", 'St "Mary\'s"')[0] == 0
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Set by the IT technician\nidle_timeout = 45\n")
    settings = load_settings()
    assert (settings.end_of_day, settings.school_name) == ("09:05", 'St "Mary\'s"')
    status, out, _ = run(capsys, "config")
    assert "09:05" in out and str(path) in out


def test_config_set_keeps_passwords_to_the_kiosks_user_and_off_the_screen(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # config.toml holds the database login's and the mail server's passwords: another local
    # user could read it (0644 in a 0755 folder), and `config set` printed the URL back whole.
    url = "postgresql+psycopg://kiosk_staffroom:s3cret-pw@db.school.example/kiosk"
    status, out, _ = run(capsys, "config", "set", "database_url", url)
    assert status == 0 and "kiosk_staffroom:***@db.school.example" in out
    status, out, _ = run(capsys, "config", "set", "smtp_password", "hunter2")
    assert status == 0 and "smtp_password = (set)" in out
    assert "s3cret-pw" not in out and "hunter2" not in out
    path = config_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    settings = load_settings()
    assert (settings.database_url, settings.smtp_password) == (url, "hunter2")


def test_calendar_import_and_show(fresh_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Reading a register that does not exist says so: it does not make an empty one.
    status, _, err = run(capsys, "calendar", "show")
    assert status == 1 and "There is no register at" in err and "kiosk setup" in err
    assert not Path(fresh_db.removeprefix("sqlite:///")).exists()
    example = assets_dir() / "calendar-example.csv"
    status, out, _ = run(capsys, "calendar", "import", str(example))  # a first step: made
    assert status == 0 and "3 term(s), 4 holiday(s), 4 INSET day(s)" in out
    status, out, _ = run(capsys, "calendar", "show")
    assert status == 0 and "term" in out
    status, out, _ = run(capsys, "calendar", "show")
    assert "October half term" in out and "calendar-example.csv" in out
    services = services_on(fresh_db)
    try:
        assert not services.school.calendar().is_school_day(date(2026, 11, 27))
    finally:
        services.close()


def test_a_calendar_import_that_drops_terms_still_ahead_needs_replace(
    fresh_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Far in the future, so "still ahead" whatever today is; the year 2000 is past.
    year = tmp_path / "year.csv"
    year.write_text(
        "start,end,kind,name\n2000-01-04,2000-03-31,term,Old spring term\n"
        "2098-09-03,2098-12-18,term,Autumn term\n2099-01-05,2099-03-26,term,Spring term\n"
    )
    assert run(capsys, "calendar", "import", str(year))[0] == 0
    spring = tmp_path / "spring.csv"
    spring.write_text("start,end,kind,name\n2099-01-05,2099-03-26,term,Spring term\n")
    status, out, err = run(capsys, "calendar", "import", str(spring))
    assert status == 1 and out == ""
    assert "spring.csv does not have these entries of the calendar in force (year.csv)" in err
    assert "Term: Wed 03 Sep 2098 to Thu 18 Dec 2098 (Autumn term)" in err
    assert "Old spring term" not in err  # past: not a reason to refuse
    assert "the calendar was not changed" in err and "--replace" in err
    assert "year.csv" in run(capsys, "calendar", "show")[1]

    status, out, _ = run(capsys, "calendar", "import", "--replace", str(spring))
    assert status == 0
    assert "It replaced the calendar from year.csv" in out
    assert "(Autumn term)" in out and "(Old spring term)" in out
    assert "Calendar from spring.csv" in run(capsys, "calendar", "show")[1]


def test_a_calendar_file_with_mistakes_changes_nothing(
    fresh_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "calendar.csv"
    bad.write_text("date,kind,name\n2026-11-27,inset,Training\n2026-11-31,holiday,X\n")
    status, _, err = run(capsys, "calendar", "import", str(bad))
    assert status == 1
    assert err.splitlines()[0].startswith("line 3: ")
    assert "calendar was not changed" in err
    assert "No school calendar" in run(capsys, "calendar", "show")[1]


def test_a_school_website_ics_feed_imports_with_its_other_events_listed(
    fresh_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "school.ics"
    feed.write_text(
        "BEGIN:VCALENDAR\r\n"
        "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261127\r\nDTEND;VALUE=DATE:20261128\r\n"
        "SUMMARY:INSET day - school closed to pupils\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nDTSTART:20261112T170000Z\r\nDTEND:20261112T190000Z\r\n"
        "SUMMARY:Parents\\, carers' evening\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n",
        encoding="utf-8",
    )
    status, out, err = run(capsys, "calendar", "import", str(feed))
    assert status == 0 and "1 INSET day(s)" in out
    assert "Parents, carers' evening: not a term, holiday or INSET day (left out)" in err
    assert "27 Nov 2026" in run(capsys, "calendar", "show")[1]


def test_device_kinds_from_the_command_line(
    fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "devices", "add", "TAB-1", "--kind", "tablet")
    assert status == 1 and "must be one of laptop, work_phone" in err
    status, out, _ = run(
        capsys, "devices", "kind", "add", "tablet", "--label", "iPad", "--needs-charged"
    )
    assert status == 0 and "Kind tablet (iPad) recorded: asks 'charged and ready'" in out
    assert run(capsys, "devices", "add", "TAB-1", "--kind", "tablet")[1] == "Added ipad TAB-1.\n"
    status, out, _ = run(capsys, "devices", "kinds")
    assert [line.split()[:2] for line in out.splitlines()[1:4]] == [
        ["laptop", "Laptop"],
        ["work_phone", "Work"],
        ["tablet", "iPad"],
    ]
    services = services_on(fresh_db)
    try:
        [row] = [
            r
            for r in services.register.rows_between(date(2000, 1, 1), date(2100, 1, 1))
            if r.kind == EventKind.DEVICE_KINDS_SET.value
        ]
        assert "tablet (iPad): charged" in row.detail
    finally:
        services.close()


def test_staff_retire_and_import_retire_missing(
    fresh_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER + "KLEFT,Kay Left,,MHEAD,\nJGONE,Jo Gone,,,\n", encoding="utf-8")
    assert run(capsys, "staff", "import", str(roster))[0] == 0
    status, out, _ = run(capsys, "staff", "retire", "kleft")
    assert status == 0 and "Kay Left (KLEFT) is marked as having left" in out
    status, _, err = run(capsys, "staff", "retire", "MHEAD")
    assert status == 1 and "no admin" in err

    roster.write_text(ROSTER, encoding="utf-8")
    status, out, _ = run(capsys, "staff", "import", str(roster), "--retire-missing")
    assert status == 0 and "Retired (not in the file): JGONE." in out

    roster.write_text(ROSTER + "ZNEW,Zed New,,Nobody Known,\n", encoding="utf-8")
    status, _, err = run(capsys, "staff", "import", str(roster))
    assert status == 1
    assert err.splitlines()[0].startswith("line 4: line manager 'Nobody Known' is not on")

    roster.write_text(ROSTER.replace(",", ";"), encoding="utf-8")
    status, _, err = run(capsys, "staff", "import", str(roster))
    assert status == 1 and "use commas" in err


# --- a set-up that is not finished says so ----------------------------------------------------


def test_setup_with_nothing_done_is_not_done(
    fresh_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    piped(monkeypatch)  # Enter to everything
    status, out, _ = run(capsys, "setup")
    assert status == 1
    assert "Done" not in out
    assert "Not ready yet" in out
    for missing in ("no staff", "no admin PIN", "no policy"):
        assert missing in out
    assert "'Not recognised' to every badge" in out  # what an unset-up kiosk looks like


def test_setup_piped_stops_at_a_refused_roster_and_says_which_step(
    fresh_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("code;name;roles\nMHEAD;Mo Head;admin\n", encoding="utf-8")
    devices = tmp_path / "devices.csv"
    devices.write_text(DEVICES, encoding="utf-8")
    piped(monkeypatch, "St Mary's", "", "", "", "135792", str(roster), str(devices))
    status, out, _ = run(capsys, "setup")
    assert status == 1
    assert "Set-up stopped at step 3 (Staff roster)" in out and "use commas" in out
    assert "Done" not in out and "no staff" in out
    services = services_on(fresh_db)
    try:
        assert services.people.list_devices() == ()  # the next answer was not used
        assert services.admin.check_pin("135792").ok
    finally:
        services.close()


def test_setup_piped_a_missing_file_or_bad_answer_never_shifts_the_answers(
    fresh_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    # A mistyped time zone: the next line is not taken as the time zone, and nothing later
    # (the roster's name) is taken as the PIN.
    piped(monkeypatch, "St Mary's", "Mars/Olympus", "Europe/Dublin", "", "", str(roster))
    status, out, _ = run(capsys, "setup")
    assert status == 1 and "Set-up stopped at step 1 (The school)" in out
    assert "not a known time zone" in out
    assert not config_file().exists()
    # A mistyped file name.
    piped(monkeypatch, "", "", "", "", "135792", str(tmp_path / "rooster.csv"), str(roster))
    status, out, _ = run(capsys, "setup")
    assert status == 1 and "Set-up stopped at step 3 (Staff roster)" in out
    assert "rooster.csv is not a file." in out and "Give its name again" not in out
    # A PIN that is refused: the roster's name after it is not used.
    piped(monkeypatch, "", "", "", "", "1234", str(roster))
    status, out, _ = run(capsys, "setup")
    assert status == 1 and "Set-up stopped at step 2 (The admin PIN" in out
    assert "at least 6 digits" in out
    services = services_on(fresh_db)
    try:
        assert services.people.list_staff() == ()
    finally:
        services.close()


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_setup_at_a_terminal_asks_again_and_checks_the_pin_before_repeating_it(
    fresh_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import getpass

    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    prompts: list[str] = []
    pins = iter(["1234", "135792", "135792"])

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return next(pins)

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    lines = ["St Mary's", "", "", "", str(tmp_path / "rooster.csv"), str(roster)]
    monkeypatch.setattr("sys.stdin", _Tty("".join(f"{line}\n" for line in lines)))
    status, out, _ = run(capsys, "setup")
    # The short PIN is refused before "the same PIN again" is asked.
    assert prompts[0] == prompts[1] != prompts[2] == "The same PIN again: "
    assert "at least 6 digits" in out
    assert "rooster.csv is not a file" in out  # then asked again: the right name imported
    services = services_on(fresh_db)
    try:
        assert {p.code for p in services.people.list_staff()} == {"MHEAD", "ELOUIS"}
        assert services.admin.check_pin("135792").ok
    finally:
        services.close()
    assert status == 1 and "no policy" in out and "no staff" not in out


def test_setup_says_which_user_and_folders_it_used(
    fresh_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pwd

    from kiosk.config import data_dir

    piped(monkeypatch)
    _, out, _ = run(capsys, "setup")
    user = pwd.getpwuid(os.geteuid()).pw_name
    assert f"This set-up ran as the user {user}" in out
    assert f"the data folder: {data_dir()}" in out
    assert f"the settings file: {config_file()}" in out
    assert "sudo -u kiosk -H kiosk setup" in out
    if user == "root":
        assert "this ran as root, and the kiosk must not run as root" in out
    else:
        assert f"Start the kiosk as the user {user}" in out


def test_a_time_zone_in_any_case_is_written_as_zoneinfo_spells_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run(capsys, "config", "set", "timezone", "europe/london")
    assert status == 0 and "'Europe/London'" in out
    assert load_settings().timezone == "Europe/London"


def test_setup_piped_with_the_pin_given_twice_as_at_a_terminal_goes_on_and_never_shows_it(
    fresh_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The walk: an answers file written from the prompts seen at a terminal gives the PIN
    # twice ("New admin PIN", "The same PIN again"). Piped, the second line was taken as the
    # roster's file name: set-up stopped with "246801 is not a file.", the PIN on the screen.
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    devices = tmp_path / "devices.csv"
    devices.write_text(DEVICES, encoding="utf-8")
    piped(monkeypatch, "St Mary's", "", "", "", "246801", "246801", str(roster), str(devices))
    _, out, _ = run(capsys, "setup")
    assert "246801" not in out
    assert "Staff imported: 2 added" in out and "Devices imported: 2 added" in out
    assert "Set-up stopped" not in out
    services = services_on(fresh_db)
    try:
        assert services.admin.check_pin("246801").ok
        assert len(services.people.list_devices()) == 2
    finally:
        services.close()


def test_moving_from_a_csv_calendar_to_the_website_ics_with_the_same_days_is_not_a_drop(
    fresh_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The walk: the office imported its CSV, then the website's .ics feed with the very same
    # terms and training day under the website's own titles. The import was refused: "does
    # not have these entries ... Term: 03 Sep to 18 Dec (Autumn term)", which it has.
    year = tmp_path / "year.csv"
    year.write_text(
        "start,end,kind,name\n2098-09-03,2098-12-18,term,Autumn term\n"
        "2098-12-07,,inset,INSET day\n2099-01-05,2099-03-26,term,Spring term\n"
    )
    assert run(capsys, "calendar", "import", str(year))[0] == 0
    feed = tmp_path / "website.ics"
    feed.write_text(
        "BEGIN:VCALENDAR\r\n"
        "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20980903\r\nDTEND;VALUE=DATE:20981219\r\n"
        "SUMMARY:Autumn Term 2098\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20981207\r\nDTEND;VALUE=DATE:20981208\r\n"
        "SUMMARY:Staff Training Day\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20990105\r\nDTEND;VALUE=DATE:20990327\r\n"
        "SUMMARY:Spring Term 2099\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n",
        encoding="utf-8",
    )
    status, out, err = run(capsys, "calendar", "import", str(feed))
    assert status == 0, err
    assert "does not have these entries" not in err + out
    assert "Calendar from website.ics" in run(capsys, "calendar", "show")[1]
    # A term that really is missing is still a reason to refuse.
    spring = tmp_path / "spring.ics"
    spring.write_text(
        feed.read_text().split("BEGIN:VEVENT", 1)[0]
        + "BEGIN:VEVENT"
        + feed.read_text().split("BEGIN:VEVENT", 3)[3]
    )
    status, _, err = run(capsys, "calendar", "import", str(spring))
    assert status == 1 and "(Autumn Term 2098)" in err and "--replace" in err


def test_setup_piped_run_again_with_the_same_answers_keeps_the_pin_it_set(
    fresh_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The walk: a piped set-up stopped at the roster ("Fix it and run `kiosk setup` again").
    # Run again with the same answers, it stopped at step 2: "A PIN is already set: give the
    # current PIN to change it" (the school had no admin yet, so nobody could sign in).
    roster = tmp_path / "roster.csv"
    roster.write_text("code;name;roles\nMHEAD;Mo Head;admin\n", encoding="utf-8")
    answers = ["St Mary's", "", "", "", "246801", str(roster)]
    piped(monkeypatch, *answers)
    status, out, _ = run(capsys, "setup")
    assert status == 1 and "Set-up stopped at step 3 (Staff roster)" in out
    roster.write_text(ROSTER, encoding="utf-8")
    piped(monkeypatch, *answers)
    _, out, _ = run(capsys, "setup")
    assert "Set-up stopped at step 2" not in out, out
    assert "That is the PIN already set: kept." in out
    assert "Staff imported: 2 added" in out
    services = services_on(fresh_db)
    try:
        assert services.admin.check_pin("246801").ok
    finally:
        services.close()


def test_staff_hand_back_records_a_leavers_phone_collected_by_the_office(
    fresh_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Round 18: a leaver retired with --force, their phone in the staff room: their badge is
    # refused at the kiosk, and nothing else could record the phone handed back.
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER + "KLEFT,Kay Left,,MHEAD,\n", encoding="utf-8")
    assert run(capsys, "staff", "import", str(roster))[0] == 0
    # Her phone goes in (the kiosk's clock: the CLI's, the real one).
    services = Services(make_engine(fresh_db), load_settings(), lambda: datetime.now(UTC))
    try:
        services.phones.deposit("KLEFT")
    finally:
        services.close()
    status, out, _ = run(capsys, "staff", "retire", "KLEFT", "--force")
    assert status == 0 and "kiosk staff hand-back KLEFT" in out, out
    status, _, err = run(capsys, "staff", "hand-back", "KLEFT")
    assert status == 1 and "no admin can sign in yet" in err, err
    services = Services(make_engine(fresh_db), load_settings(), lambda: datetime.now(UTC))
    try:
        services.admin.set_pin("135792")
    finally:
        services.close()
    piped(monkeypatch, "135792")
    status, out, err = run(capsys, "staff", "hand-back", "KLEFT", "--admin", "MHEAD", "--pin-stdin")
    assert status == 0, err
    assert "the office handed Kay Left (KLEFT) their phone back" in out, out
    services = services_on(fresh_db)
    try:
        assert not services.phones.phones_now()
    finally:
        services.close()

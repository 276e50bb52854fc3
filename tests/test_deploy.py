"""kiosk install-service: the units it writes are accepted by systemd-analyze verify (issue 18.3).

``systemd-analyze verify`` loads each unit as systemd would and reports unknown keys, values
it cannot parse, commands that are not executable, a timer without its service, and a
missing user. It runs unprivileged and outside a booted system (in a container too);
``--man=no`` skips the check that the Documentation= man pages exist. It exits 0 even for a
key it ignores, so the test also asserts that it said nothing at all.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.services import deploy

NAMES = [
    "staff-room-kiosk.service",
    "kiosk-notify.service",
    "kiosk-notify.timer",
    "kiosk-backup.service",
    "kiosk-backup.timer",
]


def verify(directory: Path) -> subprocess.CompletedProcess[str]:
    systemd_analyze = shutil.which("systemd-analyze")
    assert systemd_analyze, "systemd-analyze is missing: make test installs systemd"
    return subprocess.run(
        [systemd_analyze, "verify", "--man=no", *(str(directory / n) for n in NAMES)],
        capture_output=True,
        text=True,
        check=False,
    )


def parse(text: str) -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            current.setdefault(key, []).append(value)
    return sections


def test_written_units_pass_systemd_analyze_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["install-service", "--user", "daemon", "--tty", "2", "--dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(NAMES)
    assert "systemctl enable --now staff-room-kiosk.service kiosk-notify.timer" in out
    result = verify(tmp_path)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")

    kiosk = parse((tmp_path / "staff-room-kiosk.service").read_text())
    service = kiosk["Service"]
    assert service["ExecStart"] == [f"{sys.executable} -m kiosk"]
    assert service["User"] == ["daemon"]
    assert service["TTYPath"] == ["/dev/tty2"]
    assert service["StandardInput"] == ["tty"] and service["StandardError"] == ["tty"]
    assert service["PAMName"] == ["login"]  # a login session without a password
    assert service["Restart"] == ["always"]
    assert service["EnvironmentFile"] == ["-/etc/staff-room-kiosk/kiosk.env"]
    assert kiosk["Unit"]["Conflicts"] == ["getty@tty2.service"]
    assert kiosk["Unit"]["StartLimitIntervalSec"] == ["0"]
    assert kiosk["Install"]["WantedBy"] == ["multi-user.target"]

    notify = parse((tmp_path / "kiosk-notify.service").read_text())["Service"]
    assert notify["ExecStart"] == [f"{sys.executable} -m kiosk notify"]
    timer = parse((tmp_path / "kiosk-notify.timer").read_text())["Timer"]
    assert timer["Unit"] == ["kiosk-notify.service"] and timer["Persistent"] == ["true"]
    backup = parse((tmp_path / "kiosk-backup.service").read_text())["Service"]
    assert "backup" in backup["ExecStart"][0]


def test_a_broken_unit_is_caught_by_the_same_check(tmp_path: Path) -> None:
    # The check can fail: a unit with a mistyped key, and a command that does not exist.
    units = deploy.build_units("daemon", command="/nonexistent/kiosk")
    deploy.write_units(units, tmp_path)
    result = verify(tmp_path)
    assert result.returncode != 0 and "/nonexistent/kiosk" in result.stderr

    deploy.write_units(deploy.build_units("daemon"), tmp_path)
    path = tmp_path / "kiosk-notify.timer"
    path.write_text(path.read_text().replace("OnCalendar=", "OnCalender="))
    result = verify(tmp_path)
    assert "Unknown key 'OnCalender'" in result.stderr


def test_the_backup_command_keeps_its_date_and_shell_variables_literal(tmp_path: Path) -> None:
    # systemd would expand %Y (a specifier) and $(...) itself: they are escaped for the shell.
    (backup, *_) = [u for u in deploy.build_units("daemon") if u.name == "kiosk-backup.service"]
    line = next(x for x in backup.text.splitlines() if x.startswith("ExecStart="))
    assert "$$(date +%%Y%%m%%d-%%H%%M%%S)" in line
    assert "/var/backups/staff-room-kiosk/kiosk-" in line


def test_print_writes_nothing_and_mistakes_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["install-service", "--print", "--user", "kiosk", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
    for name in NAMES:
        assert f"# --- {name} ---" in out
    assert "User=kiosk" in out

    for args, message in [
        (["--user", "root"], "must not run as root"),
        (["--user", "kiosk", "--tty", "0"], "no virtual terminal tty0"),
        (["--user", "Bad User"], "not a user name"),
        (["--user", "daemon", "--dir", str(tmp_path / "no")], "does not exist"),
        (["--user", "kiosk", "--env-file", "relative.env"], "absolute path"),
    ]:
        assert main(["install-service", *args]) == 1
        assert message in capsys.readouterr().err


def test_print_as_root_assumes_a_placeholder_user_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import getpass

    monkeypatch.delenv("SUDO_USER", raising=False)
    monkeypatch.setattr(getpass, "getuser", lambda: "root")
    assert main(["install-service", "--print"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Units for the user kiosk (a placeholder: you are root")
    assert "User=kiosk" in out and "User=root" not in out
    # Writing them as root without --user is still refused.
    assert main(["install-service", "--dir", str(tmp_path)]) == 1
    assert "must not run as root" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_writing_units_for_a_user_that_does_not_exist_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["install-service", "--user", "nosuchkiosk", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "there is no user 'nosuchkiosk' on this machine" in err and "adduser" in err
    assert list(tmp_path.iterdir()) == []
    # Printing them needs no such user.
    assert main(["install-service", "--print", "--user", "nosuchkiosk"]) == 0
    assert "User=nosuchkiosk" in capsys.readouterr().out

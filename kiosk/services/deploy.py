"""systemd units for a staff-room machine: the kiosk on a virtual terminal, notices, backups.

``kiosk install-service`` writes (or prints) them; docs/deploy.md says how they are used.

- ``staff-room-kiosk.service`` runs the kiosk full screen on ``/dev/ttyN`` as the kiosk's
  user. ``PAMName=login`` opens a login session for that user without a password (the
  automatic login), the getty that would ask for one on that terminal is stopped
  (``Conflicts=getty@ttyN.service``), and ``Restart=always`` with no start limit brings the
  kiosk back after a crash or after someone quits it; it starts at boot
  (``WantedBy=multi-user.target``), so after a power cut the machine comes back into it.
  Textual draws on standard error, so that goes to the terminal too (the kiosk logs to its
  own file).
- ``kiosk-notify.service`` + ``.timer``: ``kiosk notify`` every 15 minutes (it works out
  itself what is due: each notice is sent once).
- ``kiosk-backup.service`` + ``.timer``: ``kiosk backup`` of the SQLite register every
  evening into a folder, keeping 30 days (on PostgreSQL, back up on the server: see the
  deploy guide).

Every unit reads the same environment file (``KIOSK_DATABASE_URL``, SMTP settings...), which
may be missing: then the settings come from the user's config file.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from kiosk.domain.errors import InvalidInput

KIOSK_UNIT = "staff-room-kiosk.service"
NOTIFY_SERVICE = "kiosk-notify.service"
NOTIFY_TIMER = "kiosk-notify.timer"
BACKUP_SERVICE = "kiosk-backup.service"
BACKUP_TIMER = "kiosk-backup.timer"
DEFAULT_ENV_FILE = "/etc/staff-room-kiosk/kiosk.env"
DEFAULT_BACKUP_DIR = "/var/backups/staff-room-kiosk"
DEFAULT_UNIT_DIR = "/etc/systemd/system"
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


@dataclass(frozen=True, slots=True)
class UnitFile:
    name: str
    text: str


def kiosk_command() -> str:
    """How systemd starts this kiosk: this Python (its virtual environment) with -m kiosk."""
    return f"{_quote(sys.executable)} -m kiosk"


def _quote(value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _escape(value: str) -> str:
    # systemd expands %-specifiers and $VARIABLES on command lines: keep them literal.
    return value.replace("%", "%%").replace("$", "$$")


def build_units(
    user: str,
    tty: int = 1,
    *,
    command: str | None = None,
    env_file: str = DEFAULT_ENV_FILE,
    backup_dir: str = DEFAULT_BACKUP_DIR,
) -> tuple[UnitFile, ...]:
    """The five unit files, in the order they are listed and written."""
    if not _USER.match(user):
        raise InvalidInput(f"{user!r} is not a user name.")
    if user == "root":
        raise InvalidInput("The kiosk must not run as root: give the kiosk's own user (--user).")
    if not 1 <= tty <= 63:
        raise InvalidInput(f"There is no virtual terminal tty{tty}: choose 1 to 63.")
    for what, path in (("environment file", env_file), ("backup folder", backup_dir)):
        if not path.startswith("/") or any(c in path for c in " \t\n\"'\\%$"):
            raise InvalidInput(f"The {what} must be an absolute path without spaces ({path!r}).")
    run = _escape(command or kiosk_command())
    common = f"User={user}\nEnvironmentFile=-{env_file}\nEnvironment=PYTHONUNBUFFERED=1\n"
    kiosk = f"""\
# Staff Room Kiosk: full screen on tty{tty}, logged in as {user} at boot, restarted if it stops.
# Written by `kiosk install-service`; see docs/deploy.md.
[Unit]
Description=Staff Room Kiosk on tty{tty}
After=systemd-user-sessions.service network-online.target getty@tty{tty}.service
Wants=network-online.target
Conflicts=getty@tty{tty}.service
StartLimitIntervalSec=0

[Service]
Type=simple
{common}Environment=TERM=linux
WorkingDirectory=~
ExecStart={run}
StandardInput=tty
StandardOutput=tty
StandardError=tty
TTYPath=/dev/tty{tty}
TTYReset=yes
TTYVHangup=yes
TTYVTDisallocate=yes
UtmpIdentifier=tty{tty}
UtmpMode=user
PAMName=login
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
"""
    notify_service = f"""\
# Sends the kiosk's notices (each one once; a failed one is tried again next time).
[Unit]
Description=Staff Room Kiosk: send notices by e-mail
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
{common}ExecStart={run} notify
# A school's notice template that makes text without end is stopped here, before it takes
# the memory of the kiosk beside it; and a run that never ends does not stop every later one.
MemoryMax=512M
TimeoutStartSec=10min
"""
    notify_timer = f"""\
[Unit]
Description=Staff Room Kiosk: send notices every 15 minutes

[Timer]
OnCalendar=*:0/15
Persistent=true
Unit={NOTIFY_SERVICE}

[Install]
WantedBy=timers.target
"""
    stamp = "$$(date +%%Y%%m%%d-%%H%%M%%S)"
    backup_service = f"""\
# A verified copy of the SQLite register every evening; copies older than 30 days removed.
[Unit]
Description=Staff Room Kiosk: back up the register

[Service]
Type=oneshot
{common}ExecStartPre=+/usr/bin/install -d -o {user} -m 0700 {backup_dir}
ExecStart=/bin/sh -c 'exec {run} backup "{backup_dir}/kiosk-{stamp}.sqlite3"'
ExecStartPost=/usr/bin/find {backup_dir} -name kiosk-*.sqlite3 -mtime +30 -delete
"""
    backup_timer = f"""\
[Unit]
Description=Staff Room Kiosk: back up the register every evening

[Timer]
OnCalendar=*-*-* 19:00
Persistent=true
Unit={BACKUP_SERVICE}

[Install]
WantedBy=timers.target
"""
    return (
        UnitFile(KIOSK_UNIT, kiosk),
        UnitFile(NOTIFY_SERVICE, notify_service),
        UnitFile(NOTIFY_TIMER, notify_timer),
        UnitFile(BACKUP_SERVICE, backup_service),
        UnitFile(BACKUP_TIMER, backup_timer),
    )


PLACEHOLDER_USER = "kiosk"  # the user docs/deploy.md creates; --print assumes it for root


def user_exists(user: str) -> bool:
    """Whether ``user`` is a user on this machine (True where that cannot be known)."""
    try:
        import pwd
    except ImportError:  # not a POSIX system: systemd is not there either
        return True
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


def write_units(units: tuple[UnitFile, ...], directory: Path) -> list[Path]:
    """Write the units into ``directory`` (mode 0644); return the paths written."""
    if not directory.is_dir():
        raise InvalidInput(f"The folder {directory} does not exist.")
    written = []
    for unit in units:
        path = directory / unit.name
        path.write_text(unit.text, encoding="utf-8")
        path.chmod(0o644)
        written.append(path)
    return written


def enable_commands(tty: int) -> list[str]:
    return [
        "systemctl daemon-reload",
        f"systemctl disable getty@tty{tty}.service",
        f"systemctl enable --now {KIOSK_UNIT} {NOTIFY_TIMER} {BACKUP_TIMER}",
    ]

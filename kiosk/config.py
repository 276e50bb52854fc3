"""Settings a school changes, from a TOML file and environment variables.

Order of precedence (highest first): environment variable, the TOML file
(``KIOSK_CONFIG`` or ``<user config dir>/config.toml``), built-in default.
``kiosk config`` prints each value with where it came from.

This module stays light: the kiosk imports it before its first frame is drawn.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kiosk.domain.address import email_problem, not_an_email, sender_problem
from kiosk.domain.text import unsafe_characters

if TYPE_CHECKING:
    from sqlalchemy import URL

APP_NAME = "staff-room-kiosk"


def data_dir() -> Path:
    override = os.environ.get("KIOSK_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def config_dir() -> Path:
    override = os.environ.get("KIOSK_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return platformdirs.user_config_path(APP_NAME, appauthor=False)


def log_dir() -> Path:
    override = os.environ.get("KIOSK_LOG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return platformdirs.user_log_path(APP_NAME, appauthor=False)


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'kiosk.sqlite3'}"


def demo_database_url() -> str:
    return f"sqlite:///{data_dir() / 'demo.sqlite3'}"


class ConfigError(ValueError):
    """A setting has a value the kiosk cannot use."""


@dataclass(frozen=True)
class Setting:
    key: str
    env: str
    default: Any
    help: str
    secret: bool = False  # never printed (kiosk config shows it as set or not)


SETTINGS: tuple[Setting, ...] = (
    Setting("school_name", "KIOSK_SCHOOL_NAME", "Our School", "Shown on the home screen"),
    Setting("timezone", "KIOSK_TIMEZONE", "Europe/London", "The school's time zone"),
    Setting(
        "office_phone",
        "KIOSK_OFFICE_PHONE",
        "the school office",
        "Telephone number families call in an emergency",
    ),
    Setting(
        "office_email",
        "KIOSK_OFFICE_EMAIL",
        None,
        "The school office's e-mail address (staff are told it; notices go to it)",
    ),
    Setting("idle_timeout", "KIOSK_IDLE_TIMEOUT", 30, "Seconds before a staff screen goes home"),
    Setting(
        "admin_idle_timeout",
        "KIOSK_ADMIN_IDLE_TIMEOUT",
        120,
        "Seconds before the admin console locks itself",
    ),
    Setting(
        "regular_use_threshold",
        "KIOSK_REGULAR_USE_THRESHOLD",
        2,
        "Laptop sign-outs in 28 days before a line manager must agree",
    ),
    Setting("kiosk_name", "KIOSK_NAME", None, "This kiosk's name in the register (host name)"),
    Setting(
        "end_of_day",
        "KIOSK_END_OF_DAY",
        "16:30",
        "When phones still in a store are listed first (HH:MM)",
    ),
    Setting("database_url", "KIOSK_DATABASE_URL", None, "SQLAlchemy URL of the database"),
    # Notices by e-mail (kiosk notify)
    Setting("smtp_host", "KIOSK_SMTP_HOST", None, "Mail server for notices (kiosk notify)"),
    Setting("smtp_port", "KIOSK_SMTP_PORT", 587, "Mail server port (587 STARTTLS, 465 TLS)"),
    Setting(
        "smtp_security",
        "KIOSK_SMTP_SECURITY",
        "starttls",
        "starttls, tls (from the first byte) or none (a relay on this machine only)",
    ),
    Setting("smtp_user", "KIOSK_SMTP_USER", None, "Mail server login (none: no login)"),
    Setting("smtp_password", "KIOSK_SMTP_PASSWORD", None, "Mail server password", secret=True),
    Setting("smtp_from", "KIOSK_SMTP_FROM", None, "Notices' From address (default: the office)"),
    Setting(
        "head_email",
        "KIOSK_HEAD_EMAIL",
        None,
        "The Head Teacher's address: workstation review requests (default: the office)",
    ),
    Setting(
        "anchor_email",
        "KIOSK_ANCHOR_EMAIL",
        None,
        "Who receives the register's daily anchor (the head, the DPO, the clerk to governors)",
    ),
    Setting(
        "notice_templates",
        "KIOSK_NOTICE_TEMPLATES",
        None,
        "A folder of the school's own notice templates (overriding the kiosk's)",
    ),
)

SMTP_SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class Settings:
    school_name: str = "Our School"
    timezone: str = "Europe/London"
    office_phone: str = "the school office"
    office_email: str | None = None
    idle_timeout: int = 30
    admin_idle_timeout: int = 120
    regular_use_threshold: int = 2
    kiosk_name: str = field(default_factory=socket.gethostname)
    end_of_day: str = "16:30"
    database_url: str = field(default_factory=default_database_url)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    head_email: str | None = None
    anchor_email: str | None = None
    notice_templates: str | None = None
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def end_of_day_time(self) -> time:
        return time.fromisoformat(self.end_of_day)


def config_file() -> Path:
    override = os.environ.get("KIOSK_CONFIG")
    return Path(override) if override else config_dir() / "config.toml"


def _coerce(setting: Setting, raw: Any, origin: str) -> Any:
    if setting.default is None or isinstance(setting.default, str):
        if not isinstance(raw, str) or not raw.strip():
            raise ConfigError(f"{setting.key} ({origin}) must be some text")
        return raw.strip()
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{setting.key} ({origin}) must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{setting.key} ({origin}) must not be negative")
    minimum = _MINIMUM.get(setting.key, 0)
    if value < minimum:
        # The one rule for every way in (kiosk config set, the file, the environment): an
        # idle_timeout of 1 in the file sent each staff screen home before anyone could
        # answer it; 0 made a screen that never went home.
        raise ConfigError(f"{setting.key} ({origin}) must be at least {minimum} seconds")
    return value


# The least a setting may be (seconds), however it is given.
_MINIMUM = {"idle_timeout": 5, "admin_idle_timeout": 5}


def load_settings(environ: dict[str, str] | None = None, *, demo: bool = False) -> Settings:
    """Read the TOML file and environment. Raises ConfigError with a clear message."""
    env = dict(os.environ) if environ is None else environ
    path = Path(env["KIOSK_CONFIG"]) if env.get("KIOSK_CONFIG") else config_file()
    file_values: dict[str, Any] = {}
    if path.exists():
        import tomllib  # only when there is a file to read

        try:
            file_values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    known = {s.key for s in SETTINGS}
    unknown = sorted(set(file_values) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(unknown)}")

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        if setting.env in env and env[setting.env] != "":
            origin = f"${setting.env}"
            values[setting.key] = _coerce(setting, env[setting.env], origin)
            sources[setting.key] = f"environment ${setting.env}"
        elif setting.key in file_values:
            origin = str(path)
            values[setting.key] = _coerce(setting, file_values[setting.key], origin)
            sources[setting.key] = origin
        else:
            sources[setting.key] = "default"
            continue
        # The rule `kiosk config set` applies: the file and the environment are ways in too.
        # Not the addresses' rules: an address only notices use, written before those rules,
        # is refused by `kiosk notify` for its own notices, not by every command at start-up
        # (a kiosk that records phones must not stop over the office's e-mail).
        check_text(setting.key, values[setting.key], origin, addresses=False)
    if demo:
        values["database_url"] = demo_database_url()
        values.setdefault("school_name", "Demo Primary School (sample data)")
        sources["database_url"] = "demo school (kiosk --demo)"
    if isinstance(values.get("timezone"), str):
        values["timezone"] = canonical_timezone(values["timezone"])
    settings = Settings(**values, sources=sources)
    _check_settings(settings)
    return settings


def _check_settings(settings: Settings) -> None:
    """The rules every command checks its settings by as it starts (ConfigError): also what
    `kiosk config set` checks a value by, before it writes one no command then starts with."""
    try:
        settings.zone  # noqa: B018 - validate
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"timezone {settings.timezone!r} is not a known time zone") from None
    try:
        settings.end_of_day_time  # noqa: B018 - validate
    except ValueError:
        raise ConfigError(f"end_of_day {settings.end_of_day!r} must be a time like 16:30") from None
    if settings.smtp_security.lower() not in SMTP_SECURITY:
        raise ConfigError(
            f"smtp_security {settings.smtp_security!r} must be one of {', '.join(SMTP_SECURITY)}"
        )
    if not 0 < settings.smtp_port < 65536:
        raise ConfigError(f"smtp_port {settings.smtp_port} is not a port number")


def _check_database_url(value: str) -> None:
    """A URL of a database the kiosk opens (SQLite or PostgreSQL), or ConfigError."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    example = "e.g. postgresql://kiosk@dbhost/kiosk or sqlite:////srv/kiosk/kiosk.sqlite3"
    try:
        backend = make_url(value).get_backend_name()
    except ArgumentError:
        raise ConfigError(f"database_url is not a database URL ({example})") from None
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"database_url is a {backend} database's URL: the kiosk opens SQLite or PostgreSQL "
            f"({example})"
        )


# --- writing the TOML file (kiosk config set, kiosk setup) -------------------------------------


def canonical_timezone(name: str) -> str:
    """``name`` as zoneinfo spells it (``europe/london`` -> ``Europe/London``); as given when
    it matches no known zone, or more than one."""
    from zoneinfo import available_timezones

    name = name.strip()
    try:
        ZoneInfo(name)
        return name  # the usual case: no need to list every zone
    except (ZoneInfoNotFoundError, ValueError):
        pass
    matches = [zone for zone in available_timezones() if zone.lower() == name.lower()]
    return matches[0] if len(matches) == 1 else name


# The settings notices are sent to: each exactly one bare e-mail address (smtp_from is the
# sender, where a display name is the usual thing: ``sender_problem``).
RECIPIENT_SETTINGS = ("office_email", "head_email", "anchor_email")


# Settings shown to people as they are written (the office's number: on the home screen and
# in every e-mail).
SHOWN_SETTINGS = frozenset({"school_name", "kiosk_name", "office_phone"})


def check_text(key: str, value: Any, origin: str = "", *, addresses: bool = True) -> None:
    """ConfigError when ``value`` of ``key`` is text no setting may hold: a control character
    (a line break, ESC) in any; in a setting shown to people (``SHOWN_SETTINGS``) a bidi
    override or an invisible character, which reads as other text; with ``addresses``, in a
    recipient anything but one bare e-mail address, and in the sender anything but one
    address after plain words. The one rule for every way a setting comes in: ``kiosk
    config set``, ``kiosk setup``, the config file and the environment (``origin`` names
    where it came from)."""
    if not isinstance(value, str):
        return
    where = f"{key} ({origin})" if origin else key
    if not origin:
        again = ""
    elif origin.startswith("$"):
        again = f": correct {origin} (it wins over the config file)"
    else:
        again = f": correct it with `kiosk config set {key} ...`"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ConfigError(f"{where} must be one line of text, without control characters{again}")
    found = unsafe_characters(value) if key in SHOWN_SETTINGS else []
    if found:
        # Shown to everyone (home screen, console, e-mails, the register's kiosk column): a
        # bidi override or a zero-width character there reads as other text.
        raise ConfigError(
            f"{where} contains {', '.join(found)}: a character that is invisible or that "
            f"changes how text is shown; type it again{again}"
        )
    if not addresses:
        return
    problem = email_problem(value) if key in RECIPIENT_SETTINGS else None
    if problem:
        raise ConfigError(not_an_email(where, value, problem) + again)
    problem = sender_problem(value) if key == "smtp_from" else None
    if problem:
        raise ConfigError(
            f"{where} {value!r} is not a sender such as office@school.example or "
            f"'Hillside Office <office@school.example>': {problem}{again}"
        )


def check_value(key: str, raw: str) -> Any:
    """``raw`` as the value ``key`` takes; ConfigError saying why it cannot be."""
    setting = next((s for s in SETTINGS if s.key == key), None)
    if setting is None:
        raise ConfigError(
            f"there is no setting {key!r}; the settings are: {', '.join(s.key for s in SETTINGS)}"
        )
    value = _coerce(setting, raw, "the value given")
    check_text(key, value)
    if key == "timezone":
        value = canonical_timezone(value)
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"timezone {value!r} is not a known time zone (e.g. Europe/London)"
            ) from None
    elif key == "end_of_day":
        try:
            hours, _, minutes = value.replace(".", ":").partition(":")
            at = time(int(hours), int(minutes))
        except ValueError:
            raise ConfigError(f"end_of_day {value!r} must be a time like 16:30") from None
        if len(hours.strip()) == 1 and 1 <= at.hour <= 6:
            # As on the kiosk's forms: "4:30" is said for the afternoon, and written as
            # 04:30 the school day "ended" before dawn (the office's e-mail sent then).
            afternoon = at.replace(hour=at.hour + 12)
            raise ConfigError(
                f"end_of_day {value!r} could be {at:%H:%M} or {afternoon:%H:%M}: type "
                f"{afternoon:%H:%M} for the afternoon ({at:%H:%M} for the early morning)"
            )
        value = at.strftime("%H:%M")  # 9:05 -> 09:05
    elif key == "database_url":
        _check_database_url(value)
    # Checked as every command checks its settings when it starts: `kiosk config set
    # smtp_security ssl` (or a port of 99999) was written, and every command, the kiosk at
    # its next start among them, then stopped over it.
    _check_settings(Settings(**{key: value}))
    return value


def _toml_value(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def write_setting(key: str, raw: str, path: Path | None = None) -> tuple[Path, Any]:
    """Set ``key`` in the TOML config file (created where missing), keeping its other lines
    and comments. Returns the file and the value written. ConfigError when it cannot be."""
    import re
    import tomllib

    value = check_value(key, raw)
    target = path or config_file()
    text = target.read_text(encoding="utf-8") if target.exists() else ""
    if text:
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{target} is not valid TOML ({exc}): fix it first") from None
    line = f"{key} = {_toml_value(value)}"
    pattern = re.compile(rf"^[ \t]*{re.escape(key)}[ \t]*=.*$", re.MULTILINE)
    if pattern.search(text):
        new = pattern.sub(lambda _m: line, text, count=1)
    else:
        header = "" if text else "# Staff Room Kiosk settings (kiosk config set KEY VALUE).\n"
        new = text + ("" if not text or text.endswith("\n") else "\n") + header + line + "\n"
    if tomllib.loads(new).get(key) != value:  # never write a file that says something else
        raise ConfigError(f"{target}: {key} could not be written safely; edit the file by hand")
    # The file may hold a password (the database URL's, the mail server's): only the kiosk's
    # user may read it, as the school key. A folder made here is the user's alone too.
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(new)
    tmp.replace(target)
    return target, value


def shown_setting(key: str, value: Any) -> str:
    """``value`` of ``key`` as the command line may print it: a secret setting as "(set)", a
    database URL without its password."""
    setting = next((s for s in SETTINGS if s.key == key), None)
    if setting is not None and setting.secret:
        return "(set)" if value else "(not set)"
    if key == "database_url" and isinstance(value, str):
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            return repr(url_without_secrets(make_url(value)).render_as_string(hide_password=True))
        except ArgumentError:
            return "(not a database URL)"
    return repr(value)


def url_without_secrets(parsed: URL) -> URL:
    """``parsed`` with every password in its query string masked as ``***``. libpq takes
    ``password`` and ``sslpassword`` there as well as before the ``@``, and SQLAlchemy's
    ``hide_password`` masks only the one before the ``@``: a URL given as
    ``postgresql://kiosk@host/db?password=...`` was printed whole (verify's ``Database:``
    line, ``kiosk db upgrade``, ``kiosk config``) and kept in the witness file."""
    secret = {k for k in parsed.query if "password" in k.lower() or "passwd" in k.lower()}
    if not secret:
        return parsed
    return parsed.update_query_dict({k: "***" for k in secret})

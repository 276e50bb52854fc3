"""The ``kiosk`` command (also ``python -m kiosk``): runs the app; admin subcommands.

``kiosk`` alone starts the kiosk; ``kiosk --demo`` starts it on the demo school. Every
other command does one job and exits: 0 on success, 1 with a one-line message on stderr
when it cannot (argparse's own usage errors exit 2). Commands that touch the database
bring its schema to the newest revision first and refuse a database that a newer kiosk
has upgraded. Heavy modules (SQLAlchemy, Textual, Pillow) are imported only by the
commands that need them, so the kiosk's first frame is not kept waiting.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from kiosk import __version__, cli_setup
from kiosk.cli_args import (
    ADMIN_HELP,
    STDIN_CSV_HELP,
    add_anchor,
    add_file,
    add_sign_in,
    add_skip_invalid,
    add_yes,
    command,
    subcommands,
)
from kiosk.config import ConfigError, Settings, load_settings, url_without_secrets
from kiosk.domain.errors import KioskError
from kiosk.domain.text import display_text, field_value, terminal_text, text_width

if TYPE_CHECKING:
    import argparse

    from kiosk.services.app import Services
    from kiosk.services.views import ImportReport

    Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A failure to report on one line, with the exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


# --- the parser -------------------------------------------------------------------------------


def _date(text: str) -> date:
    """A date as the screens take it: 05/12/2026 (day first), 2026-12-05, 5 Dec 2026..."""
    import argparse
    from datetime import datetime

    from kiosk.domain.dates import parse_date

    try:
        zone = load_settings().zone
    except ConfigError:
        zone = None
    try:
        return parse_date(text, today=datetime.now(zone).date())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="Staff Room Kiosk: the school's Acceptable Use Policy register. "
        "With no command, starts the kiosk.",
        epilog="Each command has its own help: kiosk COMMAND --help.",
    )
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="use the demo school (its own SQLite file, built on first use) instead of the "
        "real database; alone, starts the kiosk on it",
    )
    parser.set_defaults(handler=_cmd_run_app)
    sub = subcommands(parser, required=False)

    db = sub.add_parser("db", help="the database schema", description="The database schema.")
    command(
        subcommands(db),
        "upgrade",
        _cmd_db_upgrade,
        help="bring the database schema to the newest revision",
        description="Create the database where it is missing and bring its schema to the "
        "newest revision. Refuses a database upgraded by a newer kiosk.",
    )

    staff = sub.add_parser("staff", help="the staff list", description="The staff list.")
    staff_sub = subcommands(staff)
    imp = command(
        staff_sub,
        "import",
        _cmd_staff_import,
        help="add or update staff from a CSV file",
        description="Add or update staff from a CSV file with a header row. Required columns: "
        "code,name; optional: email,line_manager,roles (roles separated by ';': slt, "
        "breakfast_club_lead, admin, laptop_user). A column the file does not have leaves "
        "that field as it is for the people already listed; an empty cell in a column the "
        "file has clears it. One transaction: if a row is invalid, "
        "nothing is imported unless --skip-invalid is given. Importing the same file again "
        "changes nothing.",
    )
    add_file(imp, STDIN_CSV_HELP, metavar="FILE.csv")
    add_skip_invalid(imp)
    imp.add_argument(
        "--retire-missing",
        action="store_true",
        help="retire the staff who are not in the file (not those with a device off site, "
        "unless --force)",
    )
    imp.add_argument(
        "--force",
        action="store_true",
        help="with --retire-missing: retire them even with a device off site, or when "
        "they are more than a quarter of the staff",
    )
    add_sign_in(imp)
    ls = command(
        staff_sub, "list", _cmd_staff_list, help="list the staff", description="List the staff."
    )
    ls.add_argument("--all", action="store_true", help="include staff who have left")
    cli_setup.add_staff_retire(staff_sub)

    devices = sub.add_parser(
        "devices", help="laptops and work phones", description="Laptops and work phones."
    )
    dev_sub = subcommands(devices)
    dimp = command(
        dev_sub,
        "import",
        _cmd_devices_import,
        help="add or update devices from a CSV file",
        description="Add or update devices from a CSV file with a header row: tag,kind"
        "[,description], kind being laptop, work_phone or a kind the school added (kiosk "
        "devices kinds). Without a description column, descriptions are kept as they are "
        "(an empty cell clears one). One transaction: if a row is "
        "invalid, nothing is imported unless --skip-invalid is given.",
    )
    add_file(dimp, STDIN_CSV_HELP, metavar="FILE.csv")
    add_skip_invalid(dimp)
    add_sign_in(dimp)
    add = command(
        dev_sub,
        "add",
        _cmd_devices_add,
        help="add one device",
        description="Add one laptop or work phone.",
    )
    add.add_argument("tag", metavar="TAG", help="the asset tag on its label, e.g. LAP-016")
    add.add_argument(
        "--kind", required=True, help="laptop, work_phone or a kind the school added (kinds)"
    )
    add.add_argument("--description", default="", help="e.g. 'Dell Latitude, Year 3'")
    add_sign_in(add)
    dls = command(
        dev_sub,
        "list",
        _cmd_devices_list,
        help="list devices and where they are",
        description="List the devices, with who has each one off site now.",
    )
    dls.add_argument("--all", action="store_true", help="include retired devices")
    cli_setup.add_device_kind_commands(dev_sub)

    policy = sub.add_parser("policy", help="policies", description="Policies.")
    pol_sub = subcommands(policy)
    pub = command(
        pol_sub,
        "publish",
        _cmd_policy_publish,
        help="publish a new policy or a new version of one",
        description="Publish a policy text (UTF-8 text or Markdown). A required policy must be "
        "acknowledged before a laptop or work phone goes off site; publishing a new version "
        "asks everyone to acknowledge it again.",
    )
    add_file(pub, "the policy text")
    pub.add_argument("--title", required=True, help='e.g. "LA Acceptable Use Policy"')
    pub.add_argument("--version", required=True, dest="policy_version", help='e.g. "2025"')
    req = pub.add_mutually_exclusive_group()
    req.add_argument(
        "--required",
        dest="required",
        action="store_true",
        default=True,
        help="acknowledgement needed before devices go off site (the default)",
    )
    req.add_argument(
        "--not-required",
        dest="required",
        action="store_false",
        help="for information: staff may acknowledge it, nothing waits for it",
    )
    add_sign_in(pub)
    command(
        pol_sub,
        "list",
        _cmd_policy_list,
        help="list every policy version",
        description="List every policy version.",
    )

    reg = command(
        sub,
        "register",
        _cmd_register,
        help="the register of one day (or several) as a table or CSV",
        description="Print the register (every event recorded) of a day in the school's time "
        "zone, today by default, or of the days --from ... --to inclusive.",
    )
    reg.add_argument(
        "--date", type=_date, help="the day, e.g. 05/12/2026 or 2026-12-05 (default: today)"
    )
    reg.add_argument("--from", dest="first", type=_date, metavar="DATE", help="first day")
    reg.add_argument("--to", dest="last", type=_date, metavar="DATE", help="last day")
    reg.add_argument(
        "--csv",
        metavar="FILE",
        help="write CSV (spreadsheet-safe) to FILE, or to standard output with -",
    )
    reg.add_argument(
        "--replace", action="store_true", help="with --csv: write over FILE if it exists"
    )
    reg.set_defaults(parser=reg)

    from kiosk.services.label_stock import DEFAULT_STOCK, STOCKS

    stocks = "; ".join(f"{s.name}: {s.description}" for s in STOCKS.values())
    lab = command(
        sub,
        "labels",
        _cmd_labels,
        help="print QR labels for devices or staff badges",
        description="Write QR labels for every active device or member of staff, or for the "
        "codes given with --only, on a label stock: an A4 sheet or a label printer's roll. "
        "The format follows the file name: .png (300 dpi; one file per page), .svg (one "
        "file per page) or .pdf (one file, a page per sheet or per label on a roll, at "
        f"the stock's size). Stocks: {stocks}.",
    )
    which = lab.add_mutually_exclusive_group()
    which.add_argument("--staff", action="store_true", help="staff badges")
    which.add_argument("--devices", action="store_true", help="device labels")
    lab.add_argument(
        "--only",
        metavar="CODES",
        help="only these staff codes or asset tags, separated by commas, e.g. LAP-014,T103",
    )
    lab.add_argument(
        "--stock",
        default=DEFAULT_STOCK,
        metavar="STOCK",
        type=str.lower,
        choices=[name.lower() for name in STOCKS],
        help=f"the label stock (default {DEFAULT_STOCK}): " + ", ".join(STOCKS),
    )
    lab.add_argument("--out", required=True, metavar="FILE", help="labels.png, .svg or .pdf")
    lab.add_argument(
        "--replace", action="store_true", help="write over FILE (or its pages) if it exists"
    )

    admin = command(
        sub,
        "admin",
        _cmd_admin_console,
        help="the admin console, or admin set-pin",
        description="With no command, opens the admin console (on the office machine).",
    )
    _add_serve_options(admin)
    pin = command(
        subcommands(admin, required=False),
        "set-pin",
        _cmd_admin_set_pin,
        help="set or change the admin PIN",
        description="Set the admin PIN (at least 6 digits), as an admin (--admin CODE, or asked). "
        "Once a PIN is set, changing it needs the current one. On a terminal the PINs are "
        "asked without echo (the new one twice); otherwise standard input gives one line per "
        "PIN: the current PIN first (when one is set), then the new one. The first PIN creates "
        "the school key on this machine: copy it to every kiosk with kiosk secret export.",
    )
    pin.add_argument("--admin", metavar="CODE", help=ADMIN_HELP)

    sec = sub.add_parser(
        "secret",
        help="the school key every kiosk of the school needs (export, import)",
        description="The school key: a secret file on each kiosk (never in the database) that "
        "the admin PIN is checked with. One PIN works on every kiosk holding the same key. "
        "Export it on the machine where the PIN was first set, import it on each other kiosk.",
    )
    sec_sub = subcommands(sec)
    sexp = command(
        sec_sub,
        "export",
        _cmd_secret_export,
        help="print the school key (or write it to a new file)",
        description="Print the school key as a few lines of text with a check value (to print "
        "and keep in the office safe, or to copy to a kiosk). Treat it like a master key.",
    )
    sexp.add_argument("--out", metavar="FILE", help="write to FILE (a new file, mode 0600)")
    simp = command(
        sec_sub,
        "import",
        _cmd_secret_import,
        help="install the school key on this kiosk",
        description="Install the school key from FILE (written by kiosk secret export, or "
        "typed in from its printout), or - for standard input.",
    )
    add_file(simp, "the exported key, or - for stdin")
    command(
        sec_sub,
        "check",
        _cmd_secret_check,
        help="show where this kiosk's key is and its check value",
        description="Show where this kiosk's school key is and its check value (not the key): "
        "two kiosks with the same check value hold the same key.",
    )

    command(
        sub,
        "demo",
        _cmd_demo,
        help="create or refresh the demo school, then exit",
        description="Build the demo school from scratch in its own SQLite file in the user "
        "data folder (never the real database), print where it is and its admin PIN.",
    )

    cfg = command(
        sub,
        "config",
        _cmd_config,
        help="show the settings in force and where each comes from",
        description="Show each setting, its value and where it came from: an environment "
        "variable, the config file, or the default.",
    )
    cli_setup.add_config_set(cfg)
    _add_reliability_commands(sub)
    cli_setup.add_school_commands(sub)
    _add_reach_commands(sub)
    return parser


# What ``build_parser().parse_args`` gives for the arguments that start the kiosk app itself
# (``kiosk``, ``kiosk --demo``): taken as they are, without importing argparse and building
# every command's parser before the kiosk's first frame (tests/test_cli.py checks they agree).
_APP_ARGUMENTS = {(): False, ("--demo",): True}


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    arguments = tuple(sys.argv[1:] if argv is None else argv)
    demo = _APP_ARGUMENTS.get(arguments)
    if demo is None:
        return build_parser().parse_args(arguments)
    from types import SimpleNamespace

    return cast("argparse.Namespace", SimpleNamespace(demo=demo, handler=_cmd_run_app))


class _TerminalSafe:
    """Standard output or error as the commands write to it: every string through
    ``terminal_text``, so a name holding ESC (ANSI colours, OSC 52 clipboard, OSC 0 title) or
    a bidi override never reaches the terminal, whatever the command prints. The listings
    already format data with ``display_text``; this is the net under them."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(terminal_text(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def _terminal_safe_streams() -> tuple[TextIO, TextIO]:
    """Standard output and error through ``_TerminalSafe`` from now on; the streams as they
    were, to put back."""
    out, err = sys.stdout, sys.stderr
    sys.stdout = cast("TextIO", _TerminalSafe(out)) if out is not None else out
    sys.stderr = cast("TextIO", _TerminalSafe(err)) if err is not None else err
    return out, err


def main(argv: Sequence[str] | None = None) -> int:
    # The arguments are read through the net too: argparse quotes an argument it does not
    # know as it was given ("unrecognized arguments: ..."), ESC and overrides included.
    out, err = _terminal_safe_streams()
    try:
        args = parse_arguments(argv)
    finally:
        sys.stdout, sys.stderr = out, err
    handler: Handler = args.handler
    if handler in (_cmd_run_app, _cmd_admin_console):
        return _main(args, handler)  # the screens draw on the terminal themselves
    import logging

    # The services log warnings (a failed read, a lock): on the command line the sentence on
    # stderr says it; Python must not print the raw log record under it.
    logger = logging.getLogger("kiosk")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    out, err = _terminal_safe_streams()
    try:
        return _main(args, handler)
    finally:
        sys.stdout, sys.stderr = out, err


def _main(args: argparse.Namespace, handler: Handler) -> int:
    try:
        if getattr(args, "pin_stdin", False):
            if getattr(args, "file", None) == "-":
                raise CliError("--pin-stdin reads standard input: give the data as a file.")
            args.pin = _stdin_line()
            if not args.pin:
                raise CliError("--pin-stdin: the first line of standard input is empty.")
        return handler(args)
    except CliError as exc:
        return _fail(str(exc), exc.status)
    except ConfigError as exc:
        return _fail(f"configuration: {exc}")
    except KioskError as exc:
        return _fail(exc.message)
    except BrokenPipeError:
        # The reader went away (``kiosk register | head``): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:
        return _fail(_os_message(exc))
    except KeyboardInterrupt:
        return _fail("interrupted; nothing more was done.", 130)
    except EOFError:
        return _fail("standard input ended before the answer; nothing more was done.")
    except Exception as exc:
        if os.environ.get("KIOSK_DEBUG"):
            raise
        import logging

        logging.getLogger("kiosk.cli").exception("unexpected error")
        return _fail(
            f"something unexpected went wrong ({type(exc).__name__}: {exc}); nothing more was "
            "done. Run it again with KIOSK_DEBUG=1 to see the details."
        )


def _fail(message: str, status: int = 1) -> int:
    # terminal_text here too: the kiosk and the console are not run under _TerminalSafe (they
    # draw on the terminal), and a refusal before they start quotes their settings.
    print(f"kiosk: {terminal_text(message)}", file=sys.stderr)
    return status


def _os_message(exc: OSError) -> str:
    what = exc.strerror or str(exc)
    return f"{exc.filename}: {what}" if exc.filename else what


# --- shared helpers ---------------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> Settings:
    """The settings in force; with --demo, the demo school's (built where missing)."""
    if not getattr(args, "demo", False):
        return load_settings()
    settings = load_settings(demo=True)
    from kiosk.services.demo import demo_exists, ensure_demo

    if not demo_exists(settings):
        print("Building the demo school (first use)...", file=sys.stderr)
        ensure_demo(settings)
    return settings


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return url_without_secrets(make_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def _open(args: argparse.Namespace, *, create: bool = True) -> Services:
    """Services on the configured database, schema brought to head (or refused). A register
    that does not exist is made only by the commands that start one (set-up, imports, adding,
    publishing, the PIN: ``create``); reading, checking or exporting one that is not there
    says so instead of making an empty one."""
    from sqlalchemy.exc import ArgumentError

    from kiosk.services.app import Services

    settings = _settings(args)
    try:
        return Services.open(settings, create=create)
    except ArgumentError as exc:
        raise CliError(
            f"the database URL {_safe_url(settings.database_url)} cannot be used ({exc}). "
            "Check KIOSK_DATABASE_URL."
        ) from None
    except ValueError as exc:  # e.g. an in-memory SQLite URL
        raise CliError(f"the database URL cannot be used: {exc}.") from None


@contextlib.contextmanager
def _services(args: argparse.Namespace, *, create: bool = True) -> Iterator[Services]:
    """``_open``'s services for one command, closed when it is done."""
    services = _open(args, create=create)
    try:
        yield services
    finally:
        services.close()


@contextlib.contextmanager
def _signed_in(
    args: argparse.Namespace, *, create: bool = True, setup_ok: bool = True
) -> Iterator[tuple[Services, str | None]]:
    """The services and the admin the command acts for (``_acting_admin``): what every
    command that changes the register starts with."""
    with _services(args, create=create) as services:
        yield services, _acting_admin(args, services, setup_ok=setup_ok)


def _read_bytes(name: str) -> bytes:
    """The bytes of a file given to an import, `policy publish` or `secret import`: a regular
    file (or standard input) of at most IMPORT_FILE_LIMIT bytes. A device (/dev/zero), a pipe
    or a huge file is refused in a sentence, without reading it to the end (reading it grew
    for ever, or waited for ever)."""
    from kiosk.services.secret import IMPORT_FILE_LIMIT, FileRefused, read_small_file

    if name == "-":
        data = sys.stdin.buffer.read(IMPORT_FILE_LIMIT + 1)
        if len(data) > IMPORT_FILE_LIMIT:
            raise CliError(f"standard input is larger than {IMPORT_FILE_LIMIT:,} bytes.")
        return data
    path = Path(name)
    if path.is_dir():
        raise CliError(f"{name} is a folder, not a file.")
    try:
        return read_small_file(path, IMPORT_FILE_LIMIT)
    except FileRefused as exc:
        raise CliError(f"{name} cannot be read ({exc}); nothing was changed.") from None


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Rows as aligned columns (the last one unpadded)."""
    cells = [[display_text(v) for v in row] for row in rows]  # data is text, one line each
    # Padded by the columns each cell takes on the terminal (a CJK name, an emoji or a
    # combining mark is not one column a character), so each column starts under its heading.
    widths = [text_width(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], text_width(value))

    def line(values: Sequence[str]) -> str:
        padded = [v + " " * (widths[i] - text_width(v)) for i, v in enumerate(values[:-1])]
        return "  ".join([*padded, values[-1]]).rstrip()

    return "\n".join([line(list(headers)), *(line(row) for row in cells)])


def _print_import(report: ImportReport, what: str, skip_invalid: bool) -> int:
    for problem in report.problems:
        print(f"line {problem.line}: {display_text(problem.reason)}", file=sys.stderr)
    count = len(report.problems)
    plural = "s" if count != 1 else ""
    if not report.imported:
        raise CliError(
            f"nothing imported: {count} invalid line{plural} (listed above). Fix the file, "
            "or use --skip-invalid to import the other rows."
        )
    print(
        f"{what.capitalize()} imported: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged."
    )
    if report.retired:
        print(f"Retired (not in the file): {', '.join(report.retired)}.")
    for warning in report.warnings:
        print(f"Warning: {warning}.", file=sys.stderr)
    if count:
        print(f"Skipped {count} invalid line{plural} (listed above).")
        if report.added + report.updated + report.unchanged == 0:
            raise CliError("nothing imported: every row was invalid.")
    return 0


# --- acting as an admin -------------------------------------------------------------------------


def _stdin_line() -> str:
    stream = sys.stdin
    if stream is None:
        return ""
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        return bytes(buffer.readline()).decode("utf-8", "replace").strip()
    return stream.readline().strip()


def _on_a_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _acting_admin(
    args: argparse.Namespace, services: Services, *, setup_ok: bool = True
) -> str | None:
    """The admin this command acts for, signed in with the PIN (``services.admin.sign_in``).

    None only while nobody can sign in (no admin PIN set, or no admin on the staff list yet)
    and ``setup_ok``: a new school's first imports.
    """
    if not services.admin.can_anyone_sign_in():
        if not setup_ok:
            raise CliError(
                "no admin can sign in yet (the school needs an admin PIN and an admin on the "
                "staff list): set it up first with `kiosk setup`."
            )
        return None
    code = (getattr(args, "admin", None) or "").strip()
    if not code and _on_a_terminal():
        code = input("Your staff code (an admin's): ").strip()
    pin = getattr(args, "pin", None)
    if pin is None and _on_a_terminal():
        import getpass

        pin = getpass.getpass("Admin PIN: ")
    if not code or not pin:
        raise CliError(
            "this command changes the register: sign in as an admin with --admin CODE and "
            "the PIN (asked at a terminal, or --pin-stdin to read it from standard input)."
        )
    from kiosk.domain.scan import parse_scan

    signed = services.admin.sign_in(pin, parse_scan(code).code)
    print(f"Signed in as {display_text(signed.admin.name)} ({signed.admin.code}).", file=sys.stderr)
    return signed.admin.code


# --- commands ---------------------------------------------------------------------------------


def _cmd_run_app(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        from kiosk.ui.app import KioskApp  # type: ignore[import-not-found, unused-ignore]
    except ImportError as exc:
        raise CliError(
            f"the kiosk screens cannot be started: {exc}. The admin commands work: "
            "see kiosk --help."
        ) from None
    app = KioskApp(settings=settings)
    app.run()
    return int(app.return_code or 0)


def _cmd_admin_console(args: argparse.Namespace) -> int:
    if getattr(args, "serve", False):
        return _serve_admin(args)
    settings = _settings(args)
    try:
        from kiosk.ui.admin.app import AdminApp  # type: ignore[import-not-found, unused-ignore]
    except ImportError as exc:
        raise CliError(
            f"the admin console cannot be started: {exc}. The admin commands work: "
            "see kiosk --help."
        ) from None
    app = AdminApp(settings)
    app.run()
    return int(app.return_code or 0)


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from kiosk.db import migrate
    from kiosk.services.app import open_engine, prepare_database

    settings = _settings(args)
    where = _safe_url(settings.database_url)
    engine = open_engine(settings.database_url)  # or a sentence saying what is wrong
    try:
        before: str | None = None
        database = engine.url.database
        if engine.url.get_backend_name() != "sqlite" or (database and Path(database).exists()):
            # Where it cannot be read, prepare_database says so clearly just below.
            with contextlib.suppress(SQLAlchemyError):
                before = migrate.current_revision(engine)
        prepare_database(engine)  # upgrades, or raises SchemaTooNew / DatabaseUnavailable
        try:
            after = migrate.current_revision(engine)
        except SQLAlchemyError:
            raise CliError("the database stopped answering after the upgrade.") from None
    finally:
        engine.dispose()
    if before == after:
        print(f"Database {where} is already at revision {after}, the newest this kiosk knows.")
    else:
        print(f"Database {where} upgraded from {before or 'empty'} to revision {after}.")
    return 0


def _cmd_staff_import(args: argparse.Namespace) -> int:
    data = _read_bytes(args.file)
    with _signed_in(args) as (services, admin):
        report = services.people.import_staff_csv(
            data,
            skip_invalid=args.skip_invalid,
            retire_missing=args.retire_missing,
            force=args.force,
            admin_code=admin,
        )
    return _print_import(report, "staff", args.skip_invalid)


def _cmd_devices_import(args: argparse.Namespace) -> int:
    data = _read_bytes(args.file)
    with _signed_in(args) as (services, admin):
        report = services.people.import_devices_csv(
            data, skip_invalid=args.skip_invalid, admin_code=admin
        )
    return _print_import(report, "devices", args.skip_invalid)


def _cmd_staff_list(args: argparse.Namespace) -> int:
    with _services(args, create=False) as services:
        people = services.people.list_staff(include_retired=args.all)
    if not people:
        print("No staff yet: import them with `kiosk staff import FILE.csv`.")
        return 0
    names = {p.code: p.name for p in people}  # a line manager is kept as a staff code
    rows = [
        (
            p.code,
            p.name + (" (left)" if p.retired else ""),
            ", ".join(sorted(p.roles)),
            f"{names[p.line_manager]} ({p.line_manager})"
            if p.line_manager in names
            else p.line_manager,
            p.email,
        )
        for p in people
    ]
    print(table(("CODE", "NAME", "ROLES", "LINE MANAGER", "EMAIL"), rows))
    print(f"\n{len(people)} member{'s' if len(people) != 1 else ''} of staff.")
    return 0


def _cmd_devices_add(args: argparse.Namespace) -> int:
    with _signed_in(args) as (services, admin):
        device = services.people.add_device(args.tag, args.kind, args.description, admin_code=admin)
    described = f" ({display_text(device.description)})" if device.description else ""
    print(f"Added {device.kind_label.lower()} {device.tag}{described}.")
    return 0


def _cmd_devices_list(args: argparse.Namespace) -> int:
    from kiosk.domain.timeutil import format_local

    with _services(args, create=False) as services:
        devices = services.people.list_devices(include_retired=args.all)
        out = {item.device.tag: item for item in services.devices.offsite_now()}
    if not devices:
        print("No devices yet: add them with `kiosk devices add` or `kiosk devices import`.")
        return 0
    zone = services.settings.zone
    rows = []
    for d in devices:
        item = out.get(d.tag)
        if d.retired:
            where = "retired"
        elif item is None:
            where = "in school"
        else:
            due = format_local(item.expected_return, zone, "%a %d %b %H:%M")
            where = f"{'OVERDUE' if item.overdue else 'off site'}: {item.staff.name}, due {due}"
        rows.append((d.tag, d.kind_label, d.description, where))
    print(table(("TAG", "KIND", "DESCRIPTION", "WHERE"), rows))
    overdue = sum(1 for item in out.values() if item.overdue)
    plural = "s" if len(devices) != 1 else ""
    print(f"\n{len(devices)} device{plural}; {len(out)} off site now, {overdue} overdue.")
    return 0


def _cmd_policy_publish(args: argparse.Namespace) -> int:
    raw = _read_bytes(args.file)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CliError(f"{args.file} is not UTF-8 text; save it as UTF-8 and try again.") from None
    with _signed_in(args) as (services, admin):
        policy = services.policies.publish(
            args.title, args.policy_version, text, required=args.required, published_by=admin
        )
    print(
        f"Published {display_text(policy.title)} ({display_text(policy.version)}), "
        f"SHA-256 {policy.sha256}."
    )
    if policy.required:
        print("Staff must acknowledge it before a laptop or work phone goes off site.")
    else:
        print("Not required: nothing waits for its acknowledgement.")
    return 0


def _cmd_policy_list(args: argparse.Namespace) -> int:
    from kiosk.domain.timeutil import format_local

    with _services(args, create=False) as services:
        versions = services.policies.all_versions()
        current = {p.id for p in services.policies.current()}
    zone = services.settings.zone
    rows = [
        (
            p.title,
            p.version,
            "yes" if p.required else "no",
            format_local(p.published_at, zone, "%Y-%m-%d %H:%M"),
            "current" if p.id in current else "replaced",
            p.sha256[:16],
        )
        for p in versions
    ]
    print(table(("TITLE", "VERSION", "REQUIRED", "PUBLISHED", "STATUS", "SHA-256"), rows))
    return 0


def _cmd_register(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    if args.date and (args.first or args.last):
        parser.error("give either --date or --from/--to, not both")
    if bool(args.first) != bool(args.last):
        parser.error("--from and --to go together")
    if args.first and args.last < args.first:
        parser.error("--to is before --from")
    if args.replace and not args.csv:
        parser.error("--replace goes with --csv FILE")
    with _services(args, create=False) as services:
        from kiosk.domain.timeutil import local_date

        first = args.first or args.date or local_date(services.ctx.clock(), services.settings.zone)
        last = args.last or first
        if args.csv:
            return _register_csv(services, args.csv, first, last, replace=args.replace)
        return _register_table(services, first, last)


def _register_csv(
    services: Services, target: str, first: date, last: date, *, replace: bool = False
) -> int:
    if target == "-":
        services.register.export_csv(sys.stdout, first, last)
        return 0
    path = Path(target)
    if path.is_dir():
        raise CliError(f"{target} is a folder: give a file name for the CSV.")
    if path.suffix.lower() != ".csv":
        # Written over whatever the name was: the register's own SQLite file, the key.
        raise CliError(f"{target} is not a .csv file name: give one, e.g. register.csv.")
    if path.is_symlink():
        # One planted where the admin writes would redirect the names elsewhere.
        raise CliError(f"{target} cannot be written (it is a symbolic link).")
    if path.exists() and not replace:
        # Any CSV the office keeps (the roster it imports, the calendar) was written over by
        # a day's register given its name: kept, as every other export keeps a file.
        raise CliError(
            f"{target} already exists: choose a new file name, or give --replace to write "
            "over it. Nothing was written."
        )
    # Names: personal data, 0600, in a new file renamed onto the old one (--replace) once
    # written whole (an old export keeps neither its mode nor half of its rows; a failure
    # leaves it as it was). A byte-order mark first, so Excel reads the file as UTF-8
    # (names with accents).
    from kiosk.services.wholefile import written_whole

    try:
        with written_whole(path, encoding="utf-8-sig") as out:
            count = services.register.export_csv(out, first, last)
    except OSError as exc:
        raise CliError(f"{target} cannot be written ({exc.strerror or exc}).") from None
    print(f"Wrote {count} event{'s' if count != 1 else ''} to {path}.", file=sys.stderr)
    return 0


def _register_table(services: Services, first: date, last: date, out: TextIO | None = None) -> int:
    from kiosk.domain.timeutil import format_local

    zone = services.settings.zone
    stream = out or sys.stdout
    rows = list(services.register.rows_between(first, last))
    one_day = first == last
    span = f"{first:%A %d %B %Y}" if one_day else f"{first:%a %d %b %Y} to {last:%a %d %b %Y}"
    if not rows:
        print(f"No events recorded on {span} ({services.settings.timezone}).", file=stream)
        return 0
    time_format = "%H:%M" if one_day else "%Y-%m-%d %H:%M"
    body = [
        (
            r.event_id,
            format_local(r.occurred_at, zone, time_format),  # 01:30 BST / GMT: told apart
            ("VOIDED " if r.voided else "") + r.what,
            f"{r.staff_name} ({r.staff_code})" if r.staff_code else "",
            r.item,
            r.recorded_by or "",
            r.detail
            + (f" [voided: {field_value(r.void_reason)}]" if r.voided and r.void_reason else ""),
        )
        for r in rows
    ]
    print(f"Register for {span} ({services.settings.timezone}): {len(rows)} events", file=stream)
    print(
        table(("ID", "TIME", "WHAT", "STAFF", "ITEM", "RECORDED BY", "DETAIL"), body), file=stream
    )
    return 0


def _cmd_labels(args: argparse.Namespace) -> int:
    from kiosk.services import labels
    from kiosk.services.label_stock import DEFAULT_STOCK

    if not (args.staff or args.devices or args.only):
        raise CliError("say which labels: --staff, --devices or --only CODES.", 2)
    out = Path(args.out)
    if out.suffix.lower() not in labels.FORMATS:
        raise CliError(f"choose a file ending in {', '.join(labels.FORMATS)} (not {out.name}).")
    if not out.parent.is_dir():
        raise CliError(f"the folder {out.parent} does not exist.")
    stock = labels.get_stock(args.stock)
    with _services(args, create=False) as services:
        if args.only:
            sheet = labels.chosen_labels(
                services.people,
                args.only.split(","),
                staff=not args.devices,
                devices=not args.staff,
            )
            what = "label"
        elif args.staff:
            sheet = labels.staff_labels(services.people)
            what = "staff badge"
        else:
            sheet = labels.device_labels(services.people)
            what = "device label"
    if not sheet:
        raise CliError(f"there are no active {'staff' if args.staff else 'devices'} to label.")
    try:
        written = labels.write_sheet(sheet, out, stock, replace=args.replace)
    except labels.SheetExists as exc:
        raise CliError(f"{exc} (give --replace to write over it)") from None
    pages = len(labels.pages(sheet, stock))
    print(
        f"{len(sheet)} {what}{'s' if len(sheet) != 1 else ''} on {pages} "
        f"page{'s' if pages != 1 else ''}"
        + ("" if stock.name == DEFAULT_STOCK else f" ({stock.description})")
        + ":"
    )
    for path in written:
        print(f"  {path}")
    return 0


def _read_new_pin() -> str:
    if _on_a_terminal():
        import getpass

        first = getpass.getpass("New admin PIN (at least 6 digits): ")
        second = getpass.getpass("The same PIN again: ")
        if first != second:
            raise CliError("the two PINs differ; the PIN was not changed.")
        return first
    line = _stdin_line()
    if not line:
        raise CliError("no PIN given: type it at a terminal, or send one line on stdin.")
    return line


def _cmd_admin_set_pin(args: argparse.Namespace) -> int:
    from kiosk.domain.scan import parse_scan
    from kiosk.services.admin import validate_pin

    with _services(args) as services:
        replacing = services.admin.is_pin_set()
        code = (args.admin or "").strip()
        if not code and _on_a_terminal():
            code = input("Your staff code (an admin's): ").strip()
        if not code:
            raise CliError(
                "say who sets the PIN: --admin CODE (your staff code; you must be an admin)."
            )
        code = parse_scan(code).code
        admin = services.admin.admin(code)  # before any PIN is asked
        current: str | None = None
        if replacing:
            if _on_a_terminal():
                import getpass

                current = getpass.getpass("Current admin PIN: ")
            else:
                current = _stdin_line()
            if not current:
                raise CliError("a PIN is already set: give the current PIN first.")
        pin = validate_pin(_read_new_pin())  # a bad new PIN uses up no attempt
        if current is not None:
            services.admin.sign_in(current, admin.code)  # a wrong PIN counts like any attempt
        services.admin.set_pin(pin, admin_code=admin.code, current_pin=current)
    print("Admin PIN set. Keep it safe: the admin console asks for it.")
    if not replacing:
        print(
            "This machine now holds the school key the PIN is checked with. Copy it to every "
            "other kiosk: `kiosk secret export --out FILE` here, `kiosk secret import FILE` there."
        )
    return 0


def _cmd_secret_export(args: argparse.Namespace) -> int:
    from kiosk.services import secret

    settings = _settings(args)
    text = secret.export_text(secret.school_key(settings), display_text(settings.school_name))
    if not args.out:
        sys.stdout.write(text)
        return 0
    fd = _new_file(Path(args.out))
    out = Path(args.out)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(text)
    print(f"Wrote the school key to {out} (only you can read it). Import it on each kiosk.")
    return 0


def _cmd_secret_import(args: argparse.Namespace) -> int:
    from kiosk.services import secret

    raw = _read_bytes(args.file)
    settings = _settings(args)
    key = secret.import_key(raw.decode("utf-8", "replace"), settings, where=f"{args.file}")
    print(
        f"School key installed in {secret.key_path(settings)} (check {secret.fingerprint(key)}). "
        "The admin PIN set on the other kiosks works here now."
    )
    return 0


def _cmd_secret_check(args: argparse.Namespace) -> int:
    from kiosk.services import secret

    settings = _settings(args)
    key = secret.school_key(settings)
    print(f"School key: {secret.key_path(settings)}")
    print(f"Check:      {secret.fingerprint(key)} (the same on every kiosk of the school)")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from kiosk.services.demo import build_demo

    settings = load_settings(demo=True)
    school = build_demo(settings)
    print(
        f"Demo school built in {school.seconds:.1f} s: {school.staff} staff, "
        f"{school.devices} devices, {school.events} events (the last two weeks)."
    )
    print(f"Database: {school.path} (separate from the real database)")
    print(f"Demo admin PIN: {school.admin_pin}")
    print("Start the kiosk on it with: kiosk --demo")
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    from kiosk.config import SETTINGS, config_file, data_dir, log_dir

    settings = _settings(args) if args.demo else load_settings()
    rows = []
    for setting in SETTINGS:
        value = getattr(settings, setting.key)
        if setting.key == "database_url":
            value = _safe_url(value)
        elif setting.secret and value:
            value = "(set, not shown)"
        rows.append((setting.key, value, settings.sources.get(setting.key, "default"), setting.env))
    print(table(("SETTING", "VALUE", "FROM", "ENVIRONMENT VARIABLE"), rows))
    path = config_file()
    print(f"\nConfig file: {path}{'' if path.exists() else ' (not present)'}")
    print(f"Data folder: {data_dir()}")
    print(f"Log folder:  {log_dir()}")
    print("An environment variable beats the config file, which beats the default.")
    return 0


# --- verify, backup, restore, export, purge (issue 6; services in integrity.py, backup.py) ----


def _add_reliability_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ver = command(
        sub,
        "verify",
        _cmd_verify,
        help="check the register's hash chain for tampering",
        description="Walk every event's hash chain: report events changed after they were "
        "recorded, and broken links (events removed, inserted or reordered). Exits 1 when the "
        "register does not verify. The admin console shows the result of the last check.",
    )
    add_anchor(
        ver,
        "an anchor written by `kiosk anchor`: the register must still hold its event, "
        "unchanged, at its position (repeatable)",
    )

    anc = command(
        sub,
        "anchor",
        _cmd_anchor,
        help="write the register's current head as a short text to keep off this machine",
        description="Record that an anchor is taken and print (or write to FILE) the newest "
        "event's id, position, hash and time and the school's name: a short text to print, "
        "e-mail or keep on another machine. `kiosk verify --anchor FILE` later proves the "
        "register still holds that event and everything before it, unchanged.",
    )
    anc.add_argument("--out", metavar="FILE", help="write to FILE (a new file)")
    add_sign_in(anc)
    anc.epilog = (
        "Taking an anchor changes nothing but is recorded; with --admin it is recorded as "
        "taken by that admin, who signs in with the PIN."
    )

    bak = command(
        sub,
        "backup",
        _cmd_backup,
        help="copy the register to a new file (SQLite) and verify the copy",
        description="Copy the SQLite database to FILE while kiosks keep recording (SQLite's "
        "online backup), then verify the copy's hash chain. On PostgreSQL, prints the pg_dump "
        "command to run instead.",
    )
    add_file(bak, "the new backup file (must not exist)")

    res = command(
        sub,
        "restore",
        _cmd_restore,
        help="replace the register with a backup whose hash chain verifies",
        description="Check FILE is a kiosk database no newer than this kiosk and that its hash "
        "chain verifies, keep a copy of the current database next to it, then replace the "
        "current database with FILE (SQLite). Stop the other kiosks first. On PostgreSQL, "
        "prints the pg_restore steps instead.",
    )
    add_file(res, "a file written by kiosk backup")
    add_yes(res)
    add_anchor(res, "the backup must hold this anchor's event unchanged (repeatable)")
    res.add_argument(
        "--drop-newer",
        action="store_true",
        help="drop the live register's events newer than the backup (needs --reason)",
    )
    res.add_argument("--reason", metavar="TEXT", help="why newer events are dropped (recorded)")
    add_sign_in(res)

    exp = command(
        sub,
        "export",
        _cmd_export,
        help="everything recorded about one member of staff (subject access request)",
        description="Write everything the register holds about one member of staff: their "
        "details and every event about them (events they recorded for colleagues are listed "
        "without the colleague's details). The export itself is recorded in the register.",
    )
    exp.add_argument("--staff", required=True, metavar="CODE", help="their staff code")
    exp.add_argument(
        "--out", metavar="FILE", help="write to FILE (a new file) instead of standard output"
    )
    exp.add_argument(
        "--format",
        choices=("csv", "json"),
        help="csv (spreadsheet-safe) or json; default: from the --out file name, else csv",
    )
    add_sign_in(exp)

    pur = command(
        sub,
        "purge",
        _cmd_purge,
        help="remove events older than the school's retention period, through a checkpoint",
        description="Remove the events recorded before DATE (the school's time zone), keeping "
        "at least a year, and any event that still defines who has what. A checkpoint event "
        "records how many were removed and the hash of the last one, so the register still "
        "verifies and nothing disappears silently.",
    )
    pur.add_argument(
        "--before",
        required=True,
        type=_date,
        metavar="DATE",
        help="e.g. 01/09/2025 or 2025-09-01 (not included)",
    )
    add_yes(pur)
    add_sign_in(pur)

    lists = sub.add_parser(
        "lists",
        help="the staff, device, store, policy and settings lists",
        description="The lists the register keeps (staff, devices, stores, policies, settings).",
    )
    put = command(
        subcommands(lists),
        "put-back",
        _cmd_lists_put_back,
        help="put list rows changed in the database back as the register recorded them",
        description="Put every list row changed, added or removed in the database itself (not "
        "through the kiosk: kiosk verify names it, and the office's next change to it is "
        'refused as "changed directly in the database") back as the register recorded it, '
        "each as a change recorded by you. A row added there and never recorded is left and "
        "named (people and devices are never removed). The changes made in the database stay "
        "in the register's history: verify still names them.",
    )
    add_yes(put)
    add_sign_in(put)


def _confirm(question: str, yes: bool) -> None:
    """On a terminal, ask first (scripts and cron jobs run without a terminal)."""
    if yes or sys.stdin is None or not sys.stdin.isatty():
        return
    answer = input(f"{question} Type yes to go on: ")
    if answer.strip().lower() != "yes":
        raise CliError("nothing was changed.")


def _anchors(args: argparse.Namespace) -> tuple[Any, ...]:
    from kiosk.services.integrity import read_anchor

    return tuple(read_anchor(name) for name in getattr(args, "anchor", None) or ())


def _new_file(out: Path) -> int:
    """A new, empty file at ``out``, opened for writing (mode 0600): never an existing file
    nor a symbolic link (a dangling one included: ``O_EXCL`` with ``O_NOFOLLOW``), never
    created through one. CliError, in a sentence, when it cannot be created."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        return os.open(out, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
    except FileExistsError:
        raise CliError(f"{out} already exists: choose a new file name.") from None
    except OSError as exc:
        if isinstance(exc, FileNotFoundError) and not out.parent.is_dir():
            raise CliError(f"the folder {out.parent} does not exist.") from None
        # /proc/self/x: "No such file or directory" in a folder that is there.
        raise CliError(f"{out} cannot be created ({exc.strerror or exc}).") from None


def _cmd_anchor(args: argparse.Namespace) -> int:
    if args.out is None:
        with _services(args, create=False) as services:
            admin = _acting_admin(args, services, setup_ok=False) if args.admin else None
            anchor = services.integrity.anchor(admin_code=admin)
        sys.stdout.write(anchor.to_text())
        return 0
    # The file first, then the event, then the text: "anchor taken" is recorded only when
    # the anchor has somewhere to go (it was recorded, and the console said an anchor was
    # taken, when a dangling symlink or an unwritable place then refused the file).
    out = Path(args.out)
    try:
        fd = _new_file(out)
    except CliError as exc:
        raise CliError(f"{exc} No anchor was taken.") from None
    try:
        with _services(args, create=False) as services:
            admin = _acting_admin(args, services, setup_ok=False) if args.admin else None
            anchor = services.integrity.anchor(admin_code=admin)
    except BaseException:
        # Nothing recorded: the empty file goes (it is this command's own, just created).
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(out)
        raise
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(anchor.to_text())
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(out)
        # Recorded: the anchor is printed here instead, so that it still leaves the machine.
        sys.stdout.write(anchor.to_text())
        raise CliError(
            f"the anchor (event {anchor.event_id}) was recorded as taken but could not be "
            f"written to {out} ({exc.strerror or exc}): it is printed above instead; keep "
            "it off this machine."
        ) from None
    print(f"Anchor written to {out} (event {anchor.event_id}). Keep it off this machine.")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    anchors = _anchors(args)
    with _services(args, create=False) as services:
        report = services.integrity.verify(anchors=anchors)
        database = services.integrity.checked_database()
    print(report.summary)
    print(f"Database:       {display_text(database)}")
    # The time the check took it to be: a clock set wrong (ahead, it hides events dated
    # ahead of the right time; back, it names them all) is seen here, if nowhere else.
    print(
        f"Clock:          {report.checked_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC by this "
        "machine's clock: if that is not the time now, the clock is wrong (events recorded "
        "here carry its time), and this check with it"
    )
    print(f"Events checked: {report.events_checked} in {report.seconds:.1f} s")
    print(f"Newest event:   {report.head_id if report.head_id is not None else '-'}")
    print(f"Head hash:      {report.head_hash}")
    if report.anchors_checked:
        print(f"Anchors:        {report.anchors_checked} checked")
    # (Where the key is, the code does not know: KIOSK_SCHOOL_KEY_FILE, removable media.)
    macs = "checked, with the school key" if report.macs_checked else None
    print(f"MACs:           {macs or 'NOT checked (no key)'}")
    for line in report.cannot_rule_out:
        print(f"Cannot rule out: {line}")
    for note in report.notes:
        print(f"Note: {display_text(note)}")
    for problem in report.problems[:200]:
        print(f"Problem: {problem}")
    if len(report.problems) > 200:
        print(f"... and {len(report.problems) - 200} more problem(s)")
    if report.ok:
        print("Take an anchor now and then (kiosk anchor --out FILE) and keep it off this machine.")
        return 0
    if report.mismatched:
        shown = ", ".join(str(i) for i in report.mismatched[:50])
        more = " ..." if report.mismatch_count > 50 else ""
        print(f"Changed after recording ({report.mismatch_count}): {shown}{more}")
    if report.broken_links:
        shown = ", ".join(str(i) for i in report.broken_links[:50])
        more = " ..." if report.broken_link_count > 50 else ""
        print(f"First broken link at event {report.first_broken_link}")
        print(f"Broken links ({report.broken_link_count}): {shown}{more}")
    if report.tail_problem:
        print(f"End of the register: {report.tail_problem}")
    return _fail("the register does not verify: keep this database as it is and tell the DPO.")


def _cmd_backup(args: argparse.Namespace) -> int:
    with _services(args, create=False) as services:
        report = services.backup.backup(args.file)
    print(report.summary)
    if not report.verify.ok:
        return _fail(
            f"the copy was made, but its register does not verify: {report.verify.summary}"
        )
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    with _signed_in(args, create=False, setup_ok=False) as (services, admin):
        _confirm(f"Replace the register with {args.file}?", args.yes)
        report = services.backup.restore(
            args.file,
            anchors=_anchors(args),
            drop_newer=args.drop_newer,
            reason=args.reason,
            admin_code=admin,
        )
    print(report.summary)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    fmt = args.format or ("json" if str(args.out or "").lower().endswith(".json") else "csv")
    out = Path(args.out) if args.out else None
    if out is None:
        with _signed_in(args, create=False, setup_ok=False) as (services, admin):
            export = services.backup.export_staff(args.staff, fmt, admin_code=admin)
        sys.stdout.write(export.content)
        return 0
    # The file first, then the export (recorded as an admin action), then the text: as for
    # `kiosk anchor --out`, nothing is recorded as exported when the file cannot be made.
    try:
        fd = _new_file(out)
    except CliError as exc:
        raise CliError(f"{exc} Nothing was exported.") from None
    try:
        with _signed_in(args, create=False, setup_ok=False) as (services, admin):
            export = services.backup.export_staff(args.staff, fmt, admin_code=admin)
    except BaseException:
        os.close(fd)
        out.unlink(missing_ok=True)
        raise
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"  # a BOM for Excel
    with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
        fh.write(export.content)
    print(
        f"Wrote {export.events} event{'s' if export.events != 1 else ''} about "
        f"{display_text(export.staff.name)} ({export.staff.code}) to {out} ({fmt}).",
        file=sys.stderr,
    )
    return 0


def _cmd_purge(args: argparse.Namespace) -> int:
    with _signed_in(args, create=False, setup_ok=False) as (services, admin):
        assert admin is not None
        _confirm(
            f"Remove the events recorded before {args.before:%d %B %Y} (a checkpoint is kept)?",
            args.yes,
        )
        report = services.backup.purge(args.before, admin)
    print(report.summary)
    return 0


def _cmd_lists_put_back(args: argparse.Namespace) -> int:
    with _signed_in(args, create=False, setup_ok=False) as (services, admin):
        assert admin is not None
        _confirm(
            "Put every list row changed in the database back as the register recorded it "
            "(each recorded as your change)?",
            args.yes,
        )
        report = services.backup.put_back_lists(admin)
    print(report.summary)
    return 0


# --- install-service (issue 18.3; units in services/deploy.py) ---------------------------------


def _add_reach_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from kiosk.services import deploy

    ins = command(
        sub,
        "install-service",
        _cmd_install_service,
        help="write the systemd units that start the kiosk at boot, send notices, back up",
        description="Write systemd units: the kiosk full screen on a virtual terminal, logged "
        f"in automatically and restarted when it stops ({deploy.KIOSK_UNIT}); "
        f"{deploy.NOTIFY_SERVICE} with {deploy.NOTIFY_TIMER} (kiosk notify every 15 "
        f"minutes); {deploy.BACKUP_SERVICE} with {deploy.BACKUP_TIMER} (kiosk backup every "
        "evening, 30 days kept). They run this kiosk's Python and read the environment "
        f"file (default {deploy.DEFAULT_ENV_FILE}). See docs/deploy.md.",
    )
    ins.add_argument(
        "--user", help="the user the kiosk runs as (default: the user who ran sudo, else you)"
    )
    ins.add_argument("--tty", type=int, default=1, help="the virtual terminal (default 1)")
    ins.add_argument(
        "--print", dest="print_only", action="store_true", help="print the units, write nothing"
    )
    ins.add_argument(
        "--dir",
        default=deploy.DEFAULT_UNIT_DIR,
        help=f"where to write them (default {deploy.DEFAULT_UNIT_DIR})",
    )
    ins.add_argument("--env-file", default=deploy.DEFAULT_ENV_FILE, help="the environment file")
    ins.add_argument(
        "--backup-dir",
        default=deploy.DEFAULT_BACKUP_DIR,
        help=f"where backups go (default {deploy.DEFAULT_BACKUP_DIR})",
    )

    note = command(
        sub,
        "notify",
        _cmd_notify,
        help="send the notices that are due by e-mail (each one once)",
        description="Send the notices due now by SMTP: the office's end-of-day summary, "
        "reminders to staff (device due back tomorrow or overdue, phone left in a store, a "
        "policy to acknowledge), line managers' weekly sign-outs, workstation review requests "
        "to the Head Teacher, and the register's daily anchor. Each notice is recorded in the "
        "register and sent once, even by several kiosks at once; one that failed is tried "
        "again at the next run. Run it from a timer (kiosk install-service). Exits 1 when a "
        "notice could not be sent.",
    )
    mode = note.add_mutually_exclusive_group()
    mode.add_argument(
        "--dry-run", action="store_true", help="print each notice due instead of sending it"
    )
    mode.add_argument(
        "--status",
        action="store_true",
        help="list notices of the last 14 days that failed or whose outcome is unknown",
    )


def _cmd_install_service(args: argparse.Namespace) -> int:
    return cli_setup.cmd_install_service(args)


def _cmd_notify(args: argparse.Namespace) -> int:
    from kiosk.domain.timeutil import format_local

    with _services(args, create=False) as services:
        if args.status:
            return _notify_status(services)
        report = services.notify.run(dry_run=args.dry_run)
    for problem in report.problems:
        print(f"kiosk: note: {problem}", file=sys.stderr)
    if args.dry_run:
        for notice in report.due:
            print(f"To: {notice.to}\nSubject: {notice.subject}\nKey: {notice.key}\n")
            print(notice.text.rstrip())
            print("-" * 72)
        count = len(report.due)
        print(f"{count} notice{'s' if count != 1 else ''} due; nothing was sent (--dry-run).")
        return 0
    zone = services.settings.zone
    now = format_local(services.ctx.clock(), zone, "%Y-%m-%d %H:%M")
    sent, failed = report.sent, report.failed
    print(f"{now}: {len(sent)} notice{'s' if len(sent) != 1 else ''} sent, {len(failed)} failed.")
    for notice in sent:
        print(f"  sent {notice.key} to {notice.to}: {notice.subject}")
    for outcome in failed:
        print(
            f"  NOT SENT {outcome.notice.key} to {outcome.notice.to}: {outcome.error}",
            file=sys.stderr,
        )
    if failed:
        return _fail("some notices were not sent; the next run tries them again.")
    return 0


def _notify_status(services: Services) -> int:
    from kiosk.domain.timeutil import format_local

    zone = services.settings.zone
    states, untrusted = services.notify.status_report()
    rows = [
        (
            format_local(s.at, zone, "%Y-%m-%d %H:%M"),
            "FAILED" if s.state == "failed" else "UNKNOWN",
            s.key,
            s.to,
            s.error
            or "claimed but no outcome recorded: it may have been sent; check, then "
            "tell the person yourself if needed",
        )
        for s in states
    ]
    settings = services.settings
    if not settings.smtp_host:
        print("Mail server: not set (smtp_host / KIOSK_SMTP_HOST): nothing can be sent.")
    else:
        print(
            f"Mail server: {settings.smtp_host}:{settings.smtp_port} "
            f"({settings.smtp_security}); office: {settings.office_email or 'not set'}"
        )
    for said in untrusted:
        print(f"NOT THE KIOSK'S: {said} (`kiosk verify` names it)")
    if not rows:
        print("No notice failed or was left unfinished in the last 14 days.")
        return 0
    print(table(("WHEN", "STATE", "NOTICE", "TO", "ERROR"), rows))
    return 0


# --- the admin console in a browser (issue 18.2; kiosk/ui/admin/serve.py) ----------------------


def _add_serve_options(admin: argparse.ArgumentParser) -> None:
    admin.add_argument(
        "--serve",
        action="store_true",
        help="serve the admin console to a web browser (textual-serve) instead of this terminal",
    )
    admin.add_argument(
        "--host", default="127.0.0.1", help="with --serve: the address to listen on (127.0.0.1)"
    )
    admin.add_argument("--port", type=int, default=8000, help="with --serve: the port (8000)")
    admin.add_argument(
        "--public-url",
        metavar="URL",
        help="with --serve: the address browsers use, e.g. https://kiosk.school.example "
        "behind a reverse proxy (default http://HOST:PORT)",
    )
    admin.add_argument(
        "--max-consoles",
        type=int,
        default=4,
        metavar="N",
        help="with --serve: the most consoles open at once, each a process (4)",
    )


def _serve_admin(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise CliError(f"{args.port} is not a port number.", 2)
    if not 0 < args.max_consoles <= 100:
        raise CliError(f"--max-consoles {args.max_consoles}: give a number from 1 to 100.", 2)
    settings = _settings(args)  # a configuration mistake is said here, not in each browser tab
    try:
        from kiosk.ui.admin.serve import serve_admin  # type: ignore[import-not-found, unused-ignore]
    except ImportError as exc:
        raise CliError(
            f"the console cannot be served: {exc} (pip install textual-serve)."
        ) from None
    del settings
    from kiosk.ui.admin.serve import network_refusal  # type: ignore[import-not-found, unused-ignore]

    refused = network_refusal(args.host, args.public_url)
    if refused is not None:
        raise CliError(refused, 2)
    url = args.public_url or f"http://{args.host}:{args.port}"
    print(f"Serving the admin console on {url} (Ctrl+C to stop).", file=sys.stderr)
    serve_admin(
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        demo=args.demo,
        max_consoles=args.max_consoles,
    )
    return 0

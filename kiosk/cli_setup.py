"""Commands for a school's own set-up: ``kiosk setup``, ``kiosk config set``, ``kiosk calendar``,
``kiosk devices kinds`` / ``kind add`` and ``kiosk staff retire``.

Kept apart from kiosk/cli.py (which registers them) so the two change independently. The
helpers of kiosk.cli are imported inside the handlers (kiosk.cli imports this module).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.cli_args import add_file, add_sign_in, add_skip_invalid, command, subcommands
from kiosk.domain.text import display_text

if TYPE_CHECKING:
    import argparse

    from kiosk.cli_args import SubParsers
    from kiosk.services.app import Services

WORD_HINT = (
    "A Word document: open it in Word, then File > Save As > Plain Text (.txt), and choose "
    "Unicode (UTF-8) when Word asks about the encoding. Markdown (.md) works too."
)


# --- registering the commands -----------------------------------------------------------------


def add_config_set(cfg: argparse.ArgumentParser) -> None:
    cset = command(
        subcommands(cfg, required=False),
        "set",
        cmd_config_set,
        help="change a setting in the config file",
        description="Write KEY = VALUE into the TOML config file (created where missing; its "
        "other lines and comments are kept). The value is checked first: a time zone must be "
        "known (e.g. Europe/London), end_of_day a time like 16:30, numbers whole. An "
        "environment variable of the same setting still wins over the file.",
    )
    cset.add_argument("key", metavar="KEY", help="e.g. school_name, timezone, end_of_day")
    cset.add_argument("value", metavar="VALUE", help="the new value")


def add_staff_retire(staff_sub: SubParsers) -> None:
    ret = command(
        staff_sub,
        "retire",
        cmd_staff_retire,
        help="mark a member of staff as having left",
        description="Mark a member of staff as having left: their badge stops working, their "
        "history stays in the register. Refused while they have a device off site or a phone in "
        "a store, unless --force is given; refused for the last admin.",
    )
    ret.add_argument("code", metavar="CODE", help="their staff code")
    ret.add_argument(
        "--force",
        action="store_true",
        help="retire them even with a device off site or a phone in a store",
    )
    add_sign_in(ret)
    back = command(
        staff_sub,
        "hand-back",
        cmd_staff_hand_back,
        help="record that the office handed someone's phone back from its store",
        description="Record that the office handed a member of staff's phone back from the "
        "store it is in (a collection, recorded by you): for a leaver, whose badge the kiosk "
        "refuses once they have left.",
    )
    back.add_argument("code", metavar="CODE", help="their staff code")
    add_sign_in(back)


def add_device_kind_commands(dev_sub: SubParsers) -> None:
    import argparse  # the command line only: the kiosk app starts without it

    command(
        dev_sub,
        "kinds",
        cmd_device_kinds,
        help="list the kinds of device and their rules",
        description="List the kinds of device the school signs out, with their rules.",
    )
    kind = dev_sub.add_parser(
        "kind", help="add or change a kind of device", description="Kinds of device."
    )
    kadd = command(
        subcommands(kind),
        "add",
        cmd_device_kind_add,
        help="add a kind of device (tablet, camera...) or change one's label and rules",
        description="Add a kind of device the school signs out, e.g. `kiosk devices kind add "
        "tablet --label Tablet --needs-charged`. Every kind needs the required policies "
        "acknowledged before it goes off site. Giving an existing kind changes its label, "
        "and the rules given (--no-needs-charged, --no-regular-use turn one off); the rules "
        "left out stay as they are (laptop and work_phone are built in).",
    )
    kadd.add_argument("code", metavar="CODE", help="short name used in CSV files, e.g. tablet")
    kadd.add_argument("--label", required=True, help="shown on screens, e.g. 'iPad'")
    kadd.add_argument(
        "--needs-charged",
        action=argparse.BooleanOptionalAction,
        default=None,
        help='the sign-out form asks "charged and ready" (as for work phones)',
    )
    kadd.add_argument(
        "--regular-use",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a line manager must agree when taken home more often than the threshold "
        "(as for laptops)",
    )
    add_sign_in(kadd)


def add_school_commands(sub: SubParsers) -> None:
    cal = sub.add_parser(
        "calendar",
        help="the school calendar: term dates, holidays, INSET days",
        description="The school calendar. Without one, Monday to Friday are school days. With "
        "one, the default return time of a sign-out (next school day, 08:30) skips holidays and "
        "INSET days, and end-of-day lists and workload weeks follow it.",
    )
    cal_sub = subcommands(cal)
    cimp = command(
        cal_sub,
        "import",
        cmd_calendar_import,
        help="replace the calendar with one from a CSV or .ics file",
        description="Replace the school calendar, whole, with the one in FILE: the file should "
        "hold the whole school year. The entries of the calendar in force that FILE does not "
        "have are listed; if some of them are still ahead (a spring-term file would drop the "
        "autumn term), nothing is changed unless --replace is given. A CSV file has a header "
        "row start,end,kind,name (or date,kind,name), dates as 2026-09-03 or 03/09/2026, kind "
        "term, holiday or inset; see assets/calendar-example.csv. An .ics file (as a school "
        "website publishes) is read for its all-day events: titles with INSET or training are "
        "INSET days, with holiday, half term or closed (or a break a time of year names: "
        "Christmas break, not lunch break or breaks up; not closed from a time of day or "
        "closed to visitors) holidays, with term terms; other events, cancelled ones and "
        "ones at a time of day (a twilight INSET 15:30-17:30) are listed and "
        "left out. One at times covering the pupils' day (an INSET day "
        "08:30-15:30) is a line with a problem: make it all-day. One that repeats (RRULE, "
        "RDATE) is a line with a problem: list each day. Nothing is recorded if a line has a "
        "problem, unless --skip-invalid is given.",
    )
    add_file(cimp, "calendar.csv or calendar.ics (UTF-8)")
    add_skip_invalid(cimp, "import the readable lines, list the others")
    cimp.add_argument(
        "--replace",
        action="store_true",
        help="replace the calendar even though entries still ahead are not in FILE",
    )
    add_sign_in(cimp)
    command(
        cal_sub,
        "show",
        cmd_calendar_show,
        help="show the calendar in force",
        description="Show the calendar in force, where it came from, and the next school days.",
    )

    setup = command(
        sub,
        "setup",
        cmd_setup,
        help="set up a new school, step by step (or change its settings again)",
        description="A walk-through for a new school: its name, time zone, end of the school "
        "day, office e-mail, the admin PIN, then the staff roster and devices (CSV), the School "
        "and LA policies (text or Markdown files), badges and labels as PDF, and what each "
        "kiosk needs. Each question shows the current value: Enter keeps it (or skips the "
        "step), so it can be run again to change one thing.",
    )
    add_sign_in(setup)
    setup.epilog = (
        "Once the school has an admin PIN, set-up changes the register only for a signed-in "
        "admin: it asks for your staff code and the PIN first (piped: --admin CODE "
        "--pin-stdin, the PIN on the first line)."
    )


# --- config set ---------------------------------------------------------------------------------


def cmd_config_set(args: argparse.Namespace) -> int:
    import os

    from kiosk.config import SETTINGS, shown_setting, write_setting

    path, value = write_setting(args.key, args.value)
    print(f"{args.key} = {shown_setting(args.key, value)} written to {path}.")
    if args.key == "timezone" and _without_summer_time(str(value)):
        # "GMT" is what the office calls UK time: from the end of March every time shown,
        # the register's days and the end of the school day were an hour out.
        print(
            f"Note: {value} is the same all year, with no summer time: if the school keeps UK "
            "time (BST in summer), set Europe/London instead."
        )
    env = next(s.env for s in SETTINGS if s.key == args.key)
    if os.environ.get(env):
        print(f"Note: the environment variable ${env} is set and wins over the file.")
    return 0


def _without_summer_time(zone: str) -> bool:
    """``zone`` is one of the zones that never change their clocks, by name (GMT, UTC,
    Etc/..., Greenwich, Zulu), as the office may type for UK time."""
    fixed = {"GMT", "GMT0", "GMT+0", "GMT-0", "GREENWICH", "UTC", "UCT", "UNIVERSAL", "ZULU"}
    return zone.upper() in fixed or zone.upper().startswith("ETC/")


# --- staff retire -------------------------------------------------------------------------------


def cmd_staff_retire(args: argparse.Namespace) -> int:
    from kiosk.cli import _signed_in

    with _signed_in(args, create=False) as (services, admin):
        person = services.people.retire_staff(args.code, force=args.force, admin_code=admin)
        held = services.devices.offsite_now()
        phones = services.phones.phones_now()
    print(f"{person.name} ({person.code}) is marked as having left; their history is kept.")
    theirs = [i for i in held if i.staff.code == person.code]
    for item in theirs:
        print(f"Warning: {item.device.kind_label} {item.device.tag} is still off site with them.")
    for phone in (p for p in phones if p.staff.code == person.code):
        print(
            f"Warning: their phone is still listed in the {display_text(phone.store.name)} "
            f"(once the office has handed it back: kiosk staff hand-back {person.code})."
        )
    return 0


def cmd_staff_hand_back(args: argparse.Namespace) -> int:
    from kiosk.cli import _signed_in

    with _signed_in(args, create=False, setup_ok=False) as (services, admin):
        assert admin is not None  # setup_ok=False: signed in, or refused
        done = services.phones.hand_back(args.code, admin_code=admin)
    name = f"{done.staff.name} ({done.staff.code})" if done.staff else args.code
    print(f"Recorded: the office handed {name} their phone back ({done.summary}).")
    return 0


# --- device kinds -------------------------------------------------------------------------------


def cmd_device_kinds(args: argparse.Namespace) -> int:
    from kiosk.cli import _services, table

    with _services(args, create=False) as services:
        kinds = services.school.device_kinds()
    rows = [
        (
            k.code,
            k.label,
            "yes" if k.needs_charged else "no",
            "yes" if k.regular_use else "no",
            "built in" if k.built_in else "school",
        )
        for k in kinds.kinds
    ]
    print(table(("KIND", "LABEL", "CHARGED AND READY", "LINE MANAGER IF REGULAR", "FROM"), rows))
    print("\nEvery kind needs the required policies acknowledged before it goes off site.")
    return 0


def cmd_device_kind_add(args: argparse.Namespace) -> int:
    from kiosk.cli import _signed_in

    with _signed_in(args) as (services, admin):
        kinds = services.school.set_device_kind(
            args.code,
            args.label,
            needs_charged=args.needs_charged,
            regular_use=args.regular_use,
            admin_code=admin,
        )
    added = kinds.kinds[-1] if kinds.get(args.code.strip().lower()) is None else None
    kind = added or kinds.require(args.code)
    rules = [
        "asks 'charged and ready'" if kind.needs_charged else "no 'charged and ready'",
        "needs a line manager when taken home regularly"
        if kind.regular_use
        else "no line manager needed when taken home regularly",
    ]
    print(f"Kind {kind.code} ({kind.label}) recorded: {'; '.join(rules)}.")
    print(f"Add devices of this kind with: kiosk devices add TAG --kind {kind.code}")
    return 0


# --- calendar -----------------------------------------------------------------------------------


def cmd_calendar_import(args: argparse.Namespace) -> int:
    from kiosk.cli import CliError, _read_bytes, _signed_in
    from kiosk.domain.timeutil import local_date
    from kiosk.services.school import calendar_summary

    data = _read_bytes(args.file)
    with _signed_in(args) as (services, admin):
        before = services.school.calendar()
        result = services.school.import_calendar(
            args.file,
            data,
            skip_invalid=args.skip_invalid,
            replace=args.replace,
            admin_code=admin,
        )
        today = local_date(services.ctx.clock(), services.settings.zone)
    for problem in result.problems:
        print(f"line {problem.line}: {problem.reason}", file=sys.stderr)
    name = Path(args.file).name
    if result.needs_replace:
        ahead = result.upcoming_dropped(today)
        print(
            f"{name} does not have these entries of the calendar in force "
            f"({display_text(before.source) or 'unnamed'}) that are still ahead:",
            file=sys.stderr,
        )
        for entry in ahead:
            print(f"  {_entry_line(entry)}", file=sys.stderr)
        raise CliError(
            f"the calendar was not changed: importing {name} replaces the whole calendar and "
            f"would drop the {len(ahead)} entr{'y' if len(ahead) == 1 else 'ies'} above (days "
            "outside every term are not school days). Import a file with the whole school "
            "year, or give --replace to replace it anyway."
        )
    if not result.imported:
        blocking = sum(1 for p in result.problems if p.blocking)
        raise CliError(
            f"the calendar was not changed: {blocking} line(s) with a problem "
            "(listed above). Fix the file, or use --skip-invalid to import the other lines."
        )
    print(f"Calendar imported from {name}: {calendar_summary(result.calendar)}.")
    print(f"SHA-256 of the file: {result.calendar.sha256}")
    if result.dropped:
        print(
            f"It replaced the calendar from {display_text(before.source) or 'an unnamed file'}; "
            "these of its "
            "entries are no longer in the calendar:"
        )
        for entry in result.dropped:
            print(f"  {_entry_line(entry)}")
    return 0


def _entry_line(entry: Any) -> str:
    """A calendar entry on one line: its kind, dates and name."""
    days = f"{entry.start:%a %d %b %Y}" + (
        f" to {entry.end:%a %d %b %Y}" if entry.end != entry.start else ""
    )
    # display_text: a name recorded before names were checked is printed on one line.
    return f"{entry.label}: {days}" + (f" ({display_text(entry.name)})" if entry.name else "")


def cmd_calendar_show(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from kiosk.cli import _services, table
    from kiosk.domain.timeutil import local_date
    from kiosk.services.school import calendar_summary

    with _services(args, create=False) as services:
        calendar = services.school.calendar()
        today = local_date(services.ctx.clock(), services.settings.zone)
    if calendar.empty:
        print("No school calendar: Monday to Friday are school days.")
        print("Import one with: kiosk calendar import FILE.csv (or FILE.ics)")
    else:
        source = display_text(calendar.source) or "(unnamed file)"
        print(f"Calendar from {source}: {calendar_summary(calendar)}")
        print(f"SHA-256 of the file: {calendar.sha256}\n")
        rows = [
            (
                f"{e.start:%a %d %b %Y}",
                f"{e.end:%a %d %b %Y}" if e.end != e.start else "",
                e.label,
                e.name,
            )
            for e in calendar.entries
        ]
        print(table(("FROM", "TO", "KIND", "NAME"), rows))
    why = calendar.why_not(today)
    print(
        f"\nToday, {today:%a %d %b %Y}: "
        + ("a school day." if why is None else f"{display_text(why)}.")
    )
    nxt, following = calendar.next_school_day(today), []
    day = nxt
    for _ in range(4):
        following.append(f"{day:%a %d %b}")
        day = calendar.next_school_day(day)
    print("Next school days: " + ", ".join(following))
    if nxt - today > timedelta(days=3):
        print(f"(A device signed out today is due back {nxt:%a %d %b} at 08:30 by default.)")
    return 0


# --- install-service ------------------------------------------------------------------------------


def cmd_install_service(args: argparse.Namespace) -> int:
    """Print or write the systemd units. --print writes nothing, so it works as root too: it
    uses --user, else the user who ran sudo (or you), else (root) the placeholder user, and
    says which. Writing checks that the user exists."""
    import getpass

    from kiosk.cli import CliError
    from kiosk.services import deploy

    user = args.user or os.environ.get("SUDO_USER") or getpass.getuser()
    assumed = ""
    if args.print_only and not args.user:
        if user == "root":
            user = deploy.PLACEHOLDER_USER
            assumed = (
                f"the user {user} (a placeholder: you are root, and the kiosk must not run as "
                "root; give its own user with --user)"
            )
        else:
            assumed = f"the user {user} (no --user given: the one running this command)"
    units = deploy.build_units(user, args.tty, env_file=args.env_file, backup_dir=args.backup_dir)
    if args.print_only:
        if assumed:
            print(f"# Units for {assumed}.")
        for unit in units:
            print(f"# --- {unit.name} ---")
            print(unit.text)
        return 0
    if not deploy.user_exists(user):
        raise CliError(
            f"there is no user {user!r} on this machine: create the kiosk's own user first "
            "(sudo adduser --system --group --home /var/lib/staff-room-kiosk --shell "
            "/usr/sbin/nologin kiosk; see docs/deploy.md), or give an existing one with --user."
        )
    written = deploy.write_units(units, Path(args.dir))
    print(f"Wrote (the kiosk runs as the user {user}):")
    for path in written:
        print(f"  {path}")
    print("Then, as root:")
    for step in deploy.enable_commands(args.tty):
        print(f"  {step}")
    return 0


# --- setup --------------------------------------------------------------------------------------


class _StepFailed(Exception):
    """A step's answer was refused while the answers are piped: asking again would take the
    next question's answer, so the set-up stops there."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(reason)
        self.step = step
        self.reason = reason


class _Asker:
    """Plain prompts on standard input; end of input counts as Enter (keep / skip).

    At a terminal a refused answer is asked again. Piped, a refused answer ends the set-up
    (_StepFailed): one answer a line, never shifted onto the next question."""

    def __init__(self) -> None:
        self.ended = False
        self.step = ""
        # Piped: the PIN just read. An answers file written from the prompts at a terminal
        # gives it twice ("The same PIN again"): an identical next line is its confirmation,
        # not the next answer. Never quoted back in a message.
        self.pin_to_confirm: str | None = None
        self.secrets: set[str] = set()

    @property
    def piped(self) -> bool:
        return sys.stdin is None or not sys.stdin.isatty()

    def refused(self, reason: str, again: str = "") -> None:
        """Piped: stop the set-up at this step. At a terminal: say why (and ``again``: what
        to answer now), to ask again."""
        for secret in self.secrets:
            reason = reason.replace(secret, "(the PIN)")
        if self.piped and not self.ended:
            raise _StepFailed(self.step, reason)
        print(f"  {reason}" + (f" {again}" if again and not self.ended else ""))

    def ask(self, question: str, default: str = "") -> str:
        shown = f" [{default}]" if default else ""
        if self.ended:
            return default
        try:
            answer = input(f"{question}{shown}: ")
        except EOFError:
            self.ended = True
            print()
            return default
        if self.piped:
            print()  # piped: end the prompt's line, as a typed Enter would
        confirm, self.pin_to_confirm = self.pin_to_confirm, None
        if confirm and answer.strip() == confirm:
            print("  (The PIN again: taken as its confirmation.)")
            return self.ask(question, default)
        return answer.strip() or default

    def secret(self, question: str, check: Any = None) -> str:
        """A PIN: at a terminal without echo, checked, then asked a second time; piped, one
        line like any answer (checked by the caller), and an identical line after it is
        taken as its confirmation."""
        if self.ended or self.piped:
            answer = self.ask(question)
            if answer:
                self.secrets.add(answer)
                self.pin_to_confirm = answer
            return answer
        import getpass

        while True:
            first = getpass.getpass(f"{question}: ").strip()
            if not first:
                return ""
            if check is not None:
                try:
                    check(first)
                except ValueError as exc:
                    print(f"  {exc}")
                    continue
            if getpass.getpass("The same PIN again: ").strip() != first:
                print("  The two PINs differ.")
                continue
            return first

    def ask_checked(self, question: str, default: str, check: Any, tries: int = 3) -> str:
        for _ in range(tries):
            answer = self.ask(question, default)
            try:
                check(answer)
                return answer
            except ValueError as exc:
                self.refused(str(exc))
                if self.ended:
                    break
        print(f"  Kept {default or 'it as it was'}.")
        return default


def _step(asker: _Asker, number: int, title: str) -> None:
    asker.step = f"{number} ({title.split(':')[0]})"
    print(f"\n{number}. {title}")


def cmd_setup(args: argparse.Namespace) -> int:
    from kiosk.cli import _services
    from kiosk.config import (
        ConfigError,
        check_value,
        config_file,
        load_settings,
        shown_setting,
        write_setting,
    )

    asker = _Asker()
    print("Staff Room Kiosk set-up. Each question shows the current value in [brackets]:")
    print("press Enter to keep it, or to skip a step. Run `kiosk setup` again to change one.")
    print(f"Running as the user {_user()}: the register, settings and PIN key it sets up are")
    print("that user's. Run it as the user the kiosk runs as (see the end).")

    current = load_settings()
    failed: _StepFailed | None = None
    try:
        _step(asker, 1, "The school")
        changes: dict[str, str] = {}
        questions = (
            ("school_name", "School name (shown on the kiosk)"),
            ("timezone", "Time zone (e.g. Europe/London)"),
            ("end_of_day", "End of the school day (HH:MM; phones still held are listed after it)"),
            ("office_email", "Office contact e-mail"),
        )
        for key, question in questions:
            before = str(getattr(current, key) or "")

            def check(value: str, key: str = key) -> None:
                if value:
                    try:
                        check_value(key, value)
                    except ConfigError as exc:
                        raise ValueError(str(exc)) from None

            answer = asker.ask_checked(question, before, check)
            # A changed value, or (first run) the value kept, so the file shows it.
            if answer and (answer != before or current.sources.get(key) == "default"):
                changes[key] = answer
        for key, value in changes.items():
            path, written = write_setting(key, value)
            print(f"  {key} = {shown_setting(key, written)} (saved in {path})")
        if not changes:
            print("  No change.")
    except _StepFailed as exc:
        failed = exc

    settings = load_settings()
    with _services(args) as services:  # a new school's register starts here
        if failed is None:
            try:
                _sign_in_for_setup(args, services)
                _setup_pin(asker, services)
                _setup_import(asker, services, 3, "Staff roster", "staff")
                _setup_import(asker, services, 4, "Devices", "devices")
                _setup_policy(asker, services, 5, "School policy", "School Acceptable Use Policy")
                _setup_policy(
                    asker, services, 6, "Local Authority (LA) policy", "LA Acceptable Use Policy"
                )
                _setup_labels(asker, services)
            except _StepFailed as exc:
                failed = exc
        missing = _still_missing(services)
    if failed is not None:
        print(f"\nSet-up stopped at step {failed.step}: {failed.reason}")
        print("  The answers after it were not used. Fix it and run `kiosk setup` again.")
    _setup_summary(settings, config_file(), missing, finished=failed is None)
    return 1 if failed is not None or missing else 0


def _user() -> str:
    """The name of the user running this command."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):
        import getpass

        return getpass.getuser()


def _still_missing(services: Services) -> list[str]:
    """What the school still needs before the kiosk can be used, in plain words."""
    staff = services.people.list_staff()
    missing = []
    if not staff:
        missing.append("no staff: import the roster (`kiosk staff import FILE.csv`)")
    elif not any(p.has_role("admin") for p in staff):
        missing.append("no admin: give someone the admin role (roles column: admin)")
    if not services.admin.is_pin_set():
        missing.append("no admin PIN: `kiosk admin set-pin`")
    if not services.policies.current():
        missing.append(
            "no policy: publish the school's (`kiosk policy publish --title T --version V FILE`)"
        )
    return missing


# Who set-up acts for: (admin code, PIN) once the school has a PIN; (None, None) before.
_ACTING: tuple[str | None, str | None] = (None, None)


def _sign_in_for_setup(args: argparse.Namespace, services: Services) -> None:
    """A school that has a PIN already is changed only by a signed-in admin (`kiosk setup`
    run again must not import an admin or publish a policy for no one)."""
    global _ACTING
    from kiosk.cli import CliError, _acting_admin, _on_a_terminal
    from kiosk.domain.errors import KioskError

    _ACTING = (None, None)
    if not services.admin.can_anyone_sign_in():
        return  # a new school: no PIN or no admin yet, so nobody could sign in
    if not getattr(args, "admin", None) and _on_a_terminal():
        print("This school has an admin PIN: sign in to change its register.")
    if getattr(args, "pin", None) is None and _on_a_terminal():
        import getpass

        args.admin = args.admin or input("Your staff code (an admin's): ").strip()
        args.pin = getpass.getpass("Admin PIN: ")
    try:
        code = _acting_admin(args, services, setup_ok=False)
    except (KioskError, CliError) as exc:
        raise _StepFailed("2 (signing in)", f"not signed in: {exc}") from None
    _ACTING = (code, getattr(args, "pin", None))


def _is_current_pin(services: Services, pin: str) -> bool:
    from kiosk.domain.errors import KioskError

    try:
        return services.admin.check_pin(pin).ok
    except KioskError:  # no school key on this machine, say: set_pin says why
        return False


def _setup_pin(asker: _Asker, services: Services) -> None:
    from kiosk.domain.errors import KioskError
    from kiosk.services.admin import validate_pin

    _step(asker, 2, "The admin PIN (at least 6 digits; it opens the admin console)")
    is_set = services.admin.is_pin_set()
    question = "New admin PIN" + (" (Enter keeps the current one)" if is_set else " (Enter: later)")

    def check(pin: str) -> None:
        try:
            validate_pin(pin)
        except KioskError as exc:
            raise ValueError(str(exc)) from None

    for _ in range(3):
        pin = asker.secret(question, check)
        if not pin:
            print("  PIN kept." if is_set else "  No PIN yet: set one with `kiosk admin set-pin`.")
            return
        if is_set and _ACTING[1] is None and _is_current_pin(services, pin):
            # Set-up run again with the same answers (nobody signed in: no admin yet): the
            # PIN it set the first time is kept, not refused as a change without the PIN.
            print("  That is the PIN already set: kept.")
            return
        try:
            services.admin.set_pin(pin, admin_code=_ACTING[0], current_pin=_ACTING[1])
        except KioskError as exc:
            asker.refused(f"PIN not set: {exc}")
            continue
        print("  Admin PIN set. Keep it safe.")
        return
    print("  PIN not set: set one with `kiosk admin set-pin`.")


def _read_file(asker: _Asker, name: str) -> bytes | None:
    """The file's bytes; None (said, or at a terminal to ask again) when it is not a file."""
    from kiosk.services.secret import IMPORT_FILE_LIMIT, FileRefused, read_small_file

    path = Path(name).expanduser()
    if not path.is_file():
        asker.refused(f"{path} is not a file.", "Give its name again, or Enter to skip.")
        return None
    try:
        return read_small_file(path, IMPORT_FILE_LIMIT)
    except FileRefused as exc:
        asker.refused(f"{path} cannot be read ({exc}).")
        return None
    except OSError as exc:
        asker.refused(f"{path} cannot be read: {exc.strerror or exc}.")
        return None


def _setup_import(asker: _Asker, services: Services, number: int, title: str, what: str) -> None:
    from kiosk.domain.errors import KioskError

    if what == "staff":
        _step(
            asker,
            number,
            f"{title}: a CSV file with a header row code,name,email,line_manager,roles",
        )
        print("  roles separated by ';': slt, breakfast_club_lead, admin, laptop_user.")
    else:
        _step(asker, number, f"{title}: a CSV file with a header row tag,kind,description")
        kinds = ", ".join(services.school.device_kinds().codes)
        print(f"  kind is one of: {kinds} (`kiosk devices kind add` adds others).")
    print("  In Excel: File > Save As > CSV UTF-8 (Comma delimited).")
    while True:
        name = asker.ask("CSV file (Enter to skip)")
        if not name:
            print("  Skipped.")
            return
        data = _read_file(asker, name)
        if data is None:
            continue
        try:
            if what == "staff":
                report = services.people.import_staff_csv(data, admin_code=_ACTING[0])
            else:
                report = services.people.import_devices_csv(data, admin_code=_ACTING[0])
        except KioskError as exc:
            asker.refused(
                f"Not imported: {exc}", "Fix the file, then give its name again (Enter: skip)."
            )
            continue
        for problem in report.problems:
            print(f"  line {problem.line}: {problem.reason}")
        if not report.imported:
            asker.refused(
                "Nothing imported: fix the lines above.",
                "Then give the file's name again (Enter: skip).",
            )
            continue
        print(
            f"  {what.capitalize()} imported: {report.added} added, {report.updated} updated, "
            f"{report.unchanged} unchanged."
        )
        return


def _setup_policy(asker: _Asker, services: Services, number: int, title: str, name: str) -> None:
    from kiosk.domain.errors import KioskError

    _step(asker, number, f"{title}: a text or Markdown file (UTF-8)")
    print(f"  {WORD_HINT}")
    current = [p for p in services.policies.current() if p.title == name]
    if current:
        print(f"  In force now: {current[0].title} ({current[0].version}).")
    while True:
        path = asker.ask("Policy file (Enter to skip)")
        if not path:
            print("  Skipped.")
            return
        data = _read_file(asker, path)
        if data is None:
            continue
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            asker.refused(
                "Not published: the file is not UTF-8 text. " + WORD_HINT,
                "Give the file's name again (Enter: skip).",
            )
            continue
        break
    title = asker.ask("Title", name)
    today = services.ctx.clock().astimezone(services.settings.zone).date()
    version = asker.ask("Version (e.g. Autumn 2026)", f"{today:%B %Y}")
    required = asker.ask("Must staff acknowledge it before a device goes off site? (y/n)", "y")
    try:
        policy = services.policies.publish(
            title,
            version,
            text,
            required=not required.lower().startswith("n"),
            published_by=_ACTING[0],
        )
    except KioskError as exc:
        asker.refused(f"Not published: {exc}")
        return
    print(f"  Published {policy.title} ({policy.version}), SHA-256 {policy.sha256[:16]}...")


def _setup_labels(asker: _Asker, services: Services) -> None:
    from kiosk.config import data_dir
    from kiosk.services import labels

    _step(asker, 7, "Staff badges and device labels (A4 PDF, 3 x 8 QR labels a page)")
    for what, default_name, noun in (
        ("staff", "staff-badges.pdf", "staff badge"),
        ("devices", "device-labels.pdf", "device label"),
    ):
        sheet = (
            labels.staff_labels(services.people)
            if what == "staff"
            else labels.device_labels(services.people)
        )
        if not sheet:
            print(f"  No {what} yet: nothing to print.")
            continue
        default = str(data_dir() / default_name)
        answer = asker.ask(
            f"Write {len(sheet)} {noun}{'s' if len(sheet) != 1 else ''} to (a .pdf file, "
            "'-' to skip)",
            default,
        )
        if answer == "-":
            print("  Skipped.")
            continue
        out = Path(answer).expanduser()
        if out.suffix.lower() != ".pdf":
            out = out.with_suffix(".pdf")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            written = labels.write_sheet(sheet, out, replace=True)  # the answer names it
        except OSError as exc:
            print(f"  Not written: {exc.strerror or exc}")
            continue
        print(f"  Written: {', '.join(str(p) for p in written)} (print at 100%, not 'fit').")


def _setup_summary(settings: Any, config: Path, missing: list[str], *, finished: bool) -> None:
    from kiosk.cli import _safe_url
    from kiosk.config import data_dir
    from kiosk.services.secret import key_path

    user = _user()
    if missing:
        print("\nNot ready yet: the school cannot use the kiosk until these are done:")
        for item in missing:
            print(f"  - {item}")
        print("  Until then the kiosk shows the school's name (or 'Our School' when none is set),")
        print("  says 'Not recognised' to every badge, and its PIN pad asks for")
        print("  `kiosk admin set-pin`: that is a kiosk not set up yet, not a fault.")
    elif finished:
        print("\nDone: the school has staff, an admin, an admin PIN and a policy.")
    print(f"\nThis set-up ran as the user {user} and used:")
    print(f"  - the settings file: {config}")
    print(f"  - the data folder: {data_dir()}")
    print(f"  - the database: KIOSK_DATABASE_URL={_safe_url(settings.database_url)}")
    print(f"  - the school key: {key_path(settings)}")
    print("The kiosk must run as the same user with the same settings (KIOSK_CONFIG,")
    print(
        "KIOSK_DATA_DIR, KIOSK_DATABASE_URL), or it finds another, empty register and no PIN key."
    )
    print("For the service (`kiosk install-service --user kiosk`), run the set-up as that user:")
    print("  sudo -u kiosk -H kiosk setup    (or `sudo kiosk-as setup`, see docs/deploy.md)")
    if user == "root":
        print("Warning: this ran as root, and the kiosk must not run as root: its files are")
        print("root's. Run `kiosk setup` again as the kiosk's own user.")
    print("\nWhat each other kiosk needs:")
    print(f"  - the database: KIOSK_DATABASE_URL={_safe_url(settings.database_url)}")
    print("    (several kiosks share one PostgreSQL database: postgresql://USER@HOST/DATABASE)")
    print(f"  - the settings: {config} (copy it, or set KIOSK_CONFIG to its path)")
    print(f"  - the school key: {key_path(settings)}")
    print("    Every kiosk of the school needs the same key, or the PIN is not accepted there:")
    print("    here `kiosk secret export --out school-key.txt`, then on each other kiosk, as the")
    print("    kiosk's user: `kiosk secret import school-key.txt`. Keep it like a master key.")
    if user == "root":
        print("Start the kiosk as its own user (after this set-up, run as that user): kiosk")
    else:
        print(f"Start the kiosk as the user {user} (the one this set-up ran as): kiosk")

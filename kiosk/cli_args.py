"""The argparse pieces the ``kiosk`` commands share, built once for kiosk/cli.py and
kiosk/cli_setup.py: a command (its parser and handler), a group of commands, the admin
sign-in (``--admin CODE``, ``--pin-stdin``), an input file, ``--skip-invalid``, ``--yes``
and ``--anchor``. argparse itself is imported by the callers (only when a command is parsed:
the kiosk app starts without it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]
    Handler = Callable[[argparse.Namespace], int]

ADMIN_HELP = "your staff code (you must be an admin)"
STDIN_CSV_HELP = "the CSV file (UTF-8), or - for stdin"


def subcommands(parser: argparse.ArgumentParser, *, required: bool = True) -> SubParsers:
    """The commands under ``parser`` (``kiosk staff COMMAND``)."""
    return parser.add_subparsers(title="commands", metavar="COMMAND", required=required)


def command(
    sub: SubParsers,
    name: str,
    handler: Handler,
    *,
    help: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """One command: its parser, run by ``handler``."""
    parser = sub.add_parser(name, help=help, description=description)
    parser.set_defaults(handler=handler)
    return parser


def add_sign_in(parser: argparse.ArgumentParser) -> None:
    """The sign-in every command that changes the register asks for."""
    group = parser.add_argument_group(
        "signing in",
        "This command changes the register: it asks for your staff code (an admin's) and the "
        "admin PIN, and records you as the admin who did it. Until the school has both a PIN "
        "and an admin on its staff list (a new school's set-up), the lists can be imported "
        "without signing in.",
    )
    group.add_argument("--admin", metavar="CODE", help=ADMIN_HELP)
    group.add_argument(
        "--pin-stdin",
        action="store_true",
        help="read the admin PIN from the first line of standard input (for scripts)",
    )


def add_file(parser: argparse.ArgumentParser, help: str, *, metavar: str = "FILE") -> None:
    parser.add_argument("file", metavar=metavar, help=help)


def add_skip_invalid(
    parser: argparse.ArgumentParser,
    help: str = "import the valid rows, report the others",
) -> None:
    parser.add_argument("--skip-invalid", action="store_true", help=help)


def add_yes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def add_anchor(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--anchor", action="append", default=[], metavar="FILE", help=help)

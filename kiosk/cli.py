"""The ``kiosk`` command: runs the app; admin subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kiosk import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk", description="Staff Room Kiosk: the school's Acceptable Use Policy register."
    )
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    sub = parser.add_subparsers(dest="command")
    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="bring the database schema to the newest revision")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "db":
        from kiosk.config import load_settings
        from kiosk.db import migrate
        from kiosk.db.engine import null_pool_engine

        engine = null_pool_engine(load_settings().database_url)
        before, after = migrate.upgrade(engine)
        print(f"database at revision {after} (was {before or 'empty'})")
        return 0
    print("kiosk: the app is not built yet; see `kiosk --help`.", file=sys.stderr)
    return 2

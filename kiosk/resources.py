"""Where the shipped migrations and assets are, in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the kiosk's {name}/ folder is missing from this installation")


def migrations_dir() -> Path:
    return _find("migrations")


def assets_dir() -> Path:
    return _find("assets")


def asset_text(name: str) -> str:
    return (assets_dir() / name).read_text(encoding="utf-8")


SEED_POLICY_FILE = "school-aup-spring-2018.md"
SEED_POLICY_TITLE = "School Acceptable Use Policy"
SEED_POLICY_VERSION = "Spring 2018"

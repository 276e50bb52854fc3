"""The layer rule: ui/cli -> services -> db -> domain, and no Textual below the UI."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contracts_hold() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert f"Contracts: {len(contracts['contracts'])} kept, 0 broken." in proc.stdout


def test_domain_and_services_never_import_textual() -> None:
    code = (
        "import sys, pkgutil, importlib, kiosk.domain, kiosk.services\n"
        "for pkg in (kiosk.domain, kiosk.services):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(bad)\n"
        "raise SystemExit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- stock Textual outside kiosk/ui/tuning ------------------------------------------------------

KIOSK = ROOT / "kiosk"
TUNING = KIOSK / "ui" / "tuning"


def _outside_tuning() -> list[Path]:
    return sorted(p for p in KIOSK.rglob("*.py") if TUNING not in p.parents)


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_textual_private_imports_and_gc_calls_only_behind_the_tuning_door() -> None:
    """No file outside kiosk/ui/tuning imports from ``textual._*`` or uses ``gc``."""
    found: list[str] = []
    for path in _outside_tuning():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = node.module
                names = [alias.name for alias in node.names]
                if module.startswith("textual.") and "._" in f".{module}":
                    found.append(f"{where}:{node.lineno}: from {module} import ...")
                elif module.startswith("textual") and any(n.startswith("_") for n in names):
                    found.append(f"{where}:{node.lineno}: private name from {module}")
                elif module == "gc":
                    found.append(f"{where}:{node.lineno}: from gc import ...")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "gc" or (
                        alias.name.startswith("textual.") and "._" in f".{alias.name}"
                    ):
                        found.append(f"{where}:{node.lineno}: import {alias.name}")
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "gc"
            ):
                found.append(f"{where}:{node.lineno}: gc.{node.attr}")
    assert not found, "\n".join(found)


def test_no_textual_private_method_is_overridden_outside_the_tuning_door() -> None:
    """No class outside kiosk/ui/tuning (nor a mixin of one) defines a ``_method`` that a
    Textual class in its MRO also defines: an override of Textual's private parts."""
    import importlib
    import inspect

    found: list[str] = []
    ours: dict[str, Path] = {_module_name(p): p for p in _outside_tuning()}
    for name, path in ours.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        if not any(isinstance(node, ast.ClassDef) for node in ast.walk(tree)):
            continue
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != name:
                continue
            textual = [k for k in cls.__mro__ if k.__module__.split(".")[0] == "textual"]
            if not textual:
                continue
            for base in cls.__mro__:
                if base.__module__ not in ours:  # Textual's, the tuning door's, or builtins
                    continue
                for attr, value in vars(base).items():
                    if not attr.startswith("_") or attr.startswith("__"):
                        continue
                    if not callable(value) and not isinstance(value, property | classmethod):
                        continue
                    if any(attr in vars(k) for k in textual):
                        found.append(f"{base.__module__}.{base.__qualname__}.{attr}")
    assert not found, "\n".join(sorted(set(found)))

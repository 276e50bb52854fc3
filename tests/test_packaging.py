"""``pip install .`` (not editable) gives a working ``kiosk`` with its migrations and assets.

How, and why this way (the whole test takes about 20 s):

* The wheel is built from a copy of the source (pyproject.toml, README.md, kiosk/,
  migrations/, assets/) in a temporary folder, so the build's ``build/`` and
  ``*.egg-info`` never land in the shared checkout. ``pip wheel --no-deps`` uses build
  isolation: pip fetches ``setuptools>=68`` as pyproject.toml asks (the dev venv's own
  setuptools may be older and lack ``bdist_wheel``).
* The wheel must contain ``kiosk/migrations/versions/*.py``, ``kiosk/assets/*.md``,
  ``kiosk/ui/*.tcss`` and every module of the source tree: setuptools maps ``migrations/``
  and ``assets/`` into the package (``[tool.setuptools.package-dir]``), and a subpackage
  missing from ``packages`` would be silently left out.
* It is installed with ``pip install --no-deps`` into a new venv made from the dev venv's
  interpreter. Its dependencies (Textual, SQLAlchemy, Alembic, psycopg...) are those
  already installed in the dev venv, made visible by a ``.pth`` line naming the dev venv's
  site-packages: no download, and the test stays well under a minute. A path line in a
  ``.pth`` file does not run the dev venv's own ``.pth`` files, so the dev venv's editable
  install of the checkout stays out; the test checks that ``kiosk`` and its migrations
  and assets are imported from the new venv.
* Then the new venv's ``kiosk`` runs: ``--version``, ``db upgrade`` on a temporary SQLite
  file (the migrations run), ``policy
  list`` and ``demo`` (which publishes the seed AUP and the LA sample from the assets).
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kiosk import __version__
from kiosk.db import migrate

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "kiosk", "migrations", "assets")


def _run(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(source, src / name)
    dist = tmp_path_factory.mktemp("dist")
    proc = _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--disable-pip-version-check",
        "-w",
        dist,
        src,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (built,) = dist.glob("staff_room_kiosk-*.whl")
    return built


def test_wheel_contains_migrations_assets_styles_and_every_module(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    revisions = {n for n in names if n.startswith("kiosk/migrations/versions/")}
    shipped = {Path(p).name for p in revisions if p.endswith(".py") and "__init__" not in p}
    in_source = {p.name for p in (ROOT / "migrations" / "versions").glob("0*.py")}
    assert shipped == in_source and len(shipped) >= 2
    assert "kiosk/migrations/env.py" in names
    assert "kiosk/migrations/script.py.mako" in names
    assert {"kiosk/assets/school-aup-spring-2018.md", "kiosk/assets/la-aup-sample.md"} <= names
    for style in (ROOT / "kiosk" / "ui").rglob("*.tcss"):
        assert style.relative_to(ROOT).as_posix() in names
    modules = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "kiosk").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert modules - names == set()


def test_installed_kiosk_works(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    proc = _run(sys.executable, "-m", "venv", "--without-pip", venv)
    assert proc.returncode == 0, proc.stderr
    python = venv / "bin" / "python"
    proc = _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-deps",
        "--no-index",
        "--disable-pip-version-check",
        wheel,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    dev_site = next(p for p in site.getsitepackages() if Path(p, "sqlalchemy").is_dir())
    Path(purelib.stdout.strip(), "dev-venv-dependencies.pth").write_text(dev_site + "\n")

    work = tmp_path / "work"
    work.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KIOSK_", "PYTHON", "VIRTUAL_ENV"))
    }
    env |= {
        "KIOSK_DATA_DIR": str(tmp_path / "data"),
        "KIOSK_CONFIG_DIR": str(tmp_path / "config"),
        "KIOSK_LOG_DIR": str(tmp_path / "log"),
        "KIOSK_DATABASE_URL": f"sqlite:///{tmp_path / 'kiosk.sqlite3'}",
    }

    def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
        return _run(venv / "bin" / "kiosk", *args, cwd=work, env=env)

    where = _run(
        python,
        "-c",
        "import kiosk, kiosk.resources as r; print(kiosk.__file__); "
        "print(r.migrations_dir()); print(r.assets_dir())",
        cwd=work,
        env=env,
    )
    assert where.returncode == 0, where.stderr
    for line in where.stdout.splitlines():
        assert Path(line).is_relative_to(venv), line
    # The start-up schema check reads the head from the installed scripts, without Alembic.
    shipped = _run(
        python,
        "-c",
        "from kiosk.db import migrate; print(migrate.shipped_head())",
        cwd=work,
        env=env,
    )
    assert shipped.stdout.strip() == migrate.head_revision(), shipped.stderr

    proc = kiosk("--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, f"kiosk {__version__}"), proc.stderr

    proc = kiosk("db", "upgrade")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith(
        f"upgraded from empty to revision {migrate.head_revision()}."
    )
    assert (tmp_path / "kiosk.sqlite3").is_file()

    proc = kiosk("policy", "list")
    assert proc.returncode == 0, proc.stderr
    assert "Spring 2018" not in proc.stdout  # a new school has none of the seed's policies

    proc = kiosk("demo")
    assert proc.returncode == 0, proc.stderr
    assert "Demo admin PIN: 246810" in proc.stdout
    assert (tmp_path / "data" / "demo.sqlite3").is_file()

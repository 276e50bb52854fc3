"""Bring a database's schema to head, or refuse one that is newer than this code.

Alembic is imported only when it has work to do. A database that already records the head
revision this package ships (the usual start of a kiosk) is recognised by reading its
``alembic_version`` table and the ``revision`` lines of the shipped migration scripts, which
costs a query and three small file reads instead of Alembic's import (a tenth of a second and
about 10 MiB that the kiosk would then carry all day). Anything else (no version table, an
older revision, an unknown one, several rows, scripts that cannot be read that simply) goes
through Alembic exactly as before: it upgrades, or refuses a newer schema with SchemaTooNew.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from kiosk.domain.errors import SchemaTooNew
from kiosk.resources import migrations_dir

if TYPE_CHECKING:
    from alembic.config import Config

# ``revision: str = "0003"`` and ``down_revision: str | None = "0002"`` (or ``= None``), as
# Alembic's script template writes them. A merge (a tuple of down revisions) does not match:
# then the shipped head is not known without Alembic, and Alembic is asked.
_REVISION_LINE = re.compile(r"""^revision(?:\s*:[^=\n]*)?=\s*["']([^"'\n]+)["']\s*$""", re.M)
_DOWN_LINE = re.compile(
    r"""^down_revision(?:\s*:[^=\n]*)?=\s*(?:None|["']([^"'\n]+)["'])\s*$""", re.M
)


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if engine is not None:
        cfg.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@lru_cache(maxsize=1)
def shipped_head() -> str | None:
    """The head revision of the migration scripts shipped with this package, read from their
    ``revision`` / ``down_revision`` lines without importing Alembic; None when that reading
    is not certain (no scripts, a script without both lines, a merge, several heads)."""
    try:
        scripts = sorted((migrations_dir() / "versions").glob("*.py"))
        sources = [path.read_text(encoding="utf-8") for path in scripts]
    except (OSError, UnicodeDecodeError):
        return None
    revisions: set[str] = set()
    parents: set[str] = set()
    for source in sources:
        revision = _REVISION_LINE.findall(source)
        down = _DOWN_LINE.findall(source)
        if not revision and not down:
            continue  # not a revision script (``__init__.py``)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        if down[0]:
            parents.add(down[0])
    heads = revisions - parents
    if len(heads) != 1 or not parents <= revisions:
        return None
    return heads.pop()


def recorded_revisions(engine: Engine) -> list[str] | None:
    """The rows of the database's ``alembic_version`` table; None when it has no such table.
    Connection failures are raised as they are."""
    with engine.connect() as conn:
        try:
            return [str(v) for v in conn.scalars(text("SELECT version_num FROM alembic_version"))]
        except (OperationalError, ProgrammingError):
            return None  # no version table yet (or not readable as one): Alembic decides


def at_shipped_head(engine: Engine) -> bool:
    """True when the database records exactly the head revision shipped with this package."""
    head = shipped_head()
    return head is not None and recorded_revisions(engine) == [head]


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_not_newer(engine: Engine) -> str | None:
    """Raise SchemaTooNew when the database has a revision this code does not know."""
    from alembic.script import ScriptDirectory

    current = current_revision(engine)
    script = ScriptDirectory.from_config(alembic_config())
    if current is not None:
        try:
            script.get_revision(current)
        except Exception:
            raise SchemaTooNew(
                f"This database was upgraded by a newer version of the kiosk (revision "
                f"{current}). Install the newer kiosk software; nothing was changed."
            ) from None
    return current


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Upgrade to ``revision``; return (before, after). A database already at the shipped
    head is left as it is without importing Alembic (what Alembic would do, more slowly)."""
    if revision == "head" and at_shipped_head(engine):
        head = shipped_head()
        assert head is not None
        return head, head
    from alembic import command

    before = check_not_newer(engine)
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()
    return before, current_revision(engine) or ""


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    cfg = alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()


def is_at_head(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()

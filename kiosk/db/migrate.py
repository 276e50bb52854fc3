"""Bring a database's schema to head, or refuse one that is newer than this code."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from kiosk.domain.errors import SchemaTooNew
from kiosk.resources import migrations_dir


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if engine is not None:
        cfg.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_not_newer(engine: Engine) -> str | None:
    """Raise SchemaTooNew when the database has a revision this code does not know."""
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
    """Upgrade to ``revision``; return (before, after)."""
    before = check_not_newer(engine)
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()
    return before, current_revision(engine) or ""


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()


def is_at_head(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()

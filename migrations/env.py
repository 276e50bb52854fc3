"""Alembic environment: runs on a connection handed in by kiosk.db.migrate, or on the URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection, Engine

from kiosk.config import load_settings
from kiosk.db.engine import null_pool_engine
from kiosk.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or load_settings().database_url
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if isinstance(connection, Engine):  # pytest-alembic hands over an engine
        with connection.connect() as conn:
            run_on(conn)
            conn.commit()
        return
    if connection is not None:
        run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or load_settings().database_url
    engine = null_pool_engine(url)
    with engine.connect() as conn:
        run_on(conn)
        conn.commit()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

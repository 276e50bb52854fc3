"""Engine and session factory, with the SQLite settings a durable register needs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

SQLITE_BUSY_TIMEOUT_MS = 15_000


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 here."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine. On SQLite: WAL, synchronous=FULL, foreign keys, busy timeout.

    SQLite transactions begin DEFERRED for reads; a connection whose execution options
    carry ``kiosk_write=True`` (see :func:`write_engine`) begins IMMEDIATE, so two kiosks
    that read-then-write are serialised instead of failing with "database is locked".
    """
    url = normalise_url(url)
    is_sqlite = make_url(url).get_backend_name() == "sqlite"
    if is_sqlite:
        kwargs.setdefault("connect_args", {})
        kwargs["connect_args"].setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        kwargs["connect_args"].setdefault("check_same_thread", False)
        if ":memory:" in url or make_url(url).database in (None, ""):
            raise ValueError("the kiosk needs a database file, not an in-memory database")
    else:
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("connect_args", {"connect_timeout": 5})
    engine = create_engine(url, **kwargs)
    if is_sqlite:
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("kiosk_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def write_engine(engine: Engine) -> Engine:
    """The same pool, with transactions that take the write lock up front (SQLite)."""
    return engine.execution_options(kiosk_write=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def null_pool_engine(url: str) -> Engine:
    """An engine without a pool, for one-off CLI work and tests that fork."""
    return make_engine(url, poolclass=NullPool)

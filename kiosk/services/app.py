"""The services facade the UI and the CLI use."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from kiosk.config import Settings
from kiosk.db import migrate
from kiosk.db.engine import make_engine, on_network_share, sqlite_uri
from kiosk.domain.errors import ClockWrong, DatabaseUnavailable
from kiosk.domain.text import display_text
from kiosk.domain.timeutil import utc_now
from kiosk.services.admin import AdminService
from kiosk.services.backup import BackupService
from kiosk.services.devices import DeviceService
from kiosk.services.integrity import IntegrityService
from kiosk.services.notices import NotifyService
from kiosk.services.people import PeopleService
from kiosk.services.phones import PhoneService
from kiosk.services.policies import PolicyService
from kiosk.services.register import RegisterService
from kiosk.services.scan import ScanService
from kiosk.services.school import SchoolService
from kiosk.services.uow import (
    DAMAGED,
    DISK_FULL,
    LOCKED,
    ON_A_SHARE,
    PG_LOGIN_REFUSED,
    PG_NO_CONNECTION_LEFT,
    ServiceContext,
    damaged,
    disk_full,
    is_locked,
    lock_holders,
    login_refused,
    no_connection_left,
    server_clock_wrong,
    sqlite_path,
)

log = logging.getLogger(__name__)


class Services:
    """Every use case of the kiosk, grouped: ``services.phones.deposit(...)``."""

    def __init__(
        self, engine: Engine, settings: Settings, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.ctx = ServiceContext(engine, settings, clock)
        self.settings = settings
        self.phones = PhoneService(self.ctx)
        self.devices = DeviceService(self.ctx)
        self.people = PeopleService(self.ctx)
        self.scans = ScanService(self.phones, self.people)
        self.policies = PolicyService(self.ctx)
        self.register = RegisterService(self.ctx)
        self.admin = AdminService(self.ctx)
        self.integrity = IntegrityService(self.ctx)
        self.backup = BackupService(self.ctx)
        self.school = SchoolService(self.ctx)
        self.notify = NotifyService(self.ctx, self)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        upgrade: bool = True,
        create: bool = True,
        check_clock: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> Services:
        """Connect to the configured database, bringing its schema to head.

        ``create=False`` (the kiosk, the console and most commands): an SQLite file that does
        not exist is not made, but refused in words. A mistyped path, or the kiosk run as
        another user than the one who set the school up, would otherwise start an empty
        register silently; only `kiosk setup`, `kiosk db upgrade` and the demo create one."""
        if not create:
            refuse_missing_register(settings.database_url)
        clock = clock or utc_now
        engine = open_engine(settings.database_url)
        try:
            if upgrade:
                prepare_database(engine)
            if check_clock:
                clock_against_server(engine, clock(), settings.zone)
        except BaseException:
            engine.dispose()  # the kiosk retries: do not leave a pool behind each time
            raise
        services = cls(engine, settings, clock)
        services.ctx.check_server_clock = check_clock
        return services

    def close(self) -> None:
        self.ctx.engine.dispose()


def clock_against_server(engine: Engine, now: datetime, zone: Any) -> None:
    """ClockWrong when this kiosk's clock and the PostgreSQL server's differ by more than
    ``CLOCK_SKEW``, asked as the kiosk app opens the register (and each time it reconnects;
    its writes ask again: :func:`kiosk.services.uow.server_clock_wrong`)."""
    from sqlalchemy.exc import SQLAlchemyError

    if engine.dialect.name != "postgresql":
        return
    try:
        with engine.connect() as conn:
            said = server_clock_wrong(conn, now, zone)
    except SQLAlchemyError:
        return  # said when the kiosk records
    if said is not None:
        raise ClockWrong(said)


URL_FORMS = (
    "sqlite:////path/to/kiosk.sqlite3 (one kiosk) or postgresql://USER@HOST/DATABASE "
    "(several kiosks)"
)


def refuse_missing_register(url: str) -> None:
    """``DatabaseUnavailable`` when ``url`` is an SQLite file that does not exist (yet)."""
    from pathlib import Path

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return  # open_engine says what is wrong with it
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    if sqlite_uri(parsed):
        return  # open_engine says what is wrong with it (no file is named by its path)
    path = Path(parsed.database)
    if not path.exists():
        raise DatabaseUnavailable(
            f"There is no register at {path} yet. A new school starts with `kiosk setup` (or "
            "`kiosk db upgrade`), run as the user the kiosk runs as; otherwise check "
            "KIOSK_DATABASE_URL and which user runs the kiosk."
        )


def open_engine(url: str) -> Engine:
    """An engine for ``url``, or ``DatabaseUnavailable`` saying in words what is wrong with
    it: not a URL, a database the kiosk does not support, a driver that is not installed."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable(
            f"The database setting (KIOSK_DATABASE_URL) is not a database URL. Use {URL_FORMS}."
        ) from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseUnavailable(
            f"The database setting (KIOSK_DATABASE_URL) names {backend}, which the kiosk does "
            f"not support. Use {URL_FORMS}."
        )
    if backend == "postgresql" and parsed.drivername not in (
        "postgresql",
        "postgres",
        "postgresql+psycopg",
    ):
        raise DatabaseUnavailable(
            f"The database setting (KIOSK_DATABASE_URL) asks for the {driver} driver: the kiosk "
            "talks to PostgreSQL with psycopg. Write it postgresql://USER@HOST/DATABASE."
        )
    try:
        return make_engine(url)
    except ImportError as exc:
        raise DatabaseUnavailable(
            f"The driver for this database is not installed ({exc.name or exc}). Use {URL_FORMS}."
        ) from None
    except (ArgumentError, ValueError) as exc:
        raise DatabaseUnavailable(f"The database setting cannot be used: {exc}.") from None


def prepare_database(engine: Engine) -> None:
    """Create the SQLite folder, then upgrade to head (or refuse a newer schema). On a
    network share (``on_network_share``) nothing is created or upgraded: a register already
    at this kiosk's revision is opened (for reading: its writes are refused in words)."""
    from sqlalchemy.exc import SQLAlchemyError

    share = on_network_share(engine)
    if engine.url.get_backend_name() == "sqlite" and engine.url.database:
        import contextlib
        import os
        from pathlib import Path

        path = Path(engine.url.database).expanduser()
        if share is not None and not path.exists():
            log.error("the register's SQLite file would be on a network share (%s)", share)
            raise DatabaseUnavailable(ON_A_SHARE.format(done="Not created", share=share))
        folder = path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise DatabaseUnavailable(
                f"The database folder {folder} cannot be created ({exc.strerror or exc})."
            ) from exc
        # The register holds personal data: only the kiosk's user may read the file (an empty
        # file is an empty SQLite database; its -wal and -shm files take its mode).
        with contextlib.suppress(OSError):  # there already, or not ours to create: SQLite says
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        if share is not None and not migrate.at_shipped_head(engine):
            # An upgrade writes the schema and (0005's baseline) events: two kiosks doing it
            # over one shared file could each write over the other's.
            log.error("the register's SQLite file is on a network share (%s): not upgraded", share)
            raise DatabaseUnavailable(ON_A_SHARE.format(done="Not upgraded", share=share))
        migrate.upgrade(engine)
    except SQLAlchemyError as exc:
        if is_locked(exc):
            raise DatabaseUnavailable(
                f"The database cannot be opened: {LOCKED}. Nothing was changed: close it and "
                "try again."
            ) from exc
        if (why := damaged(exc)) is not None:
            raise DatabaseUnavailable(
                f"The database cannot be opened: {DAMAGED.format(why)}.",
                refusal=f"Not recorded: {DAMAGED.format(why)}.",
            ) from exc
        if disk_full(exc, sqlite_path(engine)):
            raise DatabaseUnavailable(
                f"The database cannot be opened: {DISK_FULL}.",
                refusal=f"Not recorded: {DISK_FULL}.",
            ) from exc
        if no_connection_left(exc):
            raise DatabaseUnavailable(
                f"The database cannot be opened: {PG_NO_CONNECTION_LEFT}"
            ) from exc
        if (refused := login_refused(exc)) is not None:
            raise DatabaseUnavailable(
                f"The database cannot be opened: {PG_LOGIN_REFUSED.format(refused)}",
                refusal=f"Not recorded: {PG_LOGIN_REFUSED.format(refused)}",
            ) from exc
        if getattr(getattr(exc, "orig", None), "sqlstate", None) == "55P03":
            # A change to a table waits for every transaction that has read it: a login
            # (a kiosk's too) that reads one and leaves its transaction open holds it up.
            holders = lock_holders(engine, exc, any_lock=True)
            raise DatabaseUnavailable(
                "The database cannot be upgraded: another connection holds a lock on the "
                f"register (a kiosk, or a database tool left inside a transaction?){holders}. "
                "Nothing was changed: run `kiosk db upgrade` again once it is let go."
            ) from exc
        if (said := _version_record_problem(engine, exc)) is not None:
            raise DatabaseUnavailable(said) from exc
        raise DatabaseUnavailable(
            f"The database cannot be opened ({type(exc).__name__}). Check KIOSK_DATABASE_URL."
        ) from exc


def _version_record_problem(engine: Engine, exc: Exception) -> str | None:
    """Words for an upgrade that failed on a database recording an older revision of the
    kiosk's schema than its tables have (``alembic_version`` set back by hand: each start
    tried the next revision again and failed); None when that is not the case."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        recorded = migrate.recorded_revisions(engine)
    except SQLAlchemyError:
        return None
    head = migrate.shipped_head()
    why = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
    there_already = "already exists" in why or "duplicate column" in why
    if not recorded or head is None or recorded == [head] or not there_already:
        return None
    shown = ", ".join(display_text(r)[:40] for r in recorded)
    return (
        f"The database cannot be opened: it records revision {shown} of the kiosk's schema "
        f"(this kiosk's is {head}), yet it already has what a later revision adds "
        f"({display_text(why)[:120]}): its record of the revision (the alembic_version table) "
        "was changed by hand, or an upgrade was stopped outside the kiosk. Nothing was "
        "changed: keep the file as it is and tell whoever looks after the kiosk."
    )

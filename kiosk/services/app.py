"""The services facade the UI and the CLI use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from kiosk.config import Settings
from kiosk.db import migrate
from kiosk.db.engine import make_engine
from kiosk.domain.errors import DatabaseUnavailable
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
from kiosk.services.school import SchoolService
from kiosk.services.uow import ServiceContext


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
        self.policies = PolicyService(self.ctx)
        self.register = RegisterService(self.ctx)
        self.admin = AdminService(self.ctx)
        self.integrity = IntegrityService(self.ctx)
        self.backup = BackupService(self.ctx)
        self.school = SchoolService(self.ctx)
        self.notify = NotifyService(self.ctx, self)

    @classmethod
    def open(cls, settings: Settings, *, upgrade: bool = True) -> Services:
        """Connect to the configured database, bringing its schema to head."""
        engine = make_engine(settings.database_url)
        if upgrade:
            try:
                prepare_database(engine)
            except BaseException:
                engine.dispose()  # the kiosk retries: do not leave a pool behind each time
                raise
        return cls(engine, settings)

    def close(self) -> None:
        self.ctx.engine.dispose()


def prepare_database(engine: Engine) -> None:
    """Create the SQLite folder, then upgrade to head (or refuse a newer schema)."""
    from sqlalchemy.exc import SQLAlchemyError

    if engine.url.get_backend_name() == "sqlite" and engine.url.database:
        from pathlib import Path

        folder = Path(engine.url.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailable(
                f"The database folder {folder} cannot be created ({exc.strerror or exc})."
            ) from exc
    try:
        migrate.upgrade(engine)
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(
            f"The database cannot be opened ({type(exc).__name__}). Check KIOSK_DATABASE_URL."
        ) from exc

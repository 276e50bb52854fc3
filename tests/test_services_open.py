"""Services.open on a database that cannot be opened says so in plain words."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import Settings
from kiosk.domain.errors import DatabaseUnavailable
from kiosk.services.app import Services


def test_sqlite_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    settings = Settings(database_url=f"sqlite:///{blocker / 'kiosk.sqlite3'}")
    with pytest.raises(DatabaseUnavailable, match="cannot be created"):
        Services.open(settings)
    blocker.unlink()
    services = Services.open(settings)
    assert {s.code for s in services.phones.stores()} == {"STAFFROOM", "DRAWER"}  # migrated
    assert not services.policies.current()  # a new school: no one else's policy
    services.close()

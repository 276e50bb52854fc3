"""Round 5 of the red team on the record: attacks the earlier rounds did not try.

Each test here failed on main before its fix (see the commit that added it).
"""

from __future__ import annotations

from kiosk.config import Settings
from kiosk.db.engine import make_engine
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.reliability.helpers import meddle
from tests.reliability.test_attacks import _admin_id, _append, said, shift_school

# --- a forged purge checkpoint in the middle of the chain excused a missing witness ------------


def test_a_checkpoint_that_removed_nothing_does_not_excuse_the_missing_witness(
    sqlite_url: str, clock: FakeClock
) -> None:
    """A shell with the key cuts the newest events off (a deposit among them: the newest event
    at the last check, named by this machine's witness file) and appends, in the deposit's
    place but under the next id, a purge checkpoint with lawful dates "removing" everything up
    to the deposit. Nothing before it was removed: the register still starts at its first
    event. Verify took the checkpoint's word that the witness had been purged: "Register
    intact", the witness file left in place and never heeded."""
    services = Services(
        make_engine(sqlite_url), Settings(kiosk_name="k1", database_url=sqlite_url), clock
    )
    try:
        shift_school(services)
        deposit = services.phones.deposit("BJONES").event_id
        checked = services.integrity.verify()  # witness: the deposit (file and chain)
        assert checked.ok and checked.witness_id == deposit
        with meddle(sqlite_url) as db:
            db.execute("DELETE FROM events WHERE id >= %s", (deposit,))
            head = db.event(deposit - 1)
            at = head["occurred_at"]
            admin = _admin_id(db)
            _append(
                db,
                {
                    "id": deposit + 1,  # the deposit's id is left empty: "purged"
                    "kind": "admin_action",
                    "category": "admin",
                    "staff_id": admin,
                    "recorded_by_id": admin,
                    "details": {
                        "action": "events_purged",
                        "before": "2020-01-01",
                        "last_removed_id": deposit,
                        "last_removed_hash": "f" * 64,
                        "last_removed_at": "2019-12-31T08:00:00.000000+00:00",
                        "last_removed_position": deposit,
                        "removed": deposit,
                    },
                    "occurred_at": at,
                },
            )
        assert "BJONES" not in {h.staff.code for h in services.phones.phones_now()}

        report = services.integrity.verify()
        again = services.integrity.verify()  # the witness stays put: still named

        for result in (report, again):
            assert not result.ok
            assert f"event {deposit}, the newest at an earlier check, is missing" in said(result)
            assert f"purge checkpoint {deposit + 1} says it removed events up to {deposit}" in (
                said(result)
            )
    finally:
        services.close()

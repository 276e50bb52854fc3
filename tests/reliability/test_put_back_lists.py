"""The office puts the lists back after they were changed in the database (`kiosk lists
put-back`, services.backup.put_back_lists): a row changed there, by the kiosks' login or a
shell without the school key, was refused at the office's next change ("changed directly in
the database") with no way on but a restore, and verify named every event the kiosks
recorded on it meanwhile. Put back, each row is as the register's own record of it, recorded
again by the admin; the changes made in the database stay in the history, named by verify."""

from __future__ import annotations

import io
import json
import sys

import pytest

from kiosk.cli import main
from kiosk.domain.errors import RuleViolation
from kiosk.services.app import Services
from kiosk.services.reference import table_rows
from tests.conftest import FakeClock
from tests.reliability.helpers import is_sqlite, meddle, shell_file, started_again, without_triggers
from tests.reliability.test_attacks import said, shift_school
from tests.reliability.test_attacks_round18_rec import _forge_dated_ahead
from tests.ui.conftest import ADMIN_PIN


def _staff_row(db_url: str, code: str) -> tuple[int, dict[str, object]]:
    """The register's newest record of ``code``'s row (its id and row)."""
    with meddle(db_url) as db:
        rows = db.execute("SELECT details FROM events WHERE kind = 'reference_changed' ORDER BY id")
    found = {}
    for (details,) in rows:
        d = details if isinstance(details, dict) else json.loads(details)
        if d["table"] == "staff":
            found[d["row"]["code"]] = (d["key"], d["row"])
    return found[code]


def test_codes_swapped_without_the_key_are_put_back_by_the_office(
    services: Services, db_url: str, clock: FakeClock
) -> None:
    shift_school(services)
    alice_id, alice = _staff_row(db_url, "ASMITH")
    ben_id, ben = _staff_row(db_url, "BJONES")
    # The kiosks' login swaps Alice's and Ben's codes, and gives Ben the admin role (the
    # database applies each change to the table).
    url = services.ctx.engine.url.render_as_string(hide_password=False)
    forged = []
    for key, row in (
        (alice_id, alice | {"code": "SWAPTMP"}),
        (ben_id, ben | {"code": "ASMITH", "roles": ["admin", "breakfast_club_lead"]}),
        (alice_id, alice | {"code": "BJONES"}),
    ):
        forged += [
            _forge_dated_ahead(
                url,
                "reference_changed",
                {"table": "staff", "key": key, "row": row},
                at=clock(),
                category="reference",
            )
        ]
        if not is_sqlite(db_url):  # (the helper forges with the triggers off: applied here)
            with meddle(db_url) as db:
                db.execute("UPDATE staff SET code = %s WHERE id = %s", (row["code"], key))
                db.execute("DELETE FROM staff_roles WHERE staff_id = %s", (key,))
                for role in row["roles"]:  # type: ignore[attr-defined]
                    db.execute(
                        "INSERT INTO staff_roles (staff_id, role) VALUES (%s, %s)", (key, role)
                    )
    assert services.people.status("ASMITH").staff.name == "Ben Jones"
    with pytest.raises(RuleViolation, match=r"changed directly in the database.*lists put-back"):
        services.people.import_staff_csv(
            b"code,name,email\nASMITH,Alice Smith,alice@school.example\n", admin_code="CHEAD"
        )

    report = services.backup.put_back_lists("CHEAD")

    assert len(report.put_back) == 2, report.summary
    assert not report.left, report.summary
    assert "the person ASMITH (code)" in report.summary
    assert "the person BJONES (code, roles)" in report.summary
    with services.ctx.engine.connect() as conn:
        stored = table_rows(conn, "staff")
    assert stored[alice_id] == alice and stored[ben_id] == ben
    assert services.people.status("ASMITH").staff.name == "Alice Smith"
    assert "admin" not in services.people.status("BJONES").staff.roles
    # The office's change goes in again, and Alice's deposit is hers.
    services.people.import_staff_csv(
        b"code,name,email\nASMITH,Alice Smith,alice@school.example\n", admin_code="CHEAD"
    )
    deposit = services.phones.deposit("ASMITH").event_id
    assert services.people.status("ASMITH").phone is not None
    assert services.people.status("BJONES").phone is None
    # The history keeps the forged changes: verify still names them, and not the deposit
    # nor the changes put back.
    verdict = said(services.integrity.verify(save=False))
    assert all(f"event {event} has no MAC" in verdict for event in forged), verdict
    assert str(deposit) not in verdict and "put back" not in verdict, verdict
    # Nothing left to put back.
    again = services.backup.put_back_lists("CHEAD")
    assert again.put_back == () and "nothing to put back" in again.summary


def test_a_row_edited_in_the_file_is_put_back_from_the_command_line(
    sqlite_services: Services,
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = sqlite_services
    shift_school(services)
    services.admin.set_pin(ADMIN_PIN, admin_code="CHEAD")
    with shell_file(services) as conn:
        without_triggers(
            conn,
            "UPDATE staff SET name = 'Mallory Smith' WHERE code = 'ASMITH'",
            "INSERT INTO staff (code, name, created_at) VALUES ('MALLORY', 'Mallory', "
            "'2024-01-01 00:00:00.000000')",
            "UPDATE devices SET tag = 'LAP-009' WHERE tag = 'LAP-001'",
        )
    monkeypatch.setenv("KIOSK_DATABASE_URL", services.settings.database_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{ADMIN_PIN}\n"))

    code = main(["lists", "put-back", "--admin", "CHEAD", "--pin-stdin", "--yes"])

    out, err = capsys.readouterr()
    assert code == 0, err
    assert "the person ASMITH (name)" in out
    assert "the device LAP-001 (tag)" in out
    assert "MALLORY: added in the database, never recorded" in out
    services = started_again(services, clock)
    try:
        assert services.people.status("ASMITH").staff.name == "Alice Smith"
        with services.ctx.engine.connect() as conn:
            assert "LAP-001" in {row["tag"] for row in table_rows(conn, "devices").values()}
        # The row added in the file is still named.
        assert "in the table but never recorded" in said(services.integrity.verify(save=False))
    finally:
        services.close()


def test_only_an_admin_puts_the_lists_back(services: Services) -> None:
    shift_school(services)
    with pytest.raises(RuleViolation, match="only admins"):
        services.backup.put_back_lists("ASMITH")


@pytest.mark.parametrize(
    ("statements", "code"),
    [
        # Ben given the admin role in the table: he signs in with his own code.
        (
            [
                "INSERT INTO staff_roles (staff_id, role) SELECT id, 'admin' FROM staff "
                "WHERE code = 'BJONES'"
            ],
            "BJONES",
        ),
        # Ben given Alice's code and the admin role: Alice's code signs Ben in.
        (
            [
                "UPDATE staff SET code = 'SWAPTMP' WHERE code = 'ASMITH'",
                "UPDATE staff SET code = 'ASMITH' WHERE code = 'BJONES'",
                "UPDATE staff SET code = 'BJONES' WHERE code = 'SWAPTMP'",
                "INSERT INTO staff_roles (staff_id, role) SELECT id, 'admin' FROM staff "
                "WHERE code = 'ASMITH'",
            ],
            "ASMITH",
        ),
    ],
)
def test_an_admin_only_in_the_changed_table_does_not_put_the_lists_back(
    sqlite_services: Services, clock: FakeClock, statements: list[str], code: str
) -> None:
    """The admin role (or the code) given in the database itself is what put-back is for:
    signed in from that table, Ben recorded every row put back under the school key as his
    change, and verify then named each as recorded by someone who was not an admin."""
    services = sqlite_services
    shift_school(services)
    with shell_file(services) as conn:
        without_triggers(conn, *statements)
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    services = started_again(services, clock)
    try:
        with pytest.raises(RuleViolation, match=rf"register does not record {code} as an admin"):
            services.backup.put_back_lists(code)
        with services.ctx.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM events").scalar() == events
        # A real admin puts them back, and verify names no put-back change.
        assert services.backup.put_back_lists("CHEAD").put_back
        assert "not an admin" not in said(services.integrity.verify(save=False))
    finally:
        services.close()


def test_a_code_taken_by_a_row_added_in_the_database_is_left_and_said_so(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """Alice's code given to a row added in the file (never recorded, so never removed or
    recorded by put-back): Alice is left as she is, and the summary says who holds her code
    (it said "held by another row, as recorded", and the row is not recorded)."""
    services = sqlite_services
    shift_school(services)
    with shell_file(services) as conn:
        without_triggers(
            conn,
            "UPDATE staff SET code = 'ASMITH2' WHERE code = 'ASMITH'",
            "INSERT INTO staff (id, code, name, created_at) VALUES (66, 'ASMITH', 'Mallory', "
            "'2024-01-01 00:00:00.000000')",
        )
    services = started_again(services, clock)
    try:
        summary = services.backup.put_back_lists("CHEAD").summary
        assert (
            "the person ASMITH (code): not put back: its code is held by the person number 66, "
            "added in the database and never recorded" in summary
        ), summary
        assert "as recorded" not in summary.split("Left as they are")[1], summary
    finally:
        services.close()


def test_a_swap_is_put_back_when_rows_added_there_hold_the_codes_it_moves_aside_to(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """Two codes swapped, and rows added in the file holding "~2" and "~3" (the codes a
    swapped row was moved aside to, by its number): put-back stopped with "the database is
    unavailable. Please try again", every time, and the swap stayed."""
    services = sqlite_services
    shift_school(services)
    with shell_file(services) as conn:
        alice, ben = (
            conn.execute("SELECT id FROM staff WHERE code = ?", (code,)).fetchone()[0]
            for code in ("ASMITH", "BJONES")
        )
        without_triggers(
            conn,
            "UPDATE staff SET code = 'SWAPTMP' WHERE code = 'ASMITH'",
            "UPDATE staff SET code = 'ASMITH' WHERE code = 'BJONES'",
            "UPDATE staff SET code = 'BJONES' WHERE code = 'SWAPTMP'",
            *(
                f"INSERT INTO staff (code, name, created_at) VALUES ('~{key}', 'Mallory {key}', "
                "'2024-01-01 00:00:00.000000')"
                for key in (alice, ben)
            ),
        )
    services = started_again(services, clock)
    try:
        report = services.backup.put_back_lists("CHEAD")
        assert len(report.put_back) == 2, report.summary
        assert services.people.status("ASMITH").staff.name == "Alice Smith"
        assert services.people.status("BJONES").staff.name == "Ben Jones"
        with services.ctx.engine.connect() as conn:
            codes = {row["code"]: row["name"] for row in table_rows(conn, "staff").values()}
        assert codes[f"~{alice}"] == f"Mallory {alice}"  # left, and named
        assert f"~{alice}: added in the database" in report.summary
    finally:
        services.close()


def test_a_row_that_cannot_go_back_is_not_moved_aside_to_a_code_nobody_chose(
    sqlite_services: Services, clock: FakeClock
) -> None:
    """Alice given Ben's code, and a row added in the file holding hers: Alice cannot go back
    (her code is held by a row put-back neither records nor removes), so Ben cannot either.
    Alice was moved aside all the same, and the register recorded her code as "~2", a code
    nobody chose, as the admin's change; both are left now, and nothing is recorded."""
    services = sqlite_services
    shift_school(services)
    with shell_file(services) as conn:
        without_triggers(
            conn,
            "UPDATE staff SET code = 'BJ2' WHERE code = 'BJONES'",
            "UPDATE staff SET code = 'BJONES' WHERE code = 'ASMITH'",
            "INSERT INTO staff (code, name, created_at) VALUES ('ASMITH', 'Mallory', "
            "'2024-01-01 00:00:00.000000')",
        )
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    services = started_again(services, clock)
    try:
        report = services.backup.put_back_lists("CHEAD")
        assert report.put_back == (), report.summary
        assert "the person BJONES (code): not put back: its code is held by the person" in (
            report.summary
        )
        with services.ctx.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM events").scalar() == events
            codes = {row["code"] for row in table_rows(conn, "staff").values()}
        assert not any(code.startswith("~") for code in codes), codes
    finally:
        services.close()

"""Round 12 of the typing red team, the office side: a table whose rows change while the
admin acts on the one they chose, on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from textual.widgets import DataTable, Input, Select

from kiosk.domain.events import ReviewStatus
from kiosk.services.app import Services
from kiosk.services.register import RegisterFilter
from kiosk.ui.admin.dialogs import FormDialog
from tests.conftest import START, FakeClock
from tests.school import make_school
from tests.ui.admin_support import (
    SIZE,
    ConsoleHost,
    messages,
    open_services,
    quiet,
    second_writer,
    wait_until,
)
from tests.ui.keyboard import typed

pytestmark = pytest.mark.ui


@pytest.fixture
def services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    svc = open_services(sqlite_url, clock)
    clock.set(START - timedelta(days=7))
    make_school(svc)
    clock.set(START)
    yield svc
    svc.close()


def _table(app: ConsoleHost, table_id: str) -> DataTable[object]:
    return app.screen.query_one(f"#{table_id}", DataTable)


async def test_a_review_done_elsewhere_leaves_no_other_row_chosen_for_the_next_key(
    services: Services, clock: FakeClock, sqlite_url: str
) -> None:
    """The admin has Esha's request highlighted; another console marks it done, and the
    reload takes her row away. Before, the highlight fell on Alice's request: "d", a note and
    Enter, typed for Esha's, marked Alice's done. Now no row is chosen until the admin moves
    the cursor (or Enter, a click): the keys do nothing, and the line says so."""
    anna = services.policies.request_workstation_review("ASMITH", "A laptop stand")
    esha = services.policies.request_workstation_review("EPATEL", "A footrest")
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        reviews = _table(app, "reviews-table")
        await wait_until(pilot, lambda: reviews.row_count == 2)
        reviews.focus()
        await pilot.pause()
        keys = [reviews.coordinate_to_cell_key((i, 0)).row_key.value for i in range(2)]
        reviews.move_cursor(row=keys.index(str(esha.event_id)))
        await pilot.pause()
        # Another console marks Esha's done; the poll reloads the view.
        with second_writer(sqlite_url, clock) as other:
            other.policies.update_review(esha.event_id, ReviewStatus.DONE, admin_code="DOFFICE")
        await wait_until(pilot, lambda: reviews.row_count == 1, timeout=8)
        await typed(pilot, "d")
        await typed(pilot, "footrest ordered⏎")
        await quiet(pilot)
        assert not isinstance(app.screen, FormDialog)
        assert [r.event_id for r in services.policies.reviews()] == [anna.event_id]
        assert services.policies.reviews()[0].status == ReviewStatus.OPEN.value
        assert any("no longer in the list" in m for m in messages(app))
        # Enter on the row left chooses it: "d" is for Alice's, saying so.
        await typed(pilot, "⏎d")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        assert "Alice Smith: A laptop stand" in str(app.screen.intro)


async def test_a_review_marked_done_elsewhere_is_not_taken_up_again_from_a_stale_dialog(
    services: Services, clock: FakeClock, sqlite_url: str
) -> None:
    """The admin opens "Mark taken up" for Esha's open request; before they save, another
    console marks it done. Before, their note and Enter recorded "taken up" after "done":
    the request came back as taken up, the other admin's "done" undone by a dialog showing a
    state that no longer was. Now the save is refused in the dialog, nothing recorded."""
    esha = services.policies.request_workstation_review("EPATEL", "A footrest")
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        reviews = _table(app, "reviews-table")
        await wait_until(pilot, lambda: reviews.row_count == 1)
        reviews.focus()
        await typed(pilot, "u")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        with second_writer(sqlite_url, clock) as other:
            other.policies.update_review(esha.event_id, ReviewStatus.DONE, admin_code="DOFFICE")
        await typed(pilot, "ordered⏎")
        await quiet(pilot)
        assert isinstance(app.screen, FormDialog)
        assert any("marked done" in m and "meanwhile" in m for m in messages(app))
        updates = services.register.day(
            START.date(), RegisterFilter(kind="workstation_review_updated")
        ).rows
        assert [u.detail.split(";")[0] for u in updates] == ["status: done"]
        assert services.policies.reviews() == ()


async def test_granted_by_names_which_of_two_slt_members_sharing_a_name_was_chosen(
    services: Services,
) -> None:
    """Two members of SLT called Carol Head. Before, "Granted by" offered "Carol Head" twice,
    both recorded as the same "Carol Head": the register could not say which of the two the
    office chose, nor the office see which line was which. Now a name two people share is
    offered and recorded with the code."""
    services.people.add_staff("CHEAD2", "Carol Head", roles=["slt"], admin_code="DOFFICE")
    app = ConsoleHost(services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        await wait_until(
            pilot, lambda: app.focused is not None and app.focused.id == "exemptions-table"
        )
        await quiet(pilot)
        await typed(pilot, "a")
        await wait_until(pilot, lambda: isinstance(app.screen, FormDialog))
        head = app.screen.query_one("#field-head", Select)
        labels = [str(label) for label, value in head._options if value != Select.NULL]
        assert len(set(labels)) == len(labels) == 2
        assert "Carol Head (CHEAD2)" in labels
        app.screen.query_one("#field-staff", Select).value = "CHEAD"
        head.value = next(v for label, v in head._options if str(label) == "Carol Head (CHEAD2)")
        until = app.screen.query_one("#field-until", Input)
        until.focus()
        await typed(pilot, "31/07/2026⏎")
        await wait_until(pilot, lambda: not isinstance(app.screen, FormDialog))
    exemption = services.policies.exemptions()[0]
    assert exemption.granted_by == "Carol Head (CHEAD2)"

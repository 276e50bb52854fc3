"""Hostile text on the screens, round 15: what the console draws (and so sends to the
office's browser under ``kiosk admin --serve``), and what the kiosk's return screen keeps in
view."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.school import make_school
from tests.test_hostile_round15 import ZALGO, _most_marks
from tests.ui.admin_support import ConsoleHost, open_services, wait_until
from tests.ui.test_admin_hostile_text import drawn

pytestmark = pytest.mark.ui


@pytest.fixture
def services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    svc = open_services(sqlite_url, clock)
    make_school(svc)
    svc.phones.deposit("BJONES")
    with svc.ctx.engine.begin() as connection:  # stored before the rule, or by hand
        connection.execute(
            sa.text("UPDATE staff SET name = :n WHERE code = 'BJONES'"), {"n": ZALGO}
        )
    yield svc
    svc.close()


async def test_the_register_draws_a_few_marks_on_a_letter_not_190(services: Services) -> None:
    # 190 combining marks on one letter of a name, drawn in the register (and its staff
    # filter), kept the office's browser busy for minutes drawing the console (the page
    # could not be used); a terminal draws them over the rows above and below.
    app = ConsoleHost(services)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: "(BJONES)" in drawn(app)[0], what="Ben's row")
        text, _ = drawn(app)
        assert _most_marks(text) <= 5
        assert "\ufffd (BJONES)" in text


# --- the kiosk's return screen: a long reason leaves what is being returned in view ---------


async def test_a_long_reason_leaves_the_device_and_its_holder_in_view(
    school: Services,
) -> None:
    # Whoever brings a device back (a colleague, the office) reads on the return screen what
    # it is and whose it is. The sign-out reason, 500 characters typed by whoever signed it
    # out, was shown in full: 500 wide characters (CJK, 1,000 columns) scrolled the screen at
    # 80x24 so that "Return Laptop LAP-001" and "Signed out to Alice Smith" were off its top.
    from datetime import timedelta

    from textual.widgets import Static

    from kiosk.ui.returns import ReturnScreen
    from tests.school import make_ready
    from tests.ui.kiosk_support import make_app, running, scan

    make_ready(school, "ASMITH")
    reason = "山" * 500
    school.devices.sign_out(
        "ASMITH",
        ["LAP-001"],
        reason=reason,
        expected_return=school.ctx.clock() + timedelta(hours=3),
    )
    app = make_app(school)
    async with running(app, size=(80, 24)) as pilot:
        await scan(pilot, "SRK1:D:LAP-001")
        screen = app.screen
        assert isinstance(screen, ReturnScreen)
        for selector in (".form-title", "#return-details", "#submit"):
            widget = screen.query_one(selector)
            assert screen.region.contains_region(widget.region), (selector, widget.region)
        title = str(screen.query_one(".form-title", Static).visual)
        details = str(screen.query_one("#return-details", Static).visual)
        assert "Return Laptop LAP-001" in title
        assert "Signed out to Alice Smith" in details and "山" * 20 in details and "…" in details
        assert screen.query_one("#return-details").region.y >= 0
    # The register keeps the whole reason.
    [row] = [
        r
        for r in school.register.day(school.ctx.clock().date()).rows
        if r.kind == "device_signed_out"
    ]
    assert reason in row.detail

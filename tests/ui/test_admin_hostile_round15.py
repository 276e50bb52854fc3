"""Hostile text in the admin console, round 15: what the console draws (and so sends to the
office's browser under ``kiosk admin --serve``)."""

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

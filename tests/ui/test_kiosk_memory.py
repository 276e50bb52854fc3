"""A kiosk kept running for a term holds no more per person shown than on the first day."""

from __future__ import annotations

import pytest

from kiosk.services.app import Services
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.home import HomeScreen
from kiosk.ui.person import PersonScreen
from tests.ui.kiosk_support import make_app, press, running, scan, wait_for

pytestmark = pytest.mark.ui


async def test_the_kept_person_screen_does_not_remember_a_lookup_per_person_shown(
    school: Services,
) -> None:
    """The person's screen is kept and shown again for each badge. Textual remembers each
    ``query_one`` on a screen under the count of changes to the widgets beneath it, which
    moves on each time the screen is shown: a lookup of the notice or the code field made
    afresh on every visit added an entry each time, up to 1,024 entries (the soak's growing
    tuples, issue 17). The screen's own widgets are found once."""
    app = make_app(school)
    async with running(app) as pilot:
        sizes = []
        for _ in range(12):
            await scan(pilot, "SRK1:S:ASMITH")
            screen = app.screen
            assert isinstance(screen, PersonScreen)
            await press(pilot, "enter")  # deposit, then collect, then deposit...
            assert isinstance(app.screen, ConfirmScreen)
            await press(pilot, "escape")
            await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
            sizes.append(len(screen._query_one_cache))
        assert sizes[-1] <= sizes[1] + 1, sizes

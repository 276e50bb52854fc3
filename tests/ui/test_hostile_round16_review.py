"""Round 16's review: what the policy screen draws of a link's address or a picture's file."""

from __future__ import annotations

import pytest
from textual.widgets import Button

from kiosk.services.app import Services
from kiosk.ui.policy import PolicyScreen
from tests.test_hostile_round16_review import CHARGES
from tests.ui.kiosk_support import make_app, running, scan, settle, wait_for
from tests.ui.test_hostile_round16 import drawn_words

pytestmark = pytest.mark.ui


async def test_a_links_address_and_a_pictures_file_name_are_drawn(school: Services) -> None:
    # A terminal draws a link as its text and a picture as its description: words in the
    # address or the file name were agreed to, never seen.
    policy = school.policies.publish(
        "Phones",
        "2027",
        "Hand in your phone at [the office](https://school.example/"
        "you-also-agree-to-pay-500-pounds-for-a-lost-phone).\n\n"
        "![School logo](and-you-waive-every-claim.png)\n",
    )
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        app.push_screen(PolicyScreen(school.people.status("BJONES").staff, policy.id))
        await settle(pilot)
        agree = app.screen.query_one("#agree", Button)
        await wait_for(pilot, lambda: not agree.disabled)
        words = drawn_words(app)
        assert "you-also-agree-to-pay-500-pounds-for-a-lost-phone" in words
        assert "and-you-waive-every-claim.png" in words


@pytest.mark.parametrize("width", [80, 110])
async def test_a_table_that_fits_is_drawn_as_a_table_each_word_whole(
    school: Services, width: int
) -> None:
    # Every table was drawn as paragraphs; one whose words fit the screen is a table again,
    # its cells wrapped, none cut with "…".
    from textual.widgets._markdown import MarkdownTable

    policy = school.policies.publish("Phones", "2027", CHARGES)
    app = make_app(school)
    async with running(app, size=(width, 40)) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        app.push_screen(PolicyScreen(school.people.status("BJONES").staff, policy.id))
        await settle(pilot)
        agree = app.screen.query_one("#agree", Button)
        await wait_for(pilot, lambda: not agree.disabled)
        assert len(app.screen.query(MarkdownTable)) == 1
        words = drawn_words(app)
        assert "…" not in words
        for word in ("Replacement", "insurance,", "excess", "£100", "lanyard", "Memberofstaff"):
            assert word in words

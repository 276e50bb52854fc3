"""Round 17: hostile text where it is shown (the kiosk)."""

from __future__ import annotations

import pytest
from textual.widgets import Button

from kiosk.services.app import Services
from kiosk.ui.policy import PolicyScreen
from tests.ui.kiosk_support import make_app, running, scan, settle, wait_for
from tests.ui.test_admin_hostile_text import drawn
from tests.ui.test_hostile_round16 import drawn_words

pytestmark = pytest.mark.ui


@pytest.mark.parametrize("fence", ["```", "~~~"])
async def test_a_policy_with_old_mac_line_ends_shows_its_words(
    school: Services, fence: str
) -> None:
    # Lines ended with CR alone (a file saved by an old Mac editor, or made so): publish read
    # them as lines (a code block, its words drawn), the kiosk read one line that opened a
    # code block whose "language" was the whole policy: an empty box on the screen, and
    # "I have read and agree" recorded for words no one was shown.
    policy = school.policies.publish(
        "Phones",
        "2027",
        f"{fence}\rPhones are kept in the office.\rYou also pay 500 pounds for a lost phone.\r",
    )
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        app.push_screen(PolicyScreen(school.people.status("BJONES").staff, policy.id))
        await settle(pilot)
        await wait_for(pilot, lambda: not app.screen.query_one("#agree", Button).disabled)
        words = drawn_words(app)
        assert "Phonesarekeptintheoffice." in words
        assert "Youalsopay500poundsforalostphone." in words


async def test_a_policys_code_block_shows_the_word_after_its_backticks(
    school: Services,
) -> None:
    # One word after a code block's ``` (its "language": ```python) was let through by
    # publish, and the kiosk draws no language: "pay£500" was in the text everyone agreed to,
    # on no one's screen.
    policy = school.policies.publish(
        "Phones",
        "2027",
        "If your phone is lost in the office, you\n\n```pay£500\n"
        "The office keeps phones in a locked drawer.\n```\n",
    )
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        app.push_screen(PolicyScreen(school.people.status("BJONES").staff, policy.id))
        await settle(pilot)
        await wait_for(pilot, lambda: not app.screen.query_one("#agree", Button).disabled)
        words = drawn_words(app)
        assert "Theofficekeepsphonesinalockeddrawer." in words
        assert "pay£500" in words


_LONG = "Phones are kept in the office during the day and returned at the end of it. " * 2


@pytest.mark.parametrize(
    "text",
    [
        f"### {_LONG}You also pay 500 pounds for a lost phone\n",
        f"Hand in your phone.\n\n> ### {_LONG}You also pay 500 pounds for a lost phone\n",
        f"- ### {_LONG}You also pay 500 pounds for a lost phone\n",
    ],
    ids=["heading", "quoted heading", "listed heading"],
)
async def test_a_policys_long_heading_is_drawn_whole(school: Services, text: str) -> None:
    # Textual draws a third-level heading as wide as its words, on one line: past the right
    # edge of the screen, the rest of it was cut off, and "read to the end" was met.
    policy = school.policies.publish("Phones", "2027", text)
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        app.push_screen(PolicyScreen(school.people.status("BJONES").staff, policy.id))
        await settle(pilot)
        await wait_for(pilot, lambda: not app.screen.query_one("#agree", Button).disabled)
        assert "Youalsopay500poundsforalostphone" in drawn_words(app)


async def test_a_policys_struck_through_word_is_drawn_as_marked(school: Services) -> None:
    # "You do n̶o̶t̶ have to pay": a mark over each letter strikes "not" out where it is drawn
    # (the reader takes it as deleted), while the register's text says "not".
    policy = school.policies.publish(
        "Fees", "2027", "You do n\u0336o\u0336t\u0336 have to pay for a lost phone.\n"
    )
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        app.push_screen(PolicyScreen(school.people.status("BJONES").staff, policy.id))
        await settle(pilot)
        await wait_for(pilot, lambda: not app.screen.query_one("#agree", Button).disabled)
        text, _ = drawn(app)  # type: ignore[arg-type]
        assert "You do n\ufffdo\ufffdt\ufffd have to pay" in text
        assert "\u0336" not in text


@pytest.mark.parametrize(
    "cell",
    [
        "[0](https://school.example/plus-500-pounds-if-lost-or-broken-at-school)",
    ],
    ids=["address"],
)
async def test_a_policys_table_is_measured_with_the_words_it_draws(
    school: Services, cell: str
) -> None:
    # A link's address is drawn after its text: the table was measured without it ("0"
    # fits a column), then drawn with it, and Textual cut the cells with "…" ("Pho…",
    # "...-lost-or-broken-…"): words agreed to, never shown.
    policy = school.policies.publish(
        "Phones", "2027", f"| Item | Cost |\n|---|---|\n| Phone | {cell} |\n"
    )
    app = make_app(school)
    async with running(app, (80, 24)) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        app.push_screen(PolicyScreen(school.people.status("BJONES").staff, policy.id))
        await settle(pilot)
        await wait_for(pilot, lambda: not app.screen.query_one("#agree", Button).disabled)
        words = drawn_words(app)
        assert "Phone" in words
        assert "plus-500-pounds-if-lost-or-broken-at-school" in words
        assert "…" not in words

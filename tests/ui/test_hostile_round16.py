"""Round 16: hostile text where it is shown (the kiosk and the console)."""

from __future__ import annotations

import html
import re

import pytest
from textual.widgets import Button

from kiosk.services import policies as policy_service
from kiosk.services.app import Services
from kiosk.ui.policy import PolicyScreen
from tests.ui.kiosk_support import make_app, running, scan, screen_text, settle, wait_for
from tests.ui.test_admin_hostile_text import drawn

pytestmark = pytest.mark.ui


def drawn_words(app: object) -> str:
    """What the screen draws, as its screenshot holds it, line after line: spaces and the
    borders' lines left out (the screenshot places words by their columns)."""
    svg = app.export_screenshot()  # type: ignore[attr-defined]
    rows: dict[float, list[str]] = {}
    for y, text in re.findall(r'<text [^>]*?y="([0-9.]+)"[^>]*>([^<]*)</text>', svg):
        rows.setdefault(float(y), []).append(html.unescape(text))
    drawn = "".join("".join(rows[y]) for y in sorted(rows))
    return re.sub(r"[\s\u2500-\u259f]", "", drawn)


async def test_a_stored_policy_shows_its_html_and_references_as_written(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stored past publish's check (an older kiosk's, or written by hand): the kiosk still
    # shows every word the register fingerprints, none hidden as HTML or a reference.
    monkeypatch.setattr(policy_service, "unshown_parts", lambda text: [])
    policy = school.policies.publish(
        "Phones",
        "2027",
        "Hand in your phone.\n\n<!-- You also pay 500 pounds for a lost phone. -->\n\n"
        '[terms]: https://example.com "You waive every claim"\n\n'
        "Or <span>pay</span> for it.\n",
    )
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        app.push_screen(PolicyScreen(school.people.status("BJONES").staff, policy.id))
        await settle(pilot)
        agree = app.screen.query_one("#agree", Button)
        await wait_for(pilot, lambda: not agree.disabled)
        shown = screen_text(app)
        assert "<!-- You also pay 500 pounds for a lost phone. -->" in shown
        assert "You waive every claim" in shown
        assert "Or <span>pay</span> for it." in shown


@pytest.mark.parametrize(
    "text",
    [
        "Hand in your phone.\n\n```\nPhones go in the staff room."
        + " " * 150
        + "You also pay 500 pounds.\n```\n",
        "Hand in your phone.\n\n    Phones: staff room. "
        + "." * 150
        + " You also pay 500 pounds.\n",
    ],
)
async def test_a_policys_long_code_line_is_drawn_whole(school: Services, text: str) -> None:
    # The policy scrolls down only, and "I have read and agree" waits for its end: the end
    # of a code block's line past the right edge was never on the screen.
    policy = school.policies.publish("Phones", "2027", text)
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        app.push_screen(PolicyScreen(school.people.status("BJONES").staff, policy.id))
        await settle(pilot)
        agree = app.screen.query_one("#agree", Button)
        await wait_for(pilot, lambda: not agree.disabled)
        assert "Youalsopay500pounds." in drawn_words(app)


async def test_character_references_draw_no_override_or_invisible_character(
    school: Services,
) -> None:
    # Markdown turns "&#x202E;" into U+202E as it draws: past the filter that the stored
    # text goes through, a right-to-left override (the amount read backwards), a zero-width
    # space and a private-use character reached the terminal.
    policy = school.policies.publish(
        "Fees",
        "2027",
        "# Fees\n\nA lost phone costs &#x202E;00.005&#x202C; pounds. Be&#8203;kind &#xE000;.\n\n"
        "`code &#x2066;x` ![a &#x202E;picture](p.png)\n",
    )
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        app.push_screen(PolicyScreen(school.people.status("BJONES").staff, policy.id))
        await settle(pilot)
        await wait_for(pilot, lambda: not app.screen.query_one("#agree", Button).disabled)
        text, _ = drawn(app)  # type: ignore[arg-type]
        assert "A lost phone costs \ufffd00.005\ufffd pounds. Be\ufffdkind \ufffd." in text
        for hidden in ("\u202e", "\u202c", "\u200b", "\ue000", "\u2066"):
            assert hidden not in text


async def test_a_stored_policy_shows_its_link_and_picture_titles(
    school: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A title is a browser's tooltip: the terminal has none, so the kiosk drew nothing of it.
    monkeypatch.setattr(policy_service, "unshown_parts", lambda text: [])
    policy = school.policies.publish(
        "Phones",
        "2027",
        'Hand it in at [the office](https://example.com "and pay 500 pounds").\n\n'
        '![The office](office.png "You waive every claim")\n',
    )
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        app.push_screen(PolicyScreen(school.people.status("BJONES").staff, policy.id))
        await settle(pilot)
        await wait_for(pilot, lambda: not app.screen.query_one("#agree", Button).disabled)
        text, _ = drawn(app)  # type: ignore[arg-type]
        assert "Hand it in at the office (https://example.com) (and pay 500 pounds)." in text
        assert "The office (office.png) (You waive every claim)" in text


async def test_struck_words_are_drawn_with_their_tildes(school: Services) -> None:
    # The kiosk runs on the Linux console (TERM=linux), which draws no strikethrough: "You
    # ~~do not~~ have to pay" read "You do not have to pay" there, while the text staff agree
    # to (and the register's fingerprint) says they do.
    policy = school.policies.publish(
        "Phones", "2027", "You ~~do not~~ have to pay for a lost phone.\n"
    )
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        app.push_screen(PolicyScreen(school.people.status("BJONES").staff, policy.id))
        await settle(pilot)
        await wait_for(pilot, lambda: not app.screen.query_one("#agree", Button).disabled)
        text, _ = drawn(app)  # type: ignore[arg-type]
        assert "You ~~do not~~ have to pay for a lost phone." in text


async def test_a_policy_tables_cells_are_drawn_whole(school: Services) -> None:
    # A table wider than the screen: each column was narrowed and each cell's words cut
    # with "…" ("Youalsopa…"), the rest never shown, though the agreement covers them.
    headers = " | ".join(f"Column{i}" for i in range(14))
    values = " | ".join(f"Value{i}" for i in range(13))
    policy = school.policies.publish(
        "Phones",
        "2027",
        f"| {headers} |\n|{'---|' * 14}\n| {values} | Youalsopay500pounds |\n",
    )
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        app.push_screen(PolicyScreen(school.people.status("BJONES").staff, policy.id))
        await settle(pilot)
        await wait_for(pilot, lambda: not app.screen.query_one("#agree", Button).disabled)
        words = drawn_words(app)
        assert "Column0:Value0·Column1:Value1·" in words
        assert "Column12:Value12·Column13:Youalsopay500pounds" in words

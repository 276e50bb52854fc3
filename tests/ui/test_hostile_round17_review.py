"""Round 17's review: a policy's code block's language, drawn as what it is."""

from __future__ import annotations

import pytest
from textual.widgets import Button
from textual.widgets.markdown import MarkdownFence

from kiosk.services.app import Services
from kiosk.ui.policy import PolicyScreen
from tests.ui.kiosk_support import make_app, running, scan, settle, wait_for
from tests.ui.test_hostile_round16 import drawn_words

pytestmark = pytest.mark.ui


@pytest.mark.parametrize("language", ["text", "bash"])
async def test_a_code_blocks_language_is_drawn_dimmed_in_brackets(
    school: Services, language: str
) -> None:
    # The language after a code block's ``` was drawn as a line of its own, "text" or
    # "bash" alone above the settings: a school office read it as a typo. It is drawn
    # dimmed and in brackets as the block's first line, "(text)", still on the screen.
    policy = school.policies.publish(
        "Wi-Fi",
        "2027",
        f"Set your laptop so:\n\n```{language}\nwifi: staff\nproxy: none\n```\n\nThank you.\n",
    )
    app = make_app(school)
    async with running(app, size=(80, 30)) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        app.push_screen(PolicyScreen(school.people.status("BJONES").staff, policy.id))
        await settle(pilot)
        await wait_for(pilot, lambda: not app.screen.query_one("#agree", Button).disabled)
        [fence] = app.screen.query_one("#policy-text").query(MarkdownFence)
        [label] = fence.query(".code-language")
        assert str(label.render()) == f"({language})"
        assert label.styles.text_style.dim
        # drawn as the block's first line, not a paragraph of its own above it
        assert label.region.y < fence.query_one("#code-content").region.y
        assert not any(
            str(block.render()) == language
            for block in app.screen.query_one("#policy-text").children
        )
        assert f"({language})wifi:staffproxy:none" in drawn_words(app)

"""Reading and acknowledging the policy; VDU training; a workstation review."""

from __future__ import annotations

from datetime import date

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Button, Markdown

from kiosk.domain.chain import text_fingerprint
from kiosk.domain.events import EventKind
from kiosk.services.app import Services
from kiosk.ui.confirm import ConfirmScreen
from kiosk.ui.person import PersonScreen
from kiosk.ui.policy import PolicyScreen
from kiosk.ui.wellbeing import ReviewScreen
from tests.ui.kiosk_support import (
    make_app,
    notice,
    press,
    running,
    scan,
    screen_text,
    settle,
    type_into,
    wait_for,
)

pytestmark = pytest.mark.ui


async def test_agree_is_enabled_only_at_the_end_and_records_the_fingerprint(
    school: Services,
) -> None:
    [policy] = school.policies.outstanding("ASMITH")
    shown = school.policies.text(policy.id).text
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        assert "To read and agree: School Acceptable Use Policy (Spring 2018)" in screen_text(app)
        await press(pilot, "f7")
        assert isinstance(app.screen, PolicyScreen)
        text = screen_text(app)
        assert "School Acceptable Use Policy  ·  version Spring 2018" in text
        assert "Mobile phone use" in text  # the Markdown heading
        agree = app.screen.query_one("#agree", Button)
        assert agree.disabled
        await press(pilot, "enter")
        assert "Please read to the end of the policy first." in notice(app)
        assert school.policies.outstanding("ASMITH") == (policy,)
        scroll = app.screen.query_one("#policy-scroll", VerticalScroll)
        while scroll.scroll_y < scroll.max_scroll_y:
            await pilot.press("pagedown")
            await pilot.pause(0.05)
        await wait_for(pilot, lambda: not agree.disabled)
        assert "You have reached the end." in screen_text(app)
        await press(pilot, "enter")
        assert isinstance(app.screen, ConfirmScreen)
        assert "School Acceptable Use Policy (Spring 2018) acknowledged" in screen_text(app)
    assert school.policies.outstanding("ASMITH") == ()
    row = next(
        r
        for r in school.register.day(date(2026, 3, 10)).rows
        if r.kind == EventKind.POLICY_ACKNOWLEDGED.value
    )
    assert row.staff_code == "ASMITH" and row.item == "School Acceptable Use Policy (Spring 2018)"
    assert text_fingerprint(shown) == policy.sha256


async def test_an_enter_before_the_text_is_on_the_screen_agrees_to_nothing(
    school: Services,
) -> None:
    # The second Enter of a double press on the policy before lands on the next one (a short
    # one: at its end as soon as it is drawn) before its text has appeared. Seen once in the
    # run on stock Textual: with the code field not yet focused, that Enter was read as the
    # screen's main action and agreed to a policy never shown. It agrees to nothing now.
    [first] = school.policies.outstanding("ASMITH")
    school.policies.acknowledge("ASMITH", first.id, first.sha256)
    la = school.policies.publish("LA Acceptable Use Policy", "2026", "LA policy.\n", required=True)
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:ASMITH")
        await press(pilot, "f7")
        screen = app.screen
        assert isinstance(screen, PolicyScreen) and screen.policy_id == la.id
        await wait_for(pilot, lambda: screen.reached_end)  # short: at its end at once
        screen.shown_at = None  # as in the moment before its text appears
        screen.set_focus(None)  # (the code field's focus still to come)
        await press(pilot, "enter")
        assert isinstance(app.screen, PolicyScreen)
    assert [p.id for p in school.policies.outstanding("ASMITH")] == [la.id]


async def test_policy_links_do_nothing(school: Services) -> None:
    policy = school.policies.publish(
        "Staff Code of Conduct",
        "2026",
        "# Code of Conduct\n\n[quit](app.quit) and [a site](https://example.com)\n",
        required=True,
    )
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        app.push_screen(PolicyScreen(school.people.status("BJONES").staff, policy.id))
        await settle(pilot)
        # Short enough to fit: it is already at its end.
        agree = app.screen.query_one("#agree", Button)
        await wait_for(pilot, lambda: not agree.disabled)
        assert "Staff Code of Conduct  ·  version 2026" in screen_text(app)
        opened: list[str] = []
        app.open_url = lambda url, **_: opened.append(url)  # type: ignore[method-assign]
        markdown = app.screen.query_one("#policy-text", Markdown)
        markdown.post_message(Markdown.LinkClicked(markdown, "app.quit"))
        markdown.post_message(Markdown.LinkClicked(markdown, "https://example.com"))
        await pilot.pause()
        assert opened == []
        assert app.is_running and isinstance(app.screen, PolicyScreen)


async def test_vdu_training_declared_with_a_date(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:BJONES")
        assert "Display-screen training not recorded." in screen_text(app)
        await press(pilot, "f8")
        # Not filled in with today: the day is the one the person says.
        assert app.screen.query_one("#vdu-date").value == ""  # type: ignore[attr-defined]
        await press(pilot, "enter")
        assert "Please give the date." in notice(app)
        await type_into(pilot, "#vdu-date", "12/03/2026")
        assert "12/03/2026 is in the future" in notice(app)
        await type_into(pilot, "#vdu-date", "3 feb")
        assert "Display-screen training recorded (03 Feb 2026)" in screen_text(app)
    assert school.people.status("BJONES").vdu_trained_on == date(2026, 2, 3)


async def test_workstation_review_request(school: Services) -> None:
    app = make_app(school)
    async with running(app) as pilot:
        await scan(pilot, "SRK1:S:EPATEL")
        await press(pilot, "f12")
        await type_into(pilot, "#needs", "   ")
        assert "Please say briefly what you need" in notice(app)
        assert school.policies.reviews() == ()
        await type_into(pilot, "#needs", "A laptop stand and a separate keyboard")
        # What will be asked is shown first; the second Enter sends it.
        assert "“A laptop stand and a separate keyboard”" in notice(app)
        assert "Press Enter again to send it" in notice(app)
        assert school.policies.reviews() == ()
        await pilot.pause(ReviewScreen.READ_SECONDS)  # read what will be sent
        await press(pilot, "enter")
        assert "Workstation review requested" in screen_text(app)
        await press(pilot, "escape")
        await scan(pilot, "SRK1:S:EPATEL")
        assert isinstance(app.screen, PersonScreen)
        assert "A laptop stand and a separate keyboard (open)" in screen_text(app)
    [review] = school.policies.reviews()
    assert (review.staff.code, review.needs) == ("EPATEL", "A laptop stand and a separate keyboard")

"""Round 16's review: policy text the kiosk draws whole, and ordinary text it must accept."""

from __future__ import annotations

import pytest

from kiosk.domain.policytext import shown_markdown, unshown_parts


def drawn(text: str) -> str:
    """The text the kiosk's parser draws of ``text`` (its inline text, as Textual joins it)."""
    return "".join(
        child.content
        for token in shown_markdown().parse(text)
        for child in token.children or []
        if child.type in ("text", "code_inline")
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "Hand in your phone at [the office](https://school.example/"
            "you-also-agree-to-pay-500-pounds).\n",
            "the office (https://school.example/you-also-agree-to-pay-500-pounds).",
        ),
        (
            "[Hand in your phone.](#and-you-also-agree-to-pay-500-pounds)\n",
            "Hand in your phone. (#and-you-also-agree-to-pay-500-pounds)",
        ),
        ("![School logo](and-you-waive-every-claim.png)\n", " (and-you-waive-every-claim.png)"),
        # an address drawn as written, not as the parser encodes it
        (
            "[form](https://école.example/forms/Überweisung.pdf)\n",
            "form (https://école.example/forms/Überweisung.pdf)",
        ),
    ],
)
def test_a_links_address_and_a_pictures_file_are_drawn_after_it(text: str, shown: str) -> None:
    assert shown in drawn(text)
    assert unshown_parts(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "See <https://school.example/phones> or www.school.example.\n",
        "Write to office@school.example or [the office](https://office.example).\n",
    ],
)
def test_an_address_that_is_its_own_text_is_drawn_once(text: str) -> None:
    assert drawn(text).count("school.example") == text.count("school.example")

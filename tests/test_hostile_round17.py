"""Round 17: hostile text where it is shown, stored or sent (services and CLI)."""

from __future__ import annotations

import pytest

from kiosk.domain.errors import InvalidInput
from kiosk.services.app import Services
from tests.school import make_school


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


# --- a policy too long for the kiosk to draw, counted as the kiosk draws it -----------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        # Link reference definitions (no title): nothing to publish's count, a paragraph
        # each at the kiosk, which draws them as written; 6,000 froze it for each reader.
        (
            "Phones policy.\n\n" + "".join(f"[rule {i}]: x\n\n" for i in range(6_000)),
            "6,001 paragraphs",
        ),
        # A code block with a language is two blocks at the kiosk: the language's line too.
        ("".join(f"```rule{i}\nx\n```\n" for i in range(1_200)), "2,400 paragraphs"),
    ],
    ids=["reference definitions", "code languages"],
)
def test_a_policy_is_counted_as_the_kiosk_lays_it_out(
    school: Services, text: str, said: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        school.policies.publish("Phones", "2027", text)
    assert refused.value.message.startswith(
        f"The policy text is too long to read at the kiosk ({said}"
    )
    assert "Phones" not in {p.title for p in school.policies.all_versions()}

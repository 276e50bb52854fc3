"""Round 16: hostile text where it is shown, stored or sent (services and CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.domain.errors import InvalidInput
from kiosk.services.app import Services
from tests.school import make_school
from tests.test_cli import database, run  # noqa: F401  (the CLI's database fixture)


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


HIDDEN_IN_MARKDOWN = [
    # an HTML comment: a sentence in the register's text that no one is shown
    "Hand in your phone.\n\n<!-- You also agree to pay £500 for a lost phone. -->\n",
    # an HTML block
    "Hand in your phone.\n\n<div>You waive any claim for a lost phone.</div>\n",
    # inline HTML: the tag's words vanish, "pay" is left
    "Hand in your phone or <span title='you waive every claim'>pay</span> for it.\n",
    # a link reference definition, with a title that is never drawn
    'Hand in your phone.\n\n[terms]: https://example.com "You waive every claim"\n',
    # a link's or an image's title (a browser's tooltip; the kiosk draws neither)
    'Hand in your phone at [the office](https://example.com "and pay 500 pounds").\n',
    'Hand in your phone.\n\n![The office](office.png "You waive every claim")\n',
    # a table row's cells past its header's: GitHub's tables drop them
    "| Item | Cost |\n|---|---|\n| Phone | 0 pounds | plus 500 pounds if lost |\n",
    # a code block's info string
    "Hand in your phone.\n\n```text you waive every claim\nPhones: staff room.\n```\n",
]


@pytest.mark.parametrize("text", HIDDEN_IN_MARKDOWN)
def test_a_policy_with_words_the_kiosk_does_not_show_is_refused(
    school: Services, text: str
) -> None:
    with pytest.raises(InvalidInput, match="would not show") as refused:
        school.policies.publish("Phones", "2027", text)
    assert "Staff would acknowledge words they were never shown" in refused.value.message
    assert [p.title for p in school.policies.all_versions() if p.version == "2027"] == []


def test_a_policy_in_plain_markdown_is_published(school: Services) -> None:
    text = (
        "# Phones\n\nHand in your *phone* at 8:40 (see [the office](https://example.com)).\n\n"
        "- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nx = 1 < 2\n```\n"
        "Use 3 < 4, and a tag written as `<b>`.\n"
    )
    policy = school.policies.publish("Phones", "2027", text)
    assert school.policies.text(policy.id).text == text


def test_kiosk_policy_publish_names_the_hidden_comment(
    database: Services,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    policy = tmp_path / "phones.md"
    policy.write_text(HIDDEN_IN_MARKDOWN[0], encoding="utf-8")
    status, out, err = run(
        capsys, "policy", "publish", "--title", "Phones", "--version", "2027", str(policy)
    )
    assert (status, out) == (1, "")
    assert err.startswith(
        "kiosk: The policy text has parts the kiosk would not show: an HTML comment or block "
        '"<!-- You also agree to pay £500 for a lost phone. -->". Staff would acknowledge'
    )
    assert "Phones" not in {p.title for p in database.policies.all_versions()}

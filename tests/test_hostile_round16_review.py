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


ORDINARY_POLICIES = [
    # addresses with letters outside ASCII, or a space, drawn as written
    "See the [form](https://school.example/forms/Überweisung.pdf).\n",
    "Lisez le [règlement intérieur](https://école.example/règlement-intérieur.pdf).\n",
    "Read [the handbook](<https://school.example/Staff Handbook.pdf>).\n",
    # a line break in a table's cell, as GitHub's editor writes one
    "| Item | Where |\n|---|---|\n| Phone | Staff room<br>top shelf |\n"
    "| Laptop | Office<br/>cupboard |\n",
    # a reference link without a title: the kiosk draws the definition as written
    "See [the handbook][hb].\n\n[hb]: https://school.example/handbook.pdf\n",
    # "&notice" is no character reference in Markdown (it is in HTML's legacy list)
    "Pin it to the notices&notice board.\n",
    # an address with a %-encoded space, as SharePoint and OneDrive write one: drawn decoded
    "Read [the handbook](https://school.sharepoint.com/sites/Staff/Shared%20Documents/"
    "Staff%20Handbook%202024.pdf).\n",
    "See https://school.example/Staff%20Guide.pdf or <https://school.example/Staff%20Guide.pdf>.\n",
    "![School logo](School%20Logo.png)\n",
    "Questions to <mailto:office@school.example?subject=Phone%20policy>.\n",
    # a stray "|" after a row's last cell: an empty cell past the header's, nothing in it
    "| Item | Cost |\n|---|---|\n| Phone | 0 | |\n| Laptop | 5 ||\n",
]


def test_an_empty_cell_past_the_headers_is_not_drawn() -> None:
    """A row with a stray trailing "|" was drawn as paragraphs, "Item: Phone · Cost: 0 · "."""
    text = "| Item | Cost |\n|---|---|\n| Phone | 0 | |\n"
    types = [token.type for token in shown_markdown().parse(text)]
    assert "table_open" in types, types
    assert not drawn(text).rstrip().endswith("·"), drawn(text)


@pytest.mark.parametrize("text", ORDINARY_POLICIES)
def test_an_ordinary_policy_hides_nothing(text: str) -> None:
    assert unshown_parts(text) == []


def test_a_line_break_in_a_table_cell_is_drawn_as_one() -> None:
    tokens = shown_markdown().parse(
        "| Item | Where |\n|---|---|\n| Phone | Staff room<br>top shelf |\n"
    )
    children = [child for token in tokens for child in token.children or []]
    assert [c.content for c in children if c.type == "text"][-2:] == ["Staff room", "top shelf"]
    assert "hardbreak" in [c.type for c in children]


def test_a_tag_that_is_not_html_is_refused_saying_how_to_write_it() -> None:
    (said,) = unshown_parts("Sign with <your initials>.\n")
    assert said.startswith('an HTML tag "<your initials>"')
    assert "\\<" in said


CHARGES = (
    "| Item | Replacement cost | Who pays |\n|------|-----------------:|----------|\n"
    "| Laptop charger | £25 | Member of staff |\n| Visitor lanyard | £2 | Member of staff |\n"
    "| School laptop (lost off site) | £450 | School insurance, excess £100 paid by member "
    "of staff |\n"
)


def test_a_table_that_fits_the_screen_is_drawn_as_a_table() -> None:
    # every table was turned into paragraphs; one whose words fit is drawn (wrapped) as one
    types = [token.type for token in shown_markdown().parse(CHARGES)]
    assert "table_open" in types and "paragraph_open" not in types


def test_a_table_with_a_blank_heading_draws_no_lone_colon() -> None:
    text = (
        "| | Cost | A | B | C | D | E |\n|---|---|---|---|---|---|---|\n"
        "| Phone | £0 | 1 | 2 | 3 | 4 | 5 |\n"
    )
    assert drawn(text).startswith("Phone · Cost: £0 · A: 1")


def test_a_stored_tables_cells_past_its_header_are_drawn() -> None:
    # Stored past publish's check: markdown-it dropped them before the kiosk saw the row.
    text = "| Item | Cost |\n|---|---|\n| Phone | 0 pounds | plus 500 pounds if lost |\n"
    assert drawn(text) == "Item: Phone · Cost: 0 pounds · plus 500 pounds if lost"
    (said,) = unshown_parts(text)
    assert said.startswith("cells past the table's header's")


def test_the_policy_parsers_linkify_is_a_declared_dependency() -> None:
    # "gfm-like" turns linkify on: without linkify-it-py every policy parse raises
    # ModuleNotFoundError ("Linkify enabled but not installed"); it came only through Textual.
    import tomllib
    from pathlib import Path

    from packaging.requirements import Requirement

    assert shown_markdown().options["linkify"]
    project = tomllib.loads(Path(__file__).parents[1].joinpath("pyproject.toml").read_text())
    wanted = [Requirement(r) for r in project["project"]["dependencies"]]
    (markdown,) = [r for r in wanted if r.name == "markdown-it-py"]
    assert "linkify" in markdown.extras


def test_a_table_in_a_list_entry_is_drawn_as_a_table() -> None:
    # its header's line starts with the entry's "-": no cell past the header's
    text = "- | Item | Cost |\n  |---|---|\n  | Phone | £0 |\n"
    assert "table_open" in [token.type for token in shown_markdown().parse(text)]
    assert unshown_parts(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "See [flows.md](flows.md).\n",
        "![logo.png](logo.png)\n",
        "[www.school.example](https://www.school.example)\n",
    ],
)
def test_a_link_whose_address_is_its_text_is_published(text: str) -> None:
    # its address is not drawn again, and its words are drawn: as the link's text
    assert unshown_parts(text) == []

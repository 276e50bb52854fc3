"""Round 16's review: the notice sandbox refuses what makes a notice too long, only that."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.domain.errors import InvalidInput
from kiosk.services.app import Services
from kiosk.services.notices import Templates
from kiosk.services.templating import BoundedSandbox, TooLong, render_bounded


def render(source: str, **values: object) -> str:
    return render_bounded(BoundedSandbox().from_string(source), values)


@pytest.mark.parametrize(
    ("source", "values", "made"),
    [
        # a method of a string holding a phone number or an asset tag (7+ digits)
        ("{{ office_phone.replace(' ', '') }}", {"office_phone": "0121 4960000"}, "01214960000"),
        ("{{ asset.upper() }}", {"asset": "lap-2023000123"}, "LAP-2023000123"),
        (
            "{{ 'Call 01214960000 about %s' % name }}",
            {"name": "Gina"},
            "Call 01214960000 about Gina",
        ),
        (
            "{{ 'Call 01214960000 about {}'.format(name) }}",
            {"name": "Gina"},
            "Call 01214960000 about Gina",
        ),
        # a number over a million, formatted
        ("{{ '{:,}'.format(1500000) }}", {}, "1,500,000"),
        ("{{ '%d people'|format(1500000) }}", {}, "1500000 people"),
        ("{{ '%d people' % 1500000 }}", {}, "1500000 people"),
        ("{{ 'Tag %s' % 'LAP-2023000123' }}", {}, "Tag LAP-2023000123"),
    ],
)
def test_an_ordinary_template_renders(source: str, values: dict[str, object], made: str) -> None:
    assert render(source, **values) == made


@pytest.mark.parametrize(
    "source",
    [
        "{{ '%50000000s' % name }}",
        "{{ '%*s' % (50000000, name) }}",
        "{{ '%.50000000f' % 1.5 }}",
        "{{ '%(n)50000000s' % {'n': name} }}",
        "{{ '{:>50000000}'.format(name) }}",
        "{{ '{:.50000000f}'.format(1.5) }}",
        "{{ '{:{w}}'.format(name, w=50000000) }}",
        "{{ '{n:>50000000}'.format_map({'n': name}) }}",
        "{{ name.ljust(50000000) }}",
        "{{ name.zfill(50000000) }}",
        "{{ name|center(50000000) }}",
        "{{ name|indent(50000000, true) }}",
        "{{ '%50000000s'|format(name) }}",
        "{{ [1]|batch(50000000, 'x')|list }}",
    ],
)
def test_a_width_past_the_limit_is_refused(source: str) -> None:
    with pytest.raises(TooLong):
        render(source, name="Gina")


@pytest.mark.parametrize(
    "line",
    [
        "{{ 1.5 ** 100000 }}",  # OverflowError
        "{{ 1 / 0 }}",  # ZeroDivisionError
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",  # RecursionError
    ],
)
def test_a_template_that_cannot_work_out_a_value_is_refused_in_words(
    services: Services, tmp_path: Path, line: str
) -> None:
    # It was "something unexpected went wrong (OverflowError...)": no word of which
    # template, nor that nothing was sent.
    (tmp_path / "device_overdue.txt").write_text(f"Subject: Overdue\n{line}\n", encoding="utf-8")
    templates = Templates(replace(services.settings, notice_templates=str(tmp_path)))
    with pytest.raises(InvalidInput) as refused:
        templates.render("device_overdue", {})
    assert refused.value.message.startswith(
        "The notice template for device_overdue cannot be used: it cannot work out a value ("
    )
    assert "Nothing was sent." in refused.value.message


@pytest.mark.parametrize(
    "source",
    [
        # a set block's text is made out of sight of the output's bound: 2,000,000 characters
        "{% set s %}{% for i in range(200) %}{% for j in range(1000) %}xxxxxxxxxx{% endfor %}"
        "{% endfor %}{% endset %}{{ s|length }}",
        # "~" doubling a string: 16,777,216 characters in 24 steps
        "{% set ns = namespace(s='x') %}{% for i in range(24) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s|length }}",
        "{% macro m() %}{% for i in range(2000) %}{{ 'x' * 1000 }}{% endfor %}{% endmacro %}"
        "{{ m()|length }}",
    ],
)
def test_text_made_out_of_the_outputs_sight_is_bounded_too(source: str) -> None:
    with pytest.raises(TooLong):
        render(source)

"""Round 17: hostile text where it is shown, stored or sent (services and CLI)."""

from __future__ import annotations

import tracemalloc
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from kiosk.domain.errors import InvalidInput
from kiosk.services.app import Services
from kiosk.services.notices import Templates
from kiosk.services.templating import BoundedSandbox, TooLong, render_bounded
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


# --- a notice template's text, bounded before it is made -----------------------------------

# A name of 10,000 characters (made by the template: its limit is a million).
_NAME = "{% set x = 'a' * 10000 %}{% set t = '\\t' * 10000 %}{% set n = '\\n' * 10000 %}"
_MANY = [
    # a copy of the name for each of its letters: 100,000,000 characters
    "{{ x.replace('a', x) }}",
    "{{ x|replace('a', x) }}",
    "{{ x.join(x) }}",
    "{{ x|join(x) }}",
    "{{ x.translate({97: x}) }}",
    # a width under the limit, once for each tab or line
    "{{ t.expandtabs(100000) }}",
    "{{ n|indent(100000, true, true) }}",
    "{{ n|indent(x, true, true) }}",
    "{{ (x|replace('a', 'a '))|wordwrap(1, true, x) }}",
    # a list of ten thousand references to the name: its text is ten thousand names
    "{{ [x] * 10000 }}",
    "{{ ([x] * 10000)|string }}",
    "{{ ([x] * 10000) ~ '' }}",
    "{{ '%s' % ([x] * 10000,) }}",
    "{{ '{}'.format([x] * 10000) }}",
    "{% set ns = namespace(a=x) %}{{ [ns] * 10000 }}",
    "{{ [" + ", ".join(["x"] * 3000) + "] }}",
    # a format of three thousand fields, each the name
    "{{ ('%s' * 3000) % ((x,) * 3000) }}",
    "{{ ('{0}' * 3000).format(x) }}",
]


@pytest.mark.parametrize("line", _MANY, ids=[line[:40] for line in _MANY])
def test_a_template_is_refused_before_it_makes_its_text(line: str) -> None:
    # Each made 100 MB (here) before the bound looked at it: with a longer name, more than
    # the notify unit's 512 MB, and the kernel killed every run, no notice sent, no word why.
    template = BoundedSandbox().from_string(_NAME + line)
    tracemalloc.start()
    try:
        with pytest.raises(TooLong):
            render_bounded(template, {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000


def test_a_notice_template_that_would_make_too_much_is_refused_in_words(
    services: Services, tmp_path: Path
) -> None:
    (tmp_path / "device_overdue.txt").write_text(
        f"Subject: Overdue\n{_NAME}{{{{ x.replace('a', x) }}}}\n", encoding="utf-8"
    )
    templates = Templates(replace(services.settings, notice_templates=str(tmp_path)))
    with pytest.raises(InvalidInput) as refused:
        templates.render("device_overdue", {})
    assert refused.value.message.startswith(
        "The notice template device_overdue.txt makes a notice too long (more than 1,000,000 "
        "characters): nothing was sent."
    )


def test_an_ordinary_template_still_renders() -> None:
    source = (
        "{% for a, b in [(1, 2), (3, 4)] %}{{ a ~ b }} {% endfor %}|"
        "{{ ['Ann', 'Ben']|join(', ') }}|{{ 'x y'.replace(' ', '-') }}|"
        "{{ 'a\\tb'.expandtabs(2) }}|{{ 'one\\ntwo'|indent(2) }}|"
        "{{ 'a b c'|wordwrap(3, true, '/') }}|{{ '%s and %s' % ('A', 'B') }}|"
        "{{ '{} {}'.format(1, 2) }}|{{ {'a': 1}|dictsort }}|{{ range(3)|list }}|"
        "{{ 'x'.join(['1', '2']) }}|{{ 'abc'.translate({97: 'A'}) }}|{{ people|join(', ') }}"
    )
    made = render_bounded(BoundedSandbox().from_string(source), {"people": ["Gina", "Hal"]})
    assert made == (
        "12 34 |Ann, Ben|x-y|a b|one\n  two|a b/c|A and B|1 2|[('a', 1)]|[0, 1, 2]|1x2|Abc|"
        "Gina, Hal"
    )


# --- a mark drawn over letters: struck out, crossed through ---------------------------------


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("Ben J\u0336o\u0336n\u0336e\u0336s\u0336", "COMBINING LONG STROKE OVERLAY"),
        ("Ben Jo\u0338nes", "COMBINING LONG SOLIDUS OVERLAY"),
        ("Ben Jones\u20e0", "COMBINING ENCLOSING CIRCLE BACKSLASH"),
    ],
)
def test_a_name_struck_through_with_overlay_marks_is_refused(
    school: Services, name: str, said: str
) -> None:
    # A mark drawn over each letter strikes the name out (as if the person had left) on the
    # office's browser console, in an e-mail, in a spreadsheet: the name is not what it shows.
    report = school.people.import_staff_csv(f"code,name\nBJ2,{name}\n".encode(), admin_code="CHEAD")
    assert not report.imported
    [problem] = report.problems
    assert problem.line == 2 and problem.reason.startswith(f"name contains {said}: ")


# --- an .ics event's title, read by its words --------------------------------------------------


def _ics(*events: tuple[str, str, str]) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0"]
    for start, end, summary in events:
        lines += [
            "BEGIN:VEVENT",
            f"DTSTART;VALUE=DATE:{start}",
            f"DTEND;VALUE=DATE:{end}",
            f"SUMMARY:{summary}",
            "END:VEVENT",
        ]
    return ("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n").encode()


@pytest.mark.parametrize(
    "summary", ["Breakfast Club launch", "Enclosed garden opening", "Daybreak assembly"]
)
def test_an_ics_event_is_a_holiday_by_its_words_not_letters_inside_them(
    school: Services, summary: str
) -> None:
    # "break" and "closed" were found inside "Breakfast" and "Enclosed": a school's feed
    # with a breakfast club's launch made that Tuesday a holiday (no phones expected back,
    # no end-of-day notices, a laptop's school days counted short).
    data = _ics(
        ("20260902", "20261219", "Autumn Term"),
        ("20261026", "20261031", "October Half Term"),
        ("20261124", "20261125", summary),
        ("20261201", "20261202", "Christmas holidays"),
    )
    report = school.school.import_calendar("feed.ics", data, skip_invalid=True)
    assert report.imported
    assert school.school.is_school_day(date(2026, 11, 24))
    assert not school.school.is_school_day(date(2026, 10, 27))
    assert not school.school.is_school_day(date(2026, 12, 1))  # "holidays": a holiday
    assert any(summary in p.reason and "left out" in p.reason for p in report.problems)


# --- a name in letters of another alphabet that look like Latin ones --------------------------


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("\ua4daarol Head", "LISU LETTER CA"),  # "Carol Head"
        ("Carol \ua4e7ead", "LISU LETTER XA"),
        ("\u1455arol Head", "CANADIAN SYLLABICS TA"),  # ᑕarol Head
        ("Carol He\U000102a2", "CARIAN LETTER D"),
        ("Car\u2d54l Head", "TIFINAGH LETTER YAR"),
    ],
)
def test_a_name_with_lookalike_letters_of_a_rarer_alphabet_is_refused(
    school: Services, name: str, said: str
) -> None:
    # Cyrillic, Greek, Cherokee... were refused; Lisu (an alphabet of Latin capitals' shapes),
    # Canadian syllabics, Carian, Tifinagh were not: a second "Carol Head" went in, the head's
    # name on every list and in every "granted by".
    report = school.people.import_staff_csv(f"code,name\nCH2,{name}\n".encode(), admin_code="CHEAD")
    assert not report.imported
    [problem] = report.problems
    assert problem.reason.startswith(f"name mixes alphabets or letter forms: {said} looks like")


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("\u216darol Head", "ROMAN NUMERAL ONE HUNDRED"),  # "Carol Head"
        ("Caro\u217c Head", "SMALL ROMAN NUMERAL FIFTY"),  # "Carol Head"
        ("Carol Hea\u217e", "SMALL ROMAN NUMERAL FIVE HUNDRED"),  # "Carol Head"
    ],
)
def test_a_name_with_a_numeral_drawn_as_a_letter_is_refused(
    school: Services, name: str, said: str
) -> None:
    # A Roman numeral is a number to Unicode, not a letter, so the check of letter forms
    # passed it by: U+216D "arol Head" is the head's name to every eye and a second person.
    report = school.people.import_staff_csv(f"code,name\nCH2,{name}\n".encode(), admin_code="CHEAD")
    assert not report.imported
    [problem] = report.problems
    assert problem.reason.startswith(f"name mixes alphabets or letter forms: {said} looks like")


# --- a register detail's field, posed with a semicolon of another script ---------------------


@pytest.mark.parametrize("semicolon", ["\u204f", "\u061b", "\u236e", "\u2e35", "\u1364"])
def test_a_name_cannot_pose_as_a_field_with_a_lookalike_semicolon(
    services: Services, semicolon: str
) -> None:
    # A REVERSED SEMICOLON, an ARABIC one, APL's or Ethiopic's is drawn as ";" or nearly,
    # and NFKC leaves it as it is: "Ben Jones⁏ roles: admin" read as a name and a role.
    make_school(services)
    name = f"Ben Jones{semicolon} roles: admin"
    services.people.add_staff("BJ2", name, admin_code="DOFFICE")
    rows = services.register.day(services.ctx.clock().date()).rows
    [added] = [r for r in rows if r.kind == "reference_changed" and "BJ2" in r.detail]
    assert f'name: "{name}"; roles: none' in added.detail


def test_a_join_of_an_attribute_is_sized_by_the_attribute() -> None:
    # A digest of 5,000 people joined by name is 60,000 characters: sized by each person's
    # whole record it passed the limit and was refused.
    people = [{"name": f"Person {i:05}", "note": "x" * 200} for i in range(5_000)]
    template = BoundedSandbox().from_string("{{ people|join(', ', attribute='name') }}")
    made = render_bounded(template, {"people": people})
    assert made.startswith("Person 00000, Person 00001") and len(made) == 5_000 * 14 - 2


def test_an_ics_title_cut_inside_an_emoji_keeps_its_event(school: Services) -> None:
    # A title past 200 characters is cut to 200: cut between an emoji's woman and girl,
    # the joiner left at its end was an invisible character, and the half term was refused
    # ("the name holds an emoji the register cannot store"), its days school days.
    title = "October half term " + "x" * 180 + "\U0001f469\u200d\U0001f467"
    data = _ics(
        ("20260902", "20261219", "Autumn Term"),
        ("20261026", "20261031", title),
    )
    report = school.school.import_calendar("feed.ics", data)
    assert report.imported, report.problems
    assert not school.school.is_school_day(date(2026, 10, 27))

"""Round 17's review: what a notice template or a name could still do past this round's fixes."""

from __future__ import annotations

import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.domain.errors import InvalidInput
from kiosk.domain.text import check_typed_line, display_text, terminal_text, unsafe_characters
from kiosk.services.app import Services
from kiosk.services.notices import Templates
from kiosk.services.templating import BoundedSandbox, TooLong, render_bounded
from tests.school import make_school

# A name of 10,000 characters (made by the template: its limit is a million).
_NAME = "{% set x = 'a' * 10000 %}"
_BATCHED = [
    # batch's fill value, repeated for each place in a batch, printed or made text
    "{% for b in [1]|batch(10000, x) %}{{ b }}{% endfor %}",
    "{% for b in [1]|batch(200, x * 99) %}{{ b|length }}{% endfor %}",
    "{{ ([1]|batch(10000, x))|map('string')|first }}",
    "{{ ([1]|batch(10000, x))|map('tojson')|first }}",
    "{% for b in [1]|batch(10000, x) %}{{ b|pprint }}{% endfor %}",
    "{{ [1]|slice(10000, x)|list }}",
]


@pytest.mark.parametrize("line", _BATCHED, ids=[line[:50] for line in _BATCHED])
def test_a_list_made_in_a_loop_is_refused_before_its_text_is_made(line: str) -> None:
    # batch(10000, x) yields a list of ten thousand references to the name: nothing sized
    # it, and "{{ b }}" made its text (100 MB here; with a longer name, past the notify
    # unit's 512 MB: the kernel killed every run, no notice sent).
    template = BoundedSandbox().from_string(_NAME + line)
    tracemalloc.start()
    try:
        with pytest.raises(TooLong):
            render_bounded(template, {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000


_TEXTS = ["b", "b|e", "b|string", "b|upper", "b|urlize", "b|wordcount", "b|forceescape", "b|trim"]


@pytest.mark.parametrize("made", _TEXTS)
def test_a_long_list_is_sized_before_it_is_printed_or_made_text(made: str) -> None:
    # However a list of ten thousand names comes to a template (a loop's batch, a
    # generator's items), printing it or a filter making text of it is sized first.
    template = BoundedSandbox().from_string(f"{{{{ {made} }}}}")
    tracemalloc.start()
    try:
        with pytest.raises(TooLong):
            render_bounded(template, {"b": ["a" * 10000] * 10000})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000


def test_batch_and_printed_lists_still_work() -> None:
    source = (
        "{% for b in ['Ann', 'Ben', 'Cal']|batch(2, '-') %}{{ b }}{{ b|join('/') }} "
        "{% endfor %}|{{ [1, 2]|map('string')|join }}|{{ {'a': 'b'}|tojson }}|"
        "{{ 'x <y>'|e }}|{{ 'see https://example.org'|urlize }}|{{ [1]|pprint }}"
    )
    made = render_bounded(BoundedSandbox().from_string(source), {})
    assert made == (
        "['Ann', 'Ben']Ann/Ben ['Cal', '-']Cal/- |12|{\"a\": \"b\"}|x &lt;y&gt;|"
        'see <a href="https://example.org" rel="noopener">https://example.org</a>|[1]'
    )


# A filter of a constant is worked out as the template is compiled, and Jinja joins what it
# makes with no bound: 300 names of a million characters, 300 MB before anything ran.
_JOINED = " ~ ".join(["'a'|center(999999)"] * 300)
_FOLDED = [
    "{{ 'a'|center(999999) }}" * 300,
    "{{ (" + _JOINED + ")|length }}",
    "{% set s = " + _JOINED + " %}{{ s|length }}",
    "{% autoescape (" + _JOINED + ")|length > 0 %}x{% endautoescape %}",
]


@pytest.mark.parametrize("source", _FOLDED, ids=["printed", "length", "set", "autoescape"])
def test_a_template_of_constants_is_not_made_as_it_is_compiled(source: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(TooLong):
            render_bounded(BoundedSandbox().from_string(source), {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000


def test_a_filter_of_a_constant_still_works() -> None:
    made = render_bounded(BoundedSandbox().from_string("{{ 'ann'|upper ~ '-'|center(3) }}"), {})
    assert made == "ANN - "


# --- a name's lookalike letters, whatever their alphabet -----------------------------------


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    return services


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("\U00010415arol Head", "DESERET CAPITAL LETTER CHEE"),  # "Carol Head"
        ("Car\u12d0l Head", "ETHIOPIC SYLLABLE PHARYNGEAL A"),
        ("Car\U00010486l Head", "OSMANYA LETTER DEEL"),
        ("Car\u07cbl Head", "NKO LETTER EE"),
        ("Car\u0c66l Head", "TELUGU DIGIT ZERO"),
        ("Carol \u13bbead", "CHEROKEE LETTER MI"),  # a Cherokee H inside a Latin word
        ("C\u0430rol Head", "CYRILLIC SMALL LETTER A"),
        ("Ann \u0421\u043e\u0435", "CYRILLIC CAPITAL LETTER ES"),  # "Ann Coe", a Cyrillic word
    ],
)
def test_a_letter_of_another_alphabet_inside_a_word_is_refused(
    school: Services, name: str, said: str
) -> None:
    # A list of alphabets was always one short: Deseret, Ethiopic, Osmanya, N'Ko and
    # Telugu's zero each went in as a second "Carol Head". Now any letter or digit of a
    # second alphabet inside a word of Latin, Greek or Cyrillic letters is refused.
    report = school.people.import_staff_csv(f"code,name\nCH2,{name}\n".encode(), admin_code="CHEAD")
    assert not report.imported
    [problem] = report.problems
    assert problem.reason.startswith(f"name mixes alphabets or letter forms: {said}")


@pytest.mark.parametrize(
    "name",
    [
        "Nguyễn Thị Minh Khai",  # Vietnamese
        "Ọláolúwa Adébáyọ̀",  # Yoruba
        "Siobhán Ó Súilleabháin",  # Irish
        "Siân Llŷr ap Gwŵn",  # Welsh
        "Sequoyah ᏍᏏᏉᏯ",  # Cherokee
        "Mary ᓀᐦᐃᔭᐤ",  # Cree
        "Annie ᐊᓂ Pootoogook",  # Inuktitut
        "Mary ᓪᐃᓕ",
        "Priya प्रिया",
        "Tala ⵜⴰⵍⴰ",  # Tifinagh
        "Momolu ꕮꕷꖷ",  # Vai
        "Anna Սարգսյան",  # Armenian
        "Ka\u02bbiulani Akana",  # Hawaiian, an okina (a modifier letter) inside the word
        "田中さくら",  # Japanese, kanji and hiragana in one word
        "Henry Tudor 8",
    ],
)
def test_a_real_name_of_words_each_in_one_alphabet_is_imported(school: Services, name: str) -> None:
    report = school.people.import_staff_csv(
        f"code,name\nNEW1,{name}\n".encode(), admin_code="CHEAD"
    )
    assert not report.problems
    assert report.imported


# --- a value the sandbox cannot size -------------------------------------------------------


class _Unreadable(dict):  # type: ignore[type-arg]
    """A mapping whose items cannot be read: what a Jinja release renaming what the sizes
    read (a namespace's attributes) would look like to them."""

    def items(self):  # type: ignore[no-untyped-def,override]
        raise AttributeError("_Namespace__attrs")


def test_a_value_that_cannot_be_sized_is_a_template_that_could_not_be_checked(
    services: Services, tmp_path: Path
) -> None:
    # It was an AttributeError out of "kiosk notify": a traceback, every run.
    (tmp_path / "device_overdue.txt").write_text("Subject: Overdue\n{{ odd }}\n", encoding="utf-8")
    templates = Templates(replace(services.settings, notice_templates=str(tmp_path)))
    with pytest.raises(InvalidInput) as refused:
        templates.render("device_overdue", {"odd": _Unreadable(a=1)})
    assert refused.value.message.startswith(
        "The notice template device_overdue.txt could not be checked"
    )
    assert "nothing was sent" in refused.value.message


def test_a_namespace_and_a_join_of_an_attribute_are_still_sized() -> None:
    source = (
        "{% set ns = namespace(a='x') %}{{ ns.a }}|{{ [ns]|length }}|"
        "{{ people|join(', ', attribute='name.0') }}|{{ people|join('/', attribute='name') }}"
    )
    people = [{"name": "Gina"}, {"name": "Hal"}]
    made = render_bounded(BoundedSandbox().from_string(source), {"people": people})
    assert made == "x|1|G, H|Gina/Hal"
    with pytest.raises(TooLong):
        render_bounded(
            BoundedSandbox().from_string("{% set ns = namespace(a='a' * 10000) %}{{ [ns] * 200 }}"),
            {},
        )


# --- a mark that is part of a character: "=" U+0338 is "≠" ---------------------------------


def test_a_decomposed_not_equal_sign_is_drawn_and_taken_as_the_sign() -> None:
    # "=" followed by COMBINING LONG SOLIDUS OVERLAY is "≠" (its canonical decomposition):
    # a policy drew it as "=�", a reason typed so was refused as a struck-through word.
    assert display_text("a =\u0338 b") == "a \u2260 b"
    assert display_text("x <\u0338 y\nz", multiline=True) == "x \u226e y\nz"
    assert terminal_text("a =\u0338 b") == "a \u2260 b"
    assert check_typed_line("Room 4 =\u0338 Room 5", "reason") == "Room 4 =\u0338 Room 5"
    # a mark across a letter is still a mark across a letter
    assert display_text("Jo\u0338nes") == "Jo\ufffdnes"
    assert unsafe_characters("Jo\u0338nes") == ["COMBINING LONG SOLIDUS OVERLAY"]

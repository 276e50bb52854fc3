"""Round 16: hostile text where it is shown, stored or sent (services and CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import Settings
from kiosk.domain.errors import InvalidInput
from kiosk.services.app import Services
from tests.school import make_ready, make_school
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


# --- e-mail: a school's notice template that renders too much -------------------------------

HUGE_TEMPLATES = [
    # a loop: 30 million characters, line by line
    "Subject: Overdue\n{% for i in range(30000) %}{{ device }} is overdue. "
    "{{ 'Please bring it back. ' * 40 }}\n{% endfor %}",
    # one expression: 50 million characters at once
    "Subject: Overdue\n{{ 'x' * 50000000 }}\n",
    # a format width
    "Subject: Overdue\n{{ '%50000000s' % device }}\n",
    # a method's or a filter's width, a format's
    "Subject: Overdue\n{{ device.ljust(50000000) }}\n",
    "Subject: Overdue\n{{ device|center(50000000) }}\n",
    "Subject: Overdue\n{{ '{:>50000000}'.format(device) }}\n",
    "Subject: Overdue\n{{ '%50000000s'|format(device) }}\n",
    # a power whose answer has millions of digits (worked out as the template is compiled)
    "Subject: Overdue\n{{ 10 ** 50000000 }}\n",
]


@pytest.mark.parametrize("template", HUGE_TEMPLATES)
def test_a_notice_template_that_renders_too_much_is_refused(
    services: Services, tmp_path: Path, template: str
) -> None:
    from tests.conftest import FakeClock
    from tests.test_notify import TUESDAY, at, mail_settings, monday_off

    clock = FakeClock()
    own = Services(
        services.ctx.engine,
        mail_settings(services.settings, 25, notice_templates=str(tmp_path)),
        clock,
    )
    clock.set(at(TUESDAY.replace(day=6), 15))
    make_school(own)
    own.people.add_staff("GLEE", "Gina Lee", email="gina@school.example")
    make_ready(own, "GLEE")
    own.devices.sign_out(
        "GLEE", ["LAP-002"], reason="Report writing", expected_return=at(TUESDAY, 8)
    )
    (tmp_path / "device_overdue.txt").write_text(template, encoding="utf-8")
    clock.set(at(TUESDAY, 10))
    with pytest.raises(InvalidInput) as refused:
        own.notify.run(is_school_day=monday_off, dry_run=True)
    assert refused.value.message.startswith(
        "The notice template device_overdue.txt makes a notice too long "
        f"(more than {1_000_000:,} characters)"
    )


def test_the_notify_unit_bounds_a_runs_memory_and_time() -> None:
    # What the sandbox cannot see coming (a set block's pieces before they are joined, a loop of
    # loops that makes nothing) is stopped by systemd, not by the kiosk's machine running
    # out of memory; a run that never ends does not hold back every later one.
    from kiosk.services import deploy
    from tests.test_deploy import parse

    units = {unit.name: unit.text for unit in deploy.build_units("kiosk")}
    service = parse(units[deploy.NOTIFY_SERVICE])["Service"]
    assert service["MemoryMax"] == ["512M"] and service["TimeoutStartSec"] == ["10min"]


# --- a policy too long for the kiosk to draw ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        # 16,000 short rules: the kiosk took minutes to lay them out (superlinear: 4,000 took
        # 14 s), frozen, for each member of staff asked to read it
        ("".join(f"Rule {i}.\n\n" for i in range(16_000)), "16,000 paragraphs"),
        (
            "".join(f"- Rule {i}.\n" for i in range(5_000)),
            "5,000 list entries (each counts as two)",
        ),
        # a list entry is counted once, with its own paragraph (a loose list's too)
        ("".join(f"- Rule {i}.\n\n" for i in range(1_001)), "1,001 list entries (each counts"),
        ("Phones. " * 50_000, "400,000 characters"),
    ],
    ids=["paragraphs", "list", "loose list", "characters"],
)
def test_a_policy_too_long_for_the_kiosk_is_refused(school: Services, text: str, said: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        school.policies.publish("Phones", "2027", text)
    assert refused.value.message.startswith(
        f"The policy text is too long to read at the kiosk ({said}"
    )
    assert "Phones" not in {p.title for p in school.policies.all_versions()}


def test_a_long_policy_within_the_bounds_is_published(school: Services) -> None:
    text = "".join(f"## Part {i}\n\nStaff hand in their phones at 8:40.\n\n" for i in range(900))
    assert school.policies.publish("Phones", "2027", text).title == "Phones"


# --- calendar entry names -------------------------------------------------------------------

FORGED_LINE = "Winter break\nCalendar imported from term.csv: 1 term(s)."


def test_a_calendar_entry_name_with_a_line_break_or_an_override_is_refused(
    database: Services,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    calendar = tmp_path / "calendar.csv"
    calendar.write_text(
        "start,end,kind,name\n2027-01-04,2027-03-26,term,Spring term\n"
        f'2026-12-21,2027-01-01,holiday,"{FORGED_LINE}"\n'
        "2026-11-27,,inset,INSET \u202eyad\u202c\n",
        encoding="utf-8",
    )
    status, out, err = run(capsys, "calendar", "import", str(calendar))
    assert (status, out) == (1, "")
    assert "line 4: the name contains U+000A (a control character): a character" in err
    assert "line 5: the name contains RIGHT-TO-LEFT OVERRIDE, POP DIRECTIONAL FORMATTING" in err
    assert "the calendar was not changed" in err
    assert database.school.calendar().empty


def test_a_stored_calendar_name_is_printed_on_one_line(
    database: Services,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Recorded before the check (or by an older kiosk): each name is printed on one line.
    from kiosk.domain import calendar as calendar_rules

    old = tmp_path / "old.csv"
    old.write_text(
        f'start,end,kind,name\n2000-12-21,2001-01-01,holiday,"{FORGED_LINE}"\n', encoding="utf-8"
    )
    with monkeypatch.context() as patched:
        patched.setattr(calendar_rules, "unsafe_characters", lambda text: [], raising=False)
        assert run(capsys, "calendar", "import", str(old))[0] == 0
    new = tmp_path / "new.csv"
    new.write_text("start,end,kind,name\n2001-01-08,2001-03-30,term,Spring term\n")
    status, out, _ = run(capsys, "calendar", "import", str(new))
    assert status == 0
    lines = out.splitlines()
    imported = [line for line in lines if line.startswith("Calendar imported from")]
    assert len(imported) == 1 and imported[0].startswith("Calendar imported from new.csv: ")
    assert (
        "  Holiday: Thu 21 Dec 2000 to Mon 01 Jan 2001 (Winter break Calendar imported from "
        "term.csv: 1 term(s).)" in lines
    )


# --- the reason given for a restore ---------------------------------------------------------


@pytest.mark.parametrize(
    "reason",
    ["deposit by mistake\nrestored by: the DPO", "deposit by \u202etsim\u202c mistake", "x" * 501],
    ids=["line break", "override", "too long"],
)
def test_a_restore_reason_is_checked_as_every_reason_is(
    sqlite_url: str, tmp_path: Path, reason: str
) -> None:
    from kiosk.db.engine import make_engine
    from tests.conftest import FakeClock

    services = Services(make_engine(sqlite_url), Settings(database_url=sqlite_url), FakeClock())
    try:
        make_school(services)
        backup = tmp_path / "monday.sqlite3"
        services.backup.backup(backup)
        services.phones.deposit("ASMITH")  # after the backup: dropped by the restore
        with pytest.raises(InvalidInput) as refused:
            services.backup.restore(backup, drop_newer=True, reason=reason)
        assert refused.value.message.startswith("The reason ")
        assert [p.staff.code for p in services.phones.phones_now()] == ["ASMITH"]
    finally:
        services.close()

"""Free text other than names (reasons, notes, needs, policy titles and versions, store names):
refused at input when it holds a character that is invisible or changes how a line reads, and
never sent on in an e-mail as the characters that act (a line break, an override, ESC)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from kiosk.domain.errors import InvalidInput
from kiosk.domain.events import ReviewStatus
from kiosk.services.app import Services
from tests.conftest import with_settings
from tests.school import make_ready, make_school

ESC = "\x1b"
# (typed, the character the message must name)
HIDDEN = (
    ("Dentist\u202e txt.exe", "RIGHT-TO-LEFT OVERRIDE"),
    ("Dentist\u200b", "ZERO WIDTH SPACE"),
    (f"Dentist{ESC}]0;pwned\x07", "U+001B (a control character)"),
    ("Dentist\nURGENT: reply with your PIN", "U+000A (a control character)"),
)


def _events(services: Services) -> int:
    with services.ctx.engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM events")).scalar_one())


@pytest.fixture
def school(services: Services) -> Services:
    make_school(services)
    for code in ("ASMITH", "CHEAD", "EPATEL"):
        make_ready(services, code)
    now = services.ctx.clock()
    services.devices.sign_out(
        "ASMITH", ["LAP-001"], reason="Report writing", expected_return=now + timedelta(hours=3)
    )
    services.policies.request_workstation_review("EPATEL", "A laptop stand, please")
    return services


ENTRIES: dict[str, Callable[[Services, str], object]] = {
    "sign-out reason": lambda s, t: s.devices.sign_out(
        "CHEAD", ["LAP-002"], reason=t, expected_return=s.ctx.clock() + timedelta(hours=3)
    ),
    "return condition": lambda s, t: s.devices.return_device("LAP-001", condition=t),
    "extension reason": lambda s, t: s.devices.extend(
        "LAP-001", s.ctx.clock() + timedelta(days=1), reason=t, staff_code="ASMITH"
    ),
    "workstation needs": lambda s, t: s.policies.request_workstation_review("EPATEL", t),
    "review note": lambda s, t: s.policies.update_review(
        s.policies.reviews()[0].event_id,
        ReviewStatus.DONE,
        admin_code="DOFFICE",
        note=t,
    ),
    "exemption granted by": lambda s, t: s.policies.grant_exemption(
        "CHEAD", granted_by=t, until=date(2099, 7, 22), admin_code="DOFFICE"
    ),
    "correction reason": lambda s, t: s.register.void(
        next(  # ASMITH's sign-out: a list change (event 1) is not voided by a correction
            r.event_id
            for r in s.register.day(s.ctx.clock().date()).rows
            if r.kind == "device_signed_out"
        ),
        reason=t,
        admin_code="DOFFICE",
    ),
    "policy title": lambda s, t: s.policies.publish(t, "2026", "Be kind.\n"),
    "policy version": lambda s, t: s.policies.publish("Phones", t, "Be kind.\n"),
    "store name": lambda s, t: s.people.add_store("ANNEX", t, admin_code="DOFFICE"),
}


@pytest.mark.parametrize("entry", sorted(ENTRIES))
@pytest.mark.parametrize(("typed", "named"), HIDDEN, ids=("bidi", "zwsp", "esc", "newline"))
def test_free_text_with_hidden_characters_is_refused_and_nothing_recorded(
    school: Services, entry: str, typed: str, named: str
) -> None:
    before = _events(school)
    with pytest.raises(InvalidInput) as refused:
        ENTRIES[entry](school, typed)
    assert named in refused.value.message and "Type it again" in refused.value.message
    assert ESC not in refused.value.message
    assert _events(school) == before


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_ordinary_free_text_still_goes_in(school: Services, entry: str) -> None:
    ENTRIES[entry](school, "Café [b]visit[/b] =1+1 — ok")


def test_a_policy_title_stored_before_the_rule_is_one_plain_line_in_every_e_mail(
    school: Services,
) -> None:
    # Published before titles were checked (or written by someone with the database): the
    # e-mail to every member of staff must not start its body with the title's second line,
    # nor carry the override or ESC.
    policy = school.policies.publish("Phones", "2026", "Be kind.\n")
    with school.ctx.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE policies SET title = :t, version = :v WHERE id = :id"),
            {
                "t": "AUP\u202eexe.txt\nURGENT: reply with your PIN",
                "v": f"2026{ESC}]0;x\x07",
                "id": policy.id,
            },
        )
    school.people.add_staff("HNEW", "Hal New", email="hal@school.example")
    mailing = with_settings(school, office_email="office@school.example")
    try:
        due = mailing.notify.run(dry_run=True).due
    finally:
        mailing.close()
    sent = [n for n in due if n.kind in ("policy_waiting", "office_digest")]
    assert "policy_waiting" in {n.kind for n in sent}
    for notice in sent:
        for text in (notice.subject, notice.text, notice.html):
            assert "\u202e" not in text and ESC not in text and "\x07" not in text
            assert "\nURGENT" not in text
    [waiting] = [
        n
        for n in sent
        if n.key == f"policy:{policy.id}:{n.key.rsplit(':')[-1]}" and n.to == "hal@school.example"
    ]
    assert waiting.text.startswith("Dear Hal New,")
    assert "AUP\ufffdexe.txt URGENT: reply with your PIN (2026\ufffd]0;x\ufffd)" in waiting.subject


# --- length: the same rule says how long a typed line may be ---------------------------------


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_free_text_of_five_million_characters_is_refused_and_nothing_recorded(
    school: Services, entry: str
) -> None:
    # An extension's reason, a review's note and an exemption's "granted by" took any length
    # (five million characters went into the register, and into every export after it); a
    # correction's reason was cut to 500 without a word. Every typed line has a limit now.
    before = _events(school)
    with pytest.raises(InvalidInput) as refused:
        ENTRIES[entry](school, "x" * 5_000_000)
    assert "too long" in refused.value.message
    assert _events(school) == before

"""Round 15's hostile-text fixes, as a newcomer's review found them: what they refused that a
school needs (its e-mail settings as written before, its name as its language spells it, the
anchor it kept as an e-mail), and where a value could still pose as a field. Each test here
failed on the code before its fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.config import ConfigError, check_value, load_settings
from kiosk.domain.errors import InvalidInput
from kiosk.domain.text import display_text, unsafe_characters
from kiosk.services.app import Services
from tests.school import make_ready, make_school

# "Sri Sumangala School" in Sinhala: a joiner after the virama in "Sri" and in "school".
SINHALA = "ශ්\u200dරී සුමංගල විද්\u200dයාලය"
# "I want" in Persian: a non-joiner between two letters of the word.
PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"


def _config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **values: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()), "utf-8")
    monkeypatch.setenv("KIOSK_CONFIG", str(path))
    return path


def test_an_address_written_before_its_rules_does_not_stop_every_command(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A config file from before the one-address rule listed two office addresses. Only
    # notices use it, and `kiosk notify` refuses it for its own notices, named. Checking it
    # as the settings load stopped the kiosk itself (no phone recorded), the console and
    # every command but `config set`.
    monkeypatch.setenv("KIOSK_DATABASE_URL", sqlite_url)
    _config_file(tmp_path, monkeypatch, office_email="office@school.example; head@school.example")
    assert load_settings().office_email == "office@school.example; head@school.example"
    assert main(["staff", "list"]) == 0
    with pytest.raises(ConfigError):  # typed again, the rule holds
        check_value("office_email", "office@school.example; head@school.example")
    capsys.readouterr()


@pytest.mark.parametrize("name", [SINHALA, PERSIAN], ids=["sinhala", "persian"])
def test_a_name_spelt_with_joiners_is_taken_and_shown_as_written(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, services: Services
) -> None:
    # A joiner or non-joiner is invisible, and refused as hidden text; but after a virama,
    # or between two joining letters, it is how the word is spelt. The school's name in
    # Sinhala, set in the file, stopped every command ("type it again": it cannot be typed
    # otherwise), and was shown with a "�" in each word.
    _config_file(tmp_path, monkeypatch, school_name=name)
    assert load_settings().school_name == name
    assert check_value("school_name", name) == name
    assert display_text(name) == name and unsafe_characters(name) == []
    make_school(services)
    services.people.add_staff("SPERERA", name)
    [person] = [p for p in services.people.list_staff() if p.code == "SPERERA"]
    assert person.name == name


@pytest.mark.parametrize(
    "text",
    ["Ben\u200dJones", "Ben\u200cJones", "\u200dශ්රී", "ශ්\u200d", "ශ්\u200d Jones"],
    ids=["zwj-latin", "zwnj-latin", "leading", "trailing", "before-latin"],
)
def test_a_joiner_that_spells_nothing_is_still_hidden_text(text: str) -> None:
    assert "\ufffd" in display_text(text)
    assert unsafe_characters(text)
    with pytest.raises(ConfigError):
        check_value("school_name", text)


def test_a_look_alike_semicolon_cannot_write_a_field(services: Services) -> None:
    # The detail quotes a value holding ";", so that "Report writing; line manager: CHEAD"
    # cannot read as the head's agreement; a GREEK QUESTION MARK (drawn as ";"), or a
    # full-width one, went round it.
    from datetime import timedelta

    make_school(services)
    make_ready(services, "ASMITH")
    reason = "Report writing\u037e line manager: CHEAD"
    services.devices.sign_out(
        "ASMITH",
        ["LAP-001"],
        reason=reason,
        expected_return=services.ctx.clock() + timedelta(hours=3),
    )
    services.people.add_staff("BJ2", "Ben Jones\uff1b roles: admin", admin_code="DOFFICE")
    rows = services.register.day(services.ctx.clock().date()).rows
    [signed] = [r for r in rows if r.kind == "device_signed_out"]
    assert signed.detail.startswith(f'reason: "{reason}"; due: ')
    [added] = [r for r in rows if r.kind == "reference_changed" and "BJ2" in r.detail]
    assert 'name: "Ben Jones\uff1b roles: admin"; roles: none' in added.detail


def test_a_correction_reason_cannot_write_a_field(
    services: Services, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A correction's reason was shown as it is: "voids event 20: scanned twice; voids
    # event 1" read as two corrections, and the voided row's "[voided: ...]" the same.
    make_school(services)
    deposit = services.phones.deposit("BJONES").event_id
    reason = "scanned twice; voids event 1"
    services.register.void(deposit, reason=reason, admin_code="DOFFICE")
    rows = services.register.day(services.ctx.clock().date()).rows
    [correction] = [r for r in rows if r.kind == "correction"]
    assert correction.detail == f'voids event {deposit}: "{reason}"'
    monkeypatch.setenv("KIOSK_DATABASE_URL", services.settings.database_url)
    capsys.readouterr()
    assert main(["register", "--date", services.ctx.clock().date().isoformat()]) == 0
    out = capsys.readouterr().out
    assert f'[voided: "{reason}"]' in out
    assert f'voids event {deposit}: "{reason}"' in out


def test_a_joiner_in_a_code_is_still_refused(services: Services) -> None:
    # Codes are scanned and typed: no joiner spells one.
    make_school(services)
    with pytest.raises(InvalidInput):
        services.people.add_staff("ශ්\u200dරී", "Someone")

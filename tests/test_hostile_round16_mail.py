"""Round 16: what a mail server answers, as the kiosk prints and records it."""

from __future__ import annotations

from typing import Any

from kiosk.domain.events import EventKind
from kiosk.services.app import Services
from tests.conftest import FakeClock
from tests.test_notify import (  # noqa: F401  (school and smtp are fixtures)
    TUESDAY,
    SmtpServer,
    at,
    monday_off,
    school,
    smtp,
)

FORGED = "Rejected\r\n550 2026-03-10 10:00: 5 notices sent, 0 failed."


def test_a_mail_servers_answer_of_several_lines_is_one_line(
    school: Services,  # noqa: F811
    smtp: SmtpServer,  # noqa: F811
    clock: FakeClock,
) -> None:
    # A server's refusal may run over several lines (SMTP's "550-" continuation lines), of
    # words the server chose: `kiosk notify` printed each as a line of its own (a line in the
    # journal that reads as the run's own) and the register kept the line breaks.
    async def refuse(server: Any, session: Any, envelope: Any) -> str:
        return "550-" + FORGED

    smtp.inbox.handle_DATA = refuse  # type: ignore[method-assign]
    clock.set(at(TUESDAY, 10))
    report = school.notify.run(is_school_day=monday_off)
    assert report.failed
    for outcome in report.failed:
        assert outcome.error == "SMTP 550: Rejected 2026-03-10 10:00: 5 notices sent, 0 failed."
    failures = [
        row
        for row in school.register.rows_between(TUESDAY, TUESDAY)
        if row.kind == EventKind.NOTICE_FAILED.value
    ]
    assert failures and all("\n" not in str(row.detail) for row in failures)
    assert all("\n" not in (state.error or "") for state in school.notify.status())

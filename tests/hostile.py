"""Hostile names in the roster (issue 15.7): markup, click actions, ANSI and OSC escapes, bidi
overrides and zero-width characters, written into the database as an attacker with the SQLite
file or the database login would (raw SQL: the services refuse most of them at input)."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from kiosk.services.app import Services
from tests.school import make_ready, make_school

ESC = "\x1b"
OSC52 = f"{ESC}]52;c;cm0gLXJmIH4=\x07"  # writes the clipboard
TITLE = f"{ESC}]0;pwned\x07"  # sets the terminal's title
RED = f"{ESC}[31m"

HOSTILE = {
    "ASMITH": "[@click=screen.exit_kiosk]Jo[/]",
    "BJONES": f"Ben{OSC52}{TITLE}{RED}Jones",
    "CHEAD": "[@click=app.quit]Carol[/] [b]Head[/b]",
    "EPATEL": "Esha\u202eletaP\u200b",
}
# What a person must see for each (removed characters shown as U+FFFD).
SHOWN = {
    "ASMITH": "[@click=screen.exit_kiosk]Jo[/]",
    "BJONES": "Ben\ufffd]52;c;cm0gLXJmIH4=\ufffd\ufffd]0;pwned\ufffd\ufffd[31mJones",
    "CHEAD": "[@click=app.quit]Carol[/] [b]Head[/b]",
    "EPATEL": "Esha\ufffdletaP\ufffd",
}
POLICY_TITLE = "[@click=app.quit]AUP[/]"
DEVICE_DESCRIPTION = f"[@click=app.quit]Dell[/]{TITLE}\u202eLatitude"


def make_hostile_school(services: Services) -> None:
    """The test school with events for everyone, then its names made hostile by raw SQL."""
    make_school(services)
    services.policies.publish(POLICY_TITLE, "2026", "Be kind.\n")
    now = services.ctx.clock()
    make_ready(services, "ASMITH")
    services.devices.sign_out(
        "ASMITH", ["LAP-001"], reason="Report writing", expected_return=now + timedelta(hours=3)
    )
    services.phones.deposit("BJONES")
    services.phones.deposit("EPATEL")
    services.phones.deposit("CHEAD")
    services.policies.grant_exemption(
        "CHEAD", granted_by="Carol Head", until=date(2099, 7, 22), admin_code="DOFFICE"
    )
    with services.ctx.engine.begin() as connection:
        for code, name in HOSTILE.items():
            connection.execute(
                sa.text("UPDATE staff SET name = :name WHERE code = :code"),
                {"name": name, "code": code},
            )
        connection.execute(
            sa.text("UPDATE devices SET description = :d WHERE tag = 'LAP-002'"),
            {"d": DEVICE_DESCRIPTION},
        )

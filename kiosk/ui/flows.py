"""Moving between screens: each flow starts here, so any screen can start it.

Screens are imported when they are first needed, not when the app starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.services.scan import PhoneScan
    from kiosk.services.views import (
        DeviceStatus,
        EventReceipt,
        SignOutCheck,
        StaffInfo,
        StaffStatus,
    )
    from kiosk.ui.app import KioskApp


def show_person(app: KioskApp, status: StaffStatus) -> None:
    from kiosk.ui.person import PersonScreen

    screen = app.reusable(PersonScreen, lambda: PersonScreen(status))
    screen.load(status)
    app.show_over_home(screen)


def confirm_receipt(app: KioskApp, receipt: EventReceipt, *more: str) -> None:
    lines = [receipt.staff.name] if receipt.staff is not None else []
    app.confirm(receipt.summary, [*lines, *more], receipt.occurred_at)


def deposit(app: KioskApp, staff_code: str, store_code: str | None = None) -> bool:
    return app.run_service(
        lambda s: s.phones.deposit(staff_code, store_code),
        lambda receipt: confirm_receipt(app, receipt),
    )


def collect(app: KioskApp, status: StaffStatus) -> bool:
    def collected(done: PhoneScan) -> None:
        if done.receipt is not None:
            confirm_receipt(app, done.receipt, *done.note)

    return app.run_service(lambda s: s.scans.collect(status), collected)


def start_sign_out(app: KioskApp, status: StaffStatus, tags: list[str]) -> bool:
    """Check what the form must ask (and what must be done first), then open it."""
    from kiosk.ui.signout import SignOutScreen

    def opened(check: SignOutCheck) -> None:
        app.go_home()
        app.push_screen(SignOutScreen(check))

    return app.run_service(lambda s: s.devices.check_sign_out(status.staff.code, tags), opened)


def offer_return(app: KioskApp, status: DeviceStatus, recorded_by: str | None) -> None:
    from kiosk.ui.returns import ReturnScreen

    app.go_home()
    app.push_screen(ReturnScreen(status, recorded_by=recorded_by))


def start_breakfast(app: KioskApp, lead: StaffInfo) -> None:
    from kiosk.ui.breakfast import BreakfastScreen

    app.go_home()
    app.push_screen(BreakfastScreen(lead))

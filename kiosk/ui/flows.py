"""Moving between screens: each flow starts here, so any screen can start it.

Screens are imported when they are first needed, not when the app starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.domain.errors import KioskError

if TYPE_CHECKING:
    from kiosk.services.app import Services
    from kiosk.services.people import ScanResult
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


def collect_note(status: StaffStatus) -> list[str]:
    held = status.phone
    if held is not None and held.recorded_by and held.recorded_by != status.staff.name:
        return [f"It had been logged in for you by {held.recorded_by}."]
    return []


def collect(app: KioskApp, status: StaffStatus) -> bool:
    note = collect_note(status)
    return app.run_service(
        lambda s: s.phones.collect(status.staff.code),
        lambda receipt: confirm_receipt(app, receipt, *note),
    )


@dataclass(frozen=True)
class PhoneScan:
    """A scan after "Phone in / out": what it identified, then what was recorded (or why
    nothing was)."""

    result: ScanResult
    receipt: EventReceipt | None = None
    error: KioskError | None = None


def phone_scan(services: Services, text: str) -> PhoneScan:
    """ "Phone in / out" then a badge: who it is, then their deposit or collection, in one
    call in the worker thread (one trip there and back instead of two)."""
    result = services.people.resolve_scan(text)
    status = result.staff
    if status is None:
        return PhoneScan(result)
    try:
        if status.phone is not None:
            receipt = services.phones.collect(status.staff.code)
        else:
            receipt = services.phones.deposit(status.staff.code)
    except KioskError as exc:
        return PhoneScan(result, error=exc)
    return PhoneScan(result, receipt)


def toggle_phone(app: KioskApp, status: StaffStatus) -> bool:
    """The home screen's "Phone in / out" button, then a badge: one scan does it."""
    if status.phone is not None:
        return collect(app, status)
    return deposit(app, status.staff.code)


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

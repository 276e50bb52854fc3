"""Moving between screens: each flow starts here, so any screen can start it.

Screens are imported when they are first needed, not when the app starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.domain.errors import KioskError
from kiosk.domain.scan import ScanKind, parse_scan

if TYPE_CHECKING:
    from kiosk.domain.scan import Scan
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


def parse_scan_or_none(text: str) -> Scan | None:
    try:
        return parse_scan(text)
    except KioskError:
        return None


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
    if held is not None and held.recorded_by != status.staff.name:
        return logged_for_you(held.recorded_by)
    return []


def logged_for_you(logged_in_by: str | None) -> list[str]:
    """The line added to a collection's confirmation when someone else logged the phone in."""
    return [f"It had been logged in for you by {logged_in_by}."] if logged_in_by else []


def collect(app: KioskApp, status: StaffStatus) -> bool:
    note = collect_note(status)
    return app.run_service(
        lambda s: s.phones.collect(status.staff.code),
        lambda receipt: confirm_receipt(app, receipt, *note),
    )


@dataclass(frozen=True)
class PhoneScan:
    """A scan after "Phone in / out": what was recorded for the person whose badge it was
    (and what to add to the confirmation), or, when it was not a badge, what it was."""

    receipt: EventReceipt | None = None
    note: tuple[str, ...] = ()
    result: ScanResult | None = None


def phone_scan(services: Services, text: str) -> PhoneScan:
    """ "Phone in / out" then a badge: their deposit or collection, in one call in the
    worker thread and one transaction. Anything else scanned is looked up as usual."""
    scan = parse_scan_or_none(text)
    if scan is not None and scan.kind is not ScanKind.DEVICE:
        done = services.phones.in_or_out(scan.code)
        if done is not None:
            note = logged_for_you(done.logged_in_by) if done.collected else []
            return PhoneScan(done.receipt, tuple(note))
    # Not a badge: a label, or something that cannot be read (resolve_scan says which).
    return PhoneScan(result=services.people.resolve_scan(text))


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

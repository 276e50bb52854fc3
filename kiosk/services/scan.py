"""What a scan at the kiosk means, and recording it: "Phone in / out" then a badge.

The kiosk's screens call these through the gateway (``kiosk/ui/gateway.py``), in a thread
worker; they answer with frozen values the screen only has to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.domain.errors import KioskError
from kiosk.domain.scan import ScanKind, parse_scan
from kiosk.services.people import PeopleService, ScanResult
from kiosk.services.phones import PhoneService
from kiosk.services.views import EventReceipt, StaffStatus


@dataclass(frozen=True)
class PhoneScan:
    """A scan after "Phone in / out": what was recorded for the person whose badge it was
    (and what to add to the confirmation), or, when it was not a badge, what it was."""

    receipt: EventReceipt | None = None
    note: tuple[str, ...] = ()
    result: ScanResult | None = None


def logged_for_you(logged_in_by: str | None) -> tuple[str, ...]:
    """The line added to a collection's confirmation when someone else logged the phone in."""
    return (f"It had been logged in for you by {logged_in_by}.",) if logged_in_by else ()


def collection_note(status: StaffStatus) -> tuple[str, ...]:
    """The confirmation's extra line when ``status``'s phone (about to be collected) was
    logged in by someone else (the breakfast-club lead, an admin)."""
    held = status.phone
    return logged_for_you(held.recorded_by) if held is not None else ()


class ScanService:
    """The kiosk's phone use cases that are more than one service call: what a scan means,
    and what the confirmation adds."""

    def __init__(self, phones: PhoneService, people: PeopleService) -> None:
        self.phones = phones
        self.people = people

    def phone_in_or_out(self, text: str) -> PhoneScan:
        """ "Phone in / out" then ``text`` scanned: a badge deposits or collects its
        person's phone (one transaction); anything else is looked up as usual
        (``people.resolve_scan``: a label, or a refusal in words)."""
        try:
            scan = parse_scan(text)
        except KioskError:
            scan = None
        if scan is not None and scan.kind is not ScanKind.DEVICE:
            if scan.kind is ScanKind.EITHER:  # typed: a staff code that is also a label?
                self.people.refuse_ambiguous(text)
            done = self.phones.in_or_out(scan.code)
            if done is not None:
                note = logged_for_you(done.logged_in_by) if done.collected else ()
                return PhoneScan(done.receipt, note)
        # Not a badge: a label, or something that cannot be read (resolve_scan says which).
        return PhoneScan(result=self.people.resolve_scan(text))

    def collect(self, status: StaffStatus) -> PhoneScan:
        """Collect the phone of the person on the screen (``status``, as shown): the
        receipt, and the line saying who logged it in when that was someone else."""
        receipt = self.phones.collect(status.staff.code)
        return PhoneScan(receipt, collection_note(status))

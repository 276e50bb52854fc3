"""Event kinds, roles and devices: every kind has a label and a category."""

from __future__ import annotations

from kiosk.domain.events import DEVICE_KINDS, PHONE_KINDS, DeviceKind, EventKind


def test_every_kind_has_a_label_and_a_category() -> None:
    for kind in EventKind:
        assert kind.label and kind.label[0].isupper(), kind
        assert kind.category, kind


def test_phone_and_device_kinds_are_apart() -> None:
    assert EventKind.PHONE_DEPOSITED in PHONE_KINDS
    assert EventKind.DEVICE_SIGNED_OUT in DEVICE_KINDS
    assert not PHONE_KINDS & DEVICE_KINDS
    assert EventKind.CORRECTION not in PHONE_KINDS | DEVICE_KINDS


def test_kinds_are_stored_as_their_values() -> None:
    assert EventKind("phone_deposited") is EventKind.PHONE_DEPOSITED
    assert str(DeviceKind.WORK_PHONE) == "work_phone"
    assert DeviceKind.LAPTOP.label

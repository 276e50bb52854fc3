"""QR labels: written to PNG/SVG/PDF, read back by a real decoder and the kiosk's scan parser."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from kiosk.domain.errors import InvalidInput
from kiosk.domain.scan import ScanKind, device_payload, parse_scan, staff_payload
from kiosk.services import labels
from kiosk.services.app import Services
from tests.school import DEVICES, STAFF, make_school

SVG = "{http://www.w3.org/2000/svg}"


def decode(path: Path) -> list[zxingcpp.Barcode]:
    with Image.open(path) as image:
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        assert image.size == (2480, 3508)  # A4 at 300 dpi
        return [
            r for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode
        ]


def test_staff_badges_png_decode_to_the_people_they_name(
    services: Services, tmp_path: Path
) -> None:
    make_school(services)
    services.people.retire_staff("EPATEL")
    written = labels.write_sheet(labels.staff_labels(services.people), tmp_path / "badges.png")
    assert written == [tmp_path / "badges.png"]

    found = {}
    for result in decode(written[0]):
        scan = parse_scan(result.text)
        assert scan.kind is ScanKind.STAFF
        person = services.people.resolve_scan(result.text).staff
        assert person is not None
        found[person.staff.code] = person.staff.name
    active = {code: name for code, name, *_ in STAFF if code != "EPATEL"}
    assert found == active


def test_device_labels_span_pages_and_every_code_scans(services: Services, tmp_path: Path) -> None:
    make_school(services)
    rows = "".join(f"LAP-{n:03d},laptop,Trolley laptop {n}\n" for n in range(10, 36))
    assert services.people.import_devices_csv(b"tag,kind,description\n" + rows.encode()).imported
    expected = {tag for tag, *_ in DEVICES} | {f"LAP-{n:03d}" for n in range(10, 36)}

    written = labels.write_sheet(labels.device_labels(services.people), tmp_path / "devices.png")
    assert written == [tmp_path / "devices-1.png", tmp_path / "devices-2.png"]

    per_page = [decode(path) for path in written]
    assert [len(page) for page in per_page] == [24, len(expected) - 24]
    tags = set()
    for result in (r for page in per_page for r in page):
        status = services.people.resolve_scan(result.text)
        assert status.device is not None and status.staff is None
        assert result.text == device_payload(status.device.device.tag)
        tags.add(status.device.device.tag)
    assert tags == expected


def test_payloads_are_encoded_in_alphanumeric_mode() -> None:
    # 16 characters: alphanumeric mode fits QR version 1 (21 modules, 20 characters at
    # level M); byte mode would need version 2 (25 modules, only 14 bytes in version 1).
    payload = device_payload("LAP-00012")
    assert len(payload) == 16
    matrix = labels.qr_matrix(payload)
    assert len(matrix) == 21 + 2 * labels.QUIET_ZONE

    image = Image.new("L", (len(matrix) * 10, len(matrix) * 10), 255)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                image.paste(0, (x * 10, y * 10, x * 10 + 10, y * 10 + 10))
    (result,) = zxingcpp.read_barcodes(image)
    assert result.text == payload
    assert result.extra["Version"] == "1"


def test_svg_is_well_formed_and_carries_every_label(services: Services, tmp_path: Path) -> None:
    make_school(services)
    sheet = labels.staff_labels(services.people)
    (path,) = labels.write_sheet(sheet, tmp_path / "badges.svg")
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    assert root.get("width") == "210.0mm" and root.get("height") == "297.0mm"
    groups = root.findall(f"{SVG}g")
    assert [g.get("data-payload") for g in groups] == [
        staff_payload(c) for c, *_ in sorted(STAFF, key=lambda s: s[1])
    ]
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    for code, name, *_ in STAFF:
        assert code in texts
        assert name in texts
    for group in groups:
        assert group.find(f"{SVG}path") is not None


def test_svg_escapes_text_that_looks_like_markup(tmp_path: Path) -> None:
    sheet = [labels.Label(staff_payload("ZOE"), "ZOE", "Zoë <b>O'Brien</b> & co")]
    (path,) = labels.write_sheet(sheet, tmp_path / "odd.svg")
    texts = [t.text or "" for t in ET.parse(path).getroot().iter(f"{SVG}text")]
    assert texts[0] == "ZOE"
    assert " ".join(texts[1:]) == "Zoë <b>O'Brien</b> & co"


def test_pdf_has_one_a4_page_per_sheet(tmp_path: Path) -> None:
    sheet = [labels.Label(staff_payload(f"T{n}"), f"T{n}", f"Teacher {n}") for n in range(30)]
    (path,) = labels.write_sheet(sheet, tmp_path / "badges.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert b"/Count 2" in data
    # 2480 x 3508 pixels at 300 dpi is A4: 595.2 x 841.92 points.
    assert data.count(b"/MediaBox [ 0 0 595.2 841.92 ]") == 2
    # Stored losslessly (1-bit, CCITT G4), not JPEG, which would blur the modules.
    assert b"/DCTDecode" not in data


def test_unknown_format_and_empty_list_are_refused(tmp_path: Path) -> None:
    sheet = [labels.Label(staff_payload("ASMITH"), "ASMITH", "Alice Smith")]
    with pytest.raises(InvalidInput, match=r"\.png, \.svg, \.pdf"):
        labels.write_sheet(sheet, tmp_path / "badges.jpg")
    with pytest.raises(InvalidInput, match="nothing to print"):
        labels.write_sheet([], tmp_path / "badges.png")
    assert list(tmp_path.iterdir()) == []

"""QR labels: written to PNG/SVG/PDF, read back by a real decoder and the kiosk's scan parser."""

from __future__ import annotations

import re
import subprocess
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


# --- label stocks: Avery sheets and label printers (issue 18.4) ---------------------------------

SHEETS = ["a4-3x8", "L7160", "L7163", "L7651"]
PRINTERS = ["dymo-99012", "brother-62"]


def px(mm: float) -> float:
    return mm / 25.4 * labels.DPI


def qr_codes(image: Image.Image) -> list[zxingcpp.Barcode]:
    return [r for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]


def centre(result: zxingcpp.Barcode) -> tuple[float, float]:
    p = result.position
    corners = (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
    return sum(c.x for c in corners) / 4, sum(c.y for c in corners) / 4


def pdf_pages_as_images(path: Path, tmp_path: Path) -> list[Image.Image]:
    """The PDF's pages rendered by poppler (pdftoppm, installed by make test) at 300 dpi."""
    subprocess.run(
        ["pdftoppm", "-r", "300", "-gray", "-png", str(path), str(tmp_path / "page")],
        check=True,
    )
    return [Image.open(p) for p in sorted(tmp_path.glob("page-*.png"))]


@pytest.mark.parametrize("name", SHEETS)
def test_each_sheet_stock_puts_every_label_where_the_stock_has_it(
    name: str, tmp_path: Path
) -> None:
    stock = labels.get_stock(name)
    sheet = [
        labels.Label(device_payload(f"LAP-{n:03d}"), f"LAP-{n:03d}", f"Laptop {n}")
        for n in range(stock.per_page + 1)
    ]
    written = labels.write_sheet(sheet, tmp_path / "sheet.png", stock)
    assert [p.name for p in written] == ["sheet-1.png", "sheet-2.png"]
    with Image.open(written[0]) as page:
        assert page.size == (2480, 3508)  # A4 at 300 dpi
        found = qr_codes(page)
    assert len(found) == stock.per_page
    for result in found:
        index = int(result.text.rsplit("-", 1)[1])
        left, top = stock.origin(index)
        x, y = centre(result)
        # The code sits inside its own label on the stock, clear of the label's edges.
        assert px(left) < x < px(left + stock.label_mm[0])
        assert px(top) < y < px(top + stock.label_mm[1])
    # Every stock's labels stay on the A4 page.
    last_left, last_top = stock.origin(stock.per_page - 1)
    assert last_left + stock.label_mm[0] <= 210.0 and last_top + stock.label_mm[1] <= 297.0


def test_avery_layouts_are_the_published_ones() -> None:
    expected = {
        "L7160": (21, (63.5, 38.1), (7.21, 15.15), (66.04, 38.1)),
        "L7163": (14, (99.1, 38.1), (4.65, 15.15), (101.6, 38.1)),
        "L7651": (65, (38.1, 21.2), (4.67, 10.7), (40.64, 21.2)),
    }
    for name, (count, size, corner, pitch) in expected.items():
        stock = labels.get_stock(name.lower())
        assert (stock.per_page, stock.label_mm, stock.origin(0), stock.pitch_mm) == (
            count,
            size,
            corner,
            pitch,
        )
    with pytest.raises(InvalidInput, match="L7160"):
        labels.get_stock("L9999")


@pytest.mark.parametrize("name", PRINTERS)
def test_a_label_printer_gets_one_page_per_label_at_its_size(name: str, tmp_path: Path) -> None:
    stock = labels.get_stock(name)
    sheet = [
        labels.Label(device_payload("LAP-014"), "LAP-014", "Laptop: Dell Latitude"),
        labels.Label(staff_payload("T103"), "T103", "Tomasz Wiśniewski"),
    ]
    size = (round(px(stock.label_mm[0])), round(px(stock.label_mm[1])))
    written = labels.write_sheet(sheet, tmp_path / "label.png", stock)
    assert [p.name for p in written] == ["label-1.png", "label-2.png"]
    for path, label in zip(written, sheet, strict=True):
        with Image.open(path) as image:
            assert image.size == size
            assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
            assert [r.text for r in qr_codes(image)] == [label.payload]

    (pdf,) = labels.write_sheet(sheet, tmp_path / "label.pdf", stock)
    data = pdf.read_bytes()
    assert b"/Count 2" in data
    boxes = re.findall(rb"/MediaBox \[ 0 0 ([\d.]+) ([\d.]+) \]", data)
    assert len(boxes) == 2
    for box in boxes:  # the page is the label, to a tenth of a millimetre
        assert [float(v) / 72 * 25.4 for v in box] == pytest.approx(stock.label_mm, abs=0.1)
    pages = pdf_pages_as_images(pdf, tmp_path)
    assert [[r.text for r in qr_codes(p)] for p in pages] == [[x.payload] for x in sheet]


@pytest.mark.parametrize("name", ["L7160", "L7651"])
def test_a_sheet_pdf_decodes_page_by_page(name: str, tmp_path: Path) -> None:
    stock = labels.get_stock(name)
    sheet = [
        labels.Label(staff_payload(f"T{n}"), f"T{n}", f"Teacher {n}")
        for n in range(stock.per_page + 3)
    ]
    (pdf,) = labels.write_sheet(sheet, tmp_path / "badges.pdf", stock)
    pages = pdf_pages_as_images(pdf, tmp_path)
    assert [p.size for p in pages] == [(2480, 3508)] * 2
    texts = [sorted(r.text for r in qr_codes(p)) for p in pages]
    assert texts == [
        sorted(x.payload for x in sheet[: stock.per_page]),
        sorted(x.payload for x in sheet[stock.per_page :]),
    ]


LONG = "TRUST-ACADEMY-LAPTOP-0123-B/2026"  # 32 characters, the longest code allowed


@pytest.mark.parametrize("name", SHEETS + PRINTERS)
def test_long_codes_shrink_to_7_points_then_wrap_and_still_scan(name: str) -> None:
    stock = labels.get_stock(name)
    short = labels.layout_label(labels.Label(device_payload("LAP-1"), "LAP-1", "x"), stock)
    assert short.code.lines == ("LAP-1",)
    assert short.code.size_pt > 7.5

    label = labels.Label(device_payload(LONG), LONG, "Laptop: a very long description " * 4)
    layout = labels.layout_label(label, stock)
    assert layout.code.size_pt >= 7.0 and layout.title.size_pt >= 7.0
    assert "".join(layout.code.lines) == LONG  # never shortened
    font = labels._font(layout.code.size_px, bold=True)
    for line in layout.code.lines:
        assert labels._width(line, font) <= layout.text_width
    bottom = layout.text_top + sum(
        len(b.lines) * b.line_height for b in (layout.code, layout.title)
    )
    assert bottom <= layout.height
    if len(layout.code.lines) > 1:
        assert layout.code.size_pt == pytest.approx(7.0, abs=0.3)
    image = labels.render_label(label, stock)
    assert [r.text for r in qr_codes(image)] == [label.payload]


def test_the_smallest_stock_wraps_a_long_code() -> None:
    layout = labels.layout_label(labels.Label(device_payload(LONG), LONG, ""), "L7651")
    assert len(layout.code.lines) >= 3
    # Broken after separators where there is one in the line.
    assert all(line.endswith(("-", "/")) for line in layout.code.lines[:-1])

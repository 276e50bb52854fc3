"""Printable QR labels: staff badges and device labels (PNG, SVG, PDF) on a label stock.

Each label carries the versioned payload of :mod:`kiosk.domain.scan` (``SRK1:S:ASMITH``,
``SRK1:D:LAP-001``), encoded in QR *alphanumeric* mode: qrcode picks the mode per chunk
of data when it is left to itself, so the payload is handed over as one ``QRData`` chunk
with the mode set explicitly. Beside the code, the code or tag in large type (so a label
can be typed by hand too), and below it the person's name or the device's description.

The stocks are in :mod:`kiosk.services.label_stock`: A4 sheets (the original 3 x 8 of
70 x 37 mm, Avery L7160, L7163, L7651) and label printers (Dymo 99012, Brother 62 mm),
whose pages are the label itself. Pages are drawn at 300 dpi; more labels than fit on one
page give one PNG or SVG file per page (``labels-1.png``, ``labels-2.png``...) or one
multi-page PDF whose pages have the stock's size.

Text stays legible: the code's type shrinks to fit its line but never below 7 pt; a code
still too long at 7 pt is broken over several lines (after a '-', '.' or '/' where it
can), never shortened. The name or description below it is 7 pt or more too, shortened
with an ellipsis when the label has no more room.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import qrcode
from PIL import Image, ImageDraw, ImageFont, features
from qrcode.util import MODE_ALPHA_NUM, QRData

from kiosk.domain.errors import InvalidInput
from kiosk.domain.scan import device_payload, staff_payload
from kiosk.domain.text import display_text
from kiosk.services.label_stock import DEFAULT_STOCK, STOCKS, Stock, get_stock
from kiosk.services.people import PeopleService
from kiosk.services.wholefile import written_whole

DPI = 300
QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks
FORMATS = (".png", ".svg", ".pdf")
MIN_TEXT_PT = 7.0  # no text on a label is smaller than this
CODE_MAX_MM = 7.0  # the code's type at most (on a large label)
TITLE_MM = 3.2  # the name or description's type where there is room (about 9 pt)
GAP_MM = 1.0  # between the QR code and the text

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


class SheetExists(InvalidInput):
    """A file the sheet would write is already there (and was kept)."""


@dataclass(frozen=True, slots=True)
class Label:
    payload: str  # what the QR code says
    code: str  # the staff code or asset tag, printed large
    title: str  # the person's name, or the device kind and description


def staff_labels(people: PeopleService) -> tuple[Label, ...]:
    """A badge label for each active member of staff, by name."""
    return tuple(
        Label(staff_payload(person.code), person.code, person.name)
        for person in people.list_staff()
    )


def device_labels(people: PeopleService) -> tuple[Label, ...]:
    """A label for each active laptop and work phone, by asset tag."""
    labels = []
    for device in people.list_devices():
        title = device.kind_label + (f": {device.description}" if device.description else "")
        labels.append(Label(device_payload(device.tag), device.tag, title))
    return tuple(labels)


def chosen_labels(
    people: PeopleService, codes: Iterable[str], *, staff: bool = True, devices: bool = True
) -> tuple[Label, ...]:
    """The labels of the given staff codes and asset tags, in the order given.

    A code that is both a person's and a device's is refused unless ``staff`` or ``devices``
    says which; an unknown (or retired) code is refused, naming every one not found.
    """
    by_staff = {label.code: label for label in staff_labels(people)} if staff else {}
    by_device = {label.code: label for label in device_labels(people)} if devices else {}
    chosen: list[Label] = []
    missing: list[str] = []
    for raw in codes:
        code = raw.strip().upper()
        if not code:
            continue
        found = [x for x in (by_staff.get(code), by_device.get(code)) if x is not None]
        if not found:
            missing.append(code)
        elif len(found) > 1:
            raise InvalidInput(
                f"{code} is both a staff code and an asset tag: add --staff or --devices."
            )
        else:
            chosen.append(found[0])
    if missing:
        what = "staff code or asset tag" if staff and devices else "staff code" if staff else "tag"
        raise InvalidInput(f"No active {what}: {', '.join(missing)}.")
    if not chosen:
        raise InvalidInput("There is nothing to print: the list is empty.")
    return tuple(chosen)


def qr_matrix(payload: str) -> list[list[bool]]:
    """The modules of the payload's QR code (quiet zone included), alphanumeric mode."""
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE, box_size=1
    )
    try:
        qr.add_data(QRData(payload, mode=MODE_ALPHA_NUM))
    except ValueError:
        raise InvalidInput(f"{payload!r} cannot be encoded as a kiosk QR code.") from None
    qr.make(fit=True)
    return [list(map(bool, row)) for row in qr.get_matrix()]


def pages(labels: Sequence[Label], stock: Stock | str = DEFAULT_STOCK) -> list[Sequence[Label]]:
    per_page = _stock(stock).per_page
    return [labels[i : i + per_page] for i in range(0, len(labels), per_page)]


def write_sheet(
    labels: Sequence[Label],
    out: Path,
    stock: Stock | str = DEFAULT_STOCK,
    *,
    replace: bool = False,
) -> list[Path]:
    """Write the labels to ``out`` (.png, .svg or .pdf) on ``stock``; return the files.

    A file already there (any page's) is kept, and nothing written, unless ``replace``:
    in the browser console the admin cannot see the server's folders, and a sheet silently
    took the place of whatever PDF or picture had that name."""
    stock = _stock(stock)
    if not labels:
        raise InvalidInput("There is nothing to print: the list is empty.")
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(f"Choose a file ending in {', '.join(FORMATS)} (not {out.name!r}).")
    sheets = pages(labels, stock)
    if not replace:
        names = (
            [out]
            if suffix == ".pdf" or len(sheets) == 1
            else [out.with_name(f"{out.stem}-{n}{out.suffix}") for n in range(1, len(sheets) + 1)]
        )
        there = [str(name) for name in names if name.exists() or name.is_symlink()]
        if there:
            raise SheetExists(
                f"{', '.join(there)} already exist{'s' if len(there) == 1 else ''}: nothing "
                "was written. Choose another name, or choose to replace "
                f"{'it' if len(there) == 1 else 'them'}."
            )
    if suffix == ".pdf":
        images = [_to_pdf_mode(render_page(sheet, stock)) for sheet in sheets]
        with written_whole(out) as fh:
            images[0].save(
                fh, format="PDF", save_all=True, append_images=images[1:], resolution=float(DPI)
            )
        return [out]
    targets = (
        [out]
        if len(sheets) == 1
        else [out.with_name(f"{out.stem}-{n}{out.suffix}") for n in range(1, len(sheets) + 1)]
    )
    for sheet, target in zip(sheets, targets, strict=True):
        with written_whole(target) as fh:
            if suffix == ".png":
                render_page(sheet, stock).save(fh, format="PNG", dpi=(DPI, DPI))
            else:
                fh.write(svg_page(sheet, stock).encode("utf-8"))
    return targets


def _stock(stock: Stock | str) -> Stock:
    return stock if isinstance(stock, Stock) else get_stock(stock)


# --- layout (Pillow measures the text; the SVG uses the same lines) ------------------------------


def _px(mm: float) -> int:
    return round(mm / 25.4 * DPI)


MIN_TEXT_PX = math.ceil(MIN_TEXT_PT / 72 * DPI)


def _font(size_px: int, bold: bool = False) -> Font:
    # DejaVu where the system has it; otherwise the font that ships inside Pillow.
    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", size_px)
    except OSError:
        return ImageFont.load_default(size=size_px)


_MEASURE = ImageDraw.Draw(Image.new("L", (1, 1)))


def _width(text: str, font: Font) -> float:
    return _MEASURE.textlength(text, font=font)


@dataclass(frozen=True, slots=True)
class TextBlock:
    lines: tuple[str, ...]
    size_px: int  # the type's size in pixels at DPI (7 pt is 30 px at 300 dpi)
    bold: bool

    @property
    def line_height(self) -> int:
        return math.ceil(self.size_px * 1.2)

    @property
    def size_pt(self) -> float:
        return self.size_px / DPI * 72


@dataclass(frozen=True, slots=True)
class LabelLayout:
    """Where things go on one label, in pixels from its top-left corner."""

    width: int
    height: int
    qr_left: int
    qr_top: int
    module: int  # one QR module's side
    matrix: list[list[bool]]
    text_left: int
    text_top: int
    text_width: int
    code: TextBlock
    title: TextBlock


def layout_label(label: Label, stock: Stock | str = DEFAULT_STOCK) -> LabelLayout:
    """Where things go on ``label``. Its code and title are drawn as ``display_text`` shows
    them (the PNG, the PDF and the SVG all draw these lines): a stored name holding ESC made
    the SVG sheet not well-formed XML, and a bidi override made Pillow print the name in
    another order than it is stored; each such character is drawn as U+FFFD."""
    stock = _stock(stock)
    width, height = _px(stock.label_mm[0]), _px(stock.label_mm[1])
    pad = _px(stock.padding_mm)
    matrix = qr_matrix(label.payload)
    # The code's side (quiet zone included, so it may reach the label's edge on the left).
    side = min(height - 2 * pad, width // 2)
    module = max(1, side // len(matrix))
    qr_size = module * len(matrix)
    qr_left, qr_top = _px(min(1.0, stock.padding_mm)), (height - qr_size) // 2
    text_left = qr_left + qr_size + _px(GAP_MM)
    text_width = width - pad - text_left
    text_top, text_bottom = pad, height - pad
    code = _code_block(
        display_text(label.code), text_width, min(_px(CODE_MAX_MM), (text_bottom - text_top) // 3)
    )
    room = text_bottom - text_top - len(code.lines) * code.line_height - _px(1.0)
    title = _title_block(display_text(label.title), text_width, room)
    return LabelLayout(
        width, height, qr_left, qr_top, module, matrix, text_left, text_top, text_width, code, title
    )


def _code_block(code: str, width: int, largest: int) -> TextBlock:
    """The largest type (down to 7 pt) in which the code fits one line; else 7 pt, wrapped."""
    size = max(largest, MIN_TEXT_PX)
    while size > MIN_TEXT_PX and _width(code, _font(size, bold=True)) > width:
        size -= 1
    font = _font(size, bold=True)
    if _width(code, font) <= width:
        return TextBlock((code,), size, True)
    return TextBlock(tuple(_break_code(code, font, width)), size, True)


def _break_code(code: str, font: Font, width: int) -> list[str]:
    """The code in lines no wider than ``width``, after a separator where one is near."""
    lines: list[str] = []
    rest = code
    while rest:
        n = len(rest)
        while n > 1 and _width(rest[:n], font) > width:
            n -= 1
        if n < len(rest):
            cut = max(rest.rfind(sep, 0, n) for sep in "-./")
            if cut >= n // 2:  # a separator in the line's second half: break after it
                n = cut + 1
        lines.append(rest[:n])
        rest = rest[n:]
    return lines


def _title_block(title: str, width: int, room: int) -> TextBlock:
    size = max(MIN_TEXT_PX, _px(TITLE_MM))
    block = TextBlock((), size, False)
    count = room // block.line_height if room > 0 else 0
    if count < 1 or not title.strip():
        return block
    return TextBlock(tuple(_wrap(title, _font(size), width, count)), size, False)


def _fit(text: str, font: Font, width: int) -> str:
    """The text, shortened with an ellipsis until it fits ``width`` pixels."""
    if _width(text, font) <= width:
        return text
    while text and _width(text + "…", font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(text: str, font: Font, width: int, lines: int) -> list[str]:
    """Up to ``lines`` lines of text, word-wrapped; a line too long is shortened."""
    words = text.split()
    out: list[str] = []
    while words and len(out) < lines:
        line = words.pop(0)
        while words and _width(f"{line} {words[0]}", font) <= width:
            line = f"{line} {words.pop(0)}"
        out.append(line)
    if words:
        out[-1] = f"{out[-1]} {' '.join(words)}"
    return [_fit(line, font, width) for line in out]


# --- PNG / PDF (Pillow) ------------------------------------------------------------------------


def render_label(label: Label, stock: Stock | str = DEFAULT_STOCK) -> Image.Image:
    """One label at 300 dpi, greyscale, the label's size."""
    layout = layout_label(label, stock)
    image = Image.new("L", (layout.width, layout.height), 255)
    draw = ImageDraw.Draw(image)
    box = layout.module
    for y, cells in enumerate(layout.matrix):
        for x, dark in enumerate(cells):
            if dark:
                left, top = layout.qr_left + x * box, layout.qr_top + y * box
                draw.rectangle((left, top, left + box - 1, top + box - 1), fill=0)
    y = layout.text_top
    for block in (layout.code, layout.title):
        font = _font(block.size_px, bold=block.bold)
        for line in block.lines:
            draw.text((layout.text_left, y), line, 0, font, anchor="lt")
            y += block.line_height
        y += _px(1.0)
    return image


def render_page(labels: Sequence[Label], stock: Stock | str = DEFAULT_STOCK) -> Image.Image:
    """One page of the stock at 300 dpi, greyscale."""
    stock = _stock(stock)
    page = Image.new("L", (_px(stock.page_mm[0]), _px(stock.page_mm[1])), 255)
    for index, label in enumerate(labels):
        left, top = stock.origin(index)
        page.paste(render_label(label, stock), (_px(left), _px(top)))
    return page


def _to_pdf_mode(image: Image.Image) -> Image.Image:
    # Pillow stores 1-bit pages losslessly (CCITT G4) when libtiff is present; greyscale
    # would be JPEG-compressed, which blurs the modules of a QR code.
    if features.check("libtiff"):
        return image.point(lambda v: 255 if v >= 128 else 0).convert("1", dither=Image.Dither.NONE)
    return image.convert("RGB")


# --- SVG (hand-written: one path per code, text as text) ------------------------------------


def svg_page(labels: Sequence[Label], stock: Stock | str = DEFAULT_STOCK) -> str:
    """One page of the stock as SVG, in millimetres, with the lines laid out for PNG."""
    stock = _stock(stock)
    w, h = stock.page_mm
    mm = 25.4 / DPI  # one pixel of the layout
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" '
        f'viewBox="0 0 {w} {h}">',
        f'<rect width="{w}" height="{h}" fill="#fff"/>',
    ]
    for index, label in enumerate(labels):
        left, top = stock.origin(index)
        layout = layout_label(label, stock)
        box = layout.module * mm
        qr_left, qr_top = left + layout.qr_left * mm, top + layout.qr_top * mm
        path = "".join(
            f"M{qr_left + x * box:.3f} {qr_top + y * box:.3f}h{box:.3f}v{box:.3f}h-{box:.3f}z"
            for y, cells in enumerate(layout.matrix)
            for x, dark in enumerate(cells)
            if dark
        )
        parts.append(f'<g class="label" data-payload="{escape(label.payload)}">')
        parts.append(f'<path d="{path}" fill="#000" shape-rendering="crispEdges"/>')
        x = left + layout.text_left * mm
        y = top + layout.text_top * mm
        for block in (layout.code, layout.title):
            size = block.size_px * mm
            weight = ' font-weight="bold"' if block.bold else ""
            for line in block.lines:
                parts.append(
                    f'<text x="{x:.2f}" y="{y + size * 0.8:.2f}" '
                    f'font-family="DejaVu Sans, Arial, sans-serif"{weight} '
                    f'font-size="{size:.2f}">{escape(line)}</text>'
                )
                y += block.line_height * mm
            y += 1.0
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


__all__ = [
    "DPI",
    "FORMATS",
    "STOCKS",
    "Label",
    "LabelLayout",
    "SheetExists",
    "Stock",
    "TextBlock",
    "chosen_labels",
    "device_labels",
    "get_stock",
    "layout_label",
    "pages",
    "qr_matrix",
    "render_label",
    "render_page",
    "staff_labels",
    "svg_page",
    "write_sheet",
]

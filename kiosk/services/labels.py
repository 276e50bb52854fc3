"""Printable QR labels: staff badges and device labels on an A4 sheet (PNG, SVG, PDF).

Each label carries the versioned payload of :mod:`kiosk.domain.scan` (``SRK1:S:ASMITH``,
``SRK1:D:LAP-001``), encoded in QR *alphanumeric* mode: qrcode picks the mode per chunk
of data when it is left to itself, so the payload is handed over as one ``QRData`` chunk
with the mode set explicitly. Below the code, the person's name or the device's
description, and the code or tag in large type, so a label can be typed by hand too.

The sheet is a 3 x 8 grid of 70 x 37 mm labels on A4 (the common "24 per sheet" label
stock). PNG pages are drawn at 300 dpi; more labels than fit on one sheet give one PNG or
SVG file per page (``labels-1.png``, ``labels-2.png``...) or one multi-page PDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import qrcode
from PIL import Image, ImageDraw, ImageFont, features
from qrcode.util import MODE_ALPHA_NUM, QRData

from kiosk.domain.errors import InvalidInput
from kiosk.domain.scan import device_payload, staff_payload
from kiosk.services.people import PeopleService

DPI = 300
PAGE_MM = (210.0, 297.0)
COLUMNS, ROWS = 3, 8
PER_PAGE = COLUMNS * ROWS
LABEL_MM = (70.0, 37.0)
# The sheet's top and bottom margins: (297 - 8 * 37) / 2.
TOP_MM = (PAGE_MM[1] - ROWS * LABEL_MM[1]) / 2
PADDING_MM = 3.0
QR_MM = 31.0  # the code's side, quiet zone included
TEXT_MM = LABEL_MM[0] - QR_MM - 2.0 - PADDING_MM  # room for the text beside the code
QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks
FORMATS = (".png", ".svg", ".pdf")


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


def pages(labels: Sequence[Label]) -> list[Sequence[Label]]:
    return [labels[i : i + PER_PAGE] for i in range(0, len(labels), PER_PAGE)]


def write_sheet(labels: Sequence[Label], out: Path) -> list[Path]:
    """Write the labels to ``out`` (.png, .svg or .pdf); return the files written."""
    if not labels:
        raise InvalidInput("There is nothing to print: the list is empty.")
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(f"Choose a file ending in {', '.join(FORMATS)} (not {out.name!r}).")
    sheets = pages(labels)
    if suffix == ".pdf":
        images = [_to_pdf_mode(render_page(sheet)) for sheet in sheets]
        images[0].save(
            out, format="PDF", save_all=True, append_images=images[1:], resolution=float(DPI)
        )
        return [out]
    targets = (
        [out]
        if len(sheets) == 1
        else [out.with_name(f"{out.stem}-{n}{out.suffix}") for n in range(1, len(sheets) + 1)]
    )
    for sheet, target in zip(sheets, targets, strict=True):
        if suffix == ".png":
            render_page(sheet).save(target, format="PNG", dpi=(DPI, DPI))
        else:
            target.write_text(svg_page(sheet), encoding="utf-8")
    return targets


# --- PNG / PDF (Pillow) -----------------------------------------------------------------------


def _px(mm: float) -> int:
    return round(mm / 25.4 * DPI)


def _font(size_px: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # DejaVu where the system has it; otherwise the font that ships inside Pillow.
    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", size_px)
    except OSError:
        return ImageFont.load_default(size=size_px)


def _fit(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    width: int,
) -> str:
    """The text, shortened with an ellipsis until it fits ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    width: int,
    lines: int,
) -> list[str]:
    """Up to ``lines`` lines of text, word-wrapped; the last one shortened if needed."""
    words = text.split()
    out: list[str] = []
    while words and len(out) < lines:
        line = words.pop(0)
        while words and draw.textlength(f"{line} {words[0]}", font=font) <= width:
            line = f"{line} {words.pop(0)}"
        out.append(line)
    if words:
        out[-1] = f"{out[-1]} {' '.join(words)}"
    if out:
        out[-1] = _fit(draw, out[-1], font, width)
    return out


def render_page(labels: Sequence[Label]) -> Image.Image:
    """One A4 page at 300 dpi, greyscale."""
    page = Image.new("L", (_px(PAGE_MM[0]), _px(PAGE_MM[1])), 255)
    draw = ImageDraw.Draw(page)
    title_font = _font(_px(3.2))
    for index, label in enumerate(labels):
        row, col = divmod(index, COLUMNS)
        left = _px(col * LABEL_MM[0])
        top = _px(TOP_MM + row * LABEL_MM[1])
        height = _px(LABEL_MM[1])
        width = _px(LABEL_MM[0])
        pad = _px(PADDING_MM)
        matrix = qr_matrix(label.payload)
        box = max(1, _px(QR_MM) // len(matrix))
        qr_size = box * len(matrix)
        qr_left, qr_top = left + _px(1.0), top + (height - qr_size) // 2
        for y, cells in enumerate(matrix):
            for x, dark in enumerate(cells):
                if dark:
                    draw.rectangle(
                        (
                            qr_left + x * box,
                            qr_top + y * box,
                            qr_left + (x + 1) * box - 1,
                            qr_top + (y + 1) * box - 1,
                        ),
                        fill=0,
                    )
        text_left = qr_left + qr_size + _px(1.0)
        text_width = left + width - pad - text_left
        code_font = _code_font(draw, label.code, text_width)
        y = top + pad + _px(2.0)
        draw.text((text_left, y), label.code, 0, code_font)
        y += _px(8.0)
        for line in _wrap(draw, label.title, title_font, text_width, 3):
            draw.text((text_left, y), line, 0, title_font)
            y += _px(4.4)
    return page


def _code_font(
    draw: ImageDraw.ImageDraw, code: str, width: int
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The largest type (5 mm at most) in which the whole code fits: it is never shortened."""
    size = _px(5.0)
    font = _font(size, bold=True)
    while size > _px(1.5) and draw.textlength(code, font=font) > width:
        size -= 2
        font = _font(size, bold=True)
    return font


def _to_pdf_mode(image: Image.Image) -> Image.Image:
    # Pillow stores 1-bit pages losslessly (CCITT G4) when libtiff is present; greyscale
    # would be JPEG-compressed, which blurs the modules of a QR code.
    if features.check("libtiff"):
        return image.point(lambda v: 255 if v >= 128 else 0).convert("1", dither=Image.Dither.NONE)
    return image.convert("RGB")


# --- SVG (hand-written: one path per code, text as text) ------------------------------------


def svg_page(labels: Sequence[Label]) -> str:
    """One A4 page as SVG, in millimetres."""
    w, h = PAGE_MM
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" '
        f'viewBox="0 0 {w} {h}">',
        f'<rect width="{w}" height="{h}" fill="#fff"/>',
    ]
    for index, label in enumerate(labels):
        row, col = divmod(index, COLUMNS)
        left, top = col * LABEL_MM[0], TOP_MM + row * LABEL_MM[1]
        matrix = qr_matrix(label.payload)
        box = QR_MM / len(matrix)
        qr_left, qr_top = left + 1.0, top + (LABEL_MM[1] - QR_MM) / 2
        path = "".join(
            f"M{qr_left + x * box:.3f} {qr_top + y * box:.3f}h{box:.3f}v{box:.3f}h-{box:.3f}z"
            for y, cells in enumerate(matrix)
            for x, dark in enumerate(cells)
            if dark
        )
        text_left = qr_left + QR_MM + 1.0
        # Average glyph widths of a sans-serif face: bold capitals ~0.7 em, text ~0.55 em.
        code_size = min(5.0, TEXT_MM / (0.7 * len(label.code)))
        parts.append(f'<g class="label" data-payload="{escape(label.payload)}">')
        parts.append(f'<path d="{path}" fill="#000" shape-rendering="crispEdges"/>')
        parts.append(
            f'<text x="{text_left:.2f}" y="{top + PADDING_MM + 6.0:.2f}" '
            'font-family="DejaVu Sans, Arial, sans-serif" font-weight="bold" '
            f'font-size="{code_size:.2f}">{escape(label.code)}</text>'
        )
        per_line = int(TEXT_MM / (0.55 * 3.2))
        for n, line in enumerate(_wrap_chars(label.title, per_line, 3)):
            parts.append(
                f'<text x="{text_left:.2f}" y="{top + PADDING_MM + 12.0 + n * 4.4:.2f}" '
                'font-family="DejaVu Sans, Arial, sans-serif" '
                f'font-size="3.2">{escape(line)}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _wrap_chars(text: str, width: int, lines: int) -> list[str]:
    """Word-wrap by character count (SVG has no text measuring); last line shortened."""
    words = text.split()
    out: list[str] = []
    while words and len(out) < lines:
        line = words.pop(0)
        while words and len(line) + 1 + len(words[0]) <= width:
            line = f"{line} {words.pop(0)}"
        out.append(line)
    if words:
        out[-1] = f"{out[-1]} {' '.join(words)}"
    if out:
        out[-1] = _shorten(out[-1], width)
    return out

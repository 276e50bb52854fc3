"""The label stocks ``kiosk labels`` prints on: A4 sheets and continuous label printers.

Plain data, no Pillow or qrcode: the command line lists the names in its help without
loading the drawing code. Sizes are the makers' published ones, in millimetres:

- ``a4-3x8``: the kiosk's original sheet, 24 labels of 70 x 37 mm edge to edge (the
  common "24 per sheet" stock, e.g. Avery 3475); the default.
- ``L7160``: Avery L7160, 21 labels of 63.5 x 38.1 mm, 3 x 7, top margin 15.15 mm, side
  margin 7.21 mm, horizontal pitch 66.04 mm, vertical pitch 38.1 mm.
- ``L7163``: Avery L7163, 14 labels of 99.1 x 38.1 mm, 2 x 7, top margin 15.15 mm, side
  margin 4.65 mm, horizontal pitch 101.6 mm, vertical pitch 38.1 mm.
- ``L7651``: Avery L7651, 65 labels of 38.1 x 21.2 mm, 5 x 13, top margin 10.7 mm, side
  margin 4.67 mm, horizontal pitch 40.64 mm, vertical pitch 21.2 mm.
- ``dymo-99012``: Dymo LabelWriter 99012 large address labels, 36 x 89 mm, printed across
  (89 mm wide, 36 mm high): one label per page, at the printer's 300 dpi.
- ``brother-62``: Brother QL 62 mm continuous roll (DK-22205), cut at 29 mm: one label
  per page, 62 x 29 mm at the printer's 300 dpi.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Stock:
    name: str
    description: str
    page_mm: tuple[float, float]  # width, height of one page (the label itself on a roll)
    label_mm: tuple[float, float]
    columns: int = 1
    rows: int = 1
    left_mm: float = 0.0  # the first label's top-left corner on the page
    top_mm: float = 0.0
    pitch_mm: tuple[float, float] = (0.0, 0.0)  # one label's left (top) to the next's
    padding_mm: float = 3.0  # white kept inside the label's edge (cutting tolerance)
    continuous: bool = False  # a label printer: one label per page, the page is the label

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def origin(self, index: int) -> tuple[float, float]:
        """The top-left corner (mm) of the index-th label on its page."""
        row, col = divmod(index, self.columns)
        return self.left_mm + col * self.pitch_mm[0], self.top_mm + row * self.pitch_mm[1]


def _continuous(name: str, description: str, width: float, height: float) -> Stock:
    return Stock(
        name, description, (width, height), (width, height), padding_mm=1.5, continuous=True
    )


STOCKS: dict[str, Stock] = {
    stock.name.lower(): stock
    for stock in (
        Stock(
            "a4-3x8",
            "A4 sheet, 24 labels of 70 x 37 mm (3 x 8)",
            (210.0, 297.0),
            (70.0, 37.0),
            columns=3,
            rows=8,
            top_mm=(297.0 - 8 * 37.0) / 2,
            pitch_mm=(70.0, 37.0),
        ),
        Stock(
            "L7160",
            "Avery L7160, A4, 21 labels of 63.5 x 38.1 mm (3 x 7)",
            (210.0, 297.0),
            (63.5, 38.1),
            columns=3,
            rows=7,
            left_mm=7.21,
            top_mm=15.15,
            pitch_mm=(66.04, 38.1),
        ),
        Stock(
            "L7163",
            "Avery L7163, A4, 14 labels of 99.1 x 38.1 mm (2 x 7)",
            (210.0, 297.0),
            (99.1, 38.1),
            columns=2,
            rows=7,
            left_mm=4.65,
            top_mm=15.15,
            pitch_mm=(101.6, 38.1),
        ),
        Stock(
            "L7651",
            "Avery L7651, A4, 65 labels of 38.1 x 21.2 mm (5 x 13)",
            (210.0, 297.0),
            (38.1, 21.2),
            columns=5,
            rows=13,
            left_mm=4.67,
            top_mm=10.7,
            pitch_mm=(40.64, 21.2),
            padding_mm=1.5,
        ),
        _continuous("dymo-99012", "Dymo 99012 label printer roll, 89 x 36 mm", 89.0, 36.0),
        _continuous("brother-62", "Brother QL 62 mm continuous roll, cut at 29 mm", 62.0, 29.0),
    )
}
DEFAULT_STOCK = "a4-3x8"
STOCK_NAMES: tuple[str, ...] = tuple(stock.name for stock in STOCKS.values())


def get_stock(name: str) -> Stock:
    """The stock by name, any case; InvalidInput naming the choices otherwise."""
    try:
        return STOCKS[name.strip().lower()]
    except KeyError:
        raise InvalidInput(
            f"Unknown label stock {name!r}: choose one of {', '.join(STOCK_NAMES)}."
        ) from None

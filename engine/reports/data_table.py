"""The reports' plain data table (peel.pdf, the Learning Review pack) and a catalogue item's heading."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from engine.reports.layout import FONT, HEAD, INK, RULE, WIDTH, HRule, plain, styles
from engine.rules.catalogue import Measure

#: a table cell's padding left and right (points)
_PAD = 3
#: the body cells' font size and leading: the "cell_hyphens" paragraph style's
_CELL_SIZE, _CELL_LEADING = 8, 10


def body_cell(value: object, width: float) -> object:
    """A body cell: its text as a plain string (drawn by the table itself, as the "cell_hyphens"
    paragraph would draw it) when it surely fits on one line of the column (printable ASCII, single
    spaces, narrower than the column by a point), else the escaped paragraph, which wraps. Most
    cells are figures: a year's peel.pdf has thousands, and parsing, measuring and drawing each as
    a paragraph took most of its rendering."""
    text = str(value)
    if (
        text.isascii()
        and text.isprintable()
        and " ".join(text.split()) == text
        and stringWidth(text, FONT, _CELL_SIZE) <= width - 2 * _PAD - 1
    ):
        return text
    return plain(value, "cell_hyphens")


def data_table(rows: Sequence[Sequence[object]], widths: Sequence[float], *, head_rows: int = 1) -> Table:
    """A plain data table: a shaded heading row, thin rules, every cell escaped text (a body cell
    that fits on one line as a plain string: body_cell)."""
    columns = [w * WIDTH for w in widths]
    styles()  # registers the fonts body_cell measures with
    cells = [
        [plain(v, "cellhead") for v in row]
        if i < head_rows
        else [body_cell(v, w) for v, w in zip(row, columns, strict=True)]
        for i, row in enumerate(rows)
    ]
    return Table(
        cells,
        colWidths=columns,
        repeatRows=head_rows,
        hAlign="LEFT",
        style=TableStyle(
            [
                ("FONT", (0, head_rows), (-1, -1), FONT, _CELL_SIZE, _CELL_LEADING),
                ("TEXTCOLOR", (0, head_rows), (-1, -1), INK),
                ("BACKGROUND", (0, 0), (-1, head_rows - 1), HEAD),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        ),
    )


def measure_head(m: Measure, *, peel: bool = False) -> list[Flowable]:
    """A catalogue item's heading: id and name, a rule, its priority (and PEEL pillar when ``peel``),
    I-SERVE strands and better direction, then its description."""
    pillar = f" · PEEL {m.peel}" if peel else ""
    return [
        plain(f"{m.id} {m.name}", "h1"),
        HRule(),
        plain(
            f"Priority {m.priority}{pillar} · I-SERVE: {', '.join(m.iserve)}"
            + (f" · {m.direction} is better" if m.direction else ""),
            "small",
        ),
        plain(m.description, "small"),
        Spacer(1, 4),
    ]


__all__ = ["body_cell", "data_table", "measure_head"]

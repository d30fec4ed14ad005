"""peel.pdf's tables draw a body cell that fits on one line as a plain string (issue 17: parsing,
measuring and drawing thousands of one-line figures as paragraphs took most of a year's rendering);
anything else stays an escaped, wrapping paragraph, so what a reader sees is unchanged: markup in
data printed as written, text in other scripts drawn in its fallback font, a long text wrapped
inside its column."""

from __future__ import annotations

import io
import subprocess
import sys

from pypdf import PdfReader
from reportlab.platypus import Paragraph

from engine.reports.data_table import data_table
from engine.reports.layout import Furniture, render_story

LONG = "a reason long enough to need three lines of its narrow column, " * 3


def _text(table: object) -> str:
    furniture = Furniture("t", "t", None, (), "run", False)
    pdf = render_story([table], furniture)
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)


def test_one_line_figures_are_strings_and_everything_else_a_paragraph() -> None:
    rows = [
        ["Place", "Figure", "Reason"],
        ["Portwell (PRT)", "1,234", LONG],
        ["Ridgeway", "<b>5</b>", "שלום"],
    ]
    table = data_table(rows, (0.3, 0.2, 0.5))
    cells = table._cellvalues
    assert all(isinstance(c, Paragraph) for c in cells[0])  # the heading row, bold
    assert cells[1][:2] == ["Portwell (PRT)", "1,234"] and cells[2][:2] == ["Ridgeway", "<b>5</b>"]
    assert isinstance(cells[1][2], Paragraph) and isinstance(cells[2][2], Paragraph)
    # the long reason wraps inside its column (three lines of 10 points)
    assert cells[1][2].wrap(table._colWidths[2] - 6, 1000)[1] >= 30
    text = _text(table)
    assert "<b>5</b>" in text and "1,234" in text and "Portwell (PRT)" in text


def test_a_table_without_heading_rows_lays_out_in_a_fresh_process() -> None:
    """The facts table of peel.pdf's front page has no heading row: its cells are measured before
    any paragraph has registered the fonts (KeyError 'QAMSans' before the fix)."""
    code = (
        "from engine.reports.data_table import data_table\n"
        "t = data_table([['Period', 'peel-2026-04-01-2027-03-31'], ['Cases reviewed', '1,234']], (0.2, 0.8), head_rows=0)\n"
        "print(t._cellvalues[1][1])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-300:]
    assert done.stdout.strip() == "1,234"

"""Full-width formula characters (＝ ＋ － ＠, U+FF1D...) in user text print in PDFs (issue 20): neither
the body font nor DejaVu Sans has them, so they printed as the missing-glyph box; now each prints as
its compatibility form (= + - @), in a paragraph and a table cell, plain and bold, and in a
right-to-left stretch."""

from __future__ import annotations

import io

from pypdf import PdfReader
from reportlab.platypus import Table

from engine.reports.layout import Furniture, esc, para, plain, render_story
from engine.reports.scripts import MISSING

FULL_WIDTH = "\uff1dSUM(A1) \uff0b44 \uff0d3 \uff20x \uff08\uff11\uff09 \uff21\uff42"
SHOWN = "=SUM(A1) +44 -3 @x (1) Ab"


def _text(*flowables: object) -> str:
    furniture = Furniture(title="t", author="a", header=None, rulesets=(), run_line="Run 1", draft=False)
    pdf = render_story(list(flowables), furniture).data
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_full_width_formula_characters_print_as_their_usual_forms() -> None:
    text = _text(
        Table([[plain(FULL_WIDTH, "body")]], colWidths=[300]),
        plain(f"Note: {FULL_WIDTH} end", "body"),
        para(f"<b>Bold {esc(FULL_WIDTH)}</b>", "body"),
    )
    assert MISSING not in text and "?" not in text
    assert text.count(SHOWN) == 3, text


def test_a_full_width_sign_inside_right_to_left_text_prints_too() -> None:
    text = _text(plain("\u05e9\u05dc\u05d5\u05dd \uff1d \u05e2\u05d5\u05dc\u05dd", "body"))
    assert MISSING not in text
    assert "=" in text

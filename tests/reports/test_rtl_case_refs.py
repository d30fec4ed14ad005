"""A case reference in Hebrew or Arabic prints in reading order in a briefing's case column, as a
team or note does (issue #20: the case column drew it in typing order, so it read backwards, and
copying or searching it in the PDF gave it backwards)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.platypus import Flowable, SimpleDocTemplate

from engine.reports.case_table import _ref_cell
from engine.reports.layout import plain


def _text(tmp_path: Path, flowable: Flowable) -> str:
    """The text a reader copies from a one-flowable PDF."""
    path = tmp_path / "cell.pdf"
    SimpleDocTemplate(str(path), pagesize=A4).build([flowable])
    return PdfReader(path).pages[0].extract_text().strip()


@pytest.mark.parametrize(
    "ref",
    [
        "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",  # Hebrew, two words
        "\u05d0\u05d1\u05d2-17",  # Hebrew and digits
        "\u0645\u0631\u062d\u0628\u0627/26",  # Arabic (joined letters) and digits
    ],
)
def test_a_right_to_left_case_ref_prints_as_the_same_text_in_a_team_cell_does(
    tmp_path: Path, ref: str
) -> None:
    as_team = _text(tmp_path, plain(ref, "cell"))
    assert _text(tmp_path, _ref_cell(ref)) == as_team
    if " " in ref:  # words alone come back as typed (mixed with digits, or Arabic's joined forms, not)
        assert as_team == ref

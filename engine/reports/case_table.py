"""The failing cases of a place briefing's entry: the worst few as a compact table (case reference
never broken inside, team and officer, one line of why per failed criterion, the reviewer's note
shortened), then where the rest are. Every case, in full, is in <PLACE>-cases.csv
(cases_csv.case_rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from engine.reports.briefing_data import Entry, EntryCase, PlaceBriefing
from engine.reports.cases_csv import cases_csv_name
from engine.reports.layout import FONT_BOLD, HEAD, RULE, WIDTH, drawable, esc, para, plain, styled, styles
from engine.reports.wording import measure_title, shorten

_CASE_COLUMNS = ("Case", "Team, officer", "Failed criteria: why; the reviewer's note")
_CELL_PAD = 3
#: the case column is as wide as its longest reference (never broken inside), within these bounds;
#: the team column as its longest team or officer
_CASE_COL_MIN, _CASE_COL_MAX = 20 * mm, 60 * mm
_TEAM_COL_MIN, _TEAM_COL_MAX = 22 * mm, 40 * mm
_WHY_CHARS, _NOTE_CHARS = 100, 60


@cache
def _ref_style() -> ParagraphStyle:
    """A case reference: one unbroken line, never split at a hyphen or inside a long token."""
    return ParagraphStyle("caseref", parent=styles()["cell"], splitLongWords=0)


@cache
def _long_ref_style() -> ParagraphStyle:
    """A case reference too long for the widest case column: split where it must, so that it stays
    in its column and on the page (a PDF search then needs its first part)."""
    return ParagraphStyle("caseref_long", parent=styles()["cell"], splitLongWords=1)


def _ref_cell(ref: str) -> Paragraph:
    fits = _col_width((ref,), _CASE_COL_MIN, float("inf")) <= _CASE_COL_MAX
    return styled(esc(ref), _ref_style() if fits else _long_ref_style())


def case_table(b: PlaceBriefing, number: int, x: Entry, rows: int) -> list[Flowable]:
    """At most ``rows`` failing cases of entry ``number``, worst first, then where to find the rest
    (<PLACE>-cases.csv); a paragraph of references when the cases have no details (incidents)."""
    if not x.cases:
        return []
    csv = cases_csv_name(b.place.code)
    shown, rest = x.cases[:rows], len(x.cases) - rows
    more = f"and {rest:,} more: see {csv}" if rest > 0 else ""
    total = f"{len(x.cases):,}"
    if not shown:
        return [para(f"<b>Failing cases ({total}), worst first:</b> see {esc(csv)}", "body")]
    if not any(c.team or c.officer or any(f.trace for f in c.failed) for c in x.cases):
        refs = ", ".join(c.case_ref for c in shown) + (f", {more}" if more else "")
        return [para(f"<b>Cases behind this issue ({total}):</b> {esc(refs)}", "body")]
    noun = "case" if len(x.cases) == 1 else "cases"
    case_w = _col_width((c.case_ref for c in shown), _CASE_COL_MIN, _CASE_COL_MAX)
    team_w = _col_width(
        (_CASE_COLUMNS[1], *(t for c in shown for t in (c.team, c.officer))), _TEAM_COL_MIN, _TEAM_COL_MAX
    )
    widths = [case_w, team_w, WIDTH - case_w - team_w]
    table: list[list[Flowable | str]] = [
        [
            para(
                f"<b>Failing {noun} ({total}), worst first</b> "
                f"<font color='#5f6368' size='8'>{esc(f'{number}. ' + measure_title(x.measure, b.measure_names))}"
                "</font>",
                "h2",
            )
        ],
        [plain(h, "cellhead") for h in _CASE_COLUMNS],
    ]
    table += [_case_row(c) for c in shown]
    style = [
        ("SPAN", (0, 0), (-1, 0)),
        ("LEFTPADDING", (0, 0), (-1, 0), 0),
        ("BOTTOMPADDING", (0, 0), (-1, 0), 6),
        ("BACKGROUND", (0, 1), (-1, 1), HEAD),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
        ("LEFTPADDING", (0, 1), (-1, -1), _CELL_PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), _CELL_PAD),
        ("TOPPADDING", (0, 1), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 1), (-1, -1), 4),
    ]
    if more:
        table.append([para(f"<b>{esc(more[0].upper() + more[1:])}</b>", "cell")])
        style += [("SPAN", (0, -1), (-1, -1)), ("LINEBELOW", (0, -1), (-1, -1), 0, RULE)]
    return [Table(table, colWidths=widths, repeatRows=2, style=TableStyle(style))]


def _col_width(texts: Iterable[str], least: float, most: float) -> float:
    """As wide as the widest of ``texts`` on one line (measured bold, as a heading is), within
    ``least`` and ``most``."""
    size = _ref_style().fontSize
    widest = max((stringWidth(drawable(t), FONT_BOLD, size) for t in texts), default=0.0)
    return float(min(max(widest + 2 * _CELL_PAD + 1, least), most))


def _case_row(c: EntryCase) -> list[Flowable | str]:
    """Case; team and officer; each failed criterion with its one-line why, then the reviewer's
    note shortened (both in full in the cases CSV)."""
    lines = []
    for f in c.failed:
        label = f"{f.criterion or shorten(f.criterion_text, 60)}{' (critical)' if f.critical else ''}"
        lines.append(f"<b>{esc(label)}</b> {esc(shorten(f.why, _WHY_CHARS))}".rstrip())
    if c.note.strip():
        lines.append(f"<font color='#5f6368'><i>Note:</i> {esc(shorten(c.note, _NOTE_CHARS))}</font>")
    return [
        _ref_cell(c.case_ref),
        para("<br/>".join(esc(t) for t in (c.team, c.officer) if t.strip()), "cell"),
        para("<br/>".join(lines) or "–", "cell"),
    ]

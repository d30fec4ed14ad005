"""Calibration report files: three CSVs for analysis and a short PDF (reportlab) for an inspector,
with the poor questions' disagreements side by side. Deterministic; user text is escaped.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, SimpleDocTemplate, Spacer, Table, TableStyle

from engine.analysis.agreement import POOR_KAPPA, CalibrationReport, QuestionAgreement
from engine.core.errors import ReportError
from engine.core.text import csv_row_writer, inert_cell, slug
from engine.reports.layout import HEAD, RULE, SHADE, esc, para, plain

#: disagreeing cases listed per question in the PDF (the CSV has them all)
PDF_MAX_DISAGREEMENTS = 25


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    return inert_cell(value)


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            write = csv_row_writer(fh)
            write(inert_cell(h) for h in header)
            for row in rows:
                write(_cell(v) for v in row)
        os.replace(tmp, path)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_calibration_csv(report: CalibrationReport, out_dir: Path) -> tuple[Path, Path, Path]:
    """Three CSV files in ``out_dir``: ``<set>-agreement.csv`` (one row per question, report order),
    ``<set>-disagreements.csv`` (question, case_ref, one column per reviewer) and
    ``<set>-reviewers.csv``. Rates are fractions with 6 decimals; blank = not computable.
    """
    base = slug(report.name)
    agreement = out_dir / f"{base}-agreement.csv"
    _write_csv(
        agreement,
        ("question", "text", "method", "cases", "agreed", "agreement", "agreement_low", "agreement_high",
         "kappa", "kappa_low", "kappa_high", "strength", "poor", "note"),
        [
            (q.question, q.text, q.method, q.cases, q.agreed, q.agreement, q.agreement_low, q.agreement_high,
             q.kappa, q.kappa_low, q.kappa_high, q.strength, "yes" if q.poor else "no", q.note)
            for q in report.questions
        ],
    )  # fmt: skip
    disagreements = out_dir / f"{base}-disagreements.csv"
    _write_csv(
        disagreements,
        ("question", "case_ref", *report.included),
        [
            (q.question, d.case_ref, *(a for _, a in d.answers))
            for q in report.questions
            for d in q.disagreements
        ],
    )
    reviewers = out_dir / f"{base}-reviewers.csv"
    _write_csv(
        reviewers,
        ("reviewer", "cases_submitted", "answers_compared", "differs_from_majority", "differs_rate"),
        [(r.reviewer, r.cases_submitted, r.compared, r.differs, r.rate) for r in report.reviewer_rows],
    )
    return agreement, disagreements, reviewers


# landscape: the question text and several reviewers' answers need the width
_PAGE = landscape(A4)
_MARGIN = 15 * mm
_WIDTH = _PAGE[0] - 2 * _MARGIN


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float], shade: Sequence[int] = ()
) -> Table:
    data = [[plain(h, "cellhead") for h in header]]
    data += [[plain(c, "cell") for c in row] for row in rows]
    table = Table(data, colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), HEAD),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    style += [("BACKGROUND", (0, i + 1), (-1, i + 1), SHADE) for i in shade]
    table.setStyle(TableStyle(style))
    return table


def _heading(text: str) -> Flowable:
    heading = plain(text, "h1")
    heading.keepWithNext = True
    return heading


def _agreement_table(questions: Sequence[QuestionAgreement]) -> Table:
    rows = [
        (q.question, q.text, str(q.cases), q.agreement_text,
         q.kappa_text, {"cohen": "Cohen", "fleiss": "Fleiss"}.get(q.method, ""), q.strength or q.note)
        for q in questions
    ]  # fmt: skip
    widths = [0.16, 0.32, 0.05, 0.13, 0.14, 0.08, 0.12]
    return _table(
        ("Question", "Text", "Cases", "Agreement (95% CI)", "Kappa (95% CI)", "Method", "Strength"),
        rows,
        [w * _WIDTH for w in widths],
        shade=[i for i, q in enumerate(questions) if q.poor],
    )


def _disagreements(report: CalibrationReport, q: QuestionAgreement) -> list[Flowable]:
    heading = para(f"{esc(q.question)}: {esc(q.text)}", "h2")
    heading.keepWithNext = True  # never a heading alone at the foot of a page
    story: list[Flowable] = [heading]
    shown = q.disagreements[:PDF_MAX_DISAGREEMENTS]
    reviewers = report.included
    case_w = min(0.2, 1 / (len(reviewers) + 1))
    widths = [case_w * _WIDTH] + [(1 - case_w) * _WIDTH / max(1, len(reviewers))] * len(reviewers)
    story.append(
        _table(("Case", *reviewers), [(d.case_ref, *(a for _, a in d.answers)) for d in shown], widths)
    )
    rest = len(q.disagreements) - len(shown)
    if rest > 0:
        story.append(plain(f"... and {rest} more cases (see the disagreements CSV).", "small"))
    return story


def calibration_pdf(report: CalibrationReport) -> tuple[bytes, int]:
    """Render the report; returns (PDF bytes, page count). Same report, same bytes."""
    absent = [r for r in report.reviewers if r not in report.included]
    story: list[Flowable] = [
        plain(f"Reviewer calibration: {report.name}", "title"),
        para(
            f"{esc(report.form_title)} ({esc(report.case_type)}) · {len(report.case_refs)} cases, "
            f"{report.complete_cases} assessed by all {len(report.included)} reviewers who submitted: "
            f"{esc(', '.join(report.included) or 'none yet')}"
            + (f" · no submissions yet from {esc(', '.join(absent))}" if absent else ""),
            "subtitle",
        ),
        plain(
            "Agreement is the share of cases where every reviewer gave the same answer (Wilson 95% interval). "
            "Kappa discounts the agreement expected by chance: Cohen's for two reviewers, Fleiss' for more. "
            f"Questions with kappa below {POOR_KAPPA} are poor agreement and come first (shaded); strength "
            "labels after Landis and Koch (1977). Blank answers leave that case out for that question.",
            "body",
        ),
        Spacer(1, 3 * mm),
        _agreement_table(report.questions),
    ]
    if report.poor:
        story.append(_heading("Where reviewers disagreed (poor-agreement questions)"))
        for q in report.poor:
            story.extend(_disagreements(report, q))
    story.append(_heading("How often each reviewer differs from the majority of the others"))
    rows = [
        (
            r.reviewer,
            str(r.cases_submitted),
            str(r.compared),
            str(r.differs),
            "-" if r.rate is None else f"{r.rate:.0%}",
        )
        for r in report.reviewer_rows
    ]
    widths = [0.4, 0.15, 0.15, 0.15, 0.15]
    story.append(
        _table(
            ("Reviewer", "Cases submitted", "Answers compared", "Differs", "Rate"),
            rows,
            [w * _WIDTH * 0.7 for w in widths],
        )
    )
    story.append(Spacer(1, 2 * mm))
    story.append(
        plain(
            "An answer is compared when a strict majority of the other reviewers gave the same answer.",
            "small",
        )
    )
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=_PAGE,
        invariant=1,
        title=f"Reviewer calibration {report.name}",
        author="QAM",
        creator="QAM",
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
    )
    doc.build(story)
    return buf.getvalue(), doc.page


def render_calibration_pdf(report: CalibrationReport, path: Path) -> int:
    """A short PDF for an inspector: the agreement table, the poor questions' disagreements side by
    side, and per-reviewer divergence. Deterministic (reportlab invariant mode); returns the page count.
    """
    data, pages = calibration_pdf(report)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return pages

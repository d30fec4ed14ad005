"""The sampling commands' whole jobs, as the facade runs them: draw a week's sample or create a
calibration set and write a worklist per reviewer; check a calibration submission; report a set's
agreement as PDF and CSV files. The heavy libraries (openpyxl, statsmodels, reportlab) load only
when a job runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.core.config import Settings, load_force
from engine.core.errors import SubmissionError
from engine.core.periods import Period
from engine.core.text import slug
from engine.inputs.forms import Form, form_of, load_forms
from engine.inputs.submissions import ValidRow
from engine.store.db import Database

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from engine.analysis.agreement import CalibrationReport
    from engine.sampling.calibration import CalibrationSetResult
    from engine.sampling.draw import SampleResult
    from engine.sampling.worklists import WorklistFiles


@dataclass(frozen=True)
class SampleOutcome:
    """A week's sample as drawn (or as recorded, when drawn before) and its worklists."""

    sample: SampleResult
    worklists: WorklistFiles


@dataclass(frozen=True)
class CalibrationOutcome:
    """A new calibration set and its worklists."""

    created: CalibrationSetResult
    worklists: WorklistFiles


@dataclass(frozen=True)
class CalibrationFiles:
    """A calibration set's agreement report and the files it was written to."""

    report: CalibrationReport
    files: tuple[Path, ...]


def draw_week(
    database: Database,
    settings: Settings,
    period: Period,
    *,
    seed: int,
    now: dt.datetime,
    out: Path,
    case_type: str | None,
    margin: float,
    confidence: float,
    reviewers: Path | None,
) -> SampleOutcome:
    """Draw the week's stratified sample (see draw.draw_sample), then write a worklist per reviewer
    into ``out`` with the settings' forms and place codes."""
    from engine.sampling.draw import draw_sample
    from engine.sampling.worklists import write_worklists

    forms = load_forms(settings.forms_dir)
    if case_type is not None:
        form_of(forms, case_type)  # an unknown --type names the known ones
    result = draw_sample(
        database,
        period,
        seed=seed,
        now=now,
        case_type=case_type,
        margin=margin,
        confidence=confidence,
        reviewers=reviewers if reviewers else (),
    )
    place_codes = load_force(settings.force_file).place_codes
    files = write_worklists(result.items, forms, out, label=period.label, place_codes=place_codes)
    return SampleOutcome(result, files)


def create_set(
    database: Database,
    settings: Settings,
    *,
    name: str,
    case_type: str,
    n_cases: int,
    reviewers: Path,
    seed: int,
    now: dt.datetime,
    out: Path,
) -> CalibrationOutcome:
    """Create the calibration set (see calibration.create_calibration), then write every listed
    reviewer's worklist into ``out``."""
    from engine.sampling.calibration import create_calibration
    from engine.sampling.worklists import write_worklists

    created = create_calibration(
        database, name=name, case_type=case_type, n_cases=n_cases, reviewers=reviewers, seed=seed, now=now
    )
    files = write_worklists(
        created.items,
        load_forms(settings.forms_dir),
        out,
        label=f"calibration-{slug(name)}",
        place_codes=load_force(settings.force_file).place_codes,
    )
    return CalibrationOutcome(created, files)


def check_calibration_rows(database: Database, name: str, rows: Sequence[ValidRow]) -> None:
    """`qam submit --calibration NAME`: SubmissionError listing the rows whose case type, case or
    reviewer is not the set's (nothing is stored then)."""
    from engine.sampling.calibration import calibration_problems

    problems = calibration_problems(database, name, rows)
    if problems:
        raise SubmissionError(
            f"nothing stored: {len(problems)} rows do not fit calibration set '{name}'", problems
        )


def report_set(database: Database, name: str, forms: Mapping[str, Form], out: Path) -> CalibrationFiles:
    """The set's agreement per question, written to ``out`` as CSV files and <name>.pdf."""
    from engine.reports.calibration_pdf import render_calibration_pdf, write_calibration_csv
    from engine.sampling.calibration import calibration_report

    report = calibration_report(database, name, forms)
    csvs = write_calibration_csv(report, out)
    pdf = out / f"{slug(name)}.pdf"
    render_calibration_pdf(report, pdf)
    return CalibrationFiles(report, (*csvs, pdf))

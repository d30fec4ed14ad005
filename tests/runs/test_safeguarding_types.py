"""The bundled missing from home, child sexual exploitation, hate crime and problem-solving forms, as a
QA team would use them: a template filled in as a spreadsheet, bad rows refused at file:row:column,
a week submitted, scored and briefed (the critical and below-standard cases in the place briefings,
in the forms' own words), PEEL, sampling and calibration."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner, Result

from engine.cli import app
from engine.core.models import COMMON_COLUMNS
from engine.demo.factories import build_row
from engine.inputs.forms import load_forms

FORMS = load_forms(Path(__file__).resolve().parents[2] / "qa_forms")
NEW = ("child_sexual_exploitation", "hate_crime", "missing_from_home", "problem_solving")
WEEK = {"assessed_on": "2026-11-18", "case_date": "2026-11-09"}  # assessed in 2026-W47


@pytest.fixture
def env(database_url: str) -> Iterator[dict[str, str]]:
    yield {"QAM_DATABASE_URL": database_url}


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    header = list(COMMON_COLUMNS) + sorted({k for r in rows for k in r} - set(COMMON_COLUMNS))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _pdf_text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(path).pages)


def _rows(case_type: str, place: str, count: int, prefix: str, **traits: Any) -> list[dict[str, Any]]:
    return [
        build_row(
            case_type,
            assessment_id=f"QA-{prefix}-{place}-{i:02d}",
            case_ref=f"{prefix}-{place}-{i:02d}",
            place=place,
            **WEEK,
            **traits,
        )
        for i in range(count)
    ]


def test_each_new_form_has_a_template_with_dropdowns_for_its_closed_questions(
    env: dict[str, str], tmp_path: Path, runner: CliRunner
) -> None:
    for case_type in NEW:
        out = tmp_path / f"{case_type}.xlsx"
        _ok(runner.invoke(app, ["forms", "template", case_type, "--out", str(out)], env=env))
        sheet = openpyxl.load_workbook(out).worksheets[0]
        header = [c.value for c in sheet[1]]
        assert tuple(header) == FORMS[case_type].columns
        validated = {
            str(v.sqref).split(":")[0].rstrip("0123456789") for v in sheet.data_validations.dataValidation
        }
        closed = [q for q in FORMS[case_type].questions if q.allowed is not None]
        letters = {openpyxl.utils.get_column_letter(header.index(q.id) + 1) for q in closed}
        assert letters <= validated, case_type


@pytest.mark.usefixtures("database")  # submit opens the database before reading
def test_bad_rows_of_the_new_forms_are_refused_at_file_row_and_column(
    env: dict[str, str], tmp_path: Path, runner: CliRunner
) -> None:
    rows = [
        build_row("missing_from_home", assessment_id="QA-1", place="BLK", **WEEK, risk_level="severe"),
        build_row("missing_from_home", assessment_id="QA-2", place="BLK", **WEEK, no_risk_assessment=True)
        | {"risk_level": "high"},
        build_row("hate_crime", assessment_id="QA-3", place="BLK", **WEEK, first_update_on="21/11/2026"),
        build_row("child_sexual_exploitation", assessment_id="QA-4", place="BLK", **WEEK, referral_made=""),
        build_row(
            "problem_solving", assessment_id="QA-5", place="BLK", **WEEK, closed=True, learning_shared=""
        ),
    ]
    path = _write_csv(tmp_path / "bad.csv", rows)
    refused = runner.invoke(app, ["submit", str(path)], env=env)
    assert refused.exit_code == 3
    err = refused.stderr
    assert f"{path}:2:risk_level: 'severe' is not one of very_low, low, medium, high" in err
    assert (
        f"{path}:3:risk_level: must be blank unless risk_assessment_recorded is yes "
        "(risk_assessment_recorded is no)"
    ) in err
    assert f"{path}:4:first_update_on: '21/11/2026' is not a date (use YYYY-MM-DD)" in err
    assert f"{path}:5:referral_made: an answer is required" in err
    assert f"{path}:6:learning_shared: an answer is required when plan_status is closed" in err
    assert "nothing stored: 5 problems in 1 file" in err


def test_a_week_of_the_new_forms_is_scored_and_briefed_in_their_own_words(
    env: dict[str, str], tmp_path: Path, runner: CliRunner
) -> None:
    def qam(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    _ok(qam("init"))
    _ok(qam("rulesets", "publish", "--author", "test", "--note", "safeguarding forms"))
    rows = (
        # Eastmoor: a high-risk missing child nobody reviewed (MF05, critical), among sound episodes
        _rows("missing_from_home", "ESM", 1, "MF-X", high_risk_child_unreviewed=True)
        + _rows("missing_from_home", "ESM", 6, "MF")
        # Ridgeway: six returned children, five offered a return home interview too late (MF11)
        + _rows("missing_from_home", "RDG", 5, "MF-L", rhi_late=True)
        + _rows("missing_from_home", "RDG", 1, "MF")
        # Cranmoor: a child at risk of exploitation never referred (CE03, critical); referrals late
        + _rows("child_sexual_exploitation", "CRN", 1, "CE-X", no_referral=True)
        + _rows("child_sexual_exploitation", "CRN", 5, "CE-L", referral_late=True)
        # Blackwater: hate crime victims updated late (HC08); Kingsgate: a vulnerable victim unprotected
        + _rows("hate_crime", "BLK", 6, "HC-L", update_late=True)
        + _rows("problem_solving", "KNG", 1, "PS-X", vulnerable_unprotected=True)
        + _rows("problem_solving", "KNG", 4, "PS", closed=True)
        # Stanmore: all sound, nothing to report
        + _rows("hate_crime", "STN", 5, "HC")
        + _rows("child_sexual_exploitation", "STN", 4, "CE", significant_harm=True, missing_child=True)
    )
    _ok(qam("submit", str(_write_csv(tmp_path / "week.csv", rows))))
    out = tmp_path / "out"
    _ok(qam("weekly", "--week", "2026-W47", "--out", str(out)))
    folder = out / "2026-W47"
    data = json.loads((folder / "exceptions.json").read_text(encoding="utf-8"))
    found = {(e["kind"], e["place"], e["criterion"]) for e in data["exceptions"] if e["criterion"]}
    assert {
        ("critical", "ESM", "MF05"),
        ("critical", "CRN", "CE03"),
        ("critical", "KNG", "PS08"),
        ("below_standard", "RDG", "MF11"),
        ("below_standard", "CRN", "CE04"),
        ("below_standard", "BLK", "HC08"),
    } <= found
    assert not any(e["place"] == "STN" for e in data["exceptions"])
    by_id = {e["criterion"]: e for e in data["exceptions"] if e["criterion"]}
    assert (by_id["MF11"]["measure"], by_id["MF11"]["n"], by_id["MF11"]["passed"]) == ("M7", 6, 1)
    assert "met in 1 of 6 missing episodes reviewed" in by_id["MF11"]["reason"]
    assert "children at risk of exploitation reviewed" in by_id["CE04"]["reason"]
    assert "hate crime reports reviewed" in by_id["HC08"]["reason"]

    # the briefings: cases reviewed by each form's label, the sample by the ruleset's noun
    esm = _pdf_text(folder / "ESM.pdf")
    assert "missing from home 7" in esm and "MF-X-ESM-00" in esm
    assert "A high-risk missing child had the risk assessment reviewed by a supervisor" in esm
    crn = _pdf_text(folder / "CRN.pdf")
    assert "child sexual exploitation 6" in crn and "children at risk of exploitation reviewed" in crn
    kng = _pdf_text(folder / "KNG.pdf")
    assert "problem solving 5" in kng and "PS-X-KNG-00" in kng
    with (folder / "CRN-cases.csv").open(encoding="utf-8", newline="") as fh:
        types = {r["case_ref"]: r["case_type"] for r in csv.DictReader(fh)}
    assert types["CE-X-CRN-00"] == "child_sexual_exploitation"  # one of D7's four case types

    # PEEL: the new criteria under their items
    peel_out = tmp_path / "peel"
    _ok(qam("peel", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(peel_out)))
    (peel_folder,) = peel_out.iterdir()
    peel = json.loads((peel_folder / "exceptions.json").read_text(encoding="utf-8"))
    assert {("ESM", "MF05"), ("RDG", "MF11"), ("KNG", "PS08")} <= {
        (e["place"], e["criterion"]) for e in peel["exceptions"]
    }
    text = _pdf_text(peel_folder / "peel.pdf")
    assert "MF05" in text and "CE03" in text and "PS08" in text


def test_the_new_types_are_sampled_and_calibrated(
    env: dict[str, str], tmp_path: Path, runner: CliRunner
) -> None:
    def qam(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    _ok(qam("init"))
    cases = tmp_path / "cases.csv"
    lines = ["case_ref,case_type,place,team,officer,case_date"]
    for case_type in NEW:
        lines += [
            f"{case_type[:3].upper()}-{i},{case_type},BLK,Response A,PC 2001,2026-11-2{3 + i % 5}"
            for i in range(12)
        ]
    cases.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "48 new" in _ok(qam("extracts", "load", "cases", str(cases)))
    reviewers = tmp_path / "reviewers.txt"
    reviewers.write_text("Ann Smith\nBob Jones\n", encoding="utf-8")
    worklists = tmp_path / "worklists"
    _ok(
        qam(
            "sample",
            "--week",
            "2026-W48",
            "--seed",
            "7",
            "--reviewers",
            str(reviewers),
            "--out",
            str(worklists),
        )
    )
    names = sorted(p.name for p in worklists.glob("*.xlsx"))
    for case_type in NEW:
        assert f"2026-W48-ann-smith-{case_type}.xlsx" in names
    drawn = openpyxl.load_workbook(worklists / "2026-W48-bob-jones-missing_from_home.xlsx").worksheets[0]
    assert (
        tuple(c.value for c in drawn[1])[: len(FORMS["missing_from_home"].columns)]
        == FORMS["missing_from_home"].columns
    )

    created = qam(
        "calibrate", "create", "--name", "hc-q4", "--type", "hate_crime", "--cases", "4",
        "--reviewers", str(reviewers), "--out", str(tmp_path / "cal-worklists"),
    )  # fmt: skip
    assert "Calibration set hc-q4 created: 4 hate_crime cases" in _ok(created)
    calibration = []
    for book in sorted((tmp_path / "cal-worklists").glob("*.xlsx")):
        sheet = openpyxl.load_workbook(book).worksheets[0]
        header = [c.value for c in sheet[1]]
        for row in sheet.iter_rows(min_row=2, values_only=True):
            given = dict(zip(header, row, strict=False))
            if not given.get("case_ref"):
                continue
            reviewer = str(given["reviewer"])
            # Bob judges community impact differently on half the cases
            differs = reviewer == "Bob Jones" and str(given["case_ref"]).endswith(("0", "2", "4", "6", "8"))
            calibration.append(
                build_row(
                    "hate_crime",
                    assessment_id=f"CAL-{reviewer[:3]}-{given['case_ref']}",
                    case_ref=given["case_ref"],
                    place=given["place"],
                    reviewer=reviewer,
                    case_date=str(given["case_date"])[:10],
                    assessed_on="2026-11-30",
                    community_impact_considered="no" if differs else "yes",
                )
            )
    assert len(calibration) == 8
    _ok(qam("submit", "--calibration", "hc-q4", str(_write_csv(tmp_path / "cal.csv", calibration))))
    report = _ok(qam("calibrate", "report", "hc-q4", "--out", str(tmp_path / "cal")))
    assert "Calibration hc-q4 (hate_crime): 4 cases, 4 assessed by all 2 reviewers" in report
    agreement = (tmp_path / "cal" / "hc-q4-agreement.csv").read_text(encoding="utf-8")
    assert "community_impact_considered" in agreement

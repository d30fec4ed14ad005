"""A case type from configuration alone (issue 17 point 3): a force folder holding the bundled forms
and rulesets plus tests/fixtures/force_config's community_trigger form (an ASB case review's plan)
and its ruleset. With no code
change, the new type has a template, is submitted, scored, aggregated and briefed, appears in PEEL,
is sampled and calibrated; an unknown case type is refused naming the configured ones."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner, Result

from engine import api
from engine.cli import app
from engine.core.config import DEFAULT_FORMS_DIR, DEFAULT_RULESETS_DIR, load_settings
from engine.core.models import COMMON_COLUMNS

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "force_config"
QUESTIONS = (
    "problem_type",
    "problem_defined",
    "analysis_recorded",
    "objectives_set",
    "vulnerable_victim",
    "safeguarding_addressed",
    "reviewed_on",
    "notes",
)
#: the case types known to the configured folder: the bundled forms' and the fixture's
KNOWN = ", ".join(sorted([*(p.stem for p in DEFAULT_FORMS_DIR.glob("*.yaml")), "community_trigger"]))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The bundled forms and rulesets with the fixture's case type added: the only place it exists."""
    folder = tmp_path / "config"
    shutil.copytree(DEFAULT_FORMS_DIR, folder / "qa_forms")
    shutil.copytree(DEFAULT_RULESETS_DIR, folder / "rulesets")
    shutil.copytree(FIXTURE, folder, dirs_exist_ok=True)
    assert not (DEFAULT_FORMS_DIR / "community_trigger.yaml").exists()
    return folder


@pytest.fixture
def env(database_url: str, config: Path) -> Iterator[dict[str, str]]:
    yield {
        "QAM_DATABASE_URL": database_url,
        "QAM_FORMS": str(config / "qa_forms"),
        "QAM_RULESETS": str(config / "rulesets"),
    }


def _plan(aid: str, ref: str, place: str, **answers: str) -> dict[str, str]:
    """An ASB case review plan assessed in 2026-W47; a good plan unless ``answers`` say otherwise."""
    good = {
        "problem_type": "asb",
        "problem_defined": "yes",
        "analysis_recorded": "yes",
        "objectives_set": "yes",
        "vulnerable_victim": "no",
        "safeguarding_addressed": "",
        "reviewed_on": "2026-11-09",
        "notes": "",
    }
    common = {
        "assessment_id": aid,
        "case_type": "community_trigger",
        "case_ref": ref,
        "place": place,
        "team": "Neighbourhood",
        "officer": "PC 2001",
        "reviewer": "QA Reviewer A. Shah",
        "assessed_on": "2026-11-18",
        "case_date": "2026-11-02",
    }
    return {**common, **good, **answers}


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def _pdf_text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(path).pages)


def test_a_case_type_added_by_configuration_alone_works_end_to_end(
    env: dict[str, str], tmp_path: Path, runner: CliRunner
) -> None:
    def qam(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    _ok(qam("init"))
    assert "community-trigger-quality" in _ok(qam("rulesets", "validate"))
    _ok(qam("rulesets", "publish", "--author", "test", "--note", "ASB case reviews added"))
    listed = _ok(qam("forms", "list"))
    assert any(line.split()[:1] == ["community_trigger"] and "D10" in line for line in listed.splitlines())

    # template: the CSV header and the XLSX workbook, which records its case type
    csv_template = tmp_path / "ps.csv"
    _ok(qam("forms", "template", "community_trigger", "--format", "csv", "--out", str(csv_template)))
    header = csv_template.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert tuple(header) == COMMON_COLUMNS + QUESTIONS
    xlsx_template = tmp_path / "ps.xlsx"
    _ok(qam("forms", "template", "community_trigger", "--out", str(xlsx_template)))

    # submit: an unknown case type is refused at its row, naming the configured ones; nothing stored
    bad = _write_csv(
        tmp_path / "bad.csv",
        header,
        [
            _plan("QA-X-1", "PS-X-1", "BLK", case_type="community_trigr"),
            _plan("QA-X-2", "PS-X-2", "BLK", case_type="burglary"),
        ],
    )
    refused = qam("submit", str(bad))
    assert refused.exit_code == 3
    assert f"{bad}:2:case_type: 'community_trigr' is not a case type (did you mean 'community_trigger'?)" in (
        refused.stderr
    )
    assert f"{bad}:3:case_type: 'burglary' is not a case type (known: {KNOWN})" in refused.stderr

    # Harbourside: 12 of 20 plans without analysis (CT02 below standard); Kingsgate: one plan
    # leaving a vulnerable victim unprotected (CT04, critical), sent in the XLSX template with
    # case_type left blank; Blackwater: 10 good plans (nothing to report)
    rows = [
        _plan(f"QA-HRB-{i:02d}", f"PS-HRB-{i:02d}", "HRB", analysis_recorded="no" if i < 12 else "yes")
        for i in range(20)
    ]
    rows += [_plan(f"QA-BLK-{i:02d}", f"PS-BLK-{i:02d}", "BLK") for i in range(10)]
    rows += [_plan(f"QA-KNG-{i:02d}", f"PS-KNG-{i:02d}", "KNG") for i in range(1, 4)]
    week_csv = _write_csv(tmp_path / "week.csv", header, rows)
    workbook = openpyxl.load_workbook(xlsx_template)
    sheet = workbook.worksheets[0]
    critical = _plan(
        "QA-KNG-00", "PS-KNG-00", "KNG", case_type="", vulnerable_victim="yes", safeguarding_addressed="no"
    )
    for column, name in enumerate(header, start=1):
        sheet.cell(row=2, column=column, value=critical[name] or None)
    workbook.save(xlsx_template)
    submitted = _ok(qam("submit", str(week_csv), str(xlsx_template)))
    assert "34 stored" in submitted

    # weekly: scored, aggregated, the exceptions found and briefed to their places
    out = tmp_path / "out"
    _ok(qam("weekly", "--week", "2026-W47", "--out", str(out)))
    folder = out / "2026-W47"
    data = json.loads((folder / "exceptions.json").read_text(encoding="utf-8"))
    found = {(e["kind"], e["place"], e["criterion"]) for e in data["exceptions"]}
    assert found == {("critical", "KNG", "CT04"), ("below_standard", "HRB", "CT02")}
    ps02 = next(e for e in data["exceptions"] if e["criterion"] == "CT02")
    assert (ps02["measure"], ps02["n"], ps02["passed"]) == ("D10", 20, 8)
    assert "community-trigger-quality" in {r["id"] for r in data["rulesets"]}
    with (folder / "aggregates.csv").open(encoding="utf-8", newline="") as fh:
        aggregates = [r for r in csv.DictReader(fh) if r["ruleset"] == "community-trigger-quality"]
    assert {r["dimension_key"] for r in aggregates if r["dimension"] == "criterion"} == {
        "CT01",
        "CT02",
        "CT03",
        "CT04",
    }
    hrb = next(r for r in aggregates if (r["place"], r["dimension_key"]) == ("HRB", "CT02"))
    assert (hrb["n"], hrb["passes"], hrb["fails"]) == ("20", "8", "12")
    assert sorted(p.name for p in folder.glob("*.pdf")) == ["HRB.pdf", "KNG.pdf", "force.pdf"]
    kng = _pdf_text(folder / "KNG.pdf")
    assert "community trigger 4" in kng  # the cases reviewed, by case type
    assert "PS-KNG-00" in kng and "A vulnerable victim named by the plan was safeguarded" in kng
    assert "PS-KNG-00,community_trigger" in (folder / "KNG-cases.csv").read_text(encoding="utf-8")

    # PEEL: rescored under the published versions, the new type's item among the rest
    peel_out = tmp_path / "peel"
    _ok(qam("peel", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(peel_out)))
    (peel_folder,) = peel_out.iterdir()
    peel = json.loads((peel_folder / "exceptions.json").read_text(encoding="utf-8"))
    assert {("KNG", "CT04"), ("HRB", "CT02")} <= {(e["place"], e["criterion"]) for e in peel["exceptions"]}
    assert "CT04" in _pdf_text(peel_folder / "peel.pdf")

    # sampling: the new type's cases extracted, drawn and written to its own worklists
    cases = tmp_path / "cases.csv"
    lines = ["case_ref,case_type,place,team,officer,case_date"]
    lines += [f"PS-W48-{i},community_trigger,BLK,Neighbourhood,PC 2001,2026-11-2{3 + i}" for i in range(4)]
    cases.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "4 new" in _ok(qam("extracts", "load", "cases", str(cases)))
    reviewers = tmp_path / "reviewers.txt"
    reviewers.write_text("Ann Smith\nBob Jones\n", encoding="utf-8")
    sample = ["sample", "--week", "2026-W48", "--seed", "7", "--reviewers", str(reviewers)]
    unknown = qam(*sample, "--type", "community_trigr")
    assert unknown.exit_code == 2
    assert f"unknown case type 'community_trigr' (known: {KNOWN})" in unknown.stderr
    _ok(qam(*sample, "--type", "community_trigger", "--out", str(tmp_path / "worklists")))
    worklists = sorted(p.name for p in (tmp_path / "worklists").glob("*.xlsx"))
    assert worklists == [
        "2026-W48-ann-smith-community_trigger.xlsx",
        "2026-W48-bob-jones-community_trigger.xlsx",
    ]
    drawn = openpyxl.load_workbook(tmp_path / "worklists" / worklists[0]).worksheets[0]
    assert [c.value for c in drawn[1]][: len(header)] == header

    # calibration: both reviewers assess the same four plans; the report compares their answers
    created = qam(
        "calibrate", "create", "--name", "ps-q4", "--type", "community_trigger", "--cases", "4",
        "--reviewers", str(reviewers), "--out", str(tmp_path / "cal-worklists"),
    )  # fmt: skip
    assert "Calibration set ps-q4 created: 4 community_trigger cases" in _ok(created)
    calibration = [
        _plan(
            f"CAL-{name[:3]}-{i}",
            f"PS-W48-{i}",
            "BLK",
            reviewer=name,
            case_date=f"2026-11-2{3 + i}",
            assessed_on="2026-11-30",
            analysis_recorded="partly" if name == "Bob Jones" and i % 2 else "yes",
        )
        for name in ("Ann Smith", "Bob Jones")
        for i in range(4)
    ]
    cal_csv = _write_csv(tmp_path / "cal.csv", header, calibration)
    _ok(qam("submit", "--calibration", "ps-q4", str(cal_csv)))
    report = _ok(qam("calibrate", "report", "ps-q4", "--out", str(tmp_path / "cal")))
    assert "Calibration ps-q4 (community_trigger): 4 cases, 4 assessed by all 2 reviewers" in report
    agreement = (tmp_path / "cal" / "ps-q4-agreement.csv").read_text(encoding="utf-8")
    assert "analysis_recorded" in agreement
    assert len(api.list_assessments(load_settings(environ=env))) == 34  # calibration counts for nothing

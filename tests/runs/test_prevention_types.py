"""The bundled DVPN and Clare's Law, vulnerable caller, complaint handling and high-impact investigation
forms, as a QA team would use them: each template filled in as a spreadsheet (its dropdowns, Excel's
dates and numbers) and submitted, bad rows refused at file:row:column, a week scored and briefed (the
critical and below-standard cases in the place briefings, in the forms' own words, on items M6, M7,
D6 and D12, which have no improvement direction of their own), PEEL, sampling and calibration."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner, Result

from engine.cli import app
from engine.core.models import COMMON_COLUMNS, AnswerType
from engine.demo.factories import build_row
from engine.inputs.forms import load_forms

FORMS = load_forms(Path(__file__).resolve().parents[2] / "qa_forms")
NEW = ("complaint_handling", "dvpn_dvds", "high_impact_investigation", "vulnerable_caller")
WEEK = {"assessed_on": "2026-11-18", "case_date": "2026-10-12"}  # assessed in 2026-W47


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


def test_the_new_forms_name_their_cases_in_their_own_words() -> None:
    assert {t: (FORMS[t].measure, FORMS[t].label, FORMS[t].noun) for t in NEW} == {
        "complaint_handling": ("D12", "complaint handling", "complaints"),
        "dvpn_dvds": (
            "M6",
            "protection notices and disclosures",
            "protection notice and disclosure decisions",
        ),
        "high_impact_investigation": ("D6", "high-impact crime", "high-impact events"),
        "vulnerable_caller": ("M7", "vulnerable callers", "vulnerable and frequent callers"),
    }


def test_each_template_is_filled_in_as_a_spreadsheet_and_submitted(
    env: dict[str, str], tmp_path: Path, runner: CliRunner
) -> None:
    """A reviewer downloads each template, picks answers from its dropdowns, types dates and numbers
    as Excel stores them, leaves case_type blank (the sheet knows it) and submits the four workbooks."""
    _ok(runner.invoke(app, ["init"], env=env))
    books = []
    for case_type in NEW:
        book_path = tmp_path / f"{case_type}.xlsx"
        _ok(runner.invoke(app, ["forms", "template", case_type, "--out", str(book_path)], env=env))
        book = openpyxl.load_workbook(book_path)
        sheet = book.worksheets[0]
        header = [c.value for c in sheet[1]]
        assert tuple(header) == FORMS[case_type].columns
        validated = {
            str(v.sqref).split(":")[0].rstrip("0123456789") for v in sheet.data_validations.dataValidation
        }
        closed = [q for q in FORMS[case_type].questions if q.allowed is not None]
        letters = {openpyxl.utils.get_column_letter(header.index(q.id) + 1) for q in closed}
        assert letters <= validated, case_type  # every closed question has its dropdown
        types = {q.id: q.type for q in FORMS[case_type].questions}
        for r, row in enumerate(_rows(case_type, "BLK", 2, case_type[:2].upper()), start=2):
            for c, column in enumerate(header, start=1):
                value: Any = row.get(str(column)) or None
                if column == "case_type":
                    value = None
                elif value is not None and (
                    column in ("assessed_on", "case_date") or types.get(column) is AnswerType.DATE
                ):
                    value = dt.datetime.fromisoformat(value)  # Excel keeps a typed date as a date
                elif value is not None and types.get(column) is AnswerType.INTEGER:
                    value = int(value)
                sheet.cell(row=r, column=c, value=value)
        book.save(book_path)
        books.append(str(book_path))
    out = _ok(runner.invoke(app, ["submit", *books], env=env))
    assert "8 rows in 4 files: 8 stored" in out
    for case_type in NEW:
        assert any(line.split()[:3] == [case_type, "BLK", "2"] for line in out.splitlines()), out


@pytest.mark.usefixtures("database")  # submit opens the database before reading
def test_bad_rows_of_the_new_forms_are_refused_at_file_row_and_column(
    env: dict[str, str], tmp_path: Path, runner: CliRunner
) -> None:
    rows = [
        build_row("dvpn_dvds", assessment_id="QA-1", place="BLK", **WEEK, authorising_rank="inspector"),
        build_row("dvpn_dvds", assessment_id="QA-2", place="BLK", **WEEK, dvpo_applied="no"),
        build_row(
            "dvpn_dvds", assessment_id="QA-3", place="BLK", **WEEK, right_to_ask=True, outcome_on="30/11/2026"
        ),
        build_row("vulnerable_caller", assessment_id="QA-4", place="BLK", **WEEK, calls_90_days="lots"),
        build_row(
            "complaint_handling", assessment_id="QA-5", place="BLK", **WEEK, referral_criteria_met="yes"
        ),
        build_row(
            "high_impact_investigation", assessment_id="QA-6", place="BLK", **WEEK, event_type="homicide"
        ),
    ]
    path = _write_csv(tmp_path / "bad.csv", rows)
    refused = runner.invoke(app, ["submit", str(path)], env=env)
    assert refused.exit_code == 3
    err = refused.stderr
    assert (
        f"{path}:2:authorising_rank: 'inspector' is not one of superintendent_or_above, below_superintendent, not_recorded"
        in err
    )
    assert (
        f"{path}:3:dvpo_hearing_hours: must be blank unless dvpo_applied is yes (dvpo_applied is no)" in err
    )
    assert f"{path}:4:outcome_on: '30/11/2026' is not a date (use YYYY-MM-DD)" in err
    assert f"{path}:5:calls_90_days: " in err
    assert f"{path}:6:referred_to_iopc: an answer is required when referral_criteria_met is yes" in err
    assert f"{path}:7:sio_appointed: an answer is required when event_type is homicide" in err
    assert "nothing stored: 7 problems in 1 file" in err


def _week() -> list[dict[str, Any]]:
    return (
        # Stonebridge: a DVPO heard 52 hours after the notice (DP04, critical) among sound decisions
        _rows("dvpn_dvds", "STN", 1, "DP-X", dvpo_late=True, dvpo_granted="no", victim_told_of_order="")
        + _rows("dvpn_dvds", "STN", 3, "DP")
        + _rows("dvpn_dvds", "STN", 3, "DP-A", right_to_ask=True)
        # Kingsgate: Clare's Law cases concluded after 28 days (DP09 below standard)
        + _rows("dvpn_dvds", "KNG", 5, "DP-L", right_to_know=True, dvds_late=True)
        # Portwell: the homicide's scene left open (II01, critical); Millbrook: a high-risk caller
        # left without safeguarding (VL03, critical) and frequent callers with no plan (VL10)
        + _rows("high_impact_investigation", "PRT", 1, "II-X", homicide=True, scene_lost=True)
        + _rows("high_impact_investigation", "PRT", 2, "II")
        + _rows("vulnerable_caller", "MLB", 1, "VL-X", high_risk_unsafeguarded=True)
        + _rows("vulnerable_caller", "MLB", 5, "VL-P", no_plan=True)
        # Fenwick: complainants contacted late (CH02) and a complaint not referred to the IOPC (CH05)
        + _rows("complaint_handling", "FEN", 6, "CH-L", contact_late=True)
        + _rows("complaint_handling", "FEN", 1, "CH-X", referral_missed=True)
        # Blackwater: all sound, nothing to report
        + _rows("complaint_handling", "BLK", 4, "CH", still_open=True)
        + _rows("high_impact_investigation", "BLK", 3, "II", no_scene=True, event_type="rape")
        + _rows("vulnerable_caller", "BLK", 4, "VL", occasional=True, stepped_down_reviewed=True)
    )


def test_a_week_of_the_new_forms_is_scored_and_briefed_in_their_own_words(
    env: dict[str, str], tmp_path: Path, runner: CliRunner
) -> None:
    def qam(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    _ok(qam("init"))
    _ok(qam("rulesets", "publish", "--author", "test", "--note", "prevention forms"))
    _ok(qam("submit", str(_write_csv(tmp_path / "week.csv", _week()))))
    out = tmp_path / "out"
    _ok(qam("weekly", "--week", "2026-W47", "--out", str(out)))
    folder = out / "2026-W47"
    data = json.loads((folder / "exceptions.json").read_text(encoding="utf-8"))
    found = {(e["kind"], e["place"], e["criterion"]) for e in data["exceptions"] if e["criterion"]}
    assert found == {
        ("critical", "STN", "DP04"),
        ("critical", "PRT", "II01"),
        ("critical", "MLB", "VL03"),
        ("critical", "FEN", "CH05"),
        ("below_standard", "KNG", "DP09"),
        ("below_standard", "MLB", "VL10"),
        ("below_standard", "FEN", "CH02"),
    }
    assert not any(e["place"] == "BLK" for e in data["exceptions"])
    by_id = {e["criterion"]: e for e in data["exceptions"] if e["criterion"]}
    assert (by_id["DP09"]["measure"], by_id["DP09"]["n"], by_id["DP09"]["passed"]) == ("M6", 5, 0)
    assert "met in 0 of 5 protection notice and disclosure decisions reviewed" in by_id["DP09"]["reason"]
    assert "vulnerable and frequent callers reviewed" in by_id["VL10"]["reason"]
    assert "met in 1 of 7 complaints reviewed" in by_id["CH02"]["reason"]
    assert (by_id["II01"]["measure"], by_id["CH05"]["measure"]) == ("D6", "D12")

    # the briefings: cases reviewed by each form's label, the failing case and its standard
    stn = _pdf_text(folder / "STN.pdf")
    assert "protection notices and disclosures 7" in stn and "DP-X-STN-00" in stn
    assert "A DVPO application was made and heard within 48 hours of the DVPN" in stn
    prt = _pdf_text(folder / "PRT.pdf")
    assert "high-impact crime 3" in prt and "II-X-PRT-00" in prt
    assert "Every scene was preserved, cordoned and logged from the first attendance" in prt
    fen = _pdf_text(folder / "FEN.pdf")
    assert "complaint handling 7" in fen and "CH-X-FEN-00" in fen
    assert "A complaint meeting the mandatory referral criteria was referred to the IOPC" in fen
    mlb = _pdf_text(folder / "MLB.pdf")
    assert "vulnerable callers 6" in mlb and "VL-X-MLB-00" in mlb
    with (folder / "FEN-cases.csv").open(encoding="utf-8", newline="") as fh:
        types = {r["case_ref"]: r["case_type"] for r in csv.DictReader(fh)}
    assert types["CH-X-FEN-00"] == "complaint_handling"

    # PEEL: the new criteria under their items
    peel_out = tmp_path / "peel"
    _ok(qam("peel", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(peel_out)))
    (peel_folder,) = peel_out.iterdir()
    peel = json.loads((peel_folder / "exceptions.json").read_text(encoding="utf-8"))
    assert {("STN", "DP04"), ("PRT", "II01"), ("FEN", "CH05"), ("MLB", "VL03")} <= {
        (e["place"], e["criterion"]) for e in peel["exceptions"]
    }
    text = _pdf_text(peel_folder / "peel.pdf")
    assert all(cid in text for cid in ("DP04", "II01", "CH05", "VL03"))


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
    sample = ["sample", "--week", "2026-W48", "--seed", "7", "--reviewers", str(reviewers)]
    _ok(qam(*sample, "--out", str(worklists)))
    names = sorted(p.name for p in worklists.glob("*.xlsx"))
    for case_type in NEW:
        assert f"2026-W48-ann-smith-{case_type}.xlsx" in names
    drawn = openpyxl.load_workbook(worklists / "2026-W48-bob-jones-dvpn_dvds.xlsx").worksheets[0]
    columns = FORMS["dvpn_dvds"].columns
    assert tuple(c.value for c in drawn[1])[: len(columns)] == columns

    created = qam(
        "calibrate", "create", "--name", "dp-q4", "--type", "dvpn_dvds", "--cases", "4",
        "--reviewers", str(reviewers), "--out", str(tmp_path / "cal-worklists"),
    )  # fmt: skip
    assert "Calibration set dp-q4 created: 4 dvpn_dvds cases" in _ok(created)
    calibration = []
    for book in sorted((tmp_path / "cal-worklists").glob("*.xlsx")):
        sheet = openpyxl.load_workbook(book).worksheets[0]
        header = [c.value for c in sheet[1]]
        for row in sheet.iter_rows(min_row=2, values_only=True):
            given = dict(zip(header, row, strict=False))
            if not given.get("case_ref"):
                continue
            reviewer = str(given["reviewer"])
            # Bob reads the authorising officer's considerations as only partly recorded on half
            differs = reviewer == "Bob Jones" and str(given["case_ref"]).endswith(("0", "2", "4", "6", "8"))
            calibration.append(
                build_row(
                    "dvpn_dvds",
                    assessment_id=f"CAL-{reviewer[:3]}-{given['case_ref']}",
                    case_ref=given["case_ref"],
                    place=given["place"],
                    reviewer=reviewer,
                    case_date=str(given["case_date"])[:10],
                    assessed_on="2026-11-30",
                    authorisation_considerations="partly" if differs else "yes",
                )
            )
    assert len(calibration) == 8
    _ok(qam("submit", "--calibration", "dp-q4", str(_write_csv(tmp_path / "cal.csv", calibration))))
    report = _ok(qam("calibrate", "report", "dp-q4", "--out", str(tmp_path / "cal")))
    assert "Calibration dp-q4 (dvpn_dvds): 4 cases, 4 assessed by all 2 reviewers" in report
    agreement = (tmp_path / "cal" / "dp-q4-agreement.csv").read_text(encoding="utf-8")
    assert "authorisation_considerations" in agreement


def test_a_history_of_the_new_forms_is_charted_on_items_without_a_direction(
    env: dict[str, str], tmp_path: Path, runner: CliRunner
) -> None:
    """M6, D6 and D12 have no improvement direction of their own (a count of homicides is watched,
    not pushed), but the share of their reviewed cases meeting every standard is better higher: a
    place's weekly series of it is charted, and a week that falls out of its usual range is briefed
    (this crashed with 'unknown improvement direction None')."""

    def qam(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    _ok(qam("init"))
    _ok(qam("rulesets", "publish", "--author", "test", "--note", "prevention forms"))
    rows = []
    for weeks_back in range(12, -1, -1):
        monday = dt.date(2026, 11, 16) - dt.timedelta(weeks=weeks_back)
        when = {"assessed_on": (monday + dt.timedelta(days=1)).isoformat(), "case_date": "2026-08-03"}
        for i in range(4):
            ref = f"W{weeks_back:02d}-{i}"
            late = weeks_back == 0 and i < 3  # the latest week: three DVPOs heard out of time
            rows.append(
                build_row(
                    "dvpn_dvds",
                    assessment_id=f"QA-DP-{ref}",
                    case_ref=f"DP-{ref}",
                    place="STN",
                    dvpo_late=late,
                    **when,
                )
            )
            rows.append(
                build_row(
                    "complaint_handling",
                    assessment_id=f"QA-CH-{ref}",
                    case_ref=f"CH-{ref}",
                    place="STN",
                    **when,
                )
            )
            rows.append(
                build_row(
                    "high_impact_investigation",
                    assessment_id=f"QA-II-{ref}",
                    case_ref=f"II-{ref}",
                    place="STN",
                    **when,
                )
            )
    _ok(qam("submit", str(_write_csv(tmp_path / "weeks.csv", rows))))
    out = tmp_path / "out"
    _ok(qam("weekly", "--week", "2026-W47", "--out", str(out)))
    data = json.loads((out / "2026-W47" / "exceptions.json").read_text(encoding="utf-8"))
    found = {(e["kind"], e["place"], e["measure"], e["criterion"]) for e in data["exceptions"]}
    assert ("special_cause", "STN", "M6", "") in found
    assert {("critical", "STN", "M6", "DP04")} <= found
    assert not {m for _, _, m, _ in found} & {"D6", "D12"}  # sound all along: nothing to say

"""Calibration: creating sets, agreement per question (Cohen's and Fleiss' kappa cross-checked against
textbook examples), poor questions first with the disagreeing answers side by side, per-reviewer
divergence, CSV and PDF output, and calibration submissions kept out of performance figures.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from engine.analysis.agreement import Disagreement, strength
from engine.core.errors import UsageError
from engine.core.models import AnswerType
from engine.inputs.cases import read_cases
from engine.inputs.forms import Form, Question
from engine.reports.calibration_pdf import render_calibration_pdf, write_calibration_csv
from engine.sampling.calibration import calibration_problems, calibration_report, create_calibration
from engine.sampling.population import load_cases
from engine.store import assessments
from engine.store.db import Assessment, Database
from engine.store.sampling import PERFORMANCE_ONLY
from tests.assessment_rows import SUBMITTED_AT, StoredRow, store_rows

NOW = SUBMITTED_AT
SET = "SS-CAL-1"


def question(qid: str, allowed: tuple[str, ...] = ("yes", "no")) -> Question:
    qtype = AnswerType.JUDGEMENT if set(allowed) <= {"yes", "no", "partly", "na"} else AnswerType.CHOICE
    return Question(qid, f"Text of {qid}?", "", qtype, "D11", allowed)


def form(*questions: Question) -> dict[str, Form]:
    notes = Question("notes", "Notes", "", AnswerType.TEXT, "D11")
    return {"stop_search": Form("stop_search", "Stop and search", "1.0.0", "D11", (*questions, notes))}


def submit(database: Database, ratings: dict[str, dict[str, dict[str, str]]], name: str | None = SET) -> None:
    """ratings: case_ref -> reviewer -> answers; stored as one assessment each."""
    rows = [
        StoredRow(f"{name}-{reviewer}-{ref}", ref, reviewer, answers)
        for ref, by_reviewer in ratings.items()
        for reviewer, answers in by_reviewer.items()
    ]
    store_rows(database, rows, calibration_set=name)


def make_set(database: Database, tmp_path: Path, refs: list[str], reviewers: list[str]) -> None:
    extract = tmp_path / "cases.csv"
    extract.write_text(
        "case_ref,case_type,place,team,officer,case_date\n"
        + "".join(f"{r},stop_search,BLK,Team,PC 1,2026-11-16\n" for r in refs),
        encoding="utf-8",
    )
    load_cases(database, read_cases(extract, ["BLK"], ["stop_search"]), NOW)
    create_calibration(
        database, name=SET, case_type="stop_search", n_cases=len(refs), reviewers=reviewers, seed=1, now=NOW
    )


# --------------------------------------------------------------------------- kappa, cross-checked


def test_cohens_kappa_matches_the_textbook_example(database: Database, tmp_path: Path) -> None:
    # Cohen's kappa, Wikipedia's worked example: 50 proposals, both yes 20, A yes B no 5, A no B yes 10,
    # both no 15: p_o = 0.70, p_e = 0.50, kappa = 0.40
    pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    refs = [f"SS/{i:03d}" for i in range(50)]
    make_set(database, tmp_path, refs, ["Ann", "Bob"])
    submit(
        database, {ref: {"Ann": {"q": a}, "Bob": {"q": b}} for ref, (a, b) in zip(refs, pairs, strict=True)}
    )
    report = calibration_report(database, SET, form(question("q")))
    (q,) = report.questions
    assert q.method == "cohen"
    assert q.kappa == pytest.approx(0.40)
    assert (q.cases, q.agreed, q.agreement) == (50, 35, 0.70)
    assert q.agreement_low == pytest.approx(0.5625, abs=1e-4)  # Wilson 95 % for 35 of 50
    assert q.kappa_low is not None and q.kappa_high is not None
    assert q.kappa_low < 0.40 < q.kappa_high
    assert q.poor and q.strength == "fair"
    assert len(q.disagreements) == 15


def test_fleiss_kappa_matches_the_textbook_example(database: Database, tmp_path: Path) -> None:
    # Fleiss' kappa, Wikipedia's worked example: 14 raters put 10 subjects in 5 categories; kappa = 0.210
    counts = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    reviewers = [f"R{j:02d}" for j in range(14)]
    refs = [f"SS/{i:03d}" for i in range(10)]
    make_set(database, tmp_path, refs, reviewers)
    ratings: dict[str, dict[str, dict[str, str]]] = {}
    for ref, row in zip(refs, counts, strict=True):
        answers = [str(c + 1) for c, n in enumerate(row) for _ in range(n)]
        ratings[ref] = {r: {"diagnosis": a} for r, a in zip(reviewers, answers, strict=True)}
    submit(database, ratings)
    report = calibration_report(database, SET, form(question("diagnosis", ("1", "2", "3", "4", "5"))))
    (q,) = report.questions
    assert q.method == "fleiss"
    assert q.kappa == pytest.approx(0.2099, abs=1e-4)
    assert q.agreed == 1  # only subject 1 is unanimous
    assert q.strength == "fair"  # Landis & Koch: 0.21-0.40


# --------------------------------------------------------------------------- the report


def test_poor_questions_come_first_worst_first_with_answers_side_by_side(
    database: Database, tmp_path: Path
) -> None:
    refs = [f"SS/{i:02d}" for i in range(10)]
    make_set(database, tmp_path, refs, ["Ann", "Bob", "Cy"])
    good = ["yes", "no"] * 5
    ratings = {}
    for i, ref in enumerate(refs):
        ratings[ref] = {
            # everyone agrees on "agreed"; Cy differs on 4 cases of "grounds"; "object" is nearly a coin toss
            "Ann": {"agreed": good[i], "grounds": good[i], "object": good[i], "same": "yes"},
            "Bob": {"agreed": good[i], "grounds": good[i], "object": good[(i + 1) % 10], "same": "yes"},
            "Cy": {
                "agreed": good[i],
                "grounds": good[(i + 1) % 10] if i < 4 else good[i],
                "object": good[i],
                "same": "yes",
            },
        }
    ratings[refs[9]]["Cy"].pop("object")  # a blank answer leaves that case out for that question only
    submit(database, ratings)
    questions = form(question("same"), question("agreed"), question("grounds"), question("object"))
    report = calibration_report(database, SET, questions)

    assert [q.question for q in report.questions] == ["object", "grounds", "same", "agreed"]
    obj, grounds, same, agreed = report.questions
    assert obj.poor and grounds.poor and obj.kappa is not None and grounds.kappa is not None
    assert obj.kappa < grounds.kappa < 0.6
    assert obj.cases == 9 and grounds.cases == 10
    assert grounds.disagreements[0] == Disagreement("SS/00", (("Ann", "yes"), ("Bob", "yes"), ("Cy", "no")))
    assert [d.case_ref for d in grounds.disagreements] == ["SS/00", "SS/01", "SS/02", "SS/03"]
    assert (same.kappa, same.note, same.agreement) == (None, "every answer was 'yes': kappa undefined", 1.0)
    assert agreed.kappa == pytest.approx(1.0)
    assert report.summary().splitlines()[1] == "Poor agreement (kappa < 0.6) on 2 of 4 questions."


def test_each_reviewer_is_measured_against_the_majority_of_the_others(
    database: Database, tmp_path: Path
) -> None:
    refs = [f"SS/{i:02d}" for i in range(10)]
    make_set(database, tmp_path, refs, ["Ann", "Bob", "Cy", "Dee"])
    answers = ["yes", "no"] * 5
    flip = {"yes": "no", "no": "yes"}
    ratings = {
        ref: {
            "Ann": {"q": answers[i]},
            "Bob": {"q": answers[i]},
            "Cy": {"q": flip[answers[i]] if i < 4 else answers[i]},
        }
        for i, ref in enumerate(refs)
    }
    submit(database, ratings)
    submit(database, {refs[0]: {"Eve": {"q": "yes"}}})  # not a listed reviewer: left out
    report = calibration_report(database, SET, form(question("q")))
    rows = {r.reviewer: (r.cases_submitted, r.compared, r.differs) for r in report.reviewer_rows}
    # Cy against Ann+Bob (always agreeing): 4 of 10 differ. Ann against Bob+Cy: no majority where they split
    assert rows == {"Ann": (10, 6, 0), "Bob": (10, 6, 0), "Cy": (10, 10, 4), "Dee": (0, 0, 0)}
    assert report.included == ("Ann", "Bob", "Cy")
    assert report.ignored == 1
    assert "No submissions yet from: Dee." in report.summary()


def test_a_later_submission_by_the_same_reviewer_replaces_the_earlier(
    database: Database, tmp_path: Path
) -> None:
    refs = ["SS/01", "SS/02", "SS/03"]
    make_set(database, tmp_path, refs, ["Ann", "Bob"])
    submit(database, {r: {"Ann": {"q": "yes"}, "Bob": {"q": "no"}} for r in refs})
    later = [StoredRow(f"again-{r}", r, "Bob", {"q": "yes"}) for r in refs]
    store_rows(database, later, calibration_set=SET, submitted_at=NOW + dt.timedelta(hours=1))
    (q,) = calibration_report(database, SET, form(question("q"))).questions
    assert q.agreed == 3


@pytest.mark.parametrize(
    ("kappa", "label"),
    [
        (-0.1, "poor"),
        (0.0, "slight"),
        (0.2, "slight"),
        (0.21, "fair"),
        (0.5, "moderate"),
        (0.6, "moderate"),
        (0.7, "substantial"),
        (0.81, "almost perfect"),
        (None, ""),
    ],
)
def test_strength_labels_follow_landis_and_koch(kappa: float | None, label: str) -> None:
    assert strength(kappa) == label


# --------------------------------------------------------------------------- creating sets


def test_a_set_is_drawn_from_the_frame_and_repeats_unchanged(database: Database, tmp_path: Path) -> None:
    extract = tmp_path / "cases.csv"
    extract.write_text(
        "case_ref,case_type,place,team,officer,case_date\n"
        + "".join(f"SS/{i:03d},stop_search,BLK,Team,PC {i},2026-11-16\n" for i in range(40)),
        encoding="utf-8",
    )
    load_cases(database, read_cases(extract, ["BLK"], ["stop_search"]), NOW)
    args = {
        "name": SET,
        "case_type": "stop_search",
        "n_cases": 8,
        "reviewers": ["Ann", "Bob", "Cy"],
        "seed": 4,
    }
    created = create_calibration(database, now=NOW, **args)  # type: ignore[arg-type]
    again = create_calibration(database, now=NOW + dt.timedelta(days=1), **args)  # type: ignore[arg-type]
    assert len(created.case_refs) == 8 and created.source == "cases extract"
    assert again.already_existed and again.case_refs == created.case_refs and again.items == created.items
    assert len(created.items) == 24
    assert {i.reviewer for i in created.items if i.case_ref == created.case_refs[0]} == {"Ann", "Bob", "Cy"}
    with pytest.raises(UsageError, match=f"calibration set {SET} already exists"):
        create_calibration(database, now=NOW, **{**args, "reviewers": ["Ann", "Bob"]})  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="at least two reviewers"):
        create_calibration(database, now=NOW, **{**args, "name": "other", "reviewers": ["Ann"]})  # type: ignore[arg-type]


def test_without_an_extract_a_set_comes_from_assessed_cases(database: Database) -> None:
    store_rows(database, [StoredRow(f"QA-{i}", f"SS/{i}", "Ann", {"q": "yes"}) for i in range(5)])
    result = create_calibration(
        database, name=SET, case_type="stop_search", n_cases=3, reviewers=["Ann", "Bob"], seed=1, now=NOW
    )
    assert result.source == "assessed cases" and set(result.case_refs) <= {f"SS/{i}" for i in range(5)}
    with pytest.raises(
        UsageError, match="only 5 stop_search cases are available in the assessed cases, 10 were asked for"
    ):
        create_calibration(
            database,
            name="big",
            case_type="stop_search",
            n_cases=10,
            reviewers=["Ann", "Bob"],
            seed=1,
            now=NOW,
        )


def test_calibration_rows_must_match_the_set(database: Database, tmp_path: Path) -> None:
    make_set(database, tmp_path, ["SS/1", "SS/2"], ["Ann", "Bob"])
    rows = [
        StoredRow("a", "SS/1", "ann", source_file="cal.csv"),
        StoredRow("b", "SS/9", "Bob", source_file="cal.csv", source_row=3),
        StoredRow("c", "SS/1", "Eve", case_type="victim_care", source_file="cal.csv", source_row=4),
    ]
    assert [str(p) for p in calibration_problems(database, SET, rows)] == [
        "cal.csv:3:case_ref: 'SS/9' is not one of the cases of calibration set SS-CAL-1",
        "cal.csv:4:case_type: calibration set SS-CAL-1 is for stop_search cases, not victim_care",
        "cal.csv:4:reviewer: 'Eve' is not a reviewer of calibration set SS-CAL-1 (Ann, Bob)",
    ]
    with pytest.raises(UsageError, match="there is no calibration set 'nope'"):
        calibration_problems(database, "nope", rows)


# --------------------------------------------------------------------------- performance figures


def test_calibration_submissions_never_count_toward_performance(database: Database, tmp_path: Path) -> None:
    make_set(database, tmp_path, ["SS/1", "SS/2"], ["Ann", "Bob"])
    submit(database, {"SS/1": {"Ann": {"q": "yes"}, "Bob": {"q": "no"}}, "SS/2": {"Ann": {"q": "yes"}}})
    submit(database, {"SS/1": {"Cy": {"q": "yes"}}}, name=None)
    with database.session() as s:
        performance = assessments.list_assessments(s)
        assert [(a.case_ref, a.reviewer) for a in performance] == [("SS/1", "Cy")]
        assert s.scalar(select(func.count()).select_from(Assessment).where(PERFORMANCE_ONLY)) == 1
        assert s.scalar(select(func.count()).select_from(Assessment)) == 4


# --------------------------------------------------------------------------- CSV and PDF


def test_csv_names_and_refs_that_start_like_formulas_are_text_and_a_negative_kappa_a_number(
    database: Database, tmp_path: Path
) -> None:
    make_set(database, tmp_path, ["+SS/1", "-SS/2", "SS/3"], ["=Ann", "@Bob"])
    submit(
        database,
        {
            "+SS/1": {"=Ann": {"q": "yes"}, "@Bob": {"q": "no"}},
            "-SS/2": {"=Ann": {"q": "no"}, "@Bob": {"q": "yes"}},
            "SS/3": {"=Ann": {"q": "yes"}, "@Bob": {"q": "yes"}},
        },
    )
    report = calibration_report(database, SET, form(question("q")))
    agreement, disagreements, by_reviewer = write_calibration_csv(report, tmp_path)
    assert disagreements.read_text(encoding="utf-8").splitlines() == [
        "question,case_ref,'=Ann,'@Bob",
        "q,'+SS/1,yes,no",
        "q,'-SS/2,no,yes",
    ]
    assert [line.split(",")[0] for line in by_reviewer.read_text(encoding="utf-8").splitlines()[1:]] == [
        "'=Ann",
        "'@Bob",
    ]
    (row,) = list(csv.DictReader(io.StringIO(agreement.read_text(encoding="utf-8"))))
    assert float(row["kappa"]) < 0 and row["kappa"].startswith("-")  # a number, as it was


def test_csv_and_pdf_show_the_report_with_user_text_escaped(database: Database, tmp_path: Path) -> None:
    reviewers = ["<b>Ann</b> & Co", "Bob"]
    make_set(database, tmp_path, ["SS/1", "SS/2", "SS/3"], reviewers)
    submit(
        database,
        {
            "SS/1": {reviewers[0]: {"q": "yes"}, "Bob": {"q": "no"}},
            "SS/2": {reviewers[0]: {"q": "no"}, "Bob": {"q": "yes"}},
            "SS/3": {reviewers[0]: {"q": "yes"}, "Bob": {"q": "yes"}},
        },
    )
    report = calibration_report(database, SET, form(question("q")))
    agreement, disagreements, by_reviewer = write_calibration_csv(report, tmp_path)
    assert agreement.name == "ss-cal-1-agreement.csv"
    (row,) = list(csv.DictReader(io.StringIO(agreement.read_text(encoding="utf-8"))))
    assert (row["question"], row["cases"], row["agreed"], row["agreement"], row["poor"]) == (
        "q",
        "3",
        "1",
        "0.333333",
        "yes",
    )
    assert disagreements.read_text(encoding="utf-8").splitlines() == [
        "question,case_ref,<b>Ann</b> & Co,Bob",
        "q,SS/1,yes,no",
        "q,SS/2,no,yes",
    ]
    assert by_reviewer.read_text(encoding="utf-8").splitlines()[1] == "<b>Ann</b> & Co,3,3,2,0.666667"

    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    assert render_calibration_pdf(report, first) == 1
    render_calibration_pdf(report, second)
    assert first.read_bytes() == second.read_bytes()
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(first).pages).split())
    assert "Reviewer calibration: SS-CAL-1" in text
    assert "<b>Ann</b> & Co" in text
    assert "Where reviewers disagreed" in text

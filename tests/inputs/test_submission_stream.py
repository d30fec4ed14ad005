"""A submission of any size (issue 20): the files are read and validated as a stream, the valid rows
wait in a temporary file, and storing reads them back in batches, so memory does not grow with the
file (a 196 MB CSV needed 9.7 GB); problems beyond the first thousand are counted, not kept."""

from __future__ import annotations

import csv
import gc
import tempfile
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.core.config import DEFAULT_FORCE_FILE, DEFAULT_FORMS_DIR, DEFAULT_RULESETS_DIR, Settings
from engine.core.errors import SubmissionError
from engine.demo.factories import DEMO_PLACE_CODES, build_row
from engine.inputs.problem_log import KEEP_PROBLEMS
from tests.inputs.submission_rows import FORMS


def write_rows(path: Path, n: int, **overrides: str) -> Path:
    """``n`` valid stop-search rows (QA-000000...), written as the benchmark writes them."""
    base = build_row("stop_search", **overrides)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(base)
        for i in range(n):
            row = {**base, "assessment_id": f"QA-{i:06d}", "case_ref": f"SS/{i:06d}/26"}
            row["place"] = DEMO_PLACE_CODES[i % len(DEMO_PLACE_CODES)]
            writer.writerow(row.values())
    return path


@pytest.fixture
def sqlite_ready(tmp_path: Path) -> Settings:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'qam.db'}",
        force_file=DEFAULT_FORCE_FILE,
        rulesets_dir=DEFAULT_RULESETS_DIR,
        forms_dir=DEFAULT_FORMS_DIR,
    )
    api.init_database(settings)
    return settings


def _peak_submitting(settings: Settings, path: Path) -> int:
    """The most memory (bytes, as Python allocates it) that submitting ``path`` held at once."""
    gc.collect()
    tracemalloc.start()
    try:
        result = api.submit(settings, [path])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.summary.totals.stored == result.rows
    return peak


def test_memory_does_not_grow_with_the_file(
    sqlite_ready: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: every row was held twice (as read and validated) and again as a database object,
    # about 8 KB a row; 3,000 more rows took some 20 MB more. Now the rows pass through in batches
    # (of 200 here, so that both files take several).
    from engine.store import assessments

    monkeypatch.setattr(assessments, "BATCH_ROWS", 200)
    small = _peak_submitting(sqlite_ready, write_rows(tmp_path / "small.csv", 1000))
    fresh = replace(sqlite_ready, database_url=f"sqlite:///{tmp_path / 'second.db'}")
    api.init_database(fresh)
    large = _peak_submitting(fresh, write_rows(tmp_path / "large.csv", 4000))
    assert large - small < 3_000_000, (small, large)


def test_every_row_is_stored_across_batches_and_a_resubmission_is_a_no_op(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.store import assessments

    monkeypatch.setattr(assessments, "BATCH_ROWS", 7)
    api.init_database(settings)
    path = write_rows(tmp_path / "week.csv", 40)
    assert api.submit(settings, [path]).summary.totals == (40, 0, 0)
    assert api.submit(settings, [path]).summary.totals == (0, 40, 0)
    assert len(api.list_assessments(settings)) == 40
    chain = api.verify_assessments(settings)
    assert chain.ok and chain.rows_checked == 40, [str(p) for p in chain.problems]


def test_conflicts_in_every_batch_are_all_reported_and_nothing_is_stored(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.store import assessments

    monkeypatch.setattr(assessments, "BATCH_ROWS", 5)
    api.init_database(settings)
    api.submit(settings, [write_rows(tmp_path / "first.csv", 20)])
    changed = write_rows(tmp_path / "changed.csv", 30, bwv_activated="no")  # 20 conflicts, 10 new
    with pytest.raises(SubmissionError) as info:
        api.submit(settings, [changed])
    assert str(info.value).startswith("20 rows conflict with stored assessments; nothing was stored")
    assert [p.location.line for p in info.value.problems] == list(range(2, 22))
    assert len(api.list_assessments(settings)) == 20  # the 10 new rows were not stored either
    amended = api.submit(settings, [changed], amend=True)
    assert amended.summary.totals == (10, 0, 20)
    chain = api.verify_assessments(settings)
    assert chain.ok and chain.rows_checked == 50, [str(p) for p in chain.problems]


def test_problems_beyond_the_first_thousand_are_counted_not_kept(
    sqlite_ready: Settings, tmp_path: Path
) -> None:
    path = write_rows(tmp_path / "bad.csv", 1500, grounds_recorded="maybe", bwv_activated="Y")
    with pytest.raises(SubmissionError) as info:
        api.submit(sqlite_ready, [path])
    problems = info.value.problems
    assert len(problems) == KEEP_PROBLEMS  # the first, in file order
    assert problems[0].location.line == 2 and problems[-1].location.line == 2 + (KEEP_PROBLEMS - 1) // 2
    text = str(info.value)
    assert text.startswith("nothing stored: 3,000 problems in 1 file")
    assert text.count(f"{path}:") == 50
    assert "... and 2950 more problems" in text


def test_a_temporary_folder_that_cannot_be_written_is_one_line_and_exit_4(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.init_database(settings)
    path = write_rows(tmp_path / "week.csv", 3)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    result = CliRunner().invoke(app, ["--database", settings.database_url, "submit", str(path)])
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output
    assert "cannot keep the validated rows in a temporary file in" in result.output
    assert "nothing was stored" in result.output
    assert api.list_assessments(settings) == []


def test_the_list_api_and_the_streamed_one_validate_alike(tmp_path: Path) -> None:
    from engine.inputs.submissions import load_submission_files, validate_submission

    path = write_rows(tmp_path / "week.csv", 25, notes="Café\nsecond line")
    listed = load_submission_files([path], FORMS, DEMO_PLACE_CODES)
    with validate_submission([path], FORMS, DEMO_PLACE_CODES) as streamed:
        assert len(streamed) == 25
        assert list(streamed) == listed
        assert list(streamed) == listed  # read back as often as needed

"""Fuzzing the submission reader and validator (engine.inputs.submission_files.read_submission and
engine.inputs.submissions.load_submission_files) with CSV and JSON bytes: random bytes, byte-level
mutations of valid files, valid files with hostile cells, and rows written by QAM itself.

Whatever a reviewer uploads: reading never raises (every problem is collected, naming the file),
loading either returns valid rows or raises SubmissionError whose every problem names the file,
nothing hangs, every accepted value can be stored (UTF-8, no control characters), and a submission
CSV QAM writes reads back to exactly the rows it was given."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from engine.core.errors import SubmissionError
from engine.core.models import COMMON_COLUMNS
from engine.core.text import typed_cell
from engine.inputs.canonical_questions import CANONICAL_CASE_TYPES
from engine.inputs.row_schemas import COMMON_MAX_LENGTH
from engine.inputs.submission_files import read_submission, write_submission_csv
from engine.inputs.submissions import ValidRow, load_submission_files
from tests.factories import DEMO_PLACE_CODES, build_row
from tests.fuzz.fuzzing import corpus, fuzz_settings, hang_guard, mutated
from tests.inputs.submission_rows import FORMS

pytestmark = pytest.mark.fuzz

SUFFIX = {"submission_csv": ".csv", "submission_json": ".json"}
TARGETS = sorted(SUFFIX)
#: control characters no accepted value may hold (the reader's rule: tab, CR and LF are text)
_CONTROL = {chr(c) for c in [*range(0x20), 0x7F]} - {"\t", "\n", "\r"}


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not _CONTROL.intersection(text)


# ----------------------------------------------------------------------------- the property


def check_file(path: Path) -> list[ValidRow] | None:
    """The property for one uploaded file; its valid rows, or None when it was refused."""
    with hang_guard(path.read_bytes()[:300]):
        problems: list[Any] = []
        rows = read_submission(path, problems=problems)
        assert all(p.location.file == str(path) and p.message.strip() for p in problems), problems
        assert all(r.source_file == str(path) and r.row >= 1 for r in rows)
        try:
            read_submission(path)
        except SubmissionError as refused:
            assert problems and refused.problems == problems
        else:
            assert not problems
        try:
            valid = load_submission_files([path], FORMS, DEMO_PLACE_CODES)
        except SubmissionError as refused:
            assert refused.problems and str(path) in str(refused)
            for problem in refused.problems:
                assert problem.location.file == str(path) and problem.message.strip(), problem
            if currently_in_test_context():
                event("refused")
            return None
    if currently_in_test_context():
        event("loaded")
    assert not problems and len(valid) == len(rows) > 0
    for row in valid:
        texts = [*row.raw, *row.raw.values(), *(getattr(row, c) for c in COMMON_COLUMNS)]
        texts += [v for v in row.answers.values() if isinstance(v, str)]
        assert all(_storable(t) for t in texts if isinstance(t, str)), row
    return valid


def _upload(folder: Path, target: str, data: bytes) -> Path:
    path = folder / f"upload{SUFFIX[target]}"
    path.write_bytes(data)
    return path


# ----------------------------------------------------------------------------- the corpus first


@pytest.mark.parametrize(
    "path", [p for t in TARGETS for p in corpus(t)], ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_the_corpus_replays(path: Path, tmp_path: Path) -> None:
    """valid-* seeds load whole; every other file (crash-*: once raised something else) is handled."""
    upload = _upload(tmp_path, path.parent.name, path.read_bytes())
    valid = check_file(upload)
    if path.name.startswith("valid-"):
        assert valid, path.name


# ----------------------------------------------------------------------------- random and mutated bytes


def _seeds(target: str) -> list[bytes]:
    return [p.read_bytes() for p in corpus(target)]


@pytest.mark.parametrize("target", TARGETS)
@fuzz_settings(250)
@given(data=st.data())
def test_random_bytes_are_read_or_refused_by_file(target: str, data: st.DataObject, tmp_path: Path) -> None:
    """Any bytes at all, alone or after a valid header line."""
    header = _seeds(target)[-1].split(b"\n")[0] + b"\n"
    body = data.draw(st.binary(max_size=2000), label="bytes")
    check_file(_upload(tmp_path, target, data.draw(st.sampled_from([b"", header]), label="header") + body))


@pytest.mark.parametrize("target", TARGETS)
@fuzz_settings(400)
@given(data=st.data())
def test_mutated_valid_files_are_read_or_refused_by_file(
    target: str, data: st.DataObject, tmp_path: Path
) -> None:
    check_file(_upload(tmp_path, target, data.draw(mutated(_seeds(target)), label="mutated")))


# ----------------------------------------------------------------------------- hostile cells

#: fragments that have broken readers, validators or outputs: markup, formula starts (ASCII and
#: full-width), right-to-left and combining marks, quotes and separators, numbers and dates at and
#: past their limits, blanks that are not quite blank
FRAGMENTS = (
    "<b>", "</b>", "<font color='red'>", "<para>", "&amp;", "&", "<", "=", "+", "-", "@", "\t", "\r",
    "\n", "\r\n", "'", '"', ",", ";", "\uff1d", "\uff0b", "\uff0d", "\uff20", "\u202e", "\u200f",
    "\u0301", "\u05d0", "\ufeff", "\u00a0", "\u2028", "\x00", "\x1b", "\ud800", "na", "N/A", "yes",
    "YES ", "0", "27", "28", "-1", "3.0", "1e3", "9" * 19, "2026-11-16", "2026-02-30", "45000",
    "1899-12-31", " ", "x" * 300,
)  # fmt: skip
_HOSTILE = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), min_size=1, max_size=5).map(
    "".join
)


@st.composite
def _hostile_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Valid rows of every case type with one to six cells (any column, answers too) made hostile."""
    case_types = draw(st.lists(st.sampled_from(CANONICAL_CASE_TYPES), min_size=1, max_size=3))
    rows: list[dict[str, Any]] = [build_row(ct, assessment_id=f"F-{i}") for i, ct in enumerate(case_types)]
    for _ in range(draw(st.integers(1, 6))):
        row = draw(st.sampled_from(rows))
        row[draw(st.sampled_from(sorted(row)))] = draw(_HOSTILE)
    return rows


def _as_csv(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """As a spreadsheet exports them: no inert prefixes, every value as typed."""
    buffer = io.StringIO(newline="")
    columns = list(dict.fromkeys(c for r in rows for c in r))
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8", "surrogatepass")


def _as_json(rows: Sequence[Mapping[str, Any]]) -> bytes:
    return json.dumps(list(rows)).encode("ascii")  # a lone surrogate is written as \\ud800


@pytest.mark.parametrize("target", TARGETS)
@fuzz_settings(300)
@given(rows=_hostile_rows())
def test_hostile_cells_are_accepted_exactly_or_refused_by_row(
    target: str, rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    data = _as_csv(rows) if target == "submission_csv" else _as_json(rows)
    valid = check_file(_upload(tmp_path, target, data))
    for got, sent in zip(valid or [], rows, strict=False):
        written = {k: typed_cell(v) if target == "submission_csv" else v for k, v in sent.items()}
        assert {k: v for k, v in got.raw.items() if v} == {k: v for k, v in written.items() if v}


# ----------------------------------------------------------------------------- QAM's own files round-trip

#: text a column may hold and keep: anything but control characters and lone surrogates
_TEXT = st.lists(
    st.one_of(
        st.sampled_from([f for f in FRAGMENTS if _storable(f) and len(f) < 100]),
        st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8),
    ),
    max_size=5,
).map("".join)


@st.composite
def _own_rows(draw: st.DrawFn) -> list[dict[str, str]]:
    """Valid rows whose refs, names and notes are any storable text (kept unique and within length)."""
    rows = []
    for i in range(draw(st.integers(1, 4))):
        row = build_row(draw(st.sampled_from(CANONICAL_CASE_TYPES)))
        for column, limit in COMMON_MAX_LENGTH.items():
            row[column] = f"{draw(_TEXT)[: limit - 8]}#{i}"
        row["notes"] = draw(_TEXT)
        rows.append(row)
    return rows


@fuzz_settings(200)
@given(rows=_own_rows())
def test_a_submission_csv_qam_writes_reads_back_to_the_same_rows(
    rows: list[dict[str, str]], tmp_path: Path
) -> None:
    path = write_submission_csv(tmp_path / "written.csv", rows)
    read = read_submission(path)
    assert [{k: v for k, v in r.values.items() if v} for r in read] == [
        {k: v for k, v in row.items() if v} for row in rows
    ]
    valid = check_file(path)
    assert valid is not None and len(valid) == len(rows)
    for got, sent in zip(valid, rows, strict=True):
        assert {c: getattr(got, c) for c in COMMON_MAX_LENGTH} == {
            c: sent[c].strip() for c in COMMON_MAX_LENGTH
        }
        assert got.answers.get("notes") == (sent["notes"] if sent["notes"].strip() else None)

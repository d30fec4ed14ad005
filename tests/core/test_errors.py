"""engine.core.errors: where a problem is, how many problems are shown, and each error's exit code."""

from __future__ import annotations

from engine.core.errors import (
    ConfigError,
    ExitCode,
    Location,
    Problem,
    ProblemsError,
    ReportError,
    StorageError,
    SubmissionError,
    UsageError,
    problems_summary,
)


def test_a_location_shows_only_what_it_knows() -> None:
    assert str(Location("f.csv", 3, "place")) == "f.csv:3:place"
    assert str(Location("f.csv", None, "place")) == "f.csv:place"
    assert str(Problem(Location(), "no rows")) == "no rows"
    assert str(Problem(Location("f.yaml", 2), "bad")) == "f.yaml:2: bad"


def test_an_error_says_where_what_and_what_next() -> None:
    error = ConfigError("cannot read file", hint="Check the path.", location=Location("force.yaml"))
    assert str(error) == "force.yaml: cannot read file\nCheck the path."


def test_many_problems_are_capped_with_a_count_of_the_rest() -> None:
    problems = [Problem(Location("f.csv", i), "bad") for i in range(1, 53)]
    text = str(ProblemsError("invalid", problems))
    assert text.splitlines()[0] == "invalid"
    assert text.splitlines()[-1] == "... and 2 more problems"
    assert len(text.splitlines()) == 1 + ProblemsError.max_shown + 1


def test_the_summary_counts_problems_and_files() -> None:
    problems = [
        Problem(Location("a.csv", 1), "x"),
        Problem(Location("b.csv", 1), "y"),
        Problem(Location(), "z"),
    ]
    assert problems_summary(problems, "file") == "3 problems in 2 files"
    assert problems_summary(problems[:1], "file") == "1 problem in 1 file"
    assert problems_summary([Problem(Location(), "z")], "file") == "1 problem"


def test_exit_codes() -> None:
    assert SubmissionError("x", []).exit_code == ExitCode.INVALID_INPUT == 3
    assert UsageError("x").exit_code == ExitCode.USAGE == 2
    assert StorageError("x").exit_code == ReportError("x").exit_code == ExitCode.STORAGE == 4

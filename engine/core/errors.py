"""Errors a user can fix, with where they happened.

    EngineError(message, hint=None, location=None)      base: printed as "Error: ..." by the CLI
     +-- UsageError          a malformed command-line value               exit 2
     +-- ConfigError         force file, settings                         exit 3
     +-- FormError           a QA form definition file is invalid         exit 3
     +-- SubmissionError     rows of a submission are invalid             exit 3
     +-- ExtractError        rows of a quantitative extract are invalid   exit 3
     +-- RulesetError        a ruleset file is invalid                    exit 3
     |    +-- ExpressionError  one condition in a ruleset is invalid      exit 3
     +-- StorageError        the database cannot be reached or used       exit 4
     +-- ReportError         a briefing or output file cannot be written  exit 4

Anything that is not an EngineError is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes: a contract users script against (docs/exit-codes.md)."""

    OK = 0
    #: the run succeeded and found exceptions, and --fail-on-exceptions was given
    EXCEPTIONS_FOUND = 1
    #: bad command line (typer/click's own code)
    USAGE = 2
    #: invalid input: submission, ruleset, form, extract, force file
    INVALID_INPUT = 3
    #: storage or report failure
    STORAGE = 4


@dataclass(frozen=True)
class Location:
    """Where a problem is: file, line or row (1-based), and field or column."""

    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = [p for p in (self.file, None if self.line is None else str(self.line), self.field) if p]
        return ":".join(parts)


@dataclass(frozen=True)
class Problem:
    """One problem found while validating; many are collected before raising."""

    location: Location
    message: str

    def __str__(self) -> str:
        where = str(self.location)
        return f"{where}: {self.message}" if where else self.message


class EngineError(Exception):
    """An error the user can fix. ``str(exc)`` says what, where and what to do next."""

    exit_code: ExitCode = ExitCode.INVALID_INPUT

    def __init__(self, message: str, *, hint: str | None = None, location: Location | None = None) -> None:
        self.message = message
        self.hint = hint
        self.location = location
        super().__init__(self._render())

    def _render(self) -> str:
        where = str(self.location) if self.location else ""
        text = f"{where}: {self.message}" if where else self.message
        return f"{text}\n{self.hint}" if self.hint else text


class ProblemsError(EngineError):
    """Several problems, reported at once (capped, with a count of the rest)."""

    #: how many problems are printed before "... and N more"
    max_shown: int = 50

    def __init__(
        self, summary: str, problems: Sequence[Problem], *, hint: str | None = None, omitted: int = 0
    ) -> None:
        #: the problems held (``omitted`` more were found but not kept: a bounded report of a huge file)
        self.problems = list(problems)
        shown = [str(p) for p in self.problems[: self.max_shown]]
        rest = len(self.problems) - len(shown) + omitted
        if rest > 0:
            shown.append(f"... and {rest} more problem{'s' if rest != 1 else ''}")
        super().__init__("\n".join([summary, *shown]), hint=hint)


class UsageError(EngineError):
    """A command-line value is malformed (e.g. a week that is not YYYY-Www)."""

    exit_code = ExitCode.USAGE


class ConfigError(EngineError):
    """A settings or force-configuration problem."""


class FormError(ProblemsError):
    """A QA form definition file is invalid."""


class SubmissionError(ProblemsError):
    """One or more submitted rows are invalid; nothing from the invocation was stored."""


class ExtractError(ProblemsError):
    """One or more rows of a quantitative extract are invalid; nothing was stored."""


class RulesetError(ProblemsError):
    """One or more ruleset files are invalid."""


class ExpressionError(EngineError):
    """A ruleset condition cannot be parsed or type-checked."""


class StorageError(EngineError):
    """The database cannot be reached, created or used."""

    exit_code = ExitCode.STORAGE


class ReportError(EngineError):
    """An output file (PDF, JSON, CSV) cannot be written."""

    exit_code = ExitCode.STORAGE


def problems_summary(problems: Iterable[Problem], noun: str) -> str:
    """'3 problems in 2 files' style headline for a ProblemsError."""
    items = list(problems)
    files = {p.location.file for p in items if p.location.file}
    n = len(items)
    head = f"{n} problem{'s' if n != 1 else ''}"
    if files:
        head += f" in {len(files)} {noun}{'s' if len(files) != 1 else ''}"
    return head

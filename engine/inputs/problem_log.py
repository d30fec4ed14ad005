"""The problems of a whole submission, in the order they are reported (file, then row, then the reader's
before the validator's), every one counted but only the first ``keep`` held: a million-row file with a
problem on every row is reported as its first problems and how many more, in bounded memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum

from engine.core.errors import Problem

#: how many problems a submission keeps to report (the command line prints the first 50 of them)
KEEP_PROBLEMS = 1000


class Phase(IntEnum):
    """Who found a problem: at one row, the reader's come before the file's columns', then the row's."""

    READER = 0
    COLUMNS = 1
    ROW = 2


class ProblemLog:
    """Problems of the files ``sources`` (in that order), sorted on the way out by file, row, phase
    and the order they were added. ``keep`` None holds every one."""

    def __init__(self, sources: Sequence[str], keep: int | None = KEEP_PROBLEMS) -> None:
        self._order = {source: i for i, source in enumerate(sources)}
        self._keep = keep
        self._held: list[tuple[tuple[int, int, int, int], Problem]] = []
        self._seq = 0
        #: every problem added, held or not
        self.count = 0
        #: the files with any problem
        self.files: set[str] = set()

    def add(self, problem: Problem, phase: Phase) -> None:
        file = problem.location.file or ""
        order = self._order.setdefault(file, len(self._order))
        self._held.append(((order, problem.location.line or 0, phase, self._seq), problem))
        self._seq += 1
        self.count += 1
        if file:
            self.files.add(file)
        if self._keep is not None and len(self._held) >= 2 * self._keep:
            self._held.sort(key=lambda held: held[0])
            del self._held[self._keep :]

    def __bool__(self) -> bool:
        return self.count > 0

    def problems(self) -> list[Problem]:
        """The first problems in order (all of them, or the first ``keep``)."""
        self._held.sort(key=lambda held: held[0])
        if self._keep is not None:
            del self._held[self._keep :]
        return [problem for _, problem in self._held]

    @property
    def omitted(self) -> int:
        """How many problems were found but not held."""
        return self.count - min(self.count, len(self._held) if self._keep is None else self._keep)

    def summary(self, noun: str = "file") -> str:
        """'3 problems in 2 files', counting every problem found."""
        n, files = self.count, len(self.files)
        head = f"{n:,} problem{'s' if n != 1 else ''}"
        return head + (f" in {files} {noun}{'s' if files != 1 else ''}" if files else "")

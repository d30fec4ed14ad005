"""The figure columns of one figures-extract row checked by its metric's kind (docs/extracts.md,
"Figures extract"): what each kind fills, what it leaves blank, and every problem at its column.
engine.inputs.figures reads the file and sends here each row it cannot take on its quick path."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable, Mapping
from operator import itemgetter
from typing import Protocol

from engine.core.periods import GrainPeriod
from engine.inputs.extract_definitions import MetricDefinition
from engine.inputs.text_input import CONTROL, control_problem

#: the figure columns; each kind fills some and leaves the others blank
FIGURE_COLUMNS: tuple[str, ...] = (
    "numerator",
    "denominator",
    "value",
    "count",
    "event_ref",
    "event_on",
    "detail",
)
#: the figure columns a kind may fill
KIND_COLUMNS: dict[str, tuple[str, ...]] = {
    "proportion": ("numerator", "denominator"),
    "survey": ("numerator", "denominator", "value", "count"),
    "time": ("value", "count"),
    "count": ("numerator", "denominator"),
    "event": ("event_ref", "event_on", "detail"),
}
MAX_TEAM, MAX_EVENT_REF, MAX_DETAIL = 200, 120, 500


class Sink(Protocol):
    """Where a row's problems go: the file's header (column -> index), the columns missing from it
    (column -> first row and metric needing it) and ``bad(line, column, message)``."""

    @property
    def header(self) -> Mapping[str, int]: ...

    @property
    def missing(self) -> dict[str, tuple[int, str]]: ...

    def bad(self, line: int, column: str | None, message: str) -> None: ...


class FigureChecks:
    """One row's figure columns checked by its metric's kind; ``failed`` after any problem."""

    def __init__(
        self, sink: Sink, v: Mapping[str, str], line: int, metric: MetricDefinition, period: GrainPeriod
    ) -> None:
        self.sink, self.v, self.line, self.metric = sink, v, line, metric
        self.failed = False
        self.numerator: float | None = None
        self.denominator: float | None = None
        self.value: float | None = None
        self.count: float | None = None
        self.event_ref: str | None = None
        self.event_on: dt.date | None = None
        self.detail: str | None = None
        kind = metric.kind
        allowed = KIND_COLUMNS[kind]
        for column in FIGURE_COLUMNS:
            if column not in allowed and v[column]:
                self.bad(
                    column,
                    f"must be blank for {_a(kind)} {kind} metric ({metric.id} uses {', '.join(allowed)})",
                )
        getattr(self, f"_{kind}")(period)

    def bad(self, column: str, message: str) -> None:
        self.failed = True
        self.sink.bad(self.line, column, message)

    def absent(self, column: str) -> bool:
        """True when the header has no such column (reported once, at the header)."""
        if column in self.sink.header:
            return False
        self.failed = True
        self.sink.missing.setdefault(column, (self.line, self.metric.id))
        return True

    def number(self, column: str, *, whole: bool, positive: bool = False) -> float | None:
        text = self.v[column]
        if not text:
            if not self.absent(column):
                self.bad(column, f"is blank: {_a(self.metric.kind)} {self.metric.kind} metric needs it")
            return None
        try:
            number = float(text)
        except ValueError:
            self.bad(column, f"'{text}' is not a number (write digits only, e.g. 1234 or 0.85)")
            return None
        if not math.isfinite(number):
            self.bad(column, f"'{text}' is not a finite number")
        elif number < 0:
            self.bad(column, f"{text} is negative")
        elif whole and not number.is_integer():
            self.bad(column, f"{text} is not a whole number")
        elif positive and number == 0:
            self.bad(column, "must be greater than 0")
        else:
            return number + 0.0  # -0.0 and 0.0 alike
        return None

    def _fraction(self) -> None:
        self.numerator = self.number("numerator", whole=True)
        self.denominator = self.number("denominator", whole=True, positive=True)
        if self.numerator is not None and self.denominator is not None and self.numerator > self.denominator:
            self.bad(
                "numerator",
                f"{self.v['numerator']} is more than the denominator {self.v['denominator']}",
            )

    def _proportion(self, _period: GrainPeriod) -> None:
        self._fraction()

    def _survey(self, _period: GrainPeriod) -> None:
        v = self.v
        if v["value"] or v["count"]:
            if v["numerator"] or v["denominator"]:
                self.bad("value", "give numerator and denominator, or value and count, not both")
                return
            self.value = self.number("value", whole=False)
            if self.value is not None and self.value > 1:
                self.bad("value", f"{v['value']} is not a share between 0 and 1")
            if not v["count"] and not self.absent("count"):
                self.bad("count", "is blank: a survey share needs its sample size (the respondents) in count")
                return
            self.count = self.number("count", whole=True, positive=True)
            return
        if not v["numerator"] and not v["denominator"]:
            if "value" not in self.sink.header and self.absent("numerator") | self.absent("denominator"):
                return
            self.bad(
                "numerator",
                "is blank: a survey figure needs numerator and denominator (respondents), or value and count",
            )
            return
        self._fraction()

    def _time(self, _period: GrainPeriod) -> None:
        self.value = self.number("value", whole=False)
        self.count = self.number("count", whole=True, positive=True)

    def _count(self, _period: GrainPeriod) -> None:
        self.numerator = self.number("numerator", whole=True)
        if self.metric.exposure == "none":
            if self.v["denominator"]:
                self.bad("denominator", f"must be blank: metric {self.metric.id} has no exposure")
        else:
            self.denominator = self.number("denominator", whole=False, positive=True)

    def _event(self, period: GrainPeriod) -> None:
        v = self.v
        for column, most in (("event_ref", MAX_EVENT_REF), ("detail", MAX_DETAIL)):
            text = v[column]
            if not text and self.absent(column):
                continue
            if not text:
                self.bad(column, "is blank: an event needs its reference, date and a short description")
            elif len(text) > most:
                self.bad(column, f"is {len(text)} characters; keep it to {most}")
            elif CONTROL.search(text):
                self.bad(column, str(control_problem(text)))
        self.event_ref, self.detail = v["event_ref"], v["detail"]
        on = v["event_on"]
        if not on and self.absent("event_on"):
            return
        if not on:
            self.bad("event_on", "is blank: an event needs the date it happened (YYYY-MM-DD)")
            return
        try:
            self.event_on = dt.date.fromisoformat(on) if len(on) == 10 else None
        except ValueError:
            pass
        if self.event_on is None:
            self.bad("event_on", f"'{on}' is not a date (use YYYY-MM-DD)")
        elif not period.start <= self.event_on <= period.end:
            self.bad("event_on", f"{on} is not inside the period {period.label}")

    def digest(self) -> str:
        return figure_hash(
            self.numerator, self.denominator, self.value, self.count, self.event_on, self.detail
        )


def figure_hash(
    numerator: float | None,
    denominator: float | None,
    value: float | None,
    count: float | None,
    event_on: dt.date | None,
    detail: str | None,
) -> str:
    """The content hash of a figure's columns, as FigureRow.content_hash has it: sha256 of their
    tuple's repr (numbers as floats, so 12 and 12.0 are the same figure)."""
    text = f"({numerator!r}, {denominator!r}, {value!r}, {count!r}, {event_on!r}, {detail!r})"  # the tuple's repr
    return _sha256(text)


_SHA256 = hashlib.sha256()


def _sha256(text: str) -> str:
    """sha256 of the text's UTF-8 bytes, in hex (from a copy of an empty hash: a third quicker than a
    new one, for a year's hundreds of thousands of figures)."""
    digest = _SHA256.copy()
    digest.update(text.encode())
    return digest.hexdigest()


def _a(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


#: numerator, denominator, value, count of a row the quick path took, and their content hash
Figures = tuple[float | None, float | None, float | None, float | None, str]


class QuickPath:
    """The figures of a row that is plainly valid, read without building the full checks (a year of
    daily figures is hundreds of thousands of rows); None for any other row, which FigureChecks then
    reads and reports. It takes exactly the rows FigureChecks takes without a problem, with the same
    values: whole numbers and finite numbers >= 0, in the columns of the metric's kind, the others
    empty. ``reader(metric)`` is the kind's reading function; events have none (FigureChecks reads them)."""

    def __init__(self, header: Mapping[str, int]) -> None:
        index = {c: header.get(c) for c in FIGURE_COLUMNS}
        self.num, self.den, self.val, self.cnt = (index[c] for c in FIGURE_COLUMNS[:4])
        self.blank = {
            kind: tuple(i for c, i in index.items() if i is not None and c not in allowed)
            for kind, allowed in KIND_COLUMNS.items()
        }

    def reader(self, metric: MetricDefinition) -> Callable[[list[str]], Figures | None] | None:
        """The function reading a row of ``metric``'s kind, or None when its rows need the full checks."""
        blank = self.blank[metric.kind]
        num, den, val, cnt = self.num, self.den, self.val, self.cnt
        others = itemgetter(*blank) if blank else None  # the cells the kind leaves blank, in one C call

        def empty(rec: list[str]) -> bool:
            return others is None or not "".join(others(rec))

        def fraction(rec: list[str]) -> Figures | None:
            if num is None or den is None or not empty(rec):
                return None
            try:
                n, d = float(rec[num]), float(rec[den])
            except ValueError:
                return None
            if 0 <= n <= d < math.inf and d and n.is_integer() and d.is_integer():
                n, d = n + 0.0, d + 0.0
                return (n, d, None, None, _sha256(f"({n!r}, {d!r}, None, None, None, None)"))
            return None

        def time(rec: list[str]) -> Figures | None:
            if val is None or cnt is None or not empty(rec):
                return None
            try:
                v, c = float(rec[val]), float(rec[cnt])
            except ValueError:
                return None
            if 0 <= v < math.inf and 0 < c < math.inf and c.is_integer():
                v, c = v + 0.0, c + 0.0
                return (None, None, v, c, _sha256(f"(None, None, {v!r}, {c!r}, None, None)"))
            return None

        def count(rec: list[str]) -> Figures | None:
            if num is None or not empty(rec):
                return None
            n = _whole(rec[num])
            if n is None:
                return None
            if metric.exposure == "none":
                if den is not None and rec[den]:
                    return None
                return (n, None, None, None, _sha256(f"({n!r}, None, None, None, None, None)"))
            d = _real(rec[den]) if den is not None else None
            return (n, d, None, None, _sha256(f"({n!r}, {d!r}, None, None, None, None)")) if d else None

        def survey(rec: list[str]) -> Figures | None:
            if (val is None or not rec[val]) and (cnt is None or not rec[cnt]):
                return fraction(rec)
            if (num is not None and rec[num]) or (den is not None and rec[den]) or not empty(rec):
                return None
            v = _real(rec[val]) if val is not None else None
            c = _whole(rec[cnt]) if cnt is not None else None
            if v is None or v > 1 or not c:
                return None
            return (None, None, v, c, _sha256(f"(None, None, {v!r}, {c!r}, None, None)"))

        readers = {"proportion": fraction, "time": time, "count": count, "survey": survey}
        return readers.get(metric.kind)


def _whole(text: str) -> float | None:
    """A whole number >= 0, else None."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number + 0.0 if number >= 0 and number.is_integer() else None


def _real(text: str) -> float | None:
    """A finite number >= 0, else None."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number + 0.0 if 0 <= number < math.inf else None

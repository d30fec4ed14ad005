"""The condition language's vocabulary: its operators and functions, and the calendar dates are
compared in (day numbers, England and Wales working days)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import holidays

# ----------------------------------------------------------------------------- dates and working days

_DAYS: dict[Any, tuple[int, int]] = {}


def day_numbers(value: Any) -> tuple[int, int]:
    """(day number, working-day count) of an ISO date string or ``datetime.date``, cached: dates repeat."""
    found = _DAYS.get(value)
    if found is None:
        ordinal = (date.fromisoformat(value) if isinstance(value, str) else value).toordinal()
        found = (ordinal, _CALENDAR.count(ordinal))
        if len(_DAYS) > 200_000:
            _DAYS.clear()
        _DAYS[value] = found
    return found


def to_ordinal(value: Any) -> int:
    """Day number of an ISO date string or a ``datetime.date``."""
    return day_numbers(value)[0]


class _WorkingDayCalendar:
    """Cumulative count of England and Wales working days, extended a span of years at a time."""

    #: years outside this range are almost certainly typing errors, not dates to count working days over
    FIRST_YEAR, LAST_YEAR = 1900, 2199

    def __init__(self) -> None:
        self._first = 0
        self._counts: list[int] = []
        self._years = (0, -1)

    def count(self, ordinal: int) -> int:
        """Working days from the start of the covered span up to and including ``ordinal``."""
        i = ordinal - self._first
        if 0 <= i < len(self._counts):
            return self._counts[i]
        self._cover(date.fromordinal(ordinal).year)
        return self._counts[ordinal - self._first]

    def _cover(self, year: int) -> None:
        if not self.FIRST_YEAR <= year <= self.LAST_YEAR:
            raise ValueError(
                f"working days are only counted for {self.FIRST_YEAR}-{self.LAST_YEAR}, not {year}"
            )
        lo, hi = self._years
        lo, hi = (year - 5, year + 5) if hi < lo else (min(lo, year), max(hi, year))
        # holidays loads its countries lazily, so mypy cannot see UK
        bank = holidays.UK(subdiv="ENG", years=range(lo, hi + 1))  # type: ignore[attr-defined]
        first = date(lo, 1, 1).toordinal()
        last = date(hi, 12, 31).toordinal()
        counts, n = [], 0
        for o in range(first, last + 1):
            d = date.fromordinal(o)
            if d.weekday() < 5 and d not in bank:
                n += 1
            counts.append(n)
        self._first, self._counts, self._years = first, counts, (lo, hi)


_CALENDAR = _WorkingDayCalendar()


def working_days_between(start: str | date, end: str | date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative if ``end`` is earlier).

    >>> working_days_between("2026-12-24", "2026-12-30")   # Christmas, a weekend, Boxing Day observed
    2
    """
    return day_numbers(end)[1] - day_numbers(start)[1]


# ----------------------------------------------------------------------------- the operator table


@dataclass(frozen=True)
class Operator:
    """One comparison: how Python evaluates it, how durable-rules spells it, how people read it."""

    key: str
    symbol: str
    accepts: str
    evaluate: Callable[[Any, Any], bool]
    durable: Callable[[str, Any], dict[str, Any]]
    #: the operator that holds exactly when this one does not (both operands present)
    negation: str
    #: the operator to use when the operands swap sides
    flipped: str
    #: phrase between two numbers ("is at least"), between two dates ("on or after"), and for deadlines
    number_phrase: str
    date_phrase: str
    span_phrase: str


def _durable_in(key: str, values: Any) -> dict[str, Any]:
    if not values:
        raise ValueError(f"'in' needs at least one value for {key}")
    if len(values) == 1:
        return {key: values[0]}
    return {"$or": [{key: v} for v in values]}


def _durable_not_in(key: str, values: Any) -> dict[str, Any]:
    if len(values) == 1:
        return {"$neq": {key: values[0]}}
    return {"$and": [{"$neq": {key: v}} for v in values]}


def _dop(name: str) -> Callable[[str, Any], dict[str, Any]]:
    return lambda key, value: {name: {key: value}}


OPERATORS: dict[str, Operator] = {
    op.key: op
    for op in (
        Operator("eq", "==", "answer, text, number, date", operator.eq, lambda k, v: {k: v}, "ne", "eq",
                 "is", "on the same day as", "exactly"),
        Operator("ne", "!=", "answer, text, number, date", operator.ne, _dop("$neq"), "eq", "ne",
                 "is not", "not on the same day as", "not exactly"),
        Operator("lt", "<", "number, date", operator.lt, _dop("$lt"), "ge", "gt",
                 "is less than", "before", "less than"),
        Operator("le", "<=", "number, date", operator.le, _dop("$lte"), "gt", "ge",
                 "is at most", "on or before", "within"),
        Operator("gt", ">", "number, date", operator.gt, _dop("$gt"), "le", "lt",
                 "is more than", "after", "more than"),
        Operator("ge", ">=", "number, date", operator.ge, _dop("$gte"), "lt", "le",
                 "is at least", "on or after", "at least"),
        Operator("in", "in", "answer, text, number; a tuple of literals", lambda a, b: a in b, _durable_in,
                 "nin", "in", "is", "on", ""),
        Operator("nin", "not in", "answer, text, number; a tuple of literals", lambda a, b: a not in b,
                 _durable_not_in, "in", "nin", "is not", "not on", "not"),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Function:
    """A function a condition may call."""

    name: str
    params: tuple[str, ...]
    returns: str  # "condition", "number" or "deadline"
    meaning: str


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("blank", ("question",), "condition", "the question was not answered"),
        Function("answered", ("question",), "condition", "answered, and not 'na'"),
        Function("days_between", ("date", "date"), "number", "calendar days from the first date to the second"),
        Function("working_days_between", ("date", "date"), "number",
                 "England and Wales working days after the first date up to and including the second"),
        Function("days_after", ("date", "number"), "deadline", "a deadline n calendar days after a date"),
        Function("working_days_after", ("date", "number"), "deadline", "a deadline n working days after a date"),
    )
}  # fmt: skip

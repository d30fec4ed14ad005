"""The tidy figures extract: reading and validating one CSV of measured figures (docs/extracts.md,
"Figures extract"). Every problem of the file is collected and raised at once as file:row:column;
no row is returned unless the whole file is valid.

One row is one figure of a metric that an extract definition declares (engine.inputs.extract_definitions),
for one place (and team) and period. Which columns a row fills depends on the metric's kind:

========== ==================================================================================
proportion ``numerator`` and ``denominator``: whole numbers, 0 <= numerator <= denominator, denominator > 0
survey     ``numerator`` and ``denominator`` (respondents), or ``value`` (a share 0-1) and ``count``
           (the sample size)
time       ``value`` (in the metric's unit) and ``count`` (how many had that value: 1 for one raw
           value, n for a histogram bin); the rows of a place, team and period are pooled
count      ``numerator`` (the count) and ``denominator`` (the exposure), no denominator when the
           metric's exposure is none
event      ``event_ref``, ``event_on`` (a date inside the period) and ``detail``
========== ==================================================================================

The other figure columns of a row stay blank.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path

from engine.core.errors import ExtractError, Location, Problem, problems_summary
from engine.core.files import input_file_problem
from engine.core.periods import GrainPeriod, parse_grain_period
from engine.core.shape import suggest
from engine.inputs.extract_definitions import ExtractDefinitions, MetricDefinition
from engine.inputs.text_input import CONTROL, control_problem, decode_utf8

#: the columns every row has
KEY_COLUMNS: tuple[str, ...] = ("item", "metric", "place", "team", "period")
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
COLUMNS: tuple[str, ...] = KEY_COLUMNS + FIGURE_COLUMNS
#: the columns a header must have (a missing team column means no team)
REQUIRED_COLUMNS: tuple[str, ...] = ("item", "metric", "place", "period")
#: the figure columns a kind needs in the header, and what its rows may fill
KIND_COLUMNS: dict[str, tuple[str, ...]] = {
    "proportion": ("numerator", "denominator"),
    "survey": ("numerator", "denominator", "value", "count"),
    "time": ("value", "count"),
    "count": ("numerator", "denominator"),
    "event": ("event_ref", "event_on", "detail"),
}
#: the largest figures extract read (a year of daily figures of every metric is ~100 MB)
MAX_FIGURES_BYTES = 1024 * 2**20
MAX_TEAM, MAX_EVENT_REF, MAX_DETAIL = 200, 120, 500


@dataclass(frozen=True, slots=True)
class FigureRow:
    """One valid figure as it will be stored. A time metric's rows with the same place, team, period
    and value are one row here, their counts added; ``line`` is the first CSV row it came from."""

    extract: str
    item: str
    metric: str
    kind: str
    place: str
    team: str
    period: str
    period_start: dt.date
    period_end: dt.date
    numerator: float | None
    denominator: float | None
    value: float | None
    count: float | None
    event_ref: str | None
    event_on: dt.date | None
    detail: str | None
    #: sha256 of the figure columns (not the key): the same figures loaded again are unchanged
    content_hash: str
    line: int

    @property
    def key(self) -> tuple[str, ...]:
        """What identifies the figure: metric, place, team, period, and an event's ref (a time
        metric's rows of one key are one pooled figure)."""
        return (self.metric, self.place, self.team, self.period, self.event_ref or "")


@dataclass(frozen=True)
class FiguresFile:
    """A valid figures extract: its rows, in file order, and the sha256 of its bytes."""

    path: str
    sha256: str
    rows: tuple[FigureRow, ...]


def read_figures(
    path: Path, definitions: ExtractDefinitions, place_codes: Collection[str], items: Collection[str]
) -> FiguresFile:
    """Read and validate a figures extract against the declared metrics, the force's places and
    the catalogue's items; ExtractError lists every problem (file:row:column) and nothing is returned.

    Example: ``read_figures(Path("hr-2026-10.csv"), load_extract_definitions(folder), {"DLW"}, {"M1"})``
    """
    name = str(path)
    unsafe = input_file_problem(path, MAX_FIGURES_BYTES, "figures extract")
    if unsafe is not None:
        raise ExtractError("The figures extract cannot be read", [Problem(Location(name), unsafe)])
    try:
        data = path.read_bytes()
    except OSError as exc:
        problem = Problem(Location(name), f"cannot read the file: {exc.strerror or exc}")
        raise ExtractError("The figures extract cannot be read", [problem]) from None
    text = decode_utf8(data, name, delimiter=",")
    if isinstance(text, Problem):  # UTF-8 only, as every extract
        raise ExtractError(problems_summary([text], "file") + "; nothing was loaded", [text])
    reader = _Reader(name, definitions, place_codes, items)
    rows = reader.read(text)
    if reader.problems:
        problems = reader.problems
        raise ExtractError(problems_summary(problems, "file") + "; nothing was loaded", problems)
    return FiguresFile(name, hashlib.sha256(data).hexdigest(), tuple(rows))


class _Reader:
    """One file's validation: the rows so far, the problems so far and the caches rows share."""

    def __init__(
        self, name: str, definitions: ExtractDefinitions, places: Collection[str], items: Collection[str]
    ) -> None:
        self.name = name
        self.metrics = definitions.metrics
        self.places = frozenset(places)
        self.items = frozenset(items)
        self.problems: list[Problem] = []
        self.periods: dict[str, GrainPeriod | str] = {}
        self.header: dict[str, int] = {}
        #: missing column -> the first row that needs it (reported once, at the header)
        self.missing: dict[str, tuple[int, str]] = {}
        #: key -> (content hash, first row) of the rows kept; time: (metric, place, team, period, value)
        self.seen: dict[tuple[object, ...], tuple[str, int]] = {}

    def bad(self, line: int, column: str | None, message: str) -> None:
        self.problems.append(Problem(Location(self.name, line, column), message))

    def read(self, text: str) -> list[FigureRow]:
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = next(reader)
        except StopIteration:
            self.bad(1, None, f"the file is empty: expected a header row ({', '.join(COLUMNS)})")
            return []
        except csv.Error as exc:
            self.bad(1, None, f"cannot read the header row: {exc}")
            return []
        names = [h.strip() for h in header]
        self.header = {n: i for i, n in reversed(list(enumerate(names)))}
        absent = [c for c in REQUIRED_COLUMNS if c not in self.header]
        if absent:
            self.bad(
                1,
                None,
                f"missing column{'s' if len(absent) > 1 else ''} {', '.join(absent)} "
                f"(a figures extract has {', '.join(COLUMNS)}; team and the figure columns a "
                "file's metrics do not use may be left out)",
            )
            return []
        rows: list[FigureRow] = []
        width = len(header)
        columns = [(c, self.header.get(c)) for c in COLUMNS]
        try:
            for record in reader:
                line = reader.line_num
                if len(record) != width:
                    if not any(v.strip() for v in record):
                        continue  # a blank line
                    self.bad(line, None, f"{len(record)} fields, but the header has {width}")
                    continue
                values = {c: (record[i].strip() if i is not None else "") for c, i in columns}
                row = self.row(values, line)
                if row is not None:
                    rows.append(row)
        except csv.Error as exc:
            self.bad(reader.line_num, None, f"cannot read the row: {exc}")
        for column, (line, metric) in self.missing.items():
            self.bad(1, None, f"missing column {column}, which metric {metric} needs (first at row {line})")
        return _pool_times(rows)

    def row(self, v: dict[str, str], line: int) -> FigureRow | None:
        before = len(self.problems)
        metric = self.metric(v, line)
        place = v["place"]
        if place not in self.places:
            self.bad(line, "place", f"unknown place '{place}'{suggest(place, self.places)}")
        team = v["team"]
        if len(team) > MAX_TEAM:
            self.bad(line, "team", f"is longer than {MAX_TEAM} characters")
        elif CONTROL.search(team):
            self.bad(line, "team", str(control_problem(team)))
        period = self.period(v["period"], metric, line)
        if metric is None or period is None:
            return None
        figures = _Figures(self, v, line, metric, period)
        if len(self.problems) > before or figures.failed:
            return None
        row = FigureRow(
            metric.extract, metric.item, metric.id, metric.kind, place, team, period.label,
            period.start, period.end, figures.numerator, figures.denominator, figures.value,
            figures.count, figures.event_ref, figures.event_on, figures.detail, figures.digest(), line,
        )  # fmt: skip
        return self.first_of_key(row)

    def metric(self, v: dict[str, str], line: int) -> MetricDefinition | None:
        item, mid = v["item"], v["metric"]
        if item not in self.items:
            self.bad(line, "item", f"unknown item '{item}'{suggest(item, self.items)}")
        metric = self.metrics.get(mid)
        if metric is None:
            known = [m for m, d in self.metrics.items() if d.source == "figures"]
            self.bad(
                line, "metric", f"unknown metric '{mid}'{suggest(mid, known, list_known=len(known) < 30)}"
            )
            return None
        if metric.source != "figures":
            self.bad(
                line,
                "metric",
                f"metric {mid} is computed by QAM from the {metric.source} extract (qam extracts load "
                f"{metric.source}), not loaded as a figure",
            )
            return None
        if item in self.items and metric.item != item:
            self.bad(line, "item", f"metric {mid} is a metric of item {metric.item}, not {item}")
            return None
        return metric

    def period(self, label: str, metric: MetricDefinition | None, line: int) -> GrainPeriod | None:
        parsed = self.periods.get(label)
        if parsed is None:
            try:
                parsed = parse_grain_period(label)
            except ValueError as exc:
                parsed = str(exc)
            self.periods[label] = parsed
        if isinstance(parsed, str):
            self.bad(line, "period", parsed)
            return None
        if metric is not None and parsed.grain not in metric.periods:
            declared = " or ".join(metric.periods)
            self.bad(
                line,
                "period",
                f"'{label}' is a {parsed.grain}, but metric {metric.id} is declared for {declared} "
                f"periods only ({metric.path}:{metric.line})",
            )
            return None
        return parsed

    def first_of_key(self, row: FigureRow) -> FigureRow | None:
        """The row, unless it repeats a key of the file: with the same figures it is dropped, with
        different ones it is a problem. A time metric's rows pool, so only the same value repeats."""
        key: tuple[object, ...] = row.key
        if row.kind == "time":
            return row
        first = self.seen.get(key)
        if first is None:
            self.seen[key] = (row.content_hash, row.line)
            return row
        if first[0] != row.content_hash:
            self.bad(
                row.line,
                None,
                f"repeats the figure of row {first[1]} (metric {row.metric}, place {row.place}"
                f"{f', team {row.team}' if row.team else ''}, period {row.period}"
                f"{f', event {row.event_ref}' if row.event_ref else ''}) with different figures",
            )
        return None


class _Figures:
    """One row's figure columns checked by its metric's kind; ``failed`` after any problem."""

    def __init__(
        self, reader: _Reader, v: dict[str, str], line: int, metric: MetricDefinition, period: GrainPeriod
    ) -> None:
        self.reader, self.v, self.line, self.metric = reader, v, line, metric
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
        self.reader.bad(self.line, column, message)

    def absent(self, column: str) -> bool:
        """True when the header has no such column (reported once, at the header)."""
        if column in self.reader.header:
            return False
        self.failed = True
        self.reader.missing.setdefault(column, (self.line, self.metric.id))
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
            if "value" not in self.reader.header and self.absent("numerator") | self.absent("denominator"):
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
    """The content hash of a figure's columns, as FigureRow.content_hash has it."""
    parts = (numerator, denominator, value, count, event_on, detail)
    joined = "\x1f".join("" if p is None else repr(p) for p in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def _pool_times(rows: list[FigureRow]) -> list[FigureRow]:
    """A time metric's rows of one key and value become one row, their counts added."""
    firsts: dict[tuple[object, ...], int] = {}
    out: list[FigureRow] = []
    for row in rows:
        if row.kind != "time":
            out.append(row)
            continue
        bin_key = (*row.key, row.value)
        at = firsts.get(bin_key)
        if at is None:
            firsts[bin_key] = len(out)
            out.append(row)
            continue
        first = out[at]
        count = (first.count or 0) + (row.count or 0)
        digest = figure_hash(None, None, first.value, count, None, None)
        out[at] = replace(first, count=count, content_hash=digest)
    return out


def _a(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"

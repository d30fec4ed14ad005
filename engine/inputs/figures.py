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
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from operator import attrgetter
from pathlib import Path

from engine.core.errors import ExtractError, Location, Problem, problems_summary
from engine.core.files import input_file_problem
from engine.core.memory import paused_gc
from engine.core.periods import GrainPeriod, parse_grain_period
from engine.core.shape import suggest
from engine.inputs.extract_definitions import ExtractDefinitions, MetricDefinition
from engine.inputs.figure_checks import (
    FIGURE_COLUMNS,
    MAX_TEAM,
    FigureChecks,
    Figures,
    QuickPath,
    figure_hash,
)
from engine.inputs.text_input import CONTROL, control_problem, decode_utf8

#: the columns every row has
KEY_COLUMNS: tuple[str, ...] = ("item", "metric", "place", "team", "period")
COLUMNS: tuple[str, ...] = KEY_COLUMNS + FIGURE_COLUMNS
#: the columns a header must have (a missing team column means no team)
REQUIRED_COLUMNS: tuple[str, ...] = ("item", "metric", "place", "period")
_METRIC, _KIND = attrgetter("metric"), attrgetter("kind")
#: the largest figures extract read (a year of daily figures of every metric is ~100 MB)
MAX_FIGURES_BYTES = 1024 * 2**20


@dataclass(slots=True)
class FigureRow:
    """One valid figure as it will be stored (read-only by convention: not frozen, which makes a
    year's rows 5x slower to build). A time metric's rows with the same place, team, period and value
    are one row here, their counts added; ``line`` is the first CSV row it came from."""

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
    #: what identifies the figure: metric, place, team, period, and an event's ref ("" for the other
    #: kinds; a time metric's rows of one key are one pooled figure)
    key: tuple[str, ...]
    #: period_start and period_end as ISO text, as SQLite stores them: the driver binds text as it is,
    #: a date through an adapter call (a third of a SQLite insert's time)
    start_text: str
    end_text: str


@dataclass(frozen=True)
class FiguresFile:
    """A valid figures extract: its rows, in file order, and the sha256 of its bytes.
    ``multi_grain``: its metrics (not events) declared for more than one grain, whose figures of a
    place and team for overlapping periods (a week and its month) must not both be current."""

    path: str
    sha256: str
    rows: tuple[FigureRow, ...]
    multi_grain: frozenset[str] = frozenset()


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
    with (
        paused_gc()
    ):  # hundreds of thousands of rows hold no cycles: a third of the time went on rescanning them
        rows = reader.read(text)
    if reader.problems:
        problems = reader.problems
        raise ExtractError(problems_summary(problems, "file") + "; nothing was loaded", problems)
    return FiguresFile(name, hashlib.sha256(data).hexdigest(), tuple(rows), reader.multi_grain)


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
        #: key -> (content hash, first row) of the rows kept (not a time metric's: its rows pool)
        self.seen: dict[tuple[object, ...], FigureRow] = {}
        #: the quick path's look-ups (set by read): (item, metric) of every loadable metric with its
        #: kind's reading function, (metric, period) and teams met before that were fine
        self.quick_metrics: dict[
            tuple[str, str], tuple[MetricDefinition, Callable[[list[str]], Figures | None]]
        ] = {}
        self.quick_periods: dict[tuple[str, str], tuple[GrainPeriod, str, str, str]] = {}
        self.teams: dict[str, str] = {"": ""}
        #: the file's metrics (not events) declared for more than one grain (set by read)
        self.multi_grain: frozenset[str] = frozenset()

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
        quick = QuickPath(self.header)
        for m in self.metrics.values():
            read_kind = quick.reader(m)
            if m.source == "figures" and m.item in self.items and read_kind is not None:
                self.quick_metrics[(m.item, m.id)] = (m, read_kind)
        quick_row = self.quick_reader(tuple(self.header.get(c) for c in KEY_COLUMNS))
        try:
            for record in reader:
                line = reader.line_num
                if len(record) != width:
                    if not any(v.strip() for v in record):
                        continue  # a blank line
                    self.bad(line, None, f"{len(record)} fields, but the header has {width}")
                    continue
                row = quick_row(record, line)  # a first of its key
                if row is None:  # anything out of the ordinary: the full checks say what
                    values = {c: (record[i].strip() if i is not None else "") for c, i in columns}
                    row = self.row(values, line)
                    if row is not None:
                        row = self.first_of_key(row)
                if row is not None:
                    rows.append(row)
        except csv.Error as exc:
            self.bad(reader.line_num, None, f"cannot read the row: {exc}")
        for column, (line, metric) in self.missing.items():
            self.bad(1, None, f"missing column {column}, which metric {metric} needs (first at row {line})")
        self.multi_grain = frozenset(
            m
            for m in set(map(_METRIC, rows))
            if len(self.metrics[m].periods) > 1 and self.metrics[m].kind != "event"
        )
        self.overlaps(rows)
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
        figures = FigureChecks(self, v, line, metric, period)
        if len(self.problems) > before or figures.failed:
            return None
        row = FigureRow(
            metric.extract, metric.item, metric.id, metric.kind, place, team, period.label,
            period.start, period.end, figures.numerator, figures.denominator, figures.value,
            figures.count, figures.event_ref, figures.event_on, figures.detail, figures.digest(), line,
            (metric.id, place, team, period.label, figures.event_ref or ""), period.start.isoformat(),
            period.end.isoformat(),
        )  # fmt: skip
        return row

    def quick_reader(self, keys: tuple[int | None, ...]) -> Callable[[list[str], int], FigureRow | None]:
        """The function that gives the row of a plainly valid record, or None for the full checks
        (FigureChecks). Cells are looked up as they are: one with spaces around it is not found,
        and the full checks trim it. Everything it reads is bound to it (hundreds of thousands of calls)."""
        i_item, i_metric, i_place, i_team, i_period = keys
        assert i_item is not None and i_metric is not None and i_place is not None and i_period is not None
        metric_of, period_of = self.quick_metrics.get, self.quick_periods.get
        # the names a row repeats (place, team, period) kept once: the rows hold the first of each,
        # not a string a row (a year's rows are a third smaller)
        place_of, team_of = {p: p for p in self.places}.get, self.teams.get
        teams, parsed, periods, seen = self.teams, self.parsed, self.quick_periods, self.seen

        def quick(rec: list[str], line: int) -> FigureRow | None:
            found = metric_of((rec[i_item], rec[i_metric]))
            place = place_of(rec[i_place])
            if found is None or place is None:
                return None
            metric, read_kind = found
            cell = rec[i_team] if i_team is not None else ""
            team = team_of(cell)
            if team is None:
                if cell != cell.strip() or len(cell) > MAX_TEAM or CONTROL.search(cell):
                    return None
                team = teams[cell] = cell
            cached = period_of((metric.id, rec[i_period]))
            if cached is None:
                label = rec[i_period]
                got = parsed(label)
                if isinstance(got, str) or got.grain not in metric.periods:
                    return None
                cached = periods[(metric.id, label)] = (
                    got,
                    label,
                    got.start.isoformat(),
                    got.end.isoformat(),
                )
            period, label, start, end = cached
            figures = read_kind(rec)
            if figures is None:
                return None
            key = (metric.id, place, team, label, "")
            n, d, v, c, digest = figures
            once = metric.kind != "time"  # a time metric's rows pool; another's key is once a file
            if once and key in seen:
                return None  # the full checks say whether it repeats or contradicts the first
            row = FigureRow(
                metric.extract, metric.item, metric.id, metric.kind, place, team, label, period.start,
                period.end, n, d, v, c, None, None, None, digest, line, key, start, end,
            )  # fmt: skip
            if once:
                seen[key] = row
            return row

        return quick

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

    def parsed(self, label: str) -> GrainPeriod | str:
        """A period label parsed, or what is wrong with it (each label parsed once)."""
        parsed = self.periods.get(label)
        if parsed is None:
            try:
                parsed = parse_grain_period(label)
            except ValueError as exc:
                parsed = str(exc)
            self.periods[label] = parsed
        return parsed

    def period(self, label: str, metric: MetricDefinition | None, line: int) -> GrainPeriod | None:
        parsed = self.parsed(label)
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

    def overlaps(self, rows: list[FigureRow]) -> None:
        """A problem for each row whose period overlaps another period of its metric, place and
        team in the file (a week and its month: only a metric declared for several grains has any)."""
        spans: dict[tuple[str, str, str], dict[str, FigureRow]] = {}
        multi = self.multi_grain
        for row in rows if multi else ():
            if row.metric in multi:
                spans.setdefault((row.metric, row.place, row.team), {}).setdefault(row.period, row)
        for periods in spans.values():
            ordered = sorted(periods.values(), key=lambda r: (r.period_start, r.period_end))
            reach = ordered[0]  # of the periods so far, the one that ends last
            for after in ordered[1:]:
                if after.period_start > reach.period_end:
                    reach = after
                    continue
                first, later = sorted((reach, after), key=lambda r: r.line)
                if after.period_end > reach.period_end:
                    reach = after
                self.bad(
                    later.line,
                    "period",
                    f"{later.period} overlaps {first.period} of row {first.line} (metric {later.metric}, "
                    f"place {later.place}{f', team {later.team}' if later.team else ''}): a metric's "
                    "figures for one place and team are for periods that do not overlap",
                )

    def first_of_key(self, row: FigureRow) -> FigureRow | None:
        """The row, unless it repeats a key of the file: with the same figures it is dropped, with
        different ones it is a problem. A time metric's rows pool, so only the same value repeats."""
        key: tuple[object, ...] = row.key
        if row.kind == "time":
            return row
        first = self.seen.get(key)
        if first is None:
            self.seen[key] = row
            return row
        if first.content_hash != row.content_hash:
            self.bad(
                row.line,
                None,
                f"repeats the figure of row {first.line} (metric {row.metric}, place {row.place}"
                f"{f', team {row.team}' if row.team else ''}, period {row.period}"
                f"{f', event {row.event_ref}' if row.event_ref else ''}) with different figures",
            )
        return None


def _pool_times(rows: list[FigureRow]) -> list[FigureRow]:
    """A time metric's rows of one key and value become one row (the first), their counts added."""
    kinds = list(map(_KIND, rows))
    if "time" not in kinds:
        return rows
    firsts: dict[tuple[object, ...], int] = {}
    pooled: dict[int, FigureRow] = {}  # a first row's index: the row with the counts added so far
    dropped: set[int] = set()  # the rows pooled into a first
    for i, kind in enumerate(kinds):
        if kind != "time":
            continue
        row = rows[i]
        bin_key = (*row.key, row.value)
        at = firsts.get(bin_key)
        if at is None:
            firsts[bin_key] = i
            continue
        first = pooled.get(at, rows[at])
        count = (first.count or 0) + (row.count or 0)
        digest = figure_hash(None, None, first.value, count, None, None)
        pooled[at] = replace(first, count=count, content_hash=digest)
        dropped.add(i)
    if not dropped:
        return rows
    return [pooled.get(i, row) for i, row in enumerate(rows) if i not in dropped]


def _a(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"

"""The Learning Review calendar (reviews.yaml in the force's configuration folder; docs/reviews.md):
each quarter's theme, a priority of the catalogue or a list of its items, with a title and the date
of the review meeting. Read and shape-checked here, the themes checked against the catalogue in use
by :func:`check_themes`, every problem as ``file:line: message``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import ConfigError, Location, Problem, ProblemsError, problems_summary
from engine.core.periods import parse_grain_period
from engine.core.shape import suggest
from engine.core.yamlio import LineDict, LineList, load_yaml

_KEYS = {"format", "version", "quarters"}
_THEME_KEYS = {"title", "priority", "items", "meeting"}
_QUARTER = re.compile(r"^\d{4}-Q[1-4]$")


class ReviewsError(ProblemsError):
    """reviews.yaml is invalid."""


@dataclass(frozen=True)
class Theme:
    """One quarter's Learning Review: its label (2026-Q3), days, title, and either the catalogue
    ``priority`` it covers or the ``items`` named; the review meeting's date when set."""

    quarter: str
    start: dt.date
    end: dt.date
    title: str
    priority: int | None
    items: tuple[str, ...]
    meeting: dt.date | None
    line: int
    #: the line of each item named (for messages)
    item_lines: tuple[int, ...] = ()

    def item_ids(self, of_priority: Callable[[int], tuple[str, ...]]) -> tuple[str, ...]:
        """The theme's items: those named, or the priority's in catalogue order."""
        return self.items if self.priority is None else of_priority(self.priority)


@dataclass(frozen=True)
class Calendar:
    """The annual calendar of Learning Review themes, by quarter label."""

    themes: Mapping[str, Theme]
    path: str
    version: str = ""

    def theme(self, quarter: str) -> Theme:
        """The quarter's theme; ConfigError (exit 3) saying which quarters have one when it has none."""
        if not _QUARTER.match(quarter):
            raise ConfigError(f"'{quarter}' is not a quarter: write it as YYYY-Qn, e.g. 2026-Q3")
        if quarter not in self.themes:
            known = ", ".join(sorted(self.themes)) or "none"
            raise ConfigError(
                f"{self.path}: no Learning Review theme for {quarter} (the calendar has {known})",
                hint="Add the quarter's theme to reviews.yaml (docs/reviews.md).",
            )
        return self.themes[quarter]


def load_calendar(path: Path) -> Calendar:
    """Read and shape-check reviews.yaml; ReviewsError lists every problem at once."""
    if not path.is_file():
        raise ConfigError(
            f"Learning Review calendar {path} does not exist",
            hint="Copy the bundled reviews.yaml into the force's configuration folder (docs/reviews.md).",
        )
    data = load_yaml(path)
    src, problems = str(path), []

    def bad(line: int | None, message: str) -> None:
        problems.append(Problem(Location(src, line), message))

    if not isinstance(data, LineDict):
        raise ReviewsError(
            f"invalid Learning Review calendar: {path} is not a mapping",
            [Problem(Location(src, 1), "expected a mapping with format, version and quarters")],
        )
    for key in data:
        if key not in _KEYS:
            bad(data.line_of(key), f"unknown key '{key}'{suggest(str(key), _KEYS)}")
    if data.get("format") != 1:
        bad(data.line_of("format") or 1, "'format' must be 1")
    body = data.get("quarters")
    themes: dict[str, Theme] = {}
    if not isinstance(body, LineDict) or not body:
        bad(data.line_of("quarters") or 1, "'quarters' must map each quarter (e.g. 2026-Q3) to its theme")
        body = LineDict()
    for label, spec in body.items():
        theme = _theme(str(label), spec, body.line_of(label), bad)
        if theme is not None:
            themes[theme.quarter] = theme
    if problems:
        raise ReviewsError(
            f"invalid Learning Review calendar: {problems_summary(problems, 'file')}", problems
        )
    return Calendar(dict(sorted(themes.items())), src, str(data.get("version", "")))


def _theme(label: str, spec: object, line: int, bad: Callable[[int | None, str], None]) -> Theme | None:
    if not _QUARTER.match(label):
        bad(line, f"'{label}' is not a quarter: write it as YYYY-Qn, e.g. 2026-Q3")
        return None
    if not isinstance(spec, LineDict):
        bad(line, f"{label}: expected a mapping with a title and a priority or items")
        return None
    ok = True
    for key in spec:
        if key not in _THEME_KEYS:
            bad(spec.line_of(key), f"{label}: unknown key '{key}'{suggest(str(key), _THEME_KEYS)}")
            ok = False
    title = spec.get("title")
    if not isinstance(title, str) or not title.strip():
        bad(spec.line_of("title") or line, f"{label}: 'title' must be the theme's title (text)")
        ok = False
    priority, items = spec.get("priority"), spec.get("items")
    if (priority is None) == (items is None):
        bad(line, f"{label}: give the theme as 'priority: N' or 'items: [..]', one of the two")
        return None
    if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)):
        bad(spec.line_of("priority"), f"{label}: 'priority' must be a whole number, got {priority!r}")
        ok = False
    names: list[str] = []
    lines: list[int] = []
    if items is not None:
        if not isinstance(items, LineList) or not items:
            bad(spec.line_of("items"), f"{label}: 'items' must list catalogue items, e.g. [D7, M8]")
            ok = False
        else:
            for i, value in enumerate(items):
                if not isinstance(value, str) or not value.strip():
                    bad(items.line_of(i), f"{label}: an item is a catalogue id such as M8, got {value!r}")
                    ok = False
                elif value in names:
                    bad(items.line_of(i), f"{label}: item '{value}' is listed twice")
                    ok = False
                else:
                    names.append(value)
                    lines.append(items.line_of(i))
    meeting, good = _meeting(spec.get("meeting"))
    if not good:
        bad(spec.line_of("meeting"), f"{label}: 'meeting' must be a date YYYY-MM-DD")
        ok = False
    if not ok:
        return None
    days = parse_grain_period(label)
    return Theme(
        label,
        days.start,
        days.end,
        str(title).strip(),
        priority,
        tuple(names),
        meeting,
        line,
        tuple(lines),
    )


def _meeting(value: object) -> tuple[dt.date | None, bool]:
    """(the meeting's date or None when not set, whether the value is a date or not set)."""
    if value is None:
        return None, True
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value, True
    try:
        return dt.date.fromisoformat(str(value)), True
    except ValueError:
        return None, False


def check_themes(calendar: Calendar, priorities: Collection[int], items: Collection[str]) -> None:
    """ReviewsError naming file:line for every theme whose priority or items are not the catalogue's."""
    problems: list[Problem] = []
    for theme in calendar.themes.values():
        if theme.priority is not None and theme.priority not in priorities:
            known = ", ".join(str(p) for p in sorted(priorities))
            problems.append(
                Problem(
                    Location(calendar.path, theme.line),
                    f"{theme.quarter}: the catalogue has no priority {theme.priority} (it has {known})",
                )
            )
        for item, line in zip(theme.items, theme.item_lines or [theme.line] * len(theme.items), strict=True):
            if item not in items:
                hint = suggest(item, items)
                problems.append(
                    Problem(
                        Location(calendar.path, line),
                        f"{theme.quarter}: item '{item}' is not in the catalogue{hint}",
                    )
                )
    if problems:
        raise ReviewsError(
            f"invalid Learning Review calendar: {problems_summary(problems, 'file')}", problems
        )

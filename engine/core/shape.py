"""Shape checks for parsed YAML mappings (known keys, required keys, value types), collecting problems.

Each check records a ``file:line: message`` Problem and returns None instead of raising, so a loader
can report every problem of every file at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable
from typing import Any

from engine.core.errors import Location, Problem


def nearest(word: str, known: Iterable[str], *, cutoff: float = 0.6, ignore_case: bool = True) -> str | None:
    """The known name most like ``word`` (difflib ratio at least ``cutoff``), else None."""
    if not ignore_case:
        close = difflib.get_close_matches(word, list(known), n=1, cutoff=cutoff)
        return close[0] if close else None
    by_lower = {c.lower(): c for c in sorted(known)}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=cutoff)
    return by_lower[close[0]] if close else None


def suggest(
    word: str,
    known: Iterable[str],
    *,
    cutoff: float = 0.6,
    ignore_case: bool = True,
    list_known: bool = True,
) -> str:
    """' (did you mean 'x'?)' for a near miss, else ' (known: a, b, c)' (or '' without ``list_known``)."""
    choices = sorted(known)
    near = nearest(word, choices, cutoff=cutoff, ignore_case=ignore_case)
    if near is not None:
        return f" (did you mean '{near}'?)"
    return f" (known: {', '.join(choices)})" if choices and list_known else ""


def line_of(node: Any, key: str | int | None = None) -> int | None:
    """The 1-based line of a key (mapping) or an item (list), else of the node itself."""
    if key is not None and hasattr(node, "line_of"):
        line = node.line_of(key)
        return int(line) if line else None
    line = getattr(node, "line", None)
    return int(line) if line else None


def describe(value: Any) -> str:
    """A value as a user wrote it, for messages: 'abc', 3, a list, a mapping."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


class ShapeChecker:
    """Collects shape problems of one file; every check returns the value or None.

    ``ignore_case`` and ``list_known`` are how this file's messages suggest a known name (:func:`suggest`).
    """

    def __init__(
        self, source: str, problems: list[Problem], *, ignore_case: bool = True, list_known: bool = True
    ) -> None:
        self.source = source
        self.problems = problems
        self.ignore_case = ignore_case
        self.list_known = list_known

    def problem(self, line: int | None, message: str, field: str | None = None) -> None:
        self.problems.append(Problem(Location(self.source, line, field), message))

    def hint(self, word: str, known: Iterable[str]) -> str:
        return suggest(word, known, ignore_case=self.ignore_case, list_known=self.list_known)

    def mapping(
        self, value: Any, line: int | None, what: str, *, contents: str | None = None
    ) -> dict[str, Any] | None:
        """``value`` if it is a mapping; else a problem: '... got a list', or '{what} must be a mapping
        with {contents}' when ``contents`` says what belongs in it."""
        if isinstance(value, dict):
            return value
        if contents is not None:
            self.problem(line, f"{what} must be a mapping with {contents}")
        else:
            self.problem(line, f"{what} must be a mapping of keys to values, got {describe(value)}")
        return None

    def keys(
        self,
        node: dict[str, Any],
        what: str,
        *,
        required: Collection[str],
        optional: Collection[str] = (),
        at: int | None = None,
        missing: str = "missing required key '{key}'",
    ) -> bool:
        """Report unknown keys (with the nearest known one) and missing required keys (at line ``at``,
        default the mapping's first line; ``missing`` is the message, ``{key}`` the key). Messages
        start with '{what}: ' unless ``what`` is empty."""
        prefix = f"{what}: " if what else ""
        known = set(required) | set(optional)
        for key in node:
            if key not in known:
                self.problem(line_of(node, key), f"{prefix}unknown key '{key}'{self.hint(key, known)}")
        absent = [k for k in required if k not in node]
        for key in absent:
            self.problem(at or line_of(node), prefix + missing.format(key=key))
        return not absent

    def text(
        self,
        node: dict[str, Any],
        key: str,
        what: str,
        *,
        pattern: re.Pattern[str] | None = None,
        pattern_help: str = "",
    ) -> str | None:
        value = node.get(key)
        if pattern is not None and isinstance(value, int | float) and not isinstance(value, bool):
            # `version: 1.0` reads as a number: say what is expected rather than "not text"
            self.problem(line_of(node, key), f"{what}: '{key}' {pattern_help}, got {describe(value)}")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(line_of(node, key), f"{what}: '{key}' must be non-empty text, got {describe(value)}")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.problem(line_of(node, key), f"{what}: '{key}' {pattern_help}, got {describe(value)}")
            return None
        return value

    def choice(self, node: dict[str, Any], key: str, what: str, allowed: Collection[Any]) -> Any:
        value = node.get(key)
        if isinstance(value, bool) or value not in allowed:
            shown = describe(value)
            hint = self.hint(value if isinstance(value, str) else "", map(str, allowed))
            self.problem(
                line_of(node, key), f"{what}: '{key}' must be one of the known values, got {shown}{hint}"
            )
            return None
        return value

    def boolean(self, node: dict[str, Any], key: str, what: str) -> bool | None:
        value = node.get(key)
        if not isinstance(value, bool):
            self.problem(line_of(node, key), f"{what}: '{key}' must be true or false, got {describe(value)}")
            return None
        return value

    def number(
        self, node: dict[str, Any], key: str, what: str, *, low: float, high: float | None, low_open: bool
    ) -> float | None:
        """A number in [low, high] (or (low, high] when low_open); high None = unbounded."""
        value = node.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(line_of(node, key), f"{what}: '{key}' must be a number, got {describe(value)}")
            return None
        too_low = value <= low if low_open else value < low
        if too_low or (high is not None and value > high):
            bound = f"greater than {low:g}" if low_open else f"at least {low:g}"
            if high is not None:
                bound = f"between {low:g} and {high:g}"
            self.problem(line_of(node, key), f"{what}: '{key}' must be {bound}, got {describe(value)}")
            return None
        return float(value)

    def text_list(
        self, node: dict[str, Any], key: str, what: str, allowed: Collection[str]
    ) -> tuple[str, ...]:
        """A non-empty list of known, distinct names; unknown ones are reported with a suggestion."""
        value = node.get(key)
        if not isinstance(value, list) or not value:
            self.problem(
                line_of(node, key), f"{what}: '{key}' must be a non-empty list, got {describe(value)}"
            )
            return ()
        result: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or item not in allowed:
                hint = self.hint(item if isinstance(item, str) else "", allowed)
                self.problem(line_of(value, i), f"{what}: unknown {key} value {describe(item)}{hint}")
            elif item in result:
                self.problem(line_of(value, i), f"{what}: {key} value '{item}' is listed twice")
            else:
                result.append(item)
        return tuple(result)

"""Phase 1 of loading a ruleset: a file's YAML shape, types and ids become specs that keep their lines.

The file format is documented in :mod:`engine.rules.rulesets`, which compiles these specs (phase 2).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from engine.core.shape import ShapeChecker, describe, line_of
from engine.rules.catalogue import DIRECTIONS, PRIORITIES

FORMAT = 1
#: an extract definition's id (engine.inputs.extract_definitions); phase 2 checks it is defined
_EXTRACT = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
#: what a threshold may have besides the keys every rule has
_THRESHOLD_OPTIONAL = ("maximum", "statistic", "source")
#: a time metric's threshold is on the mean (default) or the median
STATISTICS: tuple[str, ...] = ("mean", "median")

_ID = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_VERSION = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
_ITEM_ID = re.compile(r"[A-Z][A-Z0-9]*[0-9]")
_SETTING = re.compile(r"[a-z][a-z0-9_]*")
#: a QA form's id (engine.inputs.forms); phase 2 checks a form of that id is loaded
_CASE_TYPE = re.compile(r"[a-z][a-z0-9_]*")
_PRIORITY_DIR = re.compile(r"priority(\d+)")
_TOP_REQUIRED = ("ruleset", "version", "format", "title")
_TOP_OPTIONAL = ("priority", "description", "case_type", "extract", "settings", "criteria", "thresholds")
_ITEM_COMMON = ("id", "text", "standard", "measure")
_ITEM_OPTIONAL = ("peel", "iserve", "weight", "minimum", "direction", "guidance")
#: a criterion's or threshold's guidance is one line of at most this many characters
GUIDANCE_MAX = 200
_ID_HELP = "must be a kebab-case id like 'stop-search-legitimacy'"
_VERSION_HELP = "must be a semantic version x.y.z like 1.0.0"


@dataclass(frozen=True)
class Setting:
    """A named constant of a ruleset: its default in the file and the value in force."""

    name: str
    default: int | str
    value: int | str
    description: str
    line: int


@dataclass(frozen=True)
class RuleSpec:
    """A criterion or threshold as written, with its lines; conditions not yet compiled."""

    noun: str  # "criterion" or "threshold"
    id: str
    text: str
    standard: str
    measure: str
    peel: str | None
    iserve: tuple[str, ...] | None
    weight: float
    minimum: float | None
    direction: str | None
    line: int
    critical: bool = False
    #: a threshold's maximum standard, the statistic of a time metric it is on, and its data source
    maximum: float | None = None
    statistic: str | None = None
    source: str | None = None
    applies: str | None = None
    passes: str = ""
    metric: str | None = None
    guidance: str = ""
    key_lines: Mapping[str, int] = field(default_factory=dict)

    def at(self, key: str) -> int:
        """The line of one of the rule's keys (the rule's own line when it has no such key)."""
        return self.key_lines.get(key, self.line)


@dataclass(frozen=True)
class RulesetSpec:
    """A ruleset file after shape checks (phase 1)."""

    source: str
    path: Path | None
    id: str | None  # None when the file's id is invalid (reported already)
    id_line: int
    version: str
    title: str
    description: str
    priority: int
    case_type: str | None
    extract: str | None
    kind_line: int
    settings: tuple[Setting, ...]
    rules: tuple[RuleSpec, ...]
    content: Mapping[str, Any]  # the parsed file, with its priority filled in


def folder_priority(path: Path | None) -> int | None:
    """N for a file in a ``priority<N>`` folder, else None."""
    match = _PRIORITY_DIR.fullmatch(path.parent.name) if path is not None else None
    return int(match.group(1)) if match else None


def parse_ruleset(data: Any, source: str, path: Path | None, check: ShapeChecker) -> RulesetSpec | None:
    """Phase 1: shape, types and ids of one file.

    Problems are recorded as they are found; the spec keeps every rule that parsed, so phase 2 can
    report its problems too. None only when the file cannot be compiled at all (no priority, no
    known case type or extract, an unknown format).
    """
    top = check.mapping(data, 1, "a ruleset file")
    if top is None:
        return None
    check.keys(top, "ruleset", required=_TOP_REQUIRED, optional=_TOP_OPTIONAL)
    if "format" in top and top["format"] != FORMAT:
        check.problem(
            line_of(top, "format"), f"unsupported format {describe(top['format'])} (this QAM reads format 1)"
        )
        return None
    rid = _present(
        top, "ruleset", lambda: check.text(top, "ruleset", "ruleset", pattern=_ID, pattern_help=_ID_HELP)
    )
    version = _present(
        top,
        "version",
        lambda: check.text(top, "version", "ruleset", pattern=_VERSION, pattern_help=_VERSION_HELP),
    )
    title = _present(top, "title", lambda: check.text(top, "title", "ruleset"))
    description = _present(top, "description", lambda: check.text(top, "description", "ruleset"))
    priority = _parse_priority(top, path, check)
    case_type, extract, kind_line = _parse_kind(top, check)
    settings = _parse_settings(top, check)
    rules = _parse_rules(top, "thresholds" if "extract" in top else "criteria", check)
    if priority is None or (case_type is None and extract is None):
        return None
    content = dict(top)
    content["priority"] = priority  # part of the meaning: moving the file to another folder changes it
    return RulesetSpec(
        source=source,
        path=path,
        id=rid,
        id_line=line_of(top, "ruleset") or 1,
        version=version or "",
        title=title or "",
        description=description or "",
        priority=priority,
        case_type=case_type,
        extract=extract,
        kind_line=kind_line,
        settings=settings,
        rules=rules,
        content=MappingProxyType(content),
    )


def _present(node: dict[str, Any], key: str, check: Any) -> Any:
    """Run a check only when the key is there (a missing key is reported once, by keys())."""
    return check() if key in node else None


def _parse_priority(top: dict[str, Any], path: Path | None, check: ShapeChecker) -> int | None:
    folder = folder_priority(path)
    if folder is not None and folder not in PRIORITIES:
        check.problem(None, f"unknown priority folder 'priority{folder}' (the plan has priority1..priority4)")
        return None
    if "priority" not in top:
        if folder is None:
            check.problem(
                line_of(top),
                "ruleset: cannot tell its priority: put the file in a priority1..priority4 folder "
                "or add 'priority: N'",
            )
        return folder
    stated = check.choice(top, "priority", "ruleset", PRIORITIES)
    if stated is not None and folder is not None and stated != folder:
        check.problem(
            line_of(top, "priority"),
            f"ruleset: 'priority: {stated}' disagrees with its folder priority{folder} "
            "(the folder decides: remove the key or move the file)",
        )
    return folder if folder is not None else stated


def _parse_kind(top: dict[str, Any], check: ShapeChecker) -> tuple[str | None, str | None, int]:
    """(case_type, extract, line): exactly one of the two, each with only its own item list."""
    has_case, has_extract = "case_type" in top, "extract" in top
    if has_case == has_extract:
        check.problem(
            line_of(top),
            "ruleset: needs exactly one of 'case_type' (assessment ruleset) or 'extract' (quantitative ruleset)",
        )
        return None, None, line_of(top) or 1
    own, other = ("criteria", "thresholds") if has_case else ("thresholds", "criteria")
    if other in top:
        kind = "an assessment" if has_case else "an extract"
        check.problem(
            line_of(top, other), f"ruleset: '{other}' do not belong in {kind} ruleset (use '{own}')"
        )
    if own not in top:
        check.problem(line_of(top), f"ruleset: missing required key '{own}'")
    if has_case:
        case_type = check.text(
            top,
            "case_type",
            "ruleset",
            pattern=_CASE_TYPE,
            pattern_help="must be a QA form's id like 'stop_search'",
        )
        return case_type, None, line_of(top, "case_type") or 1
    extract = check.text(
        top,
        "extract",
        "ruleset",
        pattern=_EXTRACT,
        pattern_help="must be an extract definition's id like 'incidents'",
    )
    return None, extract, line_of(top, "extract") or 1


def _parse_settings(top: dict[str, Any], check: ShapeChecker) -> tuple[Setting, ...]:
    if "settings" not in top:
        return ()
    node = check.mapping(top["settings"], line_of(top, "settings"), "ruleset: 'settings'")
    if node is None:
        return ()
    result: list[Setting] = []
    for name, raw in node.items():
        what = f"setting '{name}'"
        line = line_of(node, name) or 0
        if not _SETTING.fullmatch(name):
            check.problem(line, f"{what}: a setting name is lower_snake_case, like 'marac_yes_threshold'")
            continue
        spec = check.mapping(raw, line, what)
        if spec is None:
            continue
        check.keys(spec, what, required=("default", "description"), at=line)
        description = _present(spec, "description", lambda s=spec, w=what: check.text(s, "description", w))
        if "default" not in spec:
            continue  # reported by check.keys
        default = spec["default"]
        if isinstance(default, bool) or not isinstance(default, int | str):
            check.problem(
                line_of(spec, "default"),
                f"{what}: 'default' must be a whole number or text, got {describe(default)}",
            )
        elif description is not None:
            result.append(Setting(name, default, default, description, line))
    return tuple(result)


def _parse_rules(top: dict[str, Any], key: str, check: ShapeChecker) -> tuple[RuleSpec, ...]:
    if key not in top:
        return ()
    items = top[key]
    if not isinstance(items, list) or not items:
        check.problem(line_of(top, key), f"ruleset: '{key}' must be a non-empty list, got {describe(items)}")
        return ()
    noun = "criterion" if key == "criteria" else "threshold"
    seen: dict[str, int] = {}
    result: list[RuleSpec] = []
    for i, raw in enumerate(items):
        line = line_of(items, i) or 0
        rid = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(rid, str) and rid in seen:
            check.problem(line_of(raw, "id"), f"{noun} id '{rid}' is used twice (first at line {seen[rid]})")
            continue
        if isinstance(rid, str):
            seen[rid] = line_of(raw, "id") or line
        spec = _parse_rule(raw, line, noun, check)
        if spec is not None:
            result.append(spec)
    return tuple(result)


def _parse_rule(raw: Any, line: int, noun: str, check: ShapeChecker) -> RuleSpec | None:
    node = check.mapping(raw, line, f"{noun} at line {line}")
    if node is None:
        return None
    before = len(check.problems)
    rid = node.get("id")
    what = f"{noun} {rid}" if isinstance(rid, str) else f"{noun} at line {line}"
    criterion = noun == "criterion"
    check.keys(
        node,
        what,
        required=(*_ITEM_COMMON, "pass" if criterion else "metric"),
        optional=(*_ITEM_OPTIONAL, "applies", "critical")
        if criterion
        else (*_ITEM_OPTIONAL, *_THRESHOLD_OPTIONAL),
    )
    # a criterion's minimum is a pass rate (0 to 1); a threshold's is in its metric's own terms (phase 2)
    bound = 1 if criterion else None

    def text(key: str, **kw: Any) -> Any:
        return _present(node, key, lambda: check.text(node, key, what, **kw))

    spec = RuleSpec(
        noun=noun,
        id=text("id", pattern=_ITEM_ID, pattern_help="must be capitals ending in digits, like SS01"),
        text=text("text"),
        standard=text("standard"),
        measure=text("measure"),
        peel=text("peel"),
        iserve=_present(node, "iserve", lambda: _parse_strands(node, what, check)),
        weight=_present(node, "weight", lambda: _finite(node, "weight", what, check, high=None)) or 1.0,
        minimum=None if node.get("minimum") is None else _finite(node, "minimum", what, check, high=bound),
        direction=_present(node, "direction", lambda: check.choice(node, "direction", what, DIRECTIONS)),
        line=line,
        critical=bool(_present(node, "critical", lambda: check.boolean(node, "critical", what))),
        applies=text("applies") if criterion else None,
        passes=text("pass") if criterion else "",
        metric=None if criterion else _present(node, "metric", lambda: check.text(node, "metric", what)),
        guidance=_present(node, "guidance", lambda: _guidance(node, what, check)) or "",
        key_lines=MappingProxyType({k: line_of(node, k) or line for k in node}),
        maximum=None if node.get("maximum") is None else _finite(node, "maximum", what, check, high=None),
        statistic=_present(node, "statistic", lambda: check.choice(node, "statistic", what, STATISTICS)),
        source=text("source"),
    )
    return None if len(check.problems) > before else spec


def _guidance(node: dict[str, Any], what: str, check: ShapeChecker) -> str | None:
    """One line for the place leader, at most GUIDANCE_MAX characters: who should act and how."""
    value = check.text(node, "guidance", what)
    if value is None:
        return None
    value = value.strip()
    if len(value.splitlines()) > 1:
        check.problem(
            line_of(node, "guidance"),
            f"{what}: 'guidance' must be one line (a long line may be folded with '>-', not '|')",
        )
        return None
    if len(value) > GUIDANCE_MAX:
        check.problem(
            line_of(node, "guidance"),
            f"{what}: 'guidance' is {len(value)} characters; keep it to {GUIDANCE_MAX} "
            "(one line a place leader reads: who should act and how)",
        )
        return None
    return value


def _finite(
    node: dict[str, Any], key: str, what: str, check: ShapeChecker, *, high: float | None
) -> float | None:
    """A weight or a threshold's standard (> 0, high None) or a criterion's minimum (0 to 1); YAML's
    .nan and .inf are refused."""
    value = node.get(key)
    if isinstance(value, float) and not math.isfinite(value):
        bound = "greater than 0" if high is None else f"between 0 and {high:g}"
        shown = ".nan" if math.isnan(value) else ("-.inf" if value < 0 else ".inf")
        check.problem(line_of(node, key), f"{what}: '{key}' must be a finite number {bound}, got {shown}")
        return None
    return check.number(node, key, what, low=0, high=high, low_open=high is None)


def _parse_strands(node: dict[str, Any], what: str, check: ShapeChecker) -> tuple[str, ...] | None:
    value = node["iserve"]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        check.problem(line_of(node, "iserve"), f"{what}: 'iserve' must be a non-empty list of strands")
        return None
    return tuple(value)

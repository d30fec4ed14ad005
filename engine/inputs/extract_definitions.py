"""Extract definitions: ``extracts/<id>.yaml`` declares each metric an extract carries, its catalogue
item, kind and unit (docs/extracts.md, "Extract definitions"). Validated as a whole, every problem
of every file reported at once as ``file:line: message``.

Example::

    extract: hr                 # id; the file is hr.yaml
    version: 1.0.0
    format: 1
    title: HR and workforce figures
    description: Monthly from the HR system.     # optional
    source: figures             # figures (loaded by `qam extracts load figures`) | incidents (computed)
    metrics:
      attendance_rate:          # metric id, unique across every definition
        item: M1
        kind: proportion        # proportion | survey | time | count | event
        text: Working days attended as a share of rostered days
        unit: days
        direction: higher
        periods: [month]

Kind-specific keys: ``unit`` is one of minutes, seconds, hours, days for a time; a count has
``exposure`` (population, fte or none) and, unless the exposure is none, ``per`` (a rate per
``per`` units of exposure, e.g. 1000); a survey may have ``design_effect`` (default 1.0, > 0).
An event has no ``direction`` (each event is itself an exception line) and its ``unit`` is optional.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from engine.core.errors import ConfigError, ExtractError, Location, Problem, problems_summary
from engine.core.metrics import METRIC_SETTINGS
from engine.core.periods import GRAINS
from engine.core.shape import ShapeChecker, describe, line_of, suggest
from engine.core.yamlio import load_yaml

FORMAT = 1
KINDS: tuple[str, ...] = ("proportion", "survey", "time", "count", "event")
#: where an extract's figures come from: the tidy figures extract, or QAM's incidents computation
SOURCES: tuple[str, ...] = ("figures", "incidents")
DIRECTIONS: tuple[str, ...] = ("higher", "lower")
TIME_UNITS: tuple[str, ...] = ("minutes", "seconds", "hours", "days")
EXPOSURES: tuple[str, ...] = ("population", "fte", "none")
#: the kinds whose figure is a share 0-1
SHARE_KINDS: tuple[str, ...] = ("proportion", "survey")

_EXTRACT_ID = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
_METRIC_ID = re.compile(r"[a-z][a-z0-9_]*")
_ITEM_ID = re.compile(r"[A-Z][A-Z0-9]*[0-9]")
_VERSION = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
#: the longest ids the figures table holds
MAX_EXTRACT_ID, MAX_METRIC_ID, MAX_ITEM_ID = 60, 80, 8
_TOP_REQUIRED = ("extract", "version", "format", "title", "source", "metrics")
_METRIC_REQUIRED = ("item", "kind", "text", "periods")
_METRIC_OPTIONAL = ("unit", "direction", "per", "exposure", "design_effect")


@dataclass(frozen=True)
class MetricDefinition:
    """One declared metric. ``direction`` is None for an event; ``per`` and ``exposure`` are set for
    a count only (``per`` None when the exposure is "none"); ``design_effect`` is 1.0 but for a
    survey that says otherwise."""

    id: str
    extract: str
    item: str
    kind: str
    text: str
    unit: str
    direction: str | None
    periods: tuple[str, ...]
    per: float | None = None
    exposure: str | None = None
    design_effect: float = 1.0
    #: figures or incidents (the extract's source)
    source: str = "figures"
    #: where it is declared, for messages
    path: str = ""
    line: int = 0

    @property
    def is_share(self) -> bool:
        """True for a proportion or survey share (0 to 1)."""
        return self.kind in SHARE_KINDS


@dataclass(frozen=True)
class ExtractDefinition:
    """One ``extracts/<id>.yaml``: its header, the ids of its metrics (in file order) and its content."""

    id: str
    version: str
    title: str
    description: str
    source: str
    metrics: tuple[str, ...]
    path: str
    #: the parsed file as canonical JSON (sorted keys, no whitespace) and its sha256
    canonical: str
    sha256: str


@dataclass(frozen=True)
class ExtractDefinitions:
    """Every extract definition of a folder, and every metric they declare (ids unique across them)."""

    extracts: Mapping[str, ExtractDefinition]
    metrics: Mapping[str, MetricDefinition]
    folder: str

    def of_extract(self, extract: str) -> tuple[MetricDefinition, ...]:
        """The metrics one extract declares, in file order (none for an unknown extract)."""
        definition = self.extracts.get(extract)
        return tuple(self.metrics[m] for m in definition.metrics) if definition else ()


def load_extract_definitions(folder: Path, items: Collection[str] | None = None) -> ExtractDefinitions:
    """Read and validate every ``*.yaml`` in ``folder``; ``items`` (the catalogue's item ids, when
    given) are the items a metric may feed. Raises ExtractError listing every problem at once.

    Example: ``load_extract_definitions(Path("extracts")).metrics["call101_answer_seconds"].kind == "time"``
    """
    problems: list[Problem] = []
    if not folder.is_dir():
        problems.append(Problem(Location(str(folder)), "no such extract definitions folder"))
        files: list[Path] = []
    else:
        files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    extracts: dict[str, ExtractDefinition] = {}
    metrics: dict[str, MetricDefinition] = {}
    declared: dict[str, str] = {}  # every metric id met, valid or not -> file:line
    for path in files:
        if path.name.startswith("."):
            continue
        _load_file(path, items, ShapeChecker(str(path), problems), extracts, metrics, declared)
    if problems:
        ordered = sorted(problems, key=lambda p: (p.location.file or "", p.location.line or 0))
        raise ExtractError(f"invalid extract definitions: {problems_summary(ordered, 'file')}", ordered)
    return ExtractDefinitions(MappingProxyType(extracts), MappingProxyType(metrics), str(folder))


def _load_file(
    path: Path,
    items: Collection[str] | None,
    check: ShapeChecker,
    extracts: dict[str, ExtractDefinition],
    metrics: dict[str, MetricDefinition],
    declared: dict[str, str],
) -> None:
    try:
        data = load_yaml(path)
    except ConfigError as exc:
        check.problems.append(Problem(exc.location or Location(check.source), exc.message))
        return
    top = check.mapping(data, 1, "an extract definition")
    if top is None:
        return
    if not check.keys(top, "extract definition", required=_TOP_REQUIRED, optional=("description",)):
        return
    if top["format"] != FORMAT:
        shown = describe(top["format"])
        check.problem(line_of(top, "format"), f"unsupported format {shown} (this QAM reads format 1)")
        return
    what = "extract definition"
    eid = check.text(
        top, "extract", what, pattern=_EXTRACT_ID, pattern_help="must be a lower-case id like 'hr'"
    )
    version = check.text(
        top, "version", what, pattern=_VERSION, pattern_help="must be a semantic version x.y.z like 1.0.0"
    )
    title = check.text(top, "title", what)
    description = check.text(top, "description", what) if "description" in top else ""
    source = check.choice(top, "source", what, SOURCES)
    if eid is not None:
        if len(eid) > MAX_EXTRACT_ID:
            check.problem(
                line_of(top, "extract"), f"{what}: 'extract' is longer than {MAX_EXTRACT_ID} characters"
            )
            eid = None
        elif path.stem != eid:
            check.problem(
                line_of(top, "extract"), f"{what}: extract '{eid}' must be in a file named {eid}.yaml"
            )
        elif eid in extracts:
            check.problem(
                line_of(top, "extract"), f"extract '{eid}' is already defined by {extracts[eid].path}"
            )
            eid = None
    node = check.mapping(
        top["metrics"],
        line_of(top, "metrics"),
        "'metrics'",
        contents="metric ids, each with its item and kind",
    )
    if node is not None and not node:
        check.problem(line_of(top, "metrics"), "'metrics' must declare at least one metric")
    ids: list[str] = []
    for mid, raw in (node or {}).items():
        line = line_of(node, mid) or 0
        if mid in declared:
            check.problem(line, f"metric '{mid}' is already declared by {declared[mid]}")
            continue
        declared[mid] = f"{check.source}:{line}"
        metric = _metric(mid, raw, line, eid or "", source, items, check)
        if metric is None:
            continue
        metrics[mid] = metric
        ids.append(mid)
    if None in (eid, version, title, description, source):
        return
    assert eid is not None and version is not None and title is not None and description is not None
    canonical = json.dumps(_plain(top), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    extracts[eid] = ExtractDefinition(
        id=eid,
        version=version,
        title=title,
        description=description,
        source=source,
        metrics=tuple(ids),
        path=str(path),
        canonical=canonical,
        sha256=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
    )


def _metric(
    mid: str,
    raw: Any,
    line: int,
    extract: str,
    source: str | None,
    items: Collection[str] | None,
    check: ShapeChecker,
) -> MetricDefinition | None:
    what = f"metric {mid}"
    before = len(check.problems)
    if not _METRIC_ID.fullmatch(mid) or len(mid) > MAX_METRIC_ID:
        check.problem(
            line,
            f"{what}: a metric id is lower_snake_case (at most {MAX_METRIC_ID} characters), like 'attendance_rate'",
        )
    spec = check.mapping(raw, line, what)
    if spec is None or not check.keys(spec, what, required=_METRIC_REQUIRED, optional=_METRIC_OPTIONAL):
        return None
    if source == "incidents" and mid not in METRIC_SETTINGS:
        check.problem(
            line,
            f"{what}: the incidents extract does not compute it (source: incidents computes "
            f"{', '.join(METRIC_SETTINGS)}); declare figures QAM does not compute in a source: figures extract",
        )
    item = check.text(spec, "item", what, pattern=_ITEM_ID, pattern_help="must be an item id like M1 or D6")
    if item is not None and items is not None and item not in items:
        check.problem(line_of(spec, "item"), f"{what}: unknown item '{item}'{suggest(item, items)}")
    kind = check.choice(spec, "kind", what, KINDS)
    text = check.text(spec, "text", what)
    periods = check.text_list(spec, "periods", what, GRAINS)
    unit = _unit(spec, what, kind, check)
    direction = _direction(spec, what, kind, check)
    per, exposure = _exposure(spec, what, kind, check)
    design_effect = 1.0
    if "design_effect" in spec:
        if kind != "survey":
            check.problem(
                line_of(spec, "design_effect"), f"{what}: 'design_effect' is for a survey metric only"
            )
        else:
            design_effect = _positive(spec, "design_effect", what, check) or 1.0
    if len(check.problems) > before or kind is None or text is None or item is None:
        return None
    return MetricDefinition(
        id=mid,
        extract=extract,
        item=item,
        kind=kind,
        text=text,
        unit=unit or "",
        direction=direction,
        periods=tuple(g for g in GRAINS if g in periods),
        per=per,
        exposure=exposure,
        design_effect=design_effect,
        source=source or "figures",
        path=check.source,
        line=line,
    )


def _unit(spec: dict[str, Any], what: str, kind: str | None, check: ShapeChecker) -> str | None:
    if "unit" not in spec:
        if kind not in (None, "event"):
            hint = f" ({', '.join(TIME_UNITS)})" if kind == "time" else " (what is counted, e.g. 'incidents')"
            check.problem(line_of(spec), f"{what}: missing required key 'unit'{hint}")
        return None
    if kind == "time":
        return str(check.choice(spec, "unit", what, TIME_UNITS) or "")
    return check.text(spec, "unit", what)


def _direction(spec: dict[str, Any], what: str, kind: str | None, check: ShapeChecker) -> str | None:
    if kind == "event":
        if "direction" in spec:
            check.problem(
                line_of(spec, "direction"),
                f"{what}: an event metric has no 'direction' (each event is itself an exception line)",
            )
        return None
    if "direction" not in spec:
        if kind is not None:
            check.problem(line_of(spec), f"{what}: missing required key 'direction' (higher or lower)")
        return None
    value = check.choice(spec, "direction", what, DIRECTIONS)
    return str(value) if value else None


def _exposure(
    spec: dict[str, Any], what: str, kind: str | None, check: ShapeChecker
) -> tuple[float | None, str | None]:
    if kind != "count":
        for key in ("per", "exposure"):
            if key in spec and kind is not None:
                check.problem(line_of(spec, key), f"{what}: '{key}' is for a count metric only")
        return None, None
    if "exposure" not in spec:
        check.problem(line_of(spec), f"{what}: missing required key 'exposure' ({', '.join(EXPOSURES)})")
        return None, None
    exposure = check.choice(spec, "exposure", what, EXPOSURES)
    if exposure == "none":
        if "per" in spec:
            check.problem(
                line_of(spec, "per"), f"{what}: 'per' needs an exposure (population or fte), not none"
            )
        return None, "none"
    if "per" not in spec:
        if exposure is not None:
            check.problem(
                line_of(spec),
                f"{what}: missing required key 'per' (a rate per how many, e.g. 1000 {exposure})",
            )
        return None, exposure
    return _positive(spec, "per", what, check), exposure


def _positive(spec: dict[str, Any], key: str, what: str, check: ShapeChecker) -> float | None:
    value = spec.get(key)
    if isinstance(value, float) and not math.isfinite(value):
        check.problem(line_of(spec, key), f"{what}: '{key}' must be a finite number greater than 0")
        return None
    return check.number(spec, key, what, low=0, high=None, low_open=True)


def _plain(value: Any) -> Any:
    """Parsed YAML as plain JSON values (1.0 written as 1), for the canonical content."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value

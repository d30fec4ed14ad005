"""The 12x12 measure catalogue (M1-M12, D1-D12): priority, PEEL pillar, I-SERVE strands, direction.

Read from ``engine/data/measures.yaml`` (or a force's own copy) and validated as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from engine.core.errors import ConfigError, Location, Problem, RulesetError, problems_summary
from engine.core.shape import ShapeChecker, describe, line_of
from engine.core.yamlio import load_yaml

DEFAULT_MEASURES_FILE = Path(__file__).resolve().parent.parent / "data" / "measures.yaml"

#: the 24 items of the 12x12 model, in the order briefings list them
MEASURE_IDS: tuple[str, ...] = tuple(f"M{i}" for i in range(1, 13)) + tuple(f"D{i}" for i in range(1, 13))
PRIORITIES: tuple[int, ...] = (1, 2, 3, 4)
DIRECTIONS: tuple[str, ...] = ("higher", "lower")

_MEASURE_KEYS = ("name", "priority", "peel", "iserve", "direction", "description")


@dataclass(frozen=True)
class Measure:
    """One item of the 12x12 model."""

    id: str
    name: str
    priority: int
    peel: str
    iserve: tuple[str, ...]
    direction: str  # "higher" or "lower" is better
    description: str


@dataclass(frozen=True)
class MeasureCatalogue:
    """The whole model: the four plan priorities, PEEL pillars, I-SERVE strands and the 24 measures."""

    priorities: MappingProxyType[int, str]
    peel_pillars: MappingProxyType[str, str]
    iserve_strands: MappingProxyType[str, str]
    measures: MappingProxyType[str, Measure]
    path: str

    def of_priority(self, priority: int) -> tuple[str, ...]:
        """The measure ids of one priority, in catalogue order."""
        return tuple(m.id for m in self.measures.values() if m.priority == priority)


def load_measure_catalogue(path: Path | None = None) -> MeasureCatalogue:
    """Read and validate the measure catalogue; every problem is reported at once.

    Example: ``load_measure_catalogue().measures["D11"].peel == "legitimacy"``
    """
    path = path or DEFAULT_MEASURES_FILE
    source = str(path)
    try:
        data = load_yaml(path)
    except ConfigError as exc:
        raise RulesetError(
            "invalid measure catalogue", [Problem(exc.location or Location(source), exc.message)]
        ) from None
    problems: list[Problem] = []
    catalogue = _check_catalogue(data, source, ShapeChecker(source, problems))
    if problems or catalogue is None:
        problems.sort(key=lambda p: p.location.line or 0)
        raise RulesetError(f"invalid measure catalogue: {problems_summary(problems, 'file')}", problems)
    return catalogue


def load_measures(path: Path | None = None) -> dict[str, Measure]:
    """The 24 measures by id. Example: ``load_measures()["M2"].priority == 1``"""
    return dict(load_measure_catalogue(path).measures)


def _names(check: ShapeChecker, top: dict[str, Any], key: str) -> dict[Any, str]:
    """A mapping of names to one-line descriptions (priorities, pillars, strands)."""
    node = check.mapping(top.get(key), line_of(top, key), f"'{key}'")
    if node is None:
        return {}
    result: dict[Any, str] = {}
    for name, text in node.items():
        if not isinstance(text, str) or not text.strip():
            check.problem(line_of(node, name), f"'{key}': '{name}' needs a one-line description")
        result[name] = str(text)
    return result


def _check_catalogue(data: Any, source: str, check: ShapeChecker) -> MeasureCatalogue | None:
    top = check.mapping(data, 1, "the measure catalogue")
    if top is None:
        return None
    if not check.keys(
        top,
        "measure catalogue",
        required=("format", "priorities", "peel_pillars", "iserve_strands", "measures"),
    ):
        return None
    if top["format"] != 1:
        check.problem(
            line_of(top, "format"), f"unsupported format {describe(top['format'])} (this QAM reads 1)"
        )
    priorities = {int(k): v for k, v in _names(check, top, "priorities").items() if str(k).isdigit()}
    if sorted(priorities) != list(PRIORITIES):
        check.problem(
            line_of(top, "priorities"), "'priorities' must name exactly the priorities 1, 2, 3 and 4"
        )
    pillars = _names(check, top, "peel_pillars")
    strands = _names(check, top, "iserve_strands")
    node = check.mapping(top["measures"], line_of(top, "measures"), "'measures'")
    if node is None:
        return None
    measures: dict[str, Measure] = {}
    for mid in MEASURE_IDS:
        if mid not in node:
            check.problem(
                line_of(top, "measures"),
                f"measure {mid} is missing: the 12x12 model needs all of M1-M12, D1-D12",
            )
    for mid, raw in node.items():
        what = f"measure {mid}"
        if mid not in MEASURE_IDS:
            check.problem(line_of(node, mid), f"unknown measure id '{mid}' (the model has M1-M12 and D1-D12)")
            continue
        spec = check.mapping(raw, line_of(node, mid), what)
        if spec is None or not check.keys(spec, what, required=_MEASURE_KEYS):
            continue
        name, priority, peel, iserve, direction, description = (
            check.text(spec, "name", what),
            check.choice(spec, "priority", what, PRIORITIES),
            check.choice(spec, "peel", what, pillars),
            check.text_list(spec, "iserve", what, strands),
            check.choice(spec, "direction", what, DIRECTIONS),
            check.text(spec, "description", what),
        )
        if name and priority and peel and iserve and direction and description:
            measures[mid] = Measure(mid, name, priority, peel, iserve, direction, description)
    ordered = {mid: measures[mid] for mid in MEASURE_IDS if mid in measures}
    return MeasureCatalogue(
        priorities=MappingProxyType(dict(sorted(priorities.items()))),
        peel_pillars=MappingProxyType(pillars),
        iserve_strands=MappingProxyType(strands),
        measures=MappingProxyType(ordered),
        path=source,
    )

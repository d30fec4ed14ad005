"""The force's 12x12 catalogue (M1-M12, D1-D12 and any items the force adds): the four plan
priorities, the PEEL pillars and I-SERVE strands with their display names, and each item's
priority, pillar, strands, improvement direction and evidence (docs/catalogue.md).

Read from the settings' ``catalogue_file`` (the top-level ``catalogue.yaml``, or a force config
folder's own) and validated as a whole: every problem at once, as ``file:line: message``. An item
may be a slot the force has not named yet (``defined: false``, as M3 ships): it keeps its place
and priority, has no pillar, strands or direction, and reports show it as "not defined".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from engine.core.config import DEFAULT_CATALOGUE_FILE as DEFAULT_CATALOGUE_FILE
from engine.core.errors import ConfigError, Location, Problem, RulesetError, problems_summary
from engine.core.shape import ShapeChecker, describe, line_of
from engine.core.yamlio import load_yaml

#: the 24 items every catalogue holds (each may be an undefined slot), in the order briefings list them
MEASURE_IDS: tuple[str, ...] = tuple(f"M{i}" for i in range(1, 13)) + tuple(f"D{i}" for i in range(1, 13))
PRIORITIES: tuple[int, ...] = (1, 2, 3, 4)
DIRECTIONS: tuple[str, ...] = ("higher", "lower")
#: Q: a QA form reviewers fill in; X: an extract from a force system
EVIDENCE: tuple[str, ...] = ("Q", "X")
#: how reports name an item the force has not defined (never "no exceptions", never "no data")
NOT_DEFINED = "not defined"
#: an item id: M (measure) or D (diagnostic) and a number; a force may add M13, D13...
_ITEM_ID = re.compile(r"([MD])([1-9][0-9]{0,2})")
_SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")

_TOP_REQUIRED = ("format", "version", "priorities", "peel_pillars", "iserve_strands", "items")
_TOP_OPTIONAL = ("title", "mission")
_ITEM_REQUIRED = ("name", "priority", "peel", "iserve", "evidence", "description")
_ITEM_OPTIONAL = ("direction", "defined")


@dataclass(frozen=True)
class Measure:
    """One item of the model. An undefined slot has ``defined`` False, ``name`` "not defined", no
    pillar (""), no strands and no direction."""

    id: str
    name: str
    priority: int
    peel: str
    iserve: tuple[str, ...]
    direction: str | None  # "higher" or "lower" is better; None where neither simply is
    description: str
    evidence: tuple[str, ...] = ()
    defined: bool = True

    @property
    def label(self) -> str:
        """'M2 Response Performance', 'M3 not defined'."""
        return f"{self.id} {self.name}"


@dataclass(frozen=True)
class MeasureCatalogue:
    """The whole model: the four plan priorities, PEEL pillars, I-SERVE strands and the items."""

    priorities: MappingProxyType[int, str]
    #: pillar id -> one-line description (display names: ``pillar_names``)
    peel_pillars: MappingProxyType[str, str]
    #: strand id -> one-line description (display names: ``strand_names``)
    iserve_strands: MappingProxyType[str, str]
    measures: MappingProxyType[str, Measure]
    path: str
    version: str = ""
    title: str = ""
    mission: str = ""
    pillar_names: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    strand_names: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: sha256 of its canonical content (the parsed YAML as sorted JSON), as the registry records it
    sha256: str = ""

    def of_priority(self, priority: int) -> tuple[str, ...]:
        """The item ids of one priority, in catalogue order (undefined slots included)."""
        return tuple(m.id for m in self.measures.values() if m.priority == priority)

    @property
    def undefined(self) -> tuple[str, ...]:
        """The ids of the slots the force has not defined, in catalogue order."""
        return tuple(m.id for m in self.measures.values() if not m.defined)

    def pillar_name(self, pillar: str) -> str:
        """'OD (people)' for 'people'; the id itself when the catalogue gives no name."""
        return self.pillar_names.get(pillar, pillar)

    def strand_name(self, strand: str) -> str:
        """'Early Action' for 'early_action'; the id itself when the catalogue gives no name."""
        return self.strand_names.get(strand, strand)


def load_measure_catalogue(path: Path | None = None, *, hashed: bool = True) -> MeasureCatalogue:
    """Read and validate a catalogue (default: the bundled one); every problem is reported at once.
    ``hashed`` False leaves its sha256 blank, for a reader of its items only (hashing imports the
    rulesets' modules: a fifth of loading a year of figures).

    Example: ``load_measure_catalogue().measures["D11"].peel == "legitimacy"``
    """
    path = path or DEFAULT_CATALOGUE_FILE
    source = str(path)
    try:
        data = load_yaml(path)
    except ConfigError as exc:
        raise RulesetError(
            "invalid catalogue", [Problem(exc.location or Location(source), exc.message)]
        ) from None
    problems: list[Problem] = []
    catalogue = check_catalogue(data, source, ShapeChecker(source, problems))
    if problems or catalogue is None:
        problems.sort(key=lambda p: p.location.line or 0)
        raise RulesetError(f"invalid catalogue: {problems_summary(problems, 'file')}", problems)
    if not hashed:
        return catalogue
    # imported here: rules.rulesets imports this module (through ruleset_yaml)
    from engine.rules.rulesets import canonical_content, content_sha256

    return replace(catalogue, sha256=content_sha256(canonical_content(data)))


def load_measures(path: Path | None = None) -> dict[str, Measure]:
    """The items by id. Example: ``load_measures()["M2"].priority == 1``"""
    return dict(load_measure_catalogue(path).measures)


def item_order(item_id: str) -> tuple[int, int]:
    """Catalogue order: M1..Mn, then D1..Dn (the 24 first, a force's additions after them)."""
    m = _ITEM_ID.fullmatch(item_id)
    assert m is not None
    return (0 if m.group(1) == "M" else 1, int(m.group(2)))


def _named(check: ShapeChecker, top: dict[str, Any], key: str) -> tuple[dict[str, str], dict[str, str]]:
    """Pillars or strands: id -> {name, description}; returns (descriptions, names)."""
    node = check.mapping(top.get(key), line_of(top, key), f"'{key}'")
    descriptions: dict[str, str] = {}
    names: dict[str, str] = {}
    if node is None:
        return descriptions, names
    for ident, raw in node.items():
        what = f"'{key}': '{ident}'"
        if not isinstance(ident, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", ident):
            check.problem(line_of(node, ident), f"{what}: an id must be lower_snake_case, e.g. early_action")
            continue
        spec = check.mapping(raw, line_of(node, ident), what, contents="'name' and 'description'")
        if spec is None or not check.keys(spec, what, required=("name", "description")):
            continue
        name, description = check.text(spec, "name", what), check.text(spec, "description", what)
        if name and description:
            names[ident], descriptions[ident] = name, description
    return descriptions, names


def _priorities(check: ShapeChecker, top: dict[str, Any]) -> dict[int, str]:
    node = check.mapping(top.get("priorities"), line_of(top, "priorities"), "'priorities'")
    result: dict[int, str] = {}
    for key, text in (node or {}).items():
        if not isinstance(text, str) or not text.strip():
            check.problem(line_of(node, key), f"'priorities': {describe(key)} needs its name")
        elif str(key).isdigit():
            result[int(key)] = text
    if node is not None and sorted(result) != list(PRIORITIES):
        check.problem(
            line_of(top, "priorities"), "'priorities' must name exactly the priorities 1, 2, 3 and 4"
        )
    return dict(sorted(result.items()))


def _item(
    check: ShapeChecker, node: dict[str, Any], mid: str, pillars: dict[str, str], strands: dict[str, str]
) -> Measure | None:
    what = f"item {mid}"
    spec = check.mapping(node[mid], line_of(node, mid), what)
    if spec is None:
        return None
    defined = spec.get("defined", True)
    if not isinstance(defined, bool):
        check.problem(
            line_of(spec, "defined"), f"{what}: 'defined' must be true or false, got {describe(defined)}"
        )
        return None
    if not defined:
        for key in spec:
            if key in (*_ITEM_REQUIRED, *_ITEM_OPTIONAL) and key not in (
                "defined",
                "priority",
                "description",
            ):
                check.problem(
                    line_of(spec, key),
                    f"{what} is a slot the force has not defined (defined: false): remove '{key}', or remove "
                    "`defined: false` to define the item",
                )
        slot_keys = ("defined", "priority", "description")
        if not check.keys(spec, what, required=slot_keys[1:], optional=(*_ITEM_REQUIRED, *_ITEM_OPTIONAL)):
            return None
        priority, description = (
            check.choice(spec, "priority", what, PRIORITIES),
            check.text(spec, "description", what),
        )
        if priority and description:
            return Measure(mid, NOT_DEFINED, priority, "", (), None, description, (), defined=False)
        return None
    if not check.keys(spec, what, required=_ITEM_REQUIRED, optional=_ITEM_OPTIONAL):
        return None
    name, priority, peel, iserve, evidence, description = (
        check.text(spec, "name", what),
        check.choice(spec, "priority", what, PRIORITIES),
        check.choice(spec, "peel", what, pillars),
        check.text_list(spec, "iserve", what, strands),
        check.text_list(spec, "evidence", what, EVIDENCE),
        check.text(spec, "description", what),
    )
    direction = check.choice(spec, "direction", what, DIRECTIONS) if "direction" in spec else None
    if "direction" in spec and direction is None:
        return None
    if name and priority and peel and iserve and evidence and description:
        return Measure(mid, name, priority, peel, iserve, direction, description, evidence)
    return None


def check_catalogue(data: Any, source: str, check: ShapeChecker) -> MeasureCatalogue | None:
    """The catalogue of parsed YAML, with every shape problem recorded on ``check`` (None if unusable)."""
    top = check.mapping(data, 1, "the catalogue")
    if top is None:
        return None
    if not check.keys(top, "catalogue", required=_TOP_REQUIRED, optional=_TOP_OPTIONAL):
        return None
    if top["format"] != 1:
        check.problem(
            line_of(top, "format"), f"unsupported format {describe(top['format'])} (this QAM reads 1)"
        )
    version = check.text(
        top, "version", "catalogue", pattern=_SEMVER, pattern_help="must be x.y.z, e.g. 1.0.0"
    )
    title = check.text(top, "title", "catalogue") if "title" in top else ""
    mission = check.text(top, "mission", "catalogue") if "mission" in top else ""
    priorities = _priorities(check, top)
    pillars, pillar_names = _named(check, top, "peel_pillars")
    strands, strand_names = _named(check, top, "iserve_strands")
    node = check.mapping(top["items"], line_of(top, "items"), "'items'")
    if node is None:
        return None
    for mid in MEASURE_IDS:
        if mid not in node:
            check.problem(
                line_of(top, "items"),
                f"item {mid} is missing: the 12x12 model needs all of M1-M12 and D1-D12 "
                "(an item the force has not named yet is kept as `defined: false`)",
            )
    measures: dict[str, Measure] = {}
    for mid in node:
        if not isinstance(mid, str) or not _ITEM_ID.fullmatch(mid):
            check.problem(
                line_of(node, mid),
                f"unknown item id {describe(mid)}: an item is M (measure) or D (diagnostic) and a number, "
                "e.g. M3 or D13",
            )
            continue
        measure = _item(check, node, mid, pillars, strands)
        if measure is not None:
            measures[mid] = measure
    ordered = {mid: measures[mid] for mid in sorted(measures, key=item_order)}
    return MeasureCatalogue(
        priorities=MappingProxyType(priorities),
        peel_pillars=MappingProxyType(pillars),
        iserve_strands=MappingProxyType(strands),
        measures=MappingProxyType(ordered),
        path=source,
        version=version or "",
        title=title or "",
        mission=mission or "",
        pillar_names=MappingProxyType(pillar_names),
        strand_names=MappingProxyType(strand_names),
    )

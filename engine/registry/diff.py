"""Criterion-level differences between two published versions of a ruleset, from their stored
canonical content: criteria and thresholds added, removed or changed field by field, settings. For
the catalogue: items, priorities, pillars and strands; for an extract definition: its metrics."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.core.errors import StorageError
from engine.registry.entries import RegistryEntry
from engine.registry.reads import pick_version, ruleset_versions
from engine.store.db import Database

#: criterion and threshold fields in the order a reader compares them; any others follow by name
ITEM_FIELDS = (
    "text",
    "standard",
    "measure",
    "peel",
    "iserve",
    "applies",
    "pass",
    "metric",
    "weight",
    "critical",
    "minimum",
    "direction",
)
SETTING_FIELDS = ("default", "description")
#: a catalogue item's and an extract metric's fields in reading order
DOCUMENT_FIELDS: tuple[str, ...] = (
    *("name", "defined", "priority", "peel", "iserve", "direction", "evidence", "item", "kind"),
    *("text", "unit", "periods", "per", "exposure", "design_effect", "description"),
)
_ITEM_SECTIONS = {"criteria": "criterion", "thresholds": "threshold"}
#: each kind of entry's sections (content key -> item kind), the main kind first
_SECTIONS: dict[str, dict[str, str]] = {
    "ruleset": {**_ITEM_SECTIONS, "settings": "setting"},
    "catalogue": {
        "items": "item",
        "priorities": "priority",
        "peel_pillars": "pillar",
        "iserve_strands": "strand",
    },
    "extract definition": {"metrics": "metric"},
}
_PLURALS = {"criterion": "criteria", "threshold": "thresholds", "setting": "settings"}
_PLURALS |= {"item": "items", "priority": "priorities", "pillar": "pillars", "strand": "strands"}
_PLURALS |= {"metric": "metrics"}
_CHANGES = ("changed", "added", "removed")
_NOT_RULESET_FIELDS = {"ruleset", "version", "settings", *_ITEM_SECTIONS}


@dataclass(frozen=True)
class FieldChange:
    """One field that differs; None stands for a key absent from that version's file."""

    field: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "from": self.old, "to": self.new}


@dataclass(frozen=True)
class ItemChange:
    """A criterion, threshold or setting added, removed or changed between two versions."""

    kind: str  # criterion | threshold | setting
    id: str
    change: str  # added | removed | changed
    fields: tuple[FieldChange, ...]  # every field for added/removed, the differing ones for changed

    def to_json(self) -> dict[str, Any]:
        if self.change == "changed":
            return {"id": self.id, "fields": [f.to_json() for f in self.fields]}
        side = "new" if self.change == "added" else "old"
        return {"id": self.id, **{f.field: getattr(f, side) for f in self.fields}}


@dataclass(frozen=True)
class RulesetDiff:
    """Criterion-level differences between two published versions of one ruleset."""

    ruleset_id: str
    old: RegistryEntry
    new: RegistryEntry
    items: tuple[ItemChange, ...]
    ruleset_fields: tuple[FieldChange, ...]  # title, description, case_type, priority, ...
    #: what the ruleset is made of: criteria (a case ruleset) or thresholds (an extract ruleset);
    #: items for the catalogue, metrics for an extract definition
    item_kind: str = "criterion"
    #: "ruleset", "catalogue" or "extract definition"
    document: str = "ruleset"

    columns = ("change", "item", "field", "from", "to")

    def _ids(self, change: str) -> tuple[str, ...]:
        return tuple(i.id for i in self.items if i.change == change and i.kind != "setting")

    @property
    def added(self) -> tuple[str, ...]:
        return self._ids("added")

    @property
    def removed(self) -> tuple[str, ...]:
        return self._ids("removed")

    @property
    def changed(self) -> tuple[str, ...]:
        return self._ids("changed")

    @property
    def empty(self) -> bool:
        return not self.items and not self.ruleset_fields

    @property
    def summary(self) -> str:
        """One line counting every kind of change: the criteria's (or thresholds') three counts, then
        settings and the other item kind only when any changed, then ruleset fields, e.g.
        '0 criteria changed, 0 added, 0 removed; 1 setting changed'.
        """
        parts = [_phrase(self.item_kind, self._tally(self.item_kind))]
        for kind in _PLURALS:
            some = [(n, c) for n, c in self._tally(kind) if n]
            if kind != self.item_kind and some:
                parts.append(_phrase(kind, some))
        if self.ruleset_fields:
            parts.append(f"{self.document} {', '.join(f.field for f in self.ruleset_fields)} changed")
        return "; ".join(parts)

    def _tally(self, kind: str) -> list[tuple[int, str]]:
        return [(sum(i.kind == kind and i.change == c for i in self.items), c) for c in _CHANGES]

    def to_table_rows(self) -> list[tuple[str, str, str, str, str]]:
        rows = [("changed", self.document, f.field, _cell(f.old), _cell(f.new)) for f in self.ruleset_fields]
        for item in self.items:
            label = f"{item.kind} {item.id}"
            if item.change == "changed":
                rows += [("changed", label, f.field, _cell(f.old), _cell(f.new)) for f in item.fields]
            else:
                summary = {f.field: (f.old if item.change == "removed" else f.new) for f in item.fields}
                text = summary.get(
                    "text", summary.get("name", summary.get("description", summary.get("value")))
                )
                old, new = (_cell(text), "") if item.change == "removed" else ("", _cell(text))
                rows.append((item.change, label, "", old, new))
        return rows

    def to_json(self) -> dict[str, Any]:
        def section(kind: str) -> dict[str, list[dict[str, Any]]]:
            return {
                change: [i.to_json() for i in self.items if i.kind == kind and i.change == change]
                for change in ("added", "removed", "changed")
            }

        kinds = _SECTIONS[self.document].values()
        return {
            "ruleset": self.ruleset_id,
            "from": {"version": self.old.version, "sha256": self.old.sha256, "seq": self.old.seq},
            "to": {"version": self.new.version, "sha256": self.new.sha256, "seq": self.new.seq},
            "ruleset_fields": [f.to_json() for f in self.ruleset_fields],
            **{_PLURALS[kind]: section(kind) for kind in kinds},
        }


def _phrase(kind: str, counts: Sequence[tuple[int, str]]) -> str:
    """'1 setting changed, 2 added': the noun after the first count only."""
    (first, change), *rest = counts
    noun = kind if first == 1 else _PLURALS[kind]
    return ", ".join([f"{first} {noun} {change}", *(f"{n} {c}" for n, c in rest)])


def _cell(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def diff(database: Database, ruleset_id: str, v1: str, v2: str) -> RulesetDiff:
    """What changed from version ``v1`` to ``v2`` of a ruleset, criterion by criterion and field by
    field, from the stored canonical content.

    Example: diff(db, "stop-search-legitimacy", "1.0.0", "1.1.0").to_table_rows()
    """
    entries = ruleset_versions(database, ruleset_id)
    old, new = pick_version(entries, v1), pick_version(entries, v2)
    return diff_contents(old, new)


def diff_contents(old: RegistryEntry, new: RegistryEntry) -> RulesetDiff:
    """The differences between two entries' canonical contents (no database)."""
    before, after = _content_json(old), _content_json(new)
    if new.is_document:
        return _diff_document(old, new, before, after)
    items: list[ItemChange] = []
    for section, kind in _ITEM_SECTIONS.items():
        items += _diff_items(kind, _by_id(before.get(section)), _by_id(after.get(section)), ITEM_FIELDS)
    items += _diff_items(
        "setting", _by_id(before.get("settings")), _by_id(after.get("settings")), SETTING_FIELDS
    )
    top = sorted((set(before) | set(after)) - _NOT_RULESET_FIELDS)
    fields = tuple(FieldChange(k, before.get(k), after.get(k)) for k in top if before.get(k) != after.get(k))
    kind = "threshold" if "thresholds" in after and "criteria" not in after else "criterion"
    return RulesetDiff(new.ruleset_id, old, new, tuple(items), fields, kind)


def _diff_document(
    old: RegistryEntry, new: RegistryEntry, before: dict[str, Any], after: dict[str, Any]
) -> RulesetDiff:
    """The catalogue's items, priorities, pillars and strands, or an extract definition's metrics,
    added, removed or changed field by field; then its other fields (title, mission, ...)."""
    document = new.applies_to
    sections = _SECTIONS[document]
    items: list[ItemChange] = []
    for section, kind in sections.items():
        items += _diff_items(kind, _by_id(before.get(section)), _by_id(after.get(section)), DOCUMENT_FIELDS)
    top = sorted((set(before) | set(after)) - {"version", *sections})
    fields = tuple(FieldChange(k, before.get(k), after.get(k)) for k in top if before.get(k) != after.get(k))
    return RulesetDiff(
        new.ruleset_id, old, new, tuple(items), fields, next(iter(sections.values())), document
    )


def _content_json(entry: RegistryEntry) -> dict[str, Any]:
    try:
        data = json.loads(entry.content)
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise StorageError(
            f"the stored content of {entry.ruleset_id} {entry.version} is not a ruleset",
            hint="Run `qam rulesets verify`: the registry may have been altered.",
        )
    return data


def _by_id(node: Any) -> dict[str, dict[str, Any]]:
    """Items keyed by id, in file order: a list of {id: ...} mappings or a mapping of name -> mapping."""
    if isinstance(node, dict):
        return {str(k): v if isinstance(v, dict) else {"value": v} for k, v in node.items()}
    if isinstance(node, list):
        return {str(i.get("id")): i for i in node if isinstance(i, dict)}
    return {}


def _diff_items(
    kind: str, old: Mapping[str, dict[str, Any]], new: Mapping[str, dict[str, Any]], order: Sequence[str]
) -> list[ItemChange]:
    def fields_of(*items: Mapping[str, Any]) -> list[str]:
        keys = set().union(*items) - {"id"}
        return [k for k in order if k in keys] + sorted(keys - set(order))

    out: list[ItemChange] = []
    for item_id, item in new.items():
        if item_id not in old:
            out.append(
                ItemChange(
                    kind, item_id, "added", tuple(FieldChange(k, None, item[k]) for k in fields_of(item))
                )
            )
            continue
        before = old[item_id]
        changed = tuple(
            FieldChange(k, before.get(k), item.get(k))
            for k in fields_of(before, item)
            if before.get(k) != item.get(k)
        )
        if changed:
            out.append(ItemChange(kind, item_id, "changed", changed))
    for item_id, item in old.items():
        if item_id not in new:
            out.append(
                ItemChange(
                    kind, item_id, "removed", tuple(FieldChange(k, item[k], None) for k in fields_of(item))
                )
            )
    return out

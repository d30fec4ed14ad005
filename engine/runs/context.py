"""The run context: everything a run reads besides the stored rows (force, forms, the ruleset
versions, the measure catalogue, the extract definitions), and its rulesets' criteria and thresholds
as the analysis takes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine import registry
from engine.core.config import Force, Settings
from engine.core.errors import RulesetError
from engine.core.models import RulesetRef
from engine.inputs.extract_definitions import ExtractDefinitions
from engine.inputs.extracts import ResponseSettings
from engine.inputs.forms import Form
from engine.rules.catalogue import MeasureCatalogue
from engine.rules.ruleset_loader import load_rulesets
from engine.rules.rulesets import Ruleset
from engine.store.db import Database


@dataclass(frozen=True)
class RunContext:
    """Everything a run reads besides the stored rows: force, forms, rulesets, measures."""

    force: Force
    forms: Mapping[str, Form]
    rulesets: tuple[Ruleset, ...]
    catalogue: MeasureCatalogue
    draft: bool
    registry_head: str = ""
    #: the extract definitions the thresholds were checked against: each metric's kind, unit, per...
    extracts: ExtractDefinitions | None = None
    #: the catalogue's and each extract definition's (id, version, sha256): manifests record them
    configuration: tuple[RulesetRef, ...] = ()

    @property
    def assessment_rulesets(self) -> tuple[Ruleset, ...]:
        return tuple(r for r in self.rulesets if r.case_type)

    @property
    def extract_rulesets(self) -> tuple[Ruleset, ...]:
        return tuple(r for r in self.rulesets if r.extract)

    def refs(self) -> tuple[RulesetRef, ...]:
        """The run's ruleset versions, by id."""
        return tuple(sorted(r.ref for r in self.rulesets))


def run_context(
    database: Database,
    settings: Settings,
    force: Force,
    forms: Mapping[str, Form],
    *,
    draft: bool,
    as_of: dt.datetime | None = None,
) -> RunContext:
    """The rulesets, catalogue and extract definitions a run uses: the published versions (in force
    at ``as_of``), or with ``draft`` the working tree's files. An official run refuses unpublished
    edits of any of them."""
    fields = {case_type: f.field_specs() for case_type, f in forms.items()}
    documents = registry.DocumentPaths.of(settings)
    if not draft and as_of is None:
        registry.require_published(database, settings.rulesets_dir, documents)
    config = registry.run_configuration(database, documents, draft=draft, as_of=as_of)
    catalogue, extracts = config.catalogue, config.extracts
    if draft:
        rulesets = load_rulesets(
            settings.rulesets_dir,
            fields,
            setting_overrides=force.setting_overrides,
            overrides_source=force.path,
            measures=catalogue,
            extracts=extracts,
        )
    else:
        rulesets = registry.load_published(
            database,
            fields,
            as_of=as_of,
            setting_overrides=force.setting_overrides,
            overrides_source=force.path,
            extracts=extracts,
            catalogue=catalogue,
        )
        if not rulesets:
            when = f" at {as_of.isoformat()}" if as_of else ""
            raise RulesetError(
                f"no published rulesets{when}",
                [],
                hint="Run `qam rulesets publish` first, or pass --draft for a dry run on the working tree.",
            )
    return RunContext(
        force=force,
        forms=forms,
        rulesets=tuple(sorted(rulesets, key=lambda r: r.id)),
        catalogue=catalogue,
        draft=draft,
        registry_head="" if draft else registry.registry_head(database),
        extracts=extracts,
        configuration=config.refs,
    )


def _extract_source(context: RunContext, ruleset: Ruleset) -> str:
    """Where an extract ruleset's figures come from: its extract definition's source."""
    definition = context.extracts.extracts.get(ruleset.extract or "") if context.extracts else None
    return definition.source if definition else str(ruleset.extract)


def response_settings(context: RunContext) -> ResponseSettings | None:
    """The response standards' settings: those of the ruleset on the incidents extract (None when no
    such ruleset is in force)."""
    on_incidents = [r for r in context.extract_rulesets if _extract_source(context, r) == "incidents"]
    if not on_incidents:
        return None
    settings: Mapping[str, Any] = on_incidents[0].settings  # the ruleset's numbers, as written
    return ResponseSettings(**settings)


def criteria_rows(context: RunContext) -> list[dict[str, Any]]:
    return [
        {
            "ruleset": r.id,
            "criterion": c.id,
            "text": c.text,
            "measure": c.measure,
            "priority": r.priority,
            "peel": c.peel,
            "iserve": c.iserve,
            "minimum": c.minimum,
            "direction": c.direction,
            "critical": c.critical,
            "guidance": c.guidance,
            # what one case is called in the criterion's reasons: its form's noun
            "noun": form.noun if (form := context.forms.get(r.case_type or "")) else "",
        }
        for r in context.assessment_rulesets
        for c in r.criteria
    ]


def metric_rows(context: RunContext) -> list[dict[str, Any]]:
    return [
        {
            "ruleset": r.id,
            "criterion": t.id,
            "metric": t.metric,
            "text": t.text,
            "measure": t.measure,
            "priority": r.priority,
            "peel": t.peel,
            "iserve": t.iserve,
            "minimum": t.minimum,
            "maximum": t.maximum,
            "statistic": t.statistic,
            "kind": t.kind,
            "extract": r.extract,
            "direction": t.direction,
            "guidance": t.guidance,
        }
        for r in context.extract_rulesets
        for t in r.thresholds
    ]

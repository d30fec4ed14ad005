"""`qam rulesets validate` without a database: the rulesets checked with the catalogue, the extract
definitions, the QA forms' questions and the force file's setting overrides (moved down from
engine.api, which keeps a thin function)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from engine.core.config import Force, Settings
from engine.inputs.forms import Form
from engine.registry.documents import DocumentPaths, validate_documents
from engine.rules.ruleset_loader import validate_rulesets
from engine.rules.rulesets import Ruleset


def check_rulesets(
    settings: Settings, forms: Mapping[str, Form], force: Force, path: Path | None = None
) -> list[Ruleset]:
    """Every ruleset under ``path`` (default: the rulesets in use) validated; RulesetError (or the
    catalogue's and extract definitions' errors) listing every problem at once."""
    catalogue, extracts = validate_documents(DocumentPaths.of(settings))
    return validate_rulesets(
        path or settings.rulesets_dir,
        {case_type: f.field_specs() for case_type, f in forms.items()},
        setting_overrides=force.setting_overrides,
        overrides_source=force.path,
        extracts=extracts,
        measures=catalogue,
    )

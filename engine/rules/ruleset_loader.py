"""Loading rulesets: every file under a rulesets folder, one file, or stored canonical content, through
both phases with a force's setting overrides; every problem of every file is raised at once.

An extract ruleset's thresholds are checked against the extract definitions given as ``extracts``
(by default, when a ruleset needs them, the bundled extracts/ folder's, checked against the catalogue)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from engine.core.config import DEFAULT_EXTRACTS_DIR
from engine.core.errors import ConfigError, Location, Problem, RulesetError, problems_summary
from engine.core.models import FieldSpec
from engine.core.shape import ShapeChecker, describe, suggest
from engine.core.yamlio import load_yaml, parse_yaml
from engine.inputs.extract_definitions import ExtractDefinitions, load_extract_definitions
from engine.rules.catalogue import MeasureCatalogue, load_measure_catalogue
from engine.rules.ruleset_compiler import compile_ruleset
from engine.rules.ruleset_yaml import RulesetSpec, Setting, parse_ruleset
from engine.rules.rulesets import Ruleset


def _effective_settings(
    spec: RulesetSpec, overrides: Mapping[str, int | str], source: str
) -> tuple[tuple[Setting, ...], list[Problem]]:
    """The ruleset's settings with a force's overrides applied, and any problems with them."""
    problems: list[Problem] = []
    by_name = {s.name: s for s in spec.settings}
    for name, value in overrides.items():
        where = Location(source, None, f"{spec.id}.{name}")
        setting = by_name.get(name)
        if setting is None:
            problems.append(
                Problem(where, f"ruleset {spec.id} has no setting '{name}'{suggest(name, by_name)}")
            )
        elif isinstance(value, bool) or type(value) is not type(setting.default):
            kind = "a whole number" if isinstance(setting.default, int) else "text"
            problems.append(
                Problem(where, f"must be {kind} like its default {setting.default!r}, got {describe(value)}")
            )
        else:
            by_name[name] = Setting(name, setting.default, value, setting.description, setting.line)
    return tuple(by_name[s.name] for s in spec.settings), problems


def _ruleset_files(rulesets_dir: Path, problems: list[Problem]) -> list[Path]:
    if not rulesets_dir.is_dir():
        problems.append(Problem(Location(str(rulesets_dir)), "no such rulesets folder"))
        return []
    files = sorted(
        p
        for p in rulesets_dir.rglob("*")
        if p.suffix in (".yaml", ".yml") and p.is_file() and not any(part.startswith(".") for part in p.parts)
    )
    if not files:
        problems.append(Problem(Location(str(rulesets_dir)), "no ruleset files (*.yaml) found"))
    return files


class _Options(NamedTuple):
    setting_overrides: Mapping[str, Mapping[str, int | str]] | None
    overrides_source: str
    measures: MeasureCatalogue | None
    extracts: ExtractDefinitions | None = None


def _load(
    documents: Sequence[tuple[str, Path | None, Any]],
    fields_by_case_type: Mapping[str, Mapping[str, FieldSpec]],
    problems: list[Problem],
    options: _Options,
    *,
    whole_tree: bool = False,
) -> list[Ruleset]:
    """Both phases over parsed documents (source, path, data or a ConfigError); raise once at the end.

    ``whole_tree``: the documents are every ruleset there is, so overrides naming no loaded ruleset
    are typos; for one file or stored version they belong to the others.
    """
    setting_overrides, overrides_source, measures, extracts = options
    catalogue = measures or load_measure_catalogue()
    specs: list[RulesetSpec] = []
    first_file: dict[str, str] = {}
    for source, path, data in documents:
        check = ShapeChecker(source, problems)
        if isinstance(data, ConfigError):
            problems.append(Problem(data.location or Location(source), data.message))
            continue
        spec = parse_ruleset(data, source, path, check)
        if spec is None:
            continue
        if spec.id in first_file:
            check.problem(spec.id_line, f"ruleset id '{spec.id}' is already used by {first_file[spec.id]}")
            continue
        if spec.id is not None:
            first_file[spec.id] = source
        specs.append(spec)
    overrides = dict(setting_overrides or {})
    for rid in overrides if whole_tree else ():
        if rid not in first_file:
            problems.append(
                Problem(
                    Location(overrides_source),
                    f"settings for unknown ruleset '{rid}'{suggest(rid, first_file)}",
                )
            )
    if extracts is None and any(spec.extract is not None for spec in specs):
        extracts = load_extract_definitions(DEFAULT_EXTRACTS_DIR, tuple(catalogue.measures))
    rulesets: list[Ruleset] = []
    for spec in specs:
        settings, override_problems = _effective_settings(
            spec, overrides.get(spec.id or "", {}), overrides_source
        )
        problems.extend(override_problems)
        ruleset = compile_ruleset(
            spec, fields_by_case_type, catalogue, settings, ShapeChecker(spec.source, problems), extracts
        )
        if ruleset is not None and not override_problems:
            rulesets.append(ruleset)
    if problems:
        ordered = sorted(problems, key=lambda p: (p.location.file or "", p.location.line or 0))
        raise RulesetError(f"invalid rulesets: {problems_summary(ordered, 'file')}", ordered)
    return sorted(rulesets, key=lambda r: (r.priority, r.id))


def _load_tree(
    rulesets_dir: Path, fields_by_case_type: Mapping[str, Mapping[str, FieldSpec]], options: _Options
) -> list[Ruleset]:
    problems: list[Problem] = []
    documents = [(str(p), p, _read(p)) for p in _ruleset_files(rulesets_dir, problems)]
    return _load(documents, fields_by_case_type, problems, options, whole_tree=True)


def _read(path: Path) -> Any:
    try:
        return load_yaml(path)
    except ConfigError as exc:
        return exc


def load_rulesets(
    rulesets_dir: Path,
    fields_by_case_type: Mapping[str, Mapping[str, FieldSpec]],
    *,
    setting_overrides: Mapping[str, Mapping[str, int | str]] | None = None,
    overrides_source: str = "setting overrides",
    measures: MeasureCatalogue | None = None,
    extracts: ExtractDefinitions | None = None,
) -> list[Ruleset]:
    """Load, check and compile every ruleset under ``rulesets_dir`` (sorted by priority, then id).

    ``fields_by_case_type`` gives each case type's form questions; ``setting_overrides`` maps a
    ruleset id to values for its settings (a force's own; ``overrides_source`` names where they
    came from in messages). Raises RulesetError listing every problem of every file at once.

    Example: ``load_rulesets(Path("rulesets"), {t: f.field_specs() for t, f in forms.items()})``
    """
    return _load_tree(
        rulesets_dir, fields_by_case_type, _Options(setting_overrides, overrides_source, measures, extracts)
    )


def validate_rulesets(
    path: Path,
    fields_by_case_type: Mapping[str, Mapping[str, FieldSpec]],
    *,
    setting_overrides: Mapping[str, Mapping[str, int | str]] | None = None,
    overrides_source: str = "setting overrides",
    measures: MeasureCatalogue | None = None,
    extracts: ExtractDefinitions | None = None,
) -> list[Ruleset]:
    """Check one ruleset file or every file under a folder (the whole rulesets tree), without a database.

    Example: ``validate_rulesets(Path("rulesets/priority4/stop-search-legitimacy.yaml"), fields)``
    """
    options = _Options(setting_overrides, overrides_source, measures, extracts)
    if path.is_dir():
        return _load_tree(path, fields_by_case_type, options)
    return _load([(str(path), path, _read(path))], fields_by_case_type, [], options)


def ruleset_from_content(
    content: str,
    fields_by_case_type: Mapping[str, Mapping[str, FieldSpec]],
    *,
    source: str,
    setting_overrides: Mapping[str, Mapping[str, int | str]] | None = None,
    overrides_source: str = "setting overrides",
    measures: MeasureCatalogue | None = None,
    extracts: ExtractDefinitions | None = None,
) -> Ruleset:
    """Compile stored canonical content (a published version) back into a Ruleset.

    The content carries its own ``priority``, so no folder is needed; the hash comes out the same
    as the file's. ``source`` names it in messages, e.g. ``"registry:stop-search-legitimacy@1.2.0"``.
    """
    try:
        data: Any = parse_yaml(content, source)  # canonical JSON is YAML
    except ConfigError as exc:
        data = exc
    options = _Options(setting_overrides, overrides_source, measures, extracts)
    (ruleset,) = _load([(source, None, data)], fields_by_case_type, [], options)
    return ruleset

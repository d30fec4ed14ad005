"""A force's own configuration folder (docs/catalogue.md#a-forces-configuration-folder): its
catalogue, QA forms, rulesets and extract definitions, named by the force file's ``config:`` key
(relative to the force file) or by QAM_CONFIG.

    <folder>/catalogue.yaml        the 12x12 catalogue (required: a folder is the force's model)
    <folder>/qa_forms/             QA forms, one per case type        (else the bundled ones, noted)
    <folder>/rulesets/priority1..4 rulesets                            (else the bundled ones, noted)
    <folder>/extracts/             extract definitions                (else the bundled ones, noted)

Precedence for each part: an explicit argument, then its own environment variable (QAM_RULESETS,
QAM_FORMS, QAM_EXTRACTS), then the config folder, then the bundled default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import ConfigError, EngineError, Location
from engine.core.yamlio import LineDict, load_yaml

ENV_CONFIG = "QAM_CONFIG"
CATALOGUE_NAME = "catalogue.yaml"
#: the folders a config folder may hold, and what each holds (for notes)
PARTS: Mapping[str, str] = {
    "qa_forms": "QA forms",
    "rulesets": "rulesets",
    "extracts": "extract definitions",
}


@dataclass(frozen=True)
class ConfigFolder:
    """A force's configuration folder and what named it (for messages and manifests)."""

    path: Path
    #: "QAM_CONFIG", "the force file's config: (force.yaml:3)" or "load_settings(config_dir=...)"
    named_by: str

    @property
    def catalogue_file(self) -> Path:
        return self.path / CATALOGUE_NAME

    def part(self, name: str) -> Path | None:
        """``qa_forms``, ``rulesets`` or ``extracts`` when the folder holds it, else None."""
        folder = self.path / name
        return folder if folder.is_dir() else None

    def missing_notes(self) -> tuple[str, ...]:
        """One note per part the folder does not hold (the bundled one is used instead)."""
        return tuple(
            f"config folder {self.path} has no {name}/: the bundled {what} are used"
            for name, what in PARTS.items()
            if self.part(name) is None
        )


def named_config(force_file: Path) -> tuple[str, int] | None:
    """The force file's ``config:`` value and its line, if it has one (None for a force file that
    cannot be read: load_force reports that, with its line)."""
    try:
        data = load_yaml(force_file)
    except EngineError:
        return None
    if not isinstance(data, LineDict) or "config" not in data:
        return None
    value = data["config"]
    return (value if isinstance(value, str) else "", data.line_of("config"))


def resolve_config_folder(
    force_file: Path, *, explicit: Path | None = None, environ: Mapping[str, str]
) -> ConfigFolder | None:
    """The config folder in force: ``explicit``, else QAM_CONFIG, else the force file's ``config:``
    (relative to the force file), else None (the bundled configuration). ConfigError when the folder
    named does not exist or holds no catalogue.yaml, naming where it was named."""
    if explicit is not None:
        return _checked(explicit, "load_settings(config_dir=...)", None)
    if environ.get(ENV_CONFIG):
        return _checked(Path(environ[ENV_CONFIG]), ENV_CONFIG, None)
    named = named_config(force_file)
    if named is None:
        return None
    value, line = named
    where = Location(str(force_file), line, "config")
    if not value.strip():
        raise ConfigError("'config' must name a folder (relative to the force file)", location=where)
    folder = Path(value)
    if not folder.is_absolute():
        folder = force_file.parent / folder
    return _checked(folder, f"the force file's config: ({force_file}:{line})", where)


def _checked(folder: Path, named_by: str, where: Location | None) -> ConfigFolder:
    if not folder.is_dir():
        raise ConfigError(
            f"config folder {folder} (named by {named_by}) does not exist or is not a folder",
            location=where,
            hint="Create it with a catalogue.yaml (docs/catalogue.md), or correct the name.",
        )
    if not (folder / CATALOGUE_NAME).is_file():
        raise ConfigError(
            f"config folder {folder} (named by {named_by}) holds no {CATALOGUE_NAME}: a force's configuration "
            "folder starts with its catalogue",
            location=where,
            hint="Copy the bundled catalogue.yaml into it and adjust it (docs/catalogue.md).",
        )
    return ConfigFolder(folder, named_by)

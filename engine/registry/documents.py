"""Configuration documents in the registry (issue 17): the catalogue and each extract definition are
published beside the rulesets, in the same hash chain, because a change to either alters what the
briefings say. An inspector lists, diffs and verifies them with the ruleset commands, by id:
``catalogue`` and ``extracts/<id>`` (a ruleset id is kebab-case, so neither can be a ruleset's).

A document's entry has priority 0 and no case type or extract; its content is the canonical JSON of
the parsed YAML (comments and layout do not count) and its source text the file as published.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from engine.core.config import DEFAULT_CATALOGUE_FILE, DEFAULT_EXTRACTS_DIR, Settings
from engine.core.errors import ConfigError, EngineError, Location, Problem, ProblemsError, RulesetError
from engine.core.shape import ShapeChecker
from engine.core.yamlio import load_yaml, parse_yaml
from engine.inputs.extract_definitions import ExtractDefinitions, load_extract_definitions
from engine.rules.catalogue import MeasureCatalogue, check_catalogue, load_measure_catalogue
from engine.rules.rulesets import canonical_content, content_sha256

CATALOGUE_ID = "catalogue"
EXTRACT_PREFIX = "extracts/"
#: the priority column of a document's entry (rulesets have 1-4)
DOCUMENT_PRIORITY = 0


def is_document(entry_id: str) -> bool:
    """Whether a registry id names a configuration document (the catalogue, an extract definition)."""
    return entry_id == CATALOGUE_ID or entry_id.startswith(EXTRACT_PREFIX)


def document_kind(entry_id: str) -> str:
    """'catalogue' or 'extract definition': what `qam rulesets list` says an entry applies to."""
    return "catalogue" if entry_id == CATALOGUE_ID else "extract definition"


@dataclass(frozen=True)
class DocumentPaths:
    """Where the working tree's documents are: the settings' catalogue and extract definitions."""

    catalogue_file: Path = DEFAULT_CATALOGUE_FILE
    extracts_dir: Path = DEFAULT_EXTRACTS_DIR

    @classmethod
    def of(cls, settings: Settings) -> DocumentPaths:
        return cls(settings.catalogue_file, settings.extracts_dir)

    def files(self) -> list[tuple[str, Path, str]]:
        """(id, path, shown path) of every document file, the catalogue first."""
        out = [(CATALOGUE_ID, self.catalogue_file, self.catalogue_file.name)]
        if self.extracts_dir.is_dir():
            for path in sorted(self.extracts_dir.iterdir()):
                if path.suffix in (".yaml", ".yml") and path.is_file() and not path.name.startswith("."):
                    shown = f"{self.extracts_dir.name}/{path.name}"
                    out.append((f"{EXTRACT_PREFIX}{path.stem}", path, shown))
        return out


@dataclass(frozen=True)
class Document:
    """A working-tree document as it would be stored."""

    id: str
    version: str
    canonical: str
    sha256: str
    source_path: str
    source_text: str


def canonical_document(text: str, source: str) -> str | None:
    """The canonical content of document YAML text (None when it does not parse to a mapping)."""
    try:
        data = parse_yaml(text, source)
    except EngineError:
        return None
    return canonical_content(data) if isinstance(data, dict) else None


def validate_documents(paths: DocumentPaths) -> tuple[MeasureCatalogue, ExtractDefinitions]:
    """The catalogue and the extract definitions, validated together (an extract's metric must feed
    an item of this catalogue); RulesetError or ExtractError listing every problem at file:line."""
    catalogue = load_measure_catalogue(paths.catalogue_file)
    return catalogue, load_extract_definitions(paths.extracts_dir, tuple(catalogue.measures))


def working_documents(paths: DocumentPaths) -> list[Document]:
    """Every document of the working tree, validated first (raising on any problem)."""
    validate_documents(paths)
    out: list[Document] = []
    for doc_id, path, shown in paths.files():
        text = path.read_text(encoding="utf-8-sig")
        canonical = canonical_document(text, shown)
        if canonical is None:  # validated a moment ago: it changed meanwhile
            raise RulesetError(
                "a configuration file changed while publishing; nothing was published",
                [Problem(Location(shown), "changed while it was being published")],
                hint="Run `qam rulesets publish` again.",
            )
        version = str(json.loads(canonical).get("version", ""))
        out.append(Document(doc_id, version, canonical, content_sha256(canonical), shown, text))
    return out


@dataclass(frozen=True)
class DocumentFile:
    """A working-tree document read as far as verify needs: its id, version and content hash."""

    source: str
    ruleset_id: str
    version: str
    sha256: str


def document_tree(paths: DocumentPaths) -> tuple[list[DocumentFile], list[Problem], int]:
    """The documents that validate, the problems of the rest, and how many files were read."""
    problems: list[Problem] = []
    try:
        validate_documents(paths)
    except ProblemsError as exc:
        problems.extend(exc.problems)
    except ConfigError as exc:
        problems.append(Problem(exc.location or Location(str(paths.catalogue_file)), exc.message))
    bad = {p.location.file for p in problems}
    files = paths.files()
    found: list[DocumentFile] = []
    for doc_id, path, shown in files:
        if str(path) in bad:
            continue
        try:
            canonical = canonical_content(load_yaml(path))
        except EngineError:
            continue
        version = str(json.loads(canonical).get("version", ""))
        found.append(DocumentFile(shown, doc_id, version, content_sha256(canonical)))
    return found, problems, len(files)


def content_problems(entry_id: str, version: str, content: str) -> list[str]:
    """What a document entry's columns and its content disagree on (an edited entry)."""
    data = json.loads(content)
    out = []
    if data.get("version") != version:
        out.append(f"column version says {version!r} but its content says {data.get('version')!r}")
    if entry_id.startswith(EXTRACT_PREFIX) and data.get("extract") != entry_id[len(EXTRACT_PREFIX) :]:
        out.append(
            f"its id {entry_id!r} does not name the extract its content defines ({data.get('extract')!r})"
        )
    return out


def catalogue_from_text(text: str, source: str, sha256: str) -> MeasureCatalogue:
    """A published catalogue's text, validated as when it was published."""
    problems: list[Problem] = []
    catalogue = check_catalogue(parse_yaml(text, source), source, ShapeChecker(source, problems))
    if problems or catalogue is None:
        raise RulesetError("the published catalogue does not load", problems)
    return replace(catalogue, sha256=sha256)


def extracts_from_texts(texts: Sequence[tuple[str, str]], items: Sequence[str]) -> ExtractDefinitions:
    """Published extract definitions ((extract id, text) pairs), validated as a folder of files."""
    with tempfile.TemporaryDirectory(prefix="qam-extracts-") as tmp:
        for extract_id, text in texts:
            (Path(tmp) / f"{extract_id}.yaml").write_text(text, encoding="utf-8")
        return load_extract_definitions(Path(tmp), items)

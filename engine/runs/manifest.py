"""Run manifests: what a scoring, weekly or PEEL run read and wrote, with an id derived from its inputs.

An identical rerun (same inputs, rulesets, force file and arguments) gets the same run id and
writes byte-identical files, all at once; when it ran is kept only in the database (run_executions).
A rerun that replaces another run's folder keeps that run's exceptions.json in previous/. What a
killed run left beside a folder (its hidden old copy, its temporary folder) is put back or removed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from engine.core.errors import ReportError
from engine.core.hashing import canonical_json, sha256_text
from engine.core.models import RulesetRef
from engine.runs.context import RunContext
from engine.runs.gather import Gathered
from engine.store import integrity, runs
from engine.store.db import Database


def engine_version() -> str:
    try:
        return version("qam-engine")
    except PackageNotFoundError:  # running from a checkout without installing
        return "0+unknown"


@dataclass
class Manifest:
    """Everything that determines a run's outputs, plus the outputs' hashes once written."""

    kind: str  # score | weekly | peel | dry-run
    command: str
    arguments: Mapping[str, Any]
    rulesets: Sequence[RulesetRef]
    force_sha256: str
    inputs: Mapping[str, str]  # {"assessments": hash, "incidents": hash}
    draft: bool = False
    engine: str = field(default_factory=engine_version)
    outputs: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    #: the catalogue, then each extract definition (id "catalogue", "extracts/<id>"), as published
    configuration: Sequence[RulesetRef] = ()

    @property
    def run_id(self) -> str:
        """Derived from what the run read and how, never from the clock."""
        basis = {
            "kind": self.kind,
            "arguments": self.arguments,
            "rulesets": [r.to_json() for r in sorted(self.rulesets)],
            "force": self.force_sha256,
            "inputs": self.inputs,
            "draft": self.draft,
            "engine": self.engine,
        }
        if self.configuration:  # a catalogue change alters what the briefings say: another run
            basis["configuration"] = [r.to_json() for r in self.configuration]
        return sha256_text(canonical_json(basis))[:16]

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "command": self.command,
            "arguments": dict(self.arguments),
            "engine": self.engine,
            "draft": self.draft,
            "rulesets": [r.to_json() for r in sorted(self.rulesets)],
            **self._configuration_json(),
            "force_sha256": self.force_sha256,
            "inputs": dict(self.inputs),
            "outputs": dict(sorted(self.outputs.items())),
        }

    def _configuration_json(self) -> dict[str, Any]:
        """{"catalogue": {id, version, sha256}, "extract_definitions": [...]} (nothing when not recorded)."""
        if not self.configuration:
            return {}
        catalogue, *extracts = self.configuration
        return {"catalogue": catalogue.to_json(), "extract_definitions": [r.to_json() for r in extracts]}


#: the subfolder of a run's folder where the exceptions.json of the runs it replaced are kept
PREVIOUS = "previous"
_RUN_ID = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class Replaced:
    """What a run's folder held before the run wrote it afresh: the run that wrote it (as its
    exceptions.json says; None when it names none), whether it held the very same files, and where
    that run's exceptions.json is kept (relative to the folder) when another run wrote it."""

    run_id: str | None
    unchanged: bool
    kept: str | None


@dataclass(frozen=True)
class FolderBefore:
    """A run's folder as it was before the run: the run that wrote it and its files' hashes."""

    run_id: str | None
    hashes: Mapping[str, str]

    def replaced_by(self, run_id: str, hashes: Mapping[str, str]) -> Replaced:
        """What the run ``run_id``, having written ``hashes``, replaced."""
        kept = None
        if self.run_id is not None and self.run_id != run_id:
            kept = f"{PREVIOUS}/{kept_name(self.run_id)}"
        unchanged = self.run_id == run_id and dict(self.hashes) == dict(hashes)
        return Replaced(run_id=self.run_id, unchanged=unchanged, kept=kept)


def kept_name(run_id: str) -> str:
    """'exceptions-0d3178ca7d60deff.json': a replaced run's exceptions.json, in previous/."""
    return f"exceptions-{run_id}.json"


def run_id_of(folder: Path) -> str | None:
    """The run id in ``folder``/exceptions.json; None when there is none (or it is not a run id)."""
    try:
        found = json.loads((folder / "exceptions.json").read_text(encoding="utf-8")).get("run_id")
    except (OSError, ValueError, AttributeError):
        return None
    return found if isinstance(found, str) and _RUN_ID.fullmatch(found) else None


def folder_before(target: Path) -> FolderBefore | None:
    """What ``target`` holds before a run writes it (None: nothing yet), to say what the run replaced;
    a folder a killed run left hidden is put back first (restore_outputs)."""
    restore_outputs(target)
    if not target.is_dir():
        return None
    return FolderBefore(run_id_of(target), _file_hashes(target))


def _file_hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


def _keep_previous(old: Path, new: Path) -> None:
    """Carry ``old``/previous/ into ``new`` and add old's exceptions.json to it when another run wrote
    it: an identical rerun adds nothing, and previous/ never holds the run now in the folder."""
    kept = new / PREVIOUS
    if (old / PREVIOUS).is_dir():
        shutil.copytree(old / PREVIOUS, kept)
    old_id, new_id = run_id_of(old), run_id_of(new)
    if old_id is not None and old_id != new_id:
        kept.mkdir(exist_ok=True)
        shutil.copyfile(old / "exceptions.json", kept / kept_name(old_id))
    if new_id is not None:
        (kept / kept_name(new_id)).unlink(missing_ok=True)
    if kept.is_dir() and not any(kept.iterdir()):
        kept.rmdir()


def _running(pid: int) -> bool:
    """Whether the process ``pid`` is running (this process's own leftovers are not in use)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def restore_outputs(target: Path) -> None:
    """Put back or clear what a killed run (kill -9, a crash) left beside ``target``: with ``target``
    missing, its old copy ``.NAME.old-PID`` is renamed back; the ``.NAME.tmp-PID`` and
    ``.NAME.old-PID`` folders of processes no longer running are removed. A running run's are left."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(tmp|old)-([0-9]+)")
    try:
        left = [
            (found[1], p)
            for p in (target.parent.iterdir() if target.parent.is_dir() else [])
            if (found := pattern.fullmatch(p.name)) and not _running(int(found[2]))
        ]
        olds = sorted((p for kind, p in left if kind == "old"), key=lambda p: p.stat().st_mtime)
        if olds and not target.exists():
            olds[-1].rename(target)  # the latest, should there be several
        for _, p in left:
            if p.exists():
                shutil.rmtree(p)
    except OSError as exc:
        raise ReportError(
            f"cannot restore {target} from what a killed run left: {exc.strerror or exc}"
        ) from None


def write_outputs(target: Path, build: Callable[[Path], None]) -> dict[str, str]:
    """Write a run's files into ``target`` all at once: ``build(folder)`` writes them into a sibling
    temporary folder, which is then renamed into place, so an interrupted run (Ctrl-C, SIGTERM) or a
    failed writer never leaves a half-written folder, nor none. What a killed run left is put back or
    removed first (restore_outputs). A folder another run wrote is replaced, its exceptions.json kept
    in previous/ (_keep_previous). Returns {file name: sha256} of the run's files."""
    restore_outputs(target)
    parent = target.parent
    tmp = parent / f".{target.name}.tmp-{os.getpid()}"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        build(tmp)
        hashes = _file_hashes(tmp)
        old = parent / f".{target.name}.old-{os.getpid()}"
        if target.is_dir():
            _keep_previous(target, tmp)
        try:
            if target.exists():
                target.rename(old)
            tmp.rename(target)
        except BaseException:  # interrupted between the two renames: the old folder goes back
            if old.exists() and not target.exists():
                old.rename(target)
            raise
        if old.exists():
            shutil.rmtree(old)
    except OSError as exc:
        raise ReportError(f"cannot write outputs to {target}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return hashes


def manifest_for(
    context: RunContext, gathered: Gathered, *, kind: str, command: str, arguments: Mapping[str, Any]
) -> Manifest:
    """A weekly or PEEL run's manifest, before its outputs: its versions, force file and inputs."""
    return Manifest(
        kind=kind,
        command=command,
        arguments=dict(arguments),
        rulesets=context.refs(),
        force_sha256=context.force.sha256,
        inputs=gathered.input_hashes(),
        draft=context.draft,
        configuration=context.configuration,
    )


def record_manifest(
    database: Database,
    manifest: Manifest,
    document: Mapping[str, Any],
    *,
    started: dt.datetime,
    finished: dt.datetime,
) -> None:
    """Store a run's manifest document (or refresh it, for an identical rerun) and this execution.

    The document gets the assessments' chain head (integrity.MANIFEST_KEY: the last pk and its
    row_hash) as it stands at the run's first execution, kept by reruns: an anchor that verification
    checks is still in the chain, so a rewrite of the stored revisions before it shows."""
    with database.session() as session:
        before = runs.run(session, manifest.run_id)
        head = (before.manifest if before is not None else {}).get(integrity.MANIFEST_KEY)
        if head is None:
            last = integrity.last_link(session)
            head = last.to_json() if last is not None else None
        document = {**document, integrity.MANIFEST_KEY: head}
        runs.record_run(
            session,
            run_id=manifest.run_id,
            kind=manifest.kind,
            command=manifest.command,
            arguments=manifest.arguments,
            engine_version=manifest.engine,
            draft=manifest.draft,
            manifest=document,
            started_at=started,
            finished_at=finished,
        )

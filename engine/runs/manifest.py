"""Run manifests: what a scoring, weekly or PEEL run read and wrote, with an id derived from its inputs.

An identical rerun (same inputs, rulesets, force file and arguments) gets the same run id and
writes byte-identical files, all at once; when it ran is kept only in the database (run_executions).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
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
from engine.store import runs
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
            "force_sha256": self.force_sha256,
            "inputs": dict(self.inputs),
            "outputs": dict(sorted(self.outputs.items())),
        }


def write_outputs(target: Path, build: Callable[[Path], None]) -> dict[str, str]:
    """Write a run's files into ``target`` all at once: ``build(folder)`` writes them into a sibling
    temporary folder, which is then renamed into place, so an interrupted run (Ctrl-C) or a failed
    writer never leaves a half-written folder. Returns {file name: sha256}."""
    parent = target.parent
    tmp = parent / f".{target.name}.tmp-{os.getpid()}"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        build(tmp)
        hashes = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(tmp.iterdir())}
        old = parent / f".{target.name}.old-{os.getpid()}"
        if target.exists():
            target.rename(old)
        tmp.rename(target)
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
    )


def record_manifest(
    database: Database,
    manifest: Manifest,
    document: Mapping[str, Any],
    *,
    started: dt.datetime,
    finished: dt.datetime,
) -> None:
    """Store a run's manifest document (or refresh it, for an identical rerun) and this execution."""
    with database.session() as session:
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

"""Run manifests: what a scoring, weekly or PEEL run read and wrote, with an id derived from its inputs.

An identical rerun (same inputs, rulesets, force file and arguments) gets the same run id and
writes byte-identical files; when it ran is kept only in the database (run_executions).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from engine.errors import ReportError, UsageError

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def engine_version() -> str:
    try:
        return version("qam-engine")
    except PackageNotFoundError:  # running from a checkout without installing
        return "0+unknown"


@dataclass(frozen=True)
class Period:
    """A reporting period: first and last day (inclusive) and its label."""

    start: dt.date
    end: dt.date
    label: str

    def to_json(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "label": self.label}


def parse_week(label: str) -> Period:
    """'2026-W47' -> Monday 2026-11-16 .. Sunday 2026-11-22."""
    m = _WEEK.match(label.strip())
    if not m:
        raise UsageError(f"invalid week '{label}': use the ISO form YYYY-Www, e.g. 2026-W47")
    year, week = int(m.group(1)), int(m.group(2))
    try:
        start = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise UsageError(f"invalid week '{label}': {year} has no ISO week {week}") from None
    return Period(start, start + dt.timedelta(days=6), f"{year}-W{week:02d}")


def week_label(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"invalid date for {option}: '{text}' (use YYYY-MM-DD)") from None


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_inputs(content_hashes: Iterable[str]) -> str:
    """One hash over the content hashes of every input row read (order-independent): sha256 of the
    sorted hashes, each followed by a newline."""
    items = sorted(content_hashes)
    text = "".join(f"{item}\n" for item in items)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def hash_days(inputs: Iterable[tuple[dt.date, str]]) -> str:
    """One hash over the input hashes of the days read, each hash_inputs of that day's rows (what a
    run manifest records): sha256 of the sorted "day hash" lines."""
    text = "".join(f"{day.isoformat()} {digest}\n" for day, digest in sorted(inputs))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


@dataclass
class Manifest:
    """Everything that determines a run's outputs, plus the outputs' hashes once written."""

    kind: str  # score | weekly | peel | dry-run
    command: str
    arguments: Mapping[str, Any]
    rulesets: list[dict[str, str]]  # [{"id", "version", "sha256"}]
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
            "rulesets": sorted(self.rulesets, key=lambda r: r["id"]),
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
            "rulesets": sorted(self.rulesets, key=lambda r: r["id"]),
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

"""Reviewers and worklists: the reviewers list, one pre-filled XLSX submission template per reviewer
and case type (for a sample or a calibration set), and how far each reviewer has got with a week's sample.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import EngineError, Location, Problem, ProblemsError, problems_summary
from engine.core.periods import Period
from engine.core.text import slug
from engine.inputs.cases import Case, case_fields
from engine.inputs.forms import Form
from engine.inputs.row_schemas import COMMON_MAX_LENGTH
from engine.inputs.text_input import decode_utf8
from engine.store import sampling as store
from engine.store.db import Database

#: the reviewer of every case when no reviewers are named
UNASSIGNED = "unassigned"


def read_reviewers(path: Path) -> tuple[str, ...]:
    """Reviewer names from a text file (one per line) or a CSV (first column, or its 'reviewer' column).

    A first line 'reviewer' or 'name' is a header; blank lines and lines starting with # are skipped.
    Duplicate names (ignoring case) and names that would give the same worklist file are errors.
    """
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProblemsError(
            "cannot read the reviewers file", [Problem(Location(source), exc.strerror or str(exc))]
        ) from None
    text = decode_utf8(data, source, delimiter=",")
    if isinstance(text, Problem):  # UTF-8 only, as every file QAM reads: a guess would garble names
        raise ProblemsError("the reviewers file is not UTF-8", [text])
    entries: list[tuple[str, int]] = []
    column = 0
    for number, record in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [c.strip() for c in record]
        if not any(cells) or cells[0].startswith("#"):
            continue
        lowered = [c.lower() for c in cells]
        if not entries and any(c in ("reviewer", "name") for c in lowered):
            column = lowered.index("reviewer") if "reviewer" in lowered else lowered.index("name")
            continue
        entries.append((cells[column] if column < len(cells) else "", number))
    return check_reviewers(entries, source)


def check_reviewers(
    entries: Sequence[tuple[str, int | None]], source: str = "--reviewers"
) -> tuple[str, ...]:
    """Validate (name, line) pairs; all problems raise one ProblemsError. Returns the names in order."""
    problems: list[Problem] = []
    names: list[str] = []
    seen: dict[str, int | None] = {}
    slugs: dict[str, str] = {}
    for name, line in entries:
        where = Location(source, line, "reviewer")
        if not name:
            problems.append(Problem(where, "a reviewer name is blank"))
        elif len(name) > COMMON_MAX_LENGTH["reviewer"]:
            problems.append(Problem(where, f"is longer than {COMMON_MAX_LENGTH['reviewer']} characters"))
        elif name.lower() in seen:
            first = seen[name.lower()]
            problems.append(
                Problem(where, f"'{name}' is listed twice" + (f" (first at line {first})" if first else ""))
            )
        elif slug(name) in slugs:
            other = slugs[slug(name)]
            problems.append(
                Problem(where, f"'{name}' and '{other}' would share the worklist file name '{slug(name)}'")
            )
        else:
            seen[name.lower()] = line
            slugs[slug(name)] = name
            names.append(name)
    if not names and not problems:
        problems.append(Problem(Location(source), "no reviewer names found"))
    if problems:
        raise ProblemsError(f"invalid reviewers list: {problems_summary(problems, 'file')}", problems)
    return tuple(names)


@dataclass(frozen=True)
class WorkItem(Case):
    """One case on one reviewer's worklist."""

    reviewer: str
    stratum: str = "all"
    due_on: dt.date | None = None

    def prefill(self) -> dict[str, str]:
        """The template columns this item fills (the reviewer only when named)."""
        row = self.columns()
        if self.reviewer != UNASSIGNED:
            row["reviewer"] = self.reviewer
        return row


@dataclass(frozen=True)
class WorklistFiles:
    """Worklists written, and those kept because the file already existed (a reviewer may be filling it)."""

    written: tuple[Path, ...]
    kept: tuple[Path, ...]

    def summary(self) -> str:
        lines = [f"Wrote {len(self.written)} worklist{'s' if len(self.written) != 1 else ''}:"]
        lines += [f"  {p}" for p in self.written]
        if self.kept:
            lines.append(
                f"Kept {len(self.kept)} existing worklist{'s' if len(self.kept) != 1 else ''} (not overwritten):"
            )
            lines += [f"  {p}" for p in self.kept]
        return "\n".join(lines)


def worklist_name(label: str, reviewer: str, case_type: str) -> str:
    """'2026-W47-ann-smith-stop_search.xlsx'."""
    return f"{label}-{slug(reviewer)}-{case_type}.xlsx"


def write_worklists(
    items: Sequence[WorkItem],
    forms: Mapping[str, Form],
    out_dir: Path,
    *,
    label: str,
    place_codes: Collection[str] = (),
) -> WorklistFiles:
    """One pre-filled XLSX submission template per (reviewer, case type), cases in (place, date, ref)
    order, named by :func:`worklist_name`. An existing file is never overwritten.
    """
    from engine.inputs.templates import write_template  # openpyxl loads only when a worklist is written

    by_file: dict[tuple[str, str], list[WorkItem]] = {}
    for item in items:
        by_file.setdefault((item.reviewer, item.case_type), []).append(item)
    written: list[Path] = []
    kept: list[Path] = []
    for (reviewer, case_type), group in sorted(by_file.items()):
        path = out_dir / worklist_name(label, reviewer, case_type)
        if path.exists():
            kept.append(path)
            continue
        if case_type not in forms:
            raise EngineError(f"no QA form for case type {case_type}: cannot write the worklist {path.name}")
        group.sort(key=lambda i: (i.place, i.case_date, i.case_ref))
        write_template(
            forms[case_type], "xlsx", path, place_codes=place_codes, prefill=[i.prefill() for i in group]
        )
        written.append(path)
    return WorklistFiles(tuple(written), tuple(kept))


def work_item(row: store.ItemRow) -> WorkItem:
    """A drawn sample item as a worklist item, with its case's details."""
    case, item = row.case, row.item
    if case is None:  # the engine never deletes cases; only a hand-edited database gets here
        raise EngineError(f"sample item {item.case_type} {item.case_ref} is no longer in the cases extract")
    # the place as drawn: a later extract may have corrected it, the sample keeps its design
    fields = {**case_fields(case), "place": item.place}
    return WorkItem(**fields, reviewer=item.reviewer, stratum=item.stratum, due_on=item.due_on)


# --------------------------------------------------------------------------- status


@dataclass(frozen=True)
class StatusRow:
    reviewer: str
    place: str
    drawn: int
    submitted: int
    overdue: int

    @property
    def outstanding(self) -> int:
        return self.drawn - self.submitted


@dataclass(frozen=True)
class SampleStatus:
    """Drawn vs submitted per reviewer and place for a week's samples, and the overdue cases."""

    week: str
    today: dt.date
    rows: tuple[StatusRow, ...]
    overdue: tuple[WorkItem, ...]

    @property
    def drawn(self) -> int:
        return sum(r.drawn for r in self.rows)

    @property
    def submitted(self) -> int:
        return sum(r.submitted for r in self.rows)

    def summary(self, max_overdue: int = 20) -> str:
        lines = [
            f"Sample {self.week} on {self.today.isoformat()}: {self.drawn:,} drawn, {self.submitted:,} submitted, "
            f"{self.drawn - self.submitted:,} outstanding, {len(self.overdue):,} overdue.",
            f"  {'reviewer':<24} {'place':<6} {'drawn':>6} {'submitted':>9} {'outstanding':>11} {'overdue':>7}",
        ]
        for r in self.rows:
            lines.append(
                f"  {r.reviewer[:24]:<24} {r.place:<6} {r.drawn:>6} {r.submitted:>9} {r.outstanding:>11} {r.overdue:>7}"
            )
        if self.overdue:
            lines.append("Overdue:")
            for i in self.overdue[:max_overdue]:
                due = i.due_on.isoformat() if i.due_on else ""
                lines.append(f"  {i.case_ref}  {i.case_type}  {i.place}  {i.reviewer}  due {due}")
            if len(self.overdue) > max_overdue:
                lines.append(f"  ... and {len(self.overdue) - max_overdue} more")
        return "\n".join(lines)


def sample_status(database: Database, week: Period, today: dt.date) -> SampleStatus:
    """Per reviewer and place: drawn, submitted (a performance assessment of the case exists, by anyone),
    outstanding, and overdue (outstanding past its due date, i.e. due_on < today)."""
    with database.session() as session:
        samples = store.samples_for_week(session, week.label)
        if not samples:
            raise EngineError(
                f"no sample has been drawn for {week.label}",
                hint=f"Draw one with: qam sample --week {week.label}",
            )
        rows = store.sample_items(session, [s.pk for s in samples])
    counts: dict[tuple[str, str], list[int]] = {}
    overdue: list[WorkItem] = []
    for row in rows:
        item = row.item
        c = counts.setdefault((item.reviewer, item.place), [0, 0, 0])
        c[0] += 1
        if row.submitted:
            c[1] += 1
        elif item.due_on < today:
            c[2] += 1
            overdue.append(work_item(row))
    status_rows = tuple(StatusRow(r, p, *c) for (r, p), c in sorted(counts.items()))
    overdue.sort(key=lambda i: (i.due_on or today, i.reviewer, i.place, i.case_ref))
    return SampleStatus(week.label, today, status_rows, tuple(overdue))

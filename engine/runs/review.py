"""`qam review --quarter 2026-Q3`: the quarter's Learning Review pack (docs/reviews.md), written at
once into ``<out>/review-<quarter>/``: review.pdf, review.csv (its figures) and manifest.json.

The theme's items are measured with the PEEL rerun's own functions over the quarter (gather,
prepare, analyse, build_report), so the pack and `qam peel --from <quarter start> --to <quarter
end>` cite the same figures. The exceptions of the quarter's weeks are worked out afresh, week by
week, as each weekly run finds them (gather and analyse over the week and its two years of
history): the pack does not depend on every weekly run having been made."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from engine.analysis.frames import CaseColumns
from engine.analysis.recognition import DEFAULT_PER_PLACE, Recognition, find_recognition
from engine.analysis.review import (
    BASELINE_WEEKS,
    LAST_WEEKS,
    item_charts,
    persistence,
    quarter_weeks,
    stories,
    story_cases,
    team_figures,
)
from engine.analysis.tables import write_rows_csv
from engine.core.config import Settings, load_force
from engine.core.models import PerformanceException
from engine.core.parallel import cores, fork_map
from engine.core.periods import Period
from engine.core.reviews import Theme, check_themes, load_calendar
from engine.inputs.forms import load_forms
from engine.reports.review_data import REVIEW_CSV_COLUMNS, ReviewPack, csv_rows, quarter_only
from engine.rules.catalogue import load_measure_catalogue
from engine.runs.analysis import analyse, prepare
from engine.runs.context import RunContext, criteria_rows, run_context
from engine.runs.gather import DEFAULT_HISTORY_WEEKS, gather, outcome_basis, outcome_summaries, read_incidents
from engine.runs.manifest import manifest_for, write_outputs
from engine.runs.peel_figures import build_report
from engine.runs.scoring import score_pending
from engine.runs.weekly import reviewed_count
from engine.store.actions import Action, list_actions
from engine.store.db import Database, open_database
from engine.store.note_kinds import note_kinds_of
from engine.store.schema import initialised

KIND = "review"
#: find_recognition's cap a place, lifted: theme_recognition applies it to the theme's items alone
_UNCAPPED = 1_000_000
PDF_NAME, CSV_NAME = "review.pdf", "review.csv"


@dataclass(frozen=True)
class ReviewResult:
    """What `qam review` wrote: the folder, the pack, and how many assessments it newly scored."""

    folder: Path
    pack: ReviewPack
    scored: int


def folder_name(quarter: str) -> str:
    return f"review-{quarter}"


def theme_items(context: RunContext, theme: Theme) -> tuple[str, ...]:
    """The theme's items: those it names, or its priority's in catalogue order."""
    return theme.item_ids(context.catalogue.of_priority)


def weekly_exceptions(
    database: Database, context: RunContext, weeks: Sequence[Period], *, workers: int | None = None
) -> list[tuple[str, list[PerformanceException]]]:
    """Each week's exceptions as its weekly run finds them: the week's rows and its history of
    DEFAULT_HISTORY_WEEKS weeks, gathered and analysed the same way. The day summaries they all read
    are made and stored here first, so the weeks are then worked out two at a time (``workers``, by
    default up to 2 processes, as a PEEL rerun uses), each on a connection of its own, storing nothing."""
    if not weeks:
        return []
    first = weeks[0].start - dt.timedelta(weeks=DEFAULT_HISTORY_WEEKS)
    outcome_summaries(database, outcome_basis(context), first, weeks[-1].start - dt.timedelta(days=1))
    read_incidents(database, context, first, weeks[-1].end)

    def one(i: int) -> tuple[str, list[PerformanceException]]:
        week = weeks[i]
        own = open_database(database.url)
        try:
            g = gather(
                own, context, history_from=week.start - dt.timedelta(weeks=DEFAULT_HISTORY_WEEKS), period=week
            )
            return week.label, analyse(context, g, week, prepared=prepare(context, g)).findings.exceptions
        finally:
            own.close()

    return fork_map(one, len(weeks), workers=workers or min(2, cores()))


def _note_kinds(database: Database) -> Callable[[Sequence[int]], Mapping[int, str]]:
    """Looks up the note kinds of assessment keys (store.note_kinds), for stories and recognition."""

    def look_up(keys: Sequence[int]) -> Mapping[int, str]:
        with database.session() as session:
            return note_kinds_of(session, keys)

    return look_up


def theme_recognition(found: Sequence[Recognition], items: Collection[str]) -> list[Recognition]:
    """The theme's recognition, at most DEFAULT_PER_PLACE items a place in the order found
    (``found``: find_recognition's with no cap, so other items do not crowd the theme's out)."""
    kept: list[Recognition] = []
    for r in found:
        if r.measure in items and sum(1 for k in kept if k.place == r.place) < DEFAULT_PER_PLACE:
            kept.append(r)
    return kept


def _actions(database: Database, quarter: Period) -> tuple[Action, ...]:
    """The open actions (any item and place), then those closed in the quarter."""
    every = list_actions(database, status="all")
    closed = [a for a in every if a.closed_on is not None and quarter.start <= a.closed_on <= quarter.end]
    return tuple([a for a in every if a.is_open] + closed)


def run_review(
    database: Database,
    context: RunContext,
    theme: Theme,
    out: Path,
    *,
    now: Callable[[], dt.datetime],
    calendar: Mapping[str, str],
) -> ReviewResult:
    """Score what is new up to the quarter's end, measure the theme's items over the quarter as a
    PEEL rerun of it does, work out its weeks' exceptions, and write the pack.
    ``calendar``: {"path", "version", "sha256"} of the calendar file, recorded in the manifest."""
    quarter = Period(theme.start, theme.end, theme.quarter)
    items = theme_items(context, theme)
    started = now()
    today = started.astimezone().date()  # the day where QAM runs, as qam actions counts overdue
    scored = score_pending(database, context, until=quarter.end, scored_at=started).summary
    weeks = quarter_weeks(quarter.start, quarter.end)
    ended = [w for w in weeks if w.end < today]
    history_from = (weeks[0].start if weeks else quarter.start) - dt.timedelta(weeks=BASELINE_WEEKS)
    gathered = gather(database, context, history_from=history_from, period=quarter)
    prepared = prepare(context, gathered)
    analysis = analyse(context, gathered, quarter, prepared=prepared)
    actions = _actions(database, quarter)
    # what the pack shows besides the inputs a manifest hashes: the day (weeks over, actions
    # overdue) and the actions, so another day or another action is another pack id
    arguments = {
        "quarter": quarter.label,
        "items": list(items),
        "calendar_sha256": calendar["sha256"],
        "as_of": today.isoformat(),
        "actions_sha256": hashlib.sha256(repr(actions).encode("utf-8")).hexdigest(),
    }
    manifest = manifest_for(
        context, gathered, kind=KIND, command=f"qam review --quarter {quarter.label}", arguments=arguments
    )
    report = build_report(
        context, prepared, (quarter, analysis), [(quarter, analysis)], as_of=None, run_id=manifest.run_id,
        cases_reviewed=reviewed_count(gathered.reviewed), comparison=None,
    )  # fmt: skip
    by_item = {s.measure.id: s for p in report.pillars for s in p.measures}
    sections = tuple(quarter_only(by_item[i]) for i in items if i in by_item)
    crit = criteria_rows(context)
    standards: dict[str, float | None] = {}
    for i in items:
        minima = {c["minimum"] for c in crit if c["measure"] == i}
        standards[i] = minima.pop() if len(minima) == 1 else None
    measures = [context.catalogue.measures[i] for i in items if i in context.catalogue.measures]
    look_up = _note_kinds(database)
    columns = gathered.outcome_columns
    assert isinstance(columns, CaseColumns)  # as read_outcomes gives them
    cases = story_cases(columns, crit, items)
    recognised = find_recognition(
        prepared.outcomes, quarter.start, quarter.end, aggregates=analysis.table,
        outcome_days=prepared.outcome_sums, note_kinds=look_up, label=quarter.label, per_place=_UNCAPPED,
    )  # fmt: skip
    pack = ReviewPack(
        force_name=context.force.name,
        theme=theme,
        theme_text=_theme_text(context, theme, items),
        items=items,
        run_id=manifest.run_id,
        report=replace(report, quarters=()),
        sections=sections,
        charts=item_charts(prepared.outcome_sums.to_days(), measures, ended, standards),
        teams=tuple(team_figures(analysis.table, items)),
        place_names={p.code: p.name for p in context.force.places},
        weeks=tuple(w.label for w in ended),
        weeks_not_ended=tuple(w.label for w in weeks if w not in ended),
        raised=tuple(persistence(weekly_exceptions(database, context, ended), items)),
        improvements=tuple(theme_recognition(recognised, items)),
        stories=tuple(stories(cases, look_up(sorted(cases)) if cases else {})),
        actions=actions,
        as_of=today,
        catalogue_version=context.catalogue.version,
        calendar_version=calendar["version"],
        last_weeks=LAST_WEEKS,
    )
    document = manifest.to_json()
    document["period"] = quarter.to_json()
    document["registry_head"] = context.registry_head
    document["calendar"] = dict(calendar)

    def build(folder: Path) -> None:
        from engine.reports.review_pdf import review_pdf  # reportlab loads only when a pack is written

        write_rows_csv(csv_rows(pack), REVIEW_CSV_COLUMNS, folder / CSV_NAME)
        (folder / PDF_NAME).write_bytes(review_pdf(pack).data)
        outputs = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}
        (folder / "manifest.json").write_text(
            json.dumps({**document, "outputs": outputs}, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )

    target = out / folder_name(quarter.label)
    write_outputs(target, build)
    return ReviewResult(target, pack, scored.total)


def _theme_text(context: RunContext, theme: Theme, items: Sequence[str]) -> str:
    names = ", ".join(items)
    if theme.priority is not None:
        return f"priority {theme.priority}, {context.catalogue.priorities.get(theme.priority, '')}: {names}"
    return f"items {names}"


def review_run(
    settings: Settings, quarter: str, out: Path, *, now: Callable[[], dt.datetime]
) -> ReviewResult:
    """`qam review`: the calendar read and its themes checked against the catalogue in use, then
    run_review under the published rulesets, catalogue and extract definitions (as an official
    run's). A quarter the calendar gives no theme is refused (exit 3) before anything is read."""
    calendar = load_calendar(settings.reviews_file)
    theme = calendar.theme(quarter)
    own = load_measure_catalogue(settings.catalogue_file)  # checked before the database is opened
    check_themes(calendar, own.priorities, own.measures)
    force, forms = load_force(settings.force_file), load_forms(settings.forms_dir)
    with initialised(settings.database_url) as database:
        context = run_context(database, settings, force, forms, draft=False)
        check_themes(calendar, context.catalogue.priorities, context.catalogue.measures)
        file = Path(calendar.path)
        about = {
            "path": file.name,
            "version": calendar.version,
            "sha256": hashlib.sha256(file.read_bytes()).hexdigest(),
        }
        return run_review(database, context, theme, out, now=now, calendar=about)

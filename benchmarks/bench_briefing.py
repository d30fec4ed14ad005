"""Benchmark: render the demo force's place briefings and force.pdf; print pages per second.

Goal (issue 6): >= 50 pages/s on one core. Content is generated with a fixed seed: 12 places,
2-6 exceptions each (all four kinds, SPC charts of 26 weeks, 1-45 failing cases with why-traces
and notes). Run by hand: python benchmarks/bench_briefing.py [--repeat N] [--workers N|auto] [--out DIR]
Without --workers it times place_pdf/force_pdf one after another; with it, render_briefings.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from engine.analysis.stats import wilson_interval
from engine.core.config import DEFAULT_FORCE_FILE, load_force
from engine.core.models import (
    CaseDetail,
    ExceptionKind,
    PerformanceException,
    RulesetRef,
    SeriesPoint,
    SpcChart,
)
from engine.reports.briefing import place_pdf
from engine.reports.briefing_data import (
    BriefingRun,
    PlaceBriefing,
    build_place_briefings,
)
from engine.reports.force_brief import force_pdf
from engine.reports.force_data import ForceSummary, build_force_summary
from engine.reports.render_pool import render_briefings

MEASURES = {  # measure: (priority, peel, iserve, case type prefix, unit noun, criterion text)
    "D11": (
        4,
        "legitimacy",
        ("integrity", "engagement"),
        "SS",
        "searches",
        "Grounds for the search are recorded",
    ),
    "M8": (3, "effectiveness", ("victims",), "VC", "victims", "Victim updated within the agreed timescale"),
    "M5": (2, "effectiveness", ("evidence",), "CF", "files", "MG5 case summary is balanced"),
    "D5": (
        2,
        "effectiveness",
        ("evidence", "victims"),
        "IN",
        "investigations",
        "Investigation plan recorded",
    ),
    "D7": (3, "effectiveness", ("safeguarding",), "DA", "cases", "High-risk DASH is referred to MARAC"),
    "M2": (1, "effectiveness", ("response",), "INC", "incidents", "Grade 1 attended within 15 minutes"),
}
RULESET_IDS = (  # one per measure above, in the same order
    "stop-search-legitimacy",
    "victims-code-compliance",
    "crime-file-quality",
    "investigation-quality",
    "domestic-abuse-safeguarding",
    "response-times",
)
RULESETS = tuple(RulesetRef(name, "1.0.0", f"{i:02d}" * 32) for i, name in enumerate(RULESET_IDS))


def _chart(rng: random.Random) -> SpcChart:
    mean = rng.uniform(0.6, 0.85)
    values = [min(1.0, max(0.0, rng.gauss(mean, 0.03))) for _ in range(19)]
    values += [min(1.0, max(0.0, rng.gauss(mean - 0.08, 0.03))) for _ in range(7)]
    points = tuple(
        SeriesPoint(f"2026-W{22 + i:02d}", v, rng.randint(25, 60), flagged=i >= 19)
        for i, v in enumerate(values)
    )
    return SpcChart(points, mean, mean - 0.07, mean + 0.07, 12, ("shift",), "hit_and_miss", "higher")


def _exception(rng: random.Random, place: str, kind: ExceptionKind, serial: int) -> PerformanceException:
    measure = "M2" if kind is ExceptionKind.THRESHOLD else rng.choice(["D11", "M8", "M5", "D5", "D7"])
    priority, peel, iserve, prefix, unit, criterion_text = MEASURES[measure]
    n = rng.randint(300, 900) if kind is ExceptionKind.THRESHOLD else rng.randint(15, 90)
    failing = 1 if kind is ExceptionKind.CRITICAL else rng.randint(3, min(45, n - 1))
    k = n - failing
    low, high = wilson_interval(k, n)
    refs = tuple(f"{prefix}-{place}-{serial:02d}{i:03d}" for i in range(failing))
    details = ()
    if kind is not ExceptionKind.THRESHOLD:
        details = tuple(
            CaseDetail(
                case_ref=ref,
                team=f"{rng.choice(['Response', 'Neighbourhood', 'CID', 'Safeguarding'])} Team {rng.randint(1, 4)}",
                officer=f"PC {rng.randint(1000, 9999)}",
                reviewer=rng.choice(["S. Clarke", "J. Osei", "M. Kowalski"]),
                assessed_on=f"2026-11-{rng.randint(16, 22)}",
                criterion_text=criterion_text,
                trace=tuple(
                    f"step {j}: answer recorded as '{rng.choice(['no', 'partly', 'blank'])}', expected yes"
                    for j in range(rng.randint(1, 12 if kind is ExceptionKind.CRITICAL else 3))
                ),
                note=rng.choice(
                    ["", "", "Supervisor not informed; see BWV.", "Recorded late <after shift>."]
                ),
            )
            for ref in refs
        )
    return PerformanceException(
        place=place,
        priority=priority,
        measure=measure,
        peel=peel,
        iserve=iserve,
        ruleset=RULESETS[list(MEASURES).index(measure)].id,
        criterion=f"{prefix}{serial:02d}",
        kind=kind,
        reason=f"{criterion_text}: met in {k} of {n} {unit} reviewed ({k / n:.0%}); the true rate is at most "
        f"{high:.0%}, below the minimum standard of 90%.",
        n=n,
        passed=k,
        rate=k / n,
        ci_low=low,
        ci_high=high,
        standard=0.9,
        cases=refs,
        criterion_text=criterion_text,
        details=details,
        chart=_chart(rng) if kind is ExceptionKind.SPECIAL_CAUSE else None,
        frame_size=n * 4 if measure == "D11" else None,
    )


def build(seed: int = 47) -> tuple[list[PlaceBriefing], ForceSummary]:
    rng = random.Random(seed)
    force = load_force(DEFAULT_FORCE_FILE)
    exceptions = []
    for place in force.places:
        for serial in range(rng.randint(2, 6)):
            exceptions.append(_exception(rng, place.code, rng.choice(list(ExceptionKind)), serial))
    run = BriefingRun(force.name, "2026-W47", "2026-11-16", "2026-11-22", RULESETS, "bench000000000000")
    reviewed = {
        p.code: {"stop_search": 40, "victim_care": 35, "crime_file": 30, "domestic_abuse": 20}
        for p in force.places
    }
    briefings = build_place_briefings(exceptions, force.places, reviewed, run)
    return briefings, build_force_summary(exceptions, force.places, run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--workers",
        type=_workers,
        default=False,
        help="time render_briefings with this many processes ('auto': let it choose)",
    )
    parser.add_argument("--out", type=Path, help="also write the PDFs here, to look at")
    args = parser.parse_args()
    briefings, summary = build()
    # warm up (font registration and imports are once per process) and count the pages
    rendered = [place_pdf(b) for b in briefings] + [force_pdf(summary)]
    pages = sum(p.pages for p in rendered)
    wall, cpu = [], []
    for _ in range(args.repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        if args.workers is False:
            pdfs = {f"{b.place.code}.pdf": place_pdf(b).data for b in briefings}
            pdfs["force.pdf"] = force_pdf(summary).data
        else:
            pdfs = render_briefings(briefings, summary, workers=args.workers)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    size = sum(len(p) for p in pdfs.values())
    how = "one after another" if args.workers is False else f"render_briefings(workers={args.workers})"
    print(
        f"{len(pdfs)} PDFs ({len(briefings)} places + force.pdf), {pages} pages, {size / 1024:.0f} KiB; {how}"
    )
    # CPU time is this process's (children not counted); wall time also counts other processes on a
    # shared machine
    for name, times in (("wall", wall), ("cpu", cpu)):
        print(
            f"{name}: best {min(times):.3f} s, median {statistics.median(times):.3f} s over {args.repeat} runs; "
            f"pages/s best {pages / min(times):.0f}, median {pages / statistics.median(times):.0f} (goal >= 50)"
        )
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, pdf in pdfs.items():
            (args.out / name).write_bytes(pdf)
        print(f"written to {args.out}")


def _workers(text: str) -> int | None:
    return None if text == "auto" else int(text)


if __name__ == "__main__":
    main()

"""What the declared metrics' figures add to a PEEL year and to a weekly run (issue 17, Performance):
a year of every bundled figures extract for the 12 demo places (daily and weekly figures for 52
weeks, monthly for 12 months, surveys for 4 quarters: engine.demo.figures), framed once
(FigureData.of, what runs.analysis.prepare does), then analysed as a PEEL year does (the period and
its four quarters: each span's figures and exceptions) and as the year's last weekly run does, with
a threshold on every metric (SPC on each, and each event a line), the most work there can be.

The PEEL year's goal is the whole rerun within 10 s and 1 GB (benchmarks/figures_year.py measures
that end to end); this isolates the figures' share of it, with no database.

    python benchmarks/bench_figure_analysis.py            # prints one JSON line
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FIRST_MONDAY = dt.date(2026, 3, 30)  # 2026-W14: a year to 2027-W13
WEEKS = 52


def year_rows() -> tuple[list[dict[str, object]], dict[str, object]]:
    """The year's figure rows as the store returns them, and the declared metrics."""
    from engine.core.config import DEFAULT_EXTRACTS_DIR, DEFAULT_FORCE_FILE, load_force
    from engine.core.periods import parse_grain_period
    from engine.demo.figures import FigurePlan, demo_metrics, metric_rows
    from engine.inputs.extract_definitions import load_extract_definitions

    definitions = load_extract_definitions(DEFAULT_EXTRACTS_DIR)
    months = tuple(f"{2026 + (m // 12)}-{m % 12 + 1:02d}" for m in range(3, 15))
    plan = FigurePlan(
        tuple(FIRST_MONDAY + dt.timedelta(weeks=w) for w in range(WEEKS)),
        months,
        ("2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1"),
    )
    places = load_force(DEFAULT_FORCE_FILE).places
    rows: list[dict[str, object]] = []
    for metric in demo_metrics(definitions):
        for r in metric_rows(metric, places, plan):
            p = parse_grain_period(r["period"])

            def num(key: str, row: dict[str, str] = r) -> float | None:
                return float(row[key]) if row[key] != "" else None

            rows.append(
                {
                    "item": r["item"], "metric": r["metric"], "place": r["place"], "team": r["team"],
                    "period": r["period"], "period_start": p.start, "period_end": p.end,
                    "numerator": num("numerator"), "denominator": num("denominator"), "value": num("value"),
                    "count": num("count"), "event_ref": r["event_ref"] or None,
                    "event_on": dt.date.fromisoformat(r["event_on"]) if r["event_on"] else None,
                    "detail": r["detail"] or None,
                }
            )  # fmt: skip
    metrics = {m.id: m for m in demo_metrics(definitions)}
    return rows, metrics


def main() -> None:
    from engine.analysis.evidence import Catalogue
    from engine.analysis.figure_findings import FigureData, figure_findings
    from engine.core.periods import Period
    from engine.rules.catalogue import load_measure_catalogue

    started = time.perf_counter()
    rows, metrics = year_rows()
    generated = time.perf_counter() - started
    import scipy.stats  # noqa: F401  (imported once by the analysis; timed apart: about a second)

    scipy_s = time.perf_counter() - started - generated
    cpu = time.process_time()
    thresholds = [
        {"ruleset": "bench", "criterion": f"B{i:02d}", "metric": m, "text": m, "measure": d.item,
         "priority": None, "peel": None, "iserve": None, "minimum": None, "maximum": None,
         "direction": d.direction, "guidance": ""}
        for i, (m, d) in enumerate(sorted(metrics.items()))
    ]  # fmt: skip
    catalogue = load_measure_catalogue()
    cat = Catalogue(
        {},
        {
            m.id: {"priority": m.priority, "peel": m.peel, "iserve": list(m.iserve)}
            for m in catalogue.measures.values()
        },
    )
    year = Period(FIRST_MONDAY, FIRST_MONDAY + dt.timedelta(weeks=WEEKS, days=-1), "peel-year")
    t0 = time.perf_counter()
    data = FigureData.of(rows, metrics, thresholds)
    framed = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = 0
    for span in (year, *year.quarters()):
        data.span(span.start, span.end)
        found += len(figure_findings(data, cat, span.start, span.end))
    peel = time.perf_counter() - t0
    t0 = time.perf_counter()
    last_week = (year.end - dt.timedelta(days=6), year.end)
    weekly = len(figure_findings(data, cat, *last_week))
    week_time = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "rows": len(rows),
                "metrics": len(metrics),
                "generate_s": round(generated, 2),
                "frame_s": round(framed, 2),
                "peel_year_spans_and_findings_s": round(peel, 2),
                "peel_exceptions": found,
                "week_findings_s": round(week_time, 2),
                "week_exceptions": weekly,
                "scipy_import_s": round(scipy_s, 2),
                "analysis_cpu_s": round(time.process_time() - cpu, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


if __name__ == "__main__":
    main()

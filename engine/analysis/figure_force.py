"""The force as a whole on a declared metric's figures (docs/outputs.md "Figures from extracts"):
judged like each place, with the same 95% confidence rule, so a drift spread over the places that
no place's figure shows alone can still raise an exception for the FORCE.

The force's figure is figures.levels' force level: every place's rows added up -- numerators and
denominators (a proportion), respondents agreeing and respondents (a survey), a time's values with
their counts (so its mean is the sum of the values over their number, and its median that of every
value), counts and exposures (a rate) -- never an average of the places' rates; or, for a metric
with figures sent for the FORCE itself, those. figure_findings judges the force's row of a span
beside the places' (:func:`judged`), and :func:`with_coverage` makes each FORCE exception's reason
say which of those it is, and which places' figures it adds up: a place that sends the metric but
sent nothing for the period is named, as its figure is not in the force's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from engine.analysis.aggregate import FORCE_KEY
from engine.analysis.figure_periods import GRAINS
from engine.core.figure_facts import figure_of
from engine.core.models import PerformanceException

#: what adding up a kind's figures adds up, as a reason says it
ADDED_UP = {
    "proportion": "numerators and denominators",
    "survey": "respondents",
    "time": "values and their counts",
    "count": "counts and exposures",
}


#: the level of the force's figures in figures.levels
FORCE_LEVEL = "force"


def judged(span: pd.DataFrame) -> pd.DataFrame:
    """The figures of a span (figures.span_figures) that are judged: each place's and the force's."""
    return span[span["level"].isin(("place", FORCE_LEVEL)).to_numpy()]


@dataclasses.dataclass(frozen=True)
class ForceCoverage:
    """What the force's figure of a metric for ``start``..``end`` is made of: the places whose figures
    it adds up (none when it is the figure sent for the force itself), and the places that send the
    metric but have no figure inside those days."""

    summed: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def sent_for_force(self) -> bool:
        return not self.summed


def coverage(levelled: pd.DataFrame, metric: str, start: dt.date, end: dt.date) -> ForceCoverage:
    """What the force's figure of ``metric`` over ``start``..``end`` adds up (figures.levels' rows):
    the place rows lying inside those days at the finest grain that has any, as figures.span_figures
    pools them. When the force's rows there are not those same rows (same number, same sums), the
    force's figure is the one sent for the FORCE."""
    rows = levelled[(levelled["metric"] == metric).to_numpy()]
    starts, ends = rows["point_start"], rows["point_end"]
    inside = rows[((starts >= start) & (ends <= end)).to_numpy()]
    if inside.empty:
        return ForceCoverage((), ())
    finest = min(inside["grain"].tolist(), key=GRAINS.index)
    inside = inside[(inside["grain"] == finest).to_numpy()]
    places = inside[(inside["level"] == "place").to_numpy()]
    force = inside[(inside["level"] == FORCE_LEVEL).to_numpy()]
    if len(places) != len(force) or not _same_sums(places, force):
        return ForceCoverage((), ())
    summed = sorted(set(places["place"].tolist()))
    sending = set(rows.loc[(rows["level"] == "place").to_numpy(), "place"].tolist())
    return ForceCoverage(tuple(summed), tuple(sorted(sending - set(summed))))


def _same_sums(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    for column in ("n_i", "k_i", "e_i", "v_c"):
        x, y = a[column].to_numpy(dtype=np.float64), b[column].to_numpy(dtype=np.float64)
        if not np.isclose(np.nansum(x), np.nansum(y), rtol=1e-12, atol=0.0):
            return False
    return True


def coverage_text(kind: str, period: str, cover: ForceCoverage) -> str:
    """The sentence a FORCE exception's reason ends with: what the force's figure counts."""
    if cover.sent_for_force:
        return "The force's figure is the one sent for the force as a whole."
    text = (
        f"The force's figure adds up the {ADDED_UP.get(kind, 'figures')} of {len(cover.summed)} places "
        f"with figures for {period} ({', '.join(cover.summed)})"
    )
    if not cover.missing:
        return text + ", every place that sends them."
    missing = len(cover.missing)
    return (
        f"{text}; {missing} {'place that sends them' if missing == 1 else 'places that send them'} "
        f"sent none for it ({', '.join(cover.missing)}): "
        f"{'its figure is' if missing == 1 else 'their figures are'} not in the force's."
    )


def with_coverage(
    found: Sequence[PerformanceException], levelled: pd.DataFrame
) -> list[PerformanceException]:
    """The exceptions, each FORCE one's reason ending with what the force's figure counts; one on a
    figure that adds up a single place's is left out, as that place's own figure is judged already."""
    out: list[PerformanceException] = []
    for e in found:
        f = figure_of(e)
        if e.place != FORCE_KEY or f is None or f.kind == "event":
            out.append(e)
            continue
        cover = coverage(levelled, f.metric, dt.date.fromisoformat(f.start), dt.date.fromisoformat(f.end))
        if len(cover.summed) == 1:
            continue
        why = e.reason.replace("this place's", "the force's")  # a special cause's usual range
        out.append(dataclasses.replace(e, reason=f"{why} {coverage_text(f.kind, f.period, cover)}"))
    return out

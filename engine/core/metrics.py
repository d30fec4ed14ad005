"""The metrics QAM works out itself from the incidents extract: what each is, its unit and improvement
direction, and the response settings it reads. The extract definition extracts/incidents.yaml
(``source: incidents``) declares which of them a force uses; a ruleset's thresholds name them.

Two kinds: a proportion (incidents or calls within a time standard: n, passes, Wilson interval) and a
time (attendance minutes or answer seconds of the incidents attended or calls answered: the mean with
its 95% interval, the median and 90th percentile).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

PROPORTION = "proportion"
TIME = "time"


@dataclass(frozen=True)
class IncidentMetric:
    """One metric of the incidents extract, as engine.analysis.incidents works it out."""

    id: str
    kind: str  # PROPORTION | TIME
    #: a proportion: what n counts (incidents, calls); a time: minutes or seconds
    unit: str
    #: the direction in which it improves
    direction: str
    #: the response settings (whole numbers > 0) it reads; a ruleset naming it must define them
    settings: tuple[str, ...]
    #: what it is, in a few words ("Grade 1 attendance time")
    text: str
    #: a time's grade (1-3: attendance of that grade's incidents) or channel ("999", "101": answer time);
    #: a proportion's likewise
    grade: int | None = None
    channel: str | None = None


def _proportion(
    id: str,
    unit: str,
    settings: tuple[str, ...],
    text: str,
    *,
    grade: int | None = None,
    channel: str | None = None,
) -> IncidentMetric:
    return IncidentMetric(id, PROPORTION, unit, "higher", settings, text, grade, channel)


def _time(
    id: str, unit: str, text: str, *, grade: int | None = None, channel: str | None = None
) -> IncidentMetric:
    return IncidentMetric(id, TIME, unit, "lower", (), text, grade, channel)


#: every metric the incidents code computes, in the order reports show them
INCIDENT_METRICS: Mapping[str, IncidentMetric] = MappingProxyType(
    {
        m.id: m
        for m in (
            _proportion(
                "g1_attended_within_standard",
                "incidents",
                ("g1_urban_minutes", "g1_rural_minutes"),
                "Grade 1 incidents attended within the standard",
                grade=1,
            ),
            _proportion(
                "g2_attended_within_60", "incidents", ("g2_minutes",), "Grade 2 incidents attended within the standard", grade=2
            ),
            _proportion(
                "g3_attended_within_standard",
                "incidents",
                ("g3_hours",),
                "Grade 3 incidents attended within the standard",
                grade=3,
            ),
            _proportion(
                "call999_answered_within_10s", "calls", ("call999_seconds",), "999 calls answered within the standard", channel="999"
            ),
            _time("g1_attendance_minutes", "minutes", "Grade 1 attendance time", grade=1),
            _time("g2_attendance_minutes", "minutes", "Grade 2 attendance time", grade=2),
            _time("g3_attendance_minutes", "minutes", "Grade 3 attendance time", grade=3),
            _time("call999_answer_seconds", "seconds", "999 answer time", channel="999"),
            _time("call101_answer_seconds", "seconds", "101 answer time", channel="101"),
        )
    }
)  # fmt: skip

#: the metrics' ids, in report order
METRICS: tuple[str, ...] = tuple(INCIDENT_METRICS)

#: the settings each metric reads; the ruleset must define them
METRIC_SETTINGS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {m.id: m.settings for m in INCIDENT_METRICS.values()}
)

#: metrics that are a proportion (may have a minimum standard)
PROPORTION_METRICS: tuple[str, ...] = tuple(m.id for m in INCIDENT_METRICS.values() if m.kind == PROPORTION)

#: metrics that are a time (mean and median; may have a maximum on the mean or the median)
TIME_METRICS: tuple[str, ...] = tuple(m.id for m in INCIDENT_METRICS.values() if m.kind == TIME)

#: the direction in which each metric improves
METRIC_DIRECTIONS: Mapping[str, str] = MappingProxyType(
    {m.id: m.direction for m in INCIDENT_METRICS.values()}
)

#: each metric's unit: what a proportion's n counts, or a time's unit
METRIC_UNITS: Mapping[str, str] = MappingProxyType({m.id: m.unit for m in INCIDENT_METRICS.values()})

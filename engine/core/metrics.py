"""The quantitative metrics the incidents extract feeds: names, settings, direction."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: quantitative metrics the extract stage knows how to compute
METRICS: tuple[str, ...] = (
    "g1_attended_within_standard",
    "g2_attended_within_60",
    "call999_answered_within_10s",
    "call101_answer_seconds",
)


#: the settings (whole numbers > 0) each metric reads; the ruleset must define them
METRIC_SETTINGS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "g1_attended_within_standard": ("g1_urban_minutes", "g1_rural_minutes"),
        "g2_attended_within_60": ("g2_minutes",),
        "call999_answered_within_10s": ("call999_seconds",),
        "call101_answer_seconds": (),
    }
)


#: metrics that are a proportion (may have a minimum standard); the rest are values watched by SPC
PROPORTION_METRICS: tuple[str, ...] = METRICS[:3]


#: the direction in which each metric improves
METRIC_DIRECTIONS: Mapping[str, str] = MappingProxyType(
    {m: ("higher" if m in PROPORTION_METRICS else "lower") for m in METRICS}
)

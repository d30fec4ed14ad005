"""Sample sizes: how many of a (place, case type) frame to review, and how to split them across strata.

Sample size, per (place, case type), to estimate a compliance rate within a margin e at a confidence
level (z = its two-sided normal quantile, 1.96 at 95 %):

    n0 = z² · p(1 − p) / e²             p = 0.5 (the most cautious choice), or an expected rate
    n  = ⌈ n0 / (1 + (n0 − 1) / N) ⌉     finite-population correction; N = eligible cases in the frame

then at least min(minimum, N) (default 10) and at most the cap (default 60). Example: N = 212,
e = 0.1, 95 %: n0 = 96.04, n = ⌈66.3⌉ = 67, capped at 60. The sample is split across the strata
(optional extract columns such as crime_type) in proportion to their size, by largest remainder,
each non-empty stratum getting at least one case when the sample is big enough.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist

DEFAULT_MARGIN = 0.1
DEFAULT_CONFIDENCE = 0.95
DEFAULT_MINIMUM = 10
DEFAULT_CAP = 60
FORMULA = "n0 = z^2 p(1-p) / e^2; n = ceil(n0 / (1 + (n0 - 1) / N)); min(minimum, N) <= n <= cap"


@dataclass(frozen=True)
class SampleSize:
    """The size of one (place, case type) sample and how it was reached."""

    frame: int
    n0: float
    corrected: float
    size: int

    @property
    def limited_by(self) -> str:
        """'cap', 'minimum', 'frame' or '' (the formula alone)."""
        formula = math.ceil(self.corrected - 1e-9) if self.frame else 0
        if self.size == formula:
            return ""
        if self.size == self.frame:
            return "frame"
        return "cap" if self.size < formula else "minimum"


def z_value(confidence: float) -> float:
    """The two-sided normal quantile: 0.95 -> 1.95996."""
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def sample_size(
    frame: int,
    *,
    margin: float = DEFAULT_MARGIN,
    confidence: float = DEFAULT_CONFIDENCE,
    expected_rate: float | None = None,
    minimum: int = DEFAULT_MINIMUM,
    cap: int = DEFAULT_CAP,
) -> SampleSize:
    """How many of ``frame`` cases to review (the module docstring's formula).

    Example: ``sample_size(212)`` -> n0 96.04, corrected 66.3, size 60 (the cap).
    """
    p = 0.5 if expected_rate is None else expected_rate
    n0 = z_value(confidence) ** 2 * p * (1 - p) / margin**2
    if frame <= 0:
        return SampleSize(0, n0, 0.0, 0)
    corrected = n0 / (1 + (n0 - 1) / frame)
    size = min(math.ceil(corrected - 1e-9), cap)  # 1e-9: 67.000000001 from rounding is 67
    size = min(frame, max(size, min(minimum, frame)))
    return SampleSize(frame, n0, corrected, size)


def allocate(sizes: Mapping[str, int], n: int) -> dict[str, int]:
    """Split n across strata in proportion to their sizes (largest remainder, ties by name); when
    n allows, every non-empty stratum gets at least one. Example: ``allocate({"a": 70, "b": 25,
    "c": 5}, 10)`` -> ``{"a": 7, "b": 2, "c": 1}``.
    """
    total = sum(sizes.values())
    if not 0 <= n <= total:
        raise ValueError(f"cannot draw {n} from {total} cases")
    alloc = dict.fromkeys(sizes, 0)
    names = sorted(k for k, v in sizes.items() if v > 0)
    if n == 0:
        return alloc
    quota = {k: Fraction(n * sizes[k], total) for k in names}
    for k in names:
        alloc[k] = math.floor(quota[k])
    rest = n - sum(alloc.values())
    for k in sorted(names, key=lambda k: (-(quota[k] - alloc[k]), k))[:rest]:
        alloc[k] += 1
    if n >= len(names):
        for k in [k for k in names if alloc[k] == 0]:
            donor = max((d for d in names if alloc[d] > 1), key=lambda d: (alloc[d] - quota[d], d))
            alloc[donor] -= 1
            alloc[k] += 1
    return alloc

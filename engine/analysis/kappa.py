"""Inter-rater agreement for calibration: Cohen's and Fleiss' kappa with their 95% intervals, via
statsmodels (imported only when a kappa is worked out)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.analysis.stats import Z95


@dataclass(frozen=True)
class KappaEstimate:
    """An agreement coefficient with its standard error and 95 % confidence interval."""

    kappa: float
    se: float
    ci_low: float
    ci_high: float
    subjects: int
    #: standard error under the null hypothesis kappa = 0 (for a test, not for the interval)
    se_null: float


def cohen_kappa(table: npt.ArrayLike) -> KappaEstimate:
    """Cohen's kappa for two raters from their square agreement table (rows rater A, cols rater B).

    Interval from the large-sample standard error (Fleiss, Cohen & Everitt 1969), via statsmodels.
    """
    from statsmodels.stats.inter_rater import cohens_kappa

    t = np.asarray(table, dtype=np.float64)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ValueError("Cohen's kappa needs a square table: one row and one column per category")
    res = cohens_kappa(t)
    return KappaEstimate(
        kappa=float(res.kappa),
        se=float(res.std_kappa),
        ci_low=float(res.kappa_low),
        ci_high=float(res.kappa_upp),
        subjects=int(t.sum()),
        se_null=float(res.std_kappa0),
    )


def fleiss_kappa(table: npt.ArrayLike) -> KappaEstimate:
    """Fleiss' kappa for many raters: ``table[i, j]`` = raters putting subject i in category j.

    Every subject needs the same number of raters (at least 2). Kappa comes from statsmodels.
    statsmodels gives no variance, so the interval uses Gwet's (2008) linearised variance
    (non-null, conditional on the raters), and ``se_null`` is Fleiss, Nee & Landis (1979) as
    R's irr::kappam.fleiss reports it.
    """
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

    t = np.asarray(table, dtype=np.float64)
    raters = t.sum(axis=1)
    if t.ndim != 2 or t.shape[0] < 2 or raters.min() != raters.max() or raters[0] < 2:
        raise ValueError("Fleiss' kappa needs 2+ subjects, each rated by the same number (2+) of raters")
    n_sub, r = t.shape[0], float(raters[0])
    kappa = float(sm_fleiss(t, method="fleiss"))

    p = t.sum(axis=0) / (n_sub * r)
    pe = float((p * p).sum())
    pa_i = (t * (t - 1)).sum(axis=1) / (r * (r - 1))
    pe_i = (t * p).sum(axis=1) / r
    kappa_i = (pa_i - pe) / (1 - pe)
    kappa_star = kappa_i - 2 * (1 - kappa) * (pe_i - pe) / (1 - pe)
    se = math.sqrt(float(((kappa_star - kappa) ** 2).sum()) / (n_sub * (n_sub - 1)))

    pq = p * (1 - p)
    s = float(pq.sum())
    var0 = 2 / (s * s * n_sub * r * (r - 1)) * (s * s - float((pq * (1 - 2 * p)).sum()))
    return KappaEstimate(
        kappa=kappa,
        se=se,
        ci_low=kappa - Z95 * se,
        ci_high=kappa + Z95 * se,
        subjects=n_sub,
        se_null=math.sqrt(var0),
    )

"""engine.analysis.figure_stats' quantiles (issue 17): the same numbers as scipy.stats, bit for bit,
without importing scipy.stats (half a second of CPU in every run that reads figures): Student's t
and chi-squared from scipy.special as scipy.stats computes them, and the median interval's rank
from the binomial functions scipy.stats.binom calls."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from scipy import stats  # type: ignore[import-untyped]

from engine.analysis.figure_stats import chi2_quantile, median_rank, t_quantile


def test_quantiles_equal_scipy_stats_bit_for_bit() -> None:
    df = np.concatenate([np.arange(-2.0, 3001.0), [0.5, 1e-300, 123456.7, 1e7, np.nan, np.inf]])
    for q in (0.025, 0.975):
        assert np.array_equal(t_quantile(q, df), stats.t.ppf(q, df), equal_nan=True)
        assert np.array_equal(chi2_quantile(q, df), stats.chi2.ppf(q, df), equal_nan=True)
    assert float(t_quantile(0.975, 9.0)) == float(stats.t.ppf(0.975, 9.0))


def test_median_rank_is_scipy_binomials_for_every_n_to_5000() -> None:
    n = np.arange(1, 5001)
    m = stats.binom.ppf(0.025, n, 0.5).astype(np.int64)
    expected = np.where(stats.binom.cdf(m, n, 0.5) <= 0.025, m + 1, m)
    assert [median_rank.__wrapped__(int(k)) for k in n] == expected.tolist()
    assert median_rank(5) == 0 and median_rank(6) == 1  # no interval below 6 values


def test_pooling_figures_does_not_import_scipy_stats() -> None:
    code = (
        "import sys, datetime as dt\n"
        "from engine.analysis.figure_stats import poisson_interval, weighted_mean_interval, weighted_median_interval\n"
        "poisson_interval(5); weighted_mean_interval([1.0, 2.0, 4.0], [3, 1, 2]); weighted_median_interval(list(range(40)), [1] * 40)\n"
        "print('scipy.stats' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"

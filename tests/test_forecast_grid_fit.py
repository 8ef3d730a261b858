"""The calibration's grid fits (portfolio/figures/forecast_book.py: _call_sse, _nav_sse) work
out only the grid points that can win (branch and bound, issue 14): each unit's best point
and each pool's best sum must be exactly those of the plain fit over the whole grid, and
every value worked out the same to the last bit. The reference here is that plain fit (the
code before issue 14), on small random books with what makes fits hard: ties (units with no
flows at all), nothing observed, tiny commitments, refunds (negative calls), quarters without
a valuation, several lives, pools of every size."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from portfolio.figures import forecast as fc
from portfolio.figures import forecast_book as fb


def reference_call_sse(h: fb.Histories) -> np.ndarray:
    n, width = h.calls.shape
    g = len(fb.RC_GRID)
    sse = np.zeros((n, g, g))
    k = np.arange(1, width + 1)
    log_e = np.log1p(-fb.RC_GRID)[:, None, None]
    log_l = np.log1p(-fb.RC_GRID)[None, :, None]
    early_q = np.minimum(k, 8)[None, None, :] / 4.0
    late_q = np.maximum(k - 8, 0)[None, None, :] / 4.0
    model = 1.0 - np.exp(early_q * log_e + late_q * log_l)
    commitment = np.maximum(h.units["commitment"].to_numpy(), 1e-9)
    actual = np.cumsum(h.calls, axis=1) / commitment[:, None]
    observed = h.units["observed"].to_numpy()
    buffer = np.empty(g * g * width)
    for i in range(n):
        m = int(observed[i])
        if m <= 0:
            continue
        diff = buffer[:g * g * m].reshape(g, g, m)
        np.subtract(model[:, :, :m], actual[i, None, None, :m], out=diff)
        np.einsum("abk,abk->ab", diff, diff, out=sse[i])
    return sse


def reference_nav_sse(h: fb.Histories) -> np.ndarray:
    n, width = h.calls.shape
    gg, gb = np.meshgrid(fb.GROWTH_GRID, fb.BOW_GRID, indexing="ij")
    growth_factor = 1.0 + fc.quarterly_growth(gg.ravel())[None, :]
    bow = gb.ravel()[None, :]
    m_count = growth_factor.shape[1]
    observed = h.units["observed"].to_numpy()
    order = np.argsort(-observed, kind="stable")
    seen = observed[order]
    commitment = np.maximum(h.units["commitment"].to_numpy(), 1e-9)[order][:, None]
    lives, life_of = np.unique(h.units["life"].to_numpy(dtype="float64")[order], return_inverse=True)
    calls = h.calls[order] / commitment
    actual_cum_d = np.cumsum(h.distributions[order], axis=1) / commitment
    navs = h.navs[order] / commitment
    nav = np.zeros((n, m_count))
    cum_d = np.zeros((n, m_count))
    sse = np.zeros((n, m_count))
    for k in range(width):
        rows = int(np.count_nonzero(seen > k))
        if rows == 0:
            break
        age = (k + 1) / 4.0
        ratio = np.clip(age / lives, 0, None)[:, None]
        by_life = np.where(age >= lives[:, None], 1.0, fc.quarterly_rate(np.minimum(ratio ** bow, 1.0)))
        d = np.take(by_life, life_of[:rows], axis=0)
        grown = nav[:rows] * growth_factor
        d *= grown
        cum_d[:rows] += d
        grown += calls[:rows, k:k + 1]
        grown -= d
        np.maximum(grown, 0.0, out=nav[:rows])
        err = cum_d[:rows] - actual_cum_d[:rows, k:k + 1]
        err *= err
        valued = np.flatnonzero(np.isfinite(navs[:rows, k]))
        if len(valued):
            err[valued] += (nav[valued] - navs[valued, k:k + 1]) ** 2
        sse[:rows] += err
    out = np.empty_like(sse)
    out[order] = sse
    return out.reshape(n, len(fb.GROWTH_GRID), len(fb.BOW_GRID))


def random_histories(seed: int, n: int = 40, width: int = 30) -> fb.Histories:
    """Units roughly on TA (random rates, growth and bow) with noise, and the odd cases."""
    rng = np.random.default_rng(seed)
    commitment = rng.choice([1e8, 5e7, 3e9], n) * rng.uniform(0.5, 1.5, n)
    observed = rng.integers(0, width, n)
    life = rng.choice([10.0, 15.0, 7.5, 12.0], n)
    calls, dists, navs = np.zeros((n, width)), np.zeros((n, width)), np.full((n, width), np.nan)
    for i in range(n):
        rc = rng.uniform(0.05, 0.9, 2)
        g_q = float(fc.quarterly_growth(rng.uniform(-0.25, 0.45)))
        bow = rng.uniform(0.6, 5.5)
        unfunded, nav = commitment[i], 0.0
        for k in range(int(observed[i])):
            age = (k + 1) / 4.0
            rate = float(fc.quarterly_rate(rc[0] if age <= 2 else rc[1]))
            call = rate * unfunded * float(np.exp(rng.normal(0, 0.4)))
            rd = 1.0 if age >= life[i] else float(fc.quarterly_rate(min((age / life[i]) ** bow, 1.0)))
            grown = nav * (1 + g_q) * float(np.exp(rng.normal(0, 0.05)))
            dist = rd * grown
            nav = max(grown + call - dist, 0.0)
            unfunded = max(unfunded - call, 0.0)
            calls[i, k], dists[i, k] = call, dist
            if rng.random() < 0.7:
                navs[i, k] = nav
    kind = rng.integers(0, 6, n)
    calls[kind == 0] = 0.0                       # nothing at all: every grid point ties
    dists[kind == 0] = 0.0
    navs[kind == 0] = np.nan
    commitment[kind == 1] = 0.0                  # no commitment (the 1e-9 floor)
    calls[kind == 2, min(3, width - 1)] -= 0.1 * commitment[kind == 2]   # a refund
    units = pd.DataFrame({
        "id": [f"u{i}" for i in range(n)],
        "cls": rng.choice(["sub_fund", "direct"], n, p=[0.8, 0.2]),
        "sector": rng.choice(["A", "B", "C", None], n, p=[0.45, 0.35, 0.1, 0.1]),
        "commitment": commitment, "observed": observed, "life": life,
    })
    return fb.Histories(as_of=pd.Timestamp("2025-12-31"), units=units, calls=calls, distributions=dists, navs=navs)


def _pools(h: fb.Histories) -> np.ndarray:
    cls = h.units["cls"].to_numpy(dtype=object)
    sector = h.units["sector"].fillna("").to_numpy(dtype=object)
    key = np.array([f"{c}:{s}" for c, s in zip(cls, sector)], dtype=object)
    keys, counts = np.unique(key, return_counts=True)
    small = set(keys[counts < 3])
    key = np.array([f"{c}:" if k in small else k for c, k in zip(cls, key)], dtype=object)
    return np.unique(key, return_inverse=True)[1].reshape(-1)


def assert_same_fit(full: np.ndarray, fit: fb.GridFit, pool_of: np.ndarray) -> None:
    n = len(full)
    flat = full.reshape(n, -1)
    # every value worked out is the plain fit's, to the last bit
    unit = np.repeat(np.arange(n), np.diff(fit.start))
    assert np.array_equal(flat[unit, fit.points], fit.values)
    # each unit's best point (the first of equals)
    expected = np.unravel_index(flat.argmin(axis=1), full.shape[1:])
    for a, b in zip(expected, fit.argmin()):
        assert np.array_equal(a, b)
    # each pool's best sum
    for pool in range(int(pool_of.max()) + 1):
        members = pool_of == pool
        best = np.unravel_index(full[members].sum(axis=0).argmin(), full.shape[1:])
        assert fit.pooled_argmin(members, pool) == (int(best[0]), int(best[1]))


@pytest.mark.parametrize("seed", range(4))
def test_grid_fits_are_the_plain_fits(seed, monkeypatch):
    monkeypatch.setattr(fb, "NAV_CHUNK", 97 + 50 * seed)  # the NAV fit in chunks of every kind
    h = random_histories(seed)
    pool_of = _pools(h)
    calls, n_early, n_late = fb._call_sse(h, pool_of)
    assert_same_fit(reference_call_sse(h), calls, pool_of)
    assert np.array_equal(n_early, np.minimum(h.units["observed"], 8))
    assert np.array_equal(n_late, np.maximum(h.units["observed"] - 8, 0))
    navs, n_nav = fb._nav_sse(h, pool_of)
    assert_same_fit(reference_nav_sse(h), navs, pool_of)
    assert np.array_equal(n_nav, h.units["observed"])


@hsettings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12), width=st.integers(1, 45))
def test_grid_fits_are_the_plain_fits_on_any_book(seed, n, width):
    h = random_histories(seed, n=n, width=width)
    pool_of = _pools(h)
    assert_same_fit(reference_call_sse(h), fb._call_sse(h, pool_of)[0], pool_of)
    assert_same_fit(reference_nav_sse(h), fb._nav_sse(h, pool_of)[0], pool_of)


def test_nothing_observed():
    h = random_histories(1, n=5, width=4)
    h.units["observed"] = 0
    pool_of = _pools(h)
    calls = fb._call_sse(h, pool_of)[0]
    navs = fb._nav_sse(h, pool_of)[0]
    for fit in (calls, navs):
        assert all(np.array_equal(a, np.zeros(5)) for a in fit.argmin())
        assert fit.pooled_argmin(pool_of == 0, 0) == (0, 0)

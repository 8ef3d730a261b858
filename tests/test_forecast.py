"""The Takahashi–Alexander forecast (portfolio/figures/forecast.py).

Reference values: issue 16, from Takahashi & Alexander, "Illiquid Alternative Asset Fund
Modeling" (Yale, 2001; J. Portfolio Management 28(2), 2002): CC 100, RC 25 % / 33.3 % /
50 % thereafter, L 12, B 2.5, G 13 %, Y 0, annual form. The figures are given to three
decimals; 33.3 % is the third (25.000 in year 2 = 1/3 × 75, where 0.333 would give 24.975),
so RC is (1/4, 1/3, 1/2). The recurrence itself is checked to 1e-9 against a plain scalar
transcription of the paper's equations, written here independently of the module.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import pyxirr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio.figures import forecast as fc

REFERENCE_RC = (0.25, 1 / 3, 0.5)


def oracle_annual(cc, rc, life, bow, growth, yield_, years):
    """The paper's equations, line by line, in scalar Python."""
    uc, nav, rows = cc, 0.0, []
    for t in range(1, years + 1):
        c = rc[min(t, len(rc)) - 1] * uc
        rd = 1.0 if t >= life else max(yield_, (t / life) ** bow)
        d = rd * nav * (1 + growth)
        nav = max(nav * (1 + growth) + c - d, 0.0)
        uc = max(uc - c, 0.0)
        rows.append((c, d, nav, uc))
    return rows


def test_reference_values_at_the_precision_given():
    r = fc.annual(100, REFERENCE_RC, life=12, bow=2.5, growth=0.13, years=4)
    expected = {1: (25.000, 0.000, 25.000), 2: (25.000, 0.320, 52.930), 4: (12.500, 6.012, 100.211)}
    for year, (c, d, nav) in expected.items():
        i = year - 1
        assert round(r["call"][i], 3) == c
        assert round(r["distribution"][i], 3) == d
        assert round(r["nav"][i], 3) == nav


def test_reference_recurrence_to_1e_9():
    r = fc.annual(100, REFERENCE_RC, life=12, bow=2.5, growth=0.13, years=20)
    rows = oracle_annual(100.0, REFERENCE_RC, 12, 2.5, 0.13, 0.0, 20)
    for i, (c, d, nav, uc) in enumerate(rows):
        assert abs(r["call"][i] - c) <= 1e-9
        assert abs(r["distribution"][i] - d) <= 1e-9
        assert abs(r["nav"][i] - nav) <= 1e-9
        assert abs(r["unfunded"][i] - uc) <= 1e-9
    # year 2 exactly: D = (2/12)^2.5 × 25 × 1.13, NAV = 25 × 1.13 + 25 − D
    d2 = (2 / 12) ** 2.5 * 25 * 1.13
    assert abs(r["distribution"][1] - d2) <= 1e-12
    assert abs(r["nav"][1] - (25 * 1.13 + 25 - d2)) <= 1e-12
    # from year L on, everything left is distributed: NAV is just the year's call
    assert abs(r["nav"][12] - r["call"][12]) <= 1e-9


def test_quarterly_rates_of_the_issue():
    # 1 − (1 − r_q)^4 = RC: 25 % → 6.940 %, 50 % → 15.910 %
    assert round(float(fc.quarterly_rate(0.25)) * 100, 3) == 6.940
    assert round(float(fc.quarterly_rate(0.50)) * 100, 3) == 15.910
    for rc in (0.1, 0.25, 1 / 3, 0.5, 0.9):
        assert abs(1 - (1 - float(fc.quarterly_rate(rc))) ** 4 - rc) <= 1e-12
    assert abs((1 + float(fc.quarterly_growth(0.13))) ** 4 - 1.13) <= 1e-12


def test_jeet_bow_from_targets():
    # d = ln(M)/(G·L), B = e^{πd}/√2 (Jeet, J. Private Markets Investing 24(3))
    d = math.log(2.0) / (0.10 * 12)
    assert fc.bow_from_targets(2.0, 0.10, 12) == pytest.approx(math.exp(math.pi * d) / math.sqrt(2), abs=1e-12)
    assert fc.bow_from_targets(1.0, 0.10, 12) == pytest.approx(1 / math.sqrt(2), abs=1e-12)


def oracle_quarterly(cc, uc, nav, age, rc, life, bow, growth, yield_, quarters):
    g = (1 + growth) ** 0.25 - 1
    rows = []
    for k in range(1, quarters + 1):
        t = age + k / 4
        year = max(math.ceil(t - 1e-9), 1)
        r = 1 - (1 - rc[min(year, len(rc)) - 1]) ** 0.25
        rd = 1.0 if t >= life else 1 - (1 - max(yield_, min((t / life) ** bow, 1.0))) ** 0.25
        c = r * uc
        d = rd * nav * (1 + g)
        nav = max(nav * (1 + g) + c - d, 0.0)
        uc = max(uc - c, 0.0)
        rows.append((c, d, nav, uc))
    return rows


def test_quarterly_projection_from_actuals_to_1e_9():
    start = fc.Start.of([100.0, 80.0], [60.0, 10.0], [45.0, 90.0], [1.5, 6.25])
    params = fc.Params.of(2, rc=REFERENCE_RC, bow=[2.5, 3.0], life=[12, 10], growth=[0.13, 0.05], yield_=[0.0, 0.04])
    proj = fc.project(start, params, 60)
    for i in range(2):
        rows = oracle_quarterly(start.commitment[i], start.unfunded[i], start.nav[i], start.age[i], REFERENCE_RC,
                                params.life[i], params.bow[i], params.growth[i], params.yield_[i], 60)
        for k, (c, d, nav, uc) in enumerate(rows):
            assert abs(proj.call[i, k] - c) <= 1e-9
            assert abs(proj.distribution[i, k] - d) <= 1e-9
            assert abs(proj.nav[i, k] - nav) <= 1e-9
            assert abs(proj.unfunded[i, k] - uc) <= 1e-9


@pytest.mark.parametrize("yield_", [0.1, 0.5, 0.9])
def test_a_yield_floor_of_y_pays_y_of_the_nav_in_a_year(yield_):
    """Y is a yearly rate, de-compounded to quarters as RD is: with no growth and no calls, four
    quarters at the floor leave (1 − Y) of the NAV (Y/4 a quarter had left (1 − Y/4)^4)."""
    start = fc.Start.of([100.0], [0.0], [100.0], [0.0])
    params = fc.Params.of(1, growth=0.0, bow=50.0, life=30.0, yield_=yield_)
    year = fc.project(start, params, 4)
    assert year.distribution.sum() == pytest.approx(100.0 * yield_, rel=1e-12)
    assert year.nav[0, -1] == pytest.approx(100.0 * (1 - yield_), rel=1e-12)


def test_irr_of_the_forecast_is_growth_annual():
    r = fc.annual(100, REFERENCE_RC, life=12, bow=2.5, growth=0.13, years=8)
    flows = list(r["distribution"] - r["call"])
    flows[-1] += r["nav"][-1]
    assert abs(pyxirr.irr(flows) - 0.13) <= 1e-9


@pytest.mark.parametrize("growth", [0.13, 0.10, -0.05, 0.30])
def test_irr_of_the_forecast_is_growth_quarterly_from_actuals(growth):
    # buy the NAV on D, take the forecast flows, sell the NAV at the end: the IRR is G
    start = fc.Start.of([100.0], [40.0], [75.0], [3.0])
    proj = fc.project(start, fc.Params.of(1, rc=REFERENCE_RC, bow=2.5, life=12, growth=growth), 24)
    flows = [-75.0] + list(proj.distribution[0] - proj.call[0])
    flows[-1] += proj.nav[0, -1]
    quarterly = pyxirr.irr(flows)
    assert abs((1 + quarterly) ** 4 - 1 - growth) <= 1e-9


units = st.lists(st.tuples(st.floats(1.0, 1e10), st.floats(0.0, 1.0), st.floats(0.0, 3.0), st.floats(0.0, 20.0),
                           st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.3, 6.0), st.floats(3.0, 20.0),
                           st.floats(-0.5, 0.8), st.floats(0.0, 0.2)), min_size=1, max_size=8)


def _build(rows):
    a = np.array(rows)
    cc = a[:, 0]
    start = fc.Start.of(cc, cc * a[:, 1], cc * a[:, 2], a[:, 3])
    params = fc.Params.of(len(a), rc=np.stack([a[:, 4], a[:, 4], a[:, 5]], axis=1), bow=a[:, 6], life=a[:, 7],
                          growth=a[:, 8], yield_=a[:, 9])
    return start, params


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units, st.integers(1, 80))
def test_checks_hold_on_every_projection(rows, quarters):
    start, params = _build(rows)
    p = fc.project(start, params, quarters)
    scale = np.maximum(start.commitment, start.nav)[:, None] * (1 + np.abs(params.growth))[:, None] ** (quarters / 4)
    # NAV_begin + C − D + growth = NAV_end
    assert np.all(np.abs(p.nav_begin + p.call - p.distribution + p.growth - p.nav) <= 1e-9 * scale)
    assert np.all(p.nav_begin[:, 1:] == p.nav[:, :-1])
    assert np.all(p.unfunded >= 0) and np.all(p.nav >= 0)
    assert np.all(p.call >= 0) and np.all(p.distribution >= 0)
    # Σ C ≤ unfunded on D ≤ CC
    assert np.all(p.call.sum(axis=1) <= start.unfunded * (1 + 1e-12))
    assert np.all(p.unfunded[:, -1] + p.call.sum(axis=1) == pytest.approx(start.unfunded, rel=1e-9))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units, st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_checks_hold_on_every_simulated_path(rows, quarters, seed):
    start, params = _build(rows)
    sim = fc.simulate(start, params, quarters, 200, seed=seed)
    assert np.all(sim.unfunded >= 0) and np.all(sim.nav >= 0) and np.all(sim.call >= 0)
    total_uc = start.unfunded.sum()
    assert np.all(sim.call.sum(axis=1) <= total_uc * (1 + 1e-5) + 1e-3)
    assert np.allclose(sim.unfunded[:, -1] + sim.call.sum(axis=1), total_uc, rtol=1e-4, atol=1e-2)


def test_simulation_mean_follows_the_deterministic_projection():
    # E[r] = r_TA and E[1 + g] = 1 + G_q: the mean unfunded path is TA's (calls do not
    # depend on NAV, and x has mean 0), to Monte Carlo error
    start = fc.Start.of([100.0] * 4, [80.0, 50.0, 20.0, 100.0], [20.0, 50.0, 90.0, 0.0], [1.0, 3.0, 6.0, 0.0])
    params = fc.Params.of(4)
    det = fc.project(start, params, 12)
    sim = fc.simulate(start, params, 12, 20000, seed=7)
    assert abs(sim.call[:, :4].sum(axis=1).mean() - det.call[:, :4].sum()) <= 0.02 * det.call[:, :4].sum()
    q = sim.quantiles()
    assert np.all(q["call"][0] <= q["call"][1]) and np.all(q["call"][1] <= q["call"][2])
    car = sim.call_at_risk()
    assert car[4][0.90] <= car[4][0.95] <= car[4][0.99] <= start.unfunded.sum()
    assert car[8][0.95] >= car[4][0.95]


def test_simulation_is_reproducible_and_unit_quantiles_bracket():
    start = fc.Start.of([100.0, 50.0], [80.0, 50.0], [20.0, 0.0], [1.0, 0.0])
    a = fc.simulate(start, fc.Params.of(2), 8, 500, seed=3, unit_quantiles=True)
    b = fc.simulate(start, fc.Params.of(2), 8, 500, seed=3, unit_quantiles=True)
    assert np.array_equal(a.call, b.call)
    lo, mid, hi = (a.unit_quantiles["nav"][..., i] for i in range(3))
    assert np.all(lo <= mid) and np.all(mid <= hi)


def test_zero_inflated_layer_keeps_the_mean_and_has_empty_quarters():
    # π_c = 0.6 of the quarters without a call, π_d = 0.8 without a distribution
    # (Cragg 1971 / Lambert 1992, see forecast.Noise): the mean stays the TA path
    start = fc.Start.of([100.0] * 6, [80.0, 60.0, 40.0, 90.0, 70.0, 30.0], [20.0, 40.0, 60.0, 10.0, 30.0, 70.0],
                        [1.0, 2.0, 3.0, 0.5, 1.5, 4.0])
    params = fc.Params.of(6)
    noise = fc.Noise(call_zero=0.6, distribution_zero=0.8)
    det = fc.project(start, params, 4)
    sim = fc.simulate(start, params, 4, 20000, seed=5, noise=noise, unit_quantiles=True, qs=(0.1, 0.5, 0.9))
    assert abs(sim.call[:, :4].sum(axis=1).mean() - det.call[:, :4].sum()) <= 0.03 * det.call[:, :4].sum()
    assert abs(sim.distribution[:, 0].mean() - det.distribution[:, 0].sum()) <= 0.05 * det.distribution[:, 0].sum()
    # a unit's band of one quarter holds zero (P10 = 0) and its P50 too when π > 1/2
    q = sim.unit_quantiles
    assert np.all(q["call"][:, 0, 0] == 0) and np.all(q["call"][:, 0, 1] == 0)
    assert np.all(q["distribution"][:, 0, 1] == 0)
    assert np.all(q["call"][:, 0, 2] > 0)
    # the share of empty quarters is π: from a one-unit simulation, every path a draw
    one = fc.simulate(start.take([0]), params.take([0]), 1, 40000, seed=9, noise=noise)
    assert abs((one.call[:, 0] == 0).mean() - 0.6) <= 0.01
    assert abs((one.distribution[:, 0] == 0).mean() - 0.8) <= 0.01
    # the checks hold on every path
    assert np.all(sim.unfunded >= 0) and np.all(sim.nav >= 0)
    assert np.allclose(sim.unfunded[:, -1] + sim.call.sum(axis=1), start.unfunded.sum(), rtol=1e-4)


@pytest.mark.parametrize("noise", [fc.Noise(distribution_sigma=1.04, distribution_zero=0.95),
                                   fc.Noise(distribution_sigma=1.04, distribution_zero=0.5),
                                   fc.Noise(call_sigma=1.2, call_zero=0.95, distribution_sigma=0.6, distribution_zero=0.8),
                                   fc.Noise(distribution_sigma=1.5),
                                   fc.Noise(distribution_sigma=1.04, distribution_zero=0.5, call_zero=0.4,
                                            call_common=0.8, distribution_common=0.8, growth_common=0.8)])
def test_the_paths_average_the_ta_path_whatever_the_noise(noise):
    """A rate is capped at all of the balance, so a draw scaled by 1 / (1 − π) past it would lose
    money: with π_d = 0.95 and σ_d 1.04 (a book's calibration) the paths' distributions had
    averaged 54 % below TA's and their NAV ran above it. The calls and distributions average
    TA's every year, and the NAV every quarter, to Monte Carlo error. (Not the unfunded: the
    calls' AR(1) clusters them, and a product of correlated rates averages apart from the
    product of their means, by design of the Buchner–Kaserer–Wagner layer.)"""
    start = fc.Start.of([100.0, 100.0, 100.0], [10.0, 60.0, 100.0], [60.0, 30.0, 0.0], [4.0, 1.5, 0.0])
    params = fc.Params.of(3, life=8.0)
    det = fc.project(start, params, 17)
    sim = fc.simulate(start, params, 17, 40000, seed=1, noise=noise)
    for name in ("call", "distribution"):
        for year in range(4):
            e = getattr(det, name)[:, 4 * year:4 * year + 4].sum()
            assert getattr(sim, name)[:, 4 * year:4 * year + 4].sum(axis=1).mean() == pytest.approx(e, rel=0.03), \
                (name, year)
    assert sim.nav.mean(axis=0) == pytest.approx(det.nav.sum(axis=0), rel=0.03, abs=0.2)


def test_a_common_factor_widens_the_fund_not_its_units():
    """The common factor (forecast.Noise: each unit's normal √ρ z + √(1 − ρ) e, z the fund's)
    leaves every unit's distribution as it was, so each unit's bands and the totals' mean stay,
    and widens the band of the fund's total: its units no longer average each other out."""
    n = 10
    start = fc.Start.of([100.0] * n, np.linspace(30.0, 90.0, n), np.linspace(60.0, 10.0, n), np.linspace(0.5, 5.0, n))
    params = fc.Params.of(n)
    apart = fc.Noise(call_zero=0.5, distribution_zero=0.7)
    together = fc.Noise(call_zero=0.5, distribution_zero=0.7, call_common=0.7, distribution_common=0.7,
                        growth_common=0.7)
    qs = (0.1, 0.5, 0.9)
    sims = {noise: fc.simulate(start, params, 8, 20000, seed=4, noise=noise, unit_quantiles=True, qs=qs)
            for noise in (apart, together)}
    a, b = sims[apart], sims[together]
    for name in ("cum_call", "cum_distribution", "nav"):
        # P90 of each unit's cumulative flows and NAV over two years: the same to Monte Carlo error
        assert b.unit_quantiles[name][:, 7, 2] == pytest.approx(a.unit_quantiles[name][:, 7, 2], rel=0.04), name
    for name in ("call", "distribution", "nav"):
        total_a, total_b = getattr(a, name)[:, :8].sum(axis=1), getattr(b, name)[:, :8].sum(axis=1)
        assert total_b.mean() == pytest.approx(total_a.mean(), rel=0.03), name
        spread = {key: np.subtract(*np.quantile(t, (0.9, 0.1))) for key, t in (("a", total_a), ("b", total_b))}
        # 1.73, 1.19 and 2.04 here: the distributions widen least, as whether a unit distributes at
        # all in a quarter (70 % of them without) stays its own draw
        assert spread["b"] > (1.1 if name == "distribution" else 1.4) * spread["a"], name


def test_a_wholly_common_factor_moves_every_unit_alike():
    """ρ = 1: no unit has a draw of its own, so two like units are one unit twice on every
    path, and the common draws are the same whatever the units and threads."""
    start = fc.Start.of([100.0], [50.0], [50.0], [1.0])
    params = fc.Params.of(1)
    noise = fc.Noise(call_common=1.0, distribution_common=1.0, growth_common=1.0)
    one = fc.simulate(start, params, 6, 3000, seed=8, noise=noise)
    two = fc.simulate(start.take([0, 0]), params.take([0, 0]), 6, 3000, seed=8, noise=noise, max_threads=1)
    for name in ("call", "distribution", "nav", "unfunded"):
        assert np.allclose(getattr(two, name), 2 * getattr(one, name), rtol=1e-5), name
        assert getattr(one, name).std(axis=0).max() > 0  # the paths do differ from one another


def test_the_paths_do_not_depend_on_the_threads_with_a_common_factor():
    start = fc.Start.of([100.0] * 40, np.linspace(0.0, 100.0, 40), np.linspace(100.0, 0.0, 40), np.linspace(0, 9, 40))
    params = fc.Params.of(40)
    noise = fc.Noise(call_zero=0.3, call_common=0.4, distribution_common=0.3, growth_common=0.5)
    runs = [fc.simulate(start, params, 5, 500, seed=1, noise=noise, chunk_cells=4000, max_threads=t) for t in (1, 4)]
    assert np.array_equal(runs[0].call, runs[1].call) and np.array_equal(runs[0].nav, runs[1].nav)


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(min_value=0, max_value=70), min_size=1, max_size=12),
       seed=st.integers(min_value=0, max_value=2 ** 32 - 1), sfc64=st.booleans())
def test_random_bytes_are_the_generator_s_own_bytes(sizes, seed, sfc64):
    """`_random_bytes` takes whole 64-bit outputs straight from SFC64 where they are the bytes
    Generator.bytes gives, and asks Generator.bytes otherwise (a size that is no multiple of 8
    leaves half an output held over, which the next draw starts with; no bytes, for which it still
    draws 32 bits; another bit generator):
    the same bytes, draw after draw, and the generator left where Generator.bytes leaves it."""
    bits = np.random.SFC64 if sfc64 else np.random.PCG64
    mine, theirs = np.random.Generator(bits(seed)), np.random.Generator(bits(seed))
    for size in [*sizes, 16, 64]:  # multiples of 8 last: after a half held over, the fast way too
        drawn = fc._random_bytes(mine, size)
        assert drawn.dtype == np.uint8 and drawn.tobytes() == theirs.bytes(size), size
    assert mine.integers(0, 2 ** 62, size=4).tolist() == theirs.integers(0, 2 ** 62, size=4).tolist()
    assert mine.bit_generator.state["has_uint32"] == theirs.bit_generator.state["has_uint32"]


def test_random_bytes_come_straight_from_the_bit_generator_when_they_can():
    """Whole 64-bit outputs with no half held over come from SFC64 itself (a fresh array);
    anything else through Generator.bytes (a read-only view of the bytes it returns)."""
    rng = np.random.Generator(np.random.SFC64(3))
    straight = [fc._random_bytes(rng, size).flags.writeable for size in (4096, 12, 8, 4, 8, 0, 0, 8)]
    # 12 bytes hold half an output over; 8 then start with it and hold half of the next; 4 use
    # it up; no bytes still draw a 32-bit word (Generator.bytes(0) does), so two of them hold none
    assert straight == [True, False, False, False, True, False, False, True]
    assert not fc._random_bytes(np.random.Generator(np.random.PCG64(3)), 64).flags.writeable


@pytest.mark.parametrize("unit_quantiles", [False, True])
def test_a_unit_with_nothing_unfunded_is_not_worked_out_but_its_draws_are(unit_quantiles):
    """A unit with nothing unfunded never calls again, so `_run_block` does not work its calls
    out; it draws their random bits all the same, so every other draw is where it would be.
    The paths are then those of the same units each left 1e-30 yuan unfunded, whose calls are
    worked out on the same draws: no float32 NAV or total of these sizes tells 1e-30 from none.
    Blocks of 8 units: the first has none that can call, the others some, and noise of every
    kind (quarters without a flow, common factors) draws in each."""
    unfunded = np.array([0.0] * 8 + [0.0, 60.0, 0.0, 30.0] * 8)
    n = len(unfunded)
    start = fc.Start.of([100.0] * n, unfunded, np.linspace(100.0, 5.0, n), np.linspace(0, 9, n))
    tiny = fc.Start.of([100.0] * n, np.where(unfunded == 0, 1e-30, unfunded), start.nav, start.age)
    params = fc.Params.of(n)
    noise = fc.Noise(call_zero=0.3, distribution_zero=0.4, call_common=0.4, distribution_common=0.3,
                     growth_common=0.5)
    runs = [fc.simulate(s, params, 6, 500, seed=2, noise=noise, chunk_cells=4000, unit_quantiles=unit_quantiles)
            for s in (start, tiny)]
    for name in ("call", "distribution", "nav", "unfunded"):
        assert np.allclose(getattr(runs[0], name), getattr(runs[1], name), rtol=1e-6, atol=1e-9), name
    for name, quantiles in runs[0].unit_quantiles.items():
        assert np.allclose(quantiles, runs[1].unit_quantiles[name], rtol=1e-6, atol=1e-9), name
    # the units that call do call, and those with nothing unfunded call nothing at all
    assert runs[0].call.sum() > 0 and runs[0].distribution.std(axis=0).min() > 0
    if unit_quantiles:
        assert not runs[0].unit_quantiles["cum_call"][unfunded == 0].any()
        assert runs[0].unit_quantiles["cum_call"][unfunded > 0, -1, 2].min() > 0


@pytest.mark.parametrize("common_seed, correlated", [(0, True), (None, False)])
def test_units_simulated_apart_share_the_market_by_its_seed(common_seed, correlated):
    """The committee's effect simulates one more unit apart from the book (its own seed) and adds
    its paths: with the book's common_seed it lives in the book's market, path by path (ρ = 1:
    its calls move with the book's), with a seed of its own it would not."""
    start, params = fc.Start.of([100.0], [80.0], [20.0], [1.0]), fc.Params.of(1)
    noise = fc.Noise(call_common=1.0, growth_common=1.0, distribution_common=1.0)
    book = fc.simulate(start, params, 4, 4000, seed=0, noise=noise)
    more = fc.simulate(start, params, 4, 4000, seed=1, noise=noise, common_seed=common_seed)
    r = np.corrcoef(book.call[:, 0], more.call[:, 0])[0, 1]
    assert (r > 0.99) if correlated else (abs(r) < 0.05), r


def test_a_rate_near_the_whole_balance_is_sure():
    """A call rate of MAX_FLOW_MEAN or more (an override may set RC to 1: all called in the year)
    is taken on every path, not drawn: the paths call what TA calls (a draw capped at the whole
    balance had averaged 89.9 of TA's 100)."""
    start = fc.Start.of([100.0], [100.0], [0.0], [0.0])
    params = fc.Params.of(1, rc=(1.0, 1.0, 1.0))  # a quarterly rate of 1
    det = fc.project(start, params, 4)
    sim = fc.simulate(start, params, 4, 4000, seed=3, noise=fc.Noise(call_zero=0.6))
    assert det.call.sum() == pytest.approx(100.0) and np.allclose(sim.call.sum(axis=1), 100.0, rtol=1e-5)


def test_a_quarter_without_a_flow_gives_way_only_where_the_mean_needs_it():
    """π is kept where TA's rate leaves room (rate / (1 − π) ≤ MAX_FLOW_MEAN) and lowered where it
    does not: a unit that must pay out most of its NAV has fewer quarters without a distribution."""
    noise = fc.Noise(distribution_sigma=0.6, distribution_zero=0.8)
    young = fc.Start.of([100.0], [50.0], [50.0], [1.0])     # a small rate: 80 % of quarters with none
    old = fc.Start.of([100.0], [0.0], [50.0], [7.5])        # near its end: a large rate
    params = fc.Params.of(1, life=8.0)
    rate_old = float(fc.project(old, params, 1).distribution[0, 0] / fc.project(old, params, 1).nav_begin[0, 0]
                     / (1 + fc.quarterly_growth(params.growth)[0]))
    assert rate_old / (1 - 0.8) > fc.MAX_FLOW_MEAN
    empty = {name: (fc.simulate(start, params, 1, 40000, seed=2, noise=noise).distribution[:, 0] == 0).mean()
             for name, start in (("young", young), ("old", old))}
    assert empty["young"] == pytest.approx(0.8, abs=0.01)
    assert empty["old"] == pytest.approx(max(0.0, 1 - rate_old / fc.MAX_FLOW_MEAN), abs=0.01)


# -- a stub first step: from a D inside a quarter to that quarter's end ---------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units, st.integers(2, 40), st.floats(0.01, 1.0))
def test_a_stub_then_quarters_is_the_stub_and_a_projection_from_its_end(rows, quarters, first):
    """The projection with a first step of `first` quarters is that step, then the projection
    from where it ends (its NAV, unfunded and an age `first`/4 years older): one model, cut anywhere."""
    start, params = _build(rows)
    whole = fc.project(start, params, quarters, first=first)
    stub = fc.project(start, params, 1, first=first)
    after = fc.Start.of(start.commitment, stub.unfunded[:, 0], stub.nav[:, 0], start.age + first / 4.0)
    rest = fc.project(after, params, quarters - 1)
    for name in ("call", "distribution", "nav", "unfunded"):
        got, want = getattr(whole, name), np.hstack([getattr(stub, name), getattr(rest, name)])
        assert np.allclose(got, want, rtol=1e-12, atol=1e-6), name


def test_two_half_quarters_call_what_one_quarter_calls():
    """Within one year of age, the call rate de-compounds by length: 1 − (1 − RC)^(1/8) twice
    leaves the unfunded of 1 − (1 − RC)^(1/4) once (growth and distributions off)."""
    start = fc.Start.of([100.0], [80.0], [0.0], [0.25])
    params = fc.Params.of(1, rc=(0.3, 0.3, 0.3), growth=0.0, bow=3.0, life=15.0)
    half = fc.project(start, params, 2, first=0.5)   # D mid-quarter: the stub, then a whole quarter
    quarter = fc.project(start, params, 1)
    assert half.unfunded[0, 0] == pytest.approx(80.0 * 0.7 ** (1 / 8), rel=1e-12)
    two_halves = fc.project(fc.Start.of([100.0], half.unfunded[:, 0], [0.0], [0.25 + 0.125]), params, 1, first=0.5)
    assert two_halves.unfunded[0, 0] == pytest.approx(quarter.unfunded[0, 0], rel=1e-12)


def test_the_simulation_takes_the_same_stub():
    start = fc.Start.of([100.0] * 3, [80.0, 50.0, 20.0], [20.0, 50.0, 90.0], [1.0, 3.0, 6.0])
    params = fc.Params.of(3)
    det = fc.project(start, params, 8, first=0.3)
    sim = fc.simulate(start, params, 8, 20000, seed=7, first=0.3)
    assert abs(sim.call[:, 0].mean() - det.call[:, 0].sum()) <= 0.03 * det.call[:, 0].sum()
    assert det.call[:, 0].sum() < fc.project(start, params, 1).call.sum()  # a third of a quarter calls less
    with pytest.raises(ValueError):
        fc.project(start, params, 4, first=0.0)

"""Forecast of calls, distributions and NAV: the Takahashi–Alexander model, vectorised.

Source: D. Takahashi and S. Alexander, "Illiquid Alternative Asset Fund Modeling",
Yale Investments Office (2001), J. Portfolio Management 28(2), 2002. Annual form, for a
fund with commitment CC, unfunded UC, NAV and age t (years since vintage):

    C_t   = RC_t × UC_{t−1}                  RC_t: rate of contribution by year of age
    RD_t  = max(Y, (t / L)^B)   (1 once t ≥ L) L: life, B: bow, Y: yield floor
    D_t   = RD_t × NAV_{t−1} × (1 + G)        G: growth of NAV
    NAV_t = NAV_{t−1} × (1 + G) + C_t − D_t   (floored at 0)
    UC_t  = max(UC_{t−1} − C_t, 0)

Run quarterly: G_q = (1 + G)^(1/4) − 1; the quarterly call rate r_q solves
1 − (1 − r_q)^4 = RC (25 % → 6.940 %); the quarterly distribution rate is de-compounded
the same way from RD at the quarter's age, its floor Y included (a yield of Y a year pays Y
of the NAV over four quarters, not 1 − (1 − Y/4)^4 of it). The forecast starts from the
actuals as of D (NAV, unfunded, age), so it continues the book rather than restarting it.
From a D inside a quarter the first step runs to that quarter's end: a stub of `first`
quarters (0 < first ≤ 1), its rates de-compounded to its length the same way
(1 − (1 − RC)^(first/4), (1 + G)^(first/4) − 1, 1 − (1 − RD)^(first/4)); the random layer
(`Noise`) draws a whole quarter's dispersion for it.

The bow can be set from targets (J. Jeet, "Modeling Private Investment Cash Flows with
Market-Sensitive Periodic Growth", J. Private Markets Investing 24(3)): with the target
TVPI M, d = ln(M) / (G·L) and B = e^{πd} / √2.

Everything here is numpy over float64 in units of the caller's choosing (the callers use
yuan): a forecast is an estimate, not a book figure, so floats are right here; amounts
go back to exact Decimal only where they are shown. Pure: no Flask, SQLAlchemy or models.
"""
from __future__ import annotations

import math
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

# Chronograph's "illustrative" venture parameters (the uncalibrated baseline of the back-test)
PUBLISHED_RC = (0.25, 0.25, 0.50)   # years 1–2 then 50 %
PUBLISHED_BOW = 3.0
PUBLISHED_LIFE = 15.0
PUBLISHED_YIELD = 0.0
PUBLISHED_GROWTH = 0.10


@dataclass(frozen=True)
class Params:
    """TA parameters for n units (arrays of length n; a scalar broadcasts).

    rc: (n, K) annual rates of contribution by year of age 1..K; the last column holds
        for every later year.
    """

    rc: np.ndarray
    bow: np.ndarray
    life: np.ndarray
    growth: np.ndarray
    yield_: np.ndarray

    @staticmethod
    def of(n: int, rc=PUBLISHED_RC, bow=PUBLISHED_BOW, life=PUBLISHED_LIFE, growth=PUBLISHED_GROWTH,
           yield_=PUBLISHED_YIELD) -> Params:
        rc_arr = np.asarray(rc, dtype="float64")
        if rc_arr.ndim == 1:
            rc_arr = np.broadcast_to(rc_arr, (n, len(rc_arr)))
        return Params(rc=np.array(rc_arr, dtype="float64"),
                      bow=np.broadcast_to(np.asarray(bow, dtype="float64"), (n,)).copy(),
                      life=np.broadcast_to(np.asarray(life, dtype="float64"), (n,)).copy(),
                      growth=np.broadcast_to(np.asarray(growth, dtype="float64"), (n,)).copy(),
                      yield_=np.broadcast_to(np.asarray(yield_, dtype="float64"), (n,)).copy())

    def __len__(self) -> int:
        return len(self.bow)

    def take(self, index) -> Params:
        return Params(rc=self.rc[index], bow=self.bow[index], life=self.life[index],
                      growth=self.growth[index], yield_=self.yield_[index])


@dataclass(frozen=True)
class Start:
    """Where each unit stands on D: its commitment, unfunded, NAV, and age in years."""

    commitment: np.ndarray
    unfunded: np.ndarray
    nav: np.ndarray
    age: np.ndarray

    @staticmethod
    def of(commitment, unfunded, nav, age) -> Start:
        arrays = np.broadcast_arrays(*(np.asarray(a, dtype="float64") for a in (commitment, unfunded, nav, age)))
        return Start(*(np.atleast_1d(np.array(a)) for a in arrays))

    def __len__(self) -> int:
        return len(self.commitment)

    def take(self, index) -> Start:
        return Start(self.commitment[index], self.unfunded[index], self.nav[index], self.age[index])


def quarterly_rate(annual_rate, quarters: float = 1.0):
    """The quarterly rate r_q with 1 − (1 − r_q)^4 = annual_rate (a share paid out of a balance);
    over a step of `quarters` quarters, 1 − (1 − annual_rate)^(quarters/4)."""
    annual_rate = np.clip(np.asarray(annual_rate, dtype="float64"), 0.0, 1.0)
    return 1.0 - (1.0 - annual_rate) ** (0.25 * quarters)


def quarterly_growth(growth, quarters: float | np.ndarray = 1.0):
    """G_q = (1 + G)^(1/4) − 1; over a step of `quarters` quarters, (1 + G)^(quarters/4) − 1."""
    return (1.0 + np.asarray(growth, dtype="float64")) ** (0.25 * quarters) - 1.0


def window(quarters: int, first: float, steps: int) -> np.ndarray:
    """Each step's share inside the next `quarters` quarters from D: whole steps, and, after a
    stub first step of `first` quarters, 1 − first of the step that ends the window (calls are
    taken as spread evenly over a step). Steps: how many the projection has."""
    shares = np.zeros(steps)
    shares[:min(quarters, steps)] = 1.0
    if first < 1.0 and quarters < steps:
        shares[quarters] = 1.0 - first
    return shares


def step_lengths(quarters: int, first: float = 1.0) -> np.ndarray:
    """Each step's length in quarters: the first `first` (a stub to D's quarter end), then 1."""
    if not 0.0 < first <= 1.0:
        raise ValueError(f"the first step is a part of a quarter, 0 < first <= 1: {first}")
    lengths = np.ones(quarters)
    if quarters:
        lengths[0] = first
    return lengths


def bow_from_targets(tvpi: float, growth: float, life: float) -> float:
    """Jeet's bow from a target TVPI M: d = ln(M)/(G·L), B = e^{πd}/√2."""
    d = math.log(tvpi) / (growth * life)
    return math.exp(math.pi * d) / math.sqrt(2.0)


def _rc_at(rc: np.ndarray, year: np.ndarray) -> np.ndarray:
    """RC of each unit in year of age `year` (1-based; the last column holds thereafter)."""
    column = np.clip(year.astype("int64") - 1, 0, rc.shape[1] - 1)
    return np.take_along_axis(rc, column[:, None], axis=1)[:, 0] if rc.ndim == 2 else rc


def _year_of_age(age: np.ndarray) -> np.ndarray:
    """Year of age (1, 2, …) of a period ending at age t years: ⌈t⌉, at least 1."""
    return np.maximum(np.ceil(age - 1e-9), 1.0)


def distribution_rate(age, life, bow, yield_):
    """Annual RD_t = max(Y, (t/L)^B), 1 once t ≥ L."""
    age = np.asarray(age, dtype="float64")
    life = np.asarray(life, dtype="float64")
    ratio = np.clip(age / life, 0.0, None)
    rd = np.maximum(yield_, ratio ** bow)
    return np.where(age >= life, 1.0, np.minimum(rd, 1.0))


# ---------------------------------------------------------------- the annual form (reference)
def annual(commitment: float, rc, life: float, bow: float, growth: float, yield_: float = 0.0,
           years: int = 12) -> dict[str, np.ndarray]:
    """The annual TA recurrence from inception (NAV 0, UC = CC): the form the paper states
    and the issue's reference values are given in. Years 1..years."""
    rc = np.asarray(rc, dtype="float64")
    uc, nav = float(commitment), 0.0
    out: dict[str, list[float]] = {k: [] for k in ("year", "call", "distribution", "nav", "unfunded", "growth")}
    for t in range(1, years + 1):
        rate = float(rc[min(t, len(rc)) - 1])
        call = rate * uc
        grown = nav * (1.0 + growth)
        rd = float(distribution_rate(t, life, bow, yield_))
        dist = rd * grown
        new_nav = max(grown + call - dist, 0.0)
        out["year"].append(t)
        out["call"].append(call)
        out["distribution"].append(dist)
        out["growth"].append(grown - nav)
        out["nav"].append(new_nav)
        out["unfunded"].append(max(uc - call, 0.0))
        uc, nav = max(uc - call, 0.0), new_nav
    return {k: np.asarray(v) for k, v in out.items()}


# ---------------------------------------------------------------- the quarterly projection
@dataclass(frozen=True)
class Projection:
    """Deterministic quarterly projection of n units over H quarters; arrays (n, H).

    nav_begin[:, k] + growth[:, k] + call[:, k] − distribution[:, k] = nav[:, k] (the checks).
    """

    call: np.ndarray
    distribution: np.ndarray
    nav: np.ndarray
    unfunded: np.ndarray
    growth: np.ndarray
    nav_begin: np.ndarray


def project(start: Start, params: Params, quarters: int, *, first: float = 1.0) -> Projection:
    """The quarterly TA projection from the actuals on D, vectorised over the units; `first`,
    the first step's length in quarters (D inside a quarter: the stub to its end)."""
    n = len(start)
    shape = (n, quarters)
    call, dist, nav_out, uc_out, growth_out, begin = (np.zeros(shape) for _ in range(6))
    lengths = step_lengths(quarters, first)
    ends = np.cumsum(lengths)
    nav, uc = start.nav.astype("float64").copy(), start.unfunded.astype("float64").copy()
    for k in range(quarters):
        age = start.age + ends[k] / 4.0
        r_q = quarterly_rate(_rc_at(params.rc, _year_of_age(age)), lengths[k])
        rd_q = _quarterly_distribution_rate(age, params, lengths[k])
        grown = nav * (1.0 + quarterly_growth(params.growth, lengths[k]))
        c = r_q * uc
        d = rd_q * grown
        begin[:, k] = nav
        growth_out[:, k] = grown - nav
        nav = np.maximum(grown + c - d, 0.0)
        uc = np.maximum(uc - c, 0.0)
        call[:, k], dist[:, k], nav_out[:, k], uc_out[:, k] = c, d, nav, uc
    return Projection(call=call, distribution=dist, nav=nav_out, unfunded=uc_out, growth=growth_out, nav_begin=begin)


def _quarterly_distribution_rate(age: np.ndarray, params: Params, quarters: float = 1.0) -> np.ndarray:
    ratio = np.clip(age / params.life, 0.0, None)
    rd_q = quarterly_rate(np.maximum(params.yield_, np.minimum(ratio ** params.bow, 1.0)), quarters)
    return np.where(age >= params.life, 1.0, np.minimum(rd_q, 1.0))


def from_inception(commitment, params: Params, quarters: int) -> Projection:
    """A projection from the first day (NAV 0, UC = CC, age 0): what calibration fits."""
    commitment = np.asarray(commitment, dtype="float64")
    n = len(params)
    start = Start.of(np.broadcast_to(commitment, (n,)), np.broadcast_to(commitment, (n,)), np.zeros(n), np.zeros(n))
    return project(start, params, quarters)


# ---------------------------------------------------------------- the stochastic layer
@dataclass(frozen=True)
class Noise:
    """The stochastic layer over TA, after Buchner, Kaserer and Wagner, "Modeling the Cash
    Flow Dynamics of Private Equity Funds", J. Alternative Investments 12(4), 2010: the
    rate of contribution is mean-reverting, distributions and NAV returns are log-normal.

    Here, per unit and path, with ε standard normal each quarter:
      call rate     r = r_TA · exp(x_k − σ_c²/2),  x_k = φ x_{k−1} + σ_c √(1−φ²) ε   (AR(1) in logs,
                    stationary variance σ_c², so E[r] = r_TA: the TA path is the mean)
      distribution  rd = rd_TA · exp(σ_d ε − σ_d²/2)
      NAV return    ln(1 + g) = ln(1 + G_q) − σ_g²/2 + σ_g ε          (E[1 + g] = 1 + G_q)
    Rates are clipped to [0, 1]. The defaults are venture-like: σ_g 0.10 a quarter (20 % a
    year), σ_c 0.5 and φ 0.6 (calls come in lumps and cluster); calibration replaces them
    with the dispersion of the book's own residuals where it has enough history.

    Lumpy calls and quarters without a distribution: a real fund calls in a few large
    notices and distributes on exits, so most of its quarters have no call or no
    distribution at all, which no log-normal ever gives (its band never holds a zero). The
    layer is therefore zero-inflated, a two-part ("hurdle") model: J. G. Cragg, "Some
    Statistical Models for Limited Dependent Variables with Application to the Demand for
    Durable Goods", Econometrica 39(5), 1971 (a Bernoulli for whether there is a flow, a
    log-normal for its size), in the zero-inflated form of D. Lambert, "Zero-Inflated Poisson
    Regression", Technometrics 34(1), 1992. Each quarter, independently, with probability
    π_c there is no call, and otherwise the call rate is the log-normal above scaled up so
    that the mean stays r_TA; the same for distributions with π_d. A rate is a share of the
    unfunded or of the NAV, so it is capped at 1; the scale is the one whose capped draws
    still average r_TA / (1 − π) (`_capped_scale`), and where even that cannot be (r_TA /
    (1 − π) above MAX_FLOW_MEAN), π is lowered for that unit and quarter until it can: a
    fund that must pay out most of its NAV has fewer quarters without a distribution. A rate
    of MAX_FLOW_MEAN or more is not drawn at all: it is sure (every path takes it, as the
    whole NAV is paid out once t ≥ L). So
    E[rate] = r_TA in every quarter: the calls and distributions average the TA path, and so
    does the NAV (a distribution's draw is independent of the NAV it applies to), while the
    band holds the quarters where nothing happens. (The unfunded's mean moves a little off
    TA's: the AR(1) clusters the calls, and correlated rates compound apart from their means.)
    `forecast_book.calibrate_noise` fits π as the share of the book's quarters with no flow
    where TA expected one, and σ from the sizes of the others (a moment match).

    A common factor: the units of a fund live in one market, so large calls, rich exits or a
    fall in valuations come to many of them in the same quarter, and the fund's total spreads
    wider than a sum of independent units would. Each of the three normals above is, per
    unit, quarter and path, ε = √ρ z + √(1 − ρ) e: z standard normal, one per path and quarter
    for every unit (the fund's quarter), e the unit's own; ρ (`call_common`,
    `distribution_common`, `growth_common`) is the correlation of two units' normals. This is
    the one-factor Gaussian copula of credit portfolios (O. Vasicek, "Loan Portfolio Value",
    Risk 15(12), 2002), here on the sizes of the flows and the NAV returns: each unit's ε is
    still standard normal, so every unit's distribution, mean and bands are as with ρ = 0 and
    only the totals' dispersion changes (ρ = 0: independent units, the draws as before). Whether
    a quarter has a flow at all stays each unit's own draw (so where most quarters have none, the
    common factor widens the total less). `calibrate_noise` fits ρ from the book's residuals of
    units in the same calendar quarter.
    """

    call_sigma: float = 0.5
    call_phi: float = 0.6
    distribution_sigma: float = 0.6
    growth_sigma: float = 0.10
    call_zero: float = 0.0           # π_c: probability of a quarter with no call
    distribution_zero: float = 0.0   # π_d: probability of a quarter with no distribution
    call_common: float = 0.0         # ρ_c: the share of the call normals' variance common to the fund's units
    distribution_common: float = 0.0  # ρ_d: the same for the distributions' sizes
    growth_common: float = 0.0       # ρ_g: the same for the NAV returns


@dataclass
class Simulation:
    """Paths of the totals over the units (weights applied), arrays (P, H), and optionally
    each unit's quantiles (n, H, len(qs)) of calls, distributions, NAV, unfunded and the
    cumulative calls and distributions from D."""

    call: np.ndarray
    distribution: np.ndarray
    nav: np.ndarray
    unfunded: np.ndarray
    unit_quantiles: dict[str, np.ndarray] = field(default_factory=dict)

    def quantiles(self, qs=(0.1, 0.5, 0.9)) -> dict[str, np.ndarray]:
        """P10/P50/P90 (len(qs), H) of each total per quarter."""
        return {name: np.quantile(getattr(self, name), qs, axis=0)
                for name in ("call", "distribution", "nav", "unfunded")}

    def call_at_risk(self, horizons=(4, 8), levels=(0.90, 0.95, 0.99), *,
                     first: float = 1.0) -> dict[int, dict[float, float]]:
        """Capital call at risk: the quantile of the calls summed over the next h quarters from D
        (`window`: with a stub first step of `first` quarters, the share of the step that ends
        the h quarters is counted)."""
        out: dict[int, dict[float, float]] = {}
        for h in horizons:
            total = self.call @ window(h, first, self.call.shape[1])
            out[h] = {level: float(np.quantile(total, level)) for level in levels}
        return out


_GRID = 1 << 16


def _normal_table() -> np.ndarray:
    """The standard normal's quantiles at the midpoints of 65,536 equal slices of (0, 1),
    rescaled to unit variance: a normal draw is then one uint16 of random bits and a table
    look-up (inverse-CDF sampling on a grid), three times faster than numpy's ziggurat on
    this machine. Tails are cut at ±4.3σ (probability 2e-5), which moves no quantile used
    here (the 99 % CCaR sums many quarters and units)."""
    from statistics import NormalDist

    inv = NormalDist().inv_cdf
    table = np.array([inv((i + 0.5) / _GRID) for i in range(_GRID)])
    return (table / table.std()).astype("float32")


_NORMALS: list[np.ndarray] = []
_LITTLE_ENDIAN = sys.byteorder == "little"


def _random_bytes(rng: np.random.Generator, size: int) -> np.ndarray:
    """`size` random bytes (uint8): the very bytes `rng.bytes(size)` gives, so the paths stay
    the same, bit for bit. Generator.bytes draws them 32 bits at a time through its bounded
    integers and copies them twice; SFC64 makes its 32-bit words as the low, then the high
    half of each 64-bit output, and rng.bytes lays them out little-endian, so when a whole
    number of 64-bit outputs is asked for and no half of one is held over from an earlier
    draw, they are the outputs' own bytes, taken from the bit generator three times faster.
    (Not for no bytes: Generator.bytes(0) still draws a 32-bit word.)"""
    bits = rng.bit_generator
    if _LITTLE_ENDIAN and size > 0 and size % 8 == 0 and isinstance(bits, np.random.SFC64) and not bits.state["has_uint32"]:
        return bits.random_raw(size // 8).view(np.uint8)
    return np.frombuffer(rng.bytes(size), dtype=np.uint8)


def _normals(rng: np.random.Generator, out: np.ndarray, table: np.ndarray | None = None, *,
             rows: slice | np.ndarray = slice(None), of: int | None = None) -> np.ndarray:
    """Standard normal draws into `out` (or f(ε) through a table of f at the grid's quantiles).
    The draws of a block of `of` rows (by default out's) are made, and its `rows` (by default
    all) kept into `out`: a block's rows that are not kept still take their random bits."""
    if not _NORMALS:
        _NORMALS.append(_normal_table())
    count = out.shape[0] if of is None else of
    drawn = _random_bytes(rng, 2 * count * out.shape[1]).view(np.uint16).reshape(count, out.shape[1])
    # every uint16 is an index of the 65,536-entry table: "wrap" never wraps, it only spares
    # the bounds check of the default "raise" (a third of the look-up's time)
    return np.take(_NORMALS[0] if table is None else table, drawn[rows], out=out, mode="wrap")


def simulate(start: Start, params: Params, quarters: int, paths: int, *, noise: Noise | None = None,
             seed: int = 0, weights=None, unit_quantiles: bool = False, qs=(0.1, 0.5, 0.9),
             chunk_cells: int = 1 << 16, max_threads: int = 4, first: float = 1.0,
             common_seed: int | None = None) -> Simulation:
    """Monte Carlo of the TA projection with the stochastic layer (`Noise`).

    Vectorised over blocks of (units × paths) of about chunk_cells cells (small enough to
    stay in the CPU's cache, which is what makes it fast), a loop over quarters inside;
    the blocks run in threads (up to max_threads, one per core), each with its own random
    stream seeded from (seed, block), so the result does not depend on the threads.
    The totals are Σ weight × unit (weights 1 by default; e.g. the finance bureau's share
    of each unit). Float32 paths: a forecast needs no more. Reproducible for a given seed
    and chunk_cells. With unit_quantiles, each unit's P10/P50/P90 (qs) per quarter too.
    `first`: the first step's length in quarters, as `project`'s. `common_seed` (by default the
    seed) seeds the fund's common draws (`_Common`) apart from the units' own: more units
    simulated apart with another seed but the same common_seed live in the same market, path by
    path, so their totals add (the committee's effect of one more unit).
    """
    noise = noise or Noise()
    n = len(start)
    weights = np.ones(n) if weights is None else np.asarray(weights, dtype="float64")
    totals = {k: np.zeros((paths, quarters)) for k in _SERIES}
    per_unit: dict[str, np.ndarray] = {}
    if unit_quantiles:
        per_unit = {k: np.zeros((n, quarters, len(qs))) for k in _UNIT_SERIES}
    # the TA rates of every unit and quarter, once
    lengths = step_lengths(quarters, first)
    age = start.age[:, None] + np.cumsum(lengths)[None, :] / 4.0
    r_q = np.stack([quarterly_rate(_rc_at(params.rc, _year_of_age(age[:, k])), lengths[k]) for k in range(quarters)],
                   axis=1)
    rd_q = np.stack([_quarterly_distribution_rate(age[:, k], params, lengths[k]) for k in range(quarters)], axis=1)
    # the mean log growth of each unit and step
    log_g = np.log1p(quarterly_growth(np.asarray(params.growth, dtype="float64")[:, None] * np.ones((1, quarters)),
                                      lengths[None, :])) - noise.growth_sigma ** 2 / 2.0
    path_block = paths if unit_quantiles else min(paths, 4096)
    rows = max(1, chunk_cells // path_block)
    blocks = [(lo, min(n, lo + rows), p0, min(paths, p0 + path_block))
              for lo in range(0, n, rows) for p0 in range(0, paths, path_block)]

    if not _NORMALS:
        _NORMALS.append(_normal_table())
    tables = _Tables.of(noise)
    calls = _Flows.of(r_q, noise.call_zero, tables.call)
    # all of the NAV once t ≥ L: sure
    distributions = _Flows.of(rd_q, noise.distribution_zero, tables.distribution_marginal)
    common = _Common.of(noise, paths, quarters, seed if common_seed is None else common_seed)
    lock = threading.Lock()

    def run(block: tuple[int, int, int, int]) -> None:
        lo, hi, p0, p1 = block
        # each block its own random stream, from (seed, block): the same paths whatever the threads
        rng = np.random.Generator(np.random.SFC64(np.random.SeedSequence([seed, lo, p0])))
        out = _run_block(rng, noise, tables, start.nav[lo:hi], start.unfunded[lo:hi],
                         calls.rows(lo, hi), distributions.rows(lo, hi),
                         log_g[lo:hi], p1 - p0, weights[lo:hi], qs if unit_quantiles else None,
                         common.paths(p0, p1))
        with lock:  # summed as each block ends, so no block's paths are kept
            for name in _SERIES:
                totals[name][p0:p1] += out[name]
            for name in per_unit:
                per_unit[name][lo:hi] = out["q_" + name]

    # numpy lets go of the GIL in its loops: blocks run in threads, one per core
    workers = max(1, min(len(blocks), os.cpu_count() or 1, max_threads))
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(run, blocks))
    else:
        for block in blocks:
            run(block)
    return Simulation(unit_quantiles=per_unit, **totals)


_SERIES = ("call", "distribution", "nav", "unfunded")
_UNIT_SERIES = _SERIES + ("cum_call", "cum_distribution")


MAX_ZERO = 0.95
# the mean of a flow's rate in a quarter that has one, at most (`_Flows`): above it, the capped
# draws could no longer average it; the quarter's chance of no flow gives way instead
MAX_FLOW_MEAN = 0.9


def _capped_scale(table: np.ndarray, means: np.ndarray) -> np.ndarray:
    """The scale s with E[min(s·L, 1)] = m for each mean m in `means` (0 ≤ m ≤ MAX_FLOW_MEAN),
    L the factor whose draws are `table` (mean 1): so a rate drawn as min(s·L, 1) keeps its
    mean through the cap. E[min(s·L, 1)] = (s·Σ_{L_i < 1/s} L_i + #{L_i ≥ 1/s}) / N is
    increasing in s; it is tabulated on a geometric grid of s and inverted in logs."""
    ordered = np.sort(table.astype("float64"))
    below = np.concatenate([[0.0], np.cumsum(ordered)])
    grid = np.geomspace(1e-9, 1e6, 4000)
    index = np.searchsorted(ordered, 1.0 / grid)
    mean = (grid * below[index] + (len(ordered) - index)) / len(ordered)
    means = np.asarray(means, dtype="float64")
    positive = means > 0
    scale = np.zeros_like(means)
    scale[positive] = np.exp(np.interp(np.log(np.minimum(means[positive], MAX_FLOW_MEAN)), np.log(mean),
                                       np.log(grid)))
    return scale


@dataclass(frozen=True)
class _Flows:
    """One kind of flow's draws for a simulation, per unit and step: the chance of no flow
    (π, lowered where the mean rate given a flow would pass MAX_FLOW_MEAN), as a byte's
    threshold, and the scale of the log-normal factor (`_capped_scale`). A rate of
    MAX_FLOW_MEAN or more (a unit calling nearly all it has left, or paying out its NAV at the
    end of its life) is sure: that rate on every path, no draw (`sure`, −1 where there is a draw)."""

    zero_below: np.ndarray   # (n, H) uint8: a random byte below it is a quarter with no flow
    scale: np.ndarray        # (n, H) float32
    sure: np.ndarray         # (n, H) float32: the rate where it is sure, else −1

    def rows(self, lo: int, hi: int) -> _Flows:
        return _Flows(self.zero_below[lo:hi], self.scale[lo:hi], self.sure[lo:hi])

    @staticmethod
    def of(rate: np.ndarray, zero: float, table: np.ndarray) -> _Flows:
        rate = np.clip(np.asarray(rate, dtype="float64"), 0.0, 1.0)
        zero = float(np.clip(zero, 0.0, MAX_ZERO))
        sure = rate >= MAX_FLOW_MEAN
        chance = np.where(sure, 0.0, np.clip(np.minimum(zero, 1.0 - rate / MAX_FLOW_MEAN), 0.0, None))
        # π to 1/256 (a byte's draw: half the random bits of a uint16's, and π is a fitted share);
        # the mean is kept for the π so rounded
        threshold = np.round(chance * 256).astype("uint8")
        given = rate / (1.0 - threshold / 256)  # the mean rate in a quarter with a flow
        return _Flows(threshold, _capped_scale(table, np.where(sure, 0.0, given)).astype("float32"),
                      np.where(sure, rate, -1.0).astype("float32"))


def _own(common: float) -> float:
    """√(1 − ρ): the scale of a unit's own part of a normal whose share ρ is common (Noise)."""
    return math.sqrt(1.0 - float(np.clip(common, 0.0, 1.0)))


@dataclass(frozen=True)
class _Tables:
    """The normal draws' tables, transformed once for a simulation (`_normals` on a grid): the
    AR(1) innovation σ_c√(1−φ²)e, the growth factor exp(σ_g e), the distribution factor
    exp(σ_d e − σ_d²/2), each of the unit's own part e only (scaled by √(1 − ρ): the common
    part is `_Common`'s); and the marginals the flows' scales are fitted to, the whole factor of
    a unit (own and common): the call factor exp(σ_c ε − σ_c²/2) and the distribution factor.
    They depend on the noise alone, so every block reads the same ones (made per block, they
    were a fifth of the simulation's time)."""

    innovation: np.ndarray
    growth: np.ndarray
    distribution: np.ndarray
    call: np.ndarray
    distribution_marginal: np.ndarray

    @staticmethod
    def of(noise: Noise) -> _Tables:
        f32 = np.float32
        base = _NORMALS[0]
        innovation = (base * f32(noise.call_sigma * math.sqrt(max(1.0 - noise.call_phi ** 2, 0.0))
                                 * _own(noise.call_common))).astype("float32")
        growth = np.exp(base.astype("float64") * noise.growth_sigma * _own(noise.growth_common)).astype("float32")

        def distribution_factor(own: float) -> np.ndarray:
            return np.exp(base.astype("float64") * noise.distribution_sigma * own
                          - noise.distribution_sigma ** 2 / 2.0).astype("float32")

        distribution = distribution_factor(_own(noise.distribution_common))
        marginal = distribution if noise.distribution_common <= 0 else distribution_factor(1.0)
        call = np.exp(base.astype("float64") * noise.call_sigma - noise.call_sigma ** 2 / 2.0).astype("float32")
        return _Tables(innovation, growth, distribution, call, marginal)


@dataclass(frozen=True)
class _Common:
    """The fund's common draws of a simulation (Noise: ε = √ρ z + √(1 − ρ) e), one per path and
    quarter, shared by every unit, as (quarters, paths) float32 rows; None where ρ is 0:
    `call` adds √ρ_c·σ_c·z_0 to the AR(1)'s start (row 0) and √ρ_c·σ_c√(1−φ²)·z_k to its
    innovation of step k (row k + 1); `distribution` and `growth` multiply the unit's own factor
    by exp(√ρ σ z_k). Drawn for all the paths at once from their own stream of the seed, so
    the paths do not depend on the blocks."""

    call: np.ndarray | None = None
    distribution: np.ndarray | None = None
    growth: np.ndarray | None = None

    @staticmethod
    def of(noise: Noise, paths: int, quarters: int, seed: int) -> _Common:
        rho = {name: float(np.clip(getattr(noise, name + "_common"), 0.0, 1.0))
               for name in ("call", "distribution", "growth")}
        if not any(rho.values()):
            return _Common()
        rng = np.random.Generator(np.random.SFC64(np.random.SeedSequence([seed], spawn_key=(1,))))
        # all three drawn in one order whatever is used, so that one ρ does not move another's draws
        z = {name: _normals(rng, np.empty((quarters + 1, paths), dtype=np.float32)).astype("float64")
             for name in rho}
        call = None
        if rho["call"]:
            steps = np.full((quarters + 1, 1), math.sqrt(max(1.0 - noise.call_phi ** 2, 0.0)))
            steps[0] = 1.0  # the start: the AR(1)'s stationary variance, σ_c²
            call = (z["call"] * steps * noise.call_sigma * math.sqrt(rho["call"])).astype("float32")
        distribution = (np.exp(z["distribution"][1:] * noise.distribution_sigma * math.sqrt(rho["distribution"]))
                        .astype("float32") if rho["distribution"] else None)
        growth = (np.exp(z["growth"][1:] * noise.growth_sigma * math.sqrt(rho["growth"])).astype("float32")
                  if rho["growth"] else None)
        return _Common(call, distribution, growth)

    def paths(self, p0: int, p1: int) -> _Common:
        return _Common(*(None if a is None else a[:, p0:p1] for a in (self.call, self.distribution, self.growth)))


def _run_block(rng, noise: Noise, tables: _Tables, nav0, uc0, calls: _Flows, distributions: _Flows,
               log_g, paths: int, weights, qs, common: _Common) -> dict[str, np.ndarray]:
    """One block of units × paths through all quarters (in place on float32 arrays).

    The normal draws come through tables already transformed (`_Tables`); each unit's and
    quarter's scale and chance of no flow (`_Flows`) apply afterwards; the fund's common draws
    (`_Common`, this block's paths) are added to every unit's row.

    A unit with nothing unfunded never calls again (a call is a share of the unfunded, which a
    call only lowers): its calls are not worked out, only their random bits drawn and left, so
    that every other draw, and so every path, is what it would be with them worked out. Most
    direct investments and co-investments are paid in one go: in the demo book at 2025Q4, 49 of its
    80 units."""
    f32 = np.float32
    m, quarters = calls.scale.shape
    out = {name: np.zeros((paths, quarters)) for name in _SERIES}
    if qs is not None:
        out.update({"q_" + name: np.zeros((m, quarters, len(qs))) for name in _UNIT_SERIES})
        cum_c, cum_d = np.zeros((m, paths), dtype=np.float32), np.zeros((m, paths), dtype=np.float32)
    w = weights.astype("float32")
    innovation_table, growth_table, dist_table = tables.innovation, tables.growth, tables.distribution
    phi = f32(noise.call_phi)
    nav = np.repeat(nav0[:, None].astype("float32"), paths, axis=1)
    uc = np.repeat(uc0[:, None].astype("float32"), paths, axis=1)
    # the units that can still call: all of them (as slices, no copy), or some (none: empty rows)
    calling = np.flatnonzero(np.asarray(uc0) != 0)
    every = len(calling) == m
    live: slice | np.ndarray = slice(None) if every else calling
    x = _normals(rng, np.empty((len(calling), paths), dtype=np.float32), rows=live, of=m)
    x *= f32(noise.call_sigma * _own(noise.call_common))
    if common.call is not None:
        x += common.call[0]
    shift = f32(-noise.call_sigma ** 2 / 2.0)
    growth_mean = np.exp(log_g).astype("float32")  # (m, quarters)
    c, d, tmp = (np.empty((m, paths), dtype=np.float32) for _ in range(3))
    if not every:
        c.fill(0.0)
    c_live = c if every else np.empty((len(calling), paths), dtype=np.float32)
    flowing = np.empty((m, paths), dtype=bool)

    def keep_flows(value: np.ndarray, flows: _Flows, k: int, rows: slice | np.ndarray = slice(None)) -> None:
        """Zero `value` (the block's `rows`) in the quarters without a flow: a random byte below
        the unit's threshold (multiplied by the mask: a masked assignment is ten times slower); a
        unit's sure rate on every path. The bytes are drawn for the whole block, whatever rows."""
        below = flows.zero_below[:, k:k + 1]
        if below.any():
            byte = _random_bytes(rng, flowing.size).reshape(flowing.shape)
            if isinstance(rows, slice):
                value *= np.greater_equal(byte, below, out=flowing)
            else:
                value *= byte[rows] >= below[rows]
        sure = flows.sure[rows, k]
        if (sure >= 0).any():  # a rate too near the whole balance to draw around: that rate, every path
            value[sure >= 0] = sure[sure >= 0, None]

    for k in range(quarters):
        # calls: min(s · exp(x − σ_c²/2), 1) of the unfunded, x the AR(1); none in a quarter without
        x *= phi
        x += _normals(rng, c_live, innovation_table, rows=live, of=m)
        if common.call is not None:
            x += common.call[k + 1]
        np.add(x, shift, out=c_live)
        np.exp(c_live, out=c_live)
        c_live *= calls.scale[live, k:k + 1]
        np.minimum(c_live, f32(1.0), out=c_live)
        keep_flows(c_live, calls, k, live)
        c_live *= uc[live]
        if not every:
            c[calling] = c_live
        # NAV grows by a log-normal return
        _normals(rng, tmp, growth_table)
        tmp *= growth_mean[:, k:k + 1]
        if common.growth is not None:
            tmp *= common.growth[k]
        nav *= tmp
        # distributions: min(s · exp(σ_d ε − σ_d²/2), 1) of the grown NAV (all of it once t ≥ L)
        _normals(rng, d, dist_table)
        d *= distributions.scale[:, k:k + 1]
        if common.distribution is not None:
            d *= common.distribution[k]
        np.minimum(d, f32(1.0), out=d)
        keep_flows(d, distributions, k)
        d *= nav
        nav += c
        nav -= d
        np.maximum(nav, f32(0.0), out=nav)
        uc -= c
        np.maximum(uc, f32(0.0), out=uc)
        for name, value in (("call", c), ("distribution", d), ("nav", nav), ("unfunded", uc)):
            out[name][:, k] = w @ value
        if qs is not None:
            cum_c += c
            cum_d += d
            for name, value in (("call", c), ("distribution", d), ("nav", nav), ("unfunded", uc),
                                ("cum_call", cum_c), ("cum_distribution", cum_d)):
                out["q_" + name][:, k, :] = np.quantile(value, qs, axis=1).T
    return out

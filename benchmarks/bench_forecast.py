"""Time the forecast's Monte Carlo: 200 sub-funds × 10,000 paths × 60 quarters (issue 16).

    .venv/bin/python -m benchmarks.bench_forecast [--units 200] [--paths 10000] [--quarters 60]

Units of mixed ages (0–10 years), commitments, NAV and calibrated-looking parameters go
through `portfolio.figures.forecast.simulate` (the stochastic TA layer, vectorised numpy),
then P10/P50/P90 per quarter and capital call at risk over 4 and 8 quarters. Target ≤ 10 s.
The layer is zero-inflated by default (--zero-calls 0.6 --zero-distributions 0.9, about what
the demo book calibrates to; 0 and 0 for the plain log-normal layer).
Prints the time and its ratio to the target (below 1 is within it); the best of --repeat runs.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from portfolio.figures import forecast as fc

TARGET_SECONDS = 10.0


def book(units: int, seed: int = 1) -> tuple[fc.Start, fc.Params]:
    rng = np.random.default_rng(seed)
    commitment = rng.uniform(5e7, 2e9, units)
    age = rng.uniform(0, 10, units)
    paid = np.minimum(1.0, 1 - (0.6 ** age)) * commitment
    nav = paid * rng.uniform(0.6, 1.6, units)
    rc = np.stack([rng.uniform(0.2, 0.6, units)] * 2 + [rng.uniform(0.2, 0.6, units)], axis=1)
    params = fc.Params.of(units, rc=rc, bow=rng.uniform(1.5, 4, units), life=rng.choice([8.0, 10.0, 12.0], units),
                          growth=rng.uniform(-0.05, 0.2, units), yield_=0.0)
    return fc.Start.of(commitment, commitment - paid, nav, age), params


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--quarters", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=1)
    # the zero-inflated layer (lumpy calls, quarters without a distribution) costs one more draw
    # per cell: on by default, at about what the demo book calibrates to
    parser.add_argument("--zero-calls", type=float, default=0.6)
    parser.add_argument("--zero-distributions", type=float, default=0.9)
    args = parser.parse_args()
    noise = fc.Noise(call_zero=args.zero_calls, distribution_zero=args.zero_distributions)
    start, params = book(args.units)
    best, cpu = float("inf"), float("inf")
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        sim = fc.simulate(start, params, args.quarters, args.paths, seed=7, noise=noise)
        bands = sim.quantiles()
        car = sim.call_at_risk()
        best, cpu = min(best, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    cells = args.units * args.paths * args.quarters
    print(f"forecast: {args.units} units × {args.paths} paths × {args.quarters} quarters = {cells:,} cells "
          f"(zero-inflated: π_c {args.zero_calls}, π_d {args.zero_distributions})")
    print(f"  simulate + P10/P50/P90 + CCaR: {best:.2f} s  (target {TARGET_SECONDS:.0f} s, "
          f"ratio {best / TARGET_SECONDS:.2f}); CPU time {cpu:.2f} s over {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} (the machine is shared: wall time rises with it)")
    print(f"  CCaR95 next 4 quarters {car[4][0.95] / 1e8:,.2f} 亿元, next 8 {car[8][0.95] / 1e8:,.2f} 亿元; "
          f"P50 NAV in a year {bands['nav'][1, 3] / 1e8:,.2f} 亿元")


if __name__ == "__main__":
    main()

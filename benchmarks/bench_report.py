"""The whole `flask --app app report QY --as-of D --format json` process on the heavy book,
against a bare script computing the same figures (summary, by_mode, by_sector,
investments) with pandas + pyxirr straight from the book's CSV files. Target ≤ 1.2× (issue 14).

    .venv/bin/python -m benchmarks.bench_report [--pg URL] [--as-of 2025-12-31] [--investments 2000]

The command keeps its JSON in the shared report cache (web.api.report_json), so asked again
with no write since it reads the stored bytes instead of computing. The verdict is on the
computing run, the shared cache emptied before each (as after any write to the book); the run
served from the cache is printed beside it.

Both sides run as separate processes, timed by wall clock from spawn to exit (so each pays
its own Python start-up and imports); the fastest of --repeat runs of each is kept. The CPU
time of each process (user + system) is printed beside it: steadier than the wall clock on
a shared machine (the verdict stays the wall clock's). The two sides' figures are compared
before any time is printed. The heavy book is imported once per run into a fresh SQLite file
(or the PostgreSQL database given).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import summary_option  # the package is imported anyway (-m benchmarks.…): light

ROOT = Path(__file__).resolve().parents[1]


def bare(folder: str, as_of: str) -> None:
    """The bare computation: CSV → pandas → pyxirr; prints summary figures as JSON."""
    import numpy as np
    import pandas as pd
    import pyxirr

    folder = Path(folder)
    d = pd.Timestamp(as_of)
    inv = pd.read_csv(folder / "investments.csv", dtype={"target_code": str})
    inv["date"] = pd.to_datetime(inv["date"])
    parents = pd.read_csv(folder / "funds.csv", dtype=str).set_index("code")["parent_code"]
    family = {"QY"} | {c for c, p in parents.items() if p == "QY"}
    inv = inv[inv["fund_code"].isin(family) & (inv["date"] <= d)].sort_values(["date", "id"])
    cf = pd.read_csv(folder / "cash_flows.csv")
    cf["date"] = pd.to_datetime(cf["date"])
    cf = cf[cf["investment_id"].isin(inv["id"]) & (cf["date"] <= d)]
    cf["fen"] = (cf["amount_cny"] * 100).round().astype("int64")
    contrib = cf["type"] == "contribution"
    paid = cf[contrib].groupby("investment_id")["fen"].sum()
    dist = cf[~contrib].groupby("investment_id")["fen"].sum()
    val = pd.read_csv(folder / "valuations.csv")
    val["as_of"] = pd.to_datetime(val["as_of"])
    val = val[val["as_of"] <= d].sort_values("as_of").drop_duplicates("investment_id", keep="last")
    val = val.set_index("investment_id")
    cf["signed"] = np.where(contrib, cf["fen"], -cf["fen"])
    cf["v_as_of"] = cf["investment_id"].map(val["as_of"])
    roll = cf[cf["date"] > cf["v_as_of"]].groupby("investment_id")["signed"].sum()
    t = inv.set_index("id")
    t["paid"] = paid.reindex(t.index, fill_value=0)
    t["dist"] = dist.reindex(t.index, fill_value=0)
    fv = (val["fair_value_cny"] * 100).round().astype("int64").reindex(t.index)
    t["nav"] = np.where(fv.notna(), np.maximum(fv.fillna(0) + roll.reindex(t.index, fill_value=0), 0),
                        np.maximum(t["paid"] - t["dist"], 0)).astype("int64")
    companies = pd.read_csv(folder / "companies.csv", dtype=str).set_index("code")["sector"]
    sub_funds = pd.read_csv(folder / "sub_funds.csv", dtype=str).set_index("code")["sector"]
    t["sector"] = np.where(t["mode"] == "sub_fund", t["target_code"].map(sub_funds), t["target_code"].map(companies))
    # fund-view flows in yuan (as a person would give them to pyxirr), each NAV on D
    flows = pd.concat([pd.DataFrame({"id": cf["investment_id"], "date": cf["date"], "amt": -cf["signed"] / 100}),
                       pd.DataFrame({"id": t.index, "date": d, "amt": t["nav"].to_numpy() / 100})])
    flows["mode"] = flows["id"].map(t["mode"])
    flows["sector"] = flows["id"].map(t["sector"])

    def figures(rows, fl):
        p, s, n = int(rows["paid"].sum()), int(rows["dist"].sum()), int(rows["nav"].sum())
        return {"paid_in": p / 100, "distributed": s / 100, "nav": n / 100,
                "tvpi": (s + n) / p if p else None, "irr": pyxirr.xirr(fl["date"], fl["amt"], silent=True)}

    out = {"summary": figures(t, flows),
           "by_mode": {m: figures(t[t["mode"] == m], g) for m, g in flows.groupby("mode")},
           "by_sector": {s: figures(t[t["sector"] == s], g) for s, g in flows.groupby("sector")},
           "investments": [{"id": i, "paid_in": int(t.at[i, "paid"]) / 100, "nav": int(t.at[i, "nav"]) / 100,
                            "irr": pyxirr.xirr(g["date"], g["amt"], silent=True)} for i, g in flows.groupby("id")]}
    print(json.dumps(out))


def _same(where: str, ours: dict, theirs: dict, amounts: tuple[str, ...]) -> None:
    """One group's or investment's figures on the two sides: amounts to the fen, IRR to 1e-6
    (or null on both)."""
    for key in amounts:
        assert abs(ours[key] - theirs[key]) < 0.005, (where, key, ours[key], theirs[key])
    assert (ours["irr"] is None) == (theirs["irr"] is None), (where, ours["irr"], theirs["irr"])
    if ours["irr"] is not None:
        assert abs(ours["irr"] - theirs["irr"]) <= 1e-6, (where, ours["irr"], theirs["irr"])


def _agree(report: dict, bare_figures: dict) -> None:
    """The two sides must give the same figures, or the timing compares different work."""
    pairs = [("summary", report["summary"], bare_figures["summary"])]
    pairs += [(f"by_mode.{m}", report["by_mode"][m], f) for m, f in bare_figures["by_mode"].items()]
    pairs += [(f"by_sector.{k}", report["by_sector"][k], f) for k, f in bare_figures["by_sector"].items()]
    for where, ours, theirs in pairs:
        _same(where, ours, theirs, ("paid_in", "distributed", "nav"))
    # and investment by investment: the same holdings, each one's paid-in, NAV and IRR
    ours_by_id = {row["id"]: row for row in report["investments"]}
    assert set(ours_by_id) == {row["id"] for row in bare_figures["investments"]}, "different holdings"
    for theirs in bare_figures["investments"]:
        _same(theirs["id"], ours_by_id[theirs["id"]], theirs, ("paid_in", "nav"))
    print(f"  the two sides agree on {len(pairs)} groups and {len(ours_by_id):,} investments "
          f"(amounts to the fen, IRR to 1e-6)")


def _run(cmd: list[str], env: dict) -> tuple[float, str, float]:
    """(wall seconds, stdout, CPU seconds: the process's user + system time, its children's included)."""
    before = os.times()
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = os.times()
    if done.returncode != 0:
        raise SystemExit(f"{cmd} failed:\n{done.stderr[-2000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return seconds, done.stdout, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="PostgreSQL URL (else a fresh SQLite file)")
    parser.add_argument("--as-of", default="2025-12-31")
    parser.add_argument("--investments", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each side; the fastest is kept")
    summary_option(parser)
    parser.add_argument("--bare", nargs=2, metavar=("FOLDER", "AS_OF"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        bare(*args.bare)
        return

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from benchmarks import compiled, record
    from benchmarks.heavy_book import generate_heavy_book
    from models import Base
    from portfolio.interchange.importing import import_book

    folder = generate_heavy_book(investments=args.investments)
    url = args.pg or f"sqlite:///{tempfile.mkdtemp(prefix='bench_report_')}/heavy.sqlite"
    engine_url = url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    engine = create_engine(engine_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    start = time.perf_counter()
    with Session(engine) as session:
        result = import_book(session, folder, username="bench")
        assert result.ok, result.errors[:5]
    engine.dispose()
    print(f"heavy book {folder.name} imported into {url.split('@')[-1]} in {time.perf_counter() - start:.1f} s")

    compiled()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": os.environ.get("SECRET_KEY", "bench")}
    env.pop("REDIS_URL", None)  # the shared cache in the database, which `computing` empties
    from sqlalchemy import delete

    from models import CachedReport

    def computing() -> tuple[float, str, float]:
        """A run that computes: the shared report cache emptied first, as after a write."""
        with engine.begin() as conn:
            conn.execute(delete(CachedReport))
        return _run(flask, env)

    flask = [str(Path(sys.executable).with_name("flask")), "--app", "app", "report", "QY", "--as-of",
             args.as_of, "--format", "json"]
    bare_cmd = [sys.executable, "-m", "benchmarks.bench_report", "--bare", str(folder), args.as_of]
    imports_only = [sys.executable, "-c", "import flask, sqlalchemy.orm, pandas, pyxirr"]
    # the app made as `flask --app app` makes it, before the command reads a row: the stack's own start
    started = [sys.executable, "-c", "import flask.cli, pandas, pyxirr\nfrom app import create_app\ncreate_app()"]
    _run(flask, env)  # warm the file cache once, for both sides alike
    _run(bare_cmd, env)
    app_runs = [computing() for _ in range(args.repeat)]
    _run(flask, env)  # stored for this book version: the next runs read it
    cached_runs = [_run(flask, env) for _ in range(args.repeat)]
    bare_runs = [_run(bare_cmd, env) for _ in range(args.repeat)]
    floor_runs = [_run(imports_only, env) for _ in range(args.repeat)]
    started_runs = [_run(started, env) for _ in range(args.repeat)]
    app_s, out = min(r[0] for r in app_runs), app_runs[0][1]
    bare_s, bare_out = min(r[0] for r in bare_runs), bare_runs[0][1]
    floor_s, started_s = min(r[0] for r in floor_runs), min(r[0] for r in started_runs)
    app_cpu, bare_cpu, floor_cpu = (min(r[2] for r in runs) for runs in (app_runs, bare_runs, floor_runs))
    cached_s = min(r[0] for r in cached_runs)
    assert all(r[1] == out for r in cached_runs), "the report read from the cache differs from the computed one"
    report = json.loads(out)
    _agree(report, json.loads(bare_out))
    s = report["summary"]
    print(f"report QY as of {args.as_of}: {len(report['investments'])} investments, paid_in {s['paid_in']:,.2f}, "
          f"nav {s['nav']:,.2f}, tvpi {s['tvpi']:.4f}, irr {s['irr']:.6f}")
    print("                        wall     CPU (user+sys; fastest of each)")
    print(f"  flask report process  {app_s:6.2f} s {app_cpu:6.2f} s")
    print(f"  bare pandas+pyxirr    {bare_s:6.2f} s {bare_cpu:6.2f} s")
    print(f"  ratio                 {app_s / bare_s:6.2f} x {app_cpu / bare_cpu:6.2f} x   (target <= 1.2x)  "
          f"{'ok' if app_s / bare_s <= 1.2 else 'OVER TARGET'}")
    print(f"  the same, read from the shared report cache (no write since): {cached_s:.2f} s,"
          f" {cached_s / bare_s:.2f} x the bare script")
    print(f"  (a process that only imports flask, sqlalchemy.orm, pandas and pyxirr: {floor_s:.2f} s wall,"
          f" {floor_s / bare_s:.2f} x the bare script; {floor_cpu:.2f} s CPU, {floor_cpu / bare_cpu:.2f} x)")
    print(f"  (a process that only makes the app, as `flask --app app` does, and reads no row: {started_s:.2f} s,"
          f" {started_s / bare_s:.2f} x the bare script)")
    record(args.summary, "report", f"{app_s:.2f} s vs {bare_s:.2f} s: {app_s / bare_s:.2f}× (CPU "
           f"{app_cpu / bare_cpu:.2f}×); read from the shared report cache: {cached_s:.2f} s, "
           f"{cached_s / bare_s:.2f}×; a process that only imports flask, SQLAlchemy, pandas and pyxirr: "
           f"{floor_s / bare_s:.2f}×; one that makes the app and reads no row: {started_s / bare_s:.2f}×",
           app_s / bare_s <= 1.2)


if __name__ == "__main__":
    main()

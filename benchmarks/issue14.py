"""Every row of issue 14's table in one run: the five benchmarks one after the other on this
machine, then the table with each row's figure and verdict (the form the issue asks for).

    .venv/bin/python -m benchmarks.issue14 [--pg URL] [--duration 20] [--repeat 3] [--markdown FILE]

Each benchmark prints its own figures as it goes (the same as when run alone, see
benchmarks/README.md) and appends its rows to a summary file (`--summary`); the table is
made from that file, so a row whose command failed shows as not measured rather than
vanishing. The machine's speed wanders (on this kind of machine by 10–20 % from minute to
minute), so the same small CPU-bound probe is timed before and after and printed with the
table: a slow stretch shows there. It is timed alone and as two copies side by side: the
quarterly rows keep both cores busy once the forward look is forked aside, and the second
core's share of the machine moves apart from the first's (0.41 s alone with 0.66 s side by
side seen in the same minute).

Needs, on a new machine: `bash scripts/install.sh --test`, `apt-get install -y wrk chromium`
(wrk for the load rows; without it a Python load generator is used), PostgreSQL and the
heavy book (made on first use).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import ROOT, ROWS
from benchmarks.bench_dashboard import DEFAULT_DB as DEFAULT_DASHBOARD_DB
from benchmarks.bench_import import DEFAULT_PG


def steps(*, pg: str, dashboard_db: str, duration: float, repeat: int) -> list[list[str]]:
    """The commands, in the issue's order of rows (each `-m benchmarks.X` with its arguments)."""
    return [
        ["bench_quarterly", "--formats", "pdf,xlsx,html", "--process-only", "--repeat", str(repeat)],
        ["bench_report", "--repeat", str(max(repeat, 3))],
        ["bench_import", "--pg", pg, "--repeat", str(repeat)],
        ["bench_dashboard", "--db", dashboard_db, "--users", "10", "50", "--duration", f"{duration:g}",
         "--writes", "12"],
        ["bench_cached_report"],
    ]


def read_summary(lines: list[str]) -> dict[str, dict]:
    """The summary file's rows by key; a row written twice keeps its last figure."""
    rows: dict[str, dict] = {}
    for line in lines:
        if line.strip():
            entry = json.loads(line)
            rows[entry["row"]] = entry
    return rows


def table(measured: dict[str, dict]) -> tuple[str, int]:
    """The issue's table as Markdown, every row of ROWS in order (a row with no figure says
    so), and the number of rows met."""
    out = ["| row | target | figure | verdict |", "|---|---|---|---|"]
    met = 0
    for key, (what, target) in ROWS.items():
        entry = measured.get(key)
        if entry is None:
            out.append(f"| {what} | {target} | not measured (its command failed; see above) | not met |")
            continue
        met += bool(entry["met"])
        out.append(f"| {what} | {target} | {entry['figure']} | {'met' if entry['met'] else 'not met'} |")
    return "\n".join(out), met


PROBE = "import time; t = time.perf_counter(); sum(range(3 * 10**7)); print(time.perf_counter() - t)"


def speed_probe(*, at_once: int = 1) -> float:
    """Seconds of a fixed CPU-bound loop in a fresh interpreter (0.35–0.65 s seen on this kind
    of machine): how fast the machine is at that moment. `at_once` copies run side by side
    (the slowest one's seconds): with 2, how fast two cores are together."""
    running = [subprocess.Popen([sys.executable, "-c", PROBE], stdout=subprocess.PIPE, text=True)
               for _ in range(at_once)]
    outputs = [process.communicate()[0] for process in running]  # every copy waited for, even if one failed
    for process in running:
        if process.returncode != 0:
            raise subprocess.CalledProcessError(process.returncode, process.args)
    return max(float(out) for out in outputs)


def probes() -> tuple[float, float]:
    """(the probe alone, two side by side)."""
    return speed_probe(), speed_probe(at_once=2)


def settle(*, below: float = 1.5, at_most: float = 60.0) -> None:
    """Wait (at most `at_most` seconds) for the machine to quieten after the step before: a
    load run leaves its server's processes and the database's own work winding down, which
    the next step's timings would otherwise count (a warm fetch of 12 ms seen at 133 ms p95
    right after the 50-user run)."""
    import time

    start = time.monotonic()
    while os.getloadavg()[0] > below and time.monotonic() - start < at_most:
        time.sleep(2)
    waited = time.monotonic() - start
    if waited >= 2:
        print(f"\n(waited {waited:.0f} s for the machine to quieten: load average {os.getloadavg()[0]:.2f})",
              flush=True)


def _commit() -> str:
    done = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=DEFAULT_PG, help=f"PostgreSQL for the import row (default {DEFAULT_PG})")
    parser.add_argument("--dashboard-db", default=DEFAULT_DASHBOARD_DB,
                        help=f"PostgreSQL for the load rows (default {DEFAULT_DASHBOARD_DB})")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load at 10 and at 50 users")
    parser.add_argument("--repeat", type=int, default=3,
                        help="whole-process runs of each quarterly format, and imports of the book (the fastest kept)")
    parser.add_argument("--markdown", help="also write the table (with the machine and the commit) to this file")
    args = parser.parse_args()

    started = dt.datetime.now(dt.UTC)
    probe_before, load_before = probes(), os.getloadavg()
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="issue14_") as tmp:
        summary = Path(tmp) / "summary.jsonl"
        summary.touch()
        for number, step in enumerate(steps(pg=args.pg, dashboard_db=args.dashboard_db, duration=args.duration,
                                            repeat=args.repeat)):
            if number:
                settle()
            command = [sys.executable, "-m", f"benchmarks.{step[0]}", *step[1:], "--summary", str(summary)]
            print(f"\n$ {' '.join(command[1:])}", flush=True)
            done = subprocess.run(command, cwd=ROOT)
            if done.returncode not in (0, 1):  # 1: bench_dashboard's "a target not met"
                failed.append(f"{step[0]} (exit status {done.returncode})")
        measured = read_summary(summary.read_text(encoding="utf-8").splitlines())
    finished = dt.datetime.now(dt.UTC)
    probe_after = probes()

    markdown, met = table(measured)
    machine = (f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, Python "
               f"{platform.python_version()}; commit {_commit()}; {started:%Y-%m-%d %H:%M}–{finished:%H:%M} UTC; "
               f"load average before {load_before[0]:.2f}; speed probe (`sum(range(3*10**7))`) "
               f"{probe_before[0]:.2f} s before, {probe_after[0]:.2f} s after; two side by side "
               f"{probe_before[1]:.2f} s before, {probe_after[1]:.2f} s after")
    heading = f"**{met} of {len(ROWS)} rows met**, measured one after the other in one run ({machine})."
    print(f"\n{heading}\n\n{markdown}")
    if failed:
        print("\ncommands that failed: " + ", ".join(failed))
    if args.markdown:
        Path(args.markdown).write_text(f"{heading}\n\n{markdown}\n", encoding="utf-8")


if __name__ == "__main__":
    main()

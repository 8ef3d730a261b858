"""benchmarks.issue14 makes issue 14's table from the rows the benchmarks record: every row
in the issue's order, a row whose command failed shown as not measured, the count of rows met."""
from __future__ import annotations

import json
import subprocess

import pytest

from benchmarks import ROWS, record
from benchmarks.issue14 import read_summary, steps, table


def test_recorded_rows_make_the_table_in_the_issues_order(tmp_path):
    summary = tmp_path / "summary.jsonl"
    record(str(summary), "report", "0.93 s vs 0.50 s: 1.86×", False)
    record(str(summary), "pdf", "4.84 s, peak 443 MB: 0.48× the target", True)
    record(str(summary), "xlsx", "1.71 s: 0.86× the target", True)

    markdown, met = table(read_summary(summary.read_text(encoding="utf-8").splitlines()))

    lines = markdown.splitlines()
    assert lines[0] == "| row | target | figure | verdict |"
    assert len(lines) == 2 + len(ROWS)
    assert lines[2] == "| quarterly PDF of 千亿, whole process | ≤ 10 s, ≤ 600 MB | 4.84 s, peak 443 MB: 0.48× the target | met |"
    assert lines[3].endswith("| 1.71 s: 0.86× the target | met |")
    assert lines[4].startswith("| quarterly HTML") and "not measured" in lines[4] and lines[4].endswith("| not met |")
    assert lines[5].endswith("| 0.93 s vs 0.50 s: 1.86× | not met |")
    assert met == 2


def test_a_row_measured_again_keeps_its_last_figure():
    lines = [json.dumps({"row": "html", "figure": "2.10 s", "met": False}),
             "",
             json.dumps({"row": "html", "figure": "1.65 s", "met": True})]
    markdown, met = table(read_summary(lines))
    assert "| 1.65 s | met |" in markdown and "2.10 s" not in markdown
    assert met == 1


def test_without_a_summary_file_nothing_is_written_and_unknown_rows_are_refused(tmp_path):
    record(None, "pdf", "4.84 s", True)  # a benchmark run alone: prints only
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="not a row"):
        record(str(tmp_path / "s.jsonl"), "pdf_fast", "1 s", True)


def test_every_step_is_a_benchmark_that_takes_a_summary_file():
    import subprocess
    import sys

    from benchmarks import ROOT

    for step in steps(pg="postgresql://x/y", dashboard_db="postgresql://x/z", duration=5, repeat=2):
        done = subprocess.run([sys.executable, "-m", f"benchmarks.{step[0]}", "--help"], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "--summary SUMMARY" in done.stdout, step[0]


def test_the_probes_side_by_side_run_at_once_and_give_the_slowest(monkeypatch, tmp_path):
    import benchmarks.issue14 as issue14

    # each copy leaves its figure in tmp_path, then waits until all four have (a barrier: copies
    # run one after the other would never get past it), then prints its figure
    monkeypatch.setattr(issue14, "PROBE", "import os, pathlib, time; d = pathlib.Path(" + repr(str(tmp_path)) + "); "
                        "v = os.getpid() % 1000 / 1000; (d / str(os.getpid())).write_text(str(v)); "
                        "end = time.monotonic() + 60\n"
                        "while len(list(d.iterdir())) < 4 and time.monotonic() < end: time.sleep(0.01)\n"
                        "assert len(list(d.iterdir())) == 4; print(v)")
    slowest = issue14.speed_probe(at_once=4)
    figures = [float(f.read_text()) for f in tmp_path.iterdir()]
    assert len(figures) == 4 and slowest == max(figures)
    monkeypatch.setattr(issue14, "PROBE", "import sys; sys.exit(3)")
    with pytest.raises(subprocess.CalledProcessError):
        issue14.speed_probe(at_once=2)

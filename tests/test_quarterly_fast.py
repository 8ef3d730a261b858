"""The quarterly report's forward look computed aside, in a forked child (portfolio.figures.aside):
the same report as inline, and inline whenever forking is not safe or the child fails."""
from __future__ import annotations

import os
import threading
import time
from decimal import Decimal

import pytest

from portfolio.figures import aside as aside_module
from portfolio.figures.aside import Aside, can_fork, fork_safe
from portfolio.reports import quarterly
from portfolio.reports.quarterly import build_quarterly
from tests.forecast_books import demo_book_data

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here: always inline")

# the simulated bands sum the blocks of paths as their threads end, so the last bit of a
# sum may differ between two runs: they are compared to the fen
SIMULATED = ("p10", "p50", "p90")


@pytest.fixture(autouse=True)
def _threads_left_by_other_tests(monkeypatch):
    """Threads other tests of the session left running (e.g. asyncio's child watchers after a
    browser test) would keep every report here inline: for these tests they count as marked
    fork_safe (each test's own threads are judged as they are)."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread():
            monkeypatch.setattr(thread, "fork_safe", True, raising=False)


@pytest.fixture(scope="module")
def demo():
    return demo_book_data()


def _recording(monkeypatch) -> list[Aside]:
    """Every Aside build_quarterly starts, kept to look at afterwards."""
    made: list[Aside] = []

    def recorded(func, *args, **kwargs):
        made.append(Aside(func, *args, **kwargs))
        return made[-1]

    monkeypatch.setattr(quarterly, "aside", recorded)
    return made


def _same_to_the_fen(forked: dict, inline: dict) -> None:
    assert forked.keys() == inline.keys()
    assert {k: v for k, v in forked.items() if k not in ("rows", "ccar95", "ccar95_bureau")} == \
        {k: v for k, v in inline.items() if k not in ("rows", "ccar95", "ccar95_bureau")}
    assert [r["key"] for r in forked["rows"]] == [r["key"] for r in inline["rows"]]
    for a, b in zip(forked["rows"], inline["rows"]):
        assert a["e"] == b["e"]  # the TA expectation: no simulation, the same to the bit
        for level in SIMULATED:
            assert isinstance(a[level], Decimal) and abs(a[level] - b[level]) <= Decimal("0.01"), (a, b)
    for name in ("ccar95", "ccar95_bureau"):
        assert forked[name].keys() == inline[name].keys()
        assert all(abs(forked[name][h] - inline[name][h]) <= Decimal("0.01") for h in inline[name])


def test_the_forward_look_from_the_child_is_the_inline_one(demo, monkeypatch):
    assert can_fork(), [t.name for t in threading.enumerate()]
    made = _recording(monkeypatch)
    forked = build_quarterly(demo, "QY", "2025Q4")
    assert len(made) == 1 and made[0].forked and made[0].from_child
    monkeypatch.setattr(aside_module, "can_fork", lambda: False)
    inline = build_quarterly(demo, "QY", "2025Q4")
    assert len(made) == 2 and not made[1].forked and not made[1].from_child
    # everything but the forward look: the very same objects' values
    assert {k: v for k, v in forked.items() if k != "forward_look"} == \
        {k: v for k, v in inline.items() if k != "forward_look"}
    _same_to_the_fen(forked["forward_look"], inline["forward_look"])
    assert forked["forward_look"]["rows"][0]["e"] > 0  # a forward look with figures in it


def test_overrides_reach_the_child(demo, monkeypatch):
    made = _recording(monkeypatch)
    plain = build_quarterly(demo, "QY", "2025Q4")["forward_look"]
    units = {u: {"rc_early": 0.0, "rc_late": 0.0} for u in demo.investments["id"]}
    still = build_quarterly(demo, "QY", "2025Q4", forecast_overrides=units)["forward_look"]
    assert all(m.from_child for m in made)
    assert any(row["e"] > 0 for row in plain["rows"] if row["kind"] == "calls")
    assert all(row["e"] == 0 for row in still["rows"] if row["kind"] == "calls")


def test_an_error_in_the_report_stops_the_child(demo, monkeypatch):
    made = _recording(monkeypatch)

    def broken(*args, **kwargs):
        raise quarterly.QuarterlyError("broken")

    monkeypatch.setattr(quarterly, "_compute", broken)
    with pytest.raises(quarterly.QuarterlyError):
        build_quarterly(demo, "QY", "2025Q4")
    assert made[0].forked and made[0].pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(made[0].child, 0)  # killed and reaped: no child left behind


def _parked_thread(safe: bool):
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="parked", daemon=True)
    if safe:
        fork_safe(thread)
    thread.start()
    return thread, stop


@pytest.mark.parametrize("safe", [False, True])
def test_another_thread_keeps_it_inline_unless_marked_fork_safe(safe):
    thread, stop = _parked_thread(safe)
    try:
        job = Aside(lambda x: (x * 2, os.getpid()), 21)
        value, pid = job.result()
    finally:
        stop.set()
        thread.join()
    assert value == 42
    assert job.forked is safe and job.from_child is safe
    assert (pid != os.getpid()) is safe


def test_another_thread_of_any_kind_keeps_it_inline():
    """A daemon thread not marked (a threaded server's, a job consumer's) is no exception."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=False)
    thread.start()
    try:
        assert not can_fork()
    finally:
        stop.set()
        thread.join()
    assert can_fork()


def test_a_child_that_raises_gives_the_inline_exception():
    parent = os.getpid()

    def fails():
        raise ValueError(f"in {'child' if os.getpid() != parent else 'parent'}")

    job = Aside(fails)
    assert job.forked
    with pytest.raises(ValueError, match="in parent"):
        job.result()
    assert not job.from_child


def test_a_child_that_dies_is_replaced_inline():
    parent = os.getpid()

    def dies():
        if os.getpid() != parent:
            os._exit(3)
        return "inline"

    job = Aside(dies)
    assert job.result() == "inline" and job.forked and not job.from_child


def test_a_child_that_does_not_answer_in_time_is_killed_and_replaced_inline():
    parent = os.getpid()

    def hangs():
        if os.getpid() != parent:
            time.sleep(60)
        return "inline"

    job = Aside(hangs, timeout=0.5)
    pid = job.child
    started = time.monotonic()
    assert job.result() == "inline"
    assert time.monotonic() - started < 10 and not job.from_child
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped


def test_a_large_result_comes_back_whole():
    job = Aside(lambda: bytes(range(256)) * 40_000)  # 10 MB: many times a pipe's buffer
    assert job.result() == bytes(range(256)) * 40_000 and job.from_child
    assert job.result() is job.result()  # computed once


def test_the_cli_forks_beside_the_job_heartbeat(app, runner, monkeypatch, tmp_path):
    """The command runs the report as a job in its process, with the job's heartbeat thread
    beating beside it (marked fork_safe in web/queue.py): the forward look still forks."""
    from portfolio.interchange.importing import import_book
    from tests.conftest import EXAMPLE_BOOK
    from web.extensions import db

    with app.app_context():
        assert import_book(db.session, EXAMPLE_BOOK, username="test").ok
    made = _recording(monkeypatch)
    out = tmp_path / "q.html"
    done = runner.invoke(args=["quarterly-report", "QY", "2025Q4", "--format", "html", "-o", str(out),
                               "--no-progress"])
    assert done.exit_code == 0, done.output
    assert len(made) == 1 and made[0].forked and made[0].from_child
    assert "2026Q1" in out.read_text(encoding="utf-8")  # the forward look's next quarter, on the page


def test_meanwhile_has_the_report_but_its_forward_look_while_the_child_runs(demo, monkeypatch):
    import copy

    made = _recording(monkeypatch)
    seen = []

    def meanwhile(report):
        seen.append((copy.deepcopy(report), made[0].pid is not None))

    report = build_quarterly(demo, "QY", "2025Q4", meanwhile=meanwhile)
    (partial, child_running), = seen
    assert child_running and made[0].from_child  # called before the child's result was read
    assert partial["forward_look"] is None and report["forward_look"]["rows"]
    assert list(partial) == list(report)  # the same keys, in the same order
    assert {k: v for k, v in partial.items() if k != "forward_look"} == \
        {k: v for k, v in report.items() if k != "forward_look"}


def _by_the_cli(app, runner, monkeypatch, tmp_path, fmt: str):
    """The example book's 2025Q4 report written by `flask quarterly-report` (its forward look
    computed in a forked child): (the book, the Asides started, the file written)."""
    from portfolio.book.reading import load_book
    from portfolio.interchange.importing import import_book
    from tests.conftest import EXAMPLE_BOOK
    from web.extensions import db

    with app.app_context():
        assert import_book(db.session, EXAMPLE_BOOK, username="test").ok
        book = load_book(db.session)
    made = _recording(monkeypatch)
    out = tmp_path / f"q.{fmt}"
    done = runner.invoke(args=["quarterly-report", "QY", "2025Q4", "--format", fmt, "-o", str(out),
                               "--no-progress"])
    assert done.exit_code == 0, done.output
    assert made[0].from_child
    return book, made, out


def test_the_cli_workbook_written_while_the_child_runs_is_the_one_written_after(app, runner, monkeypatch,
                                                                                tmp_path):
    from portfolio.reports.xlsx import write_quarterly_xlsx
    from tests.test_xlsx_fast import _same_file

    book, _made, out = _by_the_cli(app, runner, monkeypatch, tmp_path, "xlsx")
    monkeypatch.setattr(aside_module, "can_fork", lambda: False)
    _same_file(out.read_bytes(), write_quarterly_xlsx(build_quarterly(book, "QY", "2025Q4"), lang="zh"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_document_rendered_around_its_forward_look_is_the_one_rendered_whole(app, demo, lang):
    """The printable HTML rendered while the forward look is computed aside (all but its
    section), its section put in afterwards: the same text as rendered in one step."""
    from web.i18n import request_in
    from web.reports import EarlyDocument, render_document

    seen = []
    document = EarlyDocument()

    def meanwhile(report):
        seen.append(report["forward_look"])
        document.start(report)

    with app.app_context(), request_in(lang):
        report = build_quarterly(demo, "QY", "2025Q4", meanwhile=meanwhile)
        whole = render_document(report)
        assert seen == [None] and document.text is not None and document.mark in document.text
        assert document.mark not in whole and 'id="forward-look"' not in document.text
        assert document.finish(report) == whole
    assert whole.count('id="forward-look"') == 1 and report["forward_look"]["next_quarter"] in whole


def test_the_document_not_started_is_rendered_whole(app, demo):
    """A report from the cache: `meanwhile` was never called, the document is rendered at once."""
    from web.reports import EarlyDocument, render_document

    report = build_quarterly(demo, "QY", "2025Q4")
    with app.app_context():
        assert EarlyDocument().finish(report) == render_document(report)


def test_the_cli_html_rendered_while_the_child_runs_is_the_one_rendered_after(app, runner, monkeypatch, tmp_path):
    from web.reports import render_document

    book, made, out = _by_the_cli(app, runner, monkeypatch, tmp_path, "html")
    written = out.read_text(encoding="utf-8")
    # the same report, inline this time (the child's bands could differ in a last bit: the
    # forward look is taken from the child's, as written)
    monkeypatch.setattr(aside_module, "can_fork", lambda: False)
    report = build_quarterly(book, "QY", "2025Q4")
    report["forward_look"] = made[0].result()
    with app.app_context():
        assert written == render_document(report)

"""Report jobs on the real queue (web/queue.py): on the embedded default (Huey on SQLite, a
worker thread started by the app) and on the Redis at 127.0.0.1:6379 (a db and key prefix
of these tests' own, consumed as `flask jobs-worker` would). And the shared report cache
(portfolio.book.cache.shared) they store their files in."""
from __future__ import annotations

import io
import re
import subprocess
import time
import uuid

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AuditEntry, CachedReport, CashFlow, Job
from portfolio.book import cache
from portfolio.book import jobs as job_records
from portfolio.book.audit import audit
from portfolio.book.records import record_cash_flow
from portfolio.book.unit import commit
from portfolio.interchange.importing import import_book
from tests.conftest import EXAMPLE_BOOK
from web import queue

REDIS_URL = "redis://127.0.0.1:6379/13"  # a db of these tests' own


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture(params=["embedded", "redis"])
def engine_kind(request, app, tmp_path):
    """The app's queue on each engine; the Redis one with a worker as `flask jobs-worker` runs it."""
    if request.param == "redis":
        if not _redis_up():
            pytest.skip("no Redis at 127.0.0.1:6379")
        app.config.update(REDIS_URL=REDIS_URL, JOBS_QUEUE_NAME=f"test-jobs-{uuid.uuid4().hex[:8]}",
                          JOBS_EMBEDDED_CONSUMER=False, REPORT_CACHE_PREFIX=f"test-report-{uuid.uuid4().hex[:8]}:")
        queue.init_app(app)
        cache.configure(redis_url=REDIS_URL, prefix=app.config["REPORT_CACHE_PREFIX"])
        worker = queue.consumer(workers=1, periodic=False)
        worker.start()
        yield "redis"
        worker.stop(graceful=True)
        queue.get_huey().storage.flush_queue()
        cache.configure(redis_url=None)
    else:
        app.config.update(JOBS_QUEUE_FILE=str(tmp_path / "queue.sqlite"), JOBS_EMBEDDED_CONSUMER=True)
        queue.init_app(app)
        yield "embedded"
    queue.stop_consumer()


@pytest.fixture
def example(db):
    result = import_book(db.session, EXAMPLE_BOOK, username="loader")
    assert result.ok, result.errors
    cache.clear()


def _follow(client, status: dict, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    seen = []
    while status["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"job still {status['state']} after {timeout} s"
        time.sleep(0.2)
        status = client.get(status["status_url"], headers={"Accept": "application/json"}).get_json()
        seen.append((status["done"], status["total"], status["unit"]))
    return status


def _start(client, fmt: str, quarter: str = "2025Q4", **more):
    return client.post("/reports/jobs", data={"fund": "QY", "quarter": quarter, "format": fmt, **more},
                       headers={"Accept": "application/json"})


def test_a_report_job_runs_on_the_queue_and_its_file_downloads(engine_kind, example, db, as_role):
    client = as_role("viewer")  # a viewer writes nothing to the book, but may have a report built
    response = _start(client, "xlsx")
    assert response.status_code == 202
    status = _follow(client, response.get_json())
    assert status["state"] == "done", status
    job = db.session.get(Job, status["id"], populate_existing=True)
    assert job.started_by == "viewer1" and job.kind == "quarterly_report"
    assert job.params == {"fund": "QY", "quarter": "2025Q4", "format": "xlsx", "index": None, "lang": "zh",
                          "forecast_parameters": 0}  # the forward look reads the forecast overrides
    assert job.started_at and job.finished_at and job.attempts == 1
    assert job.unit == "steps" and job.done == job.total == 2
    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].endswith("QY-2025Q4.xlsx")
    sheets = load_workbook(io.BytesIO(download.data)).sheetnames
    assert "业绩分析" in sheets
    # the same file as the direct link, which now reads the entry the job stored
    assert client.get("/reports/QY/2025Q4.xlsx").data == download.data

    # asked again on the same book: the same job, not done again
    again = _start(client, "xlsx").get_json()
    assert again["id"] == status["id"] and again["state"] == "done"
    # after a write to the book: a new job, a new file
    record_cash_flow(db.session, {"investment_id": "QY-D1", "date": "2025-11-01", "type": "distribution",
                                  "amount_cny": "1000000"}, username="mgr")
    fresh = _follow(client, _start(client, "xlsx").get_json())
    assert fresh["id"] != status["id"] and fresh["state"] == "done"


def test_a_pdf_job_counts_its_pages(engine_kind, example, db, as_role, tmp_path):
    client = as_role("viewer")
    status = _follow(client, _start(client, "pdf").get_json(), timeout=180)
    assert status["state"] == "done", status
    assert status["unit"] == "pages_rendered" and status["done"] == status["total"] > 3
    assert status["label"] == "页已排版"
    body = client.get(status["download_url"]).data
    assert body.startswith(b"%PDF")
    path = tmp_path / "r.pdf"
    path.write_bytes(body)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(rf"^Pages:\s+{status['total']}$", info, re.M)  # poppler counts the pages the job counted


def test_a_report_that_cannot_be_built_fails_with_its_reason(engine_kind, example, db, as_role):
    client = as_role("viewer")
    status = _follow(client, _start(client, "html", index="NOINDEX").get_json())
    assert status["state"] == "failed" and status["error"] == "没有指数 NOINDEX 的数据"
    job = db.session.get(Job, status["id"], populate_existing=True)
    assert job.attempts == 1  # refused, not retried
    assert client.get(f"/reports/jobs/{status['id']}/download").status_code == 404
    bad = _start(client, "docx")
    assert bad.status_code == 400 and bad.get_json()["error"]


def test_a_refused_job_says_why_in_the_readers_language(example, db, as_role, app):
    """The refusal is kept by key: the English reader reads it in English (no Chinese), the
    Chinese reader as it always was; the CLI's language picks the same way."""
    from portfolio.book.jobs import find_or_create

    client = as_role("viewer")
    client.get("/lang/en")
    status = _follow(client, _start(client, "html", index="NOINDEX").get_json())
    assert status["state"] == "failed" and status["error"] == "There are no data for the index NOINDEX"
    assert not re.search(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]", status["error"])
    client.get("/lang/zh")
    assert client.get(status["status_url"], headers={"Accept": "application/json"}).get_json()["error"] \
        == "没有指数 NOINDEX 的数据"
    job = db.session.get(Job, status["id"], populate_existing=True)
    assert job.error == "没有指数 NOINDEX 的数据"  # the row's text stays the Chinese
    assert queue.error_shown(job, "en") == "There are no data for the index NOINDEX"
    plain, _created = find_or_create(db.session, "nothing", {}, username="x", version="v")
    job_records.fail(db.session, plain.id, "RuntimeError: 纯文本", final=True)
    # a failure kept without a sentence reads as the general one: never the exception's text
    assert queue.error_shown(db.session.get(Job, plain.id, populate_existing=True), "en").startswith("It failed")


@pytest.mark.parametrize("quarter", ["0001Q1", "9999Q1", "2200Q1", "1899Q4", "٢٠٢٥Q1"])
def test_a_quarter_outside_the_books_dates_is_no_report(example, as_role, quarter):
    """Year 1 or 9999 had answered 500 (the date's arithmetic overflowed) on the page, the xlsx and
    the PDF, and a job for it failed with Python's OverflowError shown to the reader."""
    client = as_role("viewer")
    for suffix in ("", ".xlsx", ".pdf"):
        assert client.get(f"/reports/QY/{quarter}{suffix}").status_code == 404
    refused = _start(client, "xlsx", quarter=quarter)
    assert refused.status_code == 400 and refused.get_json()["error"]


def test_a_job_that_fails_inside_the_app_says_so_in_a_sentence_not_the_exception(example, db, as_role, monkeypatch):
    def broken(context):
        raise OverflowError("date value out of range")

    monkeypatch.setitem(queue.HANDLERS, "quarterly_report", broken)
    client = as_role("viewer")
    status = _follow(client, _start(client, "xlsx").get_json())
    assert status["state"] == "failed"
    assert status["error"] == "生成失败：系统内部错误，已记入日志，请联系系统管理员"
    client.get("/lang/en")
    english = client.get(status["status_url"], headers={"Accept": "application/json"}).get_json()["error"]
    assert english.startswith("It failed") and "OverflowError" not in english
    page = client.get(f"/reports/jobs/{status['id']}").get_data(as_text=True)
    assert "OverflowError" not in page and "date value out of range" not in page
    job = db.session.get(Job, status["id"], populate_existing=True)
    assert job.error == "OverflowError: date value out of range"  # kept for whoever keeps the app


def test_a_job_whose_worker_died_is_taken_up_again(app, engine_kind, example, db):
    """A worker took the job and died (no heartbeat since): the job is not lost. It is
    queued again and done once, by a live worker; its row shows the second attempt."""
    import datetime as dt

    params = {"fund": "QY", "quarter": "2025Q4", "format": "html", "index": None, "lang": "zh"}
    with Session(db.engine, expire_on_commit=False) as session:
        job, created = job_records.find_or_create(session, "quarterly_report", params, username="mgr",
                                                  version=cache.book_version(session))
        assert created
        long_ago = job_records.utcnow() - dt.timedelta(minutes=10)
        assert job_records.claim(session, job.id, now=long_ago) is not None  # the worker that died
        assert job_records.claim(session, job.id, now=long_ago) is None  # not taken twice while it "beats"
    assert job.id in queue.requeue_stale(app)
    queue.ensure_consumer(app)
    deadline = time.monotonic() + 90
    while (row := db.session.get(Job, job.id, populate_existing=True)).state != "done":
        assert time.monotonic() < deadline, row.state
        time.sleep(0.2)
        db.session.rollback()
    assert row.attempts == 2 and row.result["bytes"] > 10_000


def test_two_workers_never_run_one_job(db):
    params = {"fund": "QY"}
    with Session(db.engine) as session:
        job, _ = job_records.find_or_create(session, "quarterly_report", params, username="a", version="1")
        assert job_records.claim(session, job.id) is not None
        assert job_records.claim(session, job.id) is None  # running and beating: not taken twice
        again, created = job_records.find_or_create(session, "quarterly_report", params, username="b", version="1")
        assert again.id == job.id and not created
        other, created = job_records.find_or_create(session, "quarterly_report", params, username="b", version="2")
        assert created and other.id != job.id


def test_the_command_shows_progress_and_reuses_the_shared_report(example, runner, db, tmp_path):
    out = tmp_path / "q.xlsx"
    result = runner.invoke(args=["quarterly-report", "QY", "2025Q4", "--format", "xlsx", "-o", str(out),
                                 "--progress"])
    assert result.exit_code == 0, result.output
    assert "步骤" in result.output and "2/2" in result.output  # the tqdm bar, on standard error (the CLI's language)
    assert load_workbook(out).sheetnames
    jobs = db.session.execute(select(Job)).scalars().all()
    assert [(j.kind, j.started_by, j.state) for j in jobs] == [("quarterly_report", "cli", "done")]
    again = runner.invoke(args=["quarterly-report", "QY", "2025Q4", "--format", "xlsx", "-o", str(out)])
    assert again.exit_code == 0 and "步骤" not in again.output  # no terminal: no bar; and not redone
    # the file's size for a person, in the CLI's language: （12.3 KB） / (12.3 KB)
    assert re.search(r"QY 2025Q4 → .*（\d+\.\d KB）$", again.output.strip()) and "bytes" not in again.output
    assert db.session.execute(select(func.count()).select_from(Job)).scalar() == 1
    english = runner.invoke(args=["quarterly-report", "QY", "2025Q4", "--format", "xlsx", "-o", str(out)],
                            env={"PORTFOLIO_LANG": "en"})  # the English report, a job of its own
    assert re.search(r" \(\d+\.\d KB\)$", english.output.strip()), english.output


def test_the_shared_cache_survives_logins_and_follows_book_writes(example, db, as_role, monkeypatch):
    import web.reports

    client = as_role("viewer")
    assert client.get("/reports/QY/2025Q4.pdf").status_code == 200
    entries = db.session.execute(select(CachedReport.what, CachedReport.version)).all()
    assert [what for what, _v in entries] == ["quarterly.pdf"]
    version = entries[0][1]
    audit(db.session, "system", "lock", "users", "someone", after={"failures": 10})  # not the book
    commit(db.session)
    assert cache.book_version(db.session) == version
    build = web.reports.build_quarterly_file
    built: list[str] = []

    def counted(*args, **kwargs):
        built.append(args[2])
        return build(*args, **kwargs)

    monkeypatch.setattr(web.reports, "build_quarterly_file", counted)
    assert client.get("/reports/QY/2025Q4.pdf").status_code == 200
    assert built == []  # served from the stored entry, not laid out again (its speed: benchmarks.bench_cached_report)
    record_cash_flow(db.session, {"investment_id": "QY-D1", "date": "2025-11-01", "type": "distribution",
                                  "amount_cny": "1000000"}, username="mgr")
    assert client.get("/reports/QY/2025Q4.pdf").status_code == 200
    assert built == ["pdf"]  # the write made a new book version: laid out once more
    after = db.session.execute(select(CachedReport.what, CachedReport.version)).all()
    assert len(after) == 1 and after[0][1] != version  # the older version's entry was replaced


def test_the_worker_command_runs_the_jobs_queued_on_redis(app, example, db, as_role, database_url):
    """Production: the web process only enqueues on Redis; `flask jobs-worker`, another
    process, runs the job; the browser's poll sees it done and downloads the file."""
    import os
    import signal
    import sys
    from pathlib import Path

    if not _redis_up():
        pytest.skip("no Redis at 127.0.0.1:6379")
    name, prefix = f"test-jobs-{uuid.uuid4().hex[:8]}", f"test-report-{uuid.uuid4().hex[:8]}:"
    app.config.update(REDIS_URL=REDIS_URL, JOBS_QUEUE_NAME=name, JOBS_EMBEDDED_CONSUMER=False,
                      REPORT_CACHE_PREFIX=prefix)
    queue.init_app(app)
    cache.configure(redis_url=REDIS_URL, prefix=prefix)
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "JOBS_QUEUE_NAME": name,
           "REPORT_CACHE_PREFIX": prefix, "SECRET_KEY": "test-secret-not-for-production"}
    flask = str(Path(sys.executable).with_name("flask"))
    worker = subprocess.Popen([flask, "--app", "app", "jobs-worker", "--workers", "1"], env=env,
                              cwd=Path(__file__).resolve().parents[1], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        client = as_role("viewer")
        status = _follow(client, _start(client, "html").get_json(), timeout=180)
        assert status["state"] == "done", status
        body = client.get(status["download_url"]).data
        assert "宁波千亿科技创新基金" in body.decode("utf-8")
    finally:
        worker.send_signal(signal.SIGINT)  # the consumer's graceful stop
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        queue.get_huey().storage.flush_queue()
        cache.configure(redis_url=None)
        queue.stop_consumer()


def _lose_the_stored_reports(engine_kind, db) -> None:
    """What a restart of Redis (it keeps nothing on disk), an expired entry or an emptied table
    does: the jobs table still says done, the shared cache has nothing."""
    if engine_kind == "redis":
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=cache._redis_prefix + "*"):
            client.delete(key)
    else:
        db.session.execute(CachedReport.__table__.delete())
        db.session.commit()


def test_a_done_report_whose_file_was_lost_is_built_again_on_the_screen(engine_kind, example, db, as_role):
    client = as_role("viewer")
    first = _follow(client, _start(client, "xlsx").get_json())
    assert first["state"] == "done"
    _lose_the_stored_reports(engine_kind, db)
    # the download of the done job cannot be served; asked again, the same job is done again
    assert client.get(first["download_url"]).status_code == 302
    again = _follow(client, _start(client, "xlsx").get_json())
    assert again["id"] == first["id"] and again["state"] == "done"
    download = client.get(again["download_url"])
    assert download.status_code == 200 and "业绩分析" in load_workbook(io.BytesIO(download.data)).sheetnames
    job = db.session.get(Job, first["id"], populate_existing=True)
    assert job.attempts == 1 and job.state == "done"  # queued again as new, run once more
    assert db.session.execute(select(func.count()).select_from(Job)).scalar() == 1


def test_the_command_builds_a_lost_report_again(engine_kind, example, runner, db, tmp_path):
    out = tmp_path / "q.xlsx"
    args = ["quarterly-report", "QY", "2025Q4", "--format", "xlsx", "-o", str(out)]
    assert runner.invoke(args=args).exit_code == 0
    _lose_the_stored_reports(engine_kind, db)
    out.unlink()
    again = runner.invoke(args=args)
    assert again.exit_code == 0, again.output
    assert "业绩分析" in load_workbook(out).sheetnames
    assert db.session.execute(select(func.count()).select_from(Job)).scalar() == 1


def test_a_large_change_set_is_applied_by_a_job_with_the_same_controls(engine_kind, app, db, tmp_path, monkeypatch):
    """Applying a change set of many rows runs as a job (its bar on a page of its own), never
    inside the request; the uploader is refused at once, as inline; the job, run again after
    its apply, gives the same apply."""
    from models import ChangeSet
    from portfolio.interchange.staging import stage_book
    from portfolio.interchange.synthetic import generate_heavy_book
    from portfolio.messages import Message
    from tests.conftest import login, make_user
    from web.change_sets import apply_change_set_job

    app.config["APPLY_JOB_MIN_ROWS"] = 100
    monkeypatch.setattr("portfolio.interchange.staging.CONFIRMED_LISTED", 3)
    folder = generate_heavy_book(tmp_path / "book", investments=6, flows=120, valuations=20, holdings=10, seed=2)
    change_set = stage_book(db.session, folder, username="manager1").change_set
    make_user(db, "manager1", "manager")
    make_user(db, "manager2", "manager")
    uploader, checker = app.test_client(), app.test_client()
    login(uploader, "manager1")
    login(checker, "manager2")
    form = {"confirmed": "y", "confirm_reason": "生成的账本，已核对"}
    url = f"/book/change-sets/{change_set.id}/apply"

    refused = uploader.post(url, data=form, follow_redirects=True).get_data(as_text=True)
    assert str(Message("uploader_cannot_approve")) in refused
    assert db.session.execute(select(func.count()).select_from(Job)).scalar() == 0  # no job for a refusal

    started = checker.post(url, data=form)
    assert started.status_code == 302 and "/book/change-sets/apply-jobs/" in started.headers["Location"]
    job_id = int(started.headers["Location"].rstrip("/").split("/")[-1])
    page = checker.get(f"/book/change-sets/apply-jobs/{job_id}")
    assert page.status_code == 302 or "data-job-status-url" in page.get_data(as_text=True)  # a bar, or done already
    status = _follow(checker, checker.get(f"/book/change-sets/apply-jobs/{job_id}.json").get_json())
    assert status["state"] == "done", status
    job = db.session.get(Job, job_id, populate_existing=True)
    assert job.kind == "apply_change_set" and job.started_by == "manager2"
    # its bar: rows read, then sheets checked (on SQLite too: the plan is made before the write lock)
    assert job.unit == "sheets_checked" and job.done == job.total > 0
    landed = checker.get(f"/book/change-sets/apply-jobs/{job_id}")
    assert landed.status_code == 302 and landed.headers["Location"].endswith(f"/book/change-sets/{change_set.id}")
    db.session.expire_all()
    applied = db.session.get(ChangeSet, change_set.id)
    assert applied.status == "applied" and applied.decided_by == "manager2"
    flows = db.session.execute(select(func.count()).select_from(CashFlow)).scalar()
    assert flows == applied.counts["cash_flows"]["new"] > 100  # the book was empty: every staged flow went in
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "apply")).scalar_one()
    assert entry.reason and "生成的账本，已核对" in entry.reason
    # the apply's own entry lists the first confirmed doubts and counts them all; each doubted
    # row's own entry carries its doubts and the reason
    doubted = db.session.execute(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.batch == applied.batch, AuditEntry.reason.contains("生成的账本，已核对"),
        AuditEntry.action != "apply")).scalar()
    assert entry.after["confirmed_doubts_count"] == doubted > 3
    assert len(entry.after["confirmed_doubts"]) == len(entry.after["confirmed_doubts_said"]) == 3

    # the job run again (its worker died after the commit): the same apply, nothing written twice
    context = queue.JobContext(job.id, job.kind, dict(job.params), job.started_by, lambda *a: None)
    with app.test_request_context("/"):
        assert apply_change_set_job(context) == {"change_set": change_set.id}
    assert db.session.execute(select(func.count()).select_from(CashFlow)).scalar() == flows


def test_a_long_list_is_exported_by_a_job_with_the_rows_the_request_would_give(engine_kind, app, db, as_role,
                                                                                  tmp_path, monkeypatch):
    """A list of EXPORT_JOB_MIN_ROWS rows or more is written by a job: a page with the bar
    (rows written), then the download: the same workbook, row for row, as a short list is
    given within the request, in the asker's language and as-of date. Asked again with the
    book unchanged, the same job and file; after a write, a new one."""
    from portfolio.interchange.synthetic import generate_heavy_book
    from tests.test_list_exports import records

    folder = generate_heavy_book(tmp_path / "book", investments=6, flows=120, valuations=20, holdings=10, seed=2)
    assert import_book(db.session, folder, username="loader").ok
    client = as_role("viewer")
    client.get("/lang/en")
    url = "/cash-flows/export.xlsx?fund=QY"
    app.config["EXPORT_JOB_MIN_ROWS"] = 1_000_000
    inline = client.get(url)
    assert inline.status_code == 200
    expected = records(load_workbook(io.BytesIO(inline.data)).active)
    assert len(expected) > 50

    app.config["EXPORT_JOB_MIN_ROWS"] = 50
    import threading

    from portfolio.book import listing

    read_by, read = [], listing.cash_flow_rows
    monkeypatch.setattr(listing, "cash_flow_rows", lambda *args: read_by.append(threading.get_ident()) or read(*args))
    started = client.get(url)
    assert started.status_code == 302 and "/exports/jobs/" in started.headers["Location"]
    assert threading.get_ident() not in read_by  # queued on the database's count: no row read in the request
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "data-job-status-url" in page and "Export job" in page
    assert ">Download<" in page and "Downloads" not in page  # the button (not the book page's heading)
    status = _follow(client, client.get(started.headers["Location"] + ".json").get_json())
    assert status["state"] == "done", status
    assert status["unit"] == "rows_written" and status["done"] == status["total"] == len(expected)
    got = client.get(status["download_url"])
    assert got.status_code == 200 and got.headers["Content-Disposition"] == inline.headers["Content-Disposition"]
    assert records(load_workbook(io.BytesIO(got.data)).active) == expected  # English headers, the same rows

    assert client.get(url).headers["Location"] == started.headers["Location"]  # the book unchanged: that file
    investment = db.session.execute(select(CashFlow.investment_id).limit(1)).scalar()
    record_cash_flow(db.session, {"investment_id": investment, "date": "2026-01-15", "type": "contribution",
                                  "amount_cny": "1000", "confirm_reason": "测试"}, username="loader")
    assert client.get(url).headers["Location"] != started.headers["Location"]  # written since: written again
    assert client.get("/exports/jobs/999999").status_code == 404

    # the history: counted before any row is read, then written by a job just the same
    entries = db.session.execute(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.entity == "cash_flows")).scalar()
    asked = client.get("/history/export.xlsx?entity=cash_flows")
    assert asked.status_code == 302 and "/exports/jobs/" in asked.headers["Location"]
    status = _follow(client, client.get(asked.headers["Location"] + ".json").get_json())
    assert status["state"] == "done" and status["done"] == entries > 50
    assert len(records(load_workbook(io.BytesIO(client.get(status["download_url"]).data)).active)) == entries


def test_with_redis_down_a_job_asked_for_waits_queued_and_runs_once_redis_answers(app, example, db, as_role,
                                                                                    caplog):
    """The request that asks for a job never fails for the queue: with Redis unreachable the
    job is recorded queued (its page follows it), the failure logged; once Redis answers, the
    workers' sweep of stale jobs (every minute) queues it again and it runs to its file."""
    import datetime as dt

    if not _redis_up():
        pytest.skip("no Redis at 127.0.0.1:6379")
    app.config.update(REDIS_URL="redis://127.0.0.1:1/0", JOBS_EMBEDDED_CONSUMER=False)  # nothing on port 1
    queue.init_app(app)
    client = as_role("viewer")
    response = _start(client, "xlsx")
    assert response.status_code == 202, response.get_data(as_text=True)[:300]
    status = response.get_json()
    assert status["state"] == "queued"
    assert "Redis unavailable" in caplog.text
    page = client.get(f"/reports/jobs/{status['id']}")
    assert page.status_code == 200
    # Redis back; the sweep finds the job queued STALE_AFTER ago, never taken
    app.config.update(REDIS_URL=REDIS_URL, JOBS_QUEUE_NAME=f"test-jobs-{uuid.uuid4().hex[:8]}")
    queue.init_app(app)
    worker = queue.consumer(workers=1, periodic=False)
    worker.start()
    try:
        with Session(db.engine) as session:
            job = session.get(Job, status["id"])
            job.created_at -= job_records.STALE_AFTER + dt.timedelta(seconds=1)
            session.commit()
        assert queue.requeue_stale(app) == [status["id"]]
        done = _follow(client, status)
        assert done["state"] == "done", done
        assert client.get(done["download_url"]).status_code == 200
    finally:
        worker.stop(graceful=True)
        queue.get_huey().storage.flush_queue()
        queue.stop_consumer()


def test_the_same_work_asked_for_at_once_is_one_job(app, db, monkeypatch):
    """Two viewers asking for the same report at the same moment (threads released by one
    barrier, each with its own session): one job, the other told it is already there. Each
    had found none and queued its own (seen on PostgreSQL: 10 tries, 2 jobs)."""
    import time

    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from models import Job
    from portfolio.book import jobs
    from tests.test_concurrency import at_once

    made: list[tuple[int, bool]] = []
    real_now = jobs.utcnow

    def slow_now():  # a new job's time is taken after the look-up found none: hold it there
        time.sleep(0.2)
        return real_now()
    monkeypatch.setattr(jobs, "utcnow", slow_now)

    def ask():
        with app.app_context(), Session(db.engine) as session:
            job, created = jobs.find_or_create(session, "report", {"fund": "QY", "period": "2025Q4"}, username="u",
                                               version="v1")
            made.append((job.id, created))
    for _ in range(3):
        at_once(ask, ask)
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1
    assert sum(created for _id, created in made) == 1 and len({job_id for job_id, _c in made}) == 1


def test_a_refusal_in_plain_text_is_shown_as_it_is(example, db, as_role, monkeypatch):
    def refusing(context):
        raise queue.JobRefused("这份报告暂不能生成")

    monkeypatch.setitem(queue.HANDLERS, "quarterly_report", refusing)
    client = as_role("viewer")
    status = _follow(client, _start(client, "xlsx").get_json())
    assert status["state"] == "failed" and status["error"] == "这份报告暂不能生成"


def test_a_report_job_is_filed_under_the_book_version_its_file_is_of(app, example, db):
    """A quarterly report job queued at one book version and run after a write to the book
    builds its file from the later book, and stores it under that version. The job had kept
    the version it was queued at: it named a book its file is not of, and asking again for
    the report of the book in force built a second job (and, the file being stored already,
    found it there, under a job that did nothing). Now, as a backup's job does, it is the
    job of the version its file is of (its result's book_version, jobs.finish)."""
    from tests.conftest import settings_in_force

    params = {"fund": "QY", "quarter": "2025Q4", "format": "html", "index": None, "lang": "zh",
              "forecast_parameters": 0}
    queued_at = cache.book_version(db.session)
    job, created = job_records.find_or_create(db.session, "quarterly_report", params, username="viewer1",
                                              version=queued_at)
    assert created
    job_id = job.id
    settings_in_force(db.session, "QY", {"single_company_cap": "0.01"}, username="chair")  # the book moves on
    now = cache.book_version(db.session)
    assert now != queued_at
    db.session.remove()
    queue.execute(job_id, retry=False)

    done = queue.get_job(job_id)
    assert done.state == "done", done.result
    assert done.result["version"] == now and done.result["book_version"] == now
    assert done.key == job_records.job_key("quarterly_report", params, now)
    # asking again for that report of the book in force gives this job, not a second one
    again = queue.submit("quarterly_report", params, username="viewer1", here=True)
    assert again.id == job_id
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1

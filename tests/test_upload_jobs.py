"""Long work of the book as jobs (issue 14, deliverable 1): a large upload is read, checked and
staged by a job with a progress bar and lands on the change set's preview; a backup is a job
with a download when done, from the admin's screen and from `flask backup`. On the embedded
queue and on the Redis at 127.0.0.1:6379 (tests.test_jobs.engine_kind). Jobs record who
started them and, run again after a worker died, do not stage a second change set."""
from __future__ import annotations

import datetime as dt
import io
import json
import time
import zipfile

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import ChangeSet, Job
from portfolio.book import jobs as job_records
from portfolio.interchange.importing import import_book
from portfolio.interchange.schema import SHEETS
from tests.conftest import EXAMPLE_BOOK, login, make_user
from tests.test_jobs import _follow, engine_kind  # noqa: F401  (engine_kind: a fixture)
from tests.test_staged_imports import edited, exported
from web import queue


@pytest.fixture
def book(db):
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok


@pytest.fixture
def large(app):
    """Every upload counts as large: staged by a job."""
    app.config["UPLOAD_JOB_MIN_BYTES"] = 0


def _upload(client, data: bytes, name: str = "book.xlsx"):
    return client.post("/book/upload", data={"book": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _status(client, url: str) -> dict:
    return client.get(url, headers={"Accept": "application/json"}).get_json()


def _change_sets(db) -> int:
    db.session.rollback()
    return db.session.execute(select(func.count()).select_from(ChangeSet)).scalar()


def test_a_large_upload_is_staged_by_a_job_and_lands_on_the_preview(engine_kind, app, db, book, large):  # noqa: F811
    make_user(db, "manager1", "manager")
    client = app.test_client()
    login(client, "manager1")
    data = edited(exported(db.session), "companies", {"code": "C1"}, {"name": "改名公司"})
    response = _upload(client, data)
    assert response.status_code == 302 and "/book/upload/jobs/" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    job_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    if page.status_code == 200:  # still running: the page with its bar, following the job
        assert 'data-job-go' in page.get_data(as_text=True) and "<progress" in page.get_data(as_text=True)
    status = _follow(client, _status(client, f"/book/upload/jobs/{job_id}.json"))
    assert status["state"] == "done", status
    assert status["unit"] == "sheets_checked" and status["done"] == status["total"] == len(SHEETS)
    assert status["started_by"] == "manager1"
    job = db.session.get(Job, job_id, populate_existing=True)
    assert job.kind == "stage_upload" and job.started_by == "manager1" and job.attempts == 1
    change_set = db.session.get(ChangeSet, job.result["change_set"])
    assert change_set.uploaded_by == "manager1" and change_set.status == "pending"
    assert change_set.counts["companies"]["changed"] == 1
    # done: the job's page is the change set's preview
    landed = client.get(status["download_url"])
    assert landed.status_code == 302 and landed.headers["Location"].endswith(f"/book/change-sets/{change_set.id}")
    assert "改名公司" in client.get(landed.headers["Location"]).get_data(as_text=True)
    assert _change_sets(db) == 1


def test_a_job_run_again_after_its_worker_died_stages_no_second_change_set(app, db, book, large):
    make_user(db, "manager1", "manager")
    client = app.test_client()
    login(client, "manager1")
    app.config.update(JOBS_EMBEDDED_CONSUMER=False)  # the job is run here, by hand, twice
    queue.init_app(app)
    data = edited(exported(db.session), "companies", {"code": "C1"}, {"name": "改名公司"})
    job_id = int(_upload(client, data).headers["Location"].rstrip("/").split("/")[-1])
    with app.app_context():
        queue.execute(job_id)
    first = db.session.get(Job, job_id, populate_existing=True)
    assert first.state == "done" and _change_sets(db) == 1
    staged = first.result["change_set"]
    # the worker died after the change set was committed, before the job was marked done:
    # the row is found running and silent, queued again, and run by another worker
    with Session(db.engine) as session:
        session.execute(update(Job).where(Job.id == job_id).values(
            state="running", heartbeat_at=job_records.utcnow() - dt.timedelta(minutes=10)))
        session.commit()
    assert job_id in queue.requeue_stale(app)
    with app.app_context():
        queue.execute(job_id)
    again = db.session.get(Job, job_id, populate_existing=True)
    assert again.state == "done" and again.attempts == 2
    assert again.result["change_set"] == staged and _change_sets(db) == 1


def test_a_large_upload_with_errors_lists_them_and_writes_nothing(engine_kind, app, db, book, large):  # noqa: F811
    make_user(db, "manager1", "manager")
    client = app.test_client()
    login(client, "manager1")
    data = edited(exported(db.session), "cash_flows", {"investment_id": "QY-D1"}, {"amount_cny": "abc"})
    job_id = int(_upload(client, data).headers["Location"].rstrip("/").split("/")[-1])
    status = _follow(client, _status(client, f"/book/upload/jobs/{job_id}.json"))
    assert status["state"] == "done", status
    page = client.get(status["download_url"])
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="import-errors"' in text and "abc" in text
    errors_csv = client.get("/book/upload/errors.csv")
    assert errors_csv.status_code == 200 and "abc" in errors_csv.get_data(as_text=True)
    assert _change_sets(db) == 0


def test_an_unreadable_large_upload_says_so_and_writes_nothing(app, db, book, large):
    make_user(db, "manager1", "manager")
    client = app.test_client()
    login(client, "manager1")
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    job_id = int(_upload(client, broken.getvalue()).headers["Location"].rstrip("/").split("/")[-1])
    status = _follow(client, _status(client, f"/book/upload/jobs/{job_id}.json"))
    assert status["state"] == "done", status
    page = client.get(status["download_url"]).get_data(as_text=True)
    assert 'id="import-errors"' in page
    assert _change_sets(db) == 0


def test_a_small_upload_is_still_staged_within_the_request(app, db, book):
    make_user(db, "manager1", "manager")
    client = app.test_client()
    login(client, "manager1")
    data = edited(exported(db.session), "companies", {"code": "C1"}, {"name": "改名公司"})
    response = _upload(client, data)
    assert response.status_code == 302 and "/book/change-sets/" in response.headers["Location"]
    assert db.session.execute(select(func.count()).select_from(Job)).scalar() == 0


def test_an_admin_backs_up_as_a_job_and_downloads_the_archive(engine_kind, app, db, book, as_role):  # noqa: F811
    client = as_role("admin")
    page = client.get("/admin/backups")
    assert page.status_code == 200 and 'id="backup-form"' in page.get_data(as_text=True)
    response = client.post("/admin/backups", headers={"Accept": "application/json"})
    assert response.status_code == 202
    status = _follow(client, response.get_json())
    assert status["state"] == "done", status
    assert status["unit"] == "tables_written" and status["done"] == status["total"] > 10
    job = db.session.get(Job, status["id"], populate_existing=True)
    assert job.kind == "backup" and job.started_by == "admin1"
    download = client.get(status["download_url"])
    assert download.status_code == 200 and download.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        counts = {t["name"]: t["rows"] for t in manifest["tables"]}
    assert counts["cash_flows"] == job.result["counts"]["cash_flows"] > 0
    # asked again on the same book: the same backup, not made again
    again = client.post("/admin/backups", headers={"Accept": "application/json"}).get_json()
    assert again["id"] == status["id"] and again["state"] == "done"
    assert str(status["id"]) in client.get("/admin/backups").get_data(as_text=True)


def test_only_an_admin_backs_up(db, book, as_role):
    client = as_role("manager")
    assert client.get("/admin/backups").status_code == 403
    assert client.post("/admin/backups").status_code == 403
    assert db.session.execute(select(func.count()).select_from(Job)).scalar() == 0


def test_the_backup_command_runs_as_a_job_with_progress(runner, db, book, tmp_path):
    out = tmp_path / "b.zip"
    result = runner.invoke(args=["backup", str(out), "--progress"])
    assert result.exit_code == 0, result.output
    assert "张表已写入" in result.output and "现金流" in result.output  # the bar and the counts, in the CLI's language
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    # the archive keeps finished jobs only: restored, it does not run this backup again
    assert {t["name"]: t["rows"] for t in manifest["tables"]}["jobs"] == 0
    jobs = db.session.execute(select(Job)).scalars().all()
    assert [(j.kind, j.started_by, j.state) for j in jobs] == [("backup", "cli", "done")]
    time.sleep(0.01)
    assert runner.invoke(args=["backup", str(out), "--no-progress"]).exit_code == 0  # each command writes afresh
    assert db.session.execute(select(func.count()).select_from(Job)).scalar() == 2


def test_the_job_pages_name_who_started_them_by_their_display_name(db, client):
    """The upload job's, the apply job's and the backup pages name the person who started
    the work as every other page does: by the display name, never the user name."""
    from models import utcnow
    from portfolio.book.users import create_user
    from tests.visible_text import visible_text

    create_user(db.session, "manager1", "manager", "correct-horse-9", by="test", display_name="王经理")
    create_user(db.session, "admin1", "admin", "correct-horse-9", by="test", display_name="李管理员")
    upload, _ = job_records.find_or_create(db.session, "stage_upload", {"file": "0" * 64, "filename": "book.xlsx",
                                                                        "by": "manager1"},
                                           username="manager1", version="people")
    apply, _ = job_records.find_or_create(db.session, "apply_change_set", {"change_set": 1, "reason": None},
                                          username="manager1", version="people")
    backup, _ = job_records.find_or_create(db.session, "backup", {}, username="admin1", version="people")
    for job in (upload, apply, backup):
        job.state, job.done, job.total, job.unit, job.heartbeat_at = "running", 1, 7, "sheets_checked", utcnow()
    db.session.commit()
    login(client, "admin1", "correct-horse-9")
    for lang in ("zh", "en"):
        client.get(f"/lang/{lang}")
        for url, name in ((f"/book/upload/jobs/{upload.id}", "王经理"), (f"/book/change-sets/apply-jobs/{apply.id}", "王经理"),
                          (f"/admin/backups/jobs/{backup.id}", "李管理员"), ("/admin/backups", "李管理员")):
            response = client.get(url)
            assert response.status_code == 200, url
            page = visible_text(response.get_data(as_text=True))
            assert name in page, (lang, url)
            assert "manager1" not in page and "admin1" not in page, (lang, url)

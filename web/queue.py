"""The job queue: Huey carrying job ids (portfolio.book.jobs holds the jobs themselves).

Storage, chosen at start-up:
- embedded (the default): SQLite, `instance/job-queue.sqlite`, consumed by a worker thread
  that the app starts in its own process the first time a job is submitted or polled
  (`JOBS_EMBEDDED_CONSUMER`, on by default without Redis). Nothing else to run:
  `bash scripts/serve-demo.sh` is enough.
- distributed: Redis when `REDIS_URL` is set (`JOBS_QUEUE_NAME` names its keys), consumed by
  `flask --app app jobs-worker` on any number of hosts; the web processes then only enqueue.

A handler is a function of a JobContext returning the job's result (a JSON-able dict),
registered for a kind with `@handler("kind")`. It reports progress with
`job.progress(done, total, unit)`; it must give the same result when run again on the same
params and book version (the job is acknowledged only when its row says done: a job whose
worker died is queued again, and may run twice).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portfolio.book import jobs as job_records
from portfolio.figures.aside import fork_safe
from portfolio.memory import collections_paused

log = logging.getLogger(__name__)

HANDLERS: dict[str, Callable[[JobContext], dict[str, Any]]] = {}

# what a job's progress counts, as shown beside its bar (static/jobs.js)
UNITS = {"rows_read": _l("行已读取"), "steps": _l("步骤"), "pages_rendered": _l("页已排版"),
         "sheets_checked": _l("个工作表已检查"), "tables_written": _l("张表已写入"),
         "rows_written": _l("行已写入")}

# Huey (and the Redis client it brings) is imported only when a job is first queued or run:
# a command that runs no job (`report`, `db upgrade`) does not pay for it at start-up.
_state: dict[str, Any] = {"app": None, "consumer": None, "huey": None, "storage": None}
_state_lock = threading.RLock()


class JobRefused(Exception):
    """The work cannot be done with these params (no such quarter, …): failed at once, with
    this message for the user, never tried again. The message is a portfolio.messages.Message
    (by key: the job's row keeps it rendered in each of the app's languages, and the reader
    sees it in theirs) or plain text (shown as it is)."""


def refusal_shown(message: Any, languages) -> dict[str, str] | None:
    """A refusal rendered in each language, to keep on the job's row (None: plain text)."""
    from portfolio.messages import Message, shown

    if not isinstance(message, Message):
        return None
    return {str(lang): shown(message, str(lang)) for lang in languages}


def error_shown(job, lang: str) -> str | None:
    """A failed job's error in `lang`: the sentence kept with it (its refusal, or that it failed
    inside the app), never the exception's text; a job failed before sentences were kept, the
    general one."""
    from portfolio.messages import Message, shown

    if job.state != "failed":
        return None
    kept = (job.result or {}).get("error_shown") if isinstance(job.result, dict) else None
    if kept:
        return kept.get(lang) or kept.get(lang[:2]) or next(iter(kept.values()))
    return shown(Message("job_failed_internally"), lang)


@dataclass
class JobContext:
    """What a handler is given: the job's params and who asked, a session for its work
    (the app's), and `progress` to report how far it got."""

    id: int
    kind: str
    params: dict[str, Any]
    started_by: str
    report: Callable[[int, int, str], None] = field(repr=False)

    def progress(self, done: int, total: int, unit: str) -> None:
        self.report(done, total, unit)


def handler(kind: str):
    def register(func):
        HANDLERS[kind] = func
        return func
    return register


def init_app(app: Flask) -> None:
    """Point the queue at this app's storage; stop a consumer left from another app."""
    app.config.setdefault("JOBS_EMBEDDED_CONSUMER", not app.config.get("REDIS_URL"))
    with _state_lock:
        old = _state["consumer"]
        if old is not None and _state["app"] is not app:
            old.stop(graceful=True)
            _state["consumer"] = None
        _state["app"] = app
        _state["storage"] = None  # made for this app's config when first needed
    app.extensions["jobs"] = _state


def _storage(app: Flask):
    from huey.storage import RedisStorage, SqliteStorage

    redis_url = app.config.get("REDIS_URL")
    name = app.config.get("JOBS_QUEUE_NAME", "fundbook-jobs")
    if redis_url:
        return RedisStorage(name=name, url=redis_url)
    path = app.config.get("JOBS_QUEUE_FILE") or str(Path(app.instance_path) / "job-queue.sqlite")
    # a file of its own, which Huey opens in WAL (its default journal_mode), as the app does the
    # book's (web.extensions.write_ahead_log): the workers' polls never wait for an enqueue
    return SqliteStorage(name=name, filename=path)


def get_huey():
    """The Huey instance, its tasks defined, on the current app's storage."""
    with _state_lock:
        if _state["huey"] is None:
            _state["huey"] = _define_tasks()
        instance = _state["huey"]
        if _state["storage"] is None and _state["app"] is not None:
            _state["storage"] = instance.storage = _storage(_state["app"])
        return instance


def _define_tasks():
    from huey import Huey
    from huey.storage import SqliteStorage

    instance = Huey("fundbook-jobs", storage_class=SqliteStorage, filename=":memory:")

    @instance.task(retries=job_records.MAX_ATTEMPTS - 1, retry_delay=2, name="run_job")
    def run_job(job_id: int) -> None:
        app = _state["app"]
        if app is None:
            raise RuntimeError("job queue not initialised (web.queue.init_app)")
        with app.app_context():
            execute(job_id)

    @instance.periodic_task(lambda _now: True, name="requeue_stale_jobs")  # every minute: a dead worker's job is taken up again
    def requeue_stale_jobs() -> None:
        if _state["app"] is not None:
            requeue_stale(_state["app"])

    # daily, at PRUNE_HOUR (UTC): old uploads given up on, backups beyond the newest kept
    # (portfolio/book/pruning.py; the same as `flask prune`), audited as by `system`
    @instance.periodic_task(_prune_due, name="prune")
    def prune_old_files() -> None:
        app = _state["app"]
        if app is not None:
            from web.admin import prune_now

            with app.app_context():
                prune_now("system")

    instance.run_job = run_job  # type: ignore[attr-defined]
    return instance


def _prune_due(now) -> bool:
    app = _state["app"]
    if app is None or app.config.get("PRUNE_HOUR") is None:
        return False
    return bool(now.hour == int(app.config["PRUNE_HOUR"]) and now.minute == 0)


def enqueue(job_id: int) -> None:
    get_huey().run_job(job_id)


def consumer(workers: int = 1, *, periodic: bool = True, embedded: bool = True):
    """Huey's consumer running `workers` threads. Embedded: started in this process beside
    the web server, with no signal handlers (they belong to the server's main thread)."""
    from huey.consumer import Consumer

    class EmbeddedConsumer(Consumer):
        def _set_signal_handlers(self):
            pass

    kind = EmbeddedConsumer if embedded else Consumer
    return kind(get_huey(), workers=workers, worker_type="thread", periodic=periodic,
                initial_delay=0.1, backoff=1.3, max_delay=1.0, check_worker_health=False)


def ensure_consumer(app: Flask) -> None:
    """Start the in-process consumer (embedded mode) if it is not running, and queue again
    the jobs a dead worker left."""
    if not app.config.get("JOBS_EMBEDDED_CONSUMER"):
        return
    with _state_lock:
        if _state["consumer"] is not None:
            return
        running = consumer()
        running.start()
        _state["consumer"] = running
    requeue_stale(app)


def stop_consumer() -> None:
    with _state_lock:
        running, _state["consumer"] = _state["consumer"], None
    if running is not None:
        running.stop(graceful=True)


def requeue_stale(app: Flask) -> list[int]:
    from web.extensions import db

    with app.app_context(), Session(db.engine) as session:
        ids = job_records.stale(session)
        for job_id in ids:
            job_records.requeue(session, job_id)
            enqueue(job_id)
    return ids


def submit(kind: str, params: dict[str, Any], *, username: str, here: bool = False,
           on_progress: Callable[[int, int, str], None] | None = None):
    """The job for this work on the book in force: the one already done, queued or running,
    else a new one, queued (or, `here=True`, run now in this process, as the CLI does).
    Returns the Job (a detached snapshot; read the row again for its later state)."""
    from flask import current_app

    from portfolio.book.cache import book_version
    from web.extensions import db

    if kind not in HANDLERS:
        raise KeyError(kind)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with Session(db.engine, expire_on_commit=False) as session:
        job, created = job_records.find_or_create(session, kind, params, username=username,
                                                  version=book_version(session))
        if job.state == "done" and not _product_kept(session, job):
            job, created = job_records.redo(session, job.id), True
    if here:
        if job.state != "done":
            execute(job.id, on_progress=on_progress, retry=False)
        _wait(job.id, on_progress)  # taken by a worker already: follow it to its end
    elif created:
        _enqueued(job.id)
        ensure_consumer(app)
    return job


def _enqueued(job_id: int) -> None:
    """Queue the job's message. With Redis unreachable the job stays queued in the jobs table,
    logged (its page shows it waiting; the request that asked for it never fails): once Redis
    answers, the workers' sweep of stale jobs queues it again (requeue_stale, every minute, for
    a job queued STALE_AFTER ago and never taken)."""
    import redis

    try:
        enqueue(job_id)
    except redis.RedisError as error:
        log.warning("job queue: Redis unavailable (%s); job %s stays queued until it answers",
                    error.__class__.__name__, job_id)


def _product_kept(session: Session, job) -> bool:
    """A done job's product, where it is an entry of the shared report cache (its result names
    the entry: what, fund, period, version), is still stored there. Redis keeps nothing on
    disk and lets entries expire, and the database's entries can be emptied, while the jobs
    table remembers the job as done: without this, that report of an unchanged book could
    not be had again, on the screens or the command line, until the book changed."""
    from portfolio.book import cache

    found = job.result if isinstance(job.result, dict) else {}
    if not {"what", "fund", "period", "version"} <= found.keys():
        return True
    return cache.shared_has(session, found["what"], found["fund"], found["period"], found["version"])


def execute(job_id: int, on_progress: Callable[[int, int, str], None] | None = None, *, retry: bool = True) -> None:
    """Run the job here, in the app context: claim it, call its handler with a heartbeat
    beating beside it, record the result (or the error, queued again while attempts remain).
    A job done, failed, or running elsewhere is left alone: running twice is harmless."""
    from portfolio.messages import Message
    from web.extensions import db

    with Session(db.engine, expire_on_commit=False) as jobs_session:
        job = job_records.claim(jobs_session, job_id)
        if job is None:
            return
        lock = threading.Lock()  # one writer on jobs_session: the handler's thread or the heartbeat

        def report(done: int, total: int, unit: str) -> None:
            with lock:
                try:
                    job_records.progress(jobs_session, job_id, done, total, unit)
                except Exception:  # progress is best effort: never fail the work for it
                    jobs_session.rollback()
            if on_progress is not None:
                on_progress(done, total, unit)

        stop = threading.Event()

        def heartbeat() -> None:
            while not stop.wait(job_records.HEARTBEAT.total_seconds()):
                with lock:
                    try:
                        job_records.beat(jobs_session, job_id)
                    except Exception:
                        jobs_session.rollback()

        beating = threading.Thread(target=heartbeat, name=f"job-{job_id}-heartbeat", daemon=True)
        # it only writes the job's row, under `lock`, on its own session: a child forked beside it
        # (the quarterly report's forward look, portfolio.figures.aside) touches neither
        fork_safe(beating)
        beating.start()
        context = JobContext(job.id, job.kind, dict(job.params), job.started_by, report)
        try:
            with collections_paused():  # long work makes its objects in bulk (portfolio.memory)
                result = HANDLERS[job.kind](context)
        except Exception as error:
            stop.set()
            beating.join()
            db.session.rollback()
            final = not retry or isinstance(error, JobRefused) or job.attempts >= job_records.MAX_ATTEMPTS
            with lock:
                message = str(error) if isinstance(error, JobRefused) else f"{error.__class__.__name__}: {error}"
                languages = (_state["app"].config.get("LANGUAGES") if _state["app"] is not None else None) or ["zh"]
                # a refusal in its own words; anything else in a sentence for people (the
                # exception's class and text stay in job.error and the log, for whoever keeps the app)
                refused = isinstance(error, JobRefused)
                shown = refusal_shown(error.args[0] if refused and error.args else Message("job_failed_internally"),
                                      languages)
                if shown is None and refused:  # a refusal in plain text: the text, whatever the language
                    shown = {str(lang): message for lang in languages}
                job_records.fail(jobs_session, job_id, message, final=final,
                                 result={"error_shown": shown} if shown else None)
            if isinstance(error, JobRefused):
                return
            log.exception("job %s (%s) failed, attempt %s", job_id, job.kind, job.attempts)
            if not final:
                raise  # Huey retries it
            return
        stop.set()
        beating.join()
        with lock:
            job_records.finish(jobs_session, job_id, result)


def _wait(job_id: int, on_progress: Callable[[int, int, str], None] | None, poll: float = 0.5) -> None:
    import time

    from models import Job
    from web.extensions import db

    with Session(db.engine) as session:
        while True:
            job = session.get(Job, job_id, populate_existing=True)
            if job is None or job.state in ("done", "failed"):
                return
            if on_progress is not None and job.unit:
                on_progress(job.done, job.total, job.unit)
            time.sleep(poll)
            session.rollback()  # end the read, so the next one sees the worker's commits


def status(job, *, status_url: str, result_url: str | None) -> dict[str, Any]:
    """A job's state and progress as static/jobs.js reads it, in the reader's language;
    `result_url` (the download, or the page the finished work lands on) once it is done."""
    from web.i18n import current_lang

    return {"id": job.id, "state": job.state, "done": job.done, "total": job.total,
            "unit": job.unit, "label": str(UNITS.get(job.unit, "")),
            "error": error_shown(job, current_lang()),
            "started_by": job.started_by, "status_url": status_url,
            "download_url": result_url if job.state == "done" else None}


def page_status(job, page: str) -> dict[str, Any]:
    """`status` for a job followed on a page of its own (the endpoint `page`, its status at
    `page` + "_status"), which is also where the finished work lands (an upload's preview,
    an applied change set)."""
    from flask import url_for

    return status(job, status_url=url_for(page + "_status", job_id=job.id), result_url=url_for(page, job_id=job.id))


def get_job(job_id: int):
    from models import Job
    from web.extensions import db

    return db.session.get(Job, job_id, populate_existing=True)


def followed(job_id: int, kind: str):
    """The job of `kind` (404 for any other), its worker running: for a page, or its status,
    that follows the job."""
    from flask import abort, current_app

    job = get_job(job_id)
    if job is None or job.kind != kind:
        abort(404)
    ensure_consumer(current_app._get_current_object())  # type: ignore[attr-defined]
    return job

"""Jobs: long work (a quarterly report, an import, a backup) recorded in the `jobs` table.

The row is the job's truth, whatever queue carries it (web/queue.py puts its id on Huey):
who started it, what (kind and params), how far it got (done/total of a unit such as
rows read or pages rendered), and its result or error. A job is idempotent: its key is
(kind, params, book version), and asking again for the same work on the same book gives
the job already queued, running or done, never a second one. A job is finished only when
its row says so; one whose worker died stops beating and is queued again (`stale`).

These are records of work, not of the book: they are not audited (the row itself says
who asked for what, and when), and each change is committed at once on the session
given, which should be one of its own so that progress is seen while the work's own
transaction is still open.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from models import Job, utcnow
from portfolio.book.unit import serialise_key

MAX_ATTEMPTS = 3
STALE_AFTER = dt.timedelta(seconds=90)   # a running job beats every HEARTBEAT; 90 s silent: its worker died
HEARTBEAT = dt.timedelta(seconds=15)


def job_key(kind: str, params: dict[str, Any], version: str) -> str:
    text = json.dumps([kind, params, version], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


JOBS_LOCK = 0x6A6F62  # "job": the advisory locks of looking up a job by its work (PostgreSQL)


def find_or_create(session: Session, kind: str, params: dict[str, Any], *, username: str,
                   version: str) -> tuple[Job, bool]:
    """The job for this work on this book version (queued, running or done), or a new one
    (True) when there is none or the last one failed."""
    key = job_key(kind, params, version)
    # the same work asked for at once (two clicks, two viewers) is looked up one at a time:
    # each had found none and queued its own
    serialise_key(session, JOBS_LOCK, key)
    existing = session.execute(select(Job).where(Job.key == key, Job.state != "failed")
                               .order_by(Job.id.desc()).limit(1)).scalar_one_or_none()
    if existing is not None:
        session.commit()  # the lock let go at once (a request may go on to send a large file)
        return existing, False
    job = Job(kind=kind, params=params, key=key, started_by=username, state="queued", done=0, total=0,
              unit="", attempts=0, created_at=utcnow())
    session.add(job)
    session.commit()
    return job, True


def redo(session: Session, job_id: int) -> Job:
    """A done job queued again, as it was first queued: the same work on the same book, for a
    product that is no longer kept (web/queue.py submit). Done once however many ask at once:
    only one finds it done, and `claim` lets one worker run it."""
    session.execute(update(Job).where(Job.id == job_id, Job.state == "done")
                    .values(state="queued", result=None, done=0, total=0, unit="", attempts=0, finished_at=None)
                    .execution_options(synchronize_session=False))
    session.commit()
    return session.get_one(Job, job_id, populate_existing=True)


def claim(session: Session, job_id: int, now: dt.datetime | None = None) -> Job | None:
    """Take the job to run it: queued, or running but stale (its worker died). None when it
    is done, failed, or running elsewhere: two workers never run the same job at once."""
    now = now or utcnow()
    result = session.execute(
        update(Job).where(Job.id == job_id, or_(Job.state == "queued",
                                                (Job.state == "running") & (Job.heartbeat_at < now - STALE_AFTER)))
        .values(state="running", started_at=now, heartbeat_at=now, attempts=Job.attempts + 1, error=None)
        .execution_options(synchronize_session=False))
    session.commit()
    if getattr(result, "rowcount", 0) != 1:
        return None
    return session.get(Job, job_id, populate_existing=True)


def progress(session: Session, job_id: int, done: int, total: int, unit: str) -> None:
    session.execute(update(Job).where(Job.id == job_id, Job.state == "running")
                    .values(done=done, total=total, unit=unit, heartbeat_at=utcnow()))
    session.commit()


def beat(session: Session, job_id: int) -> None:
    session.execute(update(Job).where(Job.id == job_id, Job.state == "running").values(heartbeat_at=utcnow()))
    session.commit()


def finish(session: Session, job_id: int, result: dict[str, Any]) -> None:
    """The job done, with its result. A result that names the book version its product holds
    (`book_version`: a backup's manifest's, a quarterly report's file's: the book when it ran,
    not when it was queued)
    keys the job by that version: asking again for the same work on that book finds it."""
    now = utcnow()
    values: dict[str, Any] = {"state": "done", "result": result, "error": None, "finished_at": now,
                              "heartbeat_at": now}
    held = result.get("book_version") if isinstance(result, dict) else None
    if held:
        job = session.get_one(Job, job_id)
        values["key"] = job_key(job.kind, dict(job.params or {}), str(held))
    session.execute(update(Job).where(Job.id == job_id).values(**values))
    session.commit()


def record_outcome(session: Session, job_id: int, result: dict[str, Any]) -> None:
    """Write the job's result in the caller's transaction, not committed: the work and the
    job's note of it commit together (a staged change set and the job that staged it), so
    that the job run again finds what it made instead of making it twice."""
    session.execute(update(Job).where(Job.id == job_id).values(result=result))


def outcome(session: Session, job_id: int) -> dict[str, Any] | None:
    """The result a job recorded, if any (its earlier attempt got that far)."""
    return session.execute(select(Job.result).where(Job.id == job_id)).scalar_one_or_none()


def fail(session: Session, job_id: int, error: str, *, final: bool, result: dict | None = None) -> None:
    """Record the error (and `result`: a refusal rendered in each language, web/queue.py);
    the job is queued again for another attempt unless `final`."""
    now = utcnow()
    session.execute(update(Job).where(Job.id == job_id)
                    .values(state="failed" if final else "queued", error=error[:2000], result=result,
                            finished_at=now if final else None, heartbeat_at=now))
    session.commit()


def requeue(session: Session, job_id: int) -> None:
    """A stale job back to queued, its heartbeat reset so that it is not found stale again
    before a worker takes it."""
    session.execute(update(Job).where(Job.id == job_id, Job.state.in_(("queued", "running")))
                    .values(state="queued", heartbeat_at=utcnow()))
    session.commit()


def stale(session: Session, now: dt.datetime | None = None) -> list[int]:
    """Jobs a worker should be running but none is: running with no heartbeat for
    STALE_AFTER, or queued that long without being taken (their queue message lost)."""
    limit = (now or utcnow()) - STALE_AFTER
    return list(session.execute(select(Job.id).where(
        or_((Job.state == "running") & (Job.heartbeat_at < limit),
            (Job.state == "queued") & (Job.created_at < limit) & or_(Job.heartbeat_at.is_(None),
                                                                     Job.heartbeat_at < limit)))
        .order_by(Job.id)).scalars())

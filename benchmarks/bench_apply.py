"""The heavy book's change set applied (staging.apply_change_set, the approver's step), and
what a second writer meanwhile sees: a job's heartbeat, written every 0.5 s on a session of
its own, as web/queue.py's heartbeat thread writes it.

    .venv/bin/python -m benchmarks.bench_apply [--pg URL] [--investments 2000]

The book is staged into an empty database (a fresh SQLite file, or the PostgreSQL database
given, emptied), then applied with a progress callback. Printed: the apply's time, how long
it held the import lock (from taking it to the commit), the progress reports it gave, and
the longest time the heartbeat waited and how many of its writes failed. Not a row of issue
14's table: the evidence that a long apply's job stays visibly alive (a job is taken for a
dead worker's after 90 s without a heartbeat).
"""
from __future__ import annotations

import argparse
import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarks import empty_database
from benchmarks.heavy_book import generate_heavy_book
from models import Job
from portfolio.book import jobs
from portfolio.interchange import staging


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="PostgreSQL URL (emptied), else a fresh SQLite file")
    parser.add_argument("--investments", type=int, default=2000)
    args = parser.parse_args()
    folder = generate_heavy_book(investments=args.investments)
    engine, _url = empty_database(args.pg, "bench_apply_")

    with Session(engine) as session:
        start = time.perf_counter()
        staged = staging.stage_book(session, folder, username="uploader")
        assert staged.ok, staged.errors[:3]
        change_set_id = staged.change_set.id
        print(f"heavy book {folder.name} staged as change set #{change_set_id} on {engine.dialect.name} "
              f"in {time.perf_counter() - start:.1f} s")
        job, _ = jobs.find_or_create(session, "bench_heartbeat", {}, username="bench", version="bench")
        job_id = job.id
        session.commit()
    with Session(engine) as session:
        assert jobs.claim(session, job_id) is not None

    waits: list[float] = []
    failed = 0
    stop = threading.Event()

    def heartbeat() -> None:
        nonlocal failed
        with Session(engine) as beats:
            while not stop.wait(0.5):
                began = time.perf_counter()
                try:
                    jobs.beat(beats, job_id)
                except Exception:  # as the queue's heartbeat: counted, then on to the next beat
                    beats.rollback()
                    failed += 1
                waits.append(time.perf_counter() - began)

    lock_taken: list[float] = []
    real_lock = staging.serialise_imports

    def timed_lock(session: Session) -> None:
        real_lock(session)
        lock_taken.append(time.perf_counter())

    reports: list[tuple[float, int, int, str]] = []
    beating = threading.Thread(target=heartbeat, daemon=True)
    beating.start()
    staging.serialise_imports = timed_lock  # type: ignore[assignment]
    try:
        with Session(engine) as session:
            start = time.perf_counter()
            staging.apply_change_set(session, change_set_id, username="approver", confirm_reason="bench",
                                     progress=lambda done, total, unit: reports.append(
                                         (time.perf_counter() - start, done, total, unit)))
            applied = time.perf_counter()
    finally:
        staging.serialise_imports = real_lock  # type: ignore[assignment]
        stop.set()
        beating.join()
    with Session(engine) as session:
        last_beat = session.execute(select(Job.heartbeat_at).where(Job.id == job_id)).scalar()
    held = applied - lock_taken[-1]
    print(f"  apply {applied - start:.1f} s; the import lock held {held:.1f} s (taken at {lock_taken[-1] - start:.1f} s)")
    units = sorted({r[3] for r in reports})
    print(f"  progress reports: {len(reports)} ({', '.join(units)}), the last at {reports[-1][0]:.1f} s"
          if reports else "  progress reports: none")
    print(f"  heartbeat: {len(waits)} writes, the longest took {max(waits):.2f} s, {failed} failed; "
          f"the last one stored at {last_beat:%H:%M:%S} UTC")


if __name__ == "__main__":
    main()

"""The screens around the heavy book's change set, each timed through the app (Flask's test
client, one logged-in user, no server): the change set's page, the approve POST, the
change set's history page, and the long lists' Excel exports.

    .venv/bin/python -m benchmarks.bench_change_set_pages [--pg URL] [--repeat 3]

The heavy book is staged into an empty database (a fresh SQLite file, or the PostgreSQL
database given, emptied) and applied by its job (the approve POST queues it, the embedded
queue runs it); each page is then fetched `--repeat` times and the fastest kept (the first
fetch of each is printed too). An export of EXPORT_JOB_MIN_ROWS rows or more answers with
the job's page: printed are the request's own time and the job's, to the download. Not a
row of issue 14's table: the evidence for the pages of a large upload.
"""
from __future__ import annotations

import argparse
import os
import time

from benchmarks import empty_database
from benchmarks.heavy_book import generate_heavy_book


def _timed(client, method: str, url: str, repeat: int, **kwargs) -> tuple[float, float, object]:
    """(first, fastest of `repeat`, the last response)."""
    times, response = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.open(url, method=method, **kwargs)
        times.append(time.perf_counter() - start)
    return times[0], min(times), response


def _follow(client, location: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(location + ".json").get_json()
        if status["state"] in ("done", "failed") or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="PostgreSQL URL (emptied), else a fresh SQLite file")
    parser.add_argument("--investments", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = generate_heavy_book(investments=args.investments)
    engine, url = empty_database(args.pg, "bench_pages_")
    engine.dispose()
    os.environ["DATABASE_URL"] = url.replace("postgresql+psycopg://", "postgresql://", 1)
    os.environ.setdefault("SECRET_KEY", "bench")

    from app import create_app
    from portfolio.book.users import create_user
    from portfolio.interchange import staging
    from web.extensions import db

    app = create_app({"WTF_CSRF_ENABLED": False})
    with app.app_context():
        start = time.perf_counter()
        change_set = staging.stage_book(db.session, folder, username="uploader").change_set.id
        print(f"heavy book {folder.name} staged as change set #{change_set} on {db.engine.dialect.name} "
              f"in {time.perf_counter() - start:.1f} s")
        create_user(db.session, "checker", "manager", "bench-password-1", by="bench")
        client = app.test_client()
        client.post("/login", data={"username": "checker", "password": "bench-password-1"})

        first, best, _page = _timed(client, "GET", f"/book/change-sets/{change_set}", args.repeat)
        print(f"  the change set's page              first {first:5.2f} s, fastest {best:5.2f} s")
        start = time.perf_counter()
        posted = client.post(f"/book/change-sets/{change_set}/apply",
                             data={"confirmed": "y", "confirm_reason": "bench"})
        posted_s = time.perf_counter() - start
        status = _follow(client, posted.headers["Location"])
        print(f"  the approve POST                   {posted_s:5.2f} s (answers with the apply job's page); "
              f"the job {status['state']} after {time.perf_counter() - start:.1f} s")
        first, best, _page = _timed(client, "GET", f"/history?change_set={change_set}", args.repeat)
        print(f"  its history page                   first {first:5.2f} s, fastest {best:5.2f} s")
        for name, url in (("cash flows", "/cash-flows/export.xlsx"),
                          ("the change set's history", f"/history/export.xlsx?change_set={change_set}")):
            start = time.perf_counter()
            asked = client.get(url)
            asked_s = time.perf_counter() - start
            location = asked.headers.get("Location", "")
            if "/exports/jobs/" not in location:
                print(f"  export of {name}: {asked_s:.2f} s within the request ({len(asked.data):,} bytes)")
                continue
            status = _follow(client, location)
            done = client.get(status["download_url"]) if status.get("download_url") else None
            total = time.perf_counter() - start
            print(f"  export of {name}: the request {asked_s:.2f} s (answers with the job's page); "
                  f"the job {status['state']}, {status['done']:,} rows, downloaded after {total:.1f} s "
                  f"({len(done.data) if done is not None else 0:,} bytes)")


if __name__ == "__main__":
    main()

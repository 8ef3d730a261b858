"""Load the fund dashboard the way a team would: the heavy book in PostgreSQL, gunicorn
with 2 workers, 10 logged-in users each loading /funds/<fund> again and again.

    .venv/bin/python -m benchmarks.bench_dashboard [--duration 60] [--users 10] [--workers 2]
        [--db URL] [--fund QY] [--as-of YYYY-MM-DD] [--no-import]

Database: --db URL, else postgresql://postgres@127.0.0.1:5432/bench_dashboard (created
when missing; its tables are dropped and the heavy book imported unless --no-import).
Prints the latency median, p95 and max, the requests served and the errors.
Target: p95 ≤ 300 ms, no errors.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from benchmarks.bench_import import _ensure_database, _pg_url
from benchmarks.heavy_book import generate_heavy_book
from models import Base
from portfolio.book.users import create_user
from portfolio.formatting import last_quarter_end
from portfolio.interchange.importing import import_book

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/bench_dashboard"
USER, PASSWORD = "bench-manager", "bench-password-1"


def load_book(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    folder = generate_heavy_book()
    with Session(engine) as session:
        start = time.perf_counter()
        result = import_book(session, folder, username="bench")
        if not result.ok:
            raise SystemExit("import failed:\n" + "\n".join(str(e) for e in result.errors[:20]))
        print(f"imported the heavy book ({folder.name}) in {time.perf_counter() - start:.1f} s")
    engine.dispose()


def ensure_user(url: str) -> None:
    engine = create_engine(url)
    with Session(engine) as session:
        create_user(session, USER, "manager", PASSWORD, by="bench")
    engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url.replace("postgresql+psycopg://", "postgresql://"),
           "SECRET_KEY": "bench-dashboard-secret"}
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--timeout", "120", "--log-level", "warning", "app:create_app()"],
        cwd=ROOT, env=env, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2).read()
            return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit("gunicorn exited") from None
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start")


def logged_in_opener(base: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(base + "/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "username": USER, "password": PASSWORD}).encode()
    response = opener.open(base + "/login", data=body, timeout=30)
    if "/login" in response.geturl():
        raise SystemExit("could not log in")
    return opener


def run(base: str, path: str, users: int, duration: float) -> tuple[list[float], list[str], list[float]]:
    openers = [logged_in_opener(base) for _ in range(users)]
    # first load per user: the workers compute the report once per book version (cold)
    cold: list[float] = []
    for opener in openers:
        start = time.perf_counter()
        opener.open(base + path, timeout=120).read()
        cold.append(time.perf_counter() - start)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + duration

    def user(opener):
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            try:
                response = opener.open(base + path, timeout=60)
                body = response.read()
                ok = response.status == 200 and b'id="compliance"' in body
                problem = None if ok else f"status {response.status} / page without the compliance panel"
            except Exception as exc:  # any failure counts as an error, with its kind
                problem = f"{type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - start
            with lock:
                if problem:
                    errors.append(problem)
                else:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=user, args=(o,)) for o in openers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fund", default="QY")
    parser.add_argument("--as-of", default=last_quarter_end(dt.date.today()).isoformat())
    parser.add_argument("--no-import", action="store_true", help="reuse the book already in the database")
    args = parser.parse_args()

    url = _pg_url(args.db)
    _ensure_database(url)
    if not args.no_import:
        load_book(url)
    ensure_user(url)
    port = free_port()
    server = start_gunicorn(url, port, args.workers)
    try:
        base = f"http://127.0.0.1:{port}"
        path = f"/funds/{args.fund}?as_of={args.as_of}"
        latencies, errors, cold = run(base, path, args.users, args.duration)
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the gunicorn we started (its own process group)
        server.wait(timeout=30)
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[max(0, int(round(0.95 * len(ms))) - 1)] if ms else float("nan")
    print(f"gunicorn -w {args.workers}, {args.users} users, {args.duration:.0f} s, GET {path}")
    print(f"first load per user (cold): max {max(cold) * 1000:.0f} ms")
    print(f"requests {len(ms)}  ({len(ms) / args.duration:.1f}/s)  errors {len(errors)}")
    if ms:
        print(f"median {statistics.median(ms):.0f} ms  p95 {p95:.0f} ms  max {ms[-1]:.0f} ms")
    for problem in sorted(set(errors))[:5]:
        print("  error:", problem)
    target_met = bool(ms) and p95 <= 300 and not errors
    print("target p95 ≤ 300 ms, no errors:", "met" if target_met else "NOT met")
    sys.exit(0 if target_met else 1)


if __name__ == "__main__":
    main()

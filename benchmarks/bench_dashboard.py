"""Issue 14's load row: the dashboard and the report API under gunicorn on PostgreSQL, with N
logged-in users, and the first request after a write.

    .venv/bin/python -m benchmarks.bench_dashboard [--users 10] [--duration 30] [--book demo|heavy]
        [--db URL] [--fund QY] [--think 0] [--writes 12] [--workers 2] [--no-import]
        [--generator auto|wrk|python|both] [--port N]

- The book: the demo book (`flask demo`, funds QY and TS) by default, `--book heavy` for the
  generated heavy book; in PostgreSQL (--db URL, else
  postgresql://postgres@127.0.0.1:5432/bench_dashboard: created when missing, its tables
  dropped and the book loaded afresh unless --no-import).
- The server: gunicorn as the README's production section runs it (`-c gunicorn.conf.py`:
  gthread workers, WEB_WORKERS=--workers, 8 threads each), plain HTTP on loopback.
- Load: N users, each logged in with its own session, each going round the home page `/`, the
  fund dashboard `/funds/<fund>` and the report API `/api/v1/funds/<fund>/report` for
  --duration seconds, one request after the other (--think seconds between them; 0: none, a
  closed loop at full speed). Every page is checked (status 200 and what it must show).
- The load generator (--generator): `wrk` (`benchmarks/wrk_dashboard.lua`: one connection and
  one wrk thread per user, each sending its user's session cookie, logged in beforehand by
  Python; the latency of every request timed per page) or `python` (a thread per user, urllib);
  `auto` (the default): wrk when it is installed. Python's threads share the server's cores
  and hold the GIL while they parse answers: at 50 users they cost about as much CPU as the
  server, and their own queueing is counted in the latency. `both`: each, one after the other.
  Either is a closed loop, so the figures are those of requests actually made: a stalled
  server delays the next request instead of counting it late (wrk's and any closed loop's
  coordinated omission), which understates the tail when the server stalls.
- After a write: --writes times, another user writes through the screens (a cash flow; a
  valuation entered by one user and approved by a second, maker-checker; a void of the
  flow; a correction of the flow), and the first request after it (to each of `/funds/<fund>`,
  `/` and the API in turn) is timed, with no other load.

Prints, per page and overall: requests, errors, median, p95, max, and p95 against the target
(issue 14: p95 ≤ 150 ms at 10 users, ≤ 400 ms at 50, ≤ 300 ms for the first request after a
write). Exit status 0 when every target is met. Wall-clock figures depend on the machine's
load: the load average is printed with them.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from benchmarks import ROWS, record, summary_option
from benchmarks.bench_import import _ensure_database, _pg_url
from models import Base, CashFlow, Investment, Valuation
from portfolio.book.users import create_user
from portfolio.formatting import last_quarter_end

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/bench_dashboard"
PASSWORD = "bench-password-1"
READER, WRITER, CHECKER = "bench-manager", "bench-writer", "bench-checker"
TARGETS_MS = {10: 150, 50: 400}  # p95 under load, by users (issue 14)
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_dashboard.lua"
AFTER_WRITE_MS = 300


# -- the book and the users ---------------------------------------------------------------------

def _env(url: str) -> dict:
    return {**os.environ, "DATABASE_URL": url.replace("postgresql+psycopg://", "postgresql://"),
            "SECRET_KEY": "bench-dashboard-secret", "COOKIE_SECURE": "0"}


def load_book(url: str, book: str) -> None:
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    Base.metadata.create_all(engine)
    engine.dispose()
    start = time.perf_counter()
    if book == "demo":
        subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "app", "demo", "--book",
                        "/tmp/bench_dashboard_demo.xlsx"], cwd=ROOT, env=_env(url), check=True,
                       stdout=subprocess.DEVNULL)
    else:
        from benchmarks.heavy_book import generate_heavy_book
        from portfolio.interchange.importing import import_book

        engine = create_engine(url)
        with Session(engine) as session:
            result = import_book(session, generate_heavy_book(), username="bench")
            if not result.ok:
                raise SystemExit("import failed:\n" + "\n".join(str(e) for e in result.errors[:20]))
        engine.dispose()
    print(f"loaded the {book} book in {time.perf_counter() - start:.1f} s")


def ensure_users(url: str) -> None:
    engine = create_engine(url)
    with Session(engine) as session:
        for name in (READER, WRITER, CHECKER):
            create_user(session, name, "manager", PASSWORD, by="bench")
    engine.dispose()


def a_direct_investment(url: str, fund: str, as_of: dt.date) -> str:
    engine = create_engine(url)
    with Session(engine) as session:
        found = session.execute(select(Investment.id).where(
            Investment.fund_code == fund, Investment.mode == "direct", Investment.date <= as_of)
            .order_by(Investment.date, Investment.id).limit(1)).scalar()
    engine.dispose()
    if found is None:
        raise SystemExit(f"no direct investment of {fund} to write to")
    return found


def audit_mark(url: str) -> int:
    """The latest audit entry's id: a write that happened moved it."""
    engine = create_engine(url)
    with engine.connect() as conn:
        mark = conn.execute(text("SELECT coalesce(max(id), 0) FROM audit_log")).scalar()
    engine.dispose()
    return int(mark or 0)


def free_valuation_day(url: str, investment_id: str, as_of: dt.date) -> dt.date:
    """The latest day on or before D without a valuation in force (one a day per investment)."""
    engine = create_engine(url)
    with Session(engine) as session:
        taken = set(session.execute(select(Valuation.as_of).where(Valuation.investment_id == investment_id,
                                                                  Valuation.voided_at.is_(None))).scalars())
    engine.dispose()
    day = as_of
    while day in taken:
        day -= dt.timedelta(days=1)
    return day


def latest_id(url: str, model, investment_id: str) -> int:
    engine = create_engine(url)
    with Session(engine) as session:
        found = session.execute(select(model.id).where(model.investment_id == investment_id)
                                .order_by(model.id.desc()).limit(1)).scalar()
    engine.dispose()
    return int(found)


# -- the server and the clients -----------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**_env(url), "BIND": f"127.0.0.1:{port}", "WEB_WORKERS": str(workers)}
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py", "app:create_app()"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5).read()
            return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit("gunicorn exited") from None
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start")


def server_cpu(process: subprocess.Popen) -> float:
    """CPU seconds (user + system) used so far by gunicorn's workers: the running ones (the
    master's children) and those already replaced (max_requests), which the master has
    reaped into its own cutime and cstime."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == process.pid:  # ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        elif int(stat.parent.name) == process.pid:
            total += int(fields[13]) + int(fields[14])  # cutime, cstime: the reaped workers
    return total / os.sysconf("SC_CLK_TCK")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)  # the gunicorn we started (its own process group)
    process.wait(timeout=60)


class User:
    """One logged-in person: a cookie jar (the session) and the page's CSRF token."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        token = self.token("/login")
        response = self.opener.open(base + "/login", data=urllib.parse.urlencode(
            {"csrf_token": token, "username": username, "password": PASSWORD}).encode(), timeout=60)
        if "/login" in response.geturl():
            raise SystemExit(f"could not log in as {username}")

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            response = self.opener.open(self.base + path, timeout=120)
            return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def token(self, path: str) -> str:
        return self.hidden(path)["csrf_token"]

    def hidden(self, path: str) -> dict[str, str]:
        """The hidden fields of the page's form (CSRF token, the form's once-only key)."""
        page = self.get(path)[1].decode()
        fields = {}
        for tag in re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", page):
            name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
            if name:
                fields[name.group(1)] = value.group(1) if value else ""
        return fields

    def post_form(self, path: str, fields: dict[str, str]) -> int:
        body = urllib.parse.urlencode({**self.hidden(path), **fields}).encode()
        try:
            response = self.opener.open(self.base + path, data=body, timeout=120)
            response.read()
            return response.status
        except urllib.error.HTTPError as error:
            return error.code


def page_ok(path: str, status: int, body: bytes) -> str | None:
    if status != 200:
        return f"{path}: status {status}"
    if "/api/" in path:
        try:
            report = json.loads(body)
        except ValueError:
            return f"{path}: not JSON"
        return None if "summary" in report and "investments" in report else f"{path}: JSON without the report"
    if path.startswith("/funds/"):
        return None if b'id="compliance"' in body else f"{path}: no compliance panel"
    return None if b"<html" in body else f"{path}: not a page"


# -- load ----------------------------------------------------------------------------------------

def logged_in(base: str, paths: list[str], users: int) -> list[User]:
    """`users` people logged in, each having been round the pages once (before the clock: each
    worker's first, cold, visit is not load)."""
    people = [User(base, READER) for _ in range(users)]
    warm = [threading.Thread(target=lambda p=p: [p.get(path) for path in paths]) for p in people]
    for t in warm:
        t.start()
    for t in warm:
        t.join()
    return people


def load(base: str, paths: list[str], users: int, duration: float, think: float, cpu) -> dict:
    """The Python generator: a thread per user."""
    people = logged_in(base, paths, users)
    latencies: dict[str, list[float]] = {p: [] for p in paths}
    errors: list[str] = []
    lock = threading.Lock()
    cpu_before = cpu()
    stop_at = time.perf_counter() + duration

    def visit(person: User, first: int) -> None:
        n = first
        while time.perf_counter() < stop_at:
            path = paths[n % len(paths)]
            n += 1
            start = time.perf_counter()
            try:
                problem = page_ok(path, *person.get(path))
            except Exception as exc:  # any failure counts as an error, with its kind
                problem = f"{path}: {type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - start
            with lock:
                if problem:
                    errors.append(problem)
                else:
                    latencies[path].append(elapsed)
            if think:
                time.sleep(think)

    threads = [threading.Thread(target=visit, args=(p, i)) for i, p in enumerate(people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"latencies": latencies, "errors": errors, "cpu": cpu() - cpu_before}


MARKERS = {"/": "<html", "/funds/": 'id="compliance"', "/api/": '"summary"'}


def marker(path: str) -> str:
    """What the page must show (as `page_ok` checks it), for wrk's script."""
    return MARKERS["/api/"] if "/api/" in path else MARKERS["/funds/"] if path.startswith("/funds/") else MARKERS["/"]


def wrk_load(base: str, paths: list[str], users: int, duration: float, think: float, cpu) -> dict:
    """The wrk generator: one connection (and one wrk thread) per logged-in user, each with its
    own session cookie, going round the pages (`benchmarks/wrk_dashboard.lua`)."""
    people = logged_in(base, paths, users)
    with tempfile.TemporaryDirectory(prefix="bench_dashboard_wrk") as folder:
        cookies, listed, log = Path(folder, "cookies"), Path(folder, "paths"), Path(folder, "log")
        cookies.write_text("".join("; ".join(f"{c.name}={c.value}" for c in p.jar) + "\n" for p in people))
        listed.write_text("".join(f"{path}\t{marker(path)}\n" for path in paths))
        env = {**os.environ, "WRK_COOKIES": str(cookies), "WRK_PATHS": str(listed), "WRK_LOG": str(log),
               "WRK_THINK_MS": str(int(think * 1000))}
        cpu_before = cpu()
        subprocess.run([wrk_binary() or "wrk", "-t", str(users), "-c", str(users), "-d", f"{duration:g}s",
                        "--timeout", "120s", "-s", str(WRK_SCRIPT), base + "/"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        used = cpu() - cpu_before
        lines = log.read_text().splitlines()
    latencies: dict[str, list[float]] = {p: [] for p in paths}
    errors: list[str] = []
    for line in lines:
        fields = line.split()
        if fields[0] == "errors":
            for kind, n in zip(("connect", "read", "write", "status", "timeout"), fields[1:]):
                errors += [f"wrk: socket {kind} error"] * (int(n) if kind != "status" else 0)
            continue
        path = paths[int(fields[0]) - 1]
        if fields[2] == "1":
            latencies[path].append(int(fields[1]) / 1e6)
        else:
            errors.append(f"{path}: status {fields[2]}" if fields[2] != "200" else f"{path}: not the page")
    return {"latencies": latencies, "errors": errors, "cpu": used}


def wrk_binary() -> str | None:
    return shutil.which("wrk")


# -- the first request after a write ----------------------------------------------------------------

def after_writes(base: str, url: str, paths: list[str], fund: str, as_of: dt.date, writes: int) -> dict:
    """Each round: one write through the screens, then the first request to one of the pages."""
    reader, writer, checker = User(base, READER), User(base, WRITER), User(base, CHECKER)
    investment = a_direct_investment(url, fund, as_of)
    for path in paths:
        reader.get(path)
    day = as_of.isoformat()
    flow_id: int | None = None
    timings: dict[str, list[float]] = {p: [] for p in paths}
    write_ms: list[float] = []
    errors: list[str] = []
    for n in range(writes):
        kind = ("flow", "valuation", "correction", "void")[n % 4]
        mark = audit_mark(url)
        start = time.perf_counter()
        if kind == "flow" or flow_id is None:
            kind = "flow"
            status = writer.post_form("/book/cash-flows/new", {
                "investment_id": investment, "date": day, "type": "contribution",
                "amount_cny": f"{1000 + n}.00", "ref": f"bench-{time.time_ns()}",
                "confirm_reason": "bench: a test contribution"})
            flow_id = latest_id(url, CashFlow, investment)
        elif kind == "valuation":
            status = writer.post_form("/book/valuations/new", {
                "investment_id": investment, "as_of": free_valuation_day(url, investment, as_of).isoformat(),
                "fair_value_cny": f"{5_000_000 + n}.00", "method": "last_round",
                "confirm_reason": "bench: a test valuation"})
            valuation = latest_id(url, Valuation, investment)
            status = checker.post_form(f"/book/valuations/{valuation}/approve",
                                       {"csrf_token": checker.token("/book/valuations/pending")}) \
                if status in (200, 302) else status
        elif kind == "correction":
            status = writer.post_form(f"/book/cash-flows/{flow_id}/correct", {
                "date": day, "type": "contribution", "amount_cny": f"{2000 + n}.00",
                "correction_reason": "bench: a corrected amount", "confirm_reason": "bench"})
        else:
            status = writer.post_form(f"/book/cash-flows/{flow_id}/void", {"reason": "bench: undone"})
            flow_id = None
        write_ms.append((time.perf_counter() - start) * 1000)
        if status not in (200, 302) or audit_mark(url) == mark:
            errors.append(f"write {kind}: status {status}, nothing written")
        path = paths[n % len(paths)]
        start = time.perf_counter()
        problem = page_ok(path, *reader.get(path))
        elapsed = time.perf_counter() - start
        if problem:
            errors.append(f"after a {kind}: {problem}")
        else:
            timings[path].append(elapsed)
    return {"latencies": timings, "errors": errors, "write_ms": write_ms}


# -- figures ---------------------------------------------------------------------------------------

def p95(values_ms: list[float]) -> float:
    ordered = sorted(values_ms)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)] if ordered else float("nan")


def report(title: str, result: dict, duration: float | None, target_ms: float) -> tuple[bool, str]:
    """Prints the figures of one load; (whether the target was met, the figure in a line)."""
    print(title)
    every: list[float] = []
    served = sum(len(v) for v in result["latencies"].values()) + len(result["errors"])
    if "cpu" in result and served:
        print(f"  server CPU (gunicorn workers): {result['cpu']:.1f} s, {result['cpu'] * 1000 / served:.1f} ms "
              f"per request")
    for path, values in result["latencies"].items():
        ms = [v * 1000 for v in values]
        every += ms
        if ms:
            print(f"  {path:40s} {len(ms):6d} requests  median {statistics.median(ms):6.0f} ms  "
                  f"p95 {p95(ms):6.0f} ms  max {max(ms):6.0f} ms")
    rate = f" ({len(every) / duration:.1f}/s)" if duration else ""
    errors = result["errors"]
    line = f"  all: {len(every)} requests{rate}, {len(errors)} errors"
    if every:
        line += (f"; median {statistics.median(every):.0f} ms, p95 {p95(every):.0f} ms, max {max(every):.0f} ms; "
                 f"p95 / target {target_ms:.0f} ms = {p95(every) / target_ms:.2f}")
    print(line)
    for problem in sorted(set(errors))[:5]:
        print("  error:", problem)
    met = bool(every) and p95(every) <= target_ms and not errors
    print("  target", "met" if met else "NOT met")
    if not every:
        return met, f"no request answered, {len(errors)} errors"
    return met, (f"p95 {p95(every):.0f} ms (median {statistics.median(every):.0f} ms, max {max(every):.0f} ms, "
                 f"{len(every)} requests{rate}, {len(errors)} errors): {p95(every) / target_ms:.2f}× the target")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--book", choices=("demo", "heavy"), default="demo")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load (default 30)")
    parser.add_argument("--users", type=int, nargs="+", default=[10, 50], help="default: 10, then 50")
    parser.add_argument("--think", type=float, default=0.0, help="seconds between a user's requests (default 0)")
    parser.add_argument("--writes", type=int, default=12, help="writes for the after-a-write figure (0: none)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fund", default="QY")
    parser.add_argument("--as-of", default=last_quarter_end(dt.date.today()).isoformat())
    parser.add_argument("--no-import", action="store_true", help="reuse the book already in the database")
    parser.add_argument("--generator", choices=("auto", "wrk", "python", "both"), default="auto",
                        help="the load generator: wrk (benchmarks/wrk_dashboard.lua), python (a thread per "
                             "user), both in turn; auto (default): wrk when installed, else python")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port on 127.0.0.1 (default: a free one)")
    summary_option(parser)
    args = parser.parse_args()
    if args.generator == "auto":
        generators = ["wrk"] if wrk_binary() else ["python"]
    elif args.generator == "both":
        generators = ["wrk", "python"]
    else:
        generators = [args.generator]
    if "wrk" in generators and not wrk_binary():
        raise SystemExit("wrk is not installed (apt-get install wrk), or use --generator python")

    url = _pg_url(args.db)
    _ensure_database(url)
    if not args.no_import:
        load_book(url, args.book)
    ensure_users(url)
    as_of = dt.date.fromisoformat(args.as_of)
    port = args.port or free_port()
    server = start_gunicorn(url, port, args.workers)
    met = True
    try:
        base = f"http://127.0.0.1:{port}"
        paths = ["/", f"/funds/{args.fund}?as_of={as_of}", f"/api/v1/funds/{args.fund}/report?as_of={as_of}"]
        print(f"gunicorn -c gunicorn.conf.py (gthread, {args.workers} workers), PostgreSQL, {args.book} book, "
              f"fund {args.fund}, as of {as_of}")
        for users in args.users:
            for generator in generators:
                before = load_average()
                run = wrk_load if generator == "wrk" else load
                result = run(base, paths, users, args.duration, args.think, lambda: server_cpu(server))
                target = TARGETS_MS.get(users, TARGETS_MS[50] if users > 10 else TARGETS_MS[10])
                how = (f"wrk, {users} connections (a thread each)" if generator == "wrk"
                       else f"Python, {users} threads")
                ok, figure = report(f"{users} users, {args.duration:.0f} s, think {args.think:g} s, load by {how}; "
                                    f"closed loop: requests actually made (load average before {before}, "
                                    f"after {load_average()})", result, args.duration, target)
                if f"users_{users}" in ROWS and generator == generators[0]:
                    record(args.summary, f"users_{users}", f"{figure}; load by {generator}", ok)
                met &= ok
        if args.writes:
            before = load_average()
            cpu = server_cpu(server)
            result = after_writes(base, url, paths, args.fund, as_of, args.writes)
            result["cpu"] = server_cpu(server) - cpu  # the writes and their pages too
            ok, figure = report(f"the first request after a write, {args.writes} writes (flow, valuation approved, "
                                f"correction, void; load average before {before}, after {load_average()}); the "
                                f"writes themselves: median {statistics.median(result['write_ms']):.0f} ms",
                                result, None, AFTER_WRITE_MS)
            record(args.summary, "after_write", figure, ok)
            met &= ok
    finally:
        stop(server)
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()

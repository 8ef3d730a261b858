"""The production server as the README runs it: gunicorn with gunicorn.conf.py (the app made
once in the master, `preload_app`, and the workers forked from it). Logged-in pages are served
by every worker, including workers that replaced others (max_requests), each with its own
database connections (post_fork), on SQLite and on PostgreSQL."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import PASSWORD, make_user

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(app, db, database_url, tmp_path):
    make_user(db, "gunicorn-manager", "manager")
    db.session.commit()
    db.engine.dispose()  # the server's processes are the only ones talking to the database now
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "gunicorn-test-secret", "COOKIE_SECURE": "0",
           "BIND": f"127.0.0.1:{port}", "WEB_WORKERS": "2", "WEB_THREADS": "4",
           "UPLOAD_FOLDER": str(tmp_path / "uploads"), "BACKUPS_FOLDER": str(tmp_path / "backups"),
           "JOBS_QUEUE_FILE": str(tmp_path / "job-queue.sqlite"),
           # a worker is replaced every few requests: the replacements are forked from the master too
           "GUNICORN_CMD_ARGS": "--max-requests 6 --max-requests-jitter 1 --access-logfile /dev/null"}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen([gunicorn, "-c", "gunicorn.conf.py", "app:create_app()"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            requests.get(base + "/login", timeout=5)
            break
        except requests.ConnectionError:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                pytest.fail("gunicorn did not start: " + process.stderr.read().decode()[-2000:])
            time.sleep(0.3)
    yield base, process
    process.terminate()
    process.wait(timeout=60)


def _log_in(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = session.post(base + "/login", data={"csrf_token": token, "username": "gunicorn-manager",
                                                 "password": PASSWORD}, timeout=30)
    assert answer.status_code == 200 and "/login" not in answer.url
    return session


def test_preloaded_workers_and_their_replacements_serve_logged_in_pages(server):
    base, process = server
    session = _log_in(base)
    pids = set()
    for _ in range(30):
        answer = session.get(base + "/", timeout=60)
        assert answer.status_code == 200, answer.text[:500]
        assert "gunicorn-manager" in answer.text
    # the workers now running were forked after the first ones had been replaced
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == process.pid:
            pids.add(int(stat.parent.name))
    assert pids, "no worker running"
    # pandas's compiled modules mapped in the master: the figures' code imported there before the
    # workers were forked (gunicorn.conf.py's when_ready), not by each worker's first figure
    assert "/pandas/_libs/" in Path(f"/proc/{process.pid}/maps").read_text()
    process.terminate()
    _out, log = process.communicate(timeout=60)
    booted = re.findall(rb"Booting worker with pid: (\d+)", log)
    assert len(booted) > 2, "no worker was replaced: max_requests did not apply"
    assert b"Traceback" not in log and b"Exception" not in log, log.decode()[-3000:]

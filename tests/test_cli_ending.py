"""A command that read the whole book ends its process without the interpreter's teardown
(web/cli/ending.py): its output and the other exit handlers as at a normal exit, the
objects left unfreed; a failing command, or one under the test runner, ends as any other."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# run as its own process: an exit handler registered before the command (it must still run),
# and an object whose finaliser runs only in the interpreter's teardown
PROBE = """
import atexit, sys
from pathlib import Path
out = Path(sys.argv[1])
atexit.register(lambda: (out / "exit_handler").write_text("ran"))
class Teardown:
    def __init__(self, path):
        self.path = path
    def __del__(self, open=open):  # the module's names may be gone by then: only its own
        with open(self.path, "w") as f:
            f.write("ran")
# held by a module of its own, which the teardown clears: not by __main__'s namespace, which
# create_app's gc.freeze() may leave in an uncollected cycle (its class and functions refer to
# it), so that the teardown never reaches it and the probe would see no teardown at all
import types
holder = sys.modules["teardown_probe"] = types.ModuleType("teardown_probe")
holder.kept = Teardown(str(out / "teardown"))
sys.argv = ["flask", "--app", "app", *sys.argv[2:]]
from flask.cli import main
main()
"""


@pytest.fixture(scope="module")
def book_url(tmp_path_factory) -> str:
    from tests.book_files import book_database

    return book_database(tmp_path_factory.mktemp("ending") / "book.sqlite")


def _run(book_url: str, tmp_path: Path, *command: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": book_url, "SECRET_KEY": "test-secret-not-for-production"}
    return subprocess.run([sys.executable, "-c", PROBE, str(tmp_path), *command], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_report_ends_its_process_without_the_teardown(book_url, tmp_path):
    done = _run(book_url, tmp_path, "report", "QY", "--as-of", "2025-12-31")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["summary"]["paid_in"] > 0  # all of it written out
    assert (tmp_path / "exit_handler").read_text() == "ran"
    assert not (tmp_path / "teardown").exists()


def test_a_quarterly_report_written_whole_before_the_process_ends(book_url, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "q.xlsx"
    done = _run(book_url, tmp_path, "quarterly-report", "QY", "2025Q4", "--format", "xlsx", "-o", str(out),
                "--no-progress")
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"→ {out}" in done.stdout
    assert len(load_workbook(io.BytesIO(out.read_bytes())).sheetnames) >= 10
    assert (tmp_path / "exit_handler").exists() and not (tmp_path / "teardown").exists()


def test_a_failing_command_ends_as_any_other_with_its_status(book_url, tmp_path):
    done = _run(book_url, tmp_path, "report", "NOPE", "--as-of", "2025-12-31")
    assert done.returncode == 1 and "NOPE" in done.stderr
    assert (tmp_path / "exit_handler").exists() and (tmp_path / "teardown").read_text() == "ran"


def test_under_the_test_runner_the_process_is_left_alone(app, runner, monkeypatch):
    """The runner's process goes on after the command: nothing is registered to end it."""
    import atexit

    from portfolio.interchange.importing import import_book
    from tests.conftest import EXAMPLE_BOOK
    from web.extensions import db

    with app.app_context():
        assert import_book(db.session, EXAMPLE_BOOK, username="test").ok
    registered = []
    monkeypatch.setattr(atexit, "register", lambda *args, **kwargs: registered.append(args))
    done = runner.invoke(args=["report", "QY", "--as-of", "2025-12-31"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["summary"]["paid_in"] > 0 and registered == []

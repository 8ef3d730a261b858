"""Start-up (issue 14, `report` at 1.2x a bare script): the app and its `report` command do
not import what only other commands, screens or files need; Flask-Migrate, set up on first
use, still answers `flask db` and the functions that read app.extensions['migrate']."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the workbooks, the PDF, the job queue's Redis side, the migrations
NOT_AT_START = {"openpyxl", "weasyprint", "alembic", "mako", "redis"}


def _imported_by(tmp_path: Path, code: str) -> tuple[set[str], str]:
    """The top-level packages a fresh process running `code` imported, and what it printed before."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'start.sqlite'}",
           "SECRET_KEY": "test-secret-not-for-production"}
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    *printed, modules = done.stdout.strip().splitlines()
    return set(json.loads(modules)), "\n".join(printed)


# what only computing figures needs: a screen, a form or a report read from the shared cache does not
COMPUTING = {"pandas", "numpy", "pyxirr"}


def test_the_app_starts_without_the_heavy_libraries(tmp_path):
    loaded, _ = _imported_by(tmp_path, "from app import create_app\ncreate_app()")
    assert {"flask", "sqlalchemy", "models", "web"} <= loaded
    assert not loaded & (NOT_AT_START | COMPUTING), sorted(loaded & (NOT_AT_START | COMPUTING))


def test_the_charts_draw_without_a_heavy_library(tmp_path):
    """The charts are SVG written directly (portfolio/reports/svg.py): drawing one loads no
    plotting, numeric or web library (matplotlib's import cost ~1 s in every process that drew)."""
    code = ("from portfolio.reports import report_charts, trend_charts, forecast_chart, committee_charts\n"
            "print(report_charts.region_chart({'local': {'nav': 10**8}}) is not None)")
    loaded, printed = _imported_by(tmp_path, code)
    assert printed == "True"
    assert not loaded & {"matplotlib", "numpy", "pandas", "weasyprint", "flask", "sqlalchemy"}, sorted(loaded)


def test_the_report_command_runs_without_the_heavy_libraries(tmp_path):
    from tests.book_files import book_database

    book_database(tmp_path / "start.sqlite")  # where _imported_by's process looks
    code = ("from flask.cli import main\n"
            "import sys\n"
            "sys.argv = ['flask', '--app', 'app', 'report', 'QY', '--as-of', '2025-12-31']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass")
    loaded, printed = _imported_by(tmp_path, code)
    assert json.loads(printed)["summary"]["paid_in"] > 0  # the report was made
    assert not loaded & NOT_AT_START, sorted(loaded & NOT_AT_START)


def test_a_report_read_from_the_shared_cache_computes_nothing(tmp_path):
    """The second `report` of an unchanged book is the first's bytes, read from the shared report
    cache: its process imports neither pandas nor the figures' code (issue 14's report row)."""
    from tests.book_files import book_database

    book_database(tmp_path / "start.sqlite")
    code = ("from flask.cli import main\n"
            "import sys\n"
            "sys.argv = ['flask', '--app', 'app', 'report', 'QY', '--as-of', '2025-12-31']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass")
    first_loaded, first = _imported_by(tmp_path, code)
    again_loaded, again = _imported_by(tmp_path, code)
    assert json.loads(first)["summary"]["paid_in"] > 0
    assert again == first
    assert first_loaded >= COMPUTING  # computed the first time
    assert not again_loaded & COMPUTING, sorted(again_loaded & COMPUTING)


def test_flask_db_is_flask_migrate_s(app, runner):
    listed = runner.invoke(args=["--help"])
    assert "Perform database migrations." in listed.output
    commands = runner.invoke(args=["db", "--help"])
    assert commands.exit_code == 0, commands.output
    assert {"upgrade", "downgrade", "heads", "current"} <= set(commands.output.split())
    # (what alembic prints goes where sys.stdout was when alembic was first imported: not asserted)
    assert runner.invoke(args=["db", "heads"]).exit_code == 0
    # the functions that read the extension find Flask-Migrate's own config there
    with app.app_context():
        config = app.extensions["migrate"]
        assert config.directory == app.root_path + "/migrations"
        assert config.configure_args["compare_type"] is True
        assert config.db.engine is not None


def test_the_process_app_starts_without_collecting_then_freezes_what_it_made(tmp_path):
    """create_app() without a config (a command, a server): no garbage collection while the
    app is made, then everything alive frozen out of later collections, collection back on."""
    code = ("import gc, json\n"
            "runs = []\n"
            "gc.callbacks.append(lambda phase, info: phase == 'start' and runs.append(info['generation']))\n"
            "import app\n"
            "gc.collect(); runs.clear()\n"
            "frozen = gc.get_freeze_count()\n"
            "app.create_app()\n"
            "print(json.dumps([runs, frozen, gc.get_freeze_count(), gc.isenabled()]))")
    _loaded, printed = _imported_by(tmp_path, code)
    runs, before, after, enabled = json.loads(printed)
    assert runs == []  # not one collection while the blueprints, models and pandas were imported
    assert before == 0 and after > 100_000 and enabled


def test_an_app_with_a_config_leaves_the_collector_alone():
    import gc

    from app import create_app

    frozen = gc.get_freeze_count()
    create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    gc.disable()
    try:
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        assert not gc.isenabled()  # as it was
    finally:
        gc.enable()

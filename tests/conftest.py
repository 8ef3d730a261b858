"""Fixtures: `app`, `db`, `client`, `runner`, and small factories.

The database is DATABASE_URL when set (CI runs the suite once on SQLite and once on
PostgreSQL), else a SQLite file in a temporary folder. Each test starts from empty
tables.
"""
from __future__ import annotations

import os
import re

import pytest
from hypothesis import settings
from sqlalchemy import text

from app import create_app
from portfolio.book.users import create_user
from tests.book_files import EXAMPLE_BOOK, SPEC  # noqa: F401  (re-exported for the tests)
from web.extensions import db as _db

pytest_plugins = ["tests.browser"]  # the browser fixtures, registered once

# CI (.ci/run sets CI=1) draws the same hypothesis examples on every run, so that a run
# lands or not on the code alone; elsewhere each run draws new ones and explores further.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
PASSWORD = "correct-horse-9"


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: end-to-end test in headless Chromium")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return os.environ.get("DATABASE_URL") or "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")


@pytest.fixture
def app(database_url, tmp_path):
    os.environ.setdefault("SECRET_KEY", "test-secret-not-for-production")
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        # the screens' backups (and the pruning of them) never touch the checkout's instance folder
        "BACKUPS_FOLDER": str(tmp_path / "backups"),
        # each test's own job queue: two suites side by side (SQLite and PostgreSQL) never take each other's jobs
        "JOBS_QUEUE_FILE": str(tmp_path / "job-queue.sqlite"),
    })
    with app.app_context():
        _db.drop_all()
        _drop_alembic_version()
        _db.create_all()
        yield app
        _db.session.remove()
        _db.engine.dispose()


def _drop_alembic_version():
    with _db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def waiting_app(app, db):
    """Another app on the same database whose requests wait a given number of seconds for the
    book (BOOK_LOCK_WAIT): `waiting_app(seconds)` makes it; its connections are let go after
    the test (tests/test_book_busy.py `impatient`, tests/test_sqlite_wal.py `reading`)."""
    made = []

    def make(seconds: float):
        other = create_app({**{k: app.config[k] for k in ("TESTING", "SQLALCHEMY_DATABASE_URI", "WTF_CSRF_ENABLED",
                                                          "UPLOAD_FOLDER", "BACKUPS_FOLDER", "JOBS_QUEUE_FILE")},
                            "BOOK_LOCK_WAIT": seconds})
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def make_user(db, username: str, role: str, password: str = PASSWORD):
    return create_user(db.session, username, role, password, by="test")


def booked_cash_flow(session, fields, *, username: str = "mgr", checker: str = "checker"):
    """A cash flow in the figures: recorded by `username` (a draft, records.record_cash_flow)
    and approved by `checker` (maker-checker: another person)."""
    from portfolio.book import records

    flow = records.record_cash_flow(session, fields, username=username)
    return records.approve_cash_flow(session, flow.id, username=checker)


def settings_in_force(session, code: str, values: dict, *, username: str = "admin", checker: str = "checker",
                      reason: str = "按基金章程调整"):
    """A change of a fund's settings in force: asked for by `username` with `reason`
    (fund_settings.request_fund_settings) and approved by `checker` (maker-checker: another
    person). Returns the settings in force, or None when nothing changed."""
    from portfolio.book import fund_settings

    if fund_settings.request_fund_settings(session, code, values, username=username, reason=reason) is None:
        return None
    return fund_settings.approve_fund_settings(session, code, username=checker)


def approve_waiting_settings(session, code: str = "QY", *, checker: str = "checker"):
    """The change of `code`'s settings waiting, approved by `checker` (not its asker)."""
    from portfolio.book import fund_settings

    return fund_settings.approve_fund_settings(session, code, username=checker)


def void_in_force(session, what: str, record_id, reason: str, *, username: str = "mgr", checker: str = "checker"):
    """A cash flow or valuation (`what`) out of the figures: its void asked for by `username`
    and approved by `checker` (records.approve_void); a draft's is in force at once."""
    from portfolio.book import records

    void = records.void_cash_flow if what == "cash_flow" else records.void_valuation
    record = void(session, record_id, {"reason": reason}, username=username)
    return record if record.voided_at is not None else records.approve_void(session, what, record_id,
                                                                             username=checker)


def approved_investment(session, investment_id: str, *, checker: str = "checker"):
    """A new investment asked for in the form (/book/investments/new, new_investments.ask_investment)
    booked: approved by `checker` (maker-checker: another person)."""
    from portfolio.book import new_investments

    return new_investments.approve_investment(session, investment_id, username=checker)


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def as_role(db, client):
    """Log the test client in with a new user of the given role."""
    def _as(role: str, username: str | None = None):
        name = username or f"{role}1"
        make_user(db, name, role)
        login(client, name)
        return client
    return _as


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def inflated(monkeypatch) -> dict[str, int]:
    """Bytes decompressed from each zip member while the test runs, by member name: how a
    test shows that a hostile file was refused before it was expanded, whatever the
    machine's speed (openpyxl and workbook_problem both read members through ZipExtFile)."""
    import zipfile

    counts: dict[str, int] = {}
    for method in ("read", "read1"):
        original = getattr(zipfile.ZipExtFile, method)

        def counted(self, *args, _original=original, **kwargs):
            data = _original(self, *args, **kwargs)
            counts[self.name] = counts.get(self.name, 0) + len(data)
            return data

        monkeypatch.setattr(zipfile.ZipExtFile, method, counted)
    return counts

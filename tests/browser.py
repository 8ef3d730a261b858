"""Shared Playwright helpers for end-to-end tests in a real browser (headless Chromium).

Use in a test module:

    from tests.browser import browser, live_server, new_page, logged_in_page, screenshot  # noqa: F401

    @pytest.mark.browser
    def test_something(logged_in_page, live_server):
        page = logged_in_page("manager")              # a new user of that role, logged in
        page.goto(live_server + "/")
        screenshot(page, "home")                      # tests/artifacts/home.png

`live_server` serves the test's `app` (same database as the `db` fixture) from a thread
with werkzeug's `make_server` on a free port; `browser` is one Chromium per test session.
Tests are skipped (not failed) when Playwright or /usr/bin/chromium is missing.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, make_user

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


# One Playwright and one Chromium per test process, shared by every module that imports
# the `browser` fixture (each import makes its own session-scoped fixture, and a second
# sync_playwright() on the same thread would fail while the first one runs).
_shared: dict = {"users": 0, "playwright": None, "chromium": None}


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    if _shared["chromium"] is None:
        _shared["playwright"] = playwright_api.sync_playwright().start()
        _shared["chromium"] = _shared["playwright"].chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    _shared["users"] += 1
    try:
        yield _shared["chromium"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            _shared["chromium"].close()
            _shared["playwright"].stop()
            _shared["chromium"] = _shared["playwright"] = None


@pytest.fixture
def live_server(app):
    """The app served on 127.0.0.1:<free port>; yields the base URL (no trailing slash)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def new_page(browser):
    """A factory of fresh pages, each in its own browser context (own cookies = own user)."""
    contexts = []

    def _new():
        context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield _new
    for context in contexts:
        context.close()


def log_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Log a page in through the login form (as a person would)."""
    page.goto(base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, f"login failed for {username}"


@pytest.fixture
def logged_in_page(db, live_server, new_page):
    """`logged_in_page(role, username=None)`: a new user of that role and a page logged in as them."""
    def _page(role: str, username: str | None = None):
        name = username or f"{role}_e2e"
        make_user(db, name, role)
        page = new_page()
        log_in(page, live_server, name)
        return page
    return _page


def screenshot(page, name: str, full_page: bool = True) -> Path:
    """Save a PNG to tests/artifacts/<name>.png and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def run_in_own_thread(scenario, timeout: float = 180) -> None:
    """Run a Playwright scenario in a thread of its own: the sync API allows one Playwright
    per thread, and the session-wide `browser` fixture may already hold this one."""
    failure: list[BaseException] = []

    def run():
        try:
            scenario()
        except BaseException as exc:  # noqa: BLE001 — re-raised in the test's thread
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=timeout)
    assert not thread.is_alive(), "the browser scenario did not finish"
    if failure:
        raise failure[0]

"""Shared Playwright helpers for end-to-end tests in a real browser (headless Chromium).

Registered once for the whole suite as a pytest plugin (`pytest_plugins` in
tests/conftest.py), so every module has the fixtures without importing them:

    from tests.browser import screenshot

    @pytest.mark.browser
    def test_something(logged_in_page, live_server):
        page = logged_in_page("manager")              # a new user of that role, logged in
        page.goto(live_server + "/")
        screenshot(page, "home")                      # tests/artifacts/home.png

`live_server` serves the test's `app` (same database as the `db` fixture) from a thread
with werkzeug's `make_server` on a free port; `browser` is one Chromium per test session.
A missing /usr/bin/chromium fails the browser tests (scripts/system-deps.sh installs it):
a screen test that quietly skips would prove nothing.
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


@pytest.fixture(scope="session")
def browser():
    """One Playwright and one headless Chromium (Debian's) for the whole test session."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install it with scripts/system-deps.sh")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


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

    def _new(timeout_ms: int = 15_000, **options):
        context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}, **options)
        context.set_default_timeout(timeout_ms)
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

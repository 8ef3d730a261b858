"""End-to-end: the screens fit a phone's width (390 px) and a laptop's (1366 px) in a real
browser: a wide table scrolls inside its own box, never widening the whole page (the top bar,
headings and forms would be pushed off the screen and the page would scroll sideways)."""
from __future__ import annotations

import pytest

from portfolio.book import cache
from portfolio.gp import packages
from portfolio.interchange.importing import import_book
from tests.browser import log_in, screenshot
from tests.conftest import EXAMPLE_BOOK, PASSWORD

pytestmark = pytest.mark.browser

PAGES = ("/?as_of=2025-12-31", "/funds/QY?as_of=2025-12-31", "/funds/QY/compliance", "/investments",
         "/investments/QY-D1", "/sub-funds", "/sub-funds/SF1", "/companies", "/companies/C1", "/history",
         "/history/investments/QY-D1", "/book/", "/committee/", "/committee/proposals/new", "/funds/QY/forecast")


@pytest.fixture
def book(db):
    cache.clear()
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok


@pytest.mark.parametrize("width,lang", [(390, "zh"), (390, "en"), (1366, "zh"), (1366, "en")])
def test_no_screen_is_wider_than_the_window(book, logged_in_page, live_server, width, lang):
    page = logged_in_page("manager")
    page.set_viewport_size({"width": width, "height": 844})
    if lang == "en":
        page.click("#lang-en")
        page.wait_for_selector("#lang-zh")
    too_wide = {}
    for path in PAGES:
        response = page.goto(live_server + path)
        assert response is not None and response.status == 200, path
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            too_wide[path] = scroll_width
    assert too_wide == {}, too_wide
    if width == 390:
        # the top bar's links wrap as wholes: 中文 / English on one line, not a letter per line
        switch = page.locator("#lang-zh" if lang == "en" else "#lang-en")
        assert switch.evaluate("a => a.getClientRects().length === 1"), "the language link is broken over lines"
        page.goto(live_server + "/investments")
        box = page.locator("table.grid").first.locator("xpath=..")
        # the table's box scrolls: its content is wider than it, and it fits the screen
        assert box.evaluate("b => b.scrollWidth > b.clientWidth && b.getBoundingClientRect().right <= 390")
        screenshot(page, f"screens-investments-390-{lang}")


def test_a_wide_table_scrolls_in_its_box_at_a_laptops_width(book, db, live_server, new_page):
    """The GP's package form in English: the holdings' seven columns of inputs are wider than
    1366 px (the page was 1413 px wide); the table scrolls in its box (static/app.js)."""
    packages.invite_gp(db.session, "gp_narrow", PASSWORD, ["SF1"], by="test")
    page = new_page()
    log_in(page, live_server, "gp_narrow")
    page.click("#lang-en")
    page.wait_for_selector("#lang-zh")
    response = page.goto(live_server + "/gp/packages/new?investment=QY-SF1&quarter_end=2025-12-31")
    assert response is not None and response.status == 200
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert page.locator(".table-scroll > table").count() >= 3
    screenshot(page, "gp-package-form-1366-en")

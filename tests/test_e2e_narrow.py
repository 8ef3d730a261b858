"""End-to-end: the screens fit a phone's width (390 px) and a laptop's (1366 px) in a real
browser: a wide table scrolls inside its own box, never widening the whole page (the top bar,
headings and forms would be pushed off the screen and the page would scroll sideways)."""
from __future__ import annotations

import pytest

from portfolio.book import cache
from portfolio.interchange.importing import import_book
from tests.browser import screenshot
from tests.conftest import EXAMPLE_BOOK

pytestmark = pytest.mark.browser

PAGES = ("/?as_of=2025-12-31", "/funds/QY?as_of=2025-12-31", "/funds/QY/compliance", "/investments",
         "/investments/QY-D1", "/sub-funds", "/sub-funds/SF1", "/companies", "/companies/C1", "/history",
         "/history/investments/QY-D1", "/book/", "/committee/", "/funds/QY/forecast")


@pytest.fixture
def book(db):
    cache.clear()
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok


@pytest.mark.parametrize("width", (390, 1366))
def test_no_screen_is_wider_than_the_window(book, logged_in_page, live_server, width):
    page = logged_in_page("manager")
    page.set_viewport_size({"width": width, "height": 844})
    too_wide = {}
    for path in PAGES:
        response = page.goto(live_server + path)
        assert response is not None and response.status == 200, path
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            too_wide[path] = scroll_width
    assert too_wide == {}, too_wide
    if width == 390:
        page.goto(live_server + "/investments")
        table = page.locator("table.grid").first
        # the table itself scrolls: its content is wider than its box, and its box fits the screen
        assert table.evaluate("t => t.scrollWidth > t.clientWidth && t.getBoundingClientRect().right <= 390")
        screenshot(page, "screens-investments-390")

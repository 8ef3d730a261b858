"""The pages' fragments rendered once per book version (portfolio.book.cache.fragment, web/main.py):
never served across languages, users, roles or book versions, and a write shows on the next request.

On the spec's example book, through the screens (the home page and the fund dashboard)."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from portfolio.book import cache, records
from portfolio.interchange.importing import import_book
from tests.conftest import EXAMPLE_BOOK, booked_cash_flow, csrf_token, login, make_user, void_in_force

AS_OF = "2025-12-31"


@pytest.fixture
def book(db):
    result = import_book(db.session, EXAMPLE_BOOK, username="loader")
    assert result.ok, result.errors
    for name, role in (("manager1", "manager"), ("manager2", "manager"), ("viewer", "viewer")):
        make_user(db, name, role)
    db.session.execute(db.text("UPDATE users SET display_name = 'Alice Manager' WHERE username = 'manager1'"))
    db.session.commit()
    cache.clear()
    return db.session


def page(client, username: str, path: str, lang: str = "zh") -> str:
    client.post("/logout")
    assert login(client, username).status_code == 302
    client.get(f"/lang/{lang}")
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def funds_row(html: str, code: str) -> str:
    match = re.search(rf'<tr data-fund="{code}">.*?</tr>', html, re.S)
    assert match, f"no row of {code}"
    return match.group(0)


@pytest.mark.parametrize("path, zh, en", [
    (f"/?as_of={AS_OF}", "按季度走势", "Trends by quarter"),
    (f"/funds/QY?as_of={AS_OF}", "按投资方式", "By mode"),
])
def test_a_fragment_is_never_served_in_another_language(client, book, path, zh, en):
    for lang in ("zh", "en", "zh", "en"):  # each language twice: the second served from the cache
        html = page(client, "manager1", path, lang)
        assert (zh in html) == (lang == "zh") and (en in html) == (lang == "en"), lang


def test_the_user_and_the_request_stay_the_requests_own(app, book):
    """Two users served the same fragments: each page has its own user's name, CSRF token and
    flashed messages; the to-dos are each user's own; the dashboard's settings link its role's."""
    first, second = app.test_client(), app.test_client()
    records.record_valuation(book, {"investment_id": "QY-SF1", "as_of": AS_OF, "fair_value_cny": "330000000",
                                    "method": "gp_nav"}, username="manager1")
    pages = {}
    for client, name in ((first, "manager1"), (second, "manager2"), (first, "manager1")):
        assert login(client, name).status_code in (200, 302)
        pages[name] = client.get(f"/?as_of={AS_OF}").get_data(as_text=True)
    one, two = pages["manager1"], pages["manager2"]
    assert "Alice Manager" in one and "Alice Manager" not in two.split("<main>")[0]  # the user box
    # the CSRF token is the page's own, in its header (the test's app context shares one token on
    # `g` between its clients: the token's value is not what this checks), never inside a fragment
    assert one.count('name="csrf_token"') == 1 and one.index(csrf_token(one)) < one.index("<main>")
    # the draft waits for the other checker, never for its maker, though the figures are the same
    assert 'id="todo-drafts"' in two and 'id="todo-drafts"' not in one
    assert funds_row(one, "QY") == funds_row(two, "QY")
    viewer = app.test_client()
    assert login(viewer, "viewer").status_code in (200, 302)
    dashboard = viewer.get(f"/funds/QY?as_of={AS_OF}").get_data(as_text=True)
    assert 'id="settings-link"' not in dashboard and 'id="by-mode"' in dashboard
    flashed = viewer.get("/funds/QY?as_of=2025-13-45").get_data(as_text=True)
    assert 'class="flash error"' in flashed and 'class="flash error"' not in viewer.get(
        f"/funds/QY?as_of={AS_OF}").get_data(as_text=True)


def test_the_upload_link_of_an_empty_book_by_role(client, db):
    """With no fund, the table offers a writer to upload a book, never a viewer: who may write
    is in the fragment's key."""
    make_user(db, "manager1", "manager")
    make_user(db, "viewer", "viewer")
    cache.clear()
    for name, shown in (("manager1", True), ("viewer", False), ("manager1", True), ("viewer", False)):
        html = page(client, name, "/")
        assert ('href="/book/upload"' in html) == shown, name


def test_a_write_shows_on_the_next_request(client, book):
    before_home = page(client, "manager1", f"/?as_of={AS_OF}")
    before_fund = client.get(f"/funds/QY?as_of={AS_OF}").get_data(as_text=True)
    assert page(client, "manager1", f"/?as_of={AS_OF}") == before_home  # served again, unchanged
    flow = booked_cash_flow(book, {"investment_id": "QY-CO1", "date": "2025-07-01", "type": "distribution",
                                           "amount_cny": "1000000"}, username="manager2")
    after_home = client.get(f"/?as_of={AS_OF}").get_data(as_text=True)
    after_fund = client.get(f"/funds/QY?as_of={AS_OF}").get_data(as_text=True)
    assert funds_row(after_home, "QY") != funds_row(before_home, "QY")  # distributed moved (DPI, TVPI)
    assert "2025-07-01" not in before_fund.split('id="activity"')[1].split("</table>")[0]
    activity = after_fund.split('id="activity"')[1].split("</table>")[0]
    assert "2025-07-01" in activity and "QY-CO1" in activity  # the new flow among the latest
    void_in_force(book, "cash_flow", flow.id, "录入错误", username="manager2", checker="chair")
    voided = client.get(f"/funds/QY?as_of={AS_OF}").get_data(as_text=True)
    assert 'class="void"' in voided.split('id="activity"')[1].split("</table>")[0]
    assert funds_row(client.get(f"/?as_of={AS_OF}").get_data(as_text=True), "QY") == funds_row(before_home, "QY")


def test_a_fragment_of_another_book_version_is_not_served(client, book):
    """The shared cache holds the fragment under its book version: a fragment stored for the
    version before a write is not what the next request gets, in any worker (this process's
    entries forgotten, as in a second worker)."""
    before = page(client, "manager1", f"/funds/QY?as_of={AS_OF}")
    booked_cash_flow(book, {"investment_id": "QY-CO1", "date": "2025-07-01", "type": "distribution",
                                    "amount_cny": "1000000"}, username="manager2")
    cache.clear()  # another worker: nothing in this process
    after = client.get(f"/funds/QY?as_of={AS_OF}").get_data(as_text=True)
    assert after != before and "2025-07-01" in after.split('id="activity"')[1]
    cache.clear()
    assert client.get(f"/funds/QY?as_of={AS_OF}").get_data(as_text=True) == after  # from the shared cache


def test_the_fund_figures_are_those_of_the_date_given(app, book):
    """The fragments are keyed on the date handed to them: their figures are that date's, whatever
    date the session holds (a fragment rendered for one date must never hold another's report)."""
    from flask import session

    from models import Fund
    from web.main import _fund_figures

    earlier = cache.fund_report(book, "QY", dt.date(2024, 12, 31))
    later = cache.fund_report(book, "QY", dt.date(2025, 12, 31))
    assert earlier["summary"] != later["summary"]  # the two dates' figures differ on this book
    with app.test_request_context("/funds/QY"):
        session["as_of"] = "2025-12-31"
        figures = _fund_figures(book.get(Fund, "QY"), "QY", dt.date(2024, 12, 31), "zh")
    assert figures["report"]["summary"] == earlier["summary"]

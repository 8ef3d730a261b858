"""No form answers 5xx, whatever is typed into it: every form the app draws (each role's pages
on the demo book), sent with each of its fields in turn holding a hostile value (numbers past
any column, 1e400, NaN, control characters, 100,000 characters, a date past the calendar's
ends), the other fields as the page filled them in; and the forms that add a record, from a
submission that goes through, with one field at a time hostile (so that it reaches the use
case and the database).

They found: a backup job failing on any book with a staged upload (bytes in JSON), a control
character saved into a name that then broke the book's download, NUL refused by PostgreSQL
in a token's name, a headcount past the integer column (a 500 on PostgreSQL). On SQLite and
PostgreSQL."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.book_files import EXAMPLE_BOOK, credit_code
from tests.conftest import login, make_user
from tests.test_committee import DEAL_FORM
from tests.test_crawl import _urls
from tests.test_crawl import demo as demo  # noqa: F401  (the fixture)

HOSTILE = ["99999999999999999999", "-99999999999999999999", "1e400", "NaN", "-Infinity", "2147483648",
           "9" * 400, "x" * 100_000, "nul\x00", "bell\x07", "'; DROP TABLE users;--", "１２３", "9999-12-31",
           "0001-01-01", " ", "1,2,3", "1e17", "0"]
ROLES = ("admin", "manager", "committee", "gp")


class _Forms(HTMLParser):
    """The page's POST forms: action and fields with the values the page gave them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._current = {"action": a.get("action"), "fields": {}}
            self.forms.append(self._current)
        elif self._current is not None and tag in ("input", "select", "textarea") and a.get("name") \
                and a.get("type") != "file":
            self._current["fields"].setdefault(a["name"], a.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def test_no_form_answers_5xx_whatever_is_typed(app, client, demo, db):
    failures, sent = [], 0
    for role in ROLES:
        client.post("/logout")
        assert login(client, f"{role}1").status_code == 302
        seen: set[str] = set()
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in ("auth.logout", "static"):
                continue
            url = _urls(rule, demo)[0]
            page = client.get(url)
            if page.status_code != 200 or "html" not in (page.content_type or ""):
                continue
            parser = _Forms()
            parser.feed(page.get_data(as_text=True))
            for form in parser.forms:
                action = form["action"] or url
                if action in seen or "logout" in action or "/lang/" in action:
                    continue
                seen.add(action)
                for field in form["fields"]:
                    if field == "csrf_token":
                        continue
                    for value in HOSTILE:
                        db.session.rollback()  # the tests' session is the requests': a refused one starts clean
                        response = client.post(action, data={**form["fields"], field: value})
                        sent += 1
                        if response.status_code >= 500:
                            failures.append((role, action, field, value[:20], response.status_code))
    print(f"\n{sent} hostile forms sent, {len(failures)} server errors")
    assert sent > 5000
    assert not failures, sorted(set(failures))[:40]


# the forms that add a record, each from a submission that goes through, so that a hostile value
# reaches the use case and the database (a page's blank form stops at its first required field)
MORE = ["-1", "0.001", "1.5", "101", "2200", "1899", "2025-02-30", "NOPE", "", "1e-7", "0x10", "1_000", "+5", "٣",
        "1 000", "999999999999999.99", "1000000000000000"]
VALID = {
    "/book/cash-flows/new": {"investment_id": "QY-CO1", "date": "2025-06-30", "type": "distribution",
                             "amount_cny": "12.5", "note": "n", "ref": "R-1"},
    "/book/valuations/new": {"investment_id": "QY-CO1", "as_of": "2025-09-30", "fair_value_cny": "12",
                             "method": "cost"},
    "/book/investments/new": {"id": "QY-NEW9", "fund_code": "QY", "mode": "direct", "target_code": "C1",
                              "date": "2025-06-30", "commitment_cny": "100", "ownership_pct": "1", "round": "A轮",
                              "headcount": "10", "instrument": "equity", "stage": "growth", "revenue_cny": "10",
                              "total_assets_cny": "10", "lead_amount_cny": "10", "alongside_code": ""},
    "/book/companies/new": {"code": "CX1", "name": "企业", "credit_code": credit_code(9), "sector": "materials",
                            "region_code": "330200", "founded": "2020-01-01"},
    "/book/sub-funds/new": {"code": "SFX", "name": "子基金", "manager": "管理人", "size_cny": "1000",
                            "vintage_year": "2024", "sector": "materials", "region_code": "330200", "term_years": "7"},
    "/committee/proposals/new": DEAL_FORM,
    "/committee/meetings/new": {"fund_code": "QY", "date": "2025-12-10", "title": "会议"},
    "/admin/tokens": {"name": "财政局", "fund_code": "", "days": "90"},
    "/admin/users/new": {"username": "newcomer", "role": "viewer", "password": "correct-horse-9x",
                         "display_name": "新人"},
}


def _fresh(valid: dict, n: int) -> dict:
    """The submission with its own identity (a code, an id, a username, a reference not taken),
    so that each one reaches the database rather than stopping at "already exists"."""
    mine = {"code": f"X{n}", "id": f"QY-X{n}", "username": f"user{n}", "ref": f"R-{n}",
            "name": f"{valid.get('name', '')}{n}"}
    out = {k: mine.get(k, v) for k, v in valid.items()}
    if "credit_code" in valid:
        out["credit_code"] = credit_code(1000 + n)
    return out


@pytest.fixture
def example(db):
    from portfolio.interchange.importing import import_book

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok


def test_no_form_answers_5xx_from_a_valid_submission_with_one_field_hostile(app, db, example):
    make_user(db, "adm", "admin")
    client = app.test_client()
    assert login(client, "adm").status_code == 302
    failures, sent = [], 0
    for url, valid in VALID.items():
        # it goes through (a token is shown on the page that answers, not after a redirect)
        assert client.post(url, data=_fresh(valid, 0)).status_code == (200 if url == "/admin/tokens" else 302), url
        for field in valid:
            for value in HOSTILE + MORE:
                db.session.rollback()
                response = client.post(url, data={**_fresh(valid, sent + 1), field: value})
                sent += 1
                if response.status_code >= 500:
                    failures.append((url, field, value[:20], response.status_code))
    print(f"\n{sent} forms sent, one field hostile, {len(failures)} server errors")
    assert not failures, failures[:40]


@pytest.mark.parametrize("body", [lambda valid: {**valid, "note": 12345, "name": 5, "username": 5, "days": [1]},
                                  lambda valid: {k: {"x": 1} for k in valid}, lambda valid: [1, 2]])
def test_a_json_body_sent_to_a_form_is_refused_as_an_empty_form_not_a_500(app, db, example, body):
    """Flask-WTF reads a JSON body as a form's fields: a number, a list or an object where a field
    takes text had answered 500 on nearly every form. A form takes only what forms send; a JSON
    body leaves it empty, refused as missing fields, and nothing is written."""
    import json

    from sqlalchemy import func, select

    from models import AuditEntry

    make_user(db, "adm", "admin")
    make_user(db, "mgr", "manager")
    before = db.session.execute(select(func.count()).select_from(AuditEntry)).scalar()
    clients = {user: app.test_client() for user in ("adm", "mgr")}
    for user, client in clients.items():
        assert login(client, user).status_code == 302
    for action, valid in VALID.items():  # each form as both: the one whose form it is reaches it
        statuses = [client.post(action, data=json.dumps(body(valid)), content_type="application/json").status_code
                    for client in clients.values()]
        assert all(status < 500 for status in statuses) and {200, 400} & set(statuses), (action, statuses)
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(AuditEntry)).scalar() == before

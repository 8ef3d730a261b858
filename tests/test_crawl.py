"""No request ever answers 5xx: every route of the app (`flask routes`) as every role, on the
demo book with a fund that holds nothing, every list on its second and last page and past
it, every date parameter far in the past, far in the future, malformed, and before the
first investment, every id and page number past what a database column holds. Errors under
/api/ answer JSON, whatever they are."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from models import CashFlow, Company, Fund, Investment, SubFund, User, Valuation
from portfolio.committee import meetings, proposals
from portfolio.interchange.demo import write_demo_book
from portfolio.interchange.importing import import_book
from portfolio.interchange.staging import stage_book
from tests.conftest import login, make_user

ROLES = ("viewer", "committee", "manager", "admin", "gp")
DATES = ("0001-01-01", "9999-12-31", "1900-01-01", "2199-12-31", "2000-01-01", "2025-13-45", "garbage", "")
# past any id column and any offset (PostgreSQL: integer and bigint out of range; SQLite: past 64 bits)
HUGE = 10**20
PAGES = ("2", "9999", "0", "-1", "x", str(HUGE))
QUARTERS = ("2025Q4", "1990Q1", "2025Q9", "garbage")
SLOW = {"reports.quarterly_pdf", "committee.resolution_pdf", "book.download",
        "forecast.fund_forecast_accuracy"}  # one visit each (the back-test: a job per date asked)


@pytest.fixture
def demo(db, tmp_path):
    path = tmp_path / "demo.xlsx"
    write_demo_book(path)
    assert import_book(db.session, path, username="demo").ok
    db.session.add(Fund(code="EMPTY", name="空基金", kind="innovation_fund", size_cny=Decimal(10**9),
                        vintage_year=2025, settings={}))
    db.session.commit()
    for role in ROLES:
        make_user(db, f"{role}1", role)
    proposal = proposals.create_proposal(db.session, {
        "title": "测试提案", "fund_code": "QY", "mode": "direct",
        "target_code": db.session.execute(select(Company.code).limit(1)).scalar(),
        "planned_date": "2025-12-15", "amount_cny": "1000000"}, username="manager1")
    meeting = meetings.create_meeting(db.session, {"fund_code": "QY", "date": "2025-12-20", "title": "会议"},
                                       username="admin1")
    # a GP package (the GP portal's pages render one), bound to the GP's first sub-fund
    from portfolio.gp import packages as gp_packages
    from portfolio.gp.template import empty_content

    interest = db.session.execute(select(Investment).where(Investment.mode == "sub_fund").limit(1)).scalar_one()
    gp_packages.bind_sub_funds(db.session, db.session.execute(select(User).where(User.username == "gp1")).scalar_one(),
                               [interest.sub_fund_code], by="test")
    gp_packages.save_package(db.session, interest.id, dt.date(2025, 12, 31), empty_content(), username="gp1",
                             allowed=None)
    first = lambda model, column: db.session.execute(select(column).order_by(column).limit(1)).scalar()  # noqa: E731
    # a pending staged import (its preview page), one company renamed
    from tests.test_staged_imports import edited, exported
    staged = stage_book(db.session, io.BytesIO(edited(exported(db.session), "companies", {"code": ids_company(db)},
                                                      {"name": "改名公司"})), username="manager1", filename="b.xlsx")
    return {
        "change_set_id": staged.change_set.id,
        "proposal_id": proposal.id, "meeting_id": meeting.id,
        "flow_id": first(CashFlow, CashFlow.id), "valuation_id": first(Valuation, Valuation.id),
        "user_id": first(User, User.id), "attachment_id": 1,
        "inv_id": first(Investment, Investment.id),
        "company": first(Company, Company.code), "sub_fund": first(SubFund, SubFund.code),
    }


def ids_company(db) -> str:
    return db.session.execute(select(Company.code).order_by(Company.code).limit(1)).scalar()


def _urls(rule, ids) -> list[str]:
    """The addresses to try for one route pattern: each sensible value of its path parameters."""
    args = sorted(rule.arguments)
    if not args:
        return [rule.rule]
    choices = {
        "code": {"main.company": [ids["company"], "NOPE"], "main.sub_fund": [ids["sub_fund"], "NOPE"],
                 "auth.set_language": ["zh", "en", "xx"]}.get(rule.endpoint, ["QY", "TS", "EMPTY", "NOPE"]),
        "fund": ["QY", "EMPTY", "NOPE"], "quarter": list(QUARTERS),
        "inv_id": [ids["inv_id"], "NOPE"], "entity": ["investments"], "key": [ids["inv_id"]],
        "proposal_id": [ids["proposal_id"], 999999, HUGE], "meeting_id": [ids["meeting_id"], 999999, HUGE],
        "flow_id": [ids["flow_id"], 999999, HUGE], "valuation_id": [ids["valuation_id"], 999999, HUGE],
        "user_id": [ids["user_id"], 999999, HUGE], "attachment_id": [1, 999999, HUGE], "filename": ["style.css"],
        "token_id": [1, 999999, HUGE], "change_set_id": [ids["change_set_id"], 999999, HUGE],
        "job_id": [1, 999999, HUGE], "package_id": [1, 999999, HUGE],
    }
    urls = [rule.rule]
    for name in args:
        values = choices[name][:1] if rule.endpoint in SLOW else choices[name]
        urls = [u.replace(f"<{part}>", str(v)) for u in urls for v in values
                for part in [p for p in _parts(rule.rule) if p.endswith(name)]]
    return urls


def _parts(pattern: str) -> list[str]:
    return [p.split(">")[0] for p in pattern.split("<")[1:]]


def _queries(endpoint: str) -> list[dict]:
    if endpoint in SLOW:
        return [{}]
    out: list[dict] = [{}]
    out += [{"page": p} for p in PAGES]
    out += [{"as_of": d} for d in DATES]
    out += [{"since": d, "until": d} for d in DATES[:6]]
    out += [{"sort": "-nav"}, {"sort": "nonsense"}, {"status": "fail", "rule": "nope", "fund": "NOPE"}]
    out += [{"change_set": "1"}, {"change_set": "99999999999"}, {"change_set": "x"}]
    # the list filters (and their exports): unknown codes, a hostile search, an unknown investment
    out += [{"mode": "nope", "sector": "nope", "type": "nope", "region": "x", "q": "=1+2", "investment": "NOPE",
             "entity": "nope", "action": "import", "user": "nobody"}]
    return out


def test_no_route_answers_5xx_for_any_role(app, client, demo):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    requests = 0
    failures = []
    for role in ROLES:
        client.post("/logout")
        assert login(client, f"{role}1").status_code == 302
        for rule in sorted(rules, key=lambda r: r.rule):
            if rule.endpoint in ("auth.logout", "auth.login"):
                continue
            for url in _urls(rule, demo):
                variants = _queries(rule.endpoint) if "GET" in rule.methods and role in ("viewer", "admin") else [{}]
                for query in variants:
                    if "GET" in rule.methods:
                        response = client.get(url + ("?" + urlencode(query) if query else ""))
                        requests += 1
                        if response.status_code >= 500:
                            failures.append((role, "GET", url, query, response.status_code))
                        if url.startswith("/api/") and response.status_code >= 400:
                            assert response.is_json, (url, query)
                    if "POST" in rule.methods and not query:
                        response = client.post(url, data={})
                        requests += 1
                        if response.status_code >= 500:
                            failures.append((role, "POST", url, {}, response.status_code))
        # a date that was refused is not remembered: the next page still works (a GP reaches
        # only its portal: the fund's page is refused, not broken)
        assert client.get("/funds/QY").status_code == (403 if role == "gp" else 200)
    print(f"\ncrawled {len(rules)} route patterns × {len(ROLES)} roles: {requests} requests, "
          f"{len(failures)} server errors")
    assert not failures, sorted({(m, u, tuple(q.items())) for _r, m, u, q, _s in failures})[:40]


def test_a_date_out_of_range_is_refused_and_never_remembered(client, demo):
    login(client, "viewer1")
    page = client.get("/funds/QY?as_of=0001-01-01", follow_redirects=True).get_data(as_text=True)
    assert "日期应在 1900-01-01 至 2199-12-31 之间" in page
    with client.session_transaction() as session:
        assert session.get("as_of") in (None, dt.date.today().isoformat()) or session.get("as_of", "")[:4] != "0001"
    for url in ("/funds/QY", "/funds/TS", "/sub-funds", "/history?until=9999-12-31"):
        assert client.get(url).status_code == 200, url


def test_the_api_answers_json_for_every_error(client, demo):
    login(client, "viewer1")  # even a role that writes nothing gets the router's 405 for a POST
    for method, url, status in (("POST", "/api/v1/funds/QY/report", 405), ("GET", "/api/v1/nope", 404),
                                ("GET", "/api/v1/funds/NOPE/report", 404),
                                ("GET", "/api/v1/funds/QY/report?as_of=9999-12-31", 400)):
        response = client.open(url, method=method)
        assert response.status_code == status and response.is_json, (url, response.status_code)
        assert response.get_json()["status"] == status


FILTERS = ("q", "fund", "sector", "investment", "index", "entity", "user", "action", "key", "mode", "type", "region",
           "status", "rule", "sort", "quarter", "as_of", "change_set", "unit", "pacing", "backtest", "quarter_end", "page")


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_a_control_character_in_an_address_is_a_400_on_every_route(app, client, demo, db, role):
    """NUL (or any control character) in a path parameter or a query parameter is refused
    before anything reads it: PostgreSQL refuses NUL in text, and every page with a code in
    its address or a filter had answered 500 for it (/funds/%00, /companies?q=%00)."""
    assert login(client, f"{role}1").status_code == 302
    failures, asked = [], 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = rule.rule
        for part in _parts(rule.rule):
            url = url.replace(f"<{part}>", "1" if part.startswith("int:") else "%00x")
        queries = [f"?{name}=%00" for name in FILTERS[:3]] + ["?" + "&".join(f"{name}=a%01b" for name in FILTERS)]
        for query in ([""] if "%00" in url else []) + queries:
            db.session.rollback()  # the tests' session is the requests'
            response = client.get(url + query)
            asked += 1
            if response.status_code != 400:
                failures.append((url + query[:20], response.status_code))
    assert asked > 300
    assert not failures, failures[:40]

"""The home page (issue 15, item 7): to-dos by role, alerts, and each fund's figures by quarter.

On the spec's example book (its cash flows and valuations are the facts the alerts are checked
against), on a real database; the trend is checked against the report computed at each quarter end."""
from __future__ import annotations

import datetime as dt

import pytest

from models import Meeting
from portfolio.book import cache
from portfolio.book.reading import load_book
from portfolio.book.records import record_valuation
from portfolio.book.todos import todos
from portfolio.committee import meetings, proposals
from portfolio.figures.alerts import fund_alerts, is_stale, quarter_start
from portfolio.figures.report import compute_report
from portfolio.figures.trend import quarter_ends, trend
from portfolio.formatting import local_today
from portfolio.interchange.importing import import_book
from portfolio.interchange.staging import stage_book
from tests.conftest import EXAMPLE_BOOK, login, make_user
from web.auth import PERMISSIONS

DEAL = {"title": "甬材新材料 B 轮", "fund_code": "QY", "mode": "direct", "target_code": "C3",
        "planned_date": "2025-12-15", "amount_cny": "30000000", "instrument": "equity", "round": "B轮",
        "stage": "growth", "ownership_pct": "5"}


@pytest.fixture
def book(db):
    result = import_book(db.session, EXAMPLE_BOOK, username="loader")
    assert result.ok, result.errors
    for name, role in (("manager1", "manager"), ("manager2", "manager"), ("chair", "admin"),
                       ("viewer", "viewer"), *((f"committee{i}", "committee") for i in range(1, 8))):
        make_user(db, name, role)
    return db.session


def home(client, username: str, lang: str = "zh") -> str:
    client.post("/logout")
    assert login(client, username).status_code == 302
    client.get(f"/lang/{lang}")
    response = client.get("/?as_of=2025-12-31")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def waiting(session, username: str, role: str):
    return todos(session, username, PERMISSIONS[role], local_today())


def test_a_draft_is_a_to_do_for_another_checker_not_for_its_maker(client, book):
    draft = record_valuation(book, {"investment_id": "QY-SF1", "as_of": "2025-12-31", "fair_value_cny": "330000000",
                                    "method": "gp_nav"}, username="manager1")
    assert [v.id for v in waiting(book, "manager2", "manager").drafts] == [draft.id]
    assert waiting(book, "manager1", "manager").drafts == []
    assert waiting(book, "committee1", "committee").counts.get("drafts") is None  # not a checker's role

    page = home(client, "manager2")
    assert 'id="todo-drafts"' in page and f'data-valuation="{draft.id}"' in page
    page = home(client, "manager1")
    assert 'id="todo-drafts"' not in page and f'data-valuation="{draft.id}"' not in page
    assert 'id="todos-none"' in page
    assert 'id="todos"' not in home(client, "viewer")  # a viewer has nothing to do here


def test_a_vote_waits_for_a_present_member_until_cast(client, book):
    proposal = proposals.create_proposal(book, DEAL, username="manager1")
    proposals.submit_proposal(book, proposal.id, username="manager1")
    assert [p.id for p in waiting(book, "chair", "admin").to_schedule] == [proposal.id]
    today = local_today()
    meeting = meetings.create_meeting(book, {"fund_code": "QY", "date": today.isoformat(), "title": "第 12 次投委会"},
                                      username="chair")
    meetings.schedule_proposal(book, proposal.id, meeting.id, username="chair")
    meetings.record_attendance(book, meeting.id, [f"committee{i}" for i in range(1, 7)], username="chair")
    meetings.declare_recusal(book, proposal.id, "committee2", "持有标的公司股份", username="chair")

    assert [(p.id, m.id) for p, m in waiting(book, "committee1", "committee").votes] == [(proposal.id, meeting.id)]
    assert waiting(book, "committee2", "committee").votes == []  # recused
    assert waiting(book, "committee7", "committee").votes == []  # recorded absent
    assert [m.id for m, _n in waiting(book, "committee7", "committee").meetings] == [meeting.id]
    assert waiting(book, "chair", "admin").to_schedule == []

    page = home(client, "committee1")
    assert 'id="todo-votes"' in page and f'data-proposal="{proposal.id}"' in page
    assert f'data-meeting="{meeting.id}"' in page and "第 12 次投委会" in page
    assert 'id="todo-drafts"' not in page

    meetings.cast_vote(book, proposal.id, "approve", None, username="committee1")
    assert waiting(book, "committee1", "committee").votes == []
    assert 'id="todo-votes"' not in home(client, "committee1")
    # a meeting in the past is no longer coming; its votes still wait
    book.get(Meeting, meeting.id).date = today - dt.timedelta(days=1)
    book.commit()
    assert waiting(book, "committee3", "committee").meetings == []
    assert [p.id for p, _m in waiting(book, "committee3", "committee").votes] == [proposal.id]
    # a meeting to come is a meeting coming, its vote not yet waiting
    book.get(Meeting, meeting.id).date = today + dt.timedelta(days=7)
    book.commit()
    assert waiting(book, "committee3", "committee").votes == []
    assert [(m.id, n) for m, n in waiting(book, "committee3", "committee").meetings] == [(meeting.id, 1)]


def test_a_staged_change_set_waits_for_another_approver(client, db):
    make_user(db, "manager1", "manager")
    make_user(db, "manager2", "manager")
    make_user(db, "committee1", "committee")
    staged = stage_book(db.session, EXAMPLE_BOOK, username="manager1").change_set
    assert staged is not None
    assert [c.id for c in waiting(db.session, "manager2", "manager").change_sets] == [staged.id]
    assert waiting(db.session, "manager1", "manager").change_sets == []
    assert waiting(db.session, "committee1", "committee").change_sets == []
    page = home(client, "manager2")
    assert 'id="todo-change-sets"' in page and f'data-change-set="{staged.id}"' in page
    assert 'id="todo-change-sets"' not in home(client, "manager1")


def test_alerts_failed_rules_stale_valuations_and_idle_commitments(book):
    data = load_book(book)
    as_of = dt.date(2025, 12, 31)
    report = compute_report(data, "QY", as_of)
    alerts = fund_alerts(data, report, as_of)
    assert alerts["failed"] == [c for c in report["compliance"] if c["status"] == "fail"]
    # the example book: QY-SF1 last valued 2025-09-30, QY-CO1 2025-06-30, QY-D1 2025-12-31
    assert sorted(i["id"] for i in alerts["stale"]) == ["QY-CO1", "QY-SF1"]
    assert quarter_start(as_of) == dt.date(2025, 10, 1) and not is_stale(None, quarter_start(as_of))
    # QY-SF1 (commitment 500m) was called in 2023-03, 2024-03 and 2025-11; the others are fully called
    assert alerts["idle"] == []  # called six weeks before D
    at = dt.date(2024, 12, 31)  # nine months after the second call: a warning
    idle = fund_alerts(data, compute_report(data, "QY", at), at)["idle"]
    assert [(u["id"], u["months"], u["status"]) for u in idle] == [("QY-SF1", 9, "warn")]
    at = dt.date(2025, 6, 30)  # fifteen full months (2024-03-31 to 2025-06-30, June's last day ending the
    idle = fund_alerts(data, compute_report(data, "QY", at), at)["idle"]  # month: 民法典 art. 202): the trigger
    assert [(u["id"], u["months"], u["status"]) for u in idle] == [("QY-SF1", 15, "trigger")]
    assert idle[0]["unfunded"] == 200_000_000
    assert fund_alerts(data, compute_report(data, "QY", dt.date(2024, 9, 30)), dt.date(2024, 9, 30))["idle"] == []


def test_the_home_alert_and_the_quarterly_report_count_the_same_stale_valuations(db, tmp_path):
    """The demo's exited deal (NAV nought, last valued before the quarter) had been 滞后 in the
    quarterly report but not on the home page (3 against 2 for QY 2025Q4): one definition now,
    a holding still held whose valuation is dated before the quarter."""
    from portfolio.interchange.demo import write_demo_book
    from portfolio.reports.quarterly import build_quarterly

    assert import_book(db.session, write_demo_book(tmp_path / "demo.xlsx"), username="demo").ok
    data = load_book(db.session)
    as_of = dt.date(2025, 12, 31)
    alerts = fund_alerts(data, compute_report(data, "QY", as_of), as_of)
    quarterly = build_quarterly(data, "QY", "2025Q4")
    flagged = sorted(row["id"] for row in quarterly["schedule"] if row["stale"])
    assert flagged == sorted(i["id"] for i in alerts["stale"]) and quarterly["stale_count"] == len(flagged) > 0
    assert all(row["nav"] > 0 for row in quarterly["schedule"] if row["stale"])
    assert any(row["nav"] == 0 and row["valuation_as_of"] and row["valuation_as_of"] < dt.date(2025, 10, 1)
               for row in quarterly["schedule"])  # an exit or write-off valued before the quarter: not stale


def test_the_trend_is_the_report_at_each_quarter_end(book):
    data = load_book(book)
    as_of = dt.date(2025, 12, 31)
    points = trend(data, "QY", as_of)
    ends = [p["as_of"] for p in points]
    assert ends == quarter_ends(dt.date(2023, 3, 31), as_of) and ends[0] == dt.date(2023, 3, 31)
    assert ends[-1] == as_of and len(ends) == 12
    paid_before = distributed_before = 0
    for point in points:
        summary = compute_report(data, "QY", point["as_of"])["summary"]
        assert {k: point[k] for k in summary} == summary, point["as_of"]
        assert point["calls"] == summary["paid_in"] - paid_before
        assert point["distributions"] == summary["distributed"] - distributed_before
        paid_before, distributed_before = summary["paid_in"], summary["distributed"]
    # the flows of the book, quarter by quarter: three calls of QY-SF1, one of QY-D1 and QY-CO1
    by_quarter = {p["as_of"]: (p["calls"], p["distributions"]) for p in points}
    assert by_quarter[dt.date(2025, 12, 31)] == (100_000_000, 0)
    assert by_quarter[dt.date(2025, 6, 30)] == (0, 20_000_000)
    assert sum(p["calls"] for p in points) == 150_000_000 * 2 + 100_000_000 + 100_000_000 + 30_000_000
    # kept in the shared cache for every worker, exactly (Decimal amounts, dates, floats)
    cache.clear()
    assert cache.fund_trend(book, "QY", as_of) == points
    cache.clear()
    assert cache.shared_get(book, "trend", "QY", as_of.isoformat()) is not None
    assert cache.fund_trend(book, "QY", as_of) == points  # read back from the shared entry
    # mid-quarter: the last point is D itself
    assert quarter_ends(dt.date(2025, 7, 1), dt.date(2025, 11, 20)) == [dt.date(2025, 9, 30), dt.date(2025, 11, 20)]


def test_the_home_page_shows_trends_and_alerts_in_both_languages(client, book):
    cache.clear()
    for lang in ("zh", "en"):
        page = home(client, "manager1", lang)
        assert 'id="trend-QY"' in page and page.count('class="chart trend"') == 1
        assert page.count('class="chart flows"') == 1
        assert 'data-quarter="2025-12-31"' in page and 'data-quarter="2023-03-31"' in page
        assert 'id="alerts"' in page and 'data-fund="QY"' in page
        assert "QY-CO1 2025-06-30" in page  # a stale valuation
    assert "Trends by quarter" in page and "Alerts" in page and "按季度走势" not in page


def test_a_warm_page_costs_few_queries_and_counts_the_to_dos_at_once(app, client, book, db):
    """Warm, each page reads the session's user and the book version in one query (web.auth's
    load_user), and the home page counts every kind of to-do in one more (portfolio.book.todos),
    reading the rows of a kind only when one waits; the late GP packages' check is the third."""
    from sqlalchemy import event

    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def warm(path: str) -> list[str]:
        assert client.get(path).status_code == 200  # the first visit computes and keeps the fragments
        statements.clear()
        assert client.get(path).status_code == 200
        return list(statements)

    assert login(client, "manager1").status_code == 302
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        home_page = warm("/?as_of=2025-12-31")
        assert len(home_page) == 3, home_page
        assert "users" in home_page[0] and "audit_log" in home_page[0]  # the user and the version together
        assert len(warm("/funds/QY?as_of=2025-12-31")) == 2
        assert len(warm("/api/v1/funds/QY/report?as_of=2025-12-31")) == 1
        # a draft waiting for this checker: its rows are read too (one query more), and shown
        draft = record_valuation(book, {"investment_id": "QY-SF1", "as_of": "2025-12-31",
                                        "fair_value_cny": "330000000", "method": "gp_nav"}, username="manager2")
        statements.clear()
        page = client.get("/?as_of=2025-12-31").get_data(as_text=True)
        assert f'data-valuation="{draft.id}"' in page
        assert any("FROM valuations" in s and "count" not in s for s in statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    checker = {"flow_drafts": 0, "drafts": 1, "flow_voids": 0, "valuation_voids": 0, "record_corrections": 0,
               "corrections": 0, "settings": 0,
               "new_investments": 0, "gp_reopenings": 0, "change_sets": 0, "gp_packages": 0}
    assert waiting(book, "manager1", "manager").counts == checker
    assert waiting(book, "chair", "admin").counts == {**checker, "meetings": 0, "to_schedule": 0}
    assert waiting(book, "committee1", "committee").counts == {"votes": 0, "meetings": 0}
    assert waiting(book, "viewer", "viewer").counts == {}


def test_the_drafts_page_lists_everyones_drafts_and_voids_the_to_dos_someone_elses(client, book):
    """The drafts page (web/book.pending) and the home's to-dos ask the same queries
    (todos.drafts_waiting, voids_waiting): the page with no user (everyone's, the viewer's own
    too, in the same order), the to-dos without the viewer's own."""
    import re

    from sqlalchemy import select

    from models import CashFlow, Valuation
    from portfolio.book import records
    from portfolio.book.todos import drafts_waiting, voids_waiting

    mine = record_valuation(book, {"investment_id": "QY-SF1", "as_of": "2025-12-31", "fair_value_cny": "330000000",
                                   "method": "gp_nav"}, username="manager1")
    theirs = record_valuation(book, {"investment_id": "QY-CO1", "as_of": "2025-11-30", "fair_value_cny": "1000",
                                     "method": "cost"}, username="manager2")
    flow = records.record_cash_flow(book, {"investment_id": "QY-D1", "date": "2025-12-15", "type": "distribution",
                                           "amount_cny": "1000"}, username="manager1")
    approved = book.execute(select(Valuation).where(Valuation.approved_at.is_not(None))
                            .order_by(Valuation.id)).scalars().all()
    approved_flow = book.execute(select(CashFlow).where(CashFlow.approved_at.is_not(None))
                                 .order_by(CashFlow.id)).scalars().first()
    records.void_valuation(book, approved[0].id, {"reason": "重复"}, username="manager1")
    records.void_valuation(book, approved[1].id, {"reason": "重复"}, username="manager2")
    records.void_cash_flow(book, approved_flow.id, {"reason": "退回"}, username="manager1")

    def ids(query) -> list[int]:
        return [r.id for r in book.execute(query, {"username": "manager1"}).scalars()]

    # no user: no filter on the person at all (not "entered by someone or nobody")
    assert "entered_by" not in str(drafts_waiting(Valuation, Valuation.as_of, None).whereclause)
    assert "void_requested_by" not in str(voids_waiting(CashFlow, None).whereclause)
    assert ids(drafts_waiting(Valuation, Valuation.as_of, None)) == [theirs.id, mine.id]  # by date
    assert ids(drafts_waiting(Valuation, Valuation.as_of)) == [theirs.id]
    assert ids(drafts_waiting(CashFlow, CashFlow.date, None)) == [flow.id]
    assert ids(drafts_waiting(CashFlow, CashFlow.date)) == []
    assert ids(voids_waiting(Valuation, None)) == [approved[0].id, approved[1].id]
    assert ids(voids_waiting(Valuation)) == [approved[1].id]
    assert ids(voids_waiting(CashFlow, None)) == [approved_flow.id]

    home(client, "manager1")
    page = client.get("/book/pending").get_data(as_text=True)
    assert re.findall(r'data-valuation="(\d+)"', page) == [str(theirs.id), str(mine.id)]
    assert re.findall(r'data-flow="(\d+)"', page) == [str(flow.id)]
    assert re.findall(r'data-valuation-void="(\d+)"', page) == [str(approved[0].id), str(approved[1].id)]
    assert re.findall(r'data-flow-void="(\d+)"', page) == [str(approved_flow.id)]
    assert [v.id for v in waiting(book, "manager1", "manager").drafts] == [theirs.id]
    assert [v.id for v in waiting(book, "manager1", "manager").valuation_voids] == [approved[1].id]

"""flask demo: a deterministic demo book for both funds, imported like a user's book, and demo
users of every role."""
from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest
import pyxirr
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from models import (
    AuditEntry,
    Company,
    Fund,
    Investment,
    Meeting,
    MeetingAttendance,
    Proposal,
    Recusal,
    User,
    Valuation,
    Vote,
)
from portfolio.book.reading import build_report, load_book
from portfolio.formatting import figure, last_quarter_end, local_today, quarter
from portfolio.gp import packages
from portfolio.interchange.demo import (
    DEMO_MEETING_DATE,
    LAST,
    demo_book,
    demo_index_levels,
    demo_meeting,
    shifted,
    story_months,
)
from portfolio.vocabulary import credit_code_is_valid
from tests.conftest import login


def _passwords(output: str) -> dict[str, str]:
    """The passwords the demo printed: '  user  role  password' (a user who exists is printed
    with a note in brackets instead)."""
    from web.cli.book import DEMO_USERS

    users = {username for username, _role, _name in DEMO_USERS}
    found = {}
    for line in output.splitlines():
        parts = line.split()
        if line.startswith("  ") and len(parts) >= 3 and parts[0] in users and not parts[-1].endswith(("）", ")")):
            found[parts[0]] = parts[-1]
    return found


def test_demo_loads_both_funds_and_users(runner, db, client, tmp_path):
    result = runner.invoke(args=["demo", "--book", str(tmp_path / "demo.xlsx")])
    assert result.exit_code == 0, result.output
    passwords = _passwords(result.output)
    roles = dict(db.session.execute(select(User.username, User.role)).all())
    assert set(passwords) == set(roles)
    assert sorted(roles.values()).count("committee") == 7 and roles["admin"] == "admin"
    assert {"manager1", "manager2", "viewer"} <= set(roles)
    assert roles["gp1"] == "gp" and login(client, "gp1", passwords["gp1"]).status_code == 302
    assert client.get("/").headers["Location"].endswith("/gp/")  # the demo GP lands on its portal (SF04)
    portal = client.get("/gp/").get_data(as_text=True)
    assert 'data-sub-fund="SF04"' in portal
    # SF04's GP reports a quarter late: the last quarter's package is asked for (overdue 60 days after
    # the quarter end), the one before is in the book
    until = last_quarter_end(local_today(), strictly=True)
    before = last_quarter_end(until, strictly=True)
    asked = {r.quarter_end: r for r in packages.requests(db.session, packages.interests(db.session, ["SF04"]),
                                                         local_today())}
    assert not asked[until].booked and asked[before].booked
    assert asked[until].overdue == (asked[until].deadline < local_today())
    row = re.search(rf'<tr data-request="QY-SF04:{until}"[^>]*>(.*?)</tr>', portal, re.S)
    assert row and ("已逾期" in row.group(1)) == asked[until].overdue and "data-booked" not in row.group(1)
    assert re.search(rf'<tr data-request="QY-SF04:{before}"[^>]*>.*?data-booked="1"', portal, re.S)
    client.post("/logout")
    assert login(client, "committee3", passwords["committee3"]).status_code == 302

    funds = {f.code: f for f in db.session.execute(select(Fund)).scalars()}
    assert funds["QY"].kind == "innovation_fund" and funds["TS"].kind == "angel_guidance"
    assert funds["QY-CL"].parent_code == "QY"
    companies = db.session.execute(select(Company)).scalars().all()
    assert all(credit_code_is_valid(c.credit_code) for c in companies)
    local = sum(c.region_code.startswith("3302") for c in companies)
    assert local > len(companies) / 2 and local < len(companies)
    modes = db.session.execute(select(Investment.mode, func.count()).group_by(Investment.mode)).all()
    modes = dict(modes)
    assert modes["direct"] + modes["co_invest"] >= 50 and modes["sub_fund"] >= 20
    methods = {m for (m,) in db.session.execute(select(Valuation.method).distinct())}
    assert {"exited", "write_off", "gp_nav"} <= methods
    # the story told to the last quarter ended (the default): the book as recent as a fund's own
    assert db.session.scalar(select(func.max(Valuation.as_of))) == until
    angel = db.session.execute(select(Investment).where(Investment.fund_code == "TS",
                                                        Investment.mode == "direct")).scalars().all()
    assert angel and all(i.headcount is not None and i.total_assets_cny is not None for i in angel)

    # a non-trivial report: positive IRR for the whole book, and some holdings under cost
    book = load_book(db.session)
    flows = book.flows
    signed = flows["amount_fen"].where(flows["type"] == "distribution", -flows["amount_fen"])
    latest = book.valuations.sort_values("as_of").groupby("investment_id").last()
    nav = int(latest["fair_value_fen"].sum())
    irr = pyxirr.xirr(list(flows["date"]) + [until], [int(v) for v in signed] + [nav])
    assert irr > 0
    paid = flows[flows["type"] == "contribution"].groupby("investment_id")["amount_fen"].sum()
    losers = (latest["fair_value_fen"] < paid.reindex(latest.index)).sum()
    assert losers >= 5


def test_demo_again_keeps_passwords_and_changes_nothing(runner, db, client, tmp_path):
    """Issue 15: a re-run does not rotate the demo passwords (nobody is locked out); it
    loads the index series once, so PME can be shown."""
    first = runner.invoke(args=["demo", "--book", str(tmp_path / "d.xlsx")])
    passwords = _passwords(first.output)
    hashes = dict(db.session.execute(select(User.username, User.password_hash)).all())
    second = runner.invoke(args=["demo", "--book", str(tmp_path / "d.xlsx")], env={"PORTFOLIO_LANG": "en"})
    assert second.exit_code == 0, second.output
    assert re.search(r"Valuation\s+0\s+\d+\s+0", second.output)  # the sheet by its English name
    assert "Index CSI300: 0 new, 0 changed" in second.output and _passwords(second.output) == {}
    assert "  viewer       Viewer     (exists; password unchanged)" in second.output
    db.session.expire_all()
    after = dict(db.session.execute(select(User.username, User.password_hash)).all())
    assert after == hashes
    assert login(client, "viewer", passwords["viewer"]).status_code == 302
    html = client.get("/reports/QY/2025Q4?index=CSI300").get_data(as_text=True)
    assert "KS-PME" in html and "Direct Alpha" in html
    # the committee's history is there once (the re-run added no second meeting)
    assert "投委会历史：提案 #" in first.output and "  viewer       只读" in first.output  # Chinese by default
    assert "Committee history: exists (unchanged)" in second.output
    assert "Committee meeting to come: exists (unchanged)" in second.output
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 2  # the past one, the one to come


def test_demo_committee_history(runner, db, client, tmp_path):
    """Issue 15: a past meeting with attendance, a recusal, votes and a signed 决议, made through
    the committee's use cases; the approval is an investment in the book."""
    result = runner.invoke(args=["demo", "--book", str(tmp_path / "d.xlsx"), "--until", "2025Q4"])
    assert result.exit_code == 0, result.output
    passwords = _passwords(result.output)
    meeting, coming = db.session.execute(select(Meeting).order_by(Meeting.date)).scalars().all()
    assert meeting.date == DEMO_MEETING_DATE < dt.date.today() < coming.date and meeting.fund_code == "QY"
    proposal, next_one = db.session.execute(select(Proposal).order_by(Proposal.id)).scalars().all()
    assert next_one.status == "scheduled" and next_one.meeting_id == coming.id
    assert proposal.status == "decided" and proposal.decision == "approved_with_conditions"
    assert proposal.meeting_id == meeting.id and proposal.decided_by == "admin" and proposal.proposer == "manager1"
    assert proposal.conditions.startswith("决议：")
    present = dict(db.session.execute(select(MeetingAttendance.member, MeetingAttendance.present)).all())
    assert sorted(m for m, p in present.items() if not p) == ["committee7"] and len(present) == 7
    recusals = db.session.execute(select(Recusal)).scalars().all()
    assert [r.member for r in recusals] == ["committee4"] and recusals[0].reason
    votes = {v.member: v.choice for v in db.session.execute(select(Vote)).scalars()}
    assert set(votes) == {"committee1", "committee2", "committee3", "committee5", "committee6"}
    assert sorted(votes.values()) == ["abstain", "approve", "approve", "approve", "approve"]
    investment = db.session.get(Investment, proposal.investment_id)
    assert investment is not None and investment.fund_code == "QY" and investment.commitment_cny == 20_000_000
    # dated when the meeting happened (Beijing time, stored in UTC), not when the demo ran
    on_the_day = dt.datetime(2025, 11, 20, 2, 0)  # 10:00 in Beijing
    vote_times = {v.cast_at for v in db.session.execute(select(Vote)).scalars()}
    assert vote_times == {on_the_day + dt.timedelta(minutes=80)}
    assert recusals[0].declared_at == on_the_day + dt.timedelta(minutes=5)
    assert proposal.submitted_at < meeting.created_at < on_the_day < proposal.decided_at < on_the_day.replace(hour=4)
    assert next_one.created_at.date() > dt.date(2025, 11, 20)  # the meeting to come is not backdated
    actions = {a for (a,) in db.session.execute(select(AuditEntry.action).where(
        AuditEntry.entity.in_(("proposals", "meetings", "votes", "recusals"))))}
    assert {"create", "submit", "schedule", "attendance", "recuse", "vote", "decide", "link"} <= actions
    # the 决议 on screen, with the recusal and the votes
    assert login(client, "committee1", passwords["committee1"]).status_code == 302
    html = client.get(f"/committee/proposals/{proposal.id}/resolution").get_data(as_text=True)
    assert proposal.conditions in html and "曾任标的公司技术顾问" in html
    # the member's home page: the meeting to come, with the deal on its agenda
    html = client.get("/").get_data(as_text=True)
    assert f'data-meeting="{coming.id}"' in html and f'data-meeting="{meeting.id}"' not in html


@pytest.mark.parametrize("lang, last, sign", [("zh", "记录人", "主任委员签字"), ("en", "Recorded by", "Chair's signature")])
def test_demo_resolution_pdf_keeps_its_signatures_on_its_one_page(runner, db, client, tmp_path, lang, last, sign):
    """The demo's 决议 (seven members, a recusal, comments, conditions) printed its record line
    and signature lines alone on a second page; the layout is tighter and the closing block
    (decision, conditions, record, signatures) is never split, so it is one page."""
    result = runner.invoke(args=["demo", "--book", str(tmp_path / "d.xlsx")])
    assert result.exit_code == 0, result.output
    proposal = db.session.execute(select(Proposal).order_by(Proposal.id)).scalars().first()
    assert login(client, "committee1", _passwords(result.output)["committee1"]).status_code == 302
    client.get(f"/lang/{lang}")
    pdf = client.get(f"/committee/proposals/{proposal.id}/resolution.pdf")
    assert pdf.status_code == 200
    path = tmp_path / "resolution.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    pages = [page for page in text.split("\f") if page.strip()]
    assert len(pages) == 1, [page[-300:] for page in pages]
    conditions_end = proposal.conditions.split()[-1][-8:]
    assert last in pages[0] and sign in pages[0] and conditions_end in pages[0]


def test_demo_book_is_deterministic():
    assert demo_book() == demo_book()
    sizes = {sheet: len(rows) for sheet, rows in demo_book().items()}
    assert sizes["sub_funds"] == 20 and sizes["funds"] == 3


def test_demo_index_levels():
    daily = demo_index_levels()
    assert daily[0][0] == dt.date(2018, 1, 2) and daily[-1][0] <= dt.date(2026, 12, 31)
    assert all(d.weekday() < 5 for d, _ in daily) and all(v > 0 for _, v in daily)
    quarterly = demo_index_levels(daily=False)
    assert [d for d, _ in quarterly[:2]] == [dt.date(2018, 3, 31), dt.date(2018, 6, 30)]
    assert len(quarterly) == 36 and demo_index_levels() == daily


def test_demo_pme_on_the_fund_page_and_in_the_report(runner, db, client, tmp_path):
    """Issue 15: the demo's funds compare themselves with CSI300 by default (a fund setting); the
    fund page shows the report's PME and lets the benchmark be chosen (or none)."""
    result = runner.invoke(args=["demo", "--book", str(tmp_path / "d.xlsx")])
    assert result.exit_code == 0, result.output
    passwords = _passwords(result.output)
    fund = db.session.get(Fund, "QY")
    assert fund.settings["pme_index"] == "CSI300"
    assert login(client, "viewer", passwords["viewer"]).status_code == 302
    as_of = dt.date(2025, 12, 31)
    expected = build_report(db.session, "QY", as_of, "CSI300")["pme"]
    page = client.get(f"/funds/QY?as_of={as_of}").get_data(as_text=True)
    assert 'id="pme-figures"' in page and '<option value="CSI300" selected>' in page
    shown = {k: v for k, v in expected.items() if k != "index"}
    assert shown and all(f'data-figure="{k}"' in page for k in shown)
    for key, value in shown.items():
        assert f'<td class="num">{figure(value, key)}</td>' in page, key
    page = client.get("/funds/QY?index=").get_data(as_text=True)
    assert 'id="pme-figures"' not in page and '<option value="" selected>' in page
    page = client.get("/funds/QY?index=NOPE").get_data(as_text=True)
    assert 'id="pme-error"' in page and 'id="pme-figures"' not in page
    # the quarterly report takes the fund's benchmark too, unless told none
    assert "KS-PME" in client.get("/reports/QY/2025Q4").get_data(as_text=True)
    assert "KS-PME" not in client.get("/reports/QY/2025Q4?index=").get_data(as_text=True)


@pytest.mark.parametrize("day, months, expected", [
    (dt.date(2025, 12, 31), 9, dt.date(2026, 9, 30)),    # a quarter end stays a quarter end
    (dt.date(2025, 3, 31), 3, dt.date(2025, 6, 30)),
    (dt.date(2024, 11, 30), 3, dt.date(2025, 2, 28)),    # a month's last day to the month's last
    (dt.date(2023, 11, 30), 3, dt.date(2024, 2, 29)),
    (dt.date(2025, 1, 29), 3, dt.date(2025, 4, 29)),     # the day kept where the month has it
    (dt.date(2025, 1, 30), 3, dt.date(2025, 4, 29)),     # else the day before the month's last: a day
    (dt.date(2025, 11, 29), 3, dt.date(2026, 2, 27)),    # not a month's end does not become one
    (dt.date(2001, 3, 30), 3, dt.date(2001, 6, 29)),     # (nor a quarter's: hypothesis found this one)
    (dt.date(2025, 7, 15), 0, dt.date(2025, 7, 15)),
])
def test_a_day_moves_by_whole_months(day, months, expected):
    assert shifted(day, months) == expected


@given(st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)), st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)),
       st.integers(0, 40).map(lambda q: 3 * q))
def test_moving_the_story_never_reorders_two_days(first, second, months):
    """The book's order is kept (a flow is never moved before its investment's date), a
    quarter end stays one (quarterly valuations stay quarterly), and no other day becomes one."""
    if first <= second:
        assert shifted(first, months) <= shifted(second, months)
    for day in (first, second):
        quarter_end = day.month % 3 == 0 and (day + dt.timedelta(days=1)).day == 1
        moved = shifted(day, months)
        assert quarter_end == (moved.month % 3 == 0 and (moved + dt.timedelta(days=1)).day == 1)


@pytest.mark.parametrize("until", [dt.date(2025, 9, 30), dt.date(2026, 8, 31), dt.date(2026, 9, 29)])
def test_the_story_runs_to_a_quarter_end_from_its_own(until):
    with pytest.raises(ValueError):
        story_months(until)


def test_the_demo_book_told_to_a_later_quarter():
    """The same story three quarters later: the same rows, every date moved by nine months
    (quarter ends kept), the vintages by a year, the late GPs still a quarter late."""
    before, after = demo_book(), demo_book(until=dt.date(2026, 9, 30))
    assert story_months(dt.date(2026, 9, 30)) == 9 and demo_book(until=LAST) == before
    assert {sheet: len(rows) for sheet, rows in after.items()} == {sheet: len(rows) for sheet, rows in before.items()}
    assert max(v["as_of"] for v in after["valuations"]) == dt.date(2026, 9, 30)
    assert max(f["date"] for f in after["cash_flows"]) <= dt.date(2026, 9, 30)
    assert [v["as_of"] for v in after["valuations"]] == [shifted(v["as_of"], 9) for v in before["valuations"]]
    assert all(v["as_of"].month % 3 == 0 for v in after["valuations"])
    assert [f["vintage_year"] for f in after["sub_funds"]] == [f["vintage_year"] + 1 for f in before["sub_funds"]]
    assert [(f["investment_id"], f["amount_cny"]) for f in after["cash_flows"]] == \
        [(f["investment_id"], f["amount_cny"]) for f in before["cash_flows"]]
    late = {h["sub_fund_code"]: h["as_of"] for h in sorted(after["sub_fund_holdings"], key=lambda h: h["as_of"])}
    assert late["SF04"] == dt.date(2026, 6, 30) and max(late.values()) == dt.date(2026, 9, 30)
    assert demo_meeting(dt.date(2026, 9, 30)) == (dt.date(2026, 8, 20), "2026 年第 4 次投资决策委员会")
    assert demo_index_levels(until=dt.date(2026, 9, 30))[:len(demo_index_levels())] == demo_index_levels()


def test_the_demo_runs_to_the_quarter_asked_and_a_rerun_keeps_it(runner, db, tmp_path):
    """`flask demo --until 2026Q1`: the book, the committee's past meeting and its approval in
    that story; a re-run without --until keeps the story loaded (nothing new), where the last
    quarter ended would have loaded every row again, moved."""
    first = runner.invoke(args=["demo", "--book", str(tmp_path / "d.xlsx"), "--until", "2026Q1"])
    assert first.exit_code == 0, first.output
    assert db.session.scalar(select(func.max(Valuation.as_of))) == dt.date(2026, 3, 31)
    meeting = db.session.execute(select(Meeting).order_by(Meeting.date)).scalars().first()
    assert (meeting.date, meeting.title) == demo_meeting(dt.date(2026, 3, 31)) == (dt.date(2026, 2, 20),
                                                                                     "2026 年第 4 次投资决策委员会")
    proposal = db.session.execute(select(Proposal).order_by(Proposal.id)).scalars().first()
    approved = db.session.get(Investment, proposal.investment_id)
    assert approved.date == dt.date(2026, 3, 10) <= dt.date(2026, 3, 31)
    counts = {model: db.session.scalar(select(func.count()).select_from(model)) for model in (Investment, Valuation)}
    again = runner.invoke(args=["demo", "--book", str(tmp_path / "d.xlsx")], env={"PORTFOLIO_LANG": "en"})
    assert again.exit_code == 0, again.output
    assert "Committee history: exists (unchanged)" in again.output
    assert {model: db.session.scalar(select(func.count()).select_from(model)) for model in counts} == counts
    assert db.session.scalar(select(func.max(Valuation.as_of))) == dt.date(2026, 3, 31)


@pytest.mark.parametrize("until", ["2025Q3", "2999Q1", "2026-09-30", "Q3"])
def test_the_demo_refuses_a_quarter_it_cannot_tell(runner, db, tmp_path, until):
    result = runner.invoke(args=["demo", "--book", str(tmp_path / "d.xlsx"), "--until", until],
                           env={"PORTFOLIO_LANG": "en"})
    assert result.exit_code == 2 and "Traceback" not in result.output
    latest = quarter(last_quarter_end(local_today(), strictly=True))
    assert f"The demo's story runs to a quarter that has ended, from 2025Q4 to {latest}" in result.output
    assert f": {until}" in result.output
    assert db.session.scalar(select(func.count()).select_from(Investment)) == 0

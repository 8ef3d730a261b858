"""The committee in a real browser (headless Chromium): a manager proposes and submits, the
admin schedules a meeting and records who attends, five members vote, the admin records
the decision, and the investment is found in the book. Screenshots in tests/artifacts/."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Investment, Proposal
from portfolio.interchange.importing import import_book
from tests.browser import screenshot
from tests.conftest import EXAMPLE_BOOK

MEMBERS = [f"wy{i}" for i in range(1, 7)]


@pytest.mark.browser
def test_propose_submit_schedule_vote_decide_and_find_the_investment(db, live_server, logged_in_page):
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    manager = logged_in_page("manager", "mgr_e2e")
    members = {name: logged_in_page("committee", name) for name in MEMBERS}
    admin = logged_in_page("admin", "chair_e2e")

    # 立项
    manager.goto(live_server + "/committee/")
    manager.click("#new-proposal")
    manager.fill("#title", "甬材新材料 C 轮")
    manager.select_option("#fund_code", "QY")
    manager.select_option("#mode", "direct")
    manager.fill("#target_code", "C3")
    manager.fill("#planned_date", "2025-12-15")
    manager.fill("#amount_cny", "3000")  # 万元, the forms' unit
    manager.fill("#pre_money_cny", "57000")
    manager.fill("#post_money_cny", "60000")
    manager.select_option("#instrument", "equity")
    manager.fill("#round", "C轮")
    manager.fill("#ownership_pct", "5")
    manager.fill("#thesis", "新材料国产替代，客户验证完成")
    manager.fill("#risks", "量产爬坡不及预期")
    manager.fill("#base_moic", "2.5")
    manager.fill("#base_irr", "22")
    screenshot(manager, "committee_proposal_form")
    manager.click("#save-proposal")
    manager.wait_for_selector("#pro-forma")
    assert "草稿" in manager.inner_text("#proposal-status")
    assert manager.locator("#pro-forma svg").count() == 1
    screenshot(manager, "committee_review")
    manager.click("#submit-proposal")
    manager.wait_for_selector("text=提案已提交投委会")
    pid = int(manager.url.rstrip("/").rsplit("/", 1)[-1])

    # a meeting, the proposal on its agenda, who attends
    admin.goto(live_server + "/committee/")
    admin.click("#new-meeting")
    admin.select_option("#fund_code", "QY")
    admin.fill("#date", "2025-12-10")
    admin.fill("#title", "2025 年第 12 次投委会")
    admin.click("button[type=submit].primary")
    admin.wait_for_selector("#attendance-form")
    admin.click("button.schedule-here")
    admin.wait_for_selector("text=提案已列入会议议程")
    admin.goto(live_server + f"/committee/proposals/{pid}")
    assert "已排会" in admin.inner_text("#proposal-status")
    admin.click("text=2025 年第 12 次投委会")
    for name in MEMBERS:
        admin.check(f"#attendance-form input[value={name}]")
    admin.click("#attendance-form button[type=submit]")
    admin.wait_for_selector("text=出席情况已记录")
    screenshot(admin, "committee_meeting")

    # five vote 同意, one declares a conflict and is recused
    for name in MEMBERS[:5]:
        page = members[name]
        page.goto(live_server + f"/committee/proposals/{pid}")
        page.select_option("#choice", "approve")
        page.fill("#comment", f"{name} 同意")
        page.click("#cast-vote")
        page.wait_for_selector("#my-vote")
    recused = members[MEMBERS[5]]
    recused.goto(live_server + f"/committee/proposals/{pid}")
    recused.fill("#recuse-form textarea[name=reason]", "曾任标的公司顾问")
    recused.click("#declare-recusal")
    recused.wait_for_selector("text=已登记回避")
    screenshot(members[MEMBERS[0]], "committee_voted")

    # the decision, and the investment in the book
    admin.goto(live_server + f"/committee/proposals/{pid}")
    assert "表决通过" in admin.inner_text("#tally-result")
    admin.select_option("#decision", "approved")
    admin.click("#record-decision")
    admin.wait_for_selector("#investment-link")
    assert "通过" in admin.inner_text("#proposal-decision")
    screenshot(admin, "committee_decided")
    admin.click("#resolution-link")
    admin.wait_for_selector("text=投资决策委员会决议")
    assert "曾任标的公司顾问" in admin.content()
    screenshot(admin, "committee_resolution")

    db.session.expire_all()
    investment_id = db.session.execute(select(Proposal.investment_id).where(Proposal.id == pid)).scalar_one()
    assert db.session.get(Investment, investment_id).company_code == "C3"
    manager.goto(live_server + "/investments?fund=QY")
    manager.click(f"text={investment_id}")
    manager.wait_for_load_state("networkidle")
    assert investment_id in manager.content()
    screenshot(manager, "committee_investment")

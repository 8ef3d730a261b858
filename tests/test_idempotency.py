"""A form rendered once is applied at most once (issue 12, Deliver 3): the same form sent
twice truly at once (two threads released by one barrier, each with its own client, app
context and database session), or sent again later, writes one row, and both answers show
the first result; a proposal's total funding never exceeds the approved amount, however
many payments race. On SQLite and PostgreSQL alike."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import CashFlow, FormSubmission, Investment, PendingCorrection, Proposal, Valuation
from tests.conftest import login, make_user
from tests.test_committee import MEMBERS, as_user, propose, to_meeting, vote
from tests.test_concurrency import TRIES, at_once
from tests.test_concurrency import book as book  # noqa: F401  (the fixture)


def _key(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', page) or \
        re.search(r'value="([^"]+)"[^>]*name="idempotency_key"', page)
    assert match, f"no idempotency key on {url}"
    return match.group(1)


def _clients(app, name: str, n: int = 2):
    out = []
    for _ in range(n):
        c = app.test_client()
        assert login(c, name).status_code == 302
        out.append(c)
    return out


def _twice_at_once(clients, url, data):
    return at_once(*(lambda c=c: c.post(url, data=data) for c in clients))


def _count(db, model, *where) -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_cash_flow_form_sent_twice_at_once_is_stored_once(app, db, book):
    make_user(db, "mgr", "manager")
    clients = _clients(app, "mgr")
    doubled = 0
    for n in range(TRIES):
        key = _key(clients[0], "/book/cash-flows/new?investment=QY-CO1")
        amount = f"{1000 + n}.25"
        data = {"investment_id": "QY-CO1", "date": "2025-06-30", "type": "distribution",
                "amount_cny": amount, "amount_cny_unit": "yuan",  # typed in 元, chosen beside the field
                "idempotency_key": key}  # no ref: nothing else tells them apart
        responses = _twice_at_once(clients, "/book/cash-flows/new", data)
        assert [r.status_code for r in responses] == [302, 302], [r.get_data(as_text=True)[:500] for r in responses]
        assert all(r.headers["Location"].endswith("/investments/QY-CO1") for r in responses)
        stored = _count(db, CashFlow, CashFlow.amount_cny == Decimal(amount))
        doubled += stored - 1
        assert stored == 1, f"try {n}: {stored} rows"
    print(f"\ncash-flow form: {TRIES} tries, rows doubled: {doubled}")
    # the answer of the second is the first's: no error reached either user
    page = clients[1].get("/investments/QY-CO1").get_data(as_text=True)
    assert "未保存" not in page


def test_a_valuation_and_an_investment_sent_twice_at_once_are_stored_once(app, db, book):
    make_user(db, "mgr", "manager")
    clients = _clients(app, "mgr")
    for n in range(TRIES):
        key = _key(clients[0], "/book/valuations/new")
        data = {"investment_id": "QY-CO1", "as_of": f"2026-0{n + 1}-15", "fair_value_cny": "0.1",  # 万元
                "method": "cost", "idempotency_key": key}
        responses = _twice_at_once(clients, "/book/valuations/new", data)
        assert [r.status_code for r in responses] == [302, 302]
        assert _count(db, Valuation, Valuation.as_of == dt.date(2026, n + 1, 15)) == 1
    for n in range(TRIES):
        key = _key(clients[0], "/book/investments/new")
        data = {"id": f"QY-X{n}", "fund_code": "QY", "mode": "direct", "target_code": "C3",
                "date": "2025-06-30", "commitment_cny": "0.1", "idempotency_key": key}  # 万元
        responses = _twice_at_once(clients, "/book/investments/new", data)
        assert [r.status_code for r in responses] == [302, 302], [r.get_data(as_text=True)[:300] for r in responses]
        # a new investment is asked for once (a second person books it: new_investments.py)
        assert all(r.headers["Location"].endswith("/book/investments/new?fund=QY#waiting-new-investments") for r in responses)
        assert _count(db, PendingCorrection, PendingCorrection.entity_key == f"QY-X{n}") == 1
        assert _count(db, Investment, Investment.id == f"QY-X{n}") == 0


def test_a_form_sent_again_later_answers_with_the_first_result(app, db, book, client):
    make_user(db, "mgr", "manager")
    make_user(db, "mgr2", "manager")
    login(client, "mgr")
    key = _key(client, "/book/cash-flows/new")
    data = {"investment_id": "QY-CO1", "date": "2025-06-30", "type": "distribution", "amount_cny": "777",
            "amount_cny_unit": "yuan", "idempotency_key": key}
    first = client.post("/book/cash-flows/new", data=data)
    again = client.post("/book/cash-flows/new", data=data, follow_redirects=True)
    assert first.status_code == 302 and again.status_code == 200
    assert "此表单已经提交过" in again.get_data(as_text=True)
    assert _count(db, CashFlow, CashFlow.amount_cny == Decimal("777")) == 1
    submission = db.session.get(FormSubmission, key)
    assert submission.username == "mgr" and submission.entity == "cash_flows"
    # another user's request with mgr's key is neither given mgr's result nor applied
    client.post("/logout")
    login(client, "mgr2")
    stolen = client.post("/book/cash-flows/new", data=data)
    assert stolen.status_code == 200 and "此表单已经提交过" not in stolen.get_data(as_text=True)
    assert _count(db, CashFlow, CashFlow.amount_cny == Decimal("777")) == 1
    # a form the use case refused records no key: corrected, the same form is applied
    key = _key(client, "/book/cash-flows/new")
    bad = client.post("/book/cash-flows/new", data={**data, "amount_cny": "-1", "idempotency_key": key})
    assert bad.status_code == 200 and db.session.get(FormSubmission, key) is None
    client.post("/book/cash-flows/new", data={**data, "amount_cny": "778", "idempotency_key": key})
    assert _count(db, CashFlow, CashFlow.amount_cny == Decimal("778")) == 1


def _approved_proposal(app, db, book, client, n: int, amount: str = "100") -> int:  # 万元, as typed
    pid = propose(client, title=f"提案 {n}", target_code="C3", amount_cny=amount)
    to_meeting(client, book, pid, MEMBERS[:5])
    for member in MEMBERS[:5]:
        vote(client, member, pid, "approve")
    return pid


@pytest.fixture
def committee(db, book):
    make_user(db, "mgr", "manager")
    make_user(db, "chair", "admin")
    # the racing clients' own users: the helpers' logouts end every session of theirs
    make_user(db, "decider", "admin")
    make_user(db, "payer", "manager")
    for name in MEMBERS:
        make_user(db, name, "committee")


def test_a_decision_form_sent_twice_at_once_books_one_investment_and_answers_both(app, db, book, client,
                                                                                   committee):
    chairs = _clients(app, "decider")
    for n in range(TRIES):
        pid = _approved_proposal(app, db, book, client, n)
        key = _key(chairs[0], f"/committee/proposals/{pid}")
        db.session.remove()
        responses = _twice_at_once(chairs, f"/committee/proposals/{pid}/decide",
                                   {"decision": "approved", "idempotency_key": key})
        assert [r.status_code for r in responses] == [302, 302]
        proposal = db.session.get(Proposal, pid)
        assert _count(db, Investment, Investment.id.like(f"{proposal.investment_id.split('-2')[0]}%")) == 1
        # neither chair was told of a failure: one recorded it, the other got the first's answer
        pages = [c.get(f"/committee/proposals/{pid}").get_data(as_text=True) for c in chairs]
        assert sorted(("决议已记录" in p, "此表单已经提交过" in p) for p in pages) == [(False, True), (True, False)]


def test_funding_never_exceeds_the_approved_amount_even_when_payments_race(app, db, book, client, committee):
    managers = _clients(app, "payer")
    over = 0
    for n in range(TRIES):
        pid = _approved_proposal(app, db, book, client, n, amount="100")  # 100 万元 = 1,000,000 元
        as_user(client, "chair")
        client.post(f"/committee/proposals/{pid}/decide", data={"decision": "approved"})
        investment_id = db.session.get(Proposal, pid).investment_id
        db.session.remove()
        # two different payments (two forms), each 60 % of the approved amount, at once
        at_once(*(lambda c=c, i=i, pid=pid, n=n: c.post(f"/committee/proposals/{pid}/fund", data={
            "date": "2025-12-20", "amount_cny": "600000", "amount_cny_unit": "yuan", "ref": f"PAY-{n}-{i}",
            "idempotency_key": f"k-{n}-{i}-" + "x" * 20}) for i, c in enumerate(managers)))
        paid = db.session.scalar(select(func.sum(CashFlow.amount_cny)).where(
            CashFlow.investment_id == investment_id, CashFlow.voided_at.is_(None)))
        over += paid > Decimal("1000000")
        assert paid == Decimal("600000.00"), f"try {n}: paid {paid}"
    print(f"\nfunding: {TRIES} races, totals over the approved amount: {over}")
    # and one after the other: the rest is allowed, more is refused with the amount left
    page = managers[0].post(f"/committee/proposals/{pid}/fund", data={
        "date": "2025-12-21", "amount_cny": "400000.01", "amount_cny_unit": "yuan"}, follow_redirects=True).get_data(as_text=True)
    assert "出资合计不能超过决议金额 100 万元（已出资 60 万元，本次最多 40 万元）" in page
    assert managers[0].post(f"/committee/proposals/{pid}/fund", data={
        "date": "2025-12-21", "amount_cny": "40"}).status_code == 302


def test_committee_forms_sent_twice_at_once_apply_once(app, db, book, client, committee):
    """The committee's forms (a proposal, a meeting, a vote, a recusal, the member's own and
    the secretary's): each sent twice truly at once with the key it was drawn with writes once."""
    from models import Meeting, Recusal, Vote
    from tests.test_committee import DEAL_FORM

    proposers, chairs = _clients(app, "payer"), _clients(app, "decider")
    doubled = 0
    for n in range(TRIES):
        title = f"并发提案 {n}"
        key = _key(proposers[0], "/committee/proposals/new")
        responses = _twice_at_once(proposers, "/committee/proposals/new", {**DEAL_FORM, "title": title,
                                                                           "idempotency_key": key})
        assert [r.status_code for r in responses] == [302, 302]
        assert len({r.headers["Location"] for r in responses}) == 1  # both answered with the one draft
        stored = _count(db, Proposal, Proposal.title == title)
        doubled += stored - 1
        key = _key(chairs[0], "/committee/meetings/new")
        responses = _twice_at_once(chairs, "/committee/meetings/new", {
            "fund_code": "QY", "date": "2025-12-10", "title": title, "idempotency_key": key})
        assert [r.status_code for r in responses] == [302, 302]
        doubled += _count(db, Meeting, Meeting.title == title) - 1
    assert doubled == 0
    print(f"\ncommittee forms: {TRIES} tries each of proposal and meeting, rows doubled: {doubled}")

    pid = propose(client, title="表决与回避")
    to_meeting(client, book, pid, MEMBERS[:6])
    members = _clients(app, MEMBERS[0])
    key = _key(members[0], f"/committee/proposals/{pid}")
    responses = _twice_at_once(members, f"/committee/proposals/{pid}/vote", {"choice": "approve",
                                                                             "idempotency_key": key})
    assert [r.status_code for r in responses] == [302, 302]
    assert _count(db, Vote, Vote.proposal_id == pid, Vote.member == MEMBERS[0]) == 1
    pages = [c.get(f"/committee/proposals/{pid}").get_data(as_text=True) for c in members]
    assert sorted(("表决已记录" in p, "此表单已经提交过" in p) for p in pages) == [(False, True), (True, False)]

    members = _clients(app, MEMBERS[1])
    page = members[0].get(f"/committee/proposals/{pid}").get_data(as_text=True)
    own = re.search(r'id="recuse-form".*?name="idempotency_key" value="([^"]+)"', page, re.S).group(1)
    responses = _twice_at_once(members, f"/committee/proposals/{pid}/recuse", {"reason": "持有关联方股份",
                                                                               "idempotency_key": own})
    assert [r.status_code for r in responses] == [302, 302]
    assert _count(db, Recusal, Recusal.proposal_id == pid, Recusal.member == MEMBERS[1]) == 1

    page = chairs[0].get(f"/committee/proposals/{pid}").get_data(as_text=True)
    keys = re.findall(r'name="idempotency_key" value="([^"]+)"', page)
    secretary = re.search(r'id="record-recusal-form".*?name="idempotency_key" value="([^"]+)"', page, re.S).group(1)
    assert len(set(keys)) == len(keys)  # every form of the page its own key
    responses = _twice_at_once(chairs, f"/committee/proposals/{pid}/recusals", {
        "member": MEMBERS[2], "reason": "近亲属任职", "idempotency_key": secretary})
    assert [r.status_code for r in responses] == [302, 302]
    assert _count(db, Recusal, Recusal.proposal_id == pid, Recusal.member == MEMBERS[2]) == 1

"""Requests truly at once (two threads released by one barrier, each with its own client,
app context and database session): a draft is approved once and a proposal decided once,
never twice, on SQLite and PostgreSQL alike."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from models import AuditEntry, Investment, Proposal, Valuation
from portfolio.book import records
from portfolio.interchange.importing import import_book
from tests.conftest import EXAMPLE_BOOK, login, make_user
from tests.test_committee import MEMBERS, propose, to_meeting, vote

TRIES = 5


def at_once(*calls):
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture
def book(db):
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    return db.session


def test_two_approvals_of_one_draft_at_once_approve_it_once(app, db, book):
    make_user(db, "checker1", "manager")
    make_user(db, "checker2", "manager")
    clients = []
    for name in ("checker1", "checker2"):
        c = app.test_client()
        login(c, name)
        clients.append(c)
    for n in range(TRIES):
        draft = records.record_valuation(db.session, {"investment_id": "QY-CO1", "as_of": f"2026-0{n + 1}-28",
                                                      "fair_value_cny": "1000", "method": "cost"}, username="maker")
        vid = draft.id
        db.session.remove()
        responses = at_once(*(lambda c=c, vid=vid: c.post(f"/book/valuations/{vid}/approve", follow_redirects=True)
                              for c in clients))
        assert all(r.status_code == 200 for r in responses)
        approvals = db.session.execute(select(AuditEntry).where(AuditEntry.action == "approve",
                                                                AuditEntry.entity_key == str(vid))).scalars().all()
        assert len(approvals) == 1, f"try {n}: {len(approvals)} approvals"
        valuation = db.session.get(Valuation, vid)
        assert valuation.approved_by == approvals[0].username
        pages = [r.get_data(as_text=True) for r in responses]
        assert sum("估值已审批" in p for p in pages) == 1


def test_a_decision_posted_twice_at_once_books_one_investment(app, db, book, client):
    make_user(db, "mgr", "manager")
    make_user(db, "chair", "admin")
    make_user(db, "chair2", "admin")
    for name in MEMBERS:
        make_user(db, name, "committee")
    for n in range(TRIES):
        pid = propose(client, title=f"提案 {n}", target_code="C3", amount_cny="100")  # 万元
        to_meeting(client, book, pid, MEMBERS[:5])
        for member in MEMBERS[:5]:
            vote(client, member, pid, "approve")
        chairs = []
        for name in ("chair", "chair2"):
            c = app.test_client()
            login(c, name)
            chairs.append(c)
        db.session.remove()
        responses = at_once(*(lambda c=c, pid=pid: c.post(f"/committee/proposals/{pid}/decide", data={"decision": "approved"})
                              for c in chairs))
        assert all(r.status_code in (200, 302) for r in responses)
        proposal = db.session.get(Proposal, pid)
        assert proposal.decision == "approved" and proposal.investment_id
        booked = db.session.scalar(select(func.count()).select_from(Investment)
                                   .where(Investment.id.like(f"{proposal.investment_id.split('-2')[0]}%")))
        assert booked == 1, f"try {n}: {booked} investments for one decision"
        decisions = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "decide", AuditEntry.entity_key == str(pid)))
        assert decisions == 1

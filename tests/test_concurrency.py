"""Requests truly at once (two threads released by one barrier, each with its own client,
app context and database session): a draft is approved once and a proposal decided once,
never twice, on SQLite and PostgreSQL alike; a form's write while a change set is applied is
never written over."""
from __future__ import annotations

import datetime as dt
import re
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AuditEntry, CashFlow, Investment, LoginAttempt, Proposal, Valuation
from portfolio.book import records
from portfolio.errors import FieldErrors
from portfolio.interchange.importing import import_book
from tests.conftest import EXAMPLE_BOOK, login, make_user, void_in_force
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


# -- a change set's apply and the forms' writes at once ---------------------------------------------

def _apply_with_a_write_while_it_plans(app, db, book, write, *, wait: float = 1.5):
    """Stage an upload that changes QY-D1's 2025-12-31 valuation, then apply it (manager2)
    while `write(session)` runs on a session of its own, in another thread, the moment the
    apply's plan is made (before anything is written). Returns (the apply's error or None,
    whether the write had ended when the apply went on, the write's error or None)."""
    from portfolio.interchange import staging
    from tests.test_staged_imports import edited, exported, stage

    data = edited(exported(book), "valuations", {"investment_id": "QY-D1", "as_of": "2025-12-31"},
                  {"fair_value_cny": 170000000})
    change_set_id = stage(book, data, "manager1").change_set.id
    db.session.remove()
    engine = db.engine
    planned, written = threading.Event(), threading.Event()
    outcome: dict = {}

    def writer():
        planned.wait(30)
        try:
            with Session(engine) as session:
                write(session)
        except Exception as error:  # noqa: BLE001 (said by the test's assertion)
            outcome["write"] = error
        written.set()

    real_plan = staging._plan

    def plan_then_let_the_form_write(*args, **kwargs):
        result = real_plan(*args, **kwargs)
        if not planned.is_set():
            planned.set()
            outcome["ended_first"] = written.wait(wait)
        return result

    thread = threading.Thread(target=writer)
    thread.start()
    staging._plan = plan_then_let_the_form_write
    try:
        with app.app_context():
            staging.apply_change_set(db.session, change_set_id, username="manager2",
                                     confirm_reason="核对过的上传")
    except FieldErrors as error:
        outcome["apply"] = error
    finally:
        staging._plan = real_plan
        planned.set()
        thread.join(60)
    db.session.remove()
    return outcome.get("apply"), outcome.get("ended_first"), outcome.get("write")


def test_a_valuation_voided_while_a_change_set_is_planned_is_never_written_over(app, db, book):
    """The apply plans from the book as it reads it and writes whole rows. A void landing in
    between must not be overwritten unseen: on PostgreSQL the void waits for the apply
    (imports write the book alone) and then voids the row the apply wrote; on SQLite it lands
    first, and the apply, seeing the book moved under its plan, plans again and refuses the
    now-stale preview."""
    target = book.execute(select(Valuation.id).where(Valuation.investment_id == "QY-D1",
                                                     Valuation.voided_at.is_(None))
                          .order_by(Valuation.as_of.desc())).scalars().first()

    def void(session):
        void_in_force(session, "valuation", target, "管理人更新了报告", username="admin", checker="chair")

    refused, ended_first, failed = _apply_with_a_write_while_it_plans(app, db, book, void)
    assert failed is None
    voided = db.session.get(Valuation, target)
    assert voided.voided_at is not None  # the void always lands
    void_entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "void",
                                                             AuditEntry.entity_key == str(target))).scalar_one()
    applied = db.session.execute(select(AuditEntry).where(AuditEntry.action == "import_update")).scalars().all()
    if db.engine.dialect.name == "postgresql":
        assert refused is None and ended_first is False  # the void waited for the apply
        assert [e.entity_key for e in applied] == ["QY-D1/2025-12-31"] and applied[0].id < void_entry.id
        assert voided.fair_value_cny == Decimal("170000000")  # the apply's value, then voided: both seen
    else:
        assert ended_first is True and refused is not None and "预览已过时" in str(refused.errors[0][1])
        assert applied == [] and voided.fair_value_cny != Decimal("170000000")


def test_a_write_the_upload_does_not_touch_lands_beside_the_apply(app, db, book):
    """A flow recorded on another investment while the apply plans: both land (on SQLite the
    apply plans again under its lock and finds the same preview)."""
    def record_flow(session):
        records.record_cash_flow(session, {"investment_id": "QY-SF1", "date": "2026-01-15", "type": "contribution",
                                           "amount_cny": "1000", "ref": "AT-ONCE-1"}, username="manager1")

    refused, ended_first, failed = _apply_with_a_write_while_it_plans(app, db, book, record_flow)
    assert refused is None and failed is None
    assert ended_first is (db.engine.dialect.name == "sqlite")  # PostgreSQL: the form waited for the apply
    assert db.session.execute(select(func.count()).select_from(CashFlow).where(CashFlow.ref == "AT-ONCE-1")).scalar() == 1
    current = db.session.execute(select(Valuation.fair_value_cny).where(
        Valuation.investment_id == "QY-D1", Valuation.as_of == dt.date(2025, 12, 31),
        Valuation.voided_at.is_(None))).scalar_one()
    assert current == Decimal("170000000")


def test_the_writes_that_wait_for_an_import_are_those_of_the_tables_it_writes():
    from portfolio.book.unit import BOOK_TABLES
    from portfolio.interchange.importing import TABLES

    assert {model.__tablename__ for model in TABLES.values()} == BOOK_TABLES


GUESSES = 12


def test_wrong_passwords_sent_at_once_get_no_more_checks_than_one_after_another(app, db):
    """Guesses at one account sent all at once (as gunicorn's threads would take them) are
    throttled as if sent one after another: each try sees the ones before it, so only the
    first DELAY_FROM are checked against the password, the next are told to wait, and those
    past LOCK_AFTER find the account locked (each refused try counts). Before, every one of
    them was checked."""
    from portfolio.book import logins

    make_user(db, "hal", "viewer")
    db.session.remove()
    clients = [app.test_client() for _ in range(GUESSES)]
    pages = at_once(*(lambda c=c: login(c, "hal", "wrong-password").get_data(as_text=True) for c in clients))
    told = [("checked" if "用户名或密码错误" in p else "wait" if "尝试过于频繁" in p else "locked" if "已临时锁定" in p
             else re.sub(r"\s+", " ", p)[-300:]) for p in pages]
    assert sorted(told) == sorted(["checked"] * logins.DELAY_FROM + ["wait"] * (logins.LOCK_AFTER - logins.DELAY_FROM)
                                  + ["locked"] * (GUESSES - logins.LOCK_AFTER))
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == GUESSES  # every try recorded
    lock = db.session.execute(select(AuditEntry).where(AuditEntry.action == "lock")).scalars().all()
    assert [entry.entity_key for entry in lock] == ["hal"]  # the lock audited once


def test_guesses_at_names_that_are_no_ones_sent_at_once_keep_to_the_address_limit(app, db, monkeypatch):
    """Twelve guesses from one address at names that are not users, sent at once, with the
    address limit at 5: the first 5 are checked, the other 7 told to wait, as if sent one
    after another. They had all read the same count (a name that is no user's has no row to
    take), so every one was checked, past the limit."""
    from portfolio.book import logins

    monkeypatch.setattr(logins, "ADDRESS_LIMIT", 5)
    clients = [app.test_client() for _ in range(GUESSES)]
    pages = at_once(*(lambda c=c, i=i: login(c, f"nobody{i}", "wrong-password").get_data(as_text=True)
                      for i, c in enumerate(clients)))
    told = [("checked" if "用户名或密码错误" in p else "wait" if "尝试过于频繁" in p else re.sub(r"\s+", " ", p)[-300:])
            for p in pages]
    assert sorted(told) == sorted(["checked"] * 5 + ["wait"] * (GUESSES - 5))
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == GUESSES

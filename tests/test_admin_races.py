"""Administration and the book's voids, two requests at the worst moment (tests/races.py), on
SQLite and PostgreSQL: the checks that keep an admin in charge are made again inside the write,
a new user is new, and a void or a revocation is made (and audited) once. Each of these pairs
had gone through both, found by a probe with these interleavings."""
from __future__ import annotations

import threading
import time

from sqlalchemy import select

from models import AuditEntry, User, Valuation
from portfolio.book import records, tokens, users
from portfolio.errors import FieldErrors
from portfolio.interchange.importing import import_book
from tests.conftest import EXAMPLE_BOOK, login, make_user
from tests.races import race, slowed
from tests.test_concurrency import at_once


def _admins(app, db):
    ids = [make_user(db, name, "admin").id for name in ("admin1", "admin2")]
    clients = []
    for name in ("admin1", "admin2"):
        c = app.test_client()
        assert login(c, name).status_code == 302
        clients.append(c)
    db.session.remove()
    return ids, clients


def _held(monkeypatch, seconds: float = 0.7):
    """records._user held once it has read the user it changes: each request is inside."""
    real = records._user

    def slow(*args, **kwargs):
        user = real(*args, **kwargs)
        time.sleep(seconds)
        return user
    monkeypatch.setattr(records, "_user", slow)


def _active_admins(db) -> list[str]:
    return db.session.execute(select(User.username).where(User.role == "admin", User.active.is_(True))
                              .order_by(User.username)).scalars().all()


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, db, monkeypatch):
    (a1, a2), (c1, c2) = _admins(app, db)
    _held(monkeypatch)
    at_once(lambda: c1.post(f"/admin/users/{a2}/role", data={f"u{a2}-role": "viewer"}),
            lambda: c2.post(f"/admin/users/{a1}/role", data={f"u{a1}-role": "viewer"}))
    assert len(_active_admins(db)) == 1


def test_two_admins_deactivating_each_other_at_once_leave_one_admin(app, db, monkeypatch):
    (a1, a2), (c1, c2) = _admins(app, db)
    _held(monkeypatch)
    at_once(lambda: c1.post(f"/admin/users/{a2}/deactivate", data={}),
            lambda: c2.post(f"/admin/users/{a1}/deactivate", data={}))
    assert len(_active_admins(db)) == 1
    refused = db.session.execute(select(AuditEntry).where(AuditEntry.action == "deactivate")).scalars().all()
    assert len(refused) == 1


def test_a_new_user_made_by_two_admins_at_once_is_made_once(app, db, monkeypatch):
    """The screen's new user checked 'name not taken', then created or reset: the second admin's
    form reset the first one's new user (role and password), both told 'created'."""
    _ids, (c1, c2) = _admins(app, db)
    real = users.password_problems

    def slow_for_b(password, *args, **kwargs):
        if threading.current_thread().name == "B":
            time.sleep(1.0)
        return real(password, *args, **kwargs)
    monkeypatch.setattr(users, "password_problems", slow_for_b)
    pages = {}

    def post(name, client, role, password):
        pages[name] = client.post("/admin/users/new", data={"username": "bob", "role": role, "password": password})
    b = threading.Thread(target=post, name="B", args=("B", c2, "manager", "bravo-secret-88"))
    a = threading.Thread(target=post, name="A", args=("A", c1, "viewer", "alpha-secret-77"))
    b.start()
    time.sleep(0.2)
    a.start()
    a.join(30)
    b.join(30)
    bob = db.session.execute(select(User).where(User.username == "bob")).scalar_one()
    actions = db.session.execute(select(AuditEntry.action).where(AuditEntry.entity == "users",
                                                                 AuditEntry.entity_key == "bob")).scalars().all()
    assert actions == ["create"] and bob.role == "viewer"
    assert pages["A"].status_code == 302 and pages["B"].status_code == 200
    assert "用户名 bob 已存在" in pages["B"].get_data(as_text=True)


def test_two_revocations_of_one_token_at_once_are_audited_once(app, db, monkeypatch):
    _token, record = tokens.issue_token(db.session, "erp", None, 30, by="admin1")
    token_id = record.id
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, tokens, "audit", started)
    race(app, db, lambda s: tokens.revoke_token(s, token_id, by="admin1"),
         lambda s: tokens.revoke_token(s, token_id, by="admin2"), started)
    revoked = db.session.execute(select(AuditEntry.username).where(AuditEntry.entity == "api_tokens",
                                                                   AuditEntry.action == "revoke")).scalars().all()
    assert revoked == ["admin1"]


def test_two_voids_of_one_valuation_at_once_void_it_once(app, db, monkeypatch):
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    valuation_id = db.session.execute(select(Valuation.id).where(Valuation.voided_at.is_(None))).scalars().first()
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, records, "snapshot", started, after=True)  # the first void has seen 'in force'
    first, second = race(app, db,
                         lambda s: records.void_valuation(s, valuation_id, {"reason": "理由甲"}, username="admin1"),
                         lambda s: records.void_valuation(s, valuation_id, {"reason": "理由乙"}, username="admin2"),
                         started)
    asked = db.session.execute(select(AuditEntry.username, AuditEntry.reason).where(
        AuditEntry.entity == "valuations", AuditEntry.action == "request_void",
        AuditEntry.entity_key == str(valuation_id))).all()
    valuation = db.session.get(Valuation, valuation_id)
    assert len(asked) == 1 and (valuation.void_requested_by, valuation.void_reason) == tuple(asked[0])
    assert valuation.voided_at is None  # an approved valuation's void is asked for, in force once approved
    assert sum(isinstance(o, FieldErrors) for o in (first, second)) == 1


def test_two_checkers_approving_one_void_at_once_void_it_once(app, db, monkeypatch):
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    valuation_id = db.session.execute(select(Valuation.id).where(Valuation.voided_at.is_(None))).scalars().first()
    records.void_valuation(db.session, valuation_id, {"reason": "管理人更新了报告"}, username="mgr")
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, records, "snapshot", started, after=True)  # the first has seen the void asked for
    first, second = race(app, db, lambda s: records.approve_void(s, "valuation", valuation_id, username="chk1"),
                         lambda s: records.approve_void(s, "valuation", valuation_id, username="chk2"), started)
    voids = db.session.execute(select(AuditEntry.username).where(
        AuditEntry.entity == "valuations", AuditEntry.action == "void",
        AuditEntry.entity_key == str(valuation_id))).scalars().all()
    assert len(voids) == 1 and db.session.get(Valuation, valuation_id).voided_by == voids[0]
    assert sum(isinstance(o, FieldErrors) for o in (first, second)) == 1


def test_two_checkers_approving_one_correction_at_once_apply_it_once(app, db, monkeypatch):
    from models import Investment
    from portfolio.book import corrections

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    investment = db.session.get(Investment, "QY-D1")
    corrections.correct_investment(db.session, "QY-D1", {
        "date": investment.date.isoformat(), "commitment_cny": "130000000", "round": investment.round,
        "ownership_pct": str(investment.ownership_pct), "version": corrections.version_of(investment),
        "correction_reason": "补充协议增资"}, username="mgr")
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, corrections, "_investment_terms", started, after=True)  # the first has read the request
    first, second = race(app, db, lambda s: corrections.approve_correction(s, "QY-D1", username="chk1"),
                         lambda s: corrections.approve_correction(s, "QY-D1", username="chk2"), started)
    applied = db.session.execute(select(AuditEntry.username).where(
        AuditEntry.entity == "investments", AuditEntry.action == "correct")).scalars().all()
    assert len(applied) == 1 and corrections.waiting_corrections(db.session) == []
    assert sum(isinstance(o, FieldErrors) for o in (first, second)) == 1
    assert db.session.get(Investment, "QY-D1").commitment_cny == 130000000


def test_two_checkers_approving_one_cash_flow_correction_at_once_apply_it_once(app, db, monkeypatch):
    from decimal import Decimal

    from models import CashFlow
    from portfolio.book import corrections

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    flow = db.session.execute(select(CashFlow).where(CashFlow.investment_id == "QY-D1",
                                                     CashFlow.type == "distribution")).scalars().first()
    flow_id = flow.id
    corrections.correct_cash_flow(db.session, flow_id, {
        "date": flow.date.isoformat(), "type": "distribution", "amount_cny": "4000000", "note": flow.note,
        "version": corrections.version_of(flow), "correction_reason": "改为 400 万"}, username="mgr")
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, corrections, "_flow_terms", started, after=True)  # the first has read the request
    first, second = race(
        app, db, lambda s: corrections.approve_correction(s, flow_id, username="chk1", entity="cash_flows"),
        lambda s: corrections.approve_correction(s, flow_id, username="chk2", entity="cash_flows"), started)
    applied = db.session.execute(select(AuditEntry.username).where(
        AuditEntry.entity == "cash_flows", AuditEntry.action == "correct")).scalars().all()
    assert len(applied) == 1 and corrections.waiting_record_corrections(db.session) == []
    assert sum(isinstance(o, FieldErrors) for o in (first, second)) == 1
    corrected = db.session.get(CashFlow, flow_id)
    assert corrected.amount_cny == Decimal("4000000") and corrected.approved_by == applied[0]


def test_two_corrections_of_one_investment_asked_at_once_keep_one_waiting(app, db, monkeypatch):
    from models import Investment
    from portfolio.book import corrections

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    investment = db.session.get(Investment, "QY-D1")
    fields = {"date": investment.date.isoformat(), "round": investment.round,
              "ownership_pct": str(investment.ownership_pct), "version": corrections.version_of(investment),
              "correction_reason": "补充协议"}
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, corrections, "pending_correction", started, after=True)  # the first found none waiting
    first, second = race(
        app, db, lambda s: corrections.correct_investment(s, "QY-D1", {**fields, "commitment_cny": "130000000"},
                                                          username="mgr1"),
        lambda s: corrections.correct_investment(s, "QY-D1", {**fields, "commitment_cny": "140000000"},
                                                 username="mgr2"), started)
    waiting = corrections.waiting_corrections(db.session)
    assert len(waiting) == 1 and sum(isinstance(o, FieldErrors) for o in (first, second)) == 1
    asked = db.session.execute(select(AuditEntry.username).where(
        AuditEntry.entity == "investments", AuditEntry.action == "request_correction")).scalars().all()
    assert asked == [waiting[0][0].asked_by]  # the one waiting is the one audited


NEW_DEAL = {"id": "QY-D9", "fund_code": "QY", "mode": "direct", "target_code": "C3", "date": "2025-10-01",
            "commitment_cny": "1000000", "ownership_pct": "2"}


def test_two_checkers_approving_one_new_investment_at_once_book_it_once(app, db, monkeypatch):
    from models import Investment
    from portfolio.book import new_investments

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    new_investments.ask_investment(db.session, NEW_DEAL, username="mgr")
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, new_investments, "pending_request", started, after=True)  # the first has read the request
    first, second = race(app, db, lambda s: new_investments.approve_investment(s, "QY-D9", username="chk1"),
                         lambda s: new_investments.approve_investment(s, "QY-D9", username="chk2"), started)
    created = db.session.execute(select(AuditEntry.username).where(
        AuditEntry.entity == "investments", AuditEntry.entity_key == "QY-D9", AuditEntry.action == "create")).scalars().all()
    assert len(created) == 1 and new_investments.waiting_investments(db.session) == []
    assert sum(isinstance(o, FieldErrors) for o in (first, second)) == 1
    assert db.session.get(Investment, "QY-D9") is not None


def test_two_new_investments_of_one_id_asked_at_once_keep_one_waiting(app, db, monkeypatch):
    from portfolio.book import new_investments

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, new_investments, "pending_request", started, after=True)  # the first found none waiting
    first, second = race(
        app, db, lambda s: new_investments.ask_investment(s, NEW_DEAL, username="mgr1"),
        lambda s: new_investments.ask_investment(s, {**NEW_DEAL, "commitment_cny": "2000000"}, username="mgr2"),
        started)
    waiting = new_investments.waiting_investments(db.session)
    assert len(waiting) == 1 and sum(isinstance(o, FieldErrors) for o in (first, second)) == 1
    asked = db.session.execute(select(AuditEntry.username).where(
        AuditEntry.entity == "investments", AuditEntry.action == "request_create")).scalars().all()
    assert asked == [waiting[0][0].asked_by]  # the one waiting is the one audited

"""Imports truly at once (threads released by one barrier, each with its own app context and
database session, or its own logged-in client), on SQLite and PostgreSQL alike (issue 12,
deliverable 3: "two imports of the same book at once store a ref-less flow twice").

Imports serialise on one lock (PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE), so
the second reads the first one's rows and finds them unchanged; a change set is applied once.
"""
from __future__ import annotations

import datetime as dt
import io
import shutil
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import AuditEntry, CashFlow, ChangeSet
from portfolio.errors import FieldErrors
from portfolio.interchange.importing import import_book
from portfolio.interchange.staging import apply_change_set, stage_book
from tests.conftest import EXAMPLE_BOOK, login, make_user
from tests.test_concurrency import TRIES, at_once
from tests.test_staged_imports import edited, exported
from web.extensions import db as _db


@pytest.fixture
def book(db):
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    return db.session


def _flows(session, amount: int) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(CashFlow).where(
        CashFlow.investment_id == "QY-D1", CashFlow.amount_cny == Decimal(amount), CashFlow.voided_at.is_(None)))


def _with_flow(tmp_path, n: int, amount: int):
    """The example book (a CSV folder) with one more ref-less flow."""
    folder = tmp_path / f"book{n}"
    shutil.copytree(EXAMPLE_BOOK, folder)
    with open(folder / "cash_flows.csv", "a", encoding="utf-8") as fh:
        fh.write(f"QY-D1,2025-1{n % 3}-0{n + 1},distribution,{amount},并发导入{n}\n")
    return folder


def test_the_same_book_imported_twice_at_once_stores_a_ref_less_flow_once(app, book, tmp_path):
    for n in range(TRIES):
        amount = 7_000 + n
        folder = _with_flow(tmp_path, n, amount)
        _db.session.remove()

        def run(name, folder=folder):
            with app.app_context():
                result = import_book(_db.session, folder, username=name)
                return result.counts["cash_flows"] if result.ok else [str(e) for e in result.errors]

        results = at_once(lambda: run("loader-a"), lambda: run("loader-b"))
        assert all(isinstance(r, dict) for r in results), results
        assert _flows(book, amount) == 1, f"try {n}: the flow stored {_flows(book, amount)} times"
        # the second saw the first one's row: one import added it, the other found it unchanged
        assert sorted(r["new"] for r in results) == [0, 1]


def test_a_change_set_applied_twice_at_once_is_applied_once(app, book):
    for n in range(TRIES):
        amount = 8_000 + n
        data = edited(exported(book), "cash_flows", {}, append=["QY-D1", f"2025-12-0{n + 1}", "distribution",
                                                               amount, "并发批准", None])
        cs_id = stage_book(book, io.BytesIO(data), username="manager1", filename="b.xlsx").change_set.id
        _db.session.remove()

        def run(name, cs_id=cs_id):
            with app.app_context():
                try:
                    apply_change_set(_db.session, cs_id, username=name)
                    return "applied"
                except FieldErrors as error:
                    return str(error)

        results = at_once(lambda: run("manager2"), lambda: run("admin"))
        assert results.count("applied") == 1, results
        assert _flows(book, amount) == 1
        applies = book.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "apply", AuditEntry.entity_key == str(cs_id)))
        assert applies == 1


def test_two_change_sets_adding_the_same_flow_applied_at_once_store_it_once(app, db, book):
    """Two uploads of the same new ref-less flow, each approved by a different person through
    the screens at the same moment: the second finds its preview out of date and applies nothing."""
    make_user(db, "manager1", "manager")
    make_user(db, "manager2", "manager")
    make_user(db, "boss", "admin")
    checkers = []
    for name in ("manager2", "boss"):
        client = app.test_client()
        login(client, name)
        checkers.append(client)
    for n in range(TRIES):
        amount = 9_000 + n
        data = edited(exported(book), "cash_flows", {}, append=["QY-D1", dt.date(2025, 12, n + 1).isoformat(),
                                                               "distribution", amount, "重复上传", None])
        ids = [stage_book(book, io.BytesIO(data), username="manager1", filename="b.xlsx").change_set.id
               for _ in range(2)]
        _db.session.remove()
        responses = at_once(*(lambda c=c, i=i: c.post(f"/book/change-sets/{i}/apply", follow_redirects=True)
                              for c, i in zip(checkers, ids)))
        assert all(r.status_code == 200 for r in responses)
        assert _flows(book, amount) == 1, f"try {n}: stored {_flows(book, amount)} times"
        statuses = sorted(book.get(ChangeSet, i).status for i in ids)
        assert statuses == ["applied", "pending"]
        pages = [r.get_data(as_text=True) for r in responses]
        assert sum("预览已过时" in p for p in pages) == 1

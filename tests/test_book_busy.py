"""A write that finds the book held by an import waits a bounded time (BOOK_LOCK_WAIT), then
is refused plainly, nothing saved; sent again once the import is over, it goes through once.

Before, on SQLite the form answered 500 after pysqlite's 5 s ("database is locked" escaped
the use case at flush); on PostgreSQL it waited for the whole import, however long, past the
server's timeout for an import of millions of rows. The lock here is taken exactly as an
import takes it (unit.serialise_imports), in a transaction of its own, held while the form is
sent. On SQLite and PostgreSQL alike."""
from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import CashFlow, Proposal
from portfolio.book.unit import BookBusy, serialise_imports
from tests.conftest import login, make_user
from tests.test_committee import DEAL_FORM
from tests.test_concurrency import book as book  # noqa: F401  (the fixture)
from tests.test_idempotency import _key

WAIT = 1  # seconds a request waits here (BOOK_LOCK_WAIT; 15 by default)
BUSY_ZH = "未保存：台账正被其他操作占用"


@pytest.fixture
def impatient(waiting_app, book):
    """The same database, through an app whose requests wait WAIT seconds for the book."""
    return waiting_app(WAIT)


class ImportRunning:
    """The book's import lock, held by a transaction of its own as a running import holds it;
    let go after `at_most` seconds whatever happens (a write that waits unbounded then fails
    its test on the time it waited, rather than hanging the suite)."""

    def __init__(self, db, at_most: float = WAIT + 10):
        self.session = Session(db.engine)
        self._held = threading.Lock()
        self._watchdog = threading.Timer(at_most, self.release)

    def __enter__(self):
        serialise_imports(self.session)
        self._watchdog.start()
        return self

    def release(self) -> None:
        with self._held:
            if self.session is not None:
                self.session.rollback()
                self.session.close()
                self.session = None

    def __exit__(self, *exc):
        self._watchdog.cancel()
        self.release()


def _flows(db, amount: str) -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(CashFlow).where(CashFlow.amount_cny == Decimal(amount)))


def test_a_form_sent_during_an_import_is_refused_beside_it_then_goes_through_once(impatient, db):
    make_user(db, "mgr", "manager")
    client = impatient.test_client()
    assert login(client, "mgr").status_code == 302
    key = _key(client, "/book/cash-flows/new?investment=QY-CO1")
    data = {"investment_id": "QY-CO1", "date": "2025-06-30", "type": "distribution", "amount_cny": "4321.5",
            "amount_cny_unit": "yuan", "idempotency_key": key}
    with ImportRunning(db):
        start = time.perf_counter()
        response = client.post("/book/cash-flows/new", data=data)
        waited = time.perf_counter() - start
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:500]  # the form again, with what was typed
    assert BUSY_ZH in page and 'value="4321.5"' in page
    assert WAIT * 0.9 <= waited < WAIT + 4, waited  # it waited its while, not the import's
    assert _flows(db, "4321.5") == 0
    # the import over, the same form sent again is saved, once
    again = client.post("/book/cash-flows/new", data=data)
    assert again.status_code == 302 and again.headers["Location"].endswith("/investments/QY-CO1")
    assert _flows(db, "4321.5") == 1


def test_the_same_form_in_english_says_so_in_english(impatient, db):
    make_user(db, "mgr", "manager")
    client = impatient.test_client()
    login(client, "mgr")
    client.get("/lang/en")
    key = _key(client, "/book/valuations/new?investment=QY-CO1")
    with ImportRunning(db):
        response = client.post("/book/valuations/new", data={
            "investment_id": "QY-CO1", "as_of": "2025-09-30", "fair_value_cny": "12",
            "method": "cost", "idempotency_key": key})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "the book is busy (a book import may be running)" in page and BUSY_ZH not in page


def test_logging_in_out_and_a_token_during_an_import_never_answer_500(impatient, db):
    """Logging in, logging out and an API token's use write too (the throttle, the sessions, the
    token's count). Held by an import (on SQLite, the whole file) they had answered 500, and a
    failed logout had left the browser signed in: now 409 with Retry-After, or through where the
    book's lock is not theirs (PostgreSQL); the browser that logs out is signed out either way."""
    from portfolio.book.tokens import issue_token

    make_user(db, "mgr", "manager")
    make_user(db, "vwr", "viewer")
    token, _record = issue_token(db.session, "ERP", None, 30, by="test")
    db.session.commit()
    leaving = impatient.test_client()
    assert login(leaving, "vwr").status_code == 302
    arriving = impatient.test_client()
    with ImportRunning(db):
        signed_in = login(arriving, "mgr")
        signed_out = leaving.post("/logout")
        api = impatient.test_client().get("/api/v1/funds/QY/report?as_of=2025-12-31",
                                          headers={"Authorization": f"Bearer {token}"})
    for response in (signed_in, signed_out, api):
        assert response.status_code in (200, 302, 409), (response.request.path, response.status_code)
        if response.status_code == 409:
            assert response.headers["Retry-After"] == "5"
    assert api.status_code != 409 or api.get_json()["key"] == "book_busy_read"  # a read: ask again later
    assert leaving.get("/").status_code == 302  # signed out: to the login page
    if signed_in.status_code == 409:  # nothing saved: the import over, logging in goes through
        assert login(arriving, "mgr").status_code == 302


def test_a_write_outside_the_book_meanwhile(impatient, db):
    """A committee proposal is not the book's: on PostgreSQL it never waits for an import; on
    SQLite every writer waits for the one write lock, and a use case that flushes by itself
    meets the refusal outside its form: the error page says it (409), nothing saved."""
    make_user(db, "mgr", "manager")
    client = impatient.test_client()
    login(client, "mgr")
    with ImportRunning(db):
        response = client.post("/committee/proposals/new", data=DEAL_FORM)
    db.session.remove()
    stored = db.session.scalar(select(func.count()).select_from(Proposal))
    if db.engine.dialect.name == "sqlite":
        assert response.status_code == 409
        assert BUSY_ZH in response.get_data(as_text=True)
        assert stored == 0
        assert client.post("/committee/proposals/new", data=DEAL_FORM).status_code == 302
    else:
        assert response.status_code == 302
        assert stored == 1


def test_jobs_and_commands_wait_for_the_import_to_end(app, db, book):
    """Only a request's wait is bounded on PostgreSQL: a use case run by a job or a command
    (no request) waits for the import and then writes."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one busy timeout for every writer of the app (BOOK_LOCK_WAIT)")
    from portfolio.book import records

    ImportRunning(db, at_most=2 * WAIT + 0.5).__enter__()  # the import ends on its own meanwhile
    start = time.perf_counter()
    with Session(db.engine) as session:
        records.record_cash_flow(session, {"investment_id": "QY-CO1", "date": "2025-06-30", "type": "distribution",
                                           "amount_cny": "777"}, username="job")
    assert time.perf_counter() - start >= 2 * WAIT
    assert _flows(db, "777") == 1


def test_the_refusal_is_a_form_error_of_the_unit_of_work():
    refusal = BookBusy()
    assert refusal.errors[0][0] == "" and refusal.errors[0][1].key == "book_busy"


def test_a_change_set_applied_during_an_import_is_refused_then_applies(impatient, db):
    """The checker's apply takes the import lock itself (exclusively): its wait is a request's
    too, and the refusal is said on the change set's page; the import over, it applies."""
    from models import ChangeSet, Valuation
    from tests.test_staged_imports import edited, exported, stage

    make_user(db, "manager2", "manager")
    data = edited(exported(db.session), "valuations", {"investment_id": "QY-SF1", "as_of": "2025-09-30"},
                  {"fair_value_cny": 300000000})
    cs_id = stage(db.session, data, "manager1").change_set.id
    checker = impatient.test_client()
    login(checker, "manager2")
    with ImportRunning(db):
        start = time.perf_counter()
        refused = checker.post(f"/book/change-sets/{cs_id}/apply", follow_redirects=True)
        assert time.perf_counter() - start < WAIT + 4
    assert refused.status_code == 200 and BUSY_ZH in refused.get_data(as_text=True)
    db.session.remove()
    assert db.session.get(ChangeSet, cs_id).status == "pending"
    applied = checker.post(f"/book/change-sets/{cs_id}/apply")
    assert applied.status_code == 302
    db.session.remove()
    assert db.session.get(ChangeSet, cs_id).status == "applied"
    assert db.session.scalar(select(Valuation.fair_value_cny).where(
        Valuation.investment_id == "QY-SF1", Valuation.voided_at.is_(None),
        Valuation.as_of == dt.date(2025, 9, 30))) == Decimal("300000000")


def test_an_import_meeting_a_running_import_past_its_wait_says_so_and_writes_nothing(impatient, db):
    """SQLite: a second import waits the busy timeout for the first one's write lock, then
    gives the book error, nothing written (on PostgreSQL a command's import waits for the first)."""
    from portfolio.interchange.importing import import_book
    from tests.conftest import EXAMPLE_BOOK

    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL: an import outside a request waits for the running one")
    with impatient.app_context(), ImportRunning(db):
        result = import_book(db.session, EXAMPLE_BOOK, username="loader2")
        db.session.remove()
    assert not result.ok
    assert [e.message.key for e in result.errors] == ["book_busy"]


def test_on_sqlite_a_page_read_while_another_holds_the_file_alone_says_the_book_is_busy(impatient, db):
    """SQLite: a page reads beside an import (the file in WAL: tests/test_sqlite_wal.py), but a
    connection that holds the file alone (locking_mode EXCLUSIVE: a maintenance tool, the sqlite3
    shell so set) keeps readers out, and a reader waits the busy timeout: then the page (and the
    API) says so, 409 with Retry-After, never a 500; the file let go, the page reads."""
    import sqlite3

    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL: readers never wait for writers")
    make_user(db, "viewer1", "viewer")
    client = impatient.test_client()
    login(client, "viewer1")
    db.session.remove()
    db.engine.dispose()  # the apps' connections closed: a connection holds the file alone only when it is the only one
    with impatient.app_context():
        db.engine.dispose()
    holder = sqlite3.connect(db.engine.url.database, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE funds SET name = name WHERE code = 'QY'")
        page = client.get("/funds/QY")
        api = client.get("/api/v1/funds/QY/report?as_of=2025-12-31")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert page.status_code == 409 and page.headers["Retry-After"] == "5"
    assert "台账正被其他操作占用（例如正在导入台账），请稍后刷新页面" in page.get_data(as_text=True)
    assert api.status_code == 409 and "请稍后刷新页面" in api.get_json()["message"]
    assert client.get("/funds/QY").status_code == 200

"""Readers beside a writer: the book's SQLite file in WAL mode (web.extensions.write_ahead_log).

In the rollback journal (SQLite's default, and the demo's before), an import whose writes
outgrew its cache took the file exclusively: every page, report and backup waited the busy
timeout and answered 409 "book busy" until the import ended. In WAL they read the last commit
and go on while the write is pending. Here the write is held in one thread (the import's own
lock, unit.serialise_imports, with writes enough to spill to disk) and the read runs in another,
truly at once: the writer lets go only once the read is done, so a read that waited for it
would have run out its wait (409). On PostgreSQL (readers never wait there) the same tests
show nothing changed."""
from __future__ import annotations

import shutil
import sqlite3
import threading
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from app import create_app
from models import Fund
from portfolio.book import records
from portfolio.book.backup import restore_backup, write_backup
from portfolio.book.unit import serialise_imports
from tests.conftest import login, make_user
from tests.test_book_busy import impatient as impatient  # noqa: F401  (the fixture: requests wait 1 s)
from tests.test_concurrency import book as book  # noqa: F401  (the fixture)

COMMITTED_NAME = "宁波千亿科技创新基金"  # the example book's, committed by the import
PENDING_NAME = "未提交的基金名称"
WAIT = 5  # seconds a request waits for the book (BOOK_LOCK_WAIT; 15 by default)


def _file(engine) -> Path | None:
    """The SQLite file of the engine (None: PostgreSQL or in memory)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return Path(engine.url.database)


class WriteHeld:
    """A write transaction held in a thread of its own, as an import holds the book: its lock
    (BEGIN IMMEDIATE on SQLite, the advisory lock on PostgreSQL), the fund renamed, and on
    SQLite some 8 MB written through a small cache, so that the writes spill to the file (in
    the rollback journal that takes the file exclusively). It commits once `done` is set (or
    after 30 s, which fails the test that counted on it)."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.held, self.done = threading.Event(), threading.Event()
        self.waited_for_the_read: bool | None = None
        self.wal_bytes_while_held = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="write-held")

    def _run(self) -> None:
        try:
            with Session(self.engine) as session:
                serialise_imports(session)
                session.execute(update(Fund).where(Fund.code == "QY").values(name=PENDING_NAME))
                path = _file(self.engine)
                if path is not None:
                    session.execute(text("PRAGMA cache_size = 16"))  # pages: the writes spill at once
                    session.execute(text("CREATE TABLE wal_spill (b BLOB)"))
                    session.execute(text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
                                         "INSERT INTO wal_spill SELECT zeroblob(4096) FROM n"))
                    session.execute(text("DROP TABLE wal_spill"))
                    wal = path.with_name(path.name + "-wal")
                    self.wal_bytes_while_held = wal.stat().st_size if wal.exists() else 0
                self.held.set()
                self.waited_for_the_read = self.done.wait(30)
                session.commit()
        except BaseException as error:  # said by the test, not lost in the thread
            self.error = error
            self.held.set()

    def __enter__(self) -> WriteHeld:
        self.thread.start()
        assert self.held.wait(30)
        assert self.error is None, self.error
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join(60)
        assert self.error is None, self.error


@pytest.fixture
def reading(waiting_app, book):
    """The same database, through an app whose requests wait WAIT seconds for the book."""
    return waiting_app(WAIT)


def test_a_page_and_a_report_read_the_committed_book_while_an_import_writes(reading, db):
    """A fund's page, read first while the import writes, computes its reports and stores them in
    the shared cache (portfolio.book.cache.shared_put): storing waits a moment for the write
    lock, then is skipped (a report not stored is computed again), never the busy timeout at
    each report (before: 5 s each here, 15 s by default)."""
    make_user(db, "viewer1", "viewer")
    client = reading.test_client()
    assert login(client, "viewer1").status_code == 302
    read: dict = {}

    def reader() -> None:
        started = time.monotonic()
        read["page"] = client.get("/funds/QY")
        read["api"] = client.get("/api/v1/funds/QY/report?as_of=2025-12-31")
        read["seconds"] = time.monotonic() - started
        holder.done.set()  # the writer lets go only now

    holder = WriteHeld(db.engine)
    with holder:
        thread = threading.Thread(target=reader, name="reader")
        thread.start()
        thread.join(60)
    assert holder.waited_for_the_read is True  # the write was pending all through the read
    page, api = read["page"], read["api"]
    assert page.status_code == 200 and api.status_code == 200, (page.status_code, api.status_code)
    html = page.get_data(as_text=True)
    assert read["seconds"] < WAIT  # never waited out a busy timeout, not even once
    assert COMMITTED_NAME in html and PENDING_NAME not in html  # the last commit, not the pending write
    assert PENDING_NAME not in api.get_data(as_text=True)
    if _file(db.engine) is not None:
        assert holder.wal_bytes_while_held > 8_000_000  # the pending writes were on disk, in the -wal file
    after = client.get("/funds/QY")  # committed now: read as it is
    assert after.status_code == 200 and PENDING_NAME in after.get_data(as_text=True)


def test_a_backup_taken_while_a_write_is_pending_holds_the_committed_rows(impatient, db, tmp_path):
    """The backup reads through SQLite's connection, so what is committed but still only in the
    -wal file (not yet copied into the database file by a checkpoint) is in the archive; the
    pending write is not. A restore writes through the connection too: once the app lets go of
    the restored file, no -wal or -shm is left beside it, and the file alone holds every row."""
    path = _file(db.engine)
    pinned = None
    if path is not None:  # a reader's old snapshot: no checkpoint copies the next commit into the file
        pinned = sqlite3.connect(path, isolation_level=None)
        pinned.execute("BEGIN")
        pinned.execute("SELECT count(*) FROM cash_flows").fetchone()
    try:
        records.record_cash_flow(db.session, {"investment_id": "QY-CO1", "date": "2025-12-15", "type": "distribution",
                                              "amount_cny": "8765.43", "ref": "WAL-COMMITTED"}, username="mgr")
        db.session.remove()
        archive = tmp_path / "during.zip"
        with WriteHeld(db.engine) as holder, impatient.app_context():
            started = time.monotonic()
            with Session(db.engine) as session:  # the impatient app's engine: waits 1 s at most
                counts = write_backup(session, archive, tmp_path / "uploads")
            seconds = time.monotonic() - started
            if path is not None:
                alone = tmp_path / "alone.sqlite"  # the database file without its -wal file
                shutil.copyfile(path, alone)
                with sqlite3.connect(alone) as copy:
                    in_the_file = copy.execute("SELECT count(*) FROM cash_flows WHERE ref = 'WAL-COMMITTED'").fetchone()[0]
                assert in_the_file == 0  # the committed row was in the -wal file only
        assert holder.waited_for_the_read is True
    finally:
        if pinned is not None:
            pinned.close()
    assert seconds < 5 and counts["cash_flows"] > 0
    with zipfile.ZipFile(archive) as zipped:
        flows = zipped.read("tables/cash_flows.jsonl").decode()
        funds = zipped.read("tables/funds.jsonl").decode()
    assert "WAL-COMMITTED" in flows  # committed: in the backup
    assert COMMITTED_NAME in funds and PENDING_NAME not in funds  # pending at the time: not

    restored_path = tmp_path / "restored.sqlite"
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{restored_path}",
                        "UPLOAD_FOLDER": str(tmp_path / "uploads-restored"),
                        "JOBS_QUEUE_FILE": str(tmp_path / "queue-restored.sqlite")})
    with other.app_context():
        db.create_all()
        with Session(db.engine) as session:
            restore_backup(session, archive, tmp_path / "uploads-restored", username="test")
        assert db.session.scalar(select(Fund.name).where(Fund.code == "QY")) == COMMITTED_NAME
        db.session.remove()
        db.engine.dispose()  # the app lets go of the file
    assert not restored_path.with_name("restored.sqlite-wal").exists()
    assert not restored_path.with_name("restored.sqlite-shm").exists()
    with sqlite3.connect(restored_path) as alone:
        assert alone.execute("SELECT count(*) FROM cash_flows WHERE ref = 'WAL-COMMITTED'").fetchone()[0] == 1
        assert alone.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_file_database_is_in_wal_with_every_commit_synced(app, db):
    """WAL is kept in the file (any later connection, the sqlite3 shell's too, opens it so);
    synchronous FULL on the app's connections: a commit answered survives a power cut."""
    path = _file(db.engine)
    if path is None:
        pytest.skip("a SQLite file only (PostgreSQL keeps its own log)")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    with sqlite3.connect(path) as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # the job queue's own file (Huey's SqliteStorage) is in WAL too, by Huey's default
    from web import queue

    queue.get_huey()
    with sqlite3.connect(app.config["JOBS_QUEUE_FILE"]) as jobs:
        assert jobs.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_in_memory_database_keeps_working(tmp_path):
    """WAL does not apply in memory: SQLite keeps its own journal there, and the app works as before."""
    from web.extensions import db as memory_db

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "WTF_CSRF_ENABLED": False,
                      "JOBS_QUEUE_FILE": str(tmp_path / "queue.sqlite")})
    with app.app_context():
        memory_db.create_all()
        make_user(memory_db, "in-memory", "viewer")
        with memory_db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "memory"
        assert login(app.test_client(), "in-memory").status_code == 302
        memory_db.session.remove()
        memory_db.engine.dispose()


def test_a_file_in_the_rollback_journal_turns_to_wal_once_its_writer_lets_go(tmp_path):
    """A file made in the rollback journal (a book kept before, or made by another tool) turns to
    WAL at the app's first connection. That takes the file alone for a moment, and SQLite does not
    wait for a writer holding it (no busy handler for that step): the connection tries again
    until the writer lets go, within the wait, rather than failing with "database is locked"."""
    from web.extensions import db as file_db

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as old:
        assert old.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        old.execute("CREATE TABLE kept (x)")
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO kept VALUES (1)")
    threading.Timer(0.5, lambda: writer.execute("COMMIT")).start()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "BOOK_LOCK_WAIT": 5,
                      "JOBS_QUEUE_FILE": str(tmp_path / "queue.sqlite")})
    try:
        with app.app_context(), file_db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("SELECT count(*) FROM kept").scalar() == 1  # after the writer's commit
    finally:
        with app.app_context():
            file_db.engine.dispose()
        writer.close()


def test_storing_a_report_leaves_the_connection_waiting_as_before(app, db):
    """The brief wait of a report's store is its own: the pooled connection goes back to the
    next user with the app's busy timeout (BOOK_LOCK_WAIT), which every writer counts on."""
    from portfolio.book import cache

    if _file(db.engine) is None:
        pytest.skip("SQLite's busy timeout")
    db.session.remove()
    db.engine.dispose()  # one connection in the pool: the store's, handed out next
    cache.shared_put(db.session, "probe", "QY", "2025Q4", "v1", b"{}")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == app.config["BOOK_LOCK_WAIT"] * 1000
        assert connection.exec_driver_sql("SELECT count(*) FROM report_cache WHERE what = 'probe'").scalar() == 1

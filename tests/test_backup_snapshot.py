"""A backup is one snapshot of the database: written while another thread commits, again and
again, a new investment with its cash flow and their audit entries, the archive holds each of
those commits whole or not at all — no cash flow without its investment, no row without its
audit entry nor an entry without its row — and the book version its manifest names is the
last one it holds; it restores. The backup is run as `flask backup` runs it (a job, with its
progress), on SQLite (WAL) and PostgreSQL, and a commit lands between every two tables it
reads (its reads are held until the writer has committed once more).

Before, each table was read at its own moment on the caller's session (SQLite: every SELECT
its own read; PostgreSQL: READ COMMITTED): the commits that landed meanwhile left the audit
trail read before their rows, and the investments before their flows, and the restore
refused the archive (a flow naming a missing investment)."""
from __future__ import annotations

import datetime as dt
import json
import threading
import zipfile
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Base, CashFlow, Company, Fund, Investment, Job
from portfolio.book import backup
from portfolio.book.audit import audit, snapshot
from portfolio.book.backup import restore_backup, tables, write_backup
from portfolio.book.cache import BOOK_ENTITIES
from portfolio.book.unit import commit
from tests.test_concurrency import book as book  # noqa: F401  (the fixture)

WRITER = "race-writer"


class Writer:
    """Commits, until stopped, an investment and its cash flow with their two audit entries,
    in one transaction each, on its own session; counts its commits."""

    def __init__(self, app, db, fund: str, company: str) -> None:
        self.app, self.db, self.fund, self.company = app, db, fund, company
        self.commits = 0
        self.changed = threading.Condition()
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="book-writer")

    def _run(self) -> None:
        try:
            with self.app.app_context(), Session(self.db.engine) as session:
                while not self.stop.is_set():
                    number = self.commits + 1
                    investment = Investment(id=f"RACE-{number}", fund_code=self.fund, mode="direct",
                                            company_code=self.company, date=dt.date(2025, 1, 2),
                                            commitment_cny=Decimal("1000000"))
                    session.add(investment)
                    session.flush()
                    audit(session, WRITER, "create", "investments", investment.id, after=snapshot(investment))
                    flow = CashFlow(investment_id=investment.id, date=dt.date(2025, 1, 3), type="contribution",
                                    amount_cny=Decimal("1000.01"))
                    session.add(flow)
                    session.flush()
                    audit(session, WRITER, "create", "cash_flows", str(flow.id), after=snapshot(flow))
                    commit(session)
                    with self.changed:
                        self.commits = number
                        self.changed.notify_all()
        except BaseException as error:  # seen by the test
            self.error = error
            with self.changed:
                self.changed.notify_all()

    def one_more(self) -> None:
        """Wait until the writer has committed once more."""
        with self.changed:
            seen = self.commits
            assert self.changed.wait_for(lambda: self.commits > seen or self.error is not None, timeout=30)

    def __enter__(self) -> Writer:
        self.thread.start()
        with self.changed:
            assert self.changed.wait_for(lambda: self.commits >= 1 or self.error is not None, timeout=30)
        return self

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        self.thread.join(60)
        assert not self.thread.is_alive()


def _lines(archive: zipfile.ZipFile, table: str) -> list[dict]:
    return [json.loads(line) for line in archive.read(f"tables/{table}.jsonl").splitlines()]


def test_a_backup_taken_while_the_book_is_written_is_one_snapshot(app, db, book, runner, tmp_path, monkeypatch):
    fund = db.session.scalar(select(Fund.code).order_by(Fund.code))
    company = db.session.scalar(select(Company.code).order_by(Company.code))
    db.session.remove()
    archive_path = tmp_path / "during.zip"

    read_table = backup._table_rows

    with Writer(app, db, fund, company) as writer:
        def after_a_commit(session, table):  # a commit lands before each table is read
            writer.one_more()
            yield from read_table(session, table)

        monkeypatch.setattr(backup, "_table_rows", after_a_commit)
        result = runner.invoke(args=["backup", str(archive_path)])
        monkeypatch.undo()
        writer.one_more()  # and after the backup: the archive is older than the book
    assert writer.error is None, writer.error
    assert result.exit_code == 0, result.output
    assert writer.commits > len(tables())

    with zipfile.ZipFile(archive_path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        investments = {row["id"] for row in _lines(archive, "investments")}
        flows = _lines(archive, "cash_flows")
        trail = _lines(archive, "audit_log")
        counted = {entry["name"]: entry["rows"] for entry in manifest["tables"]}
        assert all(counted[t.name] == len(archive.read(f"tables/{t.name}.jsonl").splitlines()) for t in tables())

    orphans = sorted({f["investment_id"] for f in flows} - investments)
    assert orphans == [], f"cash flows whose investment is not in the archive: {orphans[:5]}"
    rows = ({("investments", key) for key in investments if key.startswith("RACE-")}
            | {("cash_flows", str(f["id"])) for f in flows if f["investment_id"].startswith("RACE-")})
    entries = {(e["entity"], e["entity_key"]) for e in trail if e["username"] == WRITER}
    assert sorted(rows - entries) == [], "rows without their audit entry"
    assert sorted(entries - rows) == [], "audit entries without their row"
    held = len([key for key in investments if key.startswith("RACE-")])
    assert 1 <= held < writer.commits  # some commits in, the later ones not
    # one book version: the manifest's is the last book entry the archive holds
    last = max(e["id"] for e in trail if e["entity"] in BOOK_ENTITIES)
    assert manifest["book_version"].startswith(f"{last}.")

    # the job recorded its progress to the end: every table written
    job = db.session.execute(select(Job).where(Job.kind == "backup")).scalar_one()
    assert (job.state, job.unit, job.done, job.total) == ("done", "tables_written", len(tables()), len(tables()))
    assert job.result["counts"]["investments"] == len(investments)

    # and it restores, whole
    bind = db.session.get_bind()
    db.session.close()
    Base.metadata.drop_all(bind)
    Base.metadata.create_all(bind)
    counts = restore_backup(db.session, archive_path, tmp_path / "restored", username="test")
    assert counts["cash_flows"] == len(flows) and counts["investments"] == len(investments)


def test_the_callers_session_is_neither_read_nor_held(app, db, book, tmp_path):
    """The snapshot is read on a connection of its own: what the caller's session has written
    but not committed is not in the archive (a backup holds committed commits only), and the
    session goes on afterwards, its write committed, another one after it (on SQLite a read
    snapshot held on it would have made its next write fail once the file moved on)."""
    session = db.session
    fund = session.scalar(select(Fund.code).order_by(Fund.code))
    company = session.scalar(select(Company.code).order_by(Company.code))

    def investment(key: str) -> Investment:
        return Investment(id=key, fund_code=fund, mode="direct", company_code=company,
                          date=dt.date(2025, 1, 2), commitment_cny=Decimal("1"))

    session.add(investment("MINE-1"))
    session.flush()
    audit(session, "me", "create", "investments", "MINE-1")
    session.flush()
    write_backup(session, tmp_path / "b.zip", tmp_path / "uploads")
    with zipfile.ZipFile(tmp_path / "b.zip") as archive:
        held = {row["id"] for row in _lines(archive, "investments")}
    assert "MINE-1" not in held and held
    commit(session)
    session.add(investment("MINE-2"))
    audit(session, "me", "create", "investments", "MINE-2")
    commit(session)
    db.session.remove()
    with Session(db.engine) as fresh:
        assert fresh.scalars(select(Investment.id).where(Investment.id.like("MINE-%"))).all() == ["MINE-1", "MINE-2"]

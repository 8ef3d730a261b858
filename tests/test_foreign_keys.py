"""Both databases refuse a row that names a missing one: SQLite checks foreign keys only on a
connection that asks (web.extensions.enforce_foreign_keys), and its batch migrations turn the
check off for themselves and check every row after (migrations/env.py)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from models import CashFlow, Fund
from models.committee import Meeting, MeetingAttendance
from tests.conftest import make_user

# before the GP portal's migration, which copies the users table (a new role in its check):
# on SQLite a batch migration drops the original, which votes and attendance refer to
BEFORE_USERS_COPIED = "ccd19b0e7c62"


def _fund_with_meeting(db) -> None:
    db.session.add(Fund(code="F", name="基金", kind="innovation_fund", size_cny=Decimal("1000000000"),
                        vintage_year=2023, settings={}))
    db.session.add(Meeting(id=1, fund_code="F", date=dt.date(2024, 5, 1), created_by="test"))
    db.session.flush()


@pytest.fixture
def migrated(app, db, database_url):
    """A SQLite book built by the migrations; call it to go back across the users table's copy
    and up again."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's batch migrations (PostgreSQL alters the table in place)")
    directory = app.root_path + "/migrations"
    db.drop_all()
    upgrade(directory=directory)

    def down_and_up() -> None:
        downgrade(directory=directory, revision=BEFORE_USERS_COPIED)
        upgrade(directory=directory)
    return down_and_up


def test_a_cash_flow_of_a_missing_investment_is_refused(db):
    db.session.add(CashFlow(investment_id=987654, date=dt.date(2024, 3, 31), type="contribution",
                            amount_cny=Decimal("100.00")))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CashFlow)) == 0


def test_attendance_of_someone_who_is_not_a_user_is_refused(db):
    _fund_with_meeting(db)
    db.session.add(MeetingAttendance(meeting_id=1, member="nobody", recorded_by="test"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_migration_that_copies_a_referred_table_keeps_the_rows_and_the_check(db, migrated):
    make_user(db, "member1", "committee")
    _fund_with_meeting(db)
    db.session.add(MeetingAttendance(meeting_id=1, member="member1", recorded_by="test"))
    db.session.commit()
    db.session.close()

    migrated()

    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT member FROM meeting_attendance")).scalars().all() == ["member1"]
        assert conn.execute(text("SELECT username FROM users")).scalars().all() == ["member1"]
        # the pooled connection the migration used asks for the check again
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    db.session.add(MeetingAttendance(meeting_id=1, member="nobody", recorded_by="test"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_book_with_a_row_referring_to_nothing_still_upgrades_and_is_told(db, migrated, capfd):
    """A book kept on SQLite before its connections checked foreign keys may hold a row that
    refers to nothing: its upgrade goes through, and says so."""
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
        conn.exec_driver_sql("INSERT INTO cash_flows (investment_id, date, type, amount_cny) "
                             "VALUES ('GONE', '2024-03-31', 'contribution', 100)")
        conn.commit()
        conn.exec_driver_sql("PRAGMA foreign_keys = ON")
        conn.commit()
    capfd.readouterr()
    migrated()
    told = "".join(capfd.readouterr())
    assert "rows refer to rows that do not exist" in told and "cash_flows" in told
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT investment_id FROM cash_flows").scalars().all() == ["GONE"]

"""An import that changes many rows updates them set-wise (portfolio/interchange/bulk.py's
bulk_update: one prepared UPDATE on SQLite, COPY + UPDATE … FROM on PostgreSQL) and leaves
exactly what SQLAlchemy's ORM bulk UPDATE by primary key left before it: the same rows, the
same audit entries; and a row gone from under it still refuses the whole import."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from models import AuditEntry, CashFlow, Company
from portfolio.interchange import importing
from portfolio.interchange.bulk import bulk_update
from portfolio.interchange.synthetic import generate_heavy_book
from tests.book_files import read_csv_book, write_csv_book


def _orm_update(session, model, rows):
    """What write_import did before bulk_update: SQLAlchemy's ORM bulk UPDATE by primary key."""
    session.execute(update(model), list(rows))


def _books(tmp_path):
    """A small synthetic book, and the same book with many rows of every sheet changed."""
    folder = generate_heavy_book(tmp_path / "small", investments=30, flows=400, valuations=120, holdings=80, seed=3)
    before = read_csv_book(folder)
    after = read_csv_book(folder)
    for i, row in enumerate(after["cash_flows"]):
        if i % 3 != 2:
            row["note"] = (row["note"] or "") + f"（更正{i}）"
    for i, row in enumerate(after["companies"]):
        if i % 2 == 0:
            row["name"] = row["name"] + "（更名）"
    for row in after["investments"][::2]:
        row["ownership_pct"] = "7.25" if row.get("ownership_pct") else row.get("ownership_pct", "")
    for row in after["valuations"][::2]:
        row["fair_value_cny"] = f"{int(float(row['fair_value_cny'])) + 1234.56:.2f}"
    for row in after["sub_fund_holdings"][::2]:
        row["fair_value_cny"] = f"{int(float(row['fair_value_cny'])) + 99:.2f}"
    for row in after["sub_funds"][::2]:
        row["manager"] = (row.get("manager") or "") + "（新）"
    after["funds"][0]["name"] = after["funds"][0]["name"] + "（更名）"
    return write_csv_book(tmp_path / "before", before), write_csv_book(tmp_path / "after", after)


def _state(db) -> dict:
    """Every row of the book's tables, and the second import's audit entries (their time and
    batch aside: each run has its own)."""
    db.session.expire_all()
    state = {}
    for model in importing.TABLES.values():
        table = model.__table__
        state[table.name] = [tuple(r) for r in db.session.execute(
            select(table).order_by(*table.primary_key.columns)).all()]
    state["audit"] = [(e.username, e.action, e.entity, e.entity_key, e.before, e.after, e.reason)
                      for e in db.session.execute(select(AuditEntry).where(AuditEntry.username == "second")
                                                  .order_by(AuditEntry.id)).scalars()]
    return state


def _run(db, before, after):
    first = importing.import_book(db.session, before, username="first")
    assert first.ok, [str(e) for e in first.errors[:5]]
    second = importing.import_book(db.session, after, username="second")
    assert second.ok, [str(e) for e in second.errors[:5]]
    return second.counts


def test_many_changed_rows_give_the_same_rows_and_audit_as_the_orm_path(db, tmp_path, monkeypatch):
    # the import's clock stopped (valuations' approved_at is the import's time), for both runs alike
    monkeypatch.setattr(importing, "utcnow", lambda: dt.datetime(2026, 3, 1, 9, 30, 15, 123456))
    before, after = _books(tmp_path)
    counts = _run(db, before, after)
    new_way = _state(db)
    changed = {sheet: c["changed"] for sheet, c in counts.items()}
    assert changed["cash_flows"] > 200 and changed["companies"] >= 10 and changed["valuations"] >= 50
    assert changed["sub_fund_holdings"] >= 30 and changed["funds"] == 1 and changed["investments"] >= 1
    assert sum(1 for a in new_way["audit"] if a[1] == "import_update") == sum(changed.values())

    db.session.remove()
    db.drop_all()
    db.create_all()
    monkeypatch.setattr(importing, "bulk_update", _orm_update)
    assert _run(db, before, after) == counts
    old_way = _state(db)
    assert old_way.keys() == new_way.keys()
    for name in old_way:
        assert old_way[name] == new_way[name], name
    # and concretely: the note, the name and the amount the book now says, audited before → after
    flow = db.session.execute(select(CashFlow).where(CashFlow.note.like("%（更正0）"))).scalar_one()
    assert flow.note.endswith("（更正0）")
    renamed = [a for a in new_way["audit"] if a[2] == "companies" and a[1] == "import_update"]
    assert renamed and all(a[5]["name"] == a[4]["name"] + "（更名）" for a in renamed)
    valued = [a for a in new_way["audit"] if a[2] == "valuations" and a[1] == "import_update"]
    assert all(a[5]["fair_value_cny"] != a[4]["fair_value_cny"] and a[5]["fair_value_cny"].endswith(".56")
               for a in valued)


def test_a_row_gone_from_under_the_update_refuses_it_whole(db, tmp_path):
    before, after = _books(tmp_path)
    assert importing.import_book(db.session, before, username="first").ok
    company = db.session.execute(select(Company).order_by(Company.code)).scalars().first()
    rows = [{"code": company.code, "name": "甲"}, {"code": "NO-SUCH-CODE", "name": "乙"}]
    with pytest.raises(StaleDataError, match="expected to update 2 row"):
        bulk_update(db.session, Company, rows)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Company, company.code).name != "甲"  # nothing written
    # through the import: planned, then a changed row deleted before the write → refused whole
    importing.serialise_imports(db.session)
    result = importing.plan_import(db.session, after, username="second")
    assert result.ok
    flows = next(p for p in result.plan if p.sheet == "cash_flows")
    gone = flows.updates[0]["id"]
    db.session.execute(CashFlow.__table__.delete().where(CashFlow.id == gone))
    with pytest.raises(SQLAlchemyError):
        importing.write_import(db.session, result)
    db.session.rollback()
    assert db.session.get(CashFlow, gone) is not None
    assert db.session.execute(select(AuditEntry).where(AuditEntry.username == "second")).first() is None


def test_a_database_error_in_the_update_is_sqlalchemys(db, tmp_path):
    """A constraint broken by an update comes out as SQLAlchemy's error (the import's callers
    turn it into a refusal in words), never the driver's bare exception."""
    before, _after = _books(tmp_path)
    assert importing.import_book(db.session, before, username="first").ok
    flow = db.session.execute(select(CashFlow).order_by(CashFlow.id)).scalars().first()
    with pytest.raises(SQLAlchemyError):
        bulk_update(db.session, CashFlow, [{"id": flow.id, "type": "not-a-flow-type", "date": dt.date(2020, 1, 1)}])
    db.session.rollback()


def test_a_whole_number_pandas_made_a_float_updates_its_row(db, tmp_path):
    """An id through a merge with gaps comes as 4.0: the row with id 4 is updated, on
    PostgreSQL's COPY path too (which takes text, not a cast of a bound float)."""
    before, _after = _books(tmp_path)
    assert importing.import_book(db.session, before, username="first").ok
    flows = db.session.execute(select(CashFlow).order_by(CashFlow.id).limit(2)).scalars().all()
    bulk_update(db.session, CashFlow, [{"id": float(f.id), "note": f"改{i}"} for i, f in enumerate(flows)])
    db.session.commit()
    db.session.expire_all()
    assert [db.session.get(CashFlow, f.id).note for f in flows] == ["改0", "改1"]

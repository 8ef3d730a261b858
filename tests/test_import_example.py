"""The spec's example book (spec/example/book) imports with the right counts, and a
second import of it is all unchanged."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from models import AuditEntry, CashFlow, Investment, SubFundHolding, Valuation
from portfolio.interchange.importing import import_book
from tests.conftest import EXAMPLE_BOOK

# row counts of the example book's CSV files (spec/example/book)
EXPECTED_NEW = {"funds": 1, "sub_funds": 1, "companies": 4, "investments": 3, "cash_flows": 7,
                "valuations": 5, "sub_fund_holdings": 2}


def test_example_book_imports_then_reimports_unchanged(db):
    first = import_book(db.session, EXAMPLE_BOOK, username="importer")
    assert first.ok, [str(e) for e in first.errors]
    assert first.counts == {s: {"new": n, "unchanged": 0, "changed": 0} for s, n in EXPECTED_NEW.items()}

    second = import_book(db.session, EXAMPLE_BOOK, username="importer")
    assert second.ok
    assert second.counts == {s: {"new": 0, "unchanged": n, "changed": 0} for s, n in EXPECTED_NEW.items()}
    assert db.session.scalar(select(func.count()).select_from(CashFlow)) == 7
    # the second import wrote nothing, not even audit entries
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.batch == second.batch)) == 0


def test_example_book_values_land_exactly(db):
    assert import_book(db.session, EXAMPLE_BOOK, username="importer").ok
    co1 = db.session.get(Investment, "QY-CO1")
    assert (co1.mode, co1.company_code, co1.alongside_code, co1.sub_fund_code) == ("co_invest", "C2", "SF1", None)
    assert co1.commitment_cny == Decimal("30000000.00") and co1.lead_amount_cny == Decimal("60000000.00")
    assert co1.ownership_pct == Decimal("2")
    sf1 = db.session.get(Investment, "QY-SF1")
    assert (sf1.sub_fund_code, sf1.company_code) == ("SF1", None)
    total = db.session.scalar(select(func.sum(CashFlow.amount_cny)).where(CashFlow.type == "contribution"))
    assert Decimal(total) == Decimal("530000000.00")  # README: fund paid_in 530,000,000
    vals = db.session.execute(select(Valuation)).scalars().all()
    assert all(v.approved_by == "importer" and v.approved_at is not None for v in vals)
    holding = db.session.execute(select(SubFundHolding).where(SubFundHolding.company_code == "C3")).scalar_one()
    assert holding.fair_value_cny == Decimal("360000000.00")


def test_new_rows_are_audited_in_one_batch(db):
    result = import_book(db.session, EXAMPLE_BOOK, username="importer")
    entries = db.session.execute(select(AuditEntry).where(AuditEntry.batch == result.batch)).scalars().all()
    assert len(entries) == sum(EXPECTED_NEW.values())
    assert {e.username for e in entries} == {"importer"}
    d1 = next(e for e in entries if e.entity == "investments" and e.entity_key == "QY-D1")
    assert d1.before is None and d1.after["commitment_cny"] == "100000000.00" and d1.after["round"] == "B轮"

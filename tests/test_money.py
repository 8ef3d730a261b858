"""Money is exact to the fen on SQLite and PostgreSQL, up to 10^15 yuan, sums included."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import func, select

from models import CashFlow, Company, Fund, Investment


def _book(db):
    db.session.add(Fund(code="F", name="基金", kind="innovation_fund", size_cny=Decimal("999999999999999.99"),
                        vintage_year=2023, settings={}))
    db.session.add(Company(code="C1", name="企业", credit_code="913302067JH4BXKF5Y", sector="robotics",
                           region_code="330206"))
    db.session.add(Investment(id="I1", fund_code="F", mode="direct", company_code="C1",
                              date=dt.date(2023, 1, 1), commitment_cny=Decimal("999999999999.99")))
    db.session.commit()


def test_large_and_many_small_amounts_are_exact(db):
    _book(db)
    rng = random.Random(7)
    small = [Decimal(rng.randint(1, 99_999)) / 100 for _ in range(5000)]
    amounts = [Decimal("999999999999.99")] + small
    db.session.add_all(CashFlow(investment_id="I1", date=dt.date(2023, 1, 2), type="contribution",
                                amount_cny=a) for a in amounts)
    db.session.commit()
    db.session.expire_all()

    stored = db.session.execute(select(CashFlow.amount_cny).order_by(CashFlow.id)).scalars().all()
    assert stored == amounts
    assert all(isinstance(a, Decimal) for a in stored)
    total = db.session.execute(select(func.sum(CashFlow.amount_cny))).scalar_one()
    assert isinstance(total, Decimal)
    assert total == sum(amounts, Decimal(0))
    fund_size = db.session.execute(select(Fund.size_cny)).scalar_one()
    assert fund_size == Decimal("999999999999999.99")


def test_sub_fen_input_rounds_half_up_to_the_fen(db):
    _book(db)
    db.session.add(CashFlow(investment_id="I1", date=dt.date(2023, 1, 2), type="contribution",
                            amount_cny=Decimal("0.005")))
    db.session.commit()
    db.session.expire_all()
    assert db.session.execute(select(CashFlow.amount_cny)).scalar_one() == Decimal("0.01")

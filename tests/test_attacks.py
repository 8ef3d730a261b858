"""The issue's first list (issue 12), the attacks not replayed in another test file: a sum
beyond 64 bits and `1e17` typed into the cash-flow form. (The others are replayed beside the
code that stops them; each runs on SQLite and on PostgreSQL with DATABASE_URL.)

The 64-bit sum is still open: each amount is bounded (15 integer digits) but 200 of them,
entered one by one (each past the commitment confirmed with a reason), make the API report a
wrapped paid-in. The test is kept, expected to fail, until the figures engine sums exactly."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from models import CashFlow, Company, Fund, Investment

BIG = Decimal("999999999999999.99")  # the bound: 15 integer digits
N = 200  # 200 × ~10^15 yuan = ~2×10^17 yuan = ~2×10^19 fen, beyond 2^63 - 1 (~9.2×10^18)


def test_a_sum_beyond_64_bits_is_never_wrapped_round(db, as_role):
    """Attack: flows of about 1.9e17 in all made the API report 5,532,559,316,314,499 (a
    64-bit sum of fen wrapped round). Now the figures engine measures the book's amounts
    before it adds them up: past 2^62 fen no sum is exact in 64 bits, so the report is
    refused, said plainly (API 422 in JSON, the fund page a 422 page), never a wrong figure
    and never a 500; below the bound the sums are exact (the other tests)."""
    db.session.add(Fund(code="F", name="大基金", kind="innovation_fund", size_cny=BIG, vintage_year=2023, settings={}))
    db.session.add(Company(code="C1", name="企业", credit_code="913302067JH4BXKF5Y", sector="robotics",
                           region_code="330206"))
    db.session.add(Investment(id="I1", fund_code="F", mode="direct", company_code="C1", date=dt.date(2023, 1, 1),
                              commitment_cny=BIG))
    db.session.flush()  # the investment first: no relationship orders these inserts (PostgreSQL checks the key)
    db.session.add_all(CashFlow(investment_id="I1", date=dt.date(2023, 1, 2), type="contribution", amount_cny=BIG,
                                approved_at=dt.datetime(2023, 1, 3)) for _ in range(N))
    db.session.commit()
    assert BIG * N * 100 > 2 ** 63  # in fen, past what a 64-bit integer holds
    client = as_role("viewer")
    response = client.get("/api/v1/funds/F/report?as_of=2024-12-31")
    assert response.status_code == 422
    assert "精确计算" in response.get_json()["message"]
    assert "5532559316314499" not in response.get_data(as_text=True).replace(",", "")
    page = client.get("/funds/F?as_of=2024-12-31")
    assert page.status_code == 422 and "精确计算" in page.get_data(as_text=True)
    # the form's own doubt (contributions beyond the commitment) adds up exactly, no SQL SUM overflow
    from portfolio.book.sanity import flow_doubts

    investment = db.session.get(Investment, "I1")
    doubts = flow_doubts(db.session, investment, dt.date(2024, 1, 2), "contribution", Decimal("1"))
    assert doubts and "将超过认缴额" in doubts[0]


def _walk(node, key=None):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)
    else:
        yield key, node


def test_1e17_typed_into_the_cash_flow_form_is_a_field_error_not_a_500(db, as_role):
    from portfolio.interchange.importing import import_book
    from tests.conftest import EXAMPLE_BOOK

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    before = db.session.scalar(select(func.count()).select_from(CashFlow))
    client = as_role("manager")
    for typed in ("1e17", "1E17", "100000000000000000"):
        response = client.post("/book/cash-flows/new", data={"investment_id": "QY-D1", "date": "2025-10-01",
                                                             "type": "distribution", "amount_cny": typed})
        assert response.status_code == 200 and 'data-field="amount_cny"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CashFlow)) == before

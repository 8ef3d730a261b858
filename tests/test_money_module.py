"""portfolio.money: the conversions and the one parser for amounts people type."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolio.money import MAX_AMOUNT, AmountError, fen, parse_amount, yuan


@pytest.mark.parametrize("text, expected", [
    ("1234567.89", Decimal("1234567.89")),
    ("1,234,567.89", Decimal("1234567.89")),
    ("１，２３４．５", Decimal("1234.50")),      # full-width digits and comma, as typed with a Chinese IME
    (" 12 ", Decimal("12.00")),
    ("-5", Decimal("-5.00")),                  # the sign is kept: the caller's rule says if it is allowed
    ("1000000000000000", MAX_AMOUNT),
    (Decimal("3.1"), Decimal("3.10")),
    (7, Decimal("7.00")),
])
def test_amounts_people_type(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text, message", [
    ("1,5", "应为金额"),            # 1.5 or 15? neither is guessed
    ("12,34,567", "应为金额"),
    ("1e16", "应为金额"),
    ("1E3", "应为金额"),
    ("NaN", "应为金额"),
    ("Infinity", "应为金额"),
    ("", "应为金额"),
    ("12.345", "两位小数"),
    ("1000000000000000.01", "过大"),
    ("90000000000000000", "过大"),
    (Decimal("NaN"), "应为金额"),
])
def test_what_is_not_an_amount_is_refused_with_a_reason(text, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(text)


@given(st.integers(min_value=-10**17, max_value=10**17))
def test_fen_and_yuan_round_trip_exactly(n):
    assert fen(yuan(n)) == n
    assert yuan(n).as_tuple().exponent == -2


@pytest.mark.parametrize("amount, expected", [("0.005", 1), ("0.004", 0), ("123.455", 12346), ("-0.005", -1)])
def test_fen_rounds_half_up(amount, expected):
    assert fen(Decimal(amount)) == expected


@pytest.mark.parametrize("typed, reason", [("1e16", "应为金额"), ("90000000000000000", "过大"), ("1e30", "应为金额"),
                                           ("1,5", "应为金额"), ("12.345", "两位小数")])
def test_the_cash_flow_form_refuses_what_is_not_an_amount_beside_the_field(db, as_role, typed, reason):
    from sqlalchemy import func, select

    from models import CashFlow
    from portfolio.interchange.importing import import_book
    from tests.conftest import EXAMPLE_BOOK

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    before = db.session.scalar(select(func.count()).select_from(CashFlow))
    client = as_role("manager")
    response = client.post("/book/cash-flows/new", data={"investment_id": "QY-D1", "date": "2025-10-01",
                                                         "type": "contribution", "amount_cny": typed})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-field="amount_cny"' in page and reason in page
    assert f'value="{typed}"' in page  # what was typed is shown again
    assert db.session.scalar(select(func.count()).select_from(CashFlow)) == before

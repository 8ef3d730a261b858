"""portfolio.money: the conversions and the one parser for amounts people type."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolio.money import MAX_AMOUNT, AmountError, fen, in_unit, parse_amount, yuan


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


@pytest.mark.parametrize("text, expected_fen", [
    ("1.5", 1_500_000),                # 1.5 万元 = 15,000 元
    ("1,234.5", 1_234_500_000),
    ("0.000001", 1),                   # one fen, the finest an amount in 万元 can be
    ("1.234567", 1_234_567),
    ("１２", 12_000_000),
    ("100000000000", fen(MAX_AMOUNT)),  # 10^11 万元 = MAX_AMOUNT yuan
])
def test_amounts_typed_in_wan_are_exact_yuan(text, expected_fen):
    amount = parse_amount(text, unit="wan")
    assert fen(amount) == expected_fen and amount.as_tuple().exponent == -2


@pytest.mark.parametrize("text, message", [
    ("0.0000001", "六位小数"),          # a tenth of a fen: refused, never rounded
    ("1.2345675", "六位小数"),
    ("100000000000.01", "过大"),
    ("1,5", "应为金额（万元）"),
    ("1e3", "应为金额（万元）"),
])
def test_what_is_not_an_amount_in_wan_is_refused_with_a_reason(text, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(text, unit="wan")


@given(st.integers(min_value=-10**17, max_value=10**17))
def test_an_amount_shown_in_wan_reads_back_exactly(n):
    """What a correction form shows (in_unit) is what it stores when sent back unchanged."""
    shown = in_unit(yuan(n), "wan")
    assert parse_amount(shown, unit="wan") == yuan(n)
    assert parse_amount(in_unit(yuan(n), "yuan"), unit="yuan") == yuan(n)


def test_in_unit_writes_the_stored_value_without_rounding():
    assert in_unit(Decimal("12345.67")) == "1.234567"
    assert in_unit(Decimal("1500000.00")) == "150"
    assert in_unit(Decimal("12345.67"), "yuan") == "12345.67"


@pytest.mark.parametrize("typed, unit, reason", [
    ("1e16", "wan", "应为金额（万元）"), ("1,5", "wan", "应为金额（万元）"), ("0.0000001", "wan", "六位小数"),
    ("100000000001", "wan", "过大"),
    ("90000000000000000", "yuan", "过大"), ("1e30", "yuan", "应为金额（元）"), ("12.345", "yuan", "两位小数"),
])
def test_the_cash_flow_form_refuses_what_is_not_an_amount_beside_the_field(db, as_role, typed, unit, reason):
    from sqlalchemy import func, select

    from models import CashFlow
    from portfolio.interchange.importing import import_book
    from tests.conftest import EXAMPLE_BOOK

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    before = db.session.scalar(select(func.count()).select_from(CashFlow))
    client = as_role("manager")
    response = client.post("/book/cash-flows/new", data={"investment_id": "QY-D1", "date": "2025-10-01",
                                                         "type": "contribution", "amount_cny": typed,
                                                         "amount_cny_unit": unit})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-field="amount_cny"' in page and reason in page
    assert f'value="{typed}"' in page  # what was typed is shown again, in the unit it was typed in
    assert f'<option value="{unit}" selected>' in page
    assert db.session.scalar(select(func.count()).select_from(CashFlow)) == before


@pytest.mark.parametrize("typed, unit, stored_fen", [("1.5", "wan", 1_500_000), ("1", "yuan", 100),
                                                     ("0.000001", "wan", 1), ("2,000", None, 2_000_0000_00)])
def test_the_cash_flow_form_takes_wan_unless_yuan_is_chosen(db, as_role, typed, unit, stored_fen):
    """The form's amounts are typed in the unit the screens show (万元), or in 元 when chosen
    in the select beside the field; either way the stored value is exact to the fen."""
    from sqlalchemy import select

    from models import CashFlow
    from portfolio.interchange.importing import import_book
    from tests.conftest import EXAMPLE_BOOK

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    client = as_role("manager")
    page = client.get("/book/cash-flows/new").get_data(as_text=True)
    assert 'name="amount_cny_unit"' in page and '<option value="wan" selected>万元</option>' in page
    data = {"investment_id": "QY-D1", "date": "2025-10-01", "type": "contribution", "amount_cny": typed,
            "ref": "UNIT-TEST", "confirm_reason": "单位测试"}
    if unit:
        data["amount_cny_unit"] = unit
    response = client.post("/book/cash-flows/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    flow = db.session.execute(select(CashFlow).where(CashFlow.ref == "UNIT-TEST")).scalar_one()
    assert fen(flow.amount_cny) == stored_fen

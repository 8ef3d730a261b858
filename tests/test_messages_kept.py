"""A Message's Chinese text is kept by its key and plain arguments (portfolio.messages._chinese):
a report's thousands of rule checks repeat the same sentences. What is kept must be what
`render` writes, for every argument that could be written differently though equal."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portfolio import messages
from portfolio.messages import Message, render

CASES = [
    ("prohibited_pass", {"instrument": "equity"}),
    ("missing", {"what": "ownership", "missing": ["ownership_pct"]}),
    ("cap_within", {"what": "subfund_share", "value_pct": Decimal("0.2"), "limit_pct": Decimal("0.3")}),
    ("cap_over", {"what": "single_company", "value_pct": Decimal("0.30000001"), "limit_pct": Decimal("0.3")}),
    ("ownership_within", {"value_pct": 0.1, "limit_pct": Decimal("0.3")}),
    ("coinvest_over", {"value_x": Decimal("1.005"), "limit_x": Decimal("1")}),
    ("age_within", {"years": Decimal("3.5"), "limit_years": Decimal("5.0")}),
    ("age_within", {"years": Decimal("3.5"), "limit_years": Decimal("5.00")}),  # equal, written apart
    ("headcount_within", {"n": 1, "limit_n": 300}),
    ("headcount_within", {"n": True, "limit_n": 300}),  # equal to 1, and hashes alike
    ("size_over", {"over": [("revenue", 600_000_000_00)], "limit_fen": 500_000_000_00}),
    ("size_missing", {"whats": ["revenue", "total_assets"], "missing": ["revenue_cny", "total_assets_cny"]}),
    ("reinvest_below_in_period", {"local_fen": 1, "paid_fen": 3, "value_x": Decimal(1) / 3,
                                  "limit_x": Decimal("1.5"), "period": 5}),
]


@pytest.mark.parametrize("key,args", CASES)
def test_kept_text_is_the_rendered_text(key, args):
    messages._CHINESE.clear()
    first, again = Message(key, **args), Message(key, **args)
    assert str(first) == str(again) == render(key, args, "zh", codes=True)
    assert first.key == again.key == key and first.args == again.args == args
    assert (key, messages._frozen(args)) in messages._CHINESE  # kept, not rendered twice


def test_equal_arguments_written_apart_are_kept_apart():
    messages._CHINESE.clear()
    five = Message("age_within", years=Decimal("3.5"), limit_years=Decimal("5.0"))
    five_00 = Message("age_within", years=Decimal("3.5"), limit_years=Decimal("5.00"))
    assert "5.0 年" in five and "5.00 年" in five_00
    assert str(Message("ownership_within", value_pct=-0.0, limit_pct=0.3)) == render(
        "ownership_within", {"value_pct": -0.0, "limit_pct": 0.3}, "zh", codes=True)


def test_arguments_not_plain_are_rendered_each_time():
    reason = Message("missing", what="ownership", missing=["ownership_pct"])
    assert messages._frozen({"reason": reason}) is None  # a Message: equal as text, not as key and args
    assert messages._frozen({"at": dt.datetime(2025, 1, 1)}) is None
    assert messages._frozen({"day": dt.date(2025, 1, 1), "items": [("a", 1)]}) is not None


@pytest.mark.parametrize("name,value", [("value_pct", Decimal("0.123")), ("limit_pct", 0.005),
                                        ("value_x", Decimal("1.5")), ("limit_x", 2), ("what", "ownership")])
@pytest.mark.parametrize("zh", [True, False])
def test_arguments_by_name_are_written_as_by_kind(name, value, zh):
    assert messages._BY_NAME[name](value, zh) == messages._arg_by_kind(name, value, zh, codes=True)

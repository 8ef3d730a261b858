"""The figures engine on the worked example (expected.json) and on reference values from
outside the product; pure: BookData built from CSVs, no database."""
from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
import pyxirr

from portfolio.figures import engine as fg
from portfolio.figures.report import compute_report, to_json
from tests.conftest import EXAMPLE_BOOK
from tests.factories import book_from_csv
from tests.rules_factories import book_from_rows

EXPECTED = json.loads((EXAMPLE_BOOK.parent / "expected.json").read_text(encoding="utf-8"))
RATIOS = ("tvpi", "dpi", "rvpi", "nav_share")


def assert_figures(actual: dict, expected: dict, where: str = "") -> None:
    """metrics.md tolerances: amounts ±0.01 yuan, ratios 1e-7 relative, IRR 1e-6."""
    assert set(expected) <= set(actual), (where, set(expected) - set(actual))
    for key, want in expected.items():
        got = actual[key]
        if want is None or isinstance(want, str):
            assert got == want, (where, key, got, want)
        elif key == "irr":
            assert got is not None and abs(got - want) <= 1e-6, (where, key, got, want)
        elif key in RATIOS:
            assert got is not None and math.isclose(got, want, rel_tol=1e-7, abs_tol=1e-12), (where, key, got, want)
        else:
            assert abs(got - want) <= 0.01, (where, key, got, want)


def assert_report_matches(report: dict, expected: dict) -> None:
    assert report["fund"] == expected["fund"] and report["as_of"] == expected["as_of"]
    assert report["currency"] == "CNY"
    assert_figures(report["summary"], expected["summary"], "summary")
    for part in ("by_mode", "by_sector", "lookthrough_by_sector"):
        assert list(report[part]) == list(expected[part]) or set(report[part]) == set(expected[part]), part
        assert set(report[part]) == set(expected[part]), part
        for key, want in expected[part].items():
            assert_figures(report[part][key], want, f"{part}.{key}")
    assert list(report["by_sector"]) == sorted(report["by_sector"])
    assert [i["id"] for i in report["investments"]] == [i["id"] for i in expected["investments"]]
    for got, want in zip(report["investments"], expected["investments"]):
        assert_figures(got, want, got["id"])


@pytest.fixture(scope="module")
def book():
    return book_from_csv(EXAMPLE_BOOK)


@pytest.mark.parametrize("as_of", sorted(EXPECTED))
def test_example_book_gives_expected_json(book, as_of):
    report = to_json(compute_report(book, "QY", dt.date.fromisoformat(as_of)))
    assert_report_matches(report, EXPECTED[as_of])
    # compliance (rules.md) comes from portfolio.figures.rules: statuses and values as expected
    got = [(c["rule"], c["subject"], c["status"], c["value"], c["limit"]) for c in report["compliance"]]
    want = [(c["rule"], c["subject"], c["status"], c["value"], c["limit"]) for c in EXPECTED[as_of]["compliance"]]
    assert got == want


def test_amounts_are_exact_decimals_and_roll_forward(book):
    report = compute_report(book, "QY", dt.date(2025, 12, 31))
    sf1 = report["investments"][0]
    # README: 310,000,000 (GP report 2025-09-30) + the 100,000,000 call of 2025-11-15
    assert sf1["nav"] == Decimal("410000000.00") and sf1["nav"].as_tuple().exponent == -2
    assert sf1["valuation_as_of"] == dt.date(2025, 9, 30) and sf1["valuation_method"] == "gp_nav"
    assert report["summary"]["paid_in"] == Decimal("530000000.00")
    d1 = report["investments"][1]
    assert d1["moic"] == d1["tvpi"] == 1.65 and d1["region"] == "local"
    assert report["investments"][2]["region"] == "outside"  # C2 is in Shanghai (310115)
    assert report["sub_funds"][0]["reinvestment_multiple"] == 0.75
    assert report["sub_funds"][0]["local_reinvestment_cost"] == Decimal("300000000.00")


def test_extra_views_of_the_example(book):
    report = compute_report(book, "QY", dt.date(2025, 12, 31))
    assert set(report["by_region"]) == {"local", "outside"}
    assert report["by_region"]["outside"]["nav"] == Decimal("24000000.00")
    assert set(report["by_vintage"]) == {2023, 2024}
    conc = report["concentration"]
    # navs 410m, 160m, 24m of 594m
    assert conc["largest_share"] == pytest.approx(410 / 594, rel=1e-12)
    assert conc["top10_share"] == pytest.approx(1.0)
    assert conc["hhi"] == pytest.approx((410 / 594) ** 2 + (160 / 594) ** 2 + (24 / 594) ** 2, rel=1e-12)
    assert [t["code"] for t in conc["top"]] == ["SF1", "C1", "C2"]
    json.dumps(to_json(report), ensure_ascii=False)  # every value serialisable


def test_unknown_fund_is_a_clear_error(book):
    with pytest.raises(fg.UnknownFund, match="NOPE"):
        compute_report(book, "NOPE", dt.date(2025, 12, 31))


# ---------------------------------------------------------------- reference values
def d(text: str) -> np.datetime64:
    return np.datetime64(text, "D")


def test_xirr_excel_documentation_example():
    # Microsoft support, "XIRR function" (Excel), example: result 0.373362535 (37.34 %)
    dates = [d("2008-01-01"), d("2008-03-01"), d("2008-10-30"), d("2009-02-15"), d("2009-04-01")]
    amounts = [-10000, 2750, 4250, 3250, 2750]
    assert fg.xirr(dates, amounts) == pytest.approx(0.373362535, abs=1e-8)  # Excel shows 9 digits


def test_xirr_unsorted_and_same_day_flows():
    # the Excel example shuffled, with one flow split in two on the same day: same rate
    dates = [d("2009-04-01"), d("2008-10-30"), d("2008-01-01"), d("2009-02-15"), d("2008-03-01"), d("2008-03-01")]
    amounts = [2750, 4250, -10000, 3250, 2000, 750]
    assert fg.xirr(dates, amounts) == pytest.approx(0.373362535, abs=1e-8)  # Excel shows 9 digits


def test_xirr_openoffice_libreoffice_example():
    # Apache OpenOffice wiki, "Calc: XIRR function" (the LibreOffice help has the same case):
    # -2750, 1000, 2000 on 2008-02-05, 2008-07-05, 2009-01-05 → "approximately 0.124, or 12.4%"
    dates = [d("2008-02-05"), d("2008-07-05"), d("2009-01-05")]
    assert fg.xirr(dates, [-2750, 1000, 2000]) == pytest.approx(0.124, abs=5e-4)


def test_xirr_pyxirr_readme_example_by_its_definition():
    # pyxirr README: xirr(["2020-01-01", "2021-01-01"], [-1000, 1200]); 2020 has 366 days, so by the
    # actual/365 definition the rate solves 1200 / (1 + r)^(366/365) = 1000: r = 1.2^(365/366) − 1
    dates = [d("2020-01-01"), d("2021-01-01")]
    assert fg.xirr(dates, [-1000, 1200]) == pytest.approx(1.2 ** (365 / 366) - 1, rel=1e-10)


def test_xirr_no_sign_change_and_extremes():
    two = [d("2020-01-01"), d("2021-01-01")]
    assert fg.xirr(two, [-100, 0]) is None            # total write-off: no rate exists
    assert fg.xirr(two, [-100, -5]) is None
    assert fg.xirr(two[:1], [-100]) is None
    # near −100 %: (0.5/100)^(365/366) − 1 (2020 is a leap year)
    assert fg.xirr(two, [-100, 0.5]) == pytest.approx((0.005) ** (365 / 366) - 1, rel=1e-9)
    # far above 1,000 %: ×20 in a year
    assert fg.xirr(two, [-100, 2000]) == pytest.approx(20 ** (365 / 366) - 1, rel=1e-9)


def test_xirr_never_gives_a_rate_that_solves_nothing():
    # +0.01, −0.01, +560,336.55 and a NAV of 0: the NPV is above 0 at every rate (no root).
    # pyxirr finds none on yuan: None. Asked in other units (the amounts scaled to a largest
    # of 1) its absolute tolerance lets it stop at about 5.9e8, where the NPV is 1e-9 of the
    # largest flow: a rate that solves nothing, never to be shown.
    dates = [d("2018-01-01"), d("2018-01-02"), d("2019-03-10"), d("2025-12-31")]
    amounts = np.array([0.01, -0.01, 560336.55, 0.0])
    assert pyxirr.xirr(dates, amounts, silent=True) is None
    found = pyxirr.xirr(dates, amounts / amounts.max(), silent=True)
    assert found is not None and found > 1e8 and not fg.solves(found, dates, amounts)
    assert fg.xirr(dates, amounts) is None


def test_xirr_asks_again_where_pyxirr_stops_short_on_small_amounts():
    # a zero flow in 2018, −0.02 on 2023-12-26, +0.06 231 days later: the root is
    # 3^(365/231) − 1 = 4.674046… On cents pyxirr stops at 4.6720 (its absolute tolerance):
    # that rate solves nothing, so it is asked once more on the amounts scaled to a largest
    # of 1, whose rate solves the equation (to the engine's tolerance in logs)
    dates = [dt.date(2018, 1, 1), dt.date(2023, 12, 26), dt.date(2024, 8, 13)]
    amounts = [0.0, -0.02, 0.06]
    stopped = pyxirr.xirr(dates, amounts, silent=True)
    assert stopped == pytest.approx(4.6720, abs=1e-4) and not fg.solves(stopped, dates, amounts)
    assert fg.xirr(dates, amounts) == pytest.approx(3 ** (365 / 231) - 1, rel=1e-5)


# A near write-off: 30.0 M paid in 2018 and 28.2 M in 2024, valued at 0.34 M at the end of
# 2025. The XIRR equation has one root, about −96.4 % a year, but pyxirr asked with the
# book's yuan from its default guess finds none (on the amounts scaled to a largest of 1 it
# finds the root). metrics.md defines the rate as the one pyxirr's xirr finds: where it
# cannot be found, null, as a reader checking the figure with pyxirr gets.
NEAR_WRITE_OFF = ([dt.date(2018, 1, 1), dt.date(2024, 9, 2), dt.date(2025, 12, 31)],
                  [-30024950.84, -28219414.30, 341635.61])


def test_xirr_is_null_where_pyxirr_finds_no_rate_on_yuan():
    dates, amounts = NEAR_WRITE_OFF
    assert pyxirr.xirr(dates, amounts, silent=True) is None
    scaled = np.array(amounts) / max(abs(a) for a in amounts)
    root = pyxirr.xirr(dates, scaled, silent=True)
    assert root == pytest.approx(-0.96391550, abs=1e-8) and fg.solves(root, dates, amounts)  # a root exists
    assert fg.xirr(dates, amounts) is None


def test_an_investment_whose_rate_pyxirr_cannot_find_has_a_null_irr_in_the_report():
    (first, second, as_of), (a, b, nav) = NEAR_WRITE_OFF
    fen = lambda yuan: int(round(-yuan * 100))  # noqa: E731 - contributions are negative above
    book = _one_company_book([("I1", first.isoformat(), "contribution", fen(a)),
                              ("I1", second.isoformat(), "contribution", fen(b))],
                             [("I1", as_of.isoformat(), int(round(nav * 100)), "dcf")],
                             investments=[{"id": "I1", "fund_code": "F", "mode": "direct", "target_code": "C",
                                           "date": first.isoformat(), "commitment_fen": fen(a) + fen(b)}])
    report = compute_report(book, "F", as_of)
    assert report["investments"][0]["nav"] == Decimal("341635.61")
    assert report["investments"][0]["irr"] is None and report["summary"]["irr"] is None
    assert report["by_mode"]["direct"]["irr"] is None


def test_xirr_of_a_rate_beyond_a_million_percent_is_the_root():
    # a call paid in four times within 110 days, then valued ×9.8: r ≈ 18,279 a year. Scaled to a
    # largest flow of 1, pyxirr stops 1.8e-4 short; on yuan it is right: the root, checked by
    # mpmath at 50 digits, is 18279.1494255366002
    dates = [d("2019-03-12"), d("2019-03-29"), d("2019-05-05"), d("2019-06-25"), d("2019-06-30")]
    amounts = [-699041.08, -10078938.00, -36841701.00, -17143206.26, 321955175.33]
    assert fg.xirr(dates, amounts) == pytest.approx(18279.1494255366002, rel=1e-12)


# A deep loss within weeks: the root is 1 + r = (what came back)^(365/days), a few 1e-13. pyxirr
# on yuan finds the float next to it; 1 + r is then known to about a part in ten thousand,
# so no rate can make the NPV nought to 1e-9, but it changes sign between the floats either
# side. The engine had called such rates made-up and shown none.
DEEP_LOSSES = [(30, 0.1), (9, 0.5), (31, 0.1), (62, 0.01), (122, 1e-4)]


@pytest.mark.parametrize(("days", "kept"), DEEP_LOSSES)
def test_xirr_of_a_deep_loss_within_weeks_is_the_root_pyxirr_finds(days, kept):
    dates = [dt.date(2025, 12, 1), dt.date(2025, 12, 1) + dt.timedelta(days=days)]
    amounts = [-10_000_000.0, 10_000_000.0 * kept]
    rate = fg.xirr(dates, amounts)
    assert rate == pyxirr.xirr(dates, amounts, silent=True)
    assert 1 + rate == pytest.approx(kept ** (365 / days), rel=1e-3)  # the root, by its definition


# Closer still to −100 % than any float rate but −1.0 (the least above it is −1 + 2⁻⁵³): 1 yuan
# left of 10 million a month on (1 + r ≈ 1e-85), half lost in a day (1 + r ≈ 1e-110). pyxirr
# gives −1.0, and a root lies there; the engine had shown none (checks with helper books).
TOTAL_LOSSES = [(30, 1e-7), (1, 0.5), (92, 1e-7), (3, 0.01)]


@pytest.mark.parametrize(("days", "kept"), TOTAL_LOSSES)
def test_xirr_of_a_loss_closer_to_minus_one_than_any_float_is_pyxirrs_minus_one(days, kept):
    dates = [dt.date(2025, 12, 1), dt.date(2025, 12, 1) + dt.timedelta(days=days)]
    amounts = [-10_000_000.0, 10_000_000.0 * kept]
    assert kept ** (365 / days) < 2 ** -53  # the root's 1 + r is below the least float's
    assert pyxirr.xirr(dates, amounts, silent=True) == -1.0
    assert fg.xirr(dates, amounts) == -1.0


@pytest.mark.parametrize("amounts", [[-100.0, 200.0], [-100.0, 100.0], [-100.0, 50.0, -10.0], [100.0, -1.0]])
def test_minus_one_is_no_root_of_flows_whose_npv_keeps_its_sign_near_minus_one(amounts):
    """A gain, break-even, a loss followed by a further call, and a loan repaid by a trifle: the NPV
    has the latest day's sign already at −1 + 2⁻⁵³, so no root lies closer to −100 %."""
    dates = [dt.date(2025, 1, 1) + dt.timedelta(days=200 * k) for k in range(len(amounts))]
    assert not fg.solves(-1.0, dates, amounts)


@pytest.mark.parametrize(("dates", "amounts"), [
    # the last day nets to nothing but a float's 5.6e-17, whose sign had decided it
    ([dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1), dt.date(2025, 3, 1), dt.date(2025, 3, 1)],
     [-100.0, -50.0, 0.10, 0.20, -0.30]),
    # the last day nets to nothing and the older terms underflow at −1 + 2⁻⁵³: a sum of nought
    ([dt.date(2000, 1, 1), dt.date(2000, 2, 1), dt.date(2025, 3, 1), dt.date(2025, 3, 1)], [-100.0, -1.0, 7.0, -7.0]),
])
def test_minus_one_is_no_root_of_flows_that_are_all_outgoing_once_each_day_is_netted(dates, amounts):
    """Every day nets to a payment out (or nothing): the NPV is negative at every rate."""
    assert not fg.solves(-1.0, dates, amounts)


def test_a_total_loss_within_a_month_has_an_irr_of_minus_one_in_the_report():
    """Paid 10,000,000 on 2025-12-01 and valued 1.00 on the same day: at 2025-12-31 the IRR of the
    investment, its mode and the fund is −1.0 (pyxirr's), not null."""
    book = _one_company_book([("I1", "2025-12-01", "contribution", 1_000_000_000)],
                             [("I1", "2025-12-01", 100, "dcf")],
                             investments=[{"id": "I1", "fund_code": "F", "mode": "direct", "target_code": "C",
                                           "date": "2025-12-01", "commitment_fen": 1_000_000_000}])
    report = compute_report(book, "F", dt.date(2025, 12, 31))
    assert pyxirr.xirr([dt.date(2025, 12, 1), dt.date(2025, 12, 31)], [-10_000_000, 1]) == -1.0
    assert report["investments"][0]["irr"] == -1.0
    assert report["by_mode"]["direct"]["irr"] == -1.0 and report["summary"]["irr"] == -1.0


def test_a_deep_loss_within_a_month_has_its_irr_in_the_report():
    """Paid 100,000 on 2025-12-01, valued 10,000 on 2025-12-31: the investment's, its mode's
    and the fund's IRR are 0.1^(365/30) − 1 (pyxirr: −0.9999999999993187), not null."""
    book = _one_company_book([("I1", "2025-12-01", "contribution", 10_000_000)],
                             [("I1", "2025-12-31", 1_000_000, "dcf")],
                             investments=[{"id": "I1", "fund_code": "F", "mode": "direct", "target_code": "C",
                                           "date": "2025-12-01", "commitment_fen": 10_000_000}])
    report = compute_report(book, "F", dt.date(2025, 12, 31))
    want = pyxirr.xirr([dt.date(2025, 12, 1), dt.date(2025, 12, 31)], [-100_000, 10_000])
    assert want == pytest.approx(-0.9999999999993187, abs=1e-15)
    assert report["investments"][0]["irr"] == want
    assert report["by_mode"]["direct"]["irr"] == want and report["summary"]["irr"] == want


def test_a_deal_paid_on_the_report_date_and_held_at_cost_has_an_irr_of_nought():
    """Paid 100,000 on D, no valuation (NAV at cost): its flows, −100,000 and the NAV +100,000,
    both on D, change sign, and every rate solves the equation. metrics.md: the rate pyxirr's
    xirr finds from its default guess, 0.0. Adding up each day's flows first had left one flow
    of nought: no sign change, null. A group of only such deals the same."""
    on_d = dt.date(2025, 12, 31)
    assert pyxirr.xirr([on_d, on_d], [-100_000, 100_000]) == 0.0
    book = _one_company_book([("I1", "2020-01-01", "contribution", 10_000_000),
                              ("I2", "2025-12-31", "contribution", 10_000_000)],
                             [("I1", "2025-06-30", 20_000_000, "dcf")],
                             investments=[{"id": "I1", "fund_code": "F", "mode": "direct", "target_code": "C",
                                           "date": "2020-01-01", "commitment_fen": 10_000_000},
                                          {"id": "I2", "fund_code": "F", "mode": "co_invest", "target_code": "C",
                                           "date": "2025-12-31", "commitment_fen": 10_000_000}])
    report = compute_report(book, "F", on_d)
    irr = {row["id"]: row["irr"] for row in report["investments"]}
    assert irr["I2"] == 0.0 and report["by_mode"]["co_invest"]["irr"] == 0.0
    assert irr["I1"] == pytest.approx(2 ** (365 / 2191) - 1, rel=1e-9)  # 2020-01-01 → 2025-12-31: 2,191 days
    # paid on D and valued on D below cost: the day's flows net to −50,000 at every rate: no rate
    lower = _one_company_book([("I1", "2025-12-31", "contribution", 10_000_000)],
                              [("I1", "2025-12-31", 5_000_000, "dcf")],
                              investments=[{"id": "I1", "fund_code": "F", "mode": "direct", "target_code": "C",
                                            "date": "2025-12-31", "commitment_fen": 10_000_000}])
    assert compute_report(lower, "F", on_d)["investments"][0]["irr"] is None


def test_numpy_financial_documented_values():
    import numpy_financial as npf

    # numpy-financial docs, irr: [-100, 39, 59, 55, 20] → 0.28095
    assert npf.irr([-100, 39, 59, 55, 20]) == pytest.approx(0.28095, abs=1e-5)
    # Microsoft support, "MIRR function" (Excel) example, finance rate 10 %, reinvestment 12 %:
    # five years → "13%", three years → "-5%" (Excel shows them rounded to whole percent)
    values = [-120000, 39000, 30000, 21000, 37000, 46000]
    assert round(npf.mirr(values, 0.10, 0.12), 2) == 0.13
    assert round(npf.mirr(values[:4], 0.10, 0.12), 2) == -0.05
    # same example, reinvestment at 14 % → "13%"
    assert round(npf.mirr(values, 0.10, 0.14), 2) == 0.13


# ---------------------------------------------------------------- as-of dates and cases
def test_as_of_before_any_investment_gives_empty_report(book):
    report = compute_report(book, "QY", dt.date(2022, 12, 31))
    assert report["investments"] == [] and report["by_mode"] == {} and report["by_sector"] == {}
    s = report["summary"]
    assert s["paid_in"] == Decimal("0.00") and s["tvpi"] is None and s["irr"] is None
    assert report["lookthrough_by_sector"] == {} and report["concentration"]["hhi"] is None


def test_as_of_between_flows_and_on_a_valuation_date(book):
    # 2024-12-31: valuations dated that day hold every flow up to it (flows on V.as_of are inside V)
    report = compute_report(book, "QY", dt.date(2024, 12, 31))
    navs = {i["id"]: i["nav"] for i in report["investments"]}
    assert navs == {"QY-SF1": Decimal("320000000.00"), "QY-D1": Decimal("130000000.00"),
                    "QY-CO1": Decimal("30000000.00")}  # QY-CO1: no valuation yet, at cost
    # 2024-06-30: between flows, QY-SF1 has no valuation yet: paid_in − distributed
    mid = compute_report(book, "QY", dt.date(2024, 6, 30))
    assert mid["investments"][0]["nav"] == Decimal("300000000.00")
    assert mid["lookthrough_by_sector"]["materials"]["nav"] == Decimal("300000000.00")  # no report yet


def _one_company_book(flows, valuations, fund_rows=None, investments=None):
    """One company C, fund F (or fund_rows), investment I1 (or investments); flows and
    valuations as tuples (investment_id, date, type, fen) and (investment_id, as_of, fen, method)."""
    return book_from_rows(
        funds=fund_rows or [{"code": "F", "name": "F", "kind": "innovation_fund", "size_fen": 10**12,
                             "vintage_year": 2020, "settings": {}}],
        companies=[{"code": "C", "name": "C", "credit_code": "x", "sector": "robotics", "region_code": "330206"}],
        investments=investments or [{"id": "I1", "fund_code": "F", "mode": "direct", "target_code": "C",
                                     "date": "2020-01-01", "commitment_fen": 10_000_000}],
        flows=[dict(zip(("investment_id", "date", "type", "amount_fen"), f)) for f in flows],
        valuations=[dict(zip(("investment_id", "as_of", "fair_value_fen", "method"), v)) for v in valuations])


def test_write_off_has_no_irr_and_zero_nav():
    book = _one_company_book([("I1", "2020-01-01", "contribution", 10_000_000)],
                             [("I1", "2021-06-30", 0, "write_off")])
    figures = fg.group_figures(book, ["I1"], dt.date(2021, 12, 31))
    assert figures["nav"] == Decimal("0.00") and figures["tvpi"] == 0.0
    assert figures["irr"] is None  # no sign change: no rate, never a made-up number


def test_after_exit_later_flows_still_roll_forward_and_nav_floors_at_zero():
    book = _one_company_book([("I1", "2020-01-01", "contribution", 10_000_000),
                              ("I1", "2022-03-01", "distribution", 30_000_000)],
                             [("I1", "2021-12-31", 25_000_000, "exited")])
    f = fg.group_figures(book, ["I1"], dt.date(2022, 12, 31))
    assert f["nav"] == Decimal("0.00")  # 250,000 − 300,000 floored at 0
    assert f["distributed"] == Decimal("300000.00") and f["dpi"] == 3.0
    assert f["irr"] == pytest.approx(3 ** (365 / 790) - 1, rel=1e-9)  # 2020-01-01 → 2022-03-01: 790 days


def test_parent_fund_rolls_up_descendants():
    funds = [{"code": code, "name": code, "name_en": None, "kind": "innovation_fund", "parent_code": parent,
              "size_fen": 10**12, "vintage_year": 2020, "settings": {}}
             for code, parent in (("P", None), ("K", "P"), ("G", "K"))]
    investments = [{"id": f"I{n}", "fund_code": code, "mode": "direct", "target_code": "C", "alongside_code": None,
                    "date": pd.Timestamp("2020-01-01"), "commitment_fen": 1_000_000 * n}
                   for n, code in ((1, "P"), (2, "K"), (3, "G"))]
    flows = [(f"I{n}", "2020-01-01", "contribution", 1_000_000 * n) for n in (1, 2, 3)]
    book = _one_company_book(flows, [], funds, investments)
    parent = compute_report(book, "P", dt.date(2021, 1, 1))
    child = compute_report(book, "K", dt.date(2021, 1, 1))
    assert [i["id"] for i in parent["investments"]] == ["I1", "I2", "I3"]
    assert [i["id"] for i in child["investments"]] == ["I2", "I3"]
    assert parent["summary"]["paid_in"] == Decimal("60000.00")
    assert child["summary"]["commitment"] == Decimal("50000.00")
    # one company held by three funds: one line in the concentration
    assert parent["concentration"]["largest_share"] == 1.0 and len(parent["concentration"]["top"]) == 1

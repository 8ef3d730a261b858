"""The JSON report of any fund at any date agrees with an independent computation under
metrics.md (tests/reference_figures.py): amounts to the fen, ratios to 1e-9 relative,
IRR to 1e-6, on generated books with sub-funds and their holdings reports, a parent
fund with a child, valuations that lag and flows that roll forward."""
from __future__ import annotations

import csv
import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import pytest

from portfolio.figures.report import compute_report, to_json
from portfolio.interchange.synthetic import generate_heavy_book
from tests.factories import book_from_csv
from tests.reference_figures import Reference, read_book

AS_OF_DATES = ["2017-12-31", "2018-03-15", "2019-06-30", "2021-03-31", "2022-11-17", "2024-09-30", "2027-06-30"]


def _with_a_child_fund(folder: Path) -> None:
    """Adds fund QYA under QY and moves every fourth QY investment into it (roll-up)."""
    def rewrite(name, change):
        path = folder / f"{name}.csv"
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        fields = list(rows[0])
        rows = change(rows)
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)

    def add_fund(rows):
        child = dict(rows[0], code="QYA", name="千亿基金子基金A", parent_code="QY", size_cny="2000000000")
        return rows + [child]

    def move(rows):
        qy = [r for r in rows if r["fund_code"] == "QY"]
        for r in qy[::4]:
            r["fund_code"] = "QYA"
        return rows

    rewrite("funds", add_fund)
    rewrite("investments", move)


@pytest.fixture(scope="module", params=[1, 2, 3], ids=lambda seed: f"seed{seed}")
def books(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"book{request.param}")
    generate_heavy_book(folder, investments=120, flows=2500, valuations=500, holdings=1500, seed=request.param)
    _with_a_child_fund(folder)
    return book_from_csv(folder), read_book(folder)


def _same_amount(actual, expected: Decimal, where: str):
    assert abs(Decimal(str(actual)) - expected) <= Decimal("0.01"), where


def _same_ratio(actual, expected, where: str, rel: float = 1e-9):
    if expected is None:
        assert actual is None, where
    else:
        assert actual == pytest.approx(expected, rel=rel, abs=1e-12), where


def _same_irr(actual, expected, where: str, flows=None):
    """To 1e-6; beyond ±100 % a year to 1e-6 relative (a rate of 18,000 % is found by pyxirr
    only to about 1e-8 of itself). Where plain pyxirr finds no rate and the engine, asking
    again on scaled amounts, does, that rate must solve the XIRR equation."""
    if expected is None:
        if actual is not None:
            assert flows is not None and _is_a_root(actual, flows), where
    else:
        assert actual is not None and abs(actual - expected) <= 1e-6 * max(1.0, abs(expected)), where


def _is_a_root(rate: float, flows) -> bool:
    first = min(d for d, _ in flows)
    terms = [float(a) * math.exp(-(d - first).days / 365 * math.log1p(rate)) for d, a in flows]
    return abs(math.fsum(terms)) <= 1e-6 * max(math.fsum(abs(t) for t in terms), 1.0)


def _same_figures(actual: dict, expected: dict, where: str, flows=None):
    for key in ("commitment", "paid_in", "unfunded", "distributed", "nav"):
        _same_amount(actual[key], expected[key], f"{where}.{key}")
    for key in ("tvpi", "dpi", "rvpi"):
        _same_ratio(actual[key], expected[key], f"{where}.{key}")
    _same_irr(actual["irr"], expected["irr"], f"{where}.irr", flows)
    if "nav_share" in expected:
        _same_ratio(actual["nav_share"], expected["nav_share"], f"{where}.nav_share")


@pytest.mark.parametrize("fund", ["QY", "QYA", "TS"])
@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_report_agrees_with_an_independent_computation(books, fund, as_of):
    book, rows = books
    day = dt.date.fromisoformat(as_of)
    report = to_json(compute_report(book, fund, day))
    ref = Reference(rows, fund, day)

    assert [i["id"] for i in report["investments"]] == [i["id"] for i in ref.investments]
    _same_figures(report["summary"], ref.group(list(ref.per_investment)), "summary",
                  ref.irr_flows(list(ref.per_investment)))
    for item in report["investments"]:
        _same_figures(item, ref.group([item["id"]]), item["id"], ref.irr_flows([item["id"]]))
    for key, report_key in (("mode", "by_mode"), ("sector", "by_sector"), ("vintage", "by_vintage"),
                            ("region", "by_region")):
        expected = ref.by(key)
        assert set(report[report_key]) == set(expected), report_key
        for name, figures in expected.items():
            if key == "mode":
                figures = {k: v for k, v in figures.items() if k != "nav_share"}
            _same_figures(report[report_key][name], figures, f"{report_key}.{name}",
                          ref.irr_flows(ref.members(key, name)))

    lookthrough = ref.lookthrough()
    assert set(report["lookthrough_by_sector"]) == set(lookthrough)
    for sector, expected in lookthrough.items():
        _same_amount(report["lookthrough_by_sector"][sector]["nav"], expected["nav"], f"lookthrough.{sector}")
        _same_ratio(report["lookthrough_by_sector"][sector]["nav_share"], expected["nav_share"], sector)

    concentration = ref.concentration()
    for key, expected in concentration.items():
        _same_ratio(report["concentration"][key], expected, f"concentration.{key}")

    multiples = ref.reinvestment_multiples()
    assert {s["code"] for s in report["sub_funds"]} == set(multiples)
    for line in report["sub_funds"]:
        _same_ratio(line["reinvestment_multiple"], multiples[line["code"]], f"reinvestment {line['code']}")


def test_the_generated_books_exercise_what_they_should(books):
    """Guard against a vacuous comparison: the books hold what the test claims."""
    book, rows = books
    ref = Reference(rows, "QY", dt.date(2024, 9, 30))
    modes = {p["mode"] for p in ref.per_investment.values()}
    assert modes == {"sub_fund", "direct", "co_invest"}
    assert any(inv["fund_code"] == "QYA" for inv in ref.investments)  # the child rolls up
    assert ref.latest and any(ref._latest_report(s) for s in ref.sub_funds)
    assert any(v is not None for v in ref.reinvestment_multiples().values())
    assert any(p["distributed"] > 0 for p in ref.per_investment.values())

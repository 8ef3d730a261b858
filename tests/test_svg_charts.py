"""The charts written as SVG directly (portfolio/reports/svg.py, issue 14): round ticks that
cover the data, negative values, a single point, nothing to draw; text escaped, an accessible
title, and no label cut at the canvas's edge or run into another (by the width estimate)."""
from __future__ import annotations

import datetime as dt
import math
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolio.reports import charts, svg
from portfolio.reports.committee_charts import before_after_sector_chart
from portfolio.reports.forecast_chart import fan_chart
from portfolio.reports.report_charts import bridge_chart, quarterly_charts, region_chart
from portfolio.reports.trend_charts import flows_chart, trend_chart

NS = "{http://www.w3.org/2000/svg}"
D = dt.date


def _step_is_nice(step: float) -> bool:
    mantissa = step / 10 ** math.floor(math.log10(step))
    return any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 2.5, 5, 10))


@given(st.floats(-1e12, 1e12), st.floats(0, 1e12))
def test_ticks_are_round_evenly_spaced_few_and_cover_the_data(low, extent):
    high = low + extent
    ticks = svg.nice_ticks(low, high)
    assert 2 <= len(ticks) <= 6
    steps = [b - a for a, b in zip(ticks, ticks[1:])]
    slack = steps[0] * 1e-6  # a value a millionth of a step past a tick is drawn on it
    assert ticks[0] <= low + slack and ticks[-1] >= high - slack
    step = (ticks[-1] - ticks[0]) / (len(ticks) - 1)
    precision = max(abs(t) for t in ticks) * 1e-12  # a float's own, at 10^9 with steps of 0.2
    assert all(math.isclose(s, step, rel_tol=1e-6, abs_tol=precision) for s in steps) and _step_is_nice(step)


def test_ticks_by_hand():
    assert svg.nice_ticks(0, 1753) == [0, 500, 1000, 1500, 2000]
    assert svg.nice_ticks(-20.3, 50) == [-40, -20, 0, 20, 40, 60]      # negative values: below zero
    assert svg.nice_ticks(-3, -3) == [-3.4, -3.2, -3.0, -2.8, -2.6]    # a single point: around it
    assert svg.nice_ticks(2400, 2400) == [2000, 2200, 2400, 2600, 2800]
    assert svg.nice_ticks(0, 0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]        # nothing but zeros: from zero up
    # set ends (the rebased waterfall): the ticks inside, at least three
    assert svg.nice_ticks(7300.5, 7800, cover=False) == [7400, 7500, 7600, 7700, 7800]
    assert svg.nice_ticks(7436, 7700, cover=False) == [7500, 7600, 7700]


def test_tick_labels_have_the_decimals_they_need_and_no_minus_zero():
    assert svg.labels_for([0, 2.5, 5, 7.5], svg.amount_text) == ["0.0", "2.5", "5.0", "7.5"]
    assert svg.labels_for([0, 500, 1000], svg.amount_text) == ["0", "500", "1,000"]
    assert svg.amount_text(-0.001) == "0" and svg.amount_text(-1234.5, 1) == "-1,234.5"
    assert svg.amount_text(2.62, 2, sign=True) == "+2.62"


def test_text_width_counts_cjk_as_one_em_and_ascii_as_six_tenths():
    assert svg.text_width("剩余价值", 10) == 40 and svg.text_width("NAV 10", 10) == pytest.approx(36)
    assert svg.text_width("（万元）", 9) == 36  # full-width brackets


def test_date_ticks_fit_their_room():
    ticks = svg.date_ticks(D(2025, 3, 31), D(2025, 9, 29), 360)
    assert [t for _, t in ticks] == ["2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09"]
    years = svg.date_ticks(D(2023, 1, 1), D(2031, 6, 30), 360)
    assert len(years) <= 360 // (svg.text_width("2025") + 12) and all(len(t) == 4 for _, t in years)


# -- the charts ----------------------------------------------------------------------------------

def _boxes(drawn: str) -> tuple[ET.Element, list[tuple[str, float, float, float, float]]]:
    """The SVG parsed (so well-formed) and each unturned text's box by the width estimate."""
    root = ET.fromstring(drawn)
    boxes = []
    for node in root.iter(f"{NS}text"):
        size = float(node.get("font-size", svg.SIZE))
        width = svg.text_width(node.text or "", size)
        x, y = float(node.get("x")), float(node.get("y"))
        shift = {"start": 0, "middle": width / 2, "end": width}[node.get("text-anchor", "start")]
        turned = node.get("transform", "").split("(")[-1].split()[0] if node.get("transform") else None
        if turned == "-90":  # read upwards: the glyphs' tops to the left of x
            boxes.append((node.text or "", x - size * 0.88, y - width + shift, x + size * 0.12, y + shift))
        elif turned == "90":
            boxes.append((node.text or "", x - size * 0.12, y - shift, x + size * 0.88, y + width - shift))
        else:
            boxes.append((node.text or "", x - shift, y - size * 0.88, x - shift + width, y + size * 0.12))
    return root, boxes


def _check(drawn: str | None) -> ET.Element:
    assert drawn is not None
    root, boxes = _boxes(drawn)
    assert root.get("role") == "img" and "chart" in root.get("class").split()
    assert root.get("font-family") == "Noto Sans CJK SC, sans-serif"
    assert root.find(f"{NS}title") is not None and root.find(f"{NS}title").text
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    for text, left, top, right, bottom in boxes:  # none cut at the edge
        assert left >= 0 and right <= width and top >= 0 and bottom <= height, (text, left, right, width)
    for i, a in enumerate(boxes):  # none runs into another
        for b in boxes[i + 1:]:
            overlap = min(a[3], b[3]) - max(a[1], b[1]) > 0.5 and min(a[4], b[4]) - max(a[2], b[2]) > 0.5
            assert not overlap, (a, b)
    return root


def _texts(root: ET.Element, cls: str | None = None) -> list[str]:
    return [n.text or "" for n in root.iter(f"{NS}text") if cls is None or n.get("class") == cls]


def _trend(n: int) -> list[dict]:
    quarters = [D(2023 + k // 4, 3 * (k % 4) + 3, 30 if k % 4 in (1, 2) else 31) for k in range(n)]
    return [{"as_of": q, "nav": Decimal(30_000_000 * k), "paid_in": Decimal(35_000_000 * (k + 1)),
             "distributed": Decimal(3_000_000 * k), "unfunded": Decimal(500_000_000 - 35_000_000 * k),
             "tvpi": None if k == 0 else 0.9 + 0.03 * k, "dpi": 0.01 * k, "irr": None if k < 2 else -0.05 + 0.02 * k,
             "since": D(2023, 1, 15), "calls": Decimal(35_000_000), "distributions": Decimal(3_000_000 * (k > 2))}
            for k, q in enumerate(quarters)]


def _fan(n: int) -> dict:
    return {"as_of": D(2025, 12, 31), "actuals": [{"end": D(2025, 12, 31), "nav": 3.3e8}],
            "forecast": [{"quarter": f"2026Q{k % 4 + 1}", "end": D(2026 + k // 4, 3 * (k % 4) + 3, 28),
                          "nav": 3.3e8 + 1e7 * k, "nav_p10": 3.3e8 - 1e7 * k, "nav_p90": 3.3e8 + 3e7 * k,
                          "unfunded": 1.15e8 - 1e7 * k, "unfunded_p10": 1e8 - 1.2e7 * k, "unfunded_p90": 1.2e8 - 6e6 * k}
                         for k in range(n)]}


def test_nothing_to_draw_draws_nothing():
    assert charts.bar_chart([], [], xlabel="x") is None and charts.sector_chart({}) is None
    assert charts.valuation_history_chart([]) is None and bridge_chart({}) is None
    assert trend_chart([]) is None and flows_chart([]) is None and before_after_sector_chart([]) is None
    assert fan_chart({"as_of": D(2025, 12, 31), "actuals": [], "forecast": []}) is None


def test_a_bar_chart_has_its_bars_labels_unit_and_title():
    root = _check(charts.bar_chart(["子基金", "直投", "跟投"], [Decimal("157130400000"), Decimal("70015500"),
                                                            Decimal("25676700")], xlabel="剩余价值（万元）"))
    bars = [r for r in root.iter(f"{NS}rect")]
    assert len(bars) == 3 and {b.get("fill") for b in bars} == {charts.COLORS[0]}
    assert {"子基金", "直投", "跟投", "剩余价值（亿元）"} <= set(_texts(root))
    assert root.find(f"{NS}title").text == "剩余价值（亿元）：子基金 1,571.30，直投 0.70，跟投 0.26"


def test_negative_bars_run_left_of_a_zero_line():
    root = _check(charts.mode_chart({"sub_fund": {"nav": 50_000_000}, "direct": {"nav": -20_000_000}}, "en"))
    ticks = [float(t.replace(",", "")) for t in _texts(root, "xtick")]
    assert ticks[0] <= -2_000 < 5_000 <= ticks[-1] and 0.0 in ticks
    widths = [float(r.get("width")) for r in root.iter(f"{NS}rect")]
    lefts = [float(r.get("x")) for r in root.iter(f"{NS}rect")]
    assert lefts[1] + widths[1] == pytest.approx(lefts[0], abs=0.02)  # the negative bar ends where the other starts
    assert "Sub-fund" in _texts(root) and "NAV (CNY 10k)" in _texts(root)


def test_labels_are_escaped():
    root = _check(charts.bar_chart(["R&D <lab>"], [Decimal(10_000)], xlabel="A & B"))
    assert "R&D <lab>" in _texts(root)  # parsed back: it was escaped


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_chart_draws_in_both_languages_with_nothing_cut_or_overlapping(lang):
    total = {k: Decimal(v) * 10_000 for k, v in (("opening", 2_446_000), ("contributions", 26_200),
                                                 ("distributions", 1_100), ("change", 54_900), ("closing", 2_526_000))}
    report = {"bridge": [{"total": total}], "by_sector": {"materials": {"nav": 10**9}, "digital": {"nav": 2 * 10**9}},
              "lookthrough_by_sector": {"materials": {"nav": 10**9}}, "by_region": {"local": {"nav": 10**8},
                                                                                   "outside": {"nav": 10**7}}}
    drawn = quarterly_charts(report, lang)
    for name in ("bridge", "sector", "lookthrough", "region"):
        _check(drawn[name])
    _check(region_chart(report["by_region"], lang))
    for n in (1, 12, 40):
        _check(trend_chart(_trend(n), lang))
        _check(flows_chart(_trend(n), lang))
    for n in (0, 1, 12):
        _check(fan_chart(_fan(n), lang))
    _check(before_after_sector_chart([{"sector": "materials", "before": None, "after": {"nav": 10**8}},
                                      {"sector": "digital", "before": {"nav": 2 * 10**8}, "after": None}], lang))
    _check(charts.valuation_history_chart([(D(2025, 6, 30), Decimal(24_000_000), True),
                                           (D(2021, 6, 30), Decimal(20_000_000), False)], lang))


def test_the_waterfall_has_five_bars_with_their_amounts_and_a_break():
    total = {k: Decimal(v) * 10_000 for k, v in (("opening", 2_446_000), ("contributions", 26_200),
                                                 ("distributions", 1_100), ("change", 54_900), ("closing", 2_526_000))}
    root = _check(bridge_chart({"total": total}, "zh"))
    bars = [r for r in root.iter(f"{NS}rect")]
    assert [b.get("fill") for b in bars] == [charts.COLORS[5], charts.COLORS[2], charts.COLORS[0], charts.COLORS[2],
                                             charts.COLORS[5]]
    assert len(list(root.iter(f"{NS}polygon"))) == 2  # the break across each NAV bar
    assert _texts(root, "xtick") == ["期初净值", "出资", "分配", "估值变动", "期末净值"]
    assert "亿元" in _texts(root) and "本季度净值变动（亿元）" in root.find(f"{NS}title").text


def test_a_single_point_draws():
    root = _check(trend_chart(_trend(1), "zh"))
    assert _texts(root, "xtick") == ["2023Q1"]
    root = _check(charts.valuation_history_chart([(D(2025, 6, 30), Decimal(24_000_000), False)], "en"))
    assert "Draft / void" in _texts(root) and "Approved" not in _texts(root)
    assert len([c for c in root.iter(f"{NS}circle") if c.get("fill") == "white"]) == 2  # the point and its legend
    ticks = [float(t.replace(",", "")) for t in _texts(root, "ytick")]
    assert ticks[0] < 2_400 < ticks[-1]


def test_the_trend_chart_leaves_out_a_short_irr_and_breaks_the_line():
    points = _trend(6)
    points[3]["tvpi"] = None
    root = _check(trend_chart(points, "en"))
    tvpi = [p for p in root.iter(f"{NS}polyline") if p.get("stroke") == charts.COLORS[0]]
    assert len(tvpi) == 1 + 2  # NAV's line, TVPI's in two runs around the missing quarter
    assert {"NAV", "Paid-in", "Distributions", "Dry powder (unfunded)", "TVPI", "DPI", "IRR", "IRR (%)"} <= \
        set(_texts(root))

"""The NAV bridge drawn as a waterfall (portfolio/reports/report_charts.py): opening NAV,
contributions, distributions, change in value, closing NAV, with the amount axis rebased
(started near the smaller NAV, the break marked) when the NAVs dwarf the flows; on the
fund page (the quarter to the as-of date) and in the quarterly report."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from portfolio.interchange.importing import import_book
from portfolio.reports.report_charts import bridge_chart, bridge_steps, is_rebased, waterfall_layout
from tests.conftest import EXAMPLE_BOOK, login, make_user

WAN = Decimal(10_000)


def _total(opening, contributions, distributions, change) -> dict:
    """A bridge's total row from amounts in 万元 (the closing adds up)."""
    closing = opening + contributions - distributions + change
    return {key: Decimal(value) * WAN for key, value in (
        ("opening", opening), ("contributions", contributions), ("distributions", distributions),
        ("change", change), ("closing", closing))}


def test_a_quarter_of_a_250_yi_fund_is_drawn_on_a_rebased_axis():
    """By hand (万元): 2,446,000 + 26,200 − 1,100 + 54,900 = 2,526,000. The bars stand on
    0–2,446,000, 2,446,000–2,472,200, 2,472,200–2,471,100, 2,471,100–2,526,000 and
    0–2,526,000. The flows span 80,000, a thirtieth of the smaller NAV (< 1/4: rebase);
    the margin below is 0.6 × 80,000 = 48,000, its round step 20,000, so the axis starts
    at the multiple of 20,000 under 2,446,000 − 48,000 = 2,398,000: 2,380,000."""
    total = _total(2_446_000, 26_200, 1_100, 54_900)
    layout = waterfall_layout(bridge_steps(total))
    assert layout["bars"] == [(0.0, 2_446_000.0), (2_446_000.0, 2_472_200.0), (2_472_200.0, 2_471_100.0),
                              (2_471_100.0, 2_526_000.0), (0.0, 2_526_000.0)]
    assert layout["rebased"] and layout["floor"] == 2_380_000.0
    # the flows now take about half the chart's height (from zero: 80,000 / 2,526,000 = 3 %)
    assert (2_526_000 - 2_446_000) / (layout["top"] - layout["floor"]) > 0.45
    svg = bridge_chart({"total": total}, "zh")
    assert svg.startswith("<svg") and "亿元" in svg
    # every bar carries its amount (亿元, as the axis): the flows read at their size
    for text in ("244.60", "+2.62", "-0.11", "+5.49", "252.60", "期初净值", "期末净值"):
        assert text in svg, text
    ticks = [float(t.replace(",", "")) for t in re.findall(r'class="ytick"[^>]*>([\d,.]+)</text>', svg)]
    assert ticks and min(ticks) > 238.0  # no tick at zero, nor at the broken foot (238.0)
    english = bridge_chart({"total": total}, "en")
    assert "Opening NAV" in english and "CNY 100m" in english and "期初" not in english


@pytest.mark.parametrize("amounts", [
    (0, 30_000, 0, -2_000),          # a first quarter: from zero
    (50_000, 10_000, 20_000, -5_000),  # flows a large part of the NAV
    (2_528_226, 0, 0, 0),            # nothing moved: nothing to magnify
])
def test_the_axis_starts_at_zero_when_the_flows_show_anyway(amounts):
    total = _total(*amounts)
    layout = waterfall_layout(bridge_steps(total))
    assert not layout["rebased"] and layout["floor"] == 0.0 and not is_rebased({"total": total})
    assert bridge_chart({"total": total}) is not None


def test_no_bridge_no_chart():
    assert bridge_chart({}) is None and not is_rebased({})


@pytest.fixture
def book(db):
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    make_user(db, "mgr", "manager")
    return db.session


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_fund_page_shows_the_quarter_s_bridge(client, book, lang):
    """By hand from spec/example/book, QY's quarter to 2025-12-31 (万元): opening NAV at
    2025-09-30 = SF1 31,000 + D1 (13,000 − 500) + CO1 2,400 = 45,900; contributions:
    SF1's 10,000 of 2025-11-15; no distributions; closing = SF1 41,000 + D1 16,000 + CO1
    2,400 = 59,400; the change in value is the residual 59,400 − 45,900 − 10,000 = 3,500."""
    login(client, "mgr")
    client.get(f"/lang/{lang}")
    page = client.get("/funds/QY?as_of=2025-12-31").get_data(as_text=True)
    section = page[page.index('id="nav-bridge"'):]
    section = section[:section.index("</section>")]
    cells = re.findall(r'<td class="num">([^<]+)</td>', section)
    assert cells == ["45,900.00", "10,000.00", "0.00", "3,500.00", "59,400.00"]
    assert "2025-09-30 → 2025-12-31" in section and "<svg" in section
    assert ("期初净值" in section) == (lang == "zh") and ("Opening NAV" in section) == (lang == "en")


def test_an_empty_fund_s_bridge_draws_without_a_warning(recwarn):
    total = _total(0, 0, 0, 0)
    assert waterfall_layout(bridge_steps(total))["top"] > 0 and bridge_chart({"total": total}) is not None
    assert not [w for w in recwarn if "singular" in str(w.message)]


def test_a_single_valuation_s_chart_spans_half_a_year_around_it():
    """A chart of one valuation used to run from 2025-01 to 2028-07: the axis now spans the
    half-year around it (three months either side)."""
    import datetime as dt

    from portfolio.reports.charts import valuation_history_chart

    svg = valuation_history_chart([(dt.date(2025, 6, 30), Decimal("24000000"), True)])
    months = re.findall(r'class="xtick"[^>]*>([\d-]+)</text>', svg)
    assert months and min(months) >= "2025-03" and max(months) <= "2025-10", months


def _ytick_labels(svg_text: str) -> list[str]:
    return re.findall(r'class="ytick"[^>]*>([^<]*)</text>', svg_text)


@pytest.mark.parametrize(("lang", "note"), [("zh", "本期净值无变动"), ("en", "Nothing moved in this period")])
def test_an_all_zero_bridge_says_nothing_moved_instead_of_a_0_to_1_axis(lang, note):
    """Every bar zero (a fund before its first investment) had been drawn on an axis of 0 to 1
    万元 (0, 0.2, … 1): a scale of nothing. The chart says nothing moved, on the zero line."""
    svg_text = bridge_chart({"total": _total(0, 0, 0, 0)}, lang)
    assert svg_text is not None and note in svg_text
    assert _ytick_labels(svg_text) in ([], ["0"]), _ytick_labels(svg_text)
    assert not is_rebased({"total": _total(0, 0, 0, 0)})


def test_the_quarterly_report_before_the_first_investment_shows_the_nothing_moved_bridge(book, client):
    """QY's 2022Q4, before its first investment (2023-03-31): the rendered report's bridge."""
    login(client, "mgr")
    html = client.get("/reports/QY/2022Q4").get_data(as_text=True)
    figure = html[html.index('<section id="bridge">'):]
    figure = figure[figure.index("<svg"):figure.index("</svg>")]
    assert "本期净值无变动" in figure and _ytick_labels(figure) in ([], ["0"]), _ytick_labels(figure)

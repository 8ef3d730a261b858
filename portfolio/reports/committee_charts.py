"""The committee review's chart: NAV by sector before and after the proposed deal.

It draws figures handed to it (portfolio.figures.report on the book and on the pro-forma book);
it computes none. Same style as portfolio.reports.charts (SVG, Noto Sans CJK SC).
"""
from __future__ import annotations

from portfolio.reports import svg
from portfolio.reports.charts import COLORS, describe, horizontal_bars, wan_for_drawing
from portfolio.vocabulary import label


def before_after_sector_chart(rows: list[dict], lang: str = "zh") -> str | None:
    """rows: [{"sector", "before": {..., "nav"} or None, "after": {...} or None}] (review())."""
    if not rows:
        return None
    zh = lang.startswith("zh")
    names = [label("sector", r["sector"], lang=lang) for r in rows]
    before = [wan_for_drawing((r["before"] or {}).get("nav")) for r in rows]
    after = [wan_for_drawing((r["after"] or {}).get("nav")) for r in rows]
    xlabel = "剩余价值（万元）" if zh else "NAV (CNY 10k)"
    series = [("投资前" if zh else "Before", COLORS[5], before),
              ("投资后（模拟）" if zh else "After (pro forma)", COLORS[0], after)]
    arrow = "→"
    title = describe(xlabel, [(n, f"{svg.amount_text(b)} {arrow} {svg.amount_text(a)}")
                              for n, b, a in zip(names, before, after)], zh)
    return horizontal_bars(names, series, xlabel=xlabel, title=title, css_class="chart sector-before-after",
                           width=461.0)

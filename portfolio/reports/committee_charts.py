"""The committee review's chart: NAV by sector before and after the proposed deal.

It draws figures handed to it (portfolio.figures.report on the book and on the pro-forma book);
it computes none. Same style as portfolio.reports.charts (SVG, Noto Sans CJK SC).
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import StrMethodFormatter  # noqa: E402

from portfolio.reports.charts import COLORS, chart_style, to_svg, wan_for_drawing  # noqa: E402
from portfolio.vocabulary import label  # noqa: E402


def before_after_sector_chart(rows: list[dict], lang: str = "zh") -> str | None:
    """rows: [{"sector", "before": {..., "nav"} or None, "after": {...} or None}] (review())."""
    if not rows:
        return None
    zh = lang.startswith("zh")
    names = [label("sector", r["sector"], lang=lang) for r in rows]
    before = [wan_for_drawing((r["before"] or {}).get("nav")) for r in rows]
    after = [wan_for_drawing((r["after"] or {}).get("nav")) for r in rows]
    with plt.rc_context(chart_style()):
        fig, ax = plt.subplots(figsize=(6.4, 0.62 * len(rows) + 1.2))
        ys = range(len(rows))
        ax.barh([y - 0.2 for y in ys], before, height=0.38, color=COLORS[5], label="投资前" if zh else "Before")
        ax.barh([y + 0.2 for y in ys], after, height=0.38, color=COLORS[0], label="投资后（模拟）" if zh
                else "After (pro forma)")
        ax.set_yticks(list(ys), names)
        ax.invert_yaxis()
        ax.set_xlabel("剩余价值（万元）" if zh else "NAV (CNY 10k)")
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.legend(frameon=False, loc="lower right")
        return to_svg(fig, "chart sector-before-after")

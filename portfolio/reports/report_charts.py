"""The quarterly report's charts, as inline SVG (vector in the PDF).

The sector and region bars are the screens' own (portfolio.reports.charts); only the NAV
bridge waterfall, which no screen shows, is drawn here, in the same style. Charts only
draw figures handed to them; they compute none.
"""
from __future__ import annotations

from matplotlib.ticker import StrMethodFormatter

from portfolio.reports import charts
from portfolio.vocabulary import label


def bridge_chart(bridge: dict, lang: str = "zh") -> str | None:
    """The fund's NAV bridge of one period as a waterfall (万元)."""
    import matplotlib.pyplot as plt

    total = bridge["total"]
    zh = charts.is_chinese(lang)
    steps = [("期初净值" if zh else "Opening", total["opening"], "base"),
             ("出资" if zh else "Contributions", total["contributions"], "step"),
             ("分配" if zh else "Distributions", -total["distributions"], "step"),
             ("估值变动" if zh else "Change in value", total["change"], "step"),
             ("期末净值" if zh else "Closing", total["closing"], "base")]
    with plt.rc_context(charts.chart_style()):
        fig, ax = plt.subplots(figsize=(6.4, 2.6))
        level = 0.0
        for i, (_name, amount, kind) in enumerate(steps):
            value = charts.wan_for_drawing(amount)
            if kind == "base":
                ax.bar(i, value, color=charts.COLORS[5])
                level = value
            else:
                ax.bar(i, value, bottom=level, color=charts.COLORS[2] if value >= 0 else charts.COLORS[0])
                level += value
        ax.set_xticks(range(len(steps)), [s[0] for s in steps])
        ax.set_ylabel("万元" if zh else "CNY 10k")
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.axhline(0, color="#999", linewidth=0.6)
        return charts.to_svg(fig)


def region_chart(by_region: dict, lang: str = "zh") -> str | None:
    regions = [r for r in ("local", "outside") if r in by_region]
    return charts.bar_chart([label("region", r, lang=lang) for r in regions],
                            [by_region[r].get("nav") for r in regions],
                            xlabel="剩余价值（万元）" if charts.is_chinese(lang) else "NAV (CNY 10k)",
                            color=charts.COLORS[3])


def quarterly_charts(report: dict, lang: str = "zh") -> dict[str, str | None]:
    """Every chart of the report as an inline SVG string (None: nothing to draw)."""
    return {
        "bridge": bridge_chart(report["bridge"][0], lang),
        "sector": charts.sector_chart(report["by_sector"], lang),
        "lookthrough": charts.sector_chart(report["lookthrough_by_sector"], lang, lookthrough=True),
        "region": region_chart(report["by_region"], lang),
    }

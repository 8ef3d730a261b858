"""The home page's charts of a fund by quarter (portfolio.figures.trend): the figures as
handed over, drawn with the screens' style and Chinese font (portfolio.reports.charts).

- `trend_chart`: NAV, paid-in, distributions and dry powder (amounts), and below them TVPI,
  DPI and IRR (the J-curve); an IRR under a year from the first investment is left out
  (not annualised: a rate over weeks reads as 900 %).
- `flows_chart`: calls and distributions by quarter (bars, calls downward) and the
  cumulative net cash flow (the J of the J-curve).
"""
from __future__ import annotations

from portfolio.formatting import irr_is_short, quarter
from portfolio.reports.charts import COLORS, chart_style, drawing_unit, is_chinese, plt, to_svg, wan_for_drawing

__all__ = ["trend_chart", "flows_chart"]

MAX_TICKS = 8


def _ticks(ax, labels: list[str]) -> None:
    """At most MAX_TICKS quarter labels, evenly spaced, the last always shown: none overlap."""
    step = max(1, -(-len(labels) // MAX_TICKS))
    shown = list(range(len(labels) - 1, -1, -step))[::-1]
    ax.set_xticks(shown, [labels[i] for i in shown])


def trend_chart(points: list[dict], lang: str = "zh") -> str | None:
    if not points:
        return None
    zh = is_chinese(lang)
    labels = [quarter(p["as_of"]) for p in points]
    x = list(range(len(points)))
    series = {key: [wan_for_drawing(p[key]) for p in points] for key in ("nav", "paid_in", "distributed", "unfunded")}
    scale, unit = drawing_unit([v for values in series.values() for v in values], "万元" if zh else "CNY 10k")
    names = {"nav": ("剩余价值", "NAV"), "paid_in": ("实缴", "Paid-in"), "distributed": ("分配", "Distributions"),
             "unfunded": ("未实缴（可投余额）", "Dry powder (unfunded)")}
    with plt.rc_context(chart_style()):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 5.2), sharex=True,
                                          gridspec_kw={"height_ratios": [3, 2], "hspace": 0.28})
        for color, key in zip(COLORS, ("nav", "paid_in", "distributed", "unfunded")):
            top.plot(x, [v / scale for v in series[key]], marker="o", markersize=3, color=color,
                     linestyle="--" if key == "unfunded" else "-", label=names[key][0 if zh else 1])
        top.set_ylabel(unit)
        top.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
        top.legend(frameon=False, fontsize=8, ncol=2, loc="upper left")
        for color, key, name in ((COLORS[0], "tvpi", "TVPI"), (COLORS[2], "dpi", "DPI")):
            bottom.plot(x, [p[key] if p[key] is not None else float("nan") for p in points], marker="o",
                        markersize=3, color=color, label=name)
        bottom.set_ylabel("倍数" if zh else "Multiple")
        bottom.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos: f"{v:.2f}x"))
        irr = [p["irr"] if p["irr"] is not None and not irr_is_short(p.get("since"), p["as_of"]) else float("nan")
               for p in points]
        right = bottom.twinx()
        right.spines["right"].set_visible(True)
        right.plot(x, [v * 100 for v in irr], marker="s", markersize=3, color=COLORS[4], label="IRR")
        right.set_ylabel("IRR (%)")
        right.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos: f"{v:.0f}%"))
        handles = bottom.get_legend_handles_labels()
        more = right.get_legend_handles_labels()
        # above the panel: the lines cross the whole of it
        bottom.legend(handles[0] + more[0], handles[1] + more[1], frameon=False, fontsize=8, ncol=3,
                      loc="lower left", bbox_to_anchor=(0, 1.0), borderaxespad=0.2)
        _ticks(bottom, labels)
        return to_svg(fig, "chart trend")


def flows_chart(points: list[dict], lang: str = "zh") -> str | None:
    if not points:
        return None
    zh = is_chinese(lang)
    labels = [quarter(p["as_of"]) for p in points]
    x = list(range(len(points)))
    calls = [-wan_for_drawing(p["calls"]) for p in points]
    dists = [wan_for_drawing(p["distributions"]) for p in points]
    net, running = [], 0.0
    for c, d in zip(calls, dists):
        running += c + d
        net.append(running)
    scale, unit = drawing_unit(calls + dists + net, "万元" if zh else "CNY 10k")
    with plt.rc_context(chart_style()):
        fig, ax = plt.subplots(figsize=(6.4, 3.0))
        ax.bar(x, [v / scale for v in calls], color=COLORS[0], width=0.6, label="出资" if zh else "Calls")
        ax.bar(x, [v / scale for v in dists], color=COLORS[2], width=0.6, label="分配" if zh else "Distributions")
        ax.plot(x, [v / scale for v in net], color=COLORS[1], marker="o", markersize=3,
                label="累计净现金流" if zh else "Cumulative net cash flow")
        ax.axhline(0, color="#999999", linewidth=0.8)
        ax.set_ylabel(unit)
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
        ax.legend(frameon=False, fontsize=8)
        _ticks(ax, labels)
        return to_svg(fig, "chart flows")

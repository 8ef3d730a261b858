"""The forecast's fan chart (issue 16): actual NAV and cumulative calls (A), then the
expected path with its P10–P90 band (E), in 万元, through the screens' Chinese font."""
from __future__ import annotations

from portfolio.reports.charts import COLORS, chart_style, is_chinese, plt, to_svg

WAN = 10_000.0


def fan_chart(result: dict, lang: str = "zh") -> str | None:
    actuals, rows = result["actuals"], result["forecast"]
    if not actuals and not any(r["nav"] for r in rows):
        return None
    zh = is_chinese(lang)
    from matplotlib.ticker import StrMethodFormatter

    with plt.rc_context(chart_style()):
        fig, ax = plt.subplots(figsize=(7.2, 3.2))
        if actuals:
            ax.plot([a["end"] for a in actuals], [a["nav"] / WAN for a in actuals], color=COLORS[0],
                    label="剩余价值（实际）" if zh else "NAV (actual)")
        days = [r["end"] for r in rows]
        ax.fill_between(days, [r["nav_p10"] / WAN for r in rows], [r["nav_p90"] / WAN for r in rows],
                        color=COLORS[0], alpha=0.18, linewidth=0, label="剩余价值 P10–P90" if zh else "NAV P10–P90")
        ax.plot(days, [r["nav"] / WAN for r in rows], color=COLORS[0], linestyle="--",
                label="剩余价值（预测）" if zh else "NAV (forecast)")
        ax.fill_between(days, [r["unfunded_p10"] / WAN for r in rows], [r["unfunded_p90"] / WAN for r in rows],
                        color=COLORS[1], alpha=0.18, linewidth=0)
        ax.plot(days, [r["unfunded"] / WAN for r in rows], color=COLORS[1], linestyle="--",
                label="未实缴（预测）" if zh else "Unfunded (forecast)")
        ax.axvline(result["as_of"], color=COLORS[5], linewidth=0.8)
        ax.set_ylabel("万元" if zh else "CNY 10k")
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.legend(frameon=False, fontsize=8, ncol=2)
        fig.autofmt_xdate()
        return to_svg(fig)

"""The forecast's fan chart (issue 16): actual NAV and cumulative calls (A), then the
expected path with its P10–P90 band (E), in 万元, through the screens' Chinese font."""
from __future__ import annotations

from portfolio.reports import svg
from portfolio.reports.charts import COLORS, describe, is_chinese

WAN = 10_000.0


def fan_chart(result: dict, lang: str = "zh") -> str | None:
    actuals, rows = result["actuals"], result["forecast"]
    if not actuals and not any(r["nav"] for r in rows):
        return None
    zh = is_chinese(lang)
    names = ("剩余价值（实际）", "剩余价值 P10–P90", "剩余价值（预测）", "未实缴（预测）") if zh else \
        ("NAV (actual)", "NAV P10–P90", "NAV (forecast)", "Unfunded (forecast)")
    unit = "万元" if zh else "CNY 10k"
    values = [a["nav"] / WAN for a in actuals] + [r[key] / WAN for r in rows for key in (
        "nav", "nav_p10", "nav_p90", "unfunded", "unfunded_p10", "unfunded_p90")]
    ticks = svg.nice_ticks(min(values), max(values))
    ticks_text = svg.labels_for(ticks, svg.amount_text)
    days = [a["end"] for a in actuals] + [r["end"] for r in rows] + [result["as_of"]]
    first, last = min(days), max(days)
    margin = (last - first) * 0.03
    start, end = (first - margin, last + margin) if margin else (first, first)
    entries = ([("line", COLORS[0], names[0])] if actuals else []) + \
        ([("band", COLORS[0], names[1]), ("dashed", COLORS[0], names[2]), ("dashed", COLORS[1], names[3])]
         if rows else [])

    width, height = 518.0, 230.0
    left = svg.PAD + svg.y_room(ticks_text, unit)
    right = width - svg.PAD - svg.text_width("2025-03") / 2
    legend = svg.legend_height(entries, right - left)
    last_row = rows[-1] if rows else None
    title = describe(f"{names[2]}（{unit}）" if zh else f"{names[2]} ({unit})",
                     [(f"{last_row['quarter']}", svg.amount_text(last_row["nav"] / WAN)),
                      ("P10–P90", f"{svg.amount_text(last_row['nav_p10'] / WAN)}–"
                                  f"{svg.amount_text(last_row['nav_p90'] / WAN)}")] if last_row else [], zh)
    canvas = svg.Canvas(width, height, title)
    svg.draw_legend(canvas, entries, left, svg.PAD, right - left)
    ax = svg.Axes(canvas, (left, svg.PAD + legend + 4, right, height - svg.PAD - svg.x_room(title=False)),
                  (start.toordinal(), end.toordinal() if end > start else start.toordinal() + 1),
                  (ticks[0], ticks[-1]))
    xs = [r["end"].toordinal() for r in rows]
    for color, key in ((COLORS[0], "nav"), (COLORS[1], "unfunded")):
        if rows:
            upper = [(ax.x(x), ax.y(r[f"{key}_p90"] / WAN)) for x, r in zip(xs, rows)]
            lower = [(ax.x(x), ax.y(r[f"{key}_p10"] / WAN)) for x, r in zip(xs, rows)]
            canvas.polygon(upper + lower[::-1], color, opacity=0.18)
    if actuals:
        ax.series([a["end"].toordinal() for a in actuals], [a["nav"] / WAN for a in actuals], COLORS[0], marker=None)
    ax.series(xs, [r["nav"] / WAN for r in rows], COLORS[0], dash="4 2", marker=None)
    ax.series(xs, [r["unfunded"] / WAN for r in rows], COLORS[1], dash="4 2", marker=None)
    at = ax.x(result["as_of"].toordinal())
    canvas.line(at, ax.top, at, ax.bottom, color=COLORS[5], width=0.8)
    ax.spines()
    ax.y_axis(ticks, ticks_text, unit)
    months = svg.date_ticks(start, end, right - left)
    ax.x_axis([d.toordinal() for d, _ in months], [text for _, text in months])
    return canvas.render()

"""The home page's charts of a fund by quarter (portfolio.figures.trend): the figures as
handed over, drawn with the screens' style and Chinese font (portfolio.reports.charts, svg).

- `trend_chart`: NAV, paid-in, distributions and dry powder (amounts), and below them TVPI,
  DPI and IRR (the J-curve); an IRR under a year from the first investment is left out
  (not annualised: a rate over weeks reads as 900 %).
- `flows_chart`: calls and distributions by quarter (bars, calls downward) and the
  cumulative net cash flow (the J of the J-curve).
"""
from __future__ import annotations

from portfolio.formatting import irr_is_short, quarter
from portfolio.messages import listed
from portfolio.reports import svg
from portfolio.reports.charts import COLORS, drawing_unit, is_chinese, wan_for_drawing

__all__ = ["trend_chart", "flows_chart"]

MAX_TICKS = 8
WIDTH = 461.0  # 6.4 in, as before


def _ratio(value) -> float | None:
    return None if value is None else float(value)


def _covering(values: list[float | None]) -> list[float]:
    drawn = [v for v in values if v is not None]
    return svg.nice_ticks(min(drawn), max(drawn)) if drawn else svg.nice_ticks(0.0, 1.0)


def _quarter_axis(ax: svg.Axes, labels: list[str]) -> None:
    """At most MAX_TICKS quarter labels, evenly spaced, the last always shown: none overlap."""
    shown = svg.category_ticks(len(labels), MAX_TICKS)
    ax.x_axis([float(i) for i in shown], [labels[i] for i in shown])


def trend_chart(points: list[dict], lang: str = "zh") -> str | None:
    if not points:
        return None
    zh = is_chinese(lang)
    labels = [quarter(p["as_of"]) for p in points]
    x = [float(i) for i in range(len(points))]
    keys = ("nav", "paid_in", "distributed", "unfunded")
    series = {key: [wan_for_drawing(p[key]) for p in points] for key in keys}
    scale, unit = drawing_unit([v for values in series.values() for v in values], "万元" if zh else "CNY 10k")
    names = {"nav": ("剩余价值", "NAV"), "paid_in": ("实缴", "Paid-in"), "distributed": ("分配", "Distributions"),
             "unfunded": ("未实缴（可投余额）", "Dry powder (unfunded)")}
    amounts = {key: [v / scale for v in series[key]] for key in keys}
    top_ticks = _covering([v for values in amounts.values() for v in values])
    top_text = svg.labels_for(top_ticks, svg.amount_text)
    ratios = {key: [_ratio(p[key]) for p in points] for key in ("tvpi", "dpi")}
    low_ticks = _covering(ratios["tvpi"] + ratios["dpi"])
    low_text = svg.labels_for(low_ticks, lambda v, places: f"{v:.{max(places, 2)}f}x")
    irr = [float(p["irr"]) * 100 if p["irr"] is not None and not irr_is_short(p.get("since"), p["as_of"]) else None
           for p in points]
    has_irr = any(v is not None for v in irr)
    irr_ticks = _covering(irr)
    irr_text = svg.labels_for(irr_ticks, lambda v, places: f"{v:.{places}f}%")
    multiple = "倍数" if zh else "Multiple"

    height = 374.0
    left = svg.PAD + max(svg.y_room(top_text, unit), svg.y_room(low_text, multiple))
    right = WIDTH - svg.PAD - (svg.y_room(irr_text, "IRR (%)") if has_irr else svg.text_width(labels[-1]) / 2)
    top_entries = [("dashed" if key == "unfunded" else "marker", color, names[key][0 if zh else 1])
                   for color, key in zip(COLORS, keys)]
    low_entries = [("marker", COLORS[0], "TVPI"), ("marker", COLORS[2], "DPI")] + \
        ([("marker", COLORS[4], "IRR")] if has_irr else [])
    top_legend = svg.legend_height(top_entries, right - left)
    low_legend = svg.legend_height(low_entries, right - left)
    plot_bottom = height - svg.PAD - svg.x_room(title=False)
    room = plot_bottom - svg.PAD - top_legend - low_legend - 4 - 14
    top_panel = (svg.PAD + top_legend + 4, svg.PAD + top_legend + 4 + room * 0.6)
    low_top = top_panel[1] + 14 + low_legend

    shown = listed((names[k][0 if zh else 1] for k in keys), lang)
    title = (f"{shown}（{unit}）与 TVPI、DPI、IRR，{labels[0]}–{labels[-1]}" if zh else
             f"{shown} ({unit}) and TVPI, DPI, IRR, {labels[0]}–{labels[-1]}")
    canvas = svg.Canvas(WIDTH, height, title)
    span = (-0.5, len(points) - 0.5)
    upper = svg.Axes(canvas, (left, top_panel[0], right, top_panel[1]), span, (top_ticks[0], top_ticks[-1]))
    svg.draw_legend(canvas, top_entries, left, svg.PAD, right - left)
    for color, key in zip(COLORS, keys):
        upper.series(x, amounts[key], color, dash="4 2" if key == "unfunded" else None)
    upper.spines()
    upper.y_axis(top_ticks, top_text, unit)

    lower = svg.Axes(canvas, (left, low_top, right, plot_bottom), span, (low_ticks[0], low_ticks[-1]))
    # above the panel: the lines cross the whole of it
    svg.draw_legend(canvas, low_entries, left, top_panel[1] + 14, right - left)
    for color, key in ((COLORS[0], "tvpi"), (COLORS[2], "dpi")):
        lower.series(x, ratios[key], color)
    if has_irr:
        twin = svg.Axes(canvas, (left, low_top, right, plot_bottom), span, (irr_ticks[0], irr_ticks[-1]))
        twin.series(x, irr, COLORS[4], marker="s")
        twin.spines(left=False, bottom=False, right=True)
        twin.y_axis(irr_ticks, irr_text, "IRR (%)", side="right")
    lower.spines()
    lower.y_axis(low_ticks, low_text, multiple)
    _quarter_axis(lower, labels)
    return canvas.render("chart trend")


def flows_chart(points: list[dict], lang: str = "zh") -> str | None:
    if not points:
        return None
    zh = is_chinese(lang)
    labels = [quarter(p["as_of"]) for p in points]
    calls = [-wan_for_drawing(p["calls"]) for p in points]
    dists = [wan_for_drawing(p["distributions"]) for p in points]
    net, running = [], 0.0
    for c, d in zip(calls, dists):
        running += c + d
        net.append(running)
    scale, unit = drawing_unit(calls + dists + net, "万元" if zh else "CNY 10k")
    calls, dists, net = ([v / scale for v in values] for values in (calls, dists, net))
    ticks = svg.nice_ticks(min(calls + net + [0.0]), max(dists + net + [0.0]))
    ticks_text = svg.labels_for(ticks, svg.amount_text)
    names = ("出资", "分配", "累计净现金流") if zh else ("Calls", "Distributions", "Cumulative net cash flow")
    entries = [("bar", COLORS[0], names[0]), ("bar", COLORS[2], names[1]), ("marker", COLORS[1], names[2])]

    height = 216.0
    left = svg.PAD + svg.y_room(ticks_text, unit)
    right = WIDTH - svg.PAD - svg.text_width(labels[-1]) / 2
    legend = svg.legend_height(entries, right - left)
    shown = listed(names, lang)
    title = f"{shown}（{unit}），{labels[0]}–{labels[-1]}" if zh else f"{shown} ({unit}), {labels[0]}–{labels[-1]}"
    canvas = svg.Canvas(WIDTH, height, title)
    svg.draw_legend(canvas, entries, left, svg.PAD, right - left)
    ax = svg.Axes(canvas, (left, svg.PAD + legend + 4, right, height - svg.PAD - svg.x_room(title=False)),
                  (-0.5, len(points) - 0.5), (ticks[0], ticks[-1]))
    for values, color in ((calls, COLORS[0]), (dists, COLORS[2])):
        for i, v in enumerate(values):
            canvas.rect(ax.x(i - 0.3), ax.y(0.0), ax.x(i + 0.3) - ax.x(i - 0.3), ax.y(v) - ax.y(0.0), color)
    ax.hline(0.0, width=0.8)
    ax.series([float(i) for i in range(len(points))], net, COLORS[1])
    ax.spines()
    ax.y_axis(ticks, ticks_text, unit)
    _quarter_axis(ax, labels)
    return canvas.render("chart flows")

"""The screens' charts: SVG written directly (portfolio.reports.svg) as inline strings
(vector), Chinese labels in Noto Sans CJK SC (fonts-noto-cjk). Text stays text in the SVG,
so the browser (and WeasyPrint, for the PDF) draws it with that font.

The charts only draw figures handed to them (from portfolio.figures.report); they compute none.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portfolio.money import WAN
from portfolio.reports import svg
from portfolio.reports.svg import FONT  # noqa: F401  (the charts' font, as before)
from portfolio.vocabulary import label

COLORS = ["#b3261e", "#2b6cb0", "#2f855a", "#b7791f", "#6b46c1", "#718096", "#d53f8c"]


def is_chinese(lang: str) -> bool:
    return lang.startswith("zh")


def wan_for_drawing(amount) -> float:
    # for drawing only: the figure itself stays a Decimal everywhere else
    return float(Decimal(amount or 0) / WAN)


def drawing_unit(values_wan: list[float], label_text: str) -> tuple[float, str]:
    """The unit an amount axis reads in: 万元, or 亿元 once the bars pass 10 亿 (so that
    ticks stay short and do not run into each other); the axis label says which."""
    largest = max((abs(v) for v in values_wan), default=0.0)
    if largest >= 100_000:
        return 10_000.0, label_text.replace("万元", "亿元").replace("CNY 10k", "CNY 100m")
    return 1.0, label_text


def describe(head: str, items: list[tuple[str, str]], zh: bool) -> str:
    """The chart's accessible title: what it shows and its values ('剩余价值（万元）：A 1，B 2')."""
    colon, comma = ("：", "，") if zh else (": ", ", ")
    return head + (colon + comma.join(f"{name} {value}" for name, value in items) if items else "")


def _has_cjk(text: str) -> bool:
    return any(svg.text_width(c) == svg.SIZE for c in text)


BAR_SLOT = 30.0  # points a category takes (0.42 in, as before); its bars 60 % of it


def horizontal_bars(names: list[str], series: list[tuple[str, str, list[float]]], *, xlabel: str, title: str,
                    css_class: str = "chart", width: float = 403.0) -> str:
    """Categories down the left, one bar per series in each (side by side when several, a
    legend above then), the amount axis under them with round ticks from zero or below."""
    values = [v for _name, _color, vs in series for v in vs]
    ticks = svg.nice_ticks(min(values + [0.0]), max(values + [0.0]))
    ticks_text = svg.labels_for(ticks, svg.amount_text)
    left = svg.PAD + max(svg.text_width(n) for n in names) + svg.PAD / 2 + svg.TICK
    right = svg.PAD + svg.text_width(ticks_text[-1]) / 2
    width = max(width, left + 220 + right)
    entries = [("bar", color, name) for name, color, _vs in series] if len(series) > 1 else []
    top = svg.PAD + 2 + svg.legend_height(entries, width - 2 * svg.PAD)
    slot = BAR_SLOT if len(series) == 1 else BAR_SLOT * 1.5
    bottom = top + slot * len(names)
    canvas = svg.Canvas(width, bottom + svg.x_room() + svg.PAD, title)
    svg.draw_legend(canvas, entries, left, svg.PAD, width - left - svg.PAD)
    ax = svg.Axes(canvas, (left, top, width - right, bottom), (ticks[0], ticks[-1]), (0.0, 1.0))
    thickness = slot * 0.6 / len(series)
    for i, name in enumerate(names):
        middle = top + slot * (i + 0.5)
        for k, (_name, color, vs) in enumerate(series):
            y = middle - slot * 0.3 + k * thickness + (0.02 * slot if len(series) > 1 else 0.0)
            canvas.rect(ax.x(0.0), y, ax.x(vs[i]) - ax.x(0.0), thickness - (0.04 * slot if len(series) > 1 else 0.0),
                        color)
        canvas.line(left, middle, left - svg.TICK, middle)
        canvas.text(left - svg.TICK - svg.PAD / 2, middle, name, anchor="end", middle=True)
    if ticks[0] < 0:
        canvas.line(ax.x(0.0), top, ax.x(0.0), bottom, color=svg.MUTED, width=0.6)
    ax.spines()
    ax.x_axis(ticks, ticks_text, xlabel)
    return canvas.render(css_class)


def bar_chart(labels: list[str], values: list, *, xlabel: str, color: str = COLORS[0]) -> str | None:
    """Horizontal bars of amounts (yuan, drawn in 万元, or 亿元 when large)."""
    if not labels:
        return None
    drawn = [wan_for_drawing(v) for v in values]
    scale, xlabel = drawing_unit(drawn, xlabel)
    shown = [v / scale for v in drawn]
    places = 2 if scale > 1 else 0
    title = describe(xlabel, [(n, svg.amount_text(v, places)) for n, v in zip(labels, shown)], _has_cjk(xlabel))
    return horizontal_bars(labels, [(xlabel, color, shown)], xlabel=xlabel, title=title)


def sector_chart(groups: dict, lang: str = "zh", *, lookthrough: bool = False) -> str | None:
    """NAV by sector (万元); says in its title when it is the look-through view."""
    sectors = [s for s in groups if groups[s].get("nav") is not None]
    if not sectors:
        return None
    xlabel = ("穿透后剩余价值（万元）" if lookthrough else "剩余价值（万元）") if is_chinese(lang) else \
        ("Look-through NAV (CNY 10k)" if lookthrough else "NAV (CNY 10k)")
    return bar_chart([label("sector", s, lang=lang) for s in sectors], [groups[s]["nav"] for s in sectors],
                     xlabel=xlabel, color=COLORS[1] if lookthrough else COLORS[0])


def mode_chart(by_mode: dict, lang: str = "zh") -> str | None:
    modes = list(by_mode)
    return bar_chart([label("mode", m, lang=lang) for m in modes], [by_mode[m].get("nav") for m in modes],
                     xlabel="剩余价值（万元）" if is_chinese(lang) else "NAV (CNY 10k)", color=COLORS[2])


def date_range(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The dates an axis spans: the points' with a margin of 5 % either side, or, for one or
    a few close points, the half-year around them (a single valuation is not drawn alone
    on an axis of years)."""
    if (last - first).days < 180:
        middle = first + (last - first) / 2
        return middle - dt.timedelta(days=91), middle + dt.timedelta(days=91)
    margin = (last - first) * 0.05
    return first - margin, last + margin


def valuation_history_chart(points: list[tuple], lang: str = "zh") -> str | None:
    """Fair value over time: points are (date, fair_value yuan, counts: bool); drafts and
    void ones (counts False) are drawn hollow."""
    if not points:
        return None
    zh = is_chinese(lang)
    points = sorted(points, key=lambda p: p[0])
    drawn = [(d, wan_for_drawing(v), ok) for d, v, ok in points]
    counted = [(d, v) for d, v, ok in drawn if ok]
    other = [(d, v) for d, v, ok in drawn if not ok]
    ylabel = "公允价值（万元）" if zh else "Fair value (CNY 10k)"
    entries = ([("marker", COLORS[0], "已审批" if zh else "Approved")] if counted else []) + \
        ([("hollow", COLORS[5], "草稿/作废" if zh else "Draft / void")] if other else [])
    ticks = svg.nice_ticks(min(v for _, v, _ in drawn), max(v for _, v, _ in drawn))
    ticks_text = svg.labels_for(ticks, svg.amount_text)
    start, end = date_range(points[0][0], points[-1][0])
    width, height = 432.0, 202.0
    left = svg.PAD + svg.y_room(ticks_text, ylabel)
    right = width - svg.PAD - svg.text_width("2025-03") / 2
    top = svg.PAD + svg.legend_height(entries, right - left) + 4
    bottom = height - svg.PAD - svg.x_room(title=False)
    title = describe(ylabel, [(f"{d.isoformat()}{'' if ok else '*'}", svg.amount_text(v)) for d, v, ok in drawn], zh)
    canvas = svg.Canvas(width, height, title)
    svg.draw_legend(canvas, entries, left, svg.PAD, right - left)
    ax = svg.Axes(canvas, (left, top, right, bottom), (start.toordinal(), end.toordinal()), (ticks[0], ticks[-1]))
    if counted:
        ax.series([d.toordinal() for d, _ in counted], [v for _, v in counted], COLORS[0], radius=2.5)
    for d, v in other:
        canvas.marker(ax.x(d.toordinal()), ax.y(v), COLORS[5], radius=3, hollow=True)
    ax.spines()
    ax.y_axis(ticks, ticks_text, ylabel)
    months = svg.date_ticks(start, end, right - left)
    ax.x_axis([d.toordinal() for d, _ in months], [text for _, text in months])
    return canvas.render()

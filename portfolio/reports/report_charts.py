"""The quarterly report's charts, as inline SVG (vector in the PDF).

The sector and region bars are the screens' own (portfolio.reports.charts); the NAV
bridge waterfall is drawn here and shown on the fund page too, in the same style.
Charts only draw figures handed to them; they compute none.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from portfolio.reports import charts, svg
from portfolio.vocabulary import label

# Rebase (start the amount axis above zero, with a break marked) when the NAVs stand this
# many times taller than the whole span of the flows: drawn from zero, the flows of a
# quarter next to a 250 亿 NAV are thinner than a line.
REBASE_WHEN = 4.0


def bridge_steps(total: dict, lang: str = "zh") -> list[tuple[str, Decimal, str]]:
    """The waterfall's bars: (name, signed amount in yuan, kind), kind "base" for the
    opening and closing NAVs, "step" for a flow or the change in value."""
    zh = charts.is_chinese(lang)
    return [("期初净值" if zh else "Opening NAV", Decimal(total["opening"]), "base"),
            ("出资" if zh else "Contributions", Decimal(total["contributions"]), "step"),
            ("分配" if zh else "Distributions", -Decimal(total["distributions"]), "step"),
            ("估值变动" if zh else "Change in value", Decimal(total["change"]), "step"),
            ("期末净值" if zh else "Closing NAV", Decimal(total["closing"]), "base")]


def waterfall_layout(steps: list[tuple[str, Decimal, str]]) -> dict:
    """Where each bar stands (in 万元, floats for drawing only) and the axis's range.

    Bars: (bottom, top) per step, the base bars from zero, a step from the running level.
    `floor` is where the amount axis starts: 0, or, when the NAVs dwarf the flows
    (REBASE_WHEN), a round number below the lowest level the waterfall reaches, so that
    the flows have most of the chart's height; `rebased` says the axis is broken."""
    bars, level = [], 0.0
    for _name, amount, kind in steps:
        value = charts.wan_for_drawing(amount)
        if kind == "base":
            bars.append((0.0, value))
            level = value
        else:
            bars.append((level, level + value))
            level += value
    levels = [edge for i, bar in enumerate(bars) for edge in (bar if steps[i][2] == "step" else bar[1:])]
    low, high = min(levels + [0.0]), max(levels + [0.0])
    lowest_nav = min(levels)
    span = max(levels) - lowest_nav
    floor, rebased = min(low, 0.0), False
    if lowest_nav > 0 and 0 < span * REBASE_WHEN < lowest_nav:  # nothing moved: nothing to magnify
        margin = max(span, lowest_nav * 0.002) * 0.6  # flows take ≥ about half the height
        rough = lowest_nav - margin
        step = _nice_step(margin)
        floor, rebased = max(0.0, (rough // step) * step), True
    top = high + (high - floor) * 0.12  # room for the amounts written over the bars
    if top <= floor:  # an empty fund: every amount zero
        top = floor + 1.0
    return {"bars": bars, "floor": floor, "top": top, "rebased": rebased}


def _nice_step(width: float) -> float:
    """1, 2 or 5 × 10^n, the largest not above `width` (a round place to start an axis)."""
    import math

    if width <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(width))
    return max(m * power for m in (1, 2, 5) if m * power <= width)


def bridge_chart(bridge: dict, lang: str = "zh") -> str | None:
    """The fund's NAV bridge of one period as a waterfall: opening NAV, contributions,
    distributions, change in value, closing NAV. When the NAVs dwarf the flows the amount
    axis starts near the smaller NAV (rebased), marked by a break on the axis and on the
    NAV bars, and every bar carries its amount, so the flows read at their true size. When
    every amount is zero (a fund before its first investment) the chart says that nothing
    moved, on the zero line, instead of an axis of 0 to 1 that scales nothing."""
    total = bridge.get("total") if bridge else None
    if not total:
        return None
    zh = charts.is_chinese(lang)
    steps = bridge_steps(total, lang)
    layout = waterfall_layout(steps)
    bars, floor, top = layout["bars"], layout["floor"], layout["top"]
    scale, unit = charts.drawing_unit([abs(b) for bar in bars for b in bar], "万元" if zh else "CNY 10k")
    places = 2 if scale > 1 else 0
    # no tick at the foot of a broken axis: the break stands there (3.5–7.5 % of the height up)
    foot = (floor + (top - floor) * 0.1 if layout["rebased"] else floor) / scale
    still = all(amount == 0 for _name, amount, _kind in steps)
    if still:  # the zero line alone: no scale for amounts there are none of
        ticks, ticks_text = [0.0], ["0"]
    else:
        ticks = svg.nice_ticks(foot, top / scale, cover=False)
        ticks_text = svg.labels_for(ticks, svg.amount_text, 1 if scale > 1 and (top - floor) / scale < 20 else 0)
    texts = [f"{end / scale:,.{places}f}" if kind == "base" else
             (svg.amount_text((end - bottom) / scale, places, sign=True) if amount else "0")
             for (_name, amount, kind), (bottom, end) in zip(steps, bars)]

    width, height = 461.0, 202.0
    left = svg.PAD + svg.y_room(ticks_text, unit)
    right = width - svg.PAD
    slot = (right - left) / len(steps)
    names = ["\n".join(svg.wrap(name, slot - 6)) for name, _amount, _kind in steps]
    lines = max(n.count("\n") + 1 for n in names)
    title = describe_bridge(steps, texts, unit, zh)
    canvas = svg.Canvas(width, height, title)
    ax = svg.Axes(canvas, (left, svg.PAD + svg.SMALL, right, height - svg.PAD - svg.x_room(lines, title=False)),
                  (-0.5, len(steps) - 0.5), (floor / scale, top / scale))
    for i, ((_name, amount, kind), (bottom, end), text) in enumerate(zip(steps, bars, texts)):
        if kind == "base":
            color, low, high = charts.COLORS[5], max(bottom, floor), end
        else:
            color = charts.COLORS[2] if amount >= 0 else charts.COLORS[0]
            low, high = min(bottom, end), max(bottom, end)
        canvas.rect(ax.x(i - 0.31), ax.y(high / scale), ax.x(i + 0.31) - ax.x(i - 0.31),
                    ax.y(low / scale) - ax.y(high / scale), color)
        canvas.text(ax.x(i), ax.y(max(bottom, end) / scale) - 3, text, size=svg.SMALL, anchor="middle")
        if i < len(bars) - 1:  # the running level carried to the next bar
            canvas.line(ax.x(i + 0.31), ax.y(end / scale), ax.x(i + 0.69), ax.y(end / scale), color=svg.MUTED,
                        width=0.6, dash="1 1.5")
    if layout["rebased"]:
        _mark_break(ax, [i for i, s in enumerate(steps) if s[2] == "base"])
    else:
        ax.hline(0.0)
    if still:
        canvas.text((ax.left + ax.right) / 2, ax.y((floor + top) / 2 / scale),
                    "本期净值无变动（各项均为 0）" if zh else "Nothing moved in this period (every amount is 0)",
                    anchor="middle", middle=True, color=svg.MUTED)
    ax.spines()
    if layout["rebased"]:  # the gap in the spine, over it
        _break_on_spine(ax)
    ax.y_axis(ticks, ticks_text, unit)
    ax.x_axis(list(range(len(steps))), names)
    return canvas.render()


def describe_bridge(steps: list[tuple[str, Decimal, str]], texts: list[str], unit: str, zh: bool) -> str:
    head = f"本季度净值变动（{unit}）" if zh else f"NAV bridge ({unit})"
    return charts.describe(head, [(name, text) for (name, _amount, _kind), text in zip(steps, texts)], zh)


def _mark_break(ax: svg.Axes, base_bars: list[int]) -> None:
    """The axis does not start at zero: a white zigzag across the NAV bars near the foot
    (5.5 % of the height up), at the height of the break on the axis."""
    height = ax.y1 - ax.y0
    y = ax.y0 + height * 0.055
    amplitude = height * 0.015
    for i in base_bars:
        xs = [ax.x(i - 0.36 + 0.72 * k / 8) for k in range(9)]
        middle = [y + (amplitude if k % 2 else -amplitude) for k in range(9)]
        lower = [(x, ax.y(v - amplitude)) for x, v in zip(xs, middle)]
        upper = [(x, ax.y(v + amplitude)) for x, v in zip(xs, middle)]
        ax.canvas.polygon(lower + upper[::-1], "white")
        ax.canvas.polyline(lower, svg.INK, width=0.5)
        ax.canvas.polyline(upper, svg.INK, width=0.5)


def _break_on_spine(ax: svg.Axes) -> None:
    """A double slash across the y axis near its foot, the spine cut between."""
    def at(fx: float, fy: float) -> tuple[float, float]:
        return ax.left + fx * (ax.right - ax.left), ax.bottom - fy * (ax.bottom - ax.top)

    ax.canvas.line(*at(0, 0.035), *at(0, 0.075), color="white", width=2.5)
    for dy in (0.035, 0.075):
        ax.canvas.line(*at(-0.015, dy - 0.015), *at(0.015, dy + 0.015), color=svg.INK, width=0.8)


def region_chart(by_region: dict, lang: str = "zh") -> str | None:
    regions = [r for r in ("local", "outside") if r in by_region]
    return charts.bar_chart([label("region", r, lang=lang) for r in regions],
                            [by_region[r].get("nav") for r in regions],
                            xlabel="剩余价值（万元）" if charts.is_chinese(lang) else "NAV (CNY 10k)",
                            color=charts.COLORS[3])


def is_rebased(bridge: dict) -> bool:
    """Whether the bridge's waterfall starts its axis above zero (the caption says so)."""
    total = bridge.get("total") if bridge else None
    return total is not None and bool(waterfall_layout(bridge_steps(total))["rebased"])


def quarterly_charts(report: dict, lang: str = "zh") -> dict[str, Any]:
    """Every chart of the report as an inline SVG string (None: nothing to draw), and
    whether the bridge's axis is rebased (bridge_rebased)."""
    return {
        "bridge": bridge_chart(report["bridge"][0], lang),
        "bridge_rebased": is_rebased(report["bridge"][0]),
        "sector": charts.sector_chart(report["by_sector"], lang),
        "lookthrough": charts.sector_chart(report["lookthrough_by_sector"], lang, lookthrough=True),
        "region": region_chart(report["by_region"], lang),
    }

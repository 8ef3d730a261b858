"""The screens' charts: matplotlib → inline SVG strings (vector), Chinese labels in
Noto Sans CJK SC (fonts-noto-cjk). Text stays text in the SVG, so the browser (and
WeasyPrint, for the PDF) draws it with that font.

The charts only draw figures handed to them (from portfolio.figures.report); they compute none.
"""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import MaxNLocator, StrMethodFormatter  # noqa: E402

from portfolio.money import WAN  # noqa: E402
from portfolio.vocabulary import label  # noqa: E402

FONT = "Noto Sans CJK SC"
# Debian's fonts-noto-cjk (scripts/system-deps.sh installs it). Registered by file, not
# found through matplotlib's font cache: a cache built before the font was installed
# does not list it, and every chart would then be measured and drawn with DejaVu Sans.
FONT_FILES = (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
              Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"))


def register_font() -> bool:
    """Add the Chinese font's files to matplotlib; True when the font is there to draw with."""
    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    for path in FONT_FILES:
        if path.exists() and str(path) not in known:
            font_manager.fontManager.addfont(str(path))
    return any(entry.name == FONT for entry in font_manager.fontManager.ttflist)


register_font()
COLORS = ["#b3261e", "#2b6cb0", "#2f855a", "#b7791f", "#6b46c1", "#718096", "#d53f8c"]


def is_chinese(lang: str) -> bool:
    return lang.startswith("zh")


def chart_style() -> dict:
    return {"font.family": [FONT, "sans-serif"], "font.size": 9, "svg.fonttype": "none",
            "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "screens"}


def to_svg(fig, css_class: str = "chart") -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]  # inline: no XML prolog or DOCTYPE
    return text.replace("<svg ", f'<svg class="{css_class}" role="img" ', 1)


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


def bar_chart(labels: list[str], values: list, *, xlabel: str, color: str = COLORS[0]) -> str | None:
    """Horizontal bars of amounts (yuan, drawn in 万元, or 亿元 when large)."""
    if not labels:
        return None
    drawn = [wan_for_drawing(v) for v in values]
    scale, xlabel = drawing_unit(drawn, xlabel)
    with plt.rc_context(chart_style()):
        fig, ax = plt.subplots(figsize=(5.6, 0.42 * len(labels) + 1.0))
        ax.barh(range(len(labels)), [v / scale for v in drawn], color=color, height=0.6)
        ax.set_yticks(list(range(len(labels))), labels)
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, min_n_ticks=3))  # few ticks: none overlap
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        return to_svg(fig)


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


def valuation_history_chart(points: list[tuple], lang: str = "zh") -> str | None:
    """Fair value over time: points are (date, fair_value yuan, counts: bool); drafts and
    void ones (counts False) are drawn hollow."""
    if not points:
        return None
    points = sorted(points, key=lambda p: p[0])
    with plt.rc_context(chart_style()):
        fig, ax = plt.subplots(figsize=(6, 2.8))
        counted = [(d, wan_for_drawing(v)) for d, v, ok in points if ok]
        if counted:
            ax.plot([d for d, _ in counted], [v for _, v in counted], marker="o", color=COLORS[0],
                    label="已审批" if is_chinese(lang) else "Approved")
        other = [(d, wan_for_drawing(v)) for d, v, ok in points if not ok]
        if other:
            ax.scatter([d for d, _ in other], [v for _, v in other], facecolors="none", edgecolors=COLORS[5],
                       label="草稿/作废" if is_chinese(lang) else "Draft / void")
        ax.set_ylabel("公允价值（万元）" if is_chinese(lang) else "Fair value (CNY 10k)")
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        first, last = points[0][0], points[-1][0]
        if (last - first).days < 180:  # one or a few close valuations: a half-year around them
            middle = first + (last - first) / 2
            ax.set_xlim(middle - dt.timedelta(days=91), middle + dt.timedelta(days=91))
        ax.legend(frameon=False)
        fig.autofmt_xdate()
        return to_svg(fig)

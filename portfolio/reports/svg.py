"""Charts as SVG written directly (issue 14): the pieces the screens' and the report's charts
are drawn with: a canvas, an axes box with nice ticks, date ticks, legends, text sizes.

matplotlib drew the same charts but cost ~1 s to import and 0.1–0.2 s a chart; these are a
few string joins. Text stays text in Noto Sans CJK SC, so the browser and WeasyPrint (the
PDF) draw the Chinese with that font. Sizes are in points (the viewBox is in points), as
matplotlib's SVG was, so a chart keeps its size on the page and in print.

Text widths are estimated (no font metrics): a CJK or full-width character 1 em, any other
0.6 em, a little more than Noto Sans's average, so room left for a label holds it.
Values here are floats, for drawing only: the figures stay Decimal everywhere else.
"""
from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape, quoteattr

FONT = "Noto Sans CJK SC"
FONT_FAMILY = f"{FONT}, sans-serif"
SIZE = 9.0     # the text, as matplotlib's 9 pt
SMALL = 8.0    # legends and the amounts over bars
INK = "#1f2933"
MUTED = "#999999"
TICK = 3.5     # tick mark length
PAD = 4.0      # between a tick and its label, and at the canvas's edges
STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)  # as MaxNLocator's: the tick steps, × 10^n

Point = tuple[float, float]


def text_width(text: str, size: float = SIZE) -> float:
    """An estimate of a text's width in points: CJK and full-width characters 1 em, others 0.6 em."""
    return size * sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.6 for c in text)


def _num(value: float) -> str:
    """A coordinate in the SVG: two decimals at most, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# -- ticks ---------------------------------------------------------------------------------------

def nice_ticks(low: float, high: float, nbins: int = 5, *, cover: bool = True) -> list[float]:
    """Round ticks, 1, 2, 2.5 or 5 × 10^n apart, at most `nbins` steps (as MaxNLocator(nbins=5)).

    cover=True: from a tick at or below `low` to one at or above `high` (an axis drawn between
    the first and the last holds every value); cover=False: the ticks inside [low, high] (an
    axis whose ends are set). Equal ends (a single value) are widened around it."""
    if high < low:
        low, high = high, low
    size = max(abs(low), abs(high))
    if high - low <= size * 1e-9 or size < 1e-9:  # one value, or as good as one (zero)
        if size < 1e-9:  # nothing but zeros: an axis from zero up
            low, high = 0.0, 1.0
        else:
            middle = (low + high) / 2
            low, high = middle - size * 0.1, middle + size * 0.1
    raw = (high - low) / nbins
    power = 10.0 ** math.floor(math.log10(raw))
    steps = [m * power * 10.0 ** k for k in (-1, 0, 1) for m in STEPS[:-1]]
    fine = [step for step in steps if step < raw * (1 - 1e-9)][::-1]  # finer, for a short axis with set ends
    for step in [step for step in steps if step >= raw * (1 - 1e-9)] + fine:
        if cover:
            first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
            fits = last - first <= nbins
        else:  # as MaxNLocator(min_n_ticks=3): at least three ticks between set ends
            first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
            fits = last - first <= nbins and (last - first >= 2 or step in fine)
        if fits:
            places = max(0, 2 - math.floor(math.log10(step)))  # 3 × 0.2 is 0.6, not 0.6000000000000001
            return [round(i * step, places) for i in range(first, last + 1)]
    raise AssertionError("unreachable: a step ten times the rough one always fits")


def places_for(ticks: Sequence[float], at_least: int = 0) -> int:
    """The decimals the ticks need to read apart (2.5 → 1), and at least `at_least`."""
    for places in range(at_least, 7):
        if all(abs(round(t, places) - t) < 1e-9 * max(1.0, abs(t)) for t in ticks):
            return places
    return 6


def amount_text(value: float, places: int = 0, *, sign: bool = False) -> str:
    """1234567.8 → '1,234,568' (places 0); no '-0'."""
    if round(value, places) == 0:
        value = 0.0
    return f"{value:{'+' if sign else ''},.{places}f}"


def date_ticks(first: dt.date, last: dt.date, room: float) -> list[tuple[dt.date, str]]:
    """Ticks on the first day of a month between two dates, as many as fit in `room` points:
    every 1, 2, 3 or 6 months ('2025-03'), or every 1, 2, 5 or 10 years ('2025')."""
    for months in (1, 2, 3, 6, 12, 24, 60, 120):
        label = (lambda d: f"{d.year}-{d.month:02d}") if months < 12 else (lambda d: str(d.year))
        fits = max(1, int(room // (text_width("2025-03" if months < 12 else "2025") + 12)))
        ticks = []
        year, month = first.year, first.month
        while True:
            day = dt.date(year, month, 1)
            if day > last:
                break
            index = year * 12 + month - 1
            if day >= first and index % months == 0:
                ticks.append((day, label(day)))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if len(ticks) <= fits:
            return ticks
    return ticks[:: max(1, -(-len(ticks) // fits))]


def category_ticks(count: int, most: int = 8) -> list[int]:
    """At most `most` of `count` category positions, evenly spaced, the last always shown."""
    step = max(1, -(-count // most))
    return list(range(count - 1, -1, -step))[::-1]


def wrap(text: str, width: float, size: float = SIZE) -> list[str]:
    """A label in lines no wider than `width` where it has spaces to break at (CJK labels are short)."""
    if text_width(text, size) <= width or " " not in text:
        return [text]
    lines: list[str] = []
    for word in text.split(" "):
        if lines and text_width(f"{lines[-1]} {word}", size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


# -- the canvas ----------------------------------------------------------------------------------

class Canvas:
    """An SVG being written: elements in drawing order, then `render()`."""

    def __init__(self, width: float, height: float, title: str):
        self.width, self.height, self.title = width, height, title
        self.parts: list[str] = []

    def line(self, x1: float, y1: float, x2: float, y2: float, color: str = INK, width: float = 0.8,
             dash: str | None = None) -> None:
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
                          f'stroke="{color}" stroke-width="{_num(width)}"{extra}/>')

    def polyline(self, points: Sequence[Point], color: str, width: float = 1.5, dash: str | None = None) -> None:
        if len(points) < 2:
            return
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        coords = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
        self.parts.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="{_num(width)}" '
                          f'stroke-linejoin="round"{extra}/>')

    def polygon(self, points: Sequence[Point], fill: str, opacity: float = 1.0, stroke: str | None = None,
                stroke_width: float = 0.5) -> None:
        coords = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
        extra = f' fill-opacity="{opacity}"' if opacity < 1 else ""
        extra += f' stroke="{stroke}" stroke-width="{_num(stroke_width)}"' if stroke else ""
        self.parts.append(f'<polygon points="{coords}" fill="{fill}"{extra}/>')

    def rect(self, x: float, y: float, width: float, height: float, fill: str, opacity: float = 1.0) -> None:
        if width < 0:
            x, width = x + width, -width
        if height < 0:
            y, height = y + height, -height
        extra = f' fill-opacity="{opacity}"' if opacity < 1 else ""
        self.parts.append(f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(width)}" height="{_num(height)}" '
                          f'fill="{fill}"{extra}/>')

    def marker(self, x: float, y: float, color: str, *, radius: float = 2.5, hollow: bool = False,
               square: bool = False) -> None:
        fill, stroke = ("white", f' stroke="{color}" stroke-width="1"') if hollow else (color, "")
        if square:
            self.parts.append(f'<rect x="{_num(x - radius)}" y="{_num(y - radius)}" width="{_num(2 * radius)}" '
                              f'height="{_num(2 * radius)}" fill="{fill}"{stroke}/>')
        else:
            self.parts.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(radius)}" fill="{fill}"{stroke}/>')

    def text(self, x: float, y: float, text: str, *, size: float = SIZE, anchor: str = "start",
             middle: bool = False, rotate: float | None = None, color: str = INK, cls: str | None = None) -> None:
        """Text at (x, y), y its baseline, or its middle with middle=True; `cls` names what it
        is (xtick, ytick: the tests read the ticks by it)."""
        if middle and rotate in (-90, 90):  # turned: its middle is across the baseline, along x
            x += size * 0.35 * (1 if rotate == -90 else -1)
        elif middle:
            y += size * 0.35
        extra = f' class="{cls}"' if cls else ""
        extra += f' text-anchor="{anchor}"' if anchor != "start" else ""
        extra += f' font-size="{_num(size)}"' if size != SIZE else ""
        extra += f' fill="{color}"' if color != INK else ""
        extra += f' transform="rotate({_num(rotate)} {_num(x)} {_num(y)})"' if rotate is not None else ""
        self.parts.append(f'<text x="{_num(x)}" y="{_num(y)}"{extra}>{escape(text)}</text>')

    def render(self, css_class: str = "chart") -> str:
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" class={quoteattr(css_class)} role="img" '
                f'width="{_num(self.width)}pt" height="{_num(self.height)}pt" '
                f'viewBox="0 0 {_num(self.width)} {_num(self.height)}" '
                f'font-family="{FONT_FAMILY}" font-size="{_num(SIZE)}" fill="{INK}">')
        return "\n".join([head, f"<title>{escape(self.title)}</title>", *self.parts, "</svg>"])


# -- an axes box ---------------------------------------------------------------------------------

class Axes:
    """A plot area on a canvas, (left, top)–(right, bottom) in points, and the data ranges
    drawn across it; the left and bottom spines are drawn, as the screens' style had them."""

    def __init__(self, canvas: Canvas, box: tuple[float, float, float, float], xrange: tuple[float, float],
                 yrange: tuple[float, float]):
        self.canvas = canvas
        self.left, self.top, self.right, self.bottom = box
        self.x0, self.x1 = xrange
        self.y0, self.y1 = yrange

    def x(self, value: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return self.left + (value - self.x0) / span * (self.right - self.left)

    def y(self, value: float) -> float:
        span = (self.y1 - self.y0) or 1.0
        return self.bottom - (value - self.y0) / span * (self.bottom - self.top)

    def spines(self, *, left: bool = True, bottom: bool = True, right: bool = False) -> None:
        if left:
            self.canvas.line(self.left, self.top, self.left, self.bottom)
        if right:
            self.canvas.line(self.right, self.top, self.right, self.bottom)
        if bottom:
            self.canvas.line(self.left, self.bottom, self.right, self.bottom)

    def y_axis(self, ticks: Sequence[float], labels: Sequence[str], title: str | None = None, *,
               side: str = "left") -> None:
        """Ticks and their labels on the left (or right) spine, the axis's title turned along it."""
        c, sign = self.canvas, (-1 if side == "left" else 1)
        edge = self.left if side == "left" else self.right
        for value, text in zip(ticks, labels):
            y = self.y(value)
            c.line(edge, y, edge + sign * TICK, y)
            c.text(edge + sign * (TICK + PAD / 2), y, text, anchor="end" if side == "left" else "start", middle=True,
                   cls="ytick")
        if title:
            widest = max((text_width(t) for t in labels), default=0.0)
            x = edge + sign * (TICK + PAD / 2 + widest + PAD + SIZE * 0.5)
            c.text(x, (self.top + self.bottom) / 2, title, anchor="middle", middle=True,
                   rotate=-90 if side == "left" else 90)

    def x_axis(self, ticks: Sequence[float], labels: Sequence[str], title: str | None = None, *,
               marks: bool = True, line_height: float = SIZE * 1.2) -> None:
        """Ticks and their labels under the bottom spine (a label may have lines: '\\n'), the title under them."""
        c = self.canvas
        lines_most = 1
        for value, text in zip(ticks, labels):
            x = self.x(value)
            if marks:
                c.line(x, self.bottom, x, self.bottom + TICK)
            lines = text.split("\n")
            lines_most = max(lines_most, len(lines))
            for k, part in enumerate(lines):
                c.text(x, self.bottom + TICK + PAD / 2 + SIZE * 0.9 + k * line_height, part, anchor="middle", cls="xtick")
        if title:
            y = self.bottom + TICK + PAD / 2 + SIZE * 0.9 + (lines_most - 1) * line_height + PAD + SIZE * 1.05
            c.text((self.left + self.right) / 2, y, title, anchor="middle")

    def hline(self, value: float, color: str = MUTED, width: float = 0.6) -> None:
        self.canvas.line(self.left, self.y(value), self.right, self.y(value), color=color, width=width)

    def series(self, xs: Sequence[float], ys: Sequence[float | None], color: str, *, dash: str | None = None,
               marker: str | None = "o", radius: float = 1.8, width: float = 1.5) -> None:
        """A line through the points with markers; a None breaks the line (a value left out)."""
        run: list[Point] = []
        dots: list[Point] = []
        for x, y in [*zip(xs, ys), (0.0, None)]:
            if y is None or not math.isfinite(y):
                self.canvas.polyline(run, color, width, dash)
                dots += run
                run = []
            else:
                run.append((self.x(x), self.y(y)))
        for x, y in dots if marker else []:  # over the line
            self.canvas.marker(x, y, color, radius=radius, square=marker == "s")


# -- legends -------------------------------------------------------------------------------------

LegendEntry = tuple[str, str, str]  # (kind: line, dashed, marker, hollow, bar, band; colour; text)


def legend_rows(entries: Sequence[LegendEntry], width: float, size: float = SMALL) -> list[list[LegendEntry]]:
    """The entries in rows that fit `width` points (a swatch, its text, a gap between entries)."""
    rows: list[list[LegendEntry]] = []
    used = 0.0
    for entry in entries:
        need = _entry_width(entry[2], size)
        if rows and used + need <= width:
            rows[-1].append(entry)
            used += need
        else:
            rows.append([entry])
            used = need
    return rows


def _entry_width(text: str, size: float) -> float:
    return 18 + text_width(text, size) + 12


def legend_height(entries: Sequence[LegendEntry], width: float, size: float = SMALL) -> float:
    return len(legend_rows(entries, width, size)) * size * 1.5 if entries else 0.0


def draw_legend(canvas: Canvas, entries: Sequence[LegendEntry], left: float, top: float, width: float,
                size: float = SMALL) -> float:
    """The legend as rows from (left, top); returns its height."""
    y = top
    for row in legend_rows(entries, width, size):
        x, middle = left, y + size * 0.75
        for kind, color, text in row:
            if kind == "bar":
                canvas.rect(x, middle - size * 0.4, 14, size * 0.8, color)
            elif kind == "band":
                canvas.rect(x, middle - size * 0.4, 14, size * 0.8, color, opacity=0.18)
            elif kind == "hollow":
                canvas.marker(x + 7, middle, color, hollow=True)
            else:
                canvas.line(x, middle, x + 14, middle, color=color, width=1.5, dash="4 2" if kind == "dashed" else None)
                if kind == "marker":
                    canvas.marker(x + 7, middle, color, radius=1.8)
            canvas.text(x + 18, middle, text, size=size, middle=True)
            x += _entry_width(text, size)
        y += size * 1.5
    return y - top


def y_room(labels: Sequence[str], title: str | None) -> float:
    """The width an y axis takes beside its spine: ticks, the widest label, the turned title."""
    widest = max((text_width(t) for t in labels), default=0.0)
    return TICK + PAD / 2 + widest + (PAD + SIZE * 1.1 if title else 0.0)


def x_room(lines: int = 1, title: bool = True) -> float:
    """The height an x axis takes under its spine: ticks, `lines` lines of labels, the title."""
    return TICK + PAD / 2 + SIZE * 0.9 + (lines - 1) * SIZE * 1.2 + SIZE * 0.3 + (PAD + SIZE * 1.05 if title else 0.0)


def labels_for(ticks: Sequence[float], fmt: Callable[[float, int], str], at_least: int = 0) -> list[str]:
    """The ticks' labels with as many decimals as they need to read apart."""
    places = places_for(ticks, at_least)
    return [fmt(t, places) for t in ticks]

"""The quarterly report as PDF: WeasyPrint renders the printable HTML.

The HTML (templates/reports/quarterly_print.html) carries the @page rules: A4
landscape, page numbers and the as-of date in the margin boxes of every page, the
font "Noto Sans CJK SC" (subset-embedded by WeasyPrint, so Chinese shows anywhere),
and the charts as inline SVG, which stay vector in the PDF.
"""
from __future__ import annotations

import unicodedata


def html_to_pdf(html: str, base_url: str | None = None, on_pages=None) -> bytes:
    """The PDF of the HTML. `on_pages(n)`, when given, is told the page count once the
    layout (the long part) is done, before the pages are written."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=base_url).render()
    if on_pages is not None:
        on_pages(len(document.pages))
    return document.write_pdf()


def display_width(text: str) -> int:
    """Columns a text takes in a CJK monospace font: wide and full-width characters 2."""
    if text.isascii():  # numbers and codes, most cells of a listing: one column each
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def pad(value, width: int, align: str = "left") -> str:
    """A cell of a fixed-width listing: cut to `width` columns (marking the cut with '~'),
    padded with spaces; numbers are aligned right. WeasyPrint lays out one text line per
    row far faster than a table's cells, which keeps a 2,000-row schedule within target."""
    text = "" if value is None else str(value)
    if text.isascii():  # most cells: one column a character, str's own padding
        if len(text) <= width:
            return text.rjust(width) if align == "right" else text.ljust(width)
        used_width = len(text)
    else:
        used_width = display_width(text)
    if used_width > width:
        out, used = [], 0
        for ch in text:
            w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
            if used + w > width - 1:
                break
            out.append(ch)
            used += w
        text = "".join(out) + "~"
        used_width = used + 1
    fill = " " * (width - used_width)
    return fill + text if align == "right" else text + fill


def listing_head(columns) -> str:
    """The header of a fixed-width listing: each (title, width, align) padded to its column,
    one line when every title fits its column; else two, a title too long for its column
    broken at a space onto the second line ('Investment' over 'date' in a 10-wide column),
    so that a header is never cut as a cell is (an English title is often wider than the
    column its figures need). A title with no space that fits nowhere is cut as a cell;
    width None: the last column, its title as it is."""
    first, second = [], []
    for title, width, align in columns:
        title = str(title)
        top, bottom = title, ""
        if width is None:  # the last column, as wide as its title
            width = display_width(title)
        elif display_width(title) > width and " " in title:
            words = title.split(" ")
            for cut in range(len(words) - 1, 0, -1):
                if display_width(" ".join(words[:cut])) <= width:
                    top, bottom = " ".join(words[:cut]), " ".join(words[cut:])
                    break
        first.append(pad(top, width, align))
        second.append(pad(bottom, width, align))
    line = " ".join(first).rstrip()
    if not any(cell.strip() for cell in second):
        return line
    return line + "\n" + " ".join(second).rstrip()

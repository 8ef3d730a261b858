"""How figures are written for people: amounts in 万元 or 亿元 with separators,
ratios as multiples or percentages, dates YYYY-MM-DD, quarters 2025Q4.

One place, used by the screens, the table output, the quarterly report and its PDF.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from portfolio.money import WAN, YI


def _decimal(amount) -> Decimal | None:
    if amount is None:
        return None
    if isinstance(amount, Decimal):
        return amount
    try:
        return Decimal(str(amount))
    except InvalidOperation:  # not a number (e.g. a figure the row does not have): shown as —
        return None


def wan(amount, places: int = 2) -> str:
    """12345678.9 yuan → '1,234.57' (万元)."""
    value = _decimal(amount)
    if value is None:
        return "—"
    q = (value / WAN).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{q:,.{places}f}"


def yi(amount, places: int = 2) -> str:
    """12345678900 yuan → '123.46' (亿元)."""
    value = _decimal(amount)
    if value is None:
        return "—"
    q = (value / YI).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{q:,.{places}f}"


def yuan(amount) -> str:
    value = _decimal(amount)
    return "—" if value is None else f"{value:,.2f}"


def multiple(ratio, places: int = 2) -> str:
    """1.1679 → '1.17x'; None → '—' (no figure, e.g. nothing paid in)."""
    return "—" if ratio is None else f"{ratio:.{places}f}x"


def percent(ratio, places: int = 1) -> str:
    """0.0853 → '8.5%'; None → '—'."""
    return "—" if ratio is None else f"{ratio * 100:.{places}f}%"


def iso_date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if hasattr(value, "date") and not isinstance(value, dt.date):  # pandas Timestamp
        value = value.date()
    return value.isoformat()


# The dates the book and its reports take: far wider than any fund's life, and inside what
# the figures engine (pandas, nanosecond timestamps: 1677–2262) can hold.
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2199, 12, 31)
DATE_RANGE_MESSAGE = f"日期应在 {DATE_MIN.isoformat()} 至 {DATE_MAX.isoformat()} 之间"


def parse_date(text: str) -> dt.date:
    """'2025-12-31' → date; anything else (20251231, 2025-W01-1, 2025/12/31) or a date
    outside DATE_MIN..DATE_MAX is a ValueError saying why. The one reading of a typed
    date, for forms, the screens' as-of date, the API, the commands and the use cases."""
    text = str(text).strip()
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(f"日期格式应为 YYYY-MM-DD：{text}")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"不存在的日期（格式 YYYY-MM-DD）：{text}") from None
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValueError(f"{DATE_RANGE_MESSAGE}：{text}")
    return day


def quarter(value: dt.date) -> str:
    """2025-11-15 → '2025Q4'."""
    return f"{value.year}Q{(value.month - 1) // 3 + 1}"


def parse_quarter(text: str) -> tuple[dt.date, dt.date]:
    """'2025Q4' → (2025-10-01, 2025-12-31): the quarter's first and last days."""
    text = text.strip().upper()
    if len(text) != 6 or text[4] != "Q" or not text[:4].isdigit() or text[5] not in "1234":
        raise ValueError(f"not a quarter (e.g. 2025Q4): {text!r}")
    year, q = int(text[:4]), int(text[5])
    first = dt.date(year, 3 * q - 2, 1)
    last = quarter_end(first)
    return first, last


def quarter_end(value: dt.date) -> dt.date:
    month = ((value.month - 1) // 3 + 1) * 3
    next_first = dt.date(value.year + (month == 12), month % 12 + 1, 1)
    return next_first - dt.timedelta(days=1)


def last_quarter_end(today: dt.date) -> dt.date:
    """The last quarter end on or before today (the screens' default as-of date)."""
    end = quarter_end(today)
    if end == today:
        return today
    first = dt.date(today.year, ((today.month - 1) // 3) * 3 + 1, 1)
    return first - dt.timedelta(days=1)

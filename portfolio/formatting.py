"""How figures are written for people: amounts in 万元 or 亿元 with separators,
ratios as multiples or percentages, dates YYYY-MM-DD, quarters 2025Q4.

One place, used by the screens, the table output, the quarterly report and its PDF.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from portfolio.messages import Message, listed
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


def _rounded(value: Decimal, places: int) -> Decimal:
    """Half up to `places` decimals, a figure that rounds to nothing written 0.00, never
    -0.00 (Decimal keeps the sign of -0.001 through quantize; a reader sees a loss)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP) + 0


def wan(amount, places: int = 2) -> str:
    """12345678.9 yuan → '1,234.57' (万元)."""
    value = _decimal(amount)
    if value is None:
        return "—"
    return f"{_rounded(value / WAN, places):,.{places}f}"


def yi(amount, places: int = 2) -> str:
    """12345678900 yuan → '123.46' (亿元)."""
    value = _decimal(amount)
    if value is None:
        return "—"
    return f"{_rounded(value / YI, places):,.{places}f}"


def yuan(amount) -> str:
    value = _decimal(amount)
    return "—" if value is None else f"{_rounded(value, 2):,.2f}"


def _half_up(number, places: int) -> Decimal | None:
    """A ratio rounded to `places` decimals half away from zero, as Excel shows the same
    double with its number format (the workbook's cells hold the unrounded figure): a
    float is read at Excel's 15 significant digits first, so 1.075 (held as 1.07499999…)
    is 1.08, not the 1.07 a float's own formatting gives; amounts round half up too
    (money.fen, wan)."""
    value = number if isinstance(number, Decimal) else _as_excel_reads(number)
    if value is None or not value.is_finite():
        return None
    return _rounded(value, places)


def multiple(ratio, places: int = 2) -> str:
    """1.1679 → '1.17x', 1.075 → '1.08x' (half up, as the workbook shows it); None → '—'
    (no figure, e.g. nothing paid in)."""
    shown = None if ratio is None else _half_up(ratio, places)
    return "—" if shown is None else f"{shown:.{places}f}x"


def percent(ratio, places: int = 1) -> str:
    """0.0853 → '8.5%', 0.0125 → '1.3%' (half up, as the workbook shows it); None → '—'."""
    if ratio is None:
        return "—"
    scaled = ratio * 100 if isinstance(ratio, Decimal) else _float_times_100(ratio)
    shown = None if scaled is None else _half_up(scaled, places)
    return "—" if shown is None else f"{shown:.{places}f}%"


def _as_excel_reads(number) -> Decimal | None:
    """A float as Excel reads a double, to 15 significant digits (1.075, held as 1.07499999…,
    is 1.075); None where it is no finite number."""
    try:
        as_float = float(number)
    except (TypeError, ValueError):
        return None
    if as_float != as_float or as_float in (float("inf"), float("-inf")):
        return None
    return Decimal(format(as_float, ".15g"))


def _float_times_100(ratio) -> Decimal | None:
    """A float ratio × 100, exactly as Excel's percent format scales it: the 15-digit
    value times 100 (0.0125 → 1.25, where the float product is 1.2500000000000002)."""
    value = _as_excel_reads(ratio)
    return None if value is None else value * 100


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


class DateError(ValueError):
    """A typed date refused: `reason` the sentence (portfolio/messages.py), the text as
    the exception's message after it ("日期格式应为 YYYY-MM-DD：20251231")."""

    def __init__(self, reason: Message, text: str):
        super().__init__(Message("typed_refused", reason=reason, text=text))  # the same text, by key
        self.reason = reason


def parse_date(text: str) -> dt.date:
    """'2025-12-31' → date; anything else (20251231, 2025-W01-1, 2025/12/31) or a date
    outside DATE_MIN..DATE_MAX is a ValueError saying why. The one reading of a typed
    date, for forms, the screens' as-of date, the API, the commands and the use cases.
    Full-width digits and dashes (２０２５－１２－３１, as a Chinese input method types them)
    read as their ASCII forms, as the money parser reads them; other digits are a wrong format."""
    typed = str(text).strip()
    text = unicodedata.normalize("NFKC", typed)
    if len(text) != 10 or text[4] != "-" or text[7] != "-" or not all(
            "0" <= ch <= "9" for ch in text[:4] + text[5:7] + text[8:]):
        raise DateError(Message("date_format"), typed)
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise DateError(Message("date_no_such_day"), typed) from None
    if not DATE_MIN <= day <= DATE_MAX:
        raise DateError(Message("date_range", min_day=DATE_MIN, max_day=DATE_MAX), typed)
    return day


def quarter(value: dt.date) -> str:
    """2025-11-15 → '2025Q4'."""
    return f"{value.year}Q{(value.month - 1) // 3 + 1}"


def parse_quarter(text: str) -> tuple[dt.date, dt.date]:
    """'2025Q4' → (2025-10-01, 2025-12-31): the quarter's first and last days."""
    text = unicodedata.normalize("NFKC", text).strip().upper()  # full-width, as parse_date reads them
    if len(text) != 6 or text[4] != "Q" or not all("0" <= ch <= "9" for ch in text[:4]) or text[5] not in "1234":
        raise ValueError(f"not a quarter (e.g. 2025Q4): {text!r}")
    year, q = int(text[:4]), int(text[5])
    if not DATE_MIN.year <= year <= DATE_MAX.year:  # the dates the book holds (year 1 or 9999 overflowed)
        raise ValueError(f"a quarter of {DATE_MIN.year}–{DATE_MAX.year}: {text!r}")
    first = dt.date(year, 3 * q - 2, 1)
    last = quarter_end(first)
    return first, last


def canonical_quarter(text: str) -> str:
    """A quarter as the book writes it (2025Q4) from what was typed or put in a URL (2025q4,
    ２０２５Ｑ４); ValueError if it is none. Report files, jobs and cache entries are keyed by it,
    so one quarter is one report whatever way it was asked for (the screens and the command)."""
    return quarter(parse_quarter(text)[1])


def quarter_end(value: dt.date) -> dt.date:
    month = ((value.month - 1) // 3 + 1) * 3
    next_first = dt.date(value.year + (month == 12), month % 12 + 1, 1)
    return next_first - dt.timedelta(days=1)


def quarters_between(first: dt.date, last: dt.date) -> list[str]:
    """The quarters from `first`'s to `last`'s, newest first: ['2026Q3', '2026Q2', …]."""
    out: list[str] = []
    year, q = last.year, (last.month - 1) // 3 + 1
    while (year, q) >= (first.year, (first.month - 1) // 3 + 1):
        out.append(f"{year}Q{q}")
        year, q = (year, q - 1) if q > 1 else (year - 1, 4)
    return out


def last_quarter_end(today: dt.date, *, strictly: bool = False) -> dt.date:
    """The last quarter end on or before today (the screens' default as-of date); with
    `strictly`, before today: the end of the last quarter that is over by today (on a quarter's
    last day, that quarter is still under way: what the GP portal asks for, and the demo tells)."""
    end = quarter_end(today)
    if end == today and not strictly:
        return today
    first = dt.date(today.year, ((today.month - 1) // 3) * 3 + 1, 1)
    return first - dt.timedelta(days=1)


# ---------------------------------------------------------------- by kind
# Every figure a person reads is written by its kind: an amount (万元, 亿元 for fund totals),
# a ratio (%), a multiple (1.32x), years (one decimal), a count, a fraction (2/3), a date.
# Screens (Jinja filters), the quarterly report's HTML and PDF, and its xlsx (number
# formats, XLSX_FORMATS) all take their format from here.

def _zh(lang: str) -> bool:
    return str(lang or "zh").startswith("zh")


def years(value, lang: str = "zh") -> str:
    """5.136208 → '5.1 年' / '5.1 years'."""
    number = _decimal(value)
    if number is None:
        return "—"
    shown = f"{number.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}"
    return f"{shown} 年" if _zh(lang) else f"{shown} years"


def file_size(size: int) -> str:
    """A file's size for a person, the same in both languages: 812 B, 3.4 KB, 1.2 MB, 2.0 GB
    (1024 each step, one decimal past bytes)."""
    value, unit = float(size), "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            break
        value /= 1024
    return f"{int(size)} B" if unit == "B" else f"{value:.1f} {unit}"


def count(value) -> str:
    """300.0 → '300'; 12345 → '12,345'."""
    number = _decimal(value)
    if number is None:
        return "—"
    return f"{number.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}"


def fraction(value) -> str:
    """A share that is a fraction by nature (the committee's pass ratio): 2/3 → '2/3',
    0.5 → '1/2', 1 → '1'; a Decimal 0.6666…7 is read back as the fraction it stands for."""
    from fractions import Fraction

    if isinstance(value, Fraction):
        exact = value
    else:
        number = _decimal(value)
        if number is None:
            return "—"
        if not number.is_finite() or number and abs(number.adjusted()) > 12:
            return format(number, "E")  # no share is this size; Fraction of 1E-999999999 would not end
        exact = Fraction(number).limit_denominator(100)
        # only the fraction the number stands for (2/3 kept as 0.666…7 is 2/3 again by Decimal's
        # division): 0.501 is not written 1/2, which would then be saved back as 0.5
        if Decimal(exact.numerator) / Decimal(exact.denominator) != number:
            return format(number.normalize(), "f")
    return str(exact.numerator) if exact.denominator == 1 else f"{exact.numerator}/{exact.denominator}"


def amount_wan(amount, lang: str = "zh") -> str:
    """An amount with its unit: '1,234.57 万元' / 'CNY 1,234.57 10k'."""
    shown = wan(amount)
    if shown == "—":
        return shown
    return f"{shown} 万元" if _zh(lang) else f"{shown} (CNY 10k)"


def amount_wan_exact(amount, lang: str = "zh") -> str:
    """An amount kept to the fen, in 万元 with its unit, and in 元 beside it where two places
    of 万元 would round it: 15000000 → '1,500.00 万元', 12345.67 → '1.23 万元（12,345.67 元）'
    ('1.23 (CNY 10k; CNY 12,345.67)'). What the history shows, where a change of a few 元 must
    not round away."""
    value = _decimal(amount)
    if value is None:
        return "—"
    shown = amount_wan(value, lang)
    if _rounded(value / WAN, 2) * WAN == value.quantize(Decimal("0.01")):
        return shown
    if _zh(lang):
        return f"{shown}（{yuan(value)} 元）"
    return f"{wan(value)} (CNY 10k; CNY {yuan(value)})"


def ownership(value) -> str:
    """A shareholding typed as a percentage (2.3900 → '2.39%')."""
    number = _decimal(value)
    return "—" if number is None else f"{number.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


def typed_percent(value, places: int = 4) -> str:
    """A percentage as it was typed, to at most `places` decimals, without trailing zeros: a
    stored 2.50000000 → '2.5%', 25 → '25%'."""
    number = _decimal(value)
    if number is None or not number.is_finite():
        return "—"
    try:
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # past what a Decimal holds to that many places: as it is, in E notation
        return f"{number}%"
    return f"{number.normalize():f}%"


def share(value, places: int = 4) -> str:
    """A share as a percentage, exactly as far as `places` decimals of it: 0.35 → '35%',
    0.0525 → '5.25%' (a fund setting's limit, a rate)."""
    number = _decimal(value)
    return "—" if number is None else typed_percent(number * 100, places)


def instruments(value, lang: str = "zh") -> str:
    """A list of instruments by their names: ['debt', 'guarantee'] → '债权、担保' / 'Debt, Guarantee'."""
    from portfolio.vocabulary import label

    codes = value if isinstance(value, (list, tuple)) else [value]
    return listed((label("instrument", str(code), lang=lang) for code in codes), lang) or "—"


# a cash flow's row is known by its investment, date, type, amount and ref: an import's key
# (portfolio.interchange.importing: the amount in fen, then the ref) or a doubt's
# (portfolio.interchange.doubts: the amount in 元 to the fen, without the ref)
FLOW_KEY = ("investment_id", "date", "type", "amount", "ref")
_YUAN_TEXT = re.compile(r"-?\d+\.\d{2}")


def row_named(key, sheet: str, lang: str = "zh") -> str:
    """A row of an import as a reader names it (the change-set screen, a doubt's sentence): its
    key's parts joined by " · ", a cash flow's type by its name and its amount in 元 with
    separators: 'QY-SF1/2023-03-31/contribution/15000000000/' → 'QY-SF1 · 2023-03-31 · 出资 ·
    150,000,000.00 元' / 'QY-SF1 · 2023-03-31 · Contribution · 150,000,000.00 CNY'; a doubt's
    'QY-SF1/2026-12-16/distribution/1000.00' → 'QY-SF1 · 2026-12-16 · 分配 · 1,000.00 元'."""
    from portfolio.messages import UNIT_NAMES
    from portfolio.vocabulary import label

    parts = str(key).split("/", len(FLOW_KEY) - 1) if sheet == "cash_flows" else str(key).split("/")
    if sheet == "cash_flows" and len(parts) >= 4:
        named = dict(zip(FLOW_KEY, parts))
        amount = named["amount"]
        value = Decimal(amount) / 100 if amount.isdigit() else Decimal(amount) if _YUAN_TEXT.fullmatch(amount) else None
        if value is not None:
            named["amount"] = f"{yuan(value)} {UNIT_NAMES['yuan'][0 if _zh(lang) else 1]}"
        named["type"] = label("type", named["type"], lang=lang)
        parts = [named[k] for k in FLOW_KEY if named.get(k)]
    return " · ".join(p for p in parts if p)


def level(value) -> str:
    """An index level: two decimals with separators."""
    number = _decimal(value)
    return "—" if number is None else f"{number:,.2f}"


def hhi(value) -> str:
    """The Herfindahl–Hirschman index (a 0–1 share sum) in points of 0–10,000, the scale
    the US DOJ/FTC merger guidelines publish it on: 0.0523 → '523'."""
    number = _decimal(value)
    return "—" if number is None else count(number * 10_000)


# The rule checks of rules.md: what each measures (the value and its limit).
RULE_KINDS = {
    "subfund_share_cap": "percent", "direct_share_cap": "percent", "single_company_cap": "percent",
    "ownership_cap": "percent", "subfund_single_company_cap": "percent",
    "reinvestment_multiple": "multiple", "coinvest_lead_ratio": "multiple",
    "angel_company_age": "years", "angel_headcount": "count", "angel_company_size": "amount",
    "prohibited_instrument": "instrument",
}

# The figures whose shape the engine decides (periodic returns, PME): their kinds.
FIGURE_KINDS = {
    "quarterly_irr": "percent", "mirr": "percent", "irr": "percent", "ln_pme": "percent",
    "direct_alpha": "percent", "ks_pme": "multiple", "ln_pme_nav": "wan",
    "index_start": "date", "index_level_as_of": "level", "index": "text",
}


def by_kind(value, kind: str, lang: str = "zh") -> str:
    """One figure written as its kind says (see RULE_KINDS, FIGURE_KINDS)."""
    if value is None:
        return "—"
    if kind == "percent":
        return percent(float(value))
    if kind == "multiple":
        return multiple(float(value))
    if kind == "years":
        return years(value, lang)
    if kind == "count":
        return count(value)
    if kind == "amount":
        return amount_wan(value, lang)
    if kind == "wan":
        return wan(value)
    if kind == "yuan":
        return yuan(value)
    if kind == "wan_exact":
        return amount_wan_exact(value, lang)
    if kind == "pct":
        return typed_percent(value)
    if kind == "share":
        return share(value)
    if kind == "instruments":
        return instruments(value, lang)
    if kind == "fraction":
        return fraction(value)
    if kind == "level":
        return level(value)
    if kind == "date":
        return iso_date(value)
    if kind == "instrument":
        from portfolio.vocabulary import label

        return label("instrument", str(value), lang=lang)
    return str(value)


def rule_value(value, rule: str, lang: str = "zh") -> str:
    """A compliance check's value or limit, written as its rule measures it (rules.md)."""
    return by_kind(value, RULE_KINDS.get(rule, "percent"), lang)


def figure(value, key: str, lang: str = "zh") -> str:
    return by_kind(value, FIGURE_KINDS.get(key, "text"), lang)


# ---------------------------------------------------------------- IRR under a year
# GIPS 2010 provision 5.A.4 (kept in GIPS 2020): "returns for periods of less than one
# year must not be annualized": an IRR over a holding shorter than a year is not shown as an annual rate.
# The JSON report (metrics.md) keeps its figure; only what people read changes.
ONE_YEAR_DAYS = 365


def irr_is_short(since, as_of) -> bool:
    if since is None or as_of is None:
        return False
    since_day = since if isinstance(since, dt.date) else parse_date(str(since)[:10])
    as_of_day = as_of if isinstance(as_of, dt.date) else parse_date(str(as_of)[:10])
    if isinstance(since_day, dt.datetime):
        since_day = since_day.date()
    if isinstance(as_of_day, dt.datetime):
        as_of_day = as_of_day.date()
    return (as_of_day - since_day).days < ONE_YEAR_DAYS


def irr_shown(value, since=None, as_of=None, lang: str = "zh", short: bool = False) -> str:
    """The IRR as people read it: a percentage, or — with the reason when the holding is
    shorter than a year (an annualised rate over weeks reads as 900 %); `short` for a
    table cell."""
    if value is not None and irr_is_short(since, as_of):
        if short:
            return "— 不足一年" if _zh(lang) else "— <1 yr"
        return "—（不足一年，不年化）" if _zh(lang) else "— (under 1 year, not annualised)"
    return percent(value)


# ---------------------------------------------------------------- the same kinds in Excel
# Cells keep numbers as numbers; the kind gives the number format (and amounts are put in
# 万元, the unit every screen shows: Excel has no format that divides by 10,000).
# "year": a calendar year (2027, not 2,027); "decimal": a plain number to two places (a model
# parameter such as the TA bow); "scientific": a check's residual (4.77E-07, not 0.00).
XLSX_FORMATS = {"percent": "0.0%", "multiple": '0.00"x"', "years": "0.0", "count": "#,##0",
                "amount": "#,##0.00", "wan": "#,##0.00", "date": "yyyy-mm-dd", "level": "#,##0.00",
                "year": "0", "decimal": "0.00", "scientific": "0.00E+00"}


def xlsx_value(value, kind: str):
    """The value a cell of `kind` holds: amounts (yuan) in 万元, exact; the rest as they are."""
    if value is None:
        return None
    if kind in ("amount", "wan"):
        number = _decimal(value)
        return None if number is None else number / WAN
    if kind == "hhi":
        number = _decimal(value)
        return None if number is None else int((number * 10_000).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return value


def _day(value) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "date"):  # pandas Timestamp
        return value.date()
    return parse_date(str(value)[:10])


def since_by(rows, field: str | None = None):
    """The first investment date of each group (`field`: mode, sector, region, vintage) or,
    with no field, of all the rows: how long a group's IRR has been running (irr_shown)."""
    firsts: dict = {}
    overall = None
    for row in rows:
        day = _day(row.get("date"))
        if day is None:
            continue
        overall = day if overall is None or day < overall else overall
        if field is not None:
            key = day.year if field == "vintage" else row.get(field)
            if key not in firsts or day < firsts[key]:
                firsts[key] = day
    return overall if field is None else firsts


LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # the fund's time zone: times are stored in UTC, shown and dated here


def local_today() -> dt.date:
    """Today where the fund's people are (Asia/Shanghai), whatever the server's zone."""
    return dt.datetime.now(LOCAL_TZ).date()


def local_time(value: dt.datetime | None, *, seconds: bool = True) -> str:
    """A stored time (UTC; naive means UTC) as the fund's people read it: Asia/Shanghai,
    '2026-01-01 04:30:00' (or to the minute)."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")

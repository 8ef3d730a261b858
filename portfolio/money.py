"""Money: exact yuan as Decimal, stored and summed as integer fen.

The one place for the units and the conversions between them, and for reading an
amount a person typed. Pure (standard library only).

Units: the book holds yuan (元) exact to the fen (分, 0.01 元): `Decimal` in Python,
an integer number of fen in both databases (models.types.Money) and in the figures
engine (int64), so that every sum is exact. Screens show 万元 (WAN); fund totals 亿元 (YI).

Sign convention (pyxirr's wording): in a cash-flow series handed to IRR, money the fund
pays out (a contribution, 出资) is negative and money it gets back (a distribution, 分配,
or the NAV at the end) is positive. The book itself stores every amount as a positive
number with its type; only the series built for the rate of return carries signs.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from portfolio.messages import Message

CENT = Decimal("0.01")
FEN_PER_YUAN = 100
WAN = Decimal(10_000)
YI = Decimal(100_000_000)

# The largest amount one record may hold: 10^15 yuan (a hundred thousand 亿元 — far past any
# fund's size), whose fen fit a signed 64-bit integer (≤ 9.2e18) ten thousand times over, so
# that sums of many records stay exact in BIGINT and int64 too.
MAX_AMOUNT = Decimal(10) ** 15


def yuan(fen: int) -> Decimal:
    """Exact integer fen → Decimal yuan with exactly two places (12345 → 123.45)."""
    return Decimal(int(fen)).scaleb(-2)


def fen(amount: Decimal | int | str) -> int:
    """Yuan → integer fen, rounded half up to the fen (Decimal('123.455') → 12346)."""
    value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    return int((value * FEN_PER_YUAN).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class AmountError(ValueError):
    """Text that is not an amount; the message says why, in Chinese, for the person who typed it."""


# 1234567.89, 1,234,567.89 (commas only in groups of three), with an optional sign
_PLAIN = re.compile(r"[+-]?\d+(\.\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")


# The units a person may type an amount in: the screens' 万元 (the forms' default) or 元.
# An amount in 万元 is exact to the fen with six decimal places (1 分 = 0.000001 万元).
UNITS: dict[str, tuple[Decimal, int, str]] = {  # unit: (yuan per unit, decimal places, its name)
    "wan": (WAN, 6, "万元"),
    "yuan": (Decimal(1), 2, "元"),
}
PLACES_WORDS = {2: "两", 6: "六"}


def parse_amount(text: str | Decimal | int, *, places: int | None = None, unit: str = "yuan") -> Decimal:
    """What a person typed (or a cell held) in `unit` ("yuan" 元 or "wan" 万元), as an exact
    Decimal amount in yuan with two places.

    Accepts digits with an optional sign and decimal point, thousands separators
    (',' or the full-width '，') only in groups of three, full-width digits, and spaces
    around. Refuses, with an AmountError that says why: anything else (e.g. '1,5', which
    could be 1.5 or 15; exponents like '1e16'; 'NaN'), more decimal places than the unit
    holds exactly (`places`: two in 元, six in 万元 — finer than the fen is refused, never
    rounded), and amounts above MAX_AMOUNT yuan in size. The sign is kept: whether a
    negative amount is allowed is the caller's rule.
    """
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}")
    per, unit_places, name = UNITS[unit]
    places = unit_places if places is None else places
    if isinstance(text, Decimal):
        value = text
        if not value.is_finite():
            raise AmountError(Message("amount_invalid", unit=unit))
    elif isinstance(text, int) and not isinstance(text, bool):
        value = Decimal(text)
    else:
        cleaned = unicodedata.normalize("NFKC", str(text)).strip().replace(" ", "")
        if not (_PLAIN.fullmatch(cleaned) or _GROUPED.fullmatch(cleaned)):
            example = "1,234,567.89" if unit == "yuan" else "1,234.5"
            raise AmountError(Message("amount_invalid_eg", unit=unit, example=example))
        try:
            value = Decimal(cleaned.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the patterns admit only valid numbers
            raise AmountError(Message("amount_invalid", unit=unit)) from None
    if abs(value) > MAX_AMOUNT / per:
        raise AmountError(Message("amount_too_large", max_whole=MAX_AMOUNT / per, unit=unit))
    quantum = Decimal(1).scaleb(-places)
    if value != value.quantize(quantum):
        if unit == "wan":
            raise AmountError(Message("amount_wan_places"))
        raise AmountError(Message("amount_places", places=places))
    return (value * per).quantize(quantum if unit == "yuan" else CENT)


def in_unit(amount: Decimal, unit: str = "wan") -> str:
    """An amount in yuan written in `unit` exactly, as a form shows it to be typed again:
    no separators, no trailing zeros, no rounding (Decimal('12345.67') → '1.234567' 万元)."""
    if unit == "yuan":
        return format(Decimal(amount), "f")
    return format(Decimal(amount).scaleb(-4).normalize(), "f")

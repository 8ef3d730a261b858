"""The record-level business rules, each defined once with its one message.

The form use cases (portfolio.book.records), the committee (portfolio.committee.proposals)
and the vectorised import (portfolio.interchange.schema) all call these: a rule changed
here changes everywhere a record can come in. Pure (standard library and pandas only).

A predicate answers for one value; where the import needs it for a whole column, the
`…_mask` form gives a boolean Series computed on the column at once, with the same meaning.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a column's rule only: the forms that check one record need no pandas
    import pandas as pd

from portfolio.messages import Message
from portfolio.vocabulary import credit_code_is_valid

# Text of any field or cell: no control characters but tab and line breaks. XML, and so a
# workbook, cannot hold them (the book's download failed on a name that had one), and
# PostgreSQL's text refuses \x00; nobody types them, a paste or an attack brings them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CONTROL_MESSAGE = Message("control_characters")


def text_ok(value: Any) -> bool:
    return not (isinstance(value, str) and CONTROL_CHARACTERS.search(value))


def control_characters_mask(texts: pd.Series) -> pd.Series:
    return texts.astype(str).str.contains(CONTROL_CHARACTERS.pattern, regex=True)


# 行政区划代码 (GB/T 2260): six digits
REGION_CODE = re.compile(r"[0-9]{6}")  # ASCII digits only (\d would admit full-width ones)
REGION_CODE_MESSAGE = Message("region_code")

OWNERSHIP_MESSAGE = Message("ownership_range")
# a count (headcount, a term in years): what the integer columns hold (PostgreSQL's 4 bytes);
# a larger one was refused by the database (a 500 on a form, a bare error on an import)
MAX_COUNT = 2**31 - 1
COUNT_TOO_LARGE = Message("at_most", maximum=MAX_COUNT)

# a code's and a name's most characters: the database's widths (models.Code, String(200));
# PostgreSQL refuses a longer text (a bare error on an import) and SQLite keeps it whole
CODE_LENGTH = 64
NAME_LENGTH = 200
# a form's free text: a note or a reason (a flow's, a correction's, a void's, a decline's), and
# the long sections of a proposal or of a GP package's narrative; the forms' Length takes these
NOTE_LENGTH = 2000
LONG_TEXT_LENGTH = 20000
CREDIT_CODE_LENGTH = 18  # 统一社会信用代码 (GB 32100)
REGION_CODE_LENGTH = 6  # 行政区划代码 (GB/T 2260)

CREDIT_CODE_INVALID = Message("credit_code_invalid")
CREDIT_CODE_TAKEN = Message("credit_code_taken")

COINVEST_NEEDS_ALONGSIDE = Message("coinvest_needs_alongside")
ALONGSIDE_ONLY_FOR_COINVEST = Message("alongside_only_coinvest")
COINVEST_NOT_HELD = Message("coinvest_not_held")


def region_code_ok(code: Any) -> bool:
    return isinstance(code, str) and code.isascii() and REGION_CODE.fullmatch(code) is not None


def region_code_mask(codes: pd.Series) -> pd.Series:
    """region_code_ok for each value of a text column (NA counts as not ok)."""
    return codes.astype("string").str.fullmatch(REGION_CODE.pattern).fillna(False).astype(bool)


# a number as people write one: ASCII digits (after NFKC), a point, one sign; no exponent
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?|[+-]?\.[0-9]+")
PCT_PLACES = 8  # models.types.Percent keeps a percentage to 8 places (a test holds them equal)


def parse_percent(text: Any) -> Decimal:
    """A typed percentage ('12.3456', '12.3456%', full-width digits) → Decimal, as the import
    reads one; a ValueError whose argument is the sentence: not a number, more than PCT_PLACES
    places (kept exactly or refused, never rounded), or outside 0–100."""
    import unicodedata

    cleaned = unicodedata.normalize("NFKC", str(text)).strip()
    cleaned = cleaned[:-1].strip() if cleaned.endswith("%") else cleaned
    if not PLAIN_NUMBER.fullmatch(cleaned):  # ASCII digits (after NFKC), no exponent, one sign
        raise ValueError(Message("pct_not_number"))
    value = Decimal(cleaned)
    if not ownership_ok(value):
        raise ValueError(OWNERSHIP_MESSAGE)
    if value != value.quantize(Decimal(1).scaleb(-PCT_PLACES)):
        raise ValueError(Message("pct_places", places=PCT_PLACES))
    return value


def ownership_ok(pct: Decimal | None) -> bool:
    """An ownership percentage in [0, 100]; a missing one is allowed (it is optional)."""
    return pct is None or Decimal(0) <= pct <= Decimal(100)


def credit_code_ok(code: Any) -> bool:
    """An 18-character 统一社会信用代码 whose check character is right (GB 32100-2015)."""
    return credit_code_is_valid(code)


def coinvest_alongside_held(fund_code: str, alongside_code: str, held: set[tuple[str, str]]) -> bool:
    """A co-investment goes alongside a sub-fund its own fund holds: (fund, sub-fund) in `held`."""
    return (fund_code, alongside_code) in held

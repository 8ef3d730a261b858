"""Column types shared by the book's tables.

Money is stored as an integer number of fen (0.01 yuan) in a BIGINT: SQLite keeps
NUMERIC as a float, which cannot hold 999,999,999,999.99 exactly, while an integer
is exact on both SQLite and PostgreSQL, and so is the database's own SUM of it.
BIGINT holds up to about 9.2e16 yuan, well above the 1e15 we promise.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import BigInteger
from sqlalchemy.types import TypeDecorator


class ScaledDecimal(TypeDecorator):
    """A Decimal with a fixed number of decimal places, stored as a scaled integer."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int = 2):
        super().__init__()
        self.places = places
        self._factor = Decimal(10) ** places
        self._quantum = Decimal(1).scaleb(-places)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, Decimal):
            value = Decimal(str(value))
        scaled = (value * self._factor).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return int(scaled)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        # PostgreSQL's SUM(bigint) comes back as a Decimal; SQLite's as an int.
        return (Decimal(int(value)) / self._factor).quantize(self._quantum)

    @property
    def python_type(self):
        return Decimal


class Money(ScaledDecimal):
    """Yuan, exact to the fen."""

    cache_ok = True

    def __init__(self):
        super().__init__(2)


class Percent(ScaledDecimal):
    """A percentage such as an ownership of 12.34567891 %, exact to 8 places (100 % is 10^10
    stored: a BIGINT holds it with room)."""

    PLACES = 8
    cache_ok = True

    def __init__(self):
        super().__init__(self.PLACES)


class IndexLevel(ScaledDecimal):
    """An index level such as 3,912.345678, exact to 6 places."""

    cache_ok = True

    def __init__(self):
        super().__init__(6)

"""Form fields that hand the use cases typed values, and show again exactly what was typed.

- AmountField: yuan as a Chinese user types them (1,234,567.89, full-width digits and
  comma), parsed by the one parser (portfolio.money.parse_amount) into a Decimal; a
  refusal (e.g. '1,5', '1e16', three decimals) is the field's error, with the reason.
- DayField: a date as YYYY-MM-DD (the browser's date input), into a datetime.date.
Both leave `data` None for an empty field (the validators decide if that is fine).

Text that does not parse is handed on as it was typed: the use case reads it with the same
parser and reports the refusal beside the field together with every other error of the
record (a person fixes all of them at once, not one per submit).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from wtforms import StringField

from portfolio.formatting import parse_date
from portfolio.money import AmountError, parse_amount


class _TypedField(StringField):
    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else self.shown(self.data)

    def shown(self, value) -> str:
        return str(value)


class AmountField(_TypedField):
    def process_formdata(self, valuelist):
        text = valuelist[0] if valuelist else ""
        self.data = None
        if not str(text).strip():
            return
        try:
            self.data = parse_amount(text)
        except AmountError:
            self.data = text  # the use case refuses it, with the parser's reason

    def shown(self, value) -> str:
        return format(value, "f") if isinstance(value, Decimal) else str(value)


class DayField(_TypedField):
    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"type": "date", **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        text = str(valuelist[0]).strip() if valuelist else ""
        self.data = None
        if not text:
            return
        try:
            self.data = parse_date(text)
        except ValueError:
            self.data = text  # the use case refuses it, saying why

    def shown(self, value) -> str:
        return value.isoformat() if isinstance(value, dt.date) else str(value)

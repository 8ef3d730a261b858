"""Form fields that hand the use cases typed values, and show again exactly what was typed.

- AmountField: an amount as a Chinese user types it (1,234.5, full-width digits and
  comma) in the unit the screens show, 万元, or in 元 chosen in the small select beside
  the field (`<name>_unit`); parsed by the one parser (portfolio.money.parse_amount) into
  a Decimal in yuan, exact to the fen (six decimals in 万元; anything finer is refused,
  never rounded). A stored amount is shown in the field in its unit exactly
  (12345.67 元 → 1.234567 万元).
- DayField: a date as YYYY-MM-DD, a text input with that format shown and checked (the
  browser's date input would show the reader's locale, e.g. mm/dd/yyyy) and a picker
  beside it (static/app.js copies the picked day into the text).
Both leave `data` None for an empty field (the validators decide if that is fine).

Text that does not parse is handed on: a date as typed, an amount as the parser's refusal
(portfolio.money.AmountError, which knows the unit it was typed in); the use case reports it
beside the field together with every other error of the record (a person fixes all of them
at once, not one per submit).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import gettext as _
from markupsafe import Markup, escape
from wtforms import StringField
from wtforms.utils import unset_value
from wtforms.widgets import TextInput

from portfolio.formatting import parse_date
from portfolio.money import UNITS, AmountError, in_unit, parse_amount

DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"


class _TypedField(StringField):
    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else self.shown(self.data)

    def shown(self, value) -> str:
        return str(value)


class AmountInput(TextInput):
    """The amount's text box and, beside it, the unit it is typed in (万元 unless 元 is chosen)."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("inputmode", "decimal")
        kwargs.setdefault("autocomplete", "off")
        box = super().__call__(field, **kwargs)
        options = "".join(
            f'<option value="{code}"{" selected" if code == field.unit else ""}>{escape(_(UNITS[code][2]))}</option>'
            for code in UNITS)
        return Markup(f'<span class="amount-input">{box} <select name="{field.name}_unit" id="{field.id}_unit" '
                      f'class="unit" aria-label="{escape(_("金额单位"))}">{options}</select></span>')


class AmountField(_TypedField):
    widget = AmountInput()

    def __init__(self, label=None, validators=None, *, unit: str = "wan", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.unit = unit

    def process(self, formdata, data=unset_value, extra_filters=None):
        if formdata is not None:
            chosen = formdata.get(f"{self.name}_unit")
            if chosen in UNITS:
                self.unit = chosen
        super().process(formdata, data, extra_filters)

    def process_formdata(self, valuelist):
        text = valuelist[0] if valuelist else ""
        self.data = None
        if not str(text).strip():
            return
        try:
            self.data = parse_amount(text, unit=self.unit)
        except AmountError as refusal:
            self.data = refusal  # the use case puts the parser's reason beside the field

    def shown(self, value) -> str:
        return in_unit(value, self.unit) if isinstance(value, Decimal) else str(value)


class DayInput(TextInput):
    """A date typed as YYYY-MM-DD (the format shown and checked), with a picker beside it."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("placeholder", "YYYY-MM-DD")
        kwargs.setdefault("pattern", DATE_PATTERN)
        kwargs.setdefault("maxlength", 10)
        kwargs.setdefault("size", 11)
        kwargs.setdefault("inputmode", "numeric")
        kwargs.setdefault("autocomplete", "off")
        kwargs.setdefault("title", "YYYY-MM-DD")
        kwargs["type"] = "text"
        return Markup(f'<span class="date-input">{super().__call__(field, **kwargs)}'
                      f'{date_picker(field.id)}</span>')


def date_picker(for_id: str) -> Markup:
    """The browser's calendar beside a YYYY-MM-DD text box: the day picked is copied into the
    box (static/app.js); the box, not the picker, is what the form sends."""
    return Markup(f'<input type="date" class="date-picker" data-date-for="{escape(for_id)}" tabindex="-1" '
                  f'aria-label="{escape(_("选择日期"))}">')


class DayField(_TypedField):
    widget = DayInput()

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

"""Errors a use case returns to its caller (a form, a command, the API)."""
from __future__ import annotations

from collections.abc import Sequence


class FieldErrors(Exception):
    """Business-rule errors as (field, message) pairs, for the form to show beside each field.

    `field` is the form field's name, or "" for an error about the whole record.
    """

    def __init__(self, errors: Sequence[tuple[str, str]]):
        super().__init__("; ".join(f"{f}: {m}" if f else m for f, m in errors))
        self.errors: list[tuple[str, str]] = list(errors)

    def shown(self, lang: str = "zh") -> list[tuple[str, str]]:
        """The pairs as the reader reads them: each message keyed in portfolio/messages.py
        rendered in `lang` (Chinese exactly as raised; text without a key as it is)."""
        from portfolio.messages import error_shown

        return [(field, error_shown(message, lang)) for field, message in self.errors]

    def as_dict(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for field, message in self.errors:
            out.setdefault(field, []).append(message)
        return out


# The figures' and reports' refusals, here rather than beside the code that raises them, so
# that a screen or command can catch them without importing that code (and pandas with it)
# before it has to compute: `report` served from the shared cache imports neither.

class AmountRangeError(ValueError):
    """The book's amounts add up past what the figures can hold exactly: no report, said so."""


class ReportError(ValueError):
    """A report that cannot be made as asked (e.g. an index that does not exist)."""


class UnknownIndex(ReportError, LookupError):
    """No levels are stored for the index asked for (the API answers 404: no such resource)."""


class PMEError(ValueError):
    """The index series cannot price these flows (e.g. a flow before it starts): the reason,
    a portfolio.messages.Message, is its one argument."""


class QuarterlyError(ValueError):
    """A quarterly report that cannot be made (unknown fund, bad quarter): say why."""

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

"""The workbooks' words in the reader's language, from the screens' own translations.

The .xlsx writers run outside any request (a job, the CLI) and import no Flask; they read
the same catalogue the screens do (translations/<lang>/LC_MESSAGES/messages.po, msgid =
the Chinese), so a sheet says what a page says. Chinese is the source: `word(text, "zh")`
is the text itself. A text without a translation stays Chinese, as on a page (the tests
find it).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"


def is_zh(lang: str) -> bool:
    return str(lang or "zh").startswith("zh")


@lru_cache(maxsize=4)
def catalog(lang: str) -> dict[str, str]:
    """msgid → msgstr of `lang`'s catalogue (fuzzy entries left out, as when compiled)."""
    from babel.messages.pofile import read_po

    path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        entries = read_po(handle)
    return {_key(m.id, m.context): m.string for m in entries
            if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string and not m.fuzzy}


def _key(text: str, context: str | None) -> str:
    return text if not context else f"{context}\x04{text}"  # as gettext keys a msgctxt


def word(text: str, lang: str = "zh", *, context: str | None = None, **args: Any) -> str:
    """`text` (Chinese) in `lang`; `%(name)s` placeholders filled from `args`. `context` is
    the catalogue's msgctxt, for a word that means something else elsewhere (a sheet's
    name, short enough for Excel; 退出 an exit, not logging out): pgettext on a page; a
    word without an entry in the context is the catalogue's plain entry."""
    if is_zh(lang):
        out = text
    else:  # the word in its context, else the word as the catalogue has it
        words = catalog(str(lang).split("_")[0])
        out = words.get(_key(text, context)) or words.get(text, text)
    return out % args if args else out


def irr_text(value, since=None, as_of=None, lang: str = "zh", *, short: bool = False) -> str | None:
    """The words the report puts where an IRR is not shown as a number, else None: a rate
    that does not exist (metrics.md: null where the flows never change sign, e.g. nothing
    invested yet or all written off, or no rate can be found) is said to have no answer,
    never left a bare dash; one over less than a year is not annualised (GIPS 5.A.4,
    formatting.irr_shown). The HTML, the PDF and the workbook say the same."""
    from portfolio.formatting import irr_is_short, irr_shown

    if value is None:
        return word("— 无解" if short else "—（无解）", lang)
    if irr_is_short(since, as_of):
        return irr_shown(value, since, as_of, lang=lang, short=short)
    return None


def irr_display(value, since=None, as_of=None, lang: str = "zh", *, short: bool = False) -> str:
    """An IRR as the report prints it: a percentage, or the words irr_text gives."""
    from portfolio.formatting import percent

    said = irr_text(value, since, as_of, lang, short=short)
    return percent(value) if said is None else said

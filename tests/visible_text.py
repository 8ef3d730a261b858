"""What a person sees on a page, and what must never be there.

`visible_text(html)` is the text of a page as read on screen (no tags, scripts, styles or
attribute values). `problems(text, lang)` lists what a reader should never meet:

- an internal code (a code of codelists.py or a key of a vocabulary in
  portfolio/vocabulary.py), e.g. `reinvestment_multiple`, `sub_fund`, `angel_guidance`;
- a raw number a program printed rather than a formatter (three or more decimals, e.g.
  `5.136208076659822` or `0.7713`), or a Python literal (`True`, `None`, `nan`);
- in English mode, Chinese characters (an untranslated string) and full-width punctuation.

Used by the tests that render every page for every role and every report in both languages.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import codelists
from portfolio.vocabulary import LABELS

_SKIP = {"script", "style", "title", "template", "noscript", "metadata"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self._skip += 1
        if tag == "input":  # a filled-in value is read on screen too (not a hidden one)
            attr = dict(attrs)
            if attr.get("type") in (None, "text", "search", "date") and attr.get("value"):
                self.parts.append(attr["value"])
        self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in _SKIP and self._skip:
            self._skip -= 1
        self.parts.append(" ")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", "".join(parts for parts in parser.parts)).strip()


def known_codes() -> set[str]:
    codes: set[str] = set()
    for name in dir(codelists):
        value = getattr(codelists, name)
        if name.isupper() and isinstance(value, tuple):
            codes.update(value)
    for table in LABELS.values():
        codes.update(table)
    return codes


# A code written as a code: snake_case (never an English word) anywhere; a bare lowercase
# code word (e.g. `direct`, `equity`) only on a Chinese page, where no English word belongs.
_SNAKE = re.compile(r"(?<![\w./-])[a-z]+(?:_[a-z0-9]+)+(?![\w/])")
_WORD = re.compile(r"(?<![\w./@-])[a-z][a-z.]*[a-z](?![\w/@-])")
_RAW_NUMBER = re.compile(r"(?<![\w.,])-?\d+\.\d{3,}(?![\w])")
_LITERAL = re.compile(r"(?<![\w])(True|False|None|nan|NaN|NaT|inf)(?![\w])")
_CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]+")


def problems(text: str, lang: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """What a reader of `text` (the page in `lang`) should not meet; [] when none."""
    codes = known_codes()
    found: list[str] = []
    for match in _SNAKE.finditer(text):
        if match.group(0) in codes or match.group(0).count("_"):
            found.append(f"code {match.group(0)!r}")
    if lang.startswith("zh"):
        for match in _WORD.finditer(text):
            if match.group(0) in codes:
                found.append(f"code {match.group(0)!r}")
    for match in _RAW_NUMBER.finditer(text):
        found.append(f"raw number {match.group(0)!r}")
    for match in _LITERAL.finditer(text):
        found.append(f"literal {match.group(0)!r}")
    if not lang.startswith("zh"):
        for match in _CJK.finditer(text):
            found.append(f"Chinese {match.group(0)!r}")
    return sorted({f for f in found if not any(a in f for a in allowed)})

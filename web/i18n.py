"""Chinese first, with an English switch: locale choice, translations, display filters."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale, get_translations, refresh
from jinja2 import Template, pass_context

from portfolio import formatting, messages
from portfolio.vocabulary import label, place


def compile_translations(app: Flask) -> None:
    """Compile translations/*/LC_MESSAGES/messages.po to .mo when stale, so that a
    fresh clone needs no extra build step."""
    root = Path(app.root_path) / "translations"
    for po_path in root.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)


def select_locale() -> str:
    lang = session.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return lang
    if has_request_context() and request.path.startswith("/api/"):  # a program says it in Accept-Language
        asked = request.accept_languages.best_match(current_app.config["LANGUAGES"])
        if asked:
            return asked
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def refresh_locale() -> None:
    # Flask-Babel caches the locale on `g`, which outlives a request when an app
    # context is already pushed (tests, CLI); choose it afresh for each request.
    refresh()


# The language a long render is in, chosen once for it (see `one_language`).
_fixed_lang: ContextVar[str | None] = ContextVar("fixed_lang", default=None)


def current_lang() -> str:
    fixed = _fixed_lang.get()
    if fixed is not None:
        return fixed
    return str(get_locale() or "zh")


@contextmanager
def request_in(lang: str, path: str = "/", **kept: Any) -> Iterator[None]:
    """A request context at `path` in `lang`, with `kept` put in its session (an as-of date):
    for work done outside the request that asked for it (a job, the CLI)."""
    with current_app.test_request_context(path):
        session["lang"] = lang
        session.update({k: v for k, v in kept.items() if v})
        refresh()
        yield


@contextmanager
def one_language() -> Iterator[str]:
    """Within it, `current_lang()` is the language of the request as it was on entry,
    without asking Flask-Babel again: a long report asks for it in every formatted cell
    (~10,000 times for the heavy book, a quarter of its template's time). Nothing inside a
    render switches the language."""
    token = _fixed_lang.set(current_lang())
    try:
        yield _fixed_lang.get() or "zh"
    finally:
        _fixed_lang.reset(token)


# The catalogue of the language a template renders in, taken once per render (see
# `OneLanguageTemplate`); None outside a render: the templates' gettext asks Flask-Babel.
_fixed_catalog: ContextVar[Any] = ContextVar("fixed_catalog", default=None)


class OneLanguageTemplate(Template):
    """A page rendered in one language, chosen once for the render: within it `current_lang()`
    (every filter that writes words, every `label`, every punctuation mark) is the language on
    entry, and the templates' `_()`, `gettext`, `ngettext`, `pgettext` and `npgettext` look
    their phrase up in that language's catalogue, taken once, instead of asking Flask-Babel
    for the request's context, domain, locale and catalogue again for every phrase (a page has
    dozens). The app's `jinja_env.template_class` (`install_one_language`). Nothing inside a
    render switches the language; a render inside a render keeps the outer one's."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        if _fixed_catalog.get() is not None:
            return super().render(*args, **kwargs)
        with one_language():
            token = _fixed_catalog.set(get_translations())
            try:
                return super().render(*args, **kwargs)
            finally:
                _fixed_catalog.reset(token)


def _catalog() -> Any:
    catalog = _fixed_catalog.get()
    return catalog if catalog is not None else get_translations()


def install_one_language(app: Flask) -> None:
    """Templates rendered by `OneLanguageTemplate`, their gettext functions reading its
    catalogue. After Flask-Babel's `init_app` (which installs its own) and before any
    template is loaded."""
    app.jinja_env.template_class = OneLanguageTemplate
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # jinja2.ext.i18n's
        gettext=lambda s: _catalog().ugettext(s),
        ngettext=lambda s, p, n: _catalog().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalog().unpgettext(c, s, p, n),
    )


def refusal(error: Exception) -> str:
    """An exception's sentence (a portfolio.messages.Message where the domain raised one) in
    the reader's language."""
    return messages.shown(messages.said_by(error), current_lang())


def _label(code, vocabulary, short=False):
    return label(vocabulary, code, lang=current_lang(), short=short)


def _at_render(language_filter):
    """A filter whose words depend on the reader's language, run when the page is rendered:
    Jinja works a filter of a literal ({{ 'contribution'|label('type') }}) out once, when it
    compiles the template, outside any request (so in Chinese, for every reader), unless the
    filter takes the render's context."""
    @pass_context
    def _filter(_context, value, *args, **options):
        return language_filter(value, *args, **options)
    return _filter


def _by_lang(formatter):
    """A formatter whose words depend on the language, as a filter of the current one."""
    def _filter(value, *args, **options):
        return formatter(value, *args, lang=current_lang(), **options)
    return _at_render(_filter)


def fund_name(fund) -> str:
    """A fund's name in the reader's language: `name_en` in English where the book has one.
    Takes a fund row or a report (fund_name / fund_name_en)."""
    def get(key):
        return fund.get(key) if isinstance(fund, dict) else getattr(fund, key, None)
    keys = ("fund_name", "fund_name_en") if get("fund_name") else ("name", "name_en")
    english = get(keys[1]) if not current_lang().startswith("zh") else None
    return str(english or get(keys[0]) or "")


def template_helpers() -> dict:
    filters = {
        "years": _by_lang(formatting.years),
        "count": formatting.count,
        "fraction": formatting.fraction,
        "hhi": formatting.hhi,
        "ownership": formatting.ownership,
        "amount_wan": _by_lang(formatting.amount_wan),
        "rule_value": _by_lang(formatting.rule_value),
        "figure": _by_lang(formatting.figure),
        "irr": _by_lang(formatting.irr_shown),
        "wan": formatting.wan,
        "yi": formatting.yi,
        "yuan": formatting.yuan,
        "multiple": formatting.multiple,
        "percent": formatting.percent,
        "isodate": formatting.iso_date,
        "quarter": formatting.quarter,
        "label": _at_render(_label),
        "place": _by_lang(place),
        "fund_name": _at_render(fund_name),
        "explain": _by_lang(messages.shown),
    }
    from web.navigation import nav_html, nav_items

    return {"filters": filters, "current_lang": current_lang, "nav_items": nav_items, "nav_html": nav_html,
            **PUNCTUATION}


class _Punctuation:
    """A punctuation mark written in a page beside a translated word: full-width in
    Chinese, half-width in English ("决议：" but "Decision: "). Chosen when rendered, so
    macros imported without context have it too (it is a Jinja global)."""

    def __init__(self, zh: str, en: str):
        self.zh, self.en = zh, en

    def __str__(self) -> str:
        fixed = _fixed_lang.get()
        if fixed is not None:
            return self.zh if fixed.startswith("zh") else self.en
        if has_request_context() and not current_lang().startswith("zh"):
            return self.en
        return self.zh

    def __html__(self) -> str:
        return str(self)


PUNCTUATION = {"lp": _Punctuation("（", " ("), "rp": _Punctuation("）", ")"),
               "colon": _Punctuation("：", ": "), "comma": _Punctuation("，", ", "),
               "semicolon": _Punctuation("；", "; "), "list": _Punctuation("、", ", ")}

"""Chinese first, with an English switch: locale choice, translations, display filters."""
from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, session
from flask_babel import get_locale, refresh

from portfolio import formatting
from portfolio.vocabulary import label


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
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def refresh_locale() -> None:
    # Flask-Babel caches the locale on `g`, which outlives a request when an app
    # context is already pushed (tests, CLI); choose it afresh for each request.
    refresh()


def current_lang() -> str:
    return str(get_locale() or "zh")


def _label(code, vocabulary):
    return label(vocabulary, code, lang=current_lang())


def template_helpers() -> dict:
    filters = {
        "wan": formatting.wan,
        "yi": formatting.yi,
        "yuan": formatting.yuan,
        "multiple": formatting.multiple,
        "percent": formatting.percent,
        "isodate": formatting.iso_date,
        "quarter": formatting.quarter,
        "label": _label,
    }
    from web.navigation import nav_items

    return {"filters": filters, "current_lang": current_lang, "nav_items": nav_items}

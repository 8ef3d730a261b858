"""The main navigation: (endpoint, Chinese label) pairs; each screen family adds its own.

Labels go through gettext when shown, so the English switch translates them.
"""
from flask import current_app, url_for
from flask_babel import gettext

NAV: list[tuple[str, str]] = [
    ("main.home", "首页"),
]


def nav_items() -> list[dict]:
    items = []
    for endpoint, text in NAV:
        if endpoint in current_app.view_functions:
            items.append({"url": url_for(endpoint), "label": gettext(text), "endpoint": endpoint})
    return items

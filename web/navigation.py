"""The main navigation: (endpoint, Chinese label) pairs; each screen family adds its own.

Labels go through gettext when shown, so the English switch translates them.
"""
from flask import current_app, url_for
from flask_babel import gettext

NAV: list[tuple[str, str]] = [
    ("main.home", "首页"),
    ("main.investments", "投资"),
    ("main.sub_funds", "子基金"),
    ("main.companies", "被投企业"),
    ("book.index", "台账"),
    ("reports.index", "季度报告"),
    ("committee.index", "投委会"),
    ("main.history", "修改历史"),
    ("admin.users", "用户管理"),
]


def nav_items() -> list[dict]:
    items = []
    for endpoint, text in NAV:
        if endpoint in current_app.view_functions:
            items.append({"url": url_for(endpoint), "label": gettext(text), "endpoint": endpoint})
    return items

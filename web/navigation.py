"""The main navigation: (endpoint, Chinese label[, permission]) entries; each screen family
adds its own. An entry with a permission (web.auth.PERMISSIONS) shows only to users who
hold it, so nobody is offered a page that would answer 403.

Labels go through gettext when shown, so the English switch translates them.
"""
from flask import current_app, request, url_for
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup, escape

from web.auth import may_open

NAV: list[tuple[str, ...]] = [
    ("main.home", "首页"),
    ("main.investments", "投资"),
    ("main.sub_funds", "子基金"),
    ("main.companies", "被投企业"),
    ("book.index", "台账"),
    ("reports.index", "季度报告"),
    ("committee.index", "投委会"),
    ("main.history", "修改历史"),
    ("admin.users", "用户管理", "configure"),
    ("gp.portal", "季度报告填报", "report"),
    ("gp.review", "管理人报告", "approve"),
]


def nav_items() -> list[dict]:
    """The entries the current user is offered. They depend on the role (its permissions and
    scope), the language and where the app is mounted only: made once for each of those (every
    page shows them: a dozen translations and addresses each time cost a page a millisecond)."""
    from web.i18n import current_lang

    role = current_user.role if current_user.is_authenticated else None
    known: dict[tuple, tuple[dict, ...]] = current_app.extensions.setdefault("nav_items", {})
    key = (role, current_lang(), request.script_root)
    made = known.get(key)
    if made is None:
        made = known[key] = tuple(_items())
    return [dict(item) for item in made]


def nav_html() -> Markup:
    """The navigation bar's links as HTML, the current page's marked `class="active"`: kept per
    (role, language, mount point, current page among the entries) like `nav_items`, so a page
    writes it in one piece instead of a loop of a dozen links, each escaped and compared."""
    from web.i18n import current_lang

    role = current_user.role if current_user.is_authenticated else None
    known: dict[tuple, Markup] = current_app.extensions.setdefault("nav_html", {})
    endpoint = request.endpoint if request.endpoint in _ENDPOINTS else None  # other pages: nothing marked
    key = (role, current_lang(), request.script_root, endpoint)
    made = known.get(key)
    if made is None:
        active = ' class="active"'
        made = known[key] = Markup("".join(
            f'<a href="{escape(item["url"])}"{active if item["endpoint"] == endpoint else ""}>'
            f'{escape(item["label"])}</a>' for item in nav_items()))
    return made


_ENDPOINTS = frozenset(entry[0] for entry in NAV)


def _items() -> list[dict]:
    items = []
    for endpoint, text, *permission in NAV:
        if permission and not (current_user.is_authenticated and current_user.can(permission[0])):
            continue
        if not may_open(endpoint):  # a scoped role (a GP) is offered its portal only
            continue
        if endpoint in current_app.view_functions:
            items.append({"url": url_for(endpoint), "label": gettext(text), "endpoint": endpoint})
    return items

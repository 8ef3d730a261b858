"""Templates render in one language, chosen once per render (web.i18n.OneLanguageTemplate), and
the navigation bar is kept as HTML per (role, language, mount point, current page)
(web.navigation.nav_html): Chinese and English pages say what they said, a page never mixes
the two, the catalogue is asked for once per render, and the bar marks the page it is on and
offers each role only what it may open."""
from __future__ import annotations

import re

import pytest
from flask import render_template_string, session

import web.i18n
from tests.conftest import login, make_user
from web.i18n import OneLanguageTemplate, current_lang

# the navigation as base.html wrote it before nav_html: the reference the kept HTML must match
NAV_LOOP = ('{% for item in nav_items() %}<a href="{{ item.url }}"{% if request.endpoint == item.endpoint %}'
            ' class="active"{% endif %}>{{ item.label }}</a>{% endfor %}')


def nav_of(html: str) -> str:
    return re.search(r'<nav class="mainnav">\s*(.*?)\s*</nav>', html, re.S).group(1)


def test_templates_are_one_language_templates(app):
    assert app.jinja_env.template_class is OneLanguageTemplate
    assert isinstance(app.jinja_env.get_template("base.html"), OneLanguageTemplate)


@pytest.mark.parametrize("lang, expected", [("zh", ["首页", "修改密码", "共 3 项", "（", "）"]),
                                            ("en", ["Home", "Change password", " (", ")"])])
def test_a_render_speaks_the_requests_language(app, lang, expected):
    source = "{{ _('首页') }}|{{ _('修改密码') }}|{{ _('共 %(n)s 项', n=3) }}|{{ lp }}|{{ rp }}|{{ current_lang() }}"
    with app.test_request_context("/"):
        session["lang"] = lang
        shown = render_template_string(source).split("|")
    assert shown[-1] == lang
    assert [s for s in expected if s not in shown[:-1]] == []
    if lang == "en":
        assert not re.search(r"[\u4e00-\u9fff（）]", "".join(shown))


def test_the_catalogue_is_taken_once_per_render(app, monkeypatch):
    calls = []
    real = web.i18n.get_translations
    monkeypatch.setattr(web.i18n, "get_translations", lambda: calls.append(1) or real())
    source = "{% for _i in range(20) %}{{ _('首页') }}{{ _('修改密码') }}{% endfor %}"
    with app.test_request_context("/"):
        session["lang"] = "en"
        shown = render_template_string(source)
        assert shown == "HomeChange password" * 20
        assert len(calls) == 1
        session["lang"] = "zh"
        web.i18n.refresh_locale()
        assert render_template_string(source) == "首页修改密码" * 20  # the next render: the new language
        assert len(calls) == 2
        assert current_lang() == "zh" and web.i18n._fixed_catalog.get() is None  # nothing fixed outside a render


def test_translated_text_is_still_escaped_and_formatted(app):
    with app.test_request_context("/"):
        session["lang"] = "zh"
        assert render_template_string("{{ _('共 %(n)s 项', n='<b>') }}") == "共 &lt;b&gt; 项"
        assert render_template_string("{{ _('100%%') }}") == "100%"  # newstyle gettext formats even without variables


def test_pages_switch_language_and_back(client, db):
    make_user(db, "alice", "manager")
    assert login(client, "alice").status_code == 302
    pages = {}
    for lang in ("zh", "en", "zh", "en"):
        client.get(f"/lang/{lang}")
        html = client.get("/").get_data(as_text=True)
        pages.setdefault(lang, html)
        assert html == pages[lang] or lang not in pages  # the same page for the same language
        if lang == "zh":
            assert 'lang="zh-CN"' in html and ">首页</a>" in html and "待办事项" in html and ">Home</a>" not in html
        else:
            assert 'lang="en"' in html and ">Home</a>" in html and "To do" in html and "首页" not in html
            assert not re.search(r"[\u4e00-\u9fff]", nav_of(html))


@pytest.mark.parametrize("role", ["admin", "manager", "committee", "viewer", "gp"])
def test_the_kept_navigation_is_the_loops_and_respects_roles(app, client, db, role):
    make_user(db, f"u-{role}", role)
    assert login(client, f"u-{role}").status_code == 302
    paths = ["/gp/"] if role == "gp" else ["/", "/book/", "/committee/", "/admin/users", "/history"]
    for lang in ("zh", "en"):
        client.get(f"/lang/{lang}")
        for path in paths:
            response = client.get(path)
            if response.status_code != 200:  # a page this role may not open: no bar to check
                continue
            nav = nav_of(response.get_data(as_text=True))
            cookie = client.get_cookie("session").value  # the same user, logged in, in this language
            with app.test_request_context(path, headers={"Cookie": f"session={cookie}"}):
                app.preprocess_request()  # the session's user, the locale
                assert current_lang() == lang
                assert nav == render_template_string(NAV_LOOP)
            active = re.findall(r'<a href="([^"]+)" class="active">', nav)
            assert active == ([path] if path in re.findall(r'href="([^"]+)"', nav) else [])
            assert ("/admin/users" in nav) == (role == "admin")
            if role == "gp":
                assert re.findall(r'href="([^"]+)"', nav) == ["/", "/gp/"]  # home leads to the portal


def test_no_english_text_reads_as_a_program_s_literal():
    """An English word the catalogue gives a reader is never a program's literal: 'None' as
    the empty choice of the benchmark index (/reports/) and for an empty table read as
    Python's None (tests/visible_text.py flags it on any page)."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    with open(Path(__file__).resolve().parents[1] / "translations/en/LC_MESSAGES/messages.po", "rb") as po:
        catalogue = read_po(po)
    literals = {"None", "True", "False", "nan", "NaN", "null"}
    assert not [(m.context, m.id) for m in catalogue if m.id and m.string in literals]


def test_a_page_title_holds_words_only():
    """A page's title block is its name and nothing else: a section inserted before the first
    `{% endblock %}` of a template landed in the browser's title bar (and twice on the page)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "templates"
    titles = {str(path.relative_to(root)): m.group(1)
              for path in root.rglob("*.html")
              for m in re.finditer(r"{%-? block title -?%}(.*?){%-? endblock", path.read_text(encoding="utf-8"), re.S)}
    assert titles, "no template has a title block"
    assert {name: text for name, text in titles.items() if "<" in text or "\n" in text} == {}


def test_each_catalogue_entry_has_one_translation():
    """One msgstr per msgid: a second one (two sessions' wordings of one entry) is a syntax
    error to gettext's msgfmt, and Babel's reader quietly takes one of them."""
    import re
    from pathlib import Path

    for po in (Path(__file__).resolve().parents[1] / "translations").rglob("*.po"):
        text = po.read_text(encoding="utf-8")
        assert not re.search(r"^msgstr .*\n(?:\".*\"\n)*msgstr ", text, re.M), po


def test_a_percentage_is_written_with_the_half_width_sign():
    """The app writes 12.3%: the forecast accuracy page's note read '25％、此后 50％ … 10％'
    (full-width), in a template's msgid and so in the Chinese page. No template, sentence
    (error_texts), label (vocabulary) or English entry writes a figure with ％."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sources = [*(root / "templates").rglob("*.html"), root / "portfolio/error_texts.py",
               root / "portfolio/vocabulary.py", root / "translations/en/LC_MESSAGES/messages.po"]
    found = {str(path.relative_to(root)): re.findall(r"[0-9０-９]\s*％", path.read_text(encoding="utf-8"))
             for path in sources}
    assert {name: hits for name, hits in found.items() if hits} == {}

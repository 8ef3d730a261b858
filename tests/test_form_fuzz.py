"""No form answers 5xx, whatever is typed into it: every form the app draws (each role's pages
on the demo book), sent with each of its fields in turn holding a hostile value (numbers past
any column, 1e400, NaN, control characters, 100,000 characters, a date past the calendar's
ends), the other fields as the page filled them in.

It found: a backup job failing on any book with a staged upload (bytes in JSON), a control
character saved into a name that then broke the book's download, NUL refused by PostgreSQL
in a token's name. On SQLite and PostgreSQL."""
from __future__ import annotations

from html.parser import HTMLParser

from tests.conftest import login
from tests.test_crawl import _urls
from tests.test_crawl import demo as demo  # noqa: F401  (the fixture)

HOSTILE = ["99999999999999999999", "-99999999999999999999", "1e400", "NaN", "-Infinity", "2147483648",
           "9" * 400, "x" * 100_000, "nul\x00", "bell\x07", "'; DROP TABLE users;--", "１２３", "9999-12-31",
           "0001-01-01", " ", "1,2,3", "1e17", "0"]
ROLES = ("admin", "manager", "committee", "gp")


class _Forms(HTMLParser):
    """The page's POST forms: action and fields with the values the page gave them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._current = {"action": a.get("action"), "fields": {}}
            self.forms.append(self._current)
        elif self._current is not None and tag in ("input", "select", "textarea") and a.get("name") \
                and a.get("type") != "file":
            self._current["fields"].setdefault(a["name"], a.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def test_no_form_answers_5xx_whatever_is_typed(app, client, demo, db):
    failures, sent = [], 0
    for role in ROLES:
        client.post("/logout")
        assert login(client, f"{role}1").status_code == 302
        seen: set[str] = set()
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in ("auth.logout", "static"):
                continue
            url = _urls(rule, demo)[0]
            page = client.get(url)
            if page.status_code != 200 or "html" not in (page.content_type or ""):
                continue
            parser = _Forms()
            parser.feed(page.get_data(as_text=True))
            for form in parser.forms:
                action = form["action"] or url
                if action in seen or "logout" in action or "/lang/" in action:
                    continue
                seen.add(action)
                for field in form["fields"]:
                    if field == "csrf_token":
                        continue
                    for value in HOSTILE:
                        db.session.rollback()  # the tests' session is the requests': a refused one starts clean
                        response = client.post(action, data={**form["fields"], field: value})
                        sent += 1
                        if response.status_code >= 500:
                            failures.append((role, action, field, value[:20], response.status_code))
    print(f"\n{sent} hostile forms sent, {len(failures)} server errors")
    assert sent > 5000
    assert not failures, sorted(set(failures))[:40]

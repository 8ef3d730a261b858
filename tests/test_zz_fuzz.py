import re
from html.parser import HTMLParser

from tests.conftest import login
from tests.test_crawl import _urls, demo  # noqa: F401

HOSTILE = ["99999999999999999999", "-99999999999999999999", "1e400", "NaN", "Infinity", "-0", "0",
           "9" * 400, "x" * 100000, "\x00", "'; DROP TABLE users;--", "2147483648", "1e-400", "１２３",
           "9999-12-31", "0001-01-01", "<script>", "../../etc/passwd", " ", "1,2,3", "1e17"]


class Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms, self.cur = [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self.cur = {"action": a.get("action"), "fields": {}}
            self.forms.append(self.cur)
        elif self.cur is not None and tag in ("input", "select", "textarea") and a.get("name"):
            if a.get("type") in ("file",):
                return
            self.cur["fields"].setdefault(a["name"], a.get("value") or "")
        elif self.cur is not None and tag == "option" and a.get("value") is not None:
            pass

    def handle_endtag(self, tag):
        if tag == "form":
            self.cur = None


def test_fuzz(app, client, demo, db):
    bad = []
    n = 0
    for role in ("admin", "manager", "committee", "gp"):
        client.post("/logout")
        login(client, f"{role}1")
        seen = set()
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in ("auth.logout", "static") or "<" in rule.rule and False:
                continue
            for url in _urls(rule, demo)[:1]:
                r = client.get(url)
                if r.status_code != 200 or "html" not in (r.content_type or ""):
                    continue
                p = Forms()
                p.feed(r.get_data(as_text=True))
                for form in p.forms:
                    action = form["action"] or url
                    if action in seen or "logout" in action or "lang" in action:
                        continue
                    seen.add(action)
                    for field in form["fields"]:
                        if field in ("csrf_token",):
                            continue
                        for value in HOSTILE:
                            data = dict(form["fields"])
                            data[field] = value
                            db.session.rollback()
                            resp = client.post(action, data=data)
                            n += 1
                            if resp.status_code >= 500:
                                bad.append((role, action, field, value[:30], resp.status_code))
    print("requests", n)
    for b in sorted(set(bad)):
        print("BAD", b)
    assert not bad

"""The routes' URL builders are compiled when a route first builds a URL (web.blueprints.LazyBuildRule):
adding the app's routes costs a command that builds none (`report`) no compiling, and every
URL built is the one werkzeug's own rule builds."""
from __future__ import annotations

from werkzeug.routing import Map, Rule

from web.blueprints import LazyBuildRule, RowId


def _values(rule: Rule) -> dict:
    return {name: 7 if type(converter).__name__ in ("RowId", "IntegerConverter") else "QY-1 a/b"
            for name, converter in rule._converters.items()}


def test_the_routes_compile_their_builders_on_first_use_only(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    assert rules and all(isinstance(rule, LazyBuildRule) for rule in rules)
    # each builder is the lazy one: nothing compiled yet by werkzeug (its builder is named _build...)
    assert all(rule._build.__func__.__name__ == "build" for rule in rules)


def test_every_url_is_the_one_werkzeugs_rule_builds(app):
    plain = Map(converters={"int": RowId})
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    for rule in rules:
        plain.add(Rule(rule.rule, endpoint=rule.endpoint, defaults=rule.defaults, methods=rule.methods))
    lazy_adapter, plain_adapter = app.url_map.bind("localhost"), plain.bind("localhost")
    for rule in rules:
        values = _values(rule)
        for extra in ({}, {"page": 2, "q": "基金 a&b"}, {"rule": "nope", "self": "x", "values": "y"}):
            # and the arguments that go to the query, named as anything (a rule-check filter is ?rule=)
            built = lazy_adapter.build(rule.endpoint, {**values, **extra}, method=next(iter(rule.methods or ["GET"])))
            assert built == plain_adapter.build(rule.endpoint, {**values, **extra},
                                                method=next(iter(rule.methods or ["GET"]))), rule.rule
    with app.test_request_context():
        from flask import url_for

        assert url_for("auth.login", next="/x") == "/login?next=/x"

"""The worked example (spec/example): `check` gives expected.json's `compliance`
for both dates — rule, subject, status, limit exactly and value to 1e-7 relative — both
on the CSVs read straight into BookData and on the book imported into the database."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from portfolio.book.reading import load_book
from portfolio.figures.rules import check
from portfolio.interchange.importing import import_book
from tests.conftest import EXAMPLE_BOOK
from tests.factories import book_from_csv

# expected.json was computed independently of the product (example/README.md)
EXPECTED = json.loads((EXAMPLE_BOOK.parent / "expected.json").read_text(encoding="utf-8"))
DATES = sorted(EXPECTED)


def assert_matches(results: list[dict], expected: list[dict]):
    assert [(r["rule"], r["subject"]) for r in results] == [(e["rule"], e["subject"]) for e in expected]
    for r, e in zip(results, expected):
        assert r["status"] == e["status"], (r, e)
        assert r["limit"] == (None if e["limit"] is None else pytest.approx(e["limit"], rel=1e-7)), (r, e)
        if isinstance(e["value"], str) or e["value"] is None:
            assert r["value"] == e["value"], (r, e)
        else:
            assert r["value"] == pytest.approx(e["value"], rel=1e-7), (r, e)
        assert r["message"]


@pytest.mark.parametrize("as_of", DATES)
def test_example_book_compliance_from_csv(as_of):
    assert_matches(check(book_from_csv(EXAMPLE_BOOK), "QY", dt.date.fromisoformat(as_of)),
                   EXPECTED[as_of]["compliance"])


def test_example_book_compliance_from_the_database(db):
    result = import_book(db.session, EXAMPLE_BOOK, username="test")
    assert not result.errors, result.errors
    book = load_book(db.session)
    for as_of in DATES:
        assert_matches(check(book, "QY", dt.date.fromisoformat(as_of)), EXPECTED[as_of]["compliance"])


def test_example_messages_are_chinese_sentences_with_the_figures():
    results = check(book_from_csv(EXAMPLE_BOOK), "QY", dt.date(2025, 12, 31))
    by_rule = {(r["rule"], r["subject"]): r["message"] for r in results}
    assert by_rule[("subfund_share_cap", "QY-SF1")] == "基金认缴占子基金规模 25.0%，未超过上限 30.0%"
    assert "0.75 倍" in by_rule[("reinvestment_multiple", "SF1")]
    assert "投资期" in by_rule[("reinvestment_multiple", "SF1")]

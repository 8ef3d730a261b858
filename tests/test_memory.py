"""portfolio.memory.collections_paused: the collector paused for bulk work, resumed when the
last work that paused it ends (nested, or in two threads at once), and only if it was on."""
from __future__ import annotations

import gc
import threading

import pytest

from portfolio.interchange import importing
from portfolio.memory import collections_paused


@pytest.fixture(autouse=True)
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_inside_resumed_after_even_on_an_error():
    with pytest.raises(KeyError), collections_paused():
        assert not gc.isenabled()
        {}["missing"]  # noqa: B018 - the error is the point
    assert gc.isenabled()


def test_nested_works_resume_at_the_outermost_end():
    with collections_paused():
        with collections_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer work goes on
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    with collections_paused():
        pass
    assert not gc.isenabled()


def test_two_threads_at_once_resume_when_both_are_done():
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with collections_paused():
            first_in.set()
            second_in.wait(5)
        seen["after first"] = gc.isenabled()  # the second is still at work
        first_out.set()

    def second():
        first_in.wait(5)
        with collections_paused():
            second_in.set()
            first_out.wait(5)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"after first": False}
    assert gc.isenabled()


def test_the_import_plans_and_writes_with_the_collector_paused(db, monkeypatch):
    """The two bulk steps of every way in (import_book, staging, applying a change set)."""
    from tests.conftest import EXAMPLE_BOOK

    states = []
    plan_doubts = importing.plan_doubts
    monkeypatch.setattr(importing, "plan_doubts", lambda *a: states.append(gc.isenabled()) or plan_doubts(*a))
    bulk_insert = importing.bulk_insert
    monkeypatch.setattr(importing, "bulk_insert", lambda *a, **k: states.append(gc.isenabled()) or bulk_insert(*a, **k))
    assert importing.import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    assert states and not any(states)
    assert gc.isenabled()

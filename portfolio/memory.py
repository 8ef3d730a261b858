"""Bulk work and the garbage collector.

CPython's cyclic collector runs after every 700 net new container objects, and each run of
the oldest generation walks every object alive. An import of 150,000 rows makes that many
dicts, tuples and lists that all stay alive until it is written (the rows, their audit
entries), so the collector ran ~1,100 times and walked the whole book six times: a sixth of
the import's time (benchmarks/bench_import.py). The objects are freed by reference counting
when the work ends; the few cycles it makes are collected by the first run after it.

`collections_paused()` (a context manager, or a decorator) pauses the collector for the work
inside it. Nesting and threads are counted: the collector resumes when the last of the works
that paused it ends, and only if it was running when the first began.
"""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_resume = False  # the collector was running when the first pause began


@contextmanager
def collections_paused() -> Iterator[None]:
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()


__all__ = ["collections_paused"]

"""A command that has read the whole book ends its process without the interpreter's teardown.

At exit, Python frees every object left in its modules one by one: for `flask quarterly-report`
or `flask report` on a large book, the book's frames, the report object and the caches
holding them, 0.1–0.15 s of a 2 s command (measured on the heavy book of benchmarks/). The
process is ending: the operating system takes its memory back at once. So, once such a
command has done its work, `end_without_teardown()` arranges that its process, when it exits,
runs the other exit handlers (logging's flush among them), flushes standard output and
error, closes the database connections, then ends with `os._exit(0)`: the teardown is all
that is skipped (Instagram ends its workers so, `atexit.register(os._exit, 0)`).

- Registered only once the command has succeeded, so the exit status is 0 as it would be; a
  command that fails ends as any other, with its status.
- Never under a test runner (the app's TESTING): the runner's process goes on after the
  command.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import sys

from flask import current_app


def end_without_teardown() -> None:
    """Let this process, its command done, exit without freeing its objects (see the module)."""
    if current_app.testing:
        return
    from web.extensions import db

    engines = list(db.engines.values())

    def end() -> None:
        atexit.unregister(end)
        # the handlers registered before this one would run after it: run them now (they
        # are what a normal exit runs before its teardown, e.g. logging.shutdown)
        atexit._run_exitfuncs()
        for engine in engines:  # the pooled connections closed as a normal exit closes them
            engine.dispose()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # closed, or its reader gone
                stream.flush()
        os._exit(0)

    atexit.register(end)

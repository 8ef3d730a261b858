"""Two requests at the worst moment: the first held inside its transaction (a function it calls
made slow once), the second run meanwhile, each with its own session, as two gunicorn threads
would. What each returned, or the FieldErrors it raised."""
from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy.orm import Session

from portfolio.errors import FieldErrors


def slowed(monkeypatch, module: Any, name: str, started: threading.Event, seconds: float = 0.6, *,
           after: bool = False) -> None:
    """module.<name> made slow on its first call, `started` set as it begins (`after`: once it
    has returned its result, so that what it read is old by the time it is used)."""
    real = getattr(module, name)

    def slow(*args, **kwargs):
        first = not started.is_set()
        if first and not after:
            started.set()
            time.sleep(seconds)
        result = real(*args, **kwargs)
        if first and after:
            started.set()
            time.sleep(seconds)
        return result
    monkeypatch.setattr(module, name, slow)


def race(app, db, first, second, started: threading.Event) -> list:
    """`first` in a thread; `second` once `first` is inside its transaction."""
    outcome: list = [None, None]

    def run(i, call):
        with app.app_context(), Session(db.engine) as session:
            try:
                outcome[i] = call(session)
            except FieldErrors as exc:
                outcome[i] = exc

    thread = threading.Thread(target=run, args=(0, first))
    thread.start()
    assert started.wait(30)
    run(1, second)
    thread.join(60)
    db.session.remove()
    return outcome

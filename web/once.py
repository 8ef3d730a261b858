"""A form rendered once is applied at most once: the web side of portfolio/book/idempotency.py.

`run(key, call)` answers a form's key that was already applied with the record the first
application wrote (and says so), and otherwise runs the use case with the key expected on the
session, so the key is committed with the write. When the use case loses a race to the same
form sent at once (the database refused the second key), the answer is the winner's result,
not an error."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash
from flask_babel import gettext as _

from portfolio.book import idempotency
from portfolio.errors import FieldErrors
from web.auth import current_username
from web.extensions import db


def _replayed(key: Any) -> tuple[bool, Any]:
    first = idempotency.first_result(db.session, key, current_username())
    if first is None:
        return False, None
    flash(_("此表单已经提交过，未重复保存；以下是第一次提交的结果。"))
    return True, idempotency.record_of(db.session, first)


def run(key: Any, call: Callable[[], Any]) -> tuple[Any, bool]:
    """(the use case's result, False), or (the first application's record, True) for a replay.
    The use case's FieldErrors pass through when this key was not applied before."""
    again, record = _replayed(key)
    if again:
        return record, True
    idempotency.expect(db.session, key, current_username())
    try:
        return call(), False
    except FieldErrors:
        db.session.rollback()
        again, record = _replayed(key)  # the same form, sent at once, committed first
        if again:
            return record, True
        raise
    finally:
        idempotency.forget(db.session)

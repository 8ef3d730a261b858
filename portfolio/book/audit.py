"""The audit trail: who changed which record, when, from what to what."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from models import AuditEntry, User, utcnow
from portfolio.messages import Message, as_json, clauses, from_json


def plain(value: Any) -> Any:
    """A JSON-friendly form of a column value (exact: Decimals become strings)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def snapshot(record: Any) -> dict[str, Any]:
    """Every column of a mapped record, JSON-friendly."""
    mapper = inspect(record).mapper
    return {attr.key: plain(getattr(record, attr.key)) for attr in mapper.column_attrs}


def audit(session: Session, username: str, action: str, entity: str, key: str, *,
          before: dict | None = None, after: dict | None = None, reason: str | None = None,
          batch: str | None = None, at: dt.datetime | None = None) -> AuditEntry:
    """One entry of the trail. A `reason` the application writes is a Message (kept by key as
    well, `reason_fields`); one a person typed is text."""
    entry = AuditEntry(at=at or utcnow(), username=username, action=action, entity=entity,
                       entity_key=key, before=before, after=after, batch=batch, **reason_fields(reason))
    session.add(entry)
    return entry


def reason_fields(reason: str | None) -> dict[str, Any]:
    """An audit entry's `reason` and `reason_said` columns for a reason: its text, and its key
    and arguments when the application wrote it (a Message)."""
    return {"reason": None if reason is None else str(reason),
            "reason_said": as_json(reason) if isinstance(reason, Message) else None}


def confirmed_doubts(doubts: list) -> dict[str, Any]:
    """The doubts a person confirmed, for an audit entry's `after`: their text as before
    (`confirmed_doubts`) and, beside it, each by its key (`confirmed_doubts_said`, None for
    text without one), so the history shows them in the reader's language."""
    return {"confirmed_doubts": [str(d) for d in doubts],
            "confirmed_doubts_said": [as_json(d) if isinstance(d, Message) else None for d in doubts]}


def doubts_shown(doubts: Any, said: Any, lang: str = "zh") -> Any:
    """`confirmed_doubts` as the reader reads them, from their keys where kept."""
    if not isinstance(doubts, list) or not isinstance(said, list) or len(said) != len(doubts):
        return doubts
    return clauses((reason_shown(str(text), key, lang) for text, key in zip(doubts, said)), lang)


def reason_shown(reason: str | None, said: Any, lang: str = "zh") -> str:
    """An audit entry's reason as the reader reads it: by its key in their language when the
    application wrote it; a person's words as typed."""
    if said:
        message = from_json(said, reason)
        if isinstance(message, Message):
            return message.shown(lang)
    return reason or ""


def person(session: Session, username: str | None) -> str:
    """A user as a message names them: the display name (姓名), else the user name."""
    if not username:
        return ""
    return session.scalar(select(User.display_name).where(User.username == username)) or username


def written_by(session: Session, entry: AuditEntry) -> tuple[str, dt.datetime]:
    """Who wrote an audit entry and when, as a message's `who` argument: the person's display
    name (else the user name) and the time (UTC), which the message writes in Beijing time,
    '王经理 于 2026-01-01 04:30（北京时间）' (portfolio/messages.py)."""
    return person(session, entry.username), entry.at


def digest(value: Any) -> str:
    """A form's version of what it shows (a record's snapshot, a fund's settings, a unit's
    overrides), in 16 hex digits: any change changes it. The form carries it; the use case
    compares it with the same digest of what is stored, under the row's lock, and refuses a
    form gone stale."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]

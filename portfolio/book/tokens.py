"""API tokens for the city's other systems: issued by an admin for one fund's reports (or
all), with an expiry; shown once and stored as its SHA-256 only; revocable; every issue
and revocation audited, every use counted on the token (last_used_at, uses).

Uses are kept on the token rather than in the audit log: the audit log's latest entry is
the book version that the report cache keys on, and a read must not invalidate it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import ApiToken, Fund, utcnow
from portfolio.book.audit import audit, snapshot
from portfolio.book.unit import claim, commit
from portfolio.commands import TokenCommand
from portfolio.errors import FieldErrors
from portfolio.messages import Message

PREFIX = "fbk_"
MAX_DAYS = 366
NAME_MAX_LEN = 100  # models.ApiToken.name (token_name_length says it)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _days(typed: int | str | None) -> int | None:
    """A token's life in days, as typed (a whole number, 1 to MAX_DAYS); None when it is not one."""
    try:
        days = int(str(typed).strip()) if typed is not None else None
    except ValueError:
        return None
    return days if days is not None and 1 <= days <= MAX_DAYS else None


def token_problems(session: Session, name: str | None, fund_code: str | None,
                   days: int | str | None) -> list[tuple[str, Message]]:
    """Why a token cannot be issued as asked, every reason at once; [] when it can. Nothing is
    written; a value None is one a form has refused already (web.forms.checked_too)."""
    errors = []
    if name is not None and not 1 <= len(name.strip()) <= NAME_MAX_LEN:
        errors.append(("name", Message("token_name_length")))
    fund_code = (fund_code or "").strip() or None
    if fund_code is not None and session.get(Fund, fund_code) is None:
        errors.append(("fund_code", Message("no_fund", code=fund_code)))
    if days is not None and _days(days) is None:
        errors.append(("days", Message("token_days", max_days=MAX_DAYS)))
    return errors


def check_token(session: Session, fields: TokenCommand) -> None:
    """The token screen's checks (issue_token's), nothing written."""
    errors = token_problems(session, fields.name, fields.fund_code, fields.days)
    if errors:
        raise FieldErrors(errors)


def issue_token(session: Session, name: str, fund_code: str | None, days: int | str, *,
                by: str) -> tuple[str, ApiToken]:
    """A new token: (the token itself, shown to the admin once; its record). `days` as typed
    (a whole number of days, 1 to MAX_DAYS)."""
    errors = token_problems(session, name or "", fund_code, days)
    if errors:
        raise FieldErrors(errors)
    name, fund_code, life = name.strip(), (fund_code or "").strip() or None, _days(days)
    assert life is not None  # token_problems refused it otherwise
    token = PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(name=name, token_hash=_digest(token), fund_code=fund_code, created_by=by,
                      created_at=utcnow(), expires_at=utcnow() + dt.timedelta(days=life), uses=0)
    session.add(record)
    session.flush()
    after = {k: v for k, v in snapshot(record).items() if k != "token_hash"}
    audit(session, by, "create", "api_tokens", str(record.id), after=after)
    commit(session)
    return token, record


def revoke_token(session: Session, token_id: int, *, by: str) -> ApiToken:
    record = session.get(ApiToken, token_id)
    if record is None:
        raise FieldErrors([("", Message("no_token"))])
    # only while in force: two admins revoking at once audit it once
    now = utcnow()
    if record.revoked_at is None and claim(session, record, ApiToken.revoked_at.is_(None), revoked_at=now):
        audit(session, by, "revoke", "api_tokens", str(record.id), after={"revoked_at": now.isoformat()})
        commit(session)
    return record


def tokens(session: Session) -> list[ApiToken]:
    return list(session.execute(select(ApiToken).order_by(ApiToken.id.desc())).scalars())


def verify_token(session: Session, token: str) -> ApiToken | None:
    """The token's record if it is in force (not revoked, not expired); its use counted.

    Checked and counted in one conditional UPDATE, read back from the database: a revocation
    committed before it (by any process) refuses this call, and one still being written is
    waited for (its row lock) and then refuses it too. A SELECT then an UPDATE had let a
    revocation land between the check and the use, and a session that had read the token
    before (its identity map) judge it by what it read then. Nothing is kept between calls,
    so there is no per-process state a revocation elsewhere would have to reach."""
    if not token or not token.startswith(PREFIX) or len(token) > 200:
        return None
    now = utcnow()
    in_force = (update(ApiToken)
                .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
                .values(last_used_at=now, uses=ApiToken.uses + 1).returning(ApiToken))
    record = session.execute(in_force, execution_options={"synchronize_session": False,
                                                          "populate_existing": True}).scalar_one_or_none()
    commit(session)
    return record


def allows(record: ApiToken, fund_code: str | None) -> bool:
    """A token for one fund reads that fund only; a token for all funds reads any."""
    return record.fund_code is None or record.fund_code == fund_code

"""Logging in, throttled in the database so that every worker and host shares the counts.

Per account: from the 3rd failure in a row (within WINDOW) each further try must wait
twice as long as the last (1 s, 2 s, 4 s, …); at LOCK_AFTER failures the account is locked
for WINDOW, the right password included, and the lock is audited. Per address: at
ADDRESS_LIMIT failures within WINDOW, every login from it waits out the window. A refused
try counts as a failure, so hammering keeps the lock on.

Unknown and deactivated users are checked against a dummy hash, so that the answer takes
as long as for a real user with a wrong password (no user enumeration by timing).
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models import LoginAttempt, User, utcnow
from portfolio.book.audit import audit
from portfolio.book.unit import commit, serialise, serialise_key
from portfolio.messages import Message

WINDOW = dt.timedelta(minutes=15)
DELAY_FROM = 3        # failures in a row before each try must wait
LOCK_AFTER = 10       # failures in a row that lock the account for WINDOW
ADDRESS_LIMIT = 50    # failures from one address within WINDOW
ADDRESS_LOCK = 0x6C6F67  # "log": the namespace of the advisory locks on an address's tries (PostgreSQL)


@functools.cache
def _dummy_hash() -> str:
    # made on the first login, not at import: every command (report, import) would pay for it
    return generate_password_hash("not-a-password: equal work for users that do not exist")


class LoginRefused(Exception):
    """The try is refused; the message says why and for how long, in Chinese."""


@dataclass(frozen=True)
class Throttle:
    failures: int           # the account's failures in a row within the window
    wait: dt.timedelta      # how long until the next try is allowed (0: now)


def _account_failures(session: Session, username: str, now: dt.datetime) -> list[dt.datetime]:
    """The account's failed tries since its last success, within the window, newest first."""
    last_ok = session.execute(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.username == username, LoginAttempt.ok.is_(True))).scalar()
    since = max(now - WINDOW, last_ok) if last_ok else now - WINDOW
    return list(session.execute(select(LoginAttempt.at).where(
        LoginAttempt.username == username, LoginAttempt.ok.is_(False), LoginAttempt.at > since)
        .order_by(LoginAttempt.at.desc())).scalars())


def throttle(session: Session, username: str, address: str, now: dt.datetime | None = None) -> Throttle:
    now = now or utcnow()
    failures = _account_failures(session, username, now)
    wait = dt.timedelta(0)
    if len(failures) >= LOCK_AFTER:
        wait = failures[0] + WINDOW - now  # each refused try counts: hammering keeps it locked
    elif len(failures) >= DELAY_FROM:
        wait = failures[0] + dt.timedelta(seconds=2 ** (len(failures) - DELAY_FROM)) - now
    from_address = session.execute(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.address == address, LoginAttempt.ok.is_(False), LoginAttempt.at > now - WINDOW)).scalar() or 0
    if from_address >= ADDRESS_LIMIT:
        wait = max(wait, WINDOW)
    return Throttle(len(failures), max(wait, dt.timedelta(0)))


def _wait_seconds(wait: dt.timedelta) -> int:
    return int(wait.total_seconds() + 0.999)


def authenticate(session: Session, username: str, password: str, address: str) -> User:
    """The active user with this name and password, or LoginRefused. Every try is recorded.

    Tries from one address and at one account go one at a time as far as their record: each
    takes the address's lock (unit.serialise_key) and the user's row (unit.serialise) before
    reading the throttle, and records itself as a failure before the password is checked
    (made a success after). Guesses sent at once (gunicorn's threads take them together) are
    so throttled as if sent one after another: without it, each read the same count and
    every one of them was checked against the password."""
    now = utcnow()
    username = (username or "").strip()[:64]
    address = (address or "unknown")[:64]
    # the tries from one address, then those at one account, one at a time (always in this
    # order: no two tries wait for each other's lock): a name that is no user's has no row
    serialise_key(session, ADDRESS_LOCK, address)
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is not None:
        serialise(session, user)
    state = throttle(session, username, address, now)
    attempt = LoginAttempt(at=now, username=username, address=address, ok=False)
    session.add(attempt)
    if state.wait > dt.timedelta(0):
        _audit_lock(session, state, username, address, now)  # a refused try that reaches the lock
        commit(session)
        if state.failures >= LOCK_AFTER:
            raise LoginRefused(Message("login_locked", wait_seconds=_wait_seconds(state.wait)))
        raise LoginRefused(Message("login_throttled", wait_seconds=_wait_seconds(state.wait)))
    commit(session)  # the try counted (and the user's row let go) before the slow hash
    real = user is not None and user.active
    ok = check_password_hash(user.password_hash if real and user else _dummy_hash(), password or "") and real
    if ok:
        attempt.ok = True
    else:
        _audit_lock(session, state, username, address, now)
    commit(session)
    if not ok or user is None:
        raise LoginRefused(Message("login_wrong"))
    return user


def _audit_lock(session: Session, state: Throttle, username: str, address: str, now: dt.datetime) -> None:
    """The failure that locks the account, audited (once: the tries at an account are serialised)."""
    if state.failures + 1 == LOCK_AFTER:
        audit(session, "system", "lock", "users", username,
              after={"failures": LOCK_AFTER, "address": address, "until": (now + WINDOW).isoformat(timespec="seconds")})

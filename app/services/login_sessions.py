"""Login sessions on the server: one per login on one device (see ``LoginSession``).

A login session lasts as long as the cookies that carry its token can: the session cookie
is renewed by every request, the remember cookie ("keep me logged in") is not.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from app import clock
from app.extensions import db
from app.models import LoginSession, User

TOKEN_BYTES = 32
# A session in use moves its end on at most this often, not on every request.
SEEN_INTERVAL = timedelta(minutes=5)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _duration(value: timedelta | int) -> timedelta:
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def start(user: User, *, remember: bool) -> LoginSession:
    """Open a login session for the user; its token is on the returned object only."""
    now = clock.now()
    lifetime = current_app.permanent_session_lifetime
    if remember:
        lifetime = max(lifetime, _duration(current_app.config["REMEMBER_COOKIE_DURATION"]))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    login_session = LoginSession(
        user=user,
        token_hash=hash_token(token),
        session_version=user.session_version,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )
    db.session.add(login_session)
    db.session.commit()
    login_session.token = token
    return login_session


def find(token: str) -> LoginSession | None:
    """The login session with this token while it works: not expired, its account and the
    account's organisation active, and the account's sessions not ended since it began."""
    login_session = db.session.scalar(
        sa.select(LoginSession)
        .where(LoginSession.token_hash == hash_token(token))
        .options(joinedload(LoginSession.user).joinedload(User.organisation))
    )
    if login_session is None or login_session.expires_at <= clock.now():
        return None
    user = login_session.user
    if (
        not user.active
        or not user.organisation.active
        or user.session_version != login_session.session_version
    ):
        return None
    login_session.token = token
    return login_session


def seen(login_session: LoginSession) -> None:
    """Note a request of this login session: it lasts a session lifetime from now."""
    now = clock.now()
    if now - login_session.last_seen_at < SEEN_INTERVAL:
        return
    expires_at = max(login_session.expires_at, now + current_app.permanent_session_lifetime)
    # A bulk UPDATE: a logout in another request may have deleted the row meanwhile.
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.id == login_session.id)
        .values(last_seen_at=now, expires_at=expires_at)
    )
    db.session.commit()


def end(login_session: LoginSession) -> None:
    """End this login session: every copy of its cookies stops working."""
    db.session.execute(sa.delete(LoginSession).where(LoginSession.id == login_session.id))
    db.session.commit()


def delete_expired(now: datetime) -> int:
    """Delete the login sessions that ended before ``now``; return how many."""
    return db.session.execute(
        sa.delete(LoginSession).where(LoginSession.expires_at <= now)
    ).rowcount

"""Staff accounts: every user belongs to exactly one organisation, and each login is a
login session on the server."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.base import TimestampMixin, UTCDateTime, enum_column, utcnow
from app.models.organisation import Organisation


class Role(enum.Enum):
    COORDINATOR = "coordinator"
    ORG_ADMIN = "org_admin"
    STAFF = "staff"
    VOLUNTEER = "volunteer"


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, name="role"))
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped when the password is reset, the role changes or the account is deactivated:
    # every login session from before stops working.
    session_version: Mapped[int] = mapped_column(default=1)

    organisation: Mapped[Organisation] = relationship(back_populates="users")

    # The login session this object was logged in with or loaded for (not a column).
    login_session = None

    def set_password(self, password: str) -> None:
        # Tests choose a cheap method; everywhere else werkzeug's default (scrypt).
        method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
        self.password_hash = generate_password_hash(
            password, **({"method": method} if method else {})
        )
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # Flask-Login: an inactive account can neither log in nor keep a session.
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        """Flask-Login's id names the login session, not the account: it is the session's
        token, kept in the session cookie and the remember cookie (see app.auth.session)."""
        return self.login_session.token

    def __eq__(self, other: object) -> bool:
        """The same account (UserMixin compares get_id, which names a login session)."""
        if not isinstance(other, User):
            return NotImplemented
        return self is other or (self.id is not None and self.id == other.id)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<User {self.email!r} {self.role.value}>"


class LoginSession(db.Model):
    """One login on one device. Logging out deletes it, which ends every copy of its cookies
    at once; the same user's other logins go on.

    Only the SHA-256 of the token is kept. The session works while it has not expired and
    the account's session_version is still the one it was made with.
    """

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    session_version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    user: Mapped[User] = relationship()

    # The token itself, known only to the request that made the session or brought its
    # cookie (not a column).
    token = None

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} of user {self.user_id}>"

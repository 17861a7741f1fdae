"""Staff accounts: every user belongs to exactly one organisation."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.base import TimestampMixin, UTCDateTime, enum_column
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
    # Bumped when the password is reset or the account deactivated: old sessions stop working.
    session_version: Mapped[int] = mapped_column(default=1)

    organisation: Mapped[Organisation] = relationship(back_populates="users")

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
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.email!r} {self.role.value}>"

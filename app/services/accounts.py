"""Staff accounts: authentication, creation, deactivation, password resets."""

import secrets

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models import Organisation, Role, User
from app.models.base import utcnow
from app.services import DomainError, feeds

# A hash to compare against when no account matches, so that timing does not reveal which
# email addresses have an account.
_DUMMY_HASH: str | None = None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None."""
    global _DUMMY_HASH
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or generate_password_hash(secrets.token_hex(8))
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active or not user.organisation.active:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def create_user(
    *, organisation: Organisation, name: str, email: str, role: Role, password: str
) -> User:
    """Create a staff account; the email address must not be in use yet."""
    email = normalise_email(email)
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise DomainError(_("There is already an account with this email address."), "email")
    user = User(organisation=organisation, name=name.strip(), email=email, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def set_active(user: User, active: bool) -> None:
    """Activate or deactivate an account; deactivation ends its sessions at once and revokes
    its calendar-feed links (reactivating does not bring them back)."""
    user.active = active
    if not active:
        user.session_version += 1
        feeds.revoke_all(user)
    db.session.commit()


def reset_password(user: User) -> str:
    """Give the account a new random password, end its sessions and return the password."""
    password = generate_password()
    user.set_password(password)
    db.session.commit()
    return password


def generate_password() -> str:
    """A password that is easy to read out at the desk: four groups of letters and digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def update_user(
    user: User, *, name: str, email: str, organisation: Organisation, role: Role
) -> None:
    """Change an account; a change of organisation or role ends its sessions."""
    email = normalise_email(email)
    clash = db.session.scalar(sa.select(User.id).where(User.email == email, User.id != user.id))
    if clash:
        raise DomainError(_("There is already an account with this email address."), "email")
    if user.organisation_id != organisation.id or user.role is not role:
        user.session_version += 1
    user.name = name.strip()
    user.email = email
    user.organisation = organisation
    user.role = role
    db.session.commit()

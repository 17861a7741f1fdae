"""Loading the logged-in user for Flask-Login."""

from app.extensions import db
from app.models import User


def load_user(user_id: str) -> User | None:
    """Return the active user for a session id ``"<id>:<session_version>"``."""
    try:
        raw_id, version = user_id.split(":", 1)
        user = db.session.get(User, int(raw_id))
    except ValueError:
        return None
    if (
        user is None
        or not user.active
        or not user.organisation.active
        or str(user.session_version) != version
    ):
        return None
    return user

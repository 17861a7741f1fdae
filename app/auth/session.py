"""Logging in and out with login sessions on the server, for Flask-Login.

Flask-Login's id is the token of a login session (``User.get_id``); the session cookie and
the remember cookie carry it. Logging out deletes the login session, so every copy of
those cookies stops working at once.
"""

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from app.extensions import login_manager
from app.models import User
from app.services import login_sessions


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    # Translated when flashed (a lazy text cannot be stored in the session as it is).
    login_manager.login_message = _l("Please log in to access this page.")
    login_manager.localize_callback = str
    app.before_request(_see_login_session)


def load_user(token: str) -> User | None:
    """Return the user of the working login session with this token."""
    login_session = login_sessions.find(token)
    if login_session is None:
        return None
    user = login_session.user
    user.login_session = login_session
    return user


def _see_login_session() -> None:
    """Load the user before any view, and note the login session's use.

    Noting it commits, so it happens here, before a view has changes of its own.
    """
    if request.endpoint != "static" and current_user.is_authenticated:
        login_sessions.seen(current_user.login_session)


def log_in(user: User, *, remember: bool) -> None:
    """Log the user in with a new login session of their own."""
    user.login_session = login_sessions.start(user, remember=remember)
    login_user(user, remember=remember)


def log_out() -> None:
    """End the current login session on the server and clear its cookies here."""
    if current_user.is_authenticated:
        login_sessions.end(current_user.login_session)
    logout_user()

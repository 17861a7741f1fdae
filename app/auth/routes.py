"""Staff login and logout."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth.forms import LoginForm
from app.auth.session import log_in, log_out
from app.models import User
from app.services import accounts
from app.web import limits
from app.web.htmx import redirect_to, render

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str:
    """Only follow ``next`` to a path on this site."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("portal.dashboard")


@limits.login_attempt
def _check_credentials(email: str, password: str) -> User | None:
    """Check a login; wrong ones count per account and per client address."""
    return accounts.authenticate(email, password)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log a staff member in."""
    if current_user.is_authenticated:
        return redirect_to(url_for("portal.dashboard"))
    form = LoginForm()
    status = 200
    refusal = None
    if form.validate_on_submit():
        try:
            user = _check_credentials(form.email.data, form.password.data)
        except limits.TooManyAttempts as error:
            refusal, status = error, 429
        else:
            if user is not None:
                session.permanent = True
                log_in(user, remember=form.remember.data)
                return redirect_to(_safe_next(request.args.get("next")))
            form.password.errors.append(_("Email address or password is not correct."))
            status = 422
    elif form.is_submitted():
        status = 422
    response = render("auth/login.html", form=form, refusal=refusal, status=status)
    return limits.with_retry_after(response, refusal)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log the current user out."""
    log_out()
    flash(_("You are logged out."), "info")
    return redirect_to(url_for("auth.login"))

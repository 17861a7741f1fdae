"""Security headers on every response: pages, fragments, errors, static files, feeds, redirects.

One ``after_request`` decides them all. Views that show one resident's data are marked
``@personal``; every answer to a logged-in user is treated the same way. A view changes a
header for itself only by setting it on its own response (an embeddable page its own
``content_security_policy``, a feed its own caching): the rules here never overwrite what a
view set, except that an address with a secret in it never sends a Referer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, g, request, session

View = TypeVar("View", bound=Callable)

# Scripts and styles come only from our own static files: no inline script, style or event
# handler and no eval (htmx is configured with allowEval false in templates/base.html).
POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# Browser features no page of ours uses, switched off for every page and anything it embeds.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)

# Addresses that carry a secret in their path: a resident's booking or course sign-up link and
# a staff member's calendar feed. Their pages (and anything under them) send no Referer at all.
SECRET_PATHS = ("/afspraak/link/", "/cursussen/aanmelding/link/", "/feeds/")


def content_security_policy(**directives: str) -> str:
    """The policy as a header value; keyword arguments replace directives (frame_ancestors=…)."""
    policy = POLICY | {name.replace("_", "-"): value for name, value in directives.items()}
    return "; ".join(f"{name} {value}" for name, value in policy.items())


CONTENT_SECURITY_POLICY = content_security_policy()


def personal(view: View) -> View:
    """Mark a view that shows one resident's data: no browser or proxy may store its answers."""
    view.shows_personal_data = True
    return view


def _shows_personal_data() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "shows_personal_data", False) or _staff_logged_in()


def _staff_logged_in() -> bool:
    """Whether a staff member is logged in, without loading the user for this question."""
    user = g.get("_login_user")  # Flask-Login keeps the user here once something asked
    if user is not None:
        return user.is_authenticated
    # Whether the session names a user is enough here: loading it would cost a query.
    return "_user_id" in session


def _secret_url() -> bool:
    return request.path.startswith(SECRET_PATHS)


def init_app(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        if "Content-Security-Policy" not in headers:
            headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            headers["X-Frame-Options"] = "DENY"  # for browsers without frame-ancestors
        headers.setdefault("X-Content-Type-Options", "nosniff")
        if _secret_url():
            headers["Referrer-Policy"] = "no-referrer"
        else:
            headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if "Cache-Control" not in headers and _shows_personal_data():
            headers["Cache-Control"] = "no-store"
        return response

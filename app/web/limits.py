"""Rate limits on the forms where guessing pays or a script could do harm: the staff login,
finding an appointment by its code, and booking; and on the JSON API (``app.api.routes``),
where every request counts per client address.

Flask-Limiter keeps the counts (in the database, see ``app.services.rate_limits``, or in
Redis). Each limit is a setting (``RATELIMIT_LOGIN_ACCOUNT`` and so on, see
``app.config``). A view calls a guarded attempt; over a limit, the attempt is not made and
``TooManyAttempts`` says when to try again. The view then shows its form again, with what
was typed, status 429, that message and a ``Retry-After`` header.

Where only some outcomes count (failures, appointments made), Flask-Limiter tests the limit
before the attempt and counts after it (``deduct_when``): attempts served at the same moment
can pass a limit by at most the number of requests in progress.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from flask import Response, current_app, request
from flask_babel import ngettext
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import TooManyRequests

from app import clock
from app.extensions import limiter
from app.services.accounts import normalise_email
from app.services.booking import normalise_code
from app.web.htmx import is_redirect

P = ParamSpec("P")
R = TypeVar("R")


class TooManyAttempts(TooManyRequests):
    """An attempt refused because a limit is reached: what to tell and how long to wait."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(description=message)
        self.message = message
        self.retry_after = retry_after


def with_retry_after(response: Response, refusal: TooManyAttempts | None) -> Response:
    """After a refusal, tell clients in seconds when they may try again."""
    if refusal is not None:
        response.headers["Retry-After"] = str(refusal.retry_after)
    return response


@limiter.request_filter
def _not_a_post() -> bool:
    """Only posted forms and the JSON API are limited: pages, feeds and calendar polls skip
    the limiter."""
    return request.method != "POST" and not request.path.startswith("/api/")


# Keys ---------------------------------------------------------------------------------------


def _pseudonym(value: str) -> str:
    """A keyed hash of what was typed: the counters hold no addresses, e-mail addresses or
    codes, and their keys have a fixed length whatever was posted."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else secret.encode()
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:32]


def client_address() -> str:
    """The client's address (the real one behind the proxy, see ProxyFix)."""
    return _pseudonym(request.remote_addr or "")


def posted_account() -> str:
    """The account a login is for: the e-mail address posted, as accounts compare it."""
    return _pseudonym(normalise_email(request.form.get("email", "")))


def posted_code() -> str:
    """The appointment a look-up is for: the code posted, as bookings compare it."""
    return _pseudonym(normalise_code(request.form.get("code", "")))


# When a count is made -----------------------------------------------------------------------


def failed(response: Response) -> bool:
    """A login or look-up that did not succeed: its form came back with an error (422)."""
    return response.status_code == 422


def made(response: Response) -> bool:
    """A booking that was made: the resident is sent on to the appointment."""
    return is_redirect(response)


# Guards -------------------------------------------------------------------------------------


def _limit(setting: str, key: Callable[[], str], scope: str, counts: Callable[[Response], bool]):
    return limiter.limit(
        lambda: current_app.config[setting], key_func=key, scope=scope, deduct_when=counts
    )


def _guard(
    message: Callable[[int, str], str], *limits
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate an attempt with limits; over one, raise ``TooManyAttempts`` with ``message``
    (given the minutes to wait and the time to try again) instead of making the attempt."""

    def decorate(attempt: Callable[P, R]) -> Callable[P, R]:
        limited = attempt
        for limit in limits:
            limited = limit(limited)

        @wraps(attempt)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return limited(*args, **kwargs)
            except RateLimitExceeded:
                raise refusal(message) from None

        return guarded

    return decorate


def refusal(message: Callable[[int, str], str] | None = None) -> TooManyAttempts:
    """The refusal for the limits this request reached: the longest wait of them."""
    message = message or _general_message
    now = clock.now()
    ends = [limit.window.reset_time for limit in limiter.current_limits if limit.breached]
    until = datetime.fromtimestamp(max(ends), UTC) if ends else now + timedelta(minutes=1)
    seconds = max(1, math.ceil((until - now).total_seconds()))
    # Say the first whole minute at which the wait is over.
    shown = until.replace(second=0, microsecond=0)
    if shown < until:
        shown += timedelta(minutes=1)
    minutes = max(1, math.ceil(seconds / 60))
    at = shown.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%H:%M")
    return TooManyAttempts(message(minutes, at), seconds)


def _general_message(minutes: int, at: str) -> str:
    return ngettext(
        "There were too many attempts. Try again in %(num)s minute, at %(time)s.",
        "There were too many attempts. Try again in %(num)s minutes, at %(time)s.",
        minutes,
        time=at,
    )


def _login_message(minutes: int, at: str) -> str:
    return ngettext(
        "There were too many attempts to log in with a wrong password. To protect the "
        "accounts, you cannot log in for a while. Try again in %(num)s minute, at %(time)s.",
        "There were too many attempts to log in with a wrong password. To protect the "
        "accounts, you cannot log in for a while. Try again in %(num)s minutes, at %(time)s.",
        minutes,
        time=at,
    )


def _lookup_message(minutes: int, at: str) -> str:
    return ngettext(
        "Finding an appointment went wrong too many times. To protect the appointments, you "
        "cannot search for a while. Try again in %(num)s minute, at %(time)s. Or ask at the "
        "library desk: we help you.",
        "Finding an appointment went wrong too many times. To protect the appointments, you "
        "cannot search for a while. Try again in %(num)s minutes, at %(time)s. Or ask at the "
        "library desk: we help you.",
        minutes,
        time=at,
    )


def _booking_message(minutes: int, at: str) -> str:
    return ngettext(
        "Many appointments were made through this internet connection in a short time. So "
        "that there are free times for everyone, you cannot make an appointment for a while. "
        "Try again in %(num)s minute, at %(time)s. Or ask at the library desk: we make the "
        "appointment for you.",
        "Many appointments were made through this internet connection in a short time. So "
        "that there are free times for everyone, you cannot make an appointment for a while. "
        "Try again in %(num)s minutes, at %(time)s. Or ask at the library desk: we make the "
        "appointment for you.",
        minutes,
        time=at,
    )


login_attempt = _guard(
    _login_message,
    _limit("RATELIMIT_LOGIN_ACCOUNT", posted_account, "account", failed),
    _limit("RATELIMIT_LOGIN_ADDRESS", client_address, "address", failed),
)
lookup_attempt = _guard(
    _lookup_message,
    _limit("RATELIMIT_LOOKUP_CODE", posted_code, "code", failed),
    _limit("RATELIMIT_LOOKUP_ADDRESS", client_address, "address", failed),
)
booking_attempt = _guard(
    _booking_message,
    _limit("RATELIMIT_BOOKING_ADDRESS", client_address, "address", made),
)

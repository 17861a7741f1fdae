"""Error pages: a full page normally, a small fragment for htmx fragment requests."""

from flask import Flask, Response
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    SecurityError,
    TooManyRequests,
)

from app.api import problems
from app.extensions import db
from app.web import limits
from app.web.htmx import render


def _titles() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Something went wrong"), _("We could not understand this request.")),
        403: (_("No access"), _("You do not have permission to do this.")),
        404: (_("Page not found"), _("This page does not exist (any more).")),
        405: (_("Something went wrong"), _("This action is not possible here.")),
        500: (
            _("Something went wrong"),
            _("Something went wrong on our side. Please try again later."),
        ),
    }


def _error_page(code: int, title: str | None = None, message: str | None = None):
    default_title, default_message = _titles().get(code, _titles()[400])
    return render(
        "errors/error.html",
        block="content",
        status=code,
        code=code,
        title=title or default_title,
        message=message or default_message,
    )


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError):
        return _error_page(
            400,
            _("Please try again"),
            _("This form was open too long or was sent twice. Go back, reload and try again."),
        )

    @app.errorhandler(SecurityError)
    def untrusted_host(_error: SecurityError):
        # A Host outside TRUSTED_HOSTS: no page can be built for it, not even its links.
        return Response(
            _("This website cannot be reached at this address.") + "\n",
            status=400,
            mimetype="text/plain",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code and error.code < 400:
            return error
        if problems.is_api_request():
            return problems.from_exception(error)
        return _error_page(error.code or 500)

    @app.errorhandler(TooManyRequests)
    def too_many_requests(error: TooManyRequests):
        # A view that can show its form again does so itself; this page is for the rest.
        refusal = error if isinstance(error, limits.TooManyAttempts) else limits.refusal()
        if problems.is_api_request():
            return limits.with_retry_after(problems.problem(429), refusal)
        return limits.with_retry_after(
            _error_page(429, _("Please wait a while"), refusal.message), refusal
        )

    @app.errorhandler(InternalServerError)
    def server_error(_error: InternalServerError):
        db.session.rollback()
        if problems.is_api_request():
            return problems.problem(500)
        return _error_page(500)

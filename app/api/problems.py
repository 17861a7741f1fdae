"""Errors under ``/api/`` as problem details (RFC 9457, ``application/problem+json``).

The site's own error pages stay HTML: ``app.web.errors`` asks ``is_api_request`` first.
"""

from __future__ import annotations

import json

from flask import Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

PREFIX = "/api/"
MEDIA_TYPE = "application/problem+json"

DETAILS = {
    400: "The request has a parameter that is missing, unknown or out of range.",
    404: "There is no such resource, or it is not public.",
    405: "This API only reads: use GET, HEAD or OPTIONS.",
    429: "Too many requests from this address. Try again after Retry-After seconds.",
    500: "Something went wrong on our side. Please try again later.",
}


def is_api_request() -> bool:
    return request.path.startswith(PREFIX)


def problem(status: int, detail: str | None = None, **members) -> Response:
    """A problem details answer; ``type`` is about:blank, so ``title`` is the status's."""
    body = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail or DETAILS.get(status, DETAILS[400]),
        **members,
    }
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def from_exception(error: HTTPException) -> Response:
    """The problem details for an HTTP error raised while serving the API."""
    status = error.code or 500
    response = problem(status)
    allowed = getattr(error, "valid_methods", None)
    if status == 405 and allowed:
        response.headers["Allow"] = ", ".join(allowed)
    return response

"""HTTP answers of calendar feeds: the language a public feed asks for, conditional GET
(ETag and Last-Modified, 304 with no body), the cache headers of secret and public feeds."""

from __future__ import annotations

from flask import Response, request
from flask_babel import gettext as _
from werkzeug.http import http_date

from app.i18n import interface_language
from app.services import feeds


def feed_language() -> str:
    """A public feed is Dutch unless its address asks for another language (?taal=en)."""
    language = request.args.get("taal", "")
    return interface_language(language)


def is_fresh(freshness: feeds.Freshness) -> bool:
    """Whether the client's copy is current (If-None-Match wins over If-Modified-Since)."""
    environ = request.environ
    if "HTTP_IF_NONE_MATCH" in environ:
        # Clients send back the tag they were given: compare as sent before parsing.
        return environ["HTTP_IF_NONE_MATCH"] == freshness.header or (
            request.if_none_match.contains_weak(freshness.etag)
        )
    if request.if_modified_since:
        return freshness.last_modified <= request.if_modified_since
    return False


# Calendar data of a secret address: no shared cache may keep it, nor a search engine.
PRIVATE = [("Cache-Control", "private, no-cache"), ("X-Robots-Tag", "noindex")]
PUBLIC = [("Cache-Control", "public, max-age=300")]
CALENDAR = "text/calendar; charset=utf-8"


def _validators(freshness: feeds.Freshness, *, private: bool) -> list[tuple[str, str]]:
    return [
        ("ETag", freshness.header),
        ("Last-Modified", http_date(freshness.last_modified)),
        *(PRIVATE if private else PUBLIC),
    ]


def without_body(freshness: feeds.Freshness, *, private: bool) -> Response | None:
    """The answer that needs no calendar: 304 to a GET or HEAD for a current copy, the
    headers of the 200 to another HEAD. None when the calendar must be built."""
    fresh = is_fresh(freshness)
    if not fresh and request.method != "HEAD":
        return None
    headers = _validators(freshness, private=private)
    if fresh:
        return Response(status=304, headers=headers)
    response = Response(status=200, headers=headers, content_type=CALENDAR)
    response.automatically_set_content_length = False  # unknown without building
    return response


def calendar_response(body: bytes, freshness: feeds.Freshness, *, private: bool) -> Response:
    return Response(body, headers=_validators(freshness, private=private), content_type=CALENDAR)


def not_found() -> Response:
    """One answer for an unknown, revoked or malformed token and a missing place or topic."""
    response = Response(_("Not found") + "\n", status=404, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response

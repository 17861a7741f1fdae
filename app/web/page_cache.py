"""A short-lived cache of the public pages anyone may see: the start page, the lists of help
sessions (and their embedded variants), the index of towns and a series' page.

Many residents open the same few pages (the start page, their town's list) within seconds;
each answer is the same for all of them but costs a few database queries and a template.
Each worker keeps the page it rendered for ``PUBLIC_PAGE_CACHE_SECONDS`` (0 switches the
cache off) and answers the same request from it meanwhile. What that means for residents:

* A page may be up to that many seconds old. Nothing is decided on it: a time shown as free
  that was just taken is refused by the database when booked (with the alternatives), and
  every change made through this worker empties its cache at once.
* Only what is the same for everyone is kept: a GET of one of these pages, by a visitor who
  is not logged in and has nothing waiting (no message, no appointment just made: the
  session holds nothing but its CSRF token), answered 200 without cookies of its own or
  ``no-store``. The key is the address
  with its query string, the language and the htmx headers (a fragment is not a page).
* The page's CSRF token is the one thing that differs per visitor: it is kept as a
  placeholder and each answer gets the visitor's own (Flask-WTF's ``generate_csrf``).
* The answer keeps its own headers (such as an embedded list's ``frame-ancestors``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request, session
from flask_wtf.csrf import generate_csrf

from app.i18n import current_language

# Endpoints whose answer is the same for every anonymous visitor (embedded variants too).
CACHED_ENDPOINTS = frozenset(
    {
        "public.home",
        "public.place_index",
        "public.hours",
        "public.hours_in_place",
        "public.hours_on_topic",
        "public.hours_of_organisation",
        "public.series",
    }
)
MOST_PAGES = 256
LARGEST_PAGE = 512 * 1024
_TOKEN = b"\x00csrf-token\x00"
# What a session of a visitor who is not logged in and has nothing waiting holds: the CSRF
# token, and Flask-Login's marks that nobody logged in (a returning visitor's session).
_ANONYMOUS_SESSION = frozenset({"csrf_token", "_fresh", "_id"})
_HTMX_HEADERS = ("HX-Request", "HX-Target", "HX-Boosted", "HX-History-Restore-Request")
_KEPT_HEADERS = (
    "Content-Type",
    "Content-Security-Policy",
    "X-Frame-Options",
    "Cache-Control",
    "Content-Language",
)


@dataclass(frozen=True)
class _Page:
    stored_at: float
    body: bytes
    headers: tuple[tuple[str, str], ...]


class PageCache:
    """The pages of one worker, the least recently used dropped first."""

    def __init__(self, size: int = MOST_PAGES):
        self.size = size
        self._pages: OrderedDict[tuple, _Page] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, seconds: float) -> _Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                return None
            if time.monotonic() - page.stored_at > seconds:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: _Page) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        return len(self._pages)


def _seconds() -> float:
    return float(current_app.config.get("PUBLIC_PAGE_CACHE_SECONDS") or 0)


def _key() -> tuple | None:
    """The request's key, or None when its answer may differ per visitor."""
    if (
        request.method != "GET"
        or (request.endpoint or "").removesuffix("_embedded") not in CACHED_ENDPOINTS
        or set(session.keys()) - _ANONYMOUS_SESSION
        or current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies
    ):
        return None
    return (
        request.full_path,
        current_language(),
        *(request.headers.get(name, "") for name in _HTMX_HEADERS),
    )


def init_app(app: Flask) -> None:
    """Register before the security headers: the stored headers are those of the view."""
    app.config.setdefault("REMEMBER_COOKIE_NAME", "remember_token")
    pages = PageCache()
    app.extensions["page_cache"] = pages

    @app.before_request
    def answer_from_cache():
        seconds = _seconds()
        if not seconds:
            return None
        key = _key()
        if key is None:
            return None
        page = pages.get(key, seconds)
        if page is None:
            g.page_cache_key = key
            return None
        g.page_cache_hit = True
        body = page.body.replace(_TOKEN, generate_csrf().encode())
        return Response(body, status=200, headers=list(page.headers))

    @app.after_request
    def keep_or_forget(response: Response) -> Response:
        if request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400:
            pages.clear()  # a change made here: the next page shows it
            return response
        key = g.pop("page_cache_key", None)
        if (
            key is None
            or g.get("page_cache_hit")
            or response.status_code != 200
            or response.direct_passthrough
            or "Set-Cookie" in response.headers
            or "no-store" in response.headers.get("Cache-Control", "")
            or set(session.keys()) - _ANONYMOUS_SESSION
            or session.get("_fresh")
        ):
            return response
        body = response.get_data()
        if len(body) > LARGEST_PAGE:
            return response
        token = g.get("csrf_token")
        if token:
            body = body.replace(token.encode(), _TOKEN)
        headers = tuple(
            (name, response.headers[name]) for name in _KEPT_HEADERS if name in response.headers
        )
        pages.put(key, _Page(time.monotonic(), body, headers))
        return response

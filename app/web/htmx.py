"""The one place that knows about htmx request and response headers.

Views call ``render`` and ``redirect_to``; they never read or write ``HX-*`` headers.
"""

from flask import Flask, Response, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page (not boosted, not a history restore)."""
    hx = getattr(request, "htmx", None)
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def render(template: str, block: str | None = None, status: int = 200, **context) -> Response:
    """Render the whole page, or only ``block`` of it when htmx asks for a fragment; for the
    embeddable variant of a list, its list in the embed layout (see ``app.web.embed``)."""
    from app.web import embed

    if embed.active():
        body = embed.page(template, **context)
    elif block and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return make_response(body, status)


def redirect_to(location: str) -> Response:
    """Post/Redirect/Get: a 303, or an ``HX-Redirect`` for an htmx fragment request."""
    if wants_fragment():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, code=303)


def is_redirect(response: Response) -> bool:
    """Whether a response is the redirect of ``redirect_to`` (a 303 or an ``HX-Redirect``)."""
    return response.status_code == 303 or "HX-Redirect" in response.headers


def init_app(app: Flask) -> None:
    app.add_template_global(wants_fragment)

    @app.after_request
    def vary_on_htmx(response: Response) -> Response:
        # The same URL answers a page or a fragment: caches must keep them apart.
        response.vary.add("HX-Request")
        return response

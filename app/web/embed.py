"""Embeddable lists: a public list also served without the site's header and footer, under
``/ingebed/…``, for an ``<iframe>`` on the municipality's or a partner's website.

A view opts in with one line, in place of its ``@bp.route``::

    @embeddable(bp, "/spreekuren/plaats/<slug>", block="results")

This registers the page at its rule and the embeddable variant at ``/ingebed`` + the rule
(with the blueprint's prefix), endpoint ``<blueprint>.<view>_embedded``. The view stays the
same: it calls ``render(template, …)`` as always, and for the embedded variant ``render``
shows only ``block`` of that template (and its title) in ``templates/embed/page.html``.
Every link and form in the embedded list opens the full site in a new tab. The embedded
variant may be framed only by the origins the coordinator lists (``frame-ancestors``);
every other page keeps refusing frames. Lists whose rule has no parameters are offered on
the coordinator's embed page by their ``label``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import Blueprint, g, make_response, render_template, request, url_for
from flask_babel import gettext as _
from jinja2_fragments.flask import render_block
from markupsafe import Markup

from app.services import embeds
from app.web.security import content_security_policy

PREFIX = "/ingebed"


@dataclass(frozen=True)
class EmbeddableList:
    endpoint: str  # the full page's endpoint; the embedded one adds "_embedded"
    label: Callable[[], str] | None  # for the coordinator's page (lists without parameters)


# Every embeddable list, in the order the blueprints registered them.
LISTS: dict[str, EmbeddableList] = {}


def embeddable(
    bp: Blueprint, rule: str, *, block: str, label: Callable[[], str] | None = None, **options
):
    """Register a public list at ``rule`` and its embeddable variant under ``/ingebed``."""

    def decorate(view):
        name = options.pop("endpoint", view.__name__)
        bp.add_url_rule(rule, endpoint=name, view_func=view, **options)

        @wraps(view)
        def embedded(**kwargs):
            g.embed_block = block
            try:
                response = make_response(view(**kwargs))
            finally:
                g.pop("embed_block")  # an error page is the site's own, which refuses frames
            if response.status_code < 300:
                response.headers["Content-Security-Policy"] = content_security_policy(
                    frame_ancestors=embeds.frame_ancestors()
                )
            return response

        def register(state):
            prefix = (state.url_prefix or "").rstrip("/")
            state.app.add_url_rule(
                PREFIX + prefix + rule,
                endpoint=f"{bp.name}.{name}_embedded",
                view_func=embedded,
                **options,
            )

        bp.record(register)
        LISTS[f"{bp.name}.{name}"] = EmbeddableList(f"{bp.name}.{name}", label)
        return view

    return decorate


def active() -> bool:
    """Whether this request asks for the embedded variant of a list."""
    return g.get("embed_block") is not None


def list_url(endpoint: str, **values) -> str:
    """The address of a list in the same variant as this request (embedded or not)."""
    return url_for(f"{endpoint}_embedded" if active() else endpoint, **values)


def embed_url(endpoint: str, **values) -> str:
    """The embeddable variant's full address (on PUBLIC_URL), for the code to copy."""
    from app.services.notify import external_url

    return external_url(f"{endpoint}_embedded", **values)


_LINK = re.compile(r"<(a|form)\b")


def _open_in_new_tab(html: str) -> Markup:
    """Links and forms of the list open the full site in a new tab, and say so.

    The list is our own template's output, in which text is escaped: a ``<a`` or ``<form``
    in it is always one of our tags.
    """
    note = Markup('<span class="visually-hidden"> {}</span></a>').format(_("(opens in a new tab)"))
    html = _LINK.sub(r'<\1 target="_blank" rel="noopener"', html)
    return Markup(html.replace("</a>", note))


def page(template: str, **context) -> str:
    """The embedded variant of a list: only its block and title, in the embed layout."""
    title = render_block(template, "title", **context).strip()
    content = render_block(template, g.embed_block, **context)
    full_page = request.full_path.removeprefix(PREFIX).rstrip("?")
    return render_template(
        "embed/page.html",
        title=Markup(title),
        content=_open_in_new_tab(content),
        full_page=full_page,
    )

"""Embeddable lists: the websites allowed to frame them, and readable names for places.

A list is embedded in an ``<iframe>`` on the municipality's or a partner's website. The
browser shows it only when that website's origin is on the coordinator's list: the embed
pages name those origins in their ``frame-ancestors`` policy, every other page refuses frames.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import gettext as _

from app.extensions import db
from app.models import EmbedOrigin, Location, Organisation
from app.services import DomainError

# Plain http is only for trying an embed out on one's own computer.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
_HOST = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")


def slugify(text: str) -> str:
    """A readable URL part: lower case, no accents, words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def place_by_slug(slug: str) -> str | None:
    """The town or city of an active location whose readable name is ``slug``.

    Most names are their slug with spaces or hyphens for its hyphens: those are found by a
    look-up; a name with other signs ('s-Hertogenbosch) among the towns that contain its
    last word; only then (accents in that word) among all towns."""
    cities = sa.select(Location.city).where(Location.active).distinct().order_by(Location.city)
    words = slug.split("-")
    plain = [" ".join(words), "-".join(words)]
    for narrowed in (
        cities.where(sa.func.lower(Location.city).in_(plain)),
        cities.where(sa.func.lower(Location.city).like(f"%{words[-1][:20]}%")),
        cities,
    ):
        found = next((c for c in db.session.scalars(narrowed) if slugify(c) == slug), None)
        if found is not None:
            return found
    return None


def organisation_slug(organisation: Organisation) -> str:
    """An organisation's part of a readable address: its number, then its name. The number
    keeps the address (and every embed code) valid when the name changes."""
    return f"{organisation.id}-{slugify(organisation.name)}".rstrip("-")


def normalise_origin(text: str) -> str:
    """The origin as browsers send it (``https://host[:port]``), or a DomainError that says
    what is wrong with what was typed."""
    value = text.strip().rstrip("/")
    invalid = DomainError(
        _(
            "Give the address of a website as https://www.example.nl (a port number may "
            "follow, as in https://www.example.nl:8443), without a path."
        ),
        "origin",
    )
    if not value or len(value) > 255 or any(c.isspace() or c in ";,'\"*" for c in value):
        raise invalid
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise invalid from None
    if parts.path or parts.query or parts.fragment or "@" in parts.netloc or not parts.hostname:
        raise invalid
    host = parts.hostname
    if ":" in host:  # an IPv6 address: only the loopback one, for testing
        host = f"[{host}]"
    else:
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise invalid from None
        if not _HOST.match(host):
            raise invalid
    local = host in LOCAL_HOSTS
    if parts.scheme == "https":
        if host.startswith("["):
            raise invalid
    elif not (parts.scheme == "http" and local):
        raise DomainError(
            _(
                "The address must start with https://. Only a test address on this computer "
                "(http://localhost) may use http://."
            ),
            "origin",
        )
    default_port = 443 if parts.scheme == "https" else 80
    suffix = f":{port}" if port is not None and port != default_port else ""
    return f"{parts.scheme}://{host}{suffix}"


def allowed_origins() -> list[EmbedOrigin]:
    return list(db.session.scalars(sa.select(EmbedOrigin).order_by(EmbedOrigin.origin)))


def frame_ancestors() -> str:
    """The ``frame-ancestors`` sources for embed pages: the listed origins, or none."""
    origins = db.session.scalars(sa.select(EmbedOrigin.origin).order_by(EmbedOrigin.origin))
    return " ".join(origins) or "'none'"


def add_origin(text: str, label: str = "") -> EmbedOrigin:
    """Allow one more website to frame the lists, and commit; adding it twice is refused."""
    origin = normalise_origin(text)
    if db.session.scalar(sa.select(EmbedOrigin.id).where(EmbedOrigin.origin == origin)):
        raise DomainError(_("%(origin)s is already on the list.", origin=origin), "origin")
    item = EmbedOrigin(origin=origin, label=label.strip()[:120])
    try:
        with db.session.begin_nested():
            db.session.add(item)
            db.session.flush()
    except sa.exc.IntegrityError:  # added by someone else at the same moment
        raise DomainError(
            _("%(origin)s is already on the list.", origin=origin), "origin"
        ) from None
    db.session.commit()
    return item


def remove_origin(item: EmbedOrigin) -> None:
    """Take a website off the list, and commit."""
    db.session.delete(item)
    db.session.commit()

"""Calendar feeds (.ics) for calendar clients, and the portal pages for feed links."""

from __future__ import annotations

from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.feeds.forms import BOOKINGS, KIND, KIND_HINT, KIND_SLUGS, feed_form
from app.i18n import current_language
from app.models import (
    ConsultationHours,
    FeedBookings,
    FeedLink,
    Location,
    Organisation,
)
from app.permissions import Action, authorize, can, followable_series, visible_feed_links
from app.services import DomainError, feeds, finder
from app.services.notify import external_url
from app.web.calendars import calendar_response, feed_language, not_found, without_body
from app.web.htmx import redirect_to, render

bp = Blueprint("feeds", __name__)

NEW_TOKEN = "feed_token"  # session key: the token of a link just made, shown once
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@bp.context_processor
def feed_helpers() -> dict:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return {"title_of": feeds.title_of, "local": lambda moment: moment.astimezone(zone)}


# Feeds, as calendar clients read them -----------------------------------------------------


@bp.route("/feeds/<token>.ics")
def token_feed(token: str):
    """A staff member's feed, read with its secret link (GET, HEAD, conditional GET)."""
    window = feeds.Window.current()
    with feeds.cursor() as cursor:
        found = feeds.poll(cursor, token, window)
    if found is None:
        return not_found()
    feeds.record_use(found)
    answer = without_body(found.freshness, private=True)
    if answer is not None:
        return answer
    link = db.session.get(FeedLink, found.feed.link_id)
    body = feeds.build(
        found.feed,
        name=feeds.link_calendar_name(link),
        window=window,
        user=link.user,
        last_modified=found.freshness.last_modified,
    )
    return calendar_response(body, found.freshness, private=True)


@bp.route("/agenda/plaats/<place>.ics")
def place_feed(place: str):
    """Published hours in a town or city, for residents to subscribe to (no personal data)."""
    return _public_feed(feeds.place_feed(place, feed_language()))


@bp.route("/agenda/onderwerp/<slug>.ics")
def topic_feed(slug: str):
    """Published hours on one topic, for residents to subscribe to (no personal data)."""
    return _public_feed(feeds.topic_feed(slug, feed_language()))


def _public_feed(feed: feeds.Feed):
    window = feeds.Window.current()
    with feeds.cursor() as cursor:
        freshness = feeds.public_freshness(cursor, feed, window)
    if freshness is None:
        return not_found()
    answer = without_body(freshness, private=False)
    if answer is not None:
        return answer
    body = feeds.build(
        feed,
        name=feeds.public_calendar_name(feed, freshness.names),
        window=window,
        last_modified=freshness.last_modified,
    )
    return calendar_response(body, freshness, private=False)


def feed_urls(endpoint: str, **values) -> tuple[str, str]:
    """The https:// and webcal:// forms of a feed's address.

    Behind a TLS-terminating proxy the request may look like plain http: the address given
    out is https all the same, except on the developer's own machine.
    """
    url = external_url(endpoint, **values)
    if url.startswith("http://") and urlsplit(url).hostname not in LOOPBACK:
        url = "https://" + url.removeprefix("http://")
    return url, "webcal://" + url.split("://", 1)[1]


# Public list of feeds ---------------------------------------------------------------------


@bp.route("/agenda")
def public_feeds():
    """The public calendars residents may subscribe to: per place and per topic."""
    language = {"taal": current_language()} if current_language() != "nl" else {}
    places = [(p, *feed_urls("feeds.place_feed", place=p, **language)) for p in finder.places()]
    topics = [(t, *feed_urls("feeds.topic_feed", slug=t.slug, **language)) for t in finder.topics()]
    return render("feeds/public.html", places=places, topics=topics)


# Portal: the user's own feed links ------------------------------------------------------------


def _get_link(link_id: int) -> FeedLink:
    link = db.session.get(FeedLink, link_id)
    if link is None or link.revoked_at is not None:
        abort(404)
    authorize(current_user, Action.MANAGE_FEED, link)
    return link


@bp.route("/portal/feeds")
@login_required
def links():
    """The user's working feed links, with when each was last used."""
    items = db.session.scalars(
        visible_feed_links(current_user).order_by(FeedLink.created_at.desc(), FeedLink.id.desc())
    ).all()
    return render("feeds/links.html", links=items, kinds=KIND, bookings=BOOKINGS)


@bp.route("/portal/feeds/new")
@login_required
def choose():
    """Choose what kind of feed to make."""
    slugs = {kind: slug for slug, kind in KIND_SLUGS.items()}
    may_follow = db.session.scalar(followable_series(current_user).limit(1)) is not None
    return render(
        "feeds/choose.html", kinds=KIND, hints=KIND_HINT, slugs=slugs, may_follow=may_follow
    )


@bp.route("/portal/feeds/new/<kind_slug>", methods=["GET", "POST"])
@login_required
def new(kind_slug: str):
    """Make a feed link of one kind; its address is shown once, on the next page."""
    kind = KIND_SLUGS.get(kind_slug) or abort(404)
    form = feed_form(kind, current_user)
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            try:
                link, token = feeds.create_link(
                    current_user,
                    kind,
                    location=_chosen(form, "location", Location),
                    organisation=_chosen(form, "organisation", Organisation),
                    series=_chosen_series(form),
                    include_bookings=FeedBookings(
                        form.include_bookings.data if "include_bookings" in form else "none"
                    ),
                    name=form.name.data or "",
                    language=current_language(),
                )
            except DomainError as error:
                field = form[error.field] if error.field and error.field in form else None
                if field is not None:
                    field.errors = [*field.errors, error.message]
                else:
                    form.form_errors.append(error.message)
            else:
                session[NEW_TOKEN] = {"id": link.id, "token": token}
                flash(_("The calendar feed has been made."), "success")
                return redirect_to(url_for("feeds.subscribe", link_id=link.id))
    return render(
        "feeds/form.html",
        block="feed_form",
        status=status,
        form=form,
        kind=kind,
        kind_label=KIND[kind],
        kind_hint=KIND_HINT[kind],
        may_see_bookings=can(current_user, Action.FEED_BOOKINGS),
    )


def _chosen(form, name: str, model):
    if name not in form or not form[name].data:
        return None
    return db.session.get(model, form[name].data)


def _chosen_series(form) -> list[ConsultationHours]:
    if "series" not in form or not form.series.data:
        return []
    return [s for s in (db.session.get(ConsultationHours, i) for i in form.series.data) if s]


@bp.route("/portal/feeds/<int:link_id>")
@login_required
def subscribe(link_id: int):
    """One feed link: what it shows and how to subscribe; right after making it, its address."""
    link = _get_link(link_id)
    new_token = session.get(NEW_TOKEN)
    urls = None
    if new_token and new_token.get("id") == link.id:
        session.pop(NEW_TOKEN)
        urls = feed_urls("feeds.token_feed", token=new_token["token"])
    return render(
        "feeds/subscribe.html",
        link=link,
        title=feeds.title_of(link),
        urls=urls,
        kinds=KIND,
        bookings=BOOKINGS,
    )


@bp.route("/portal/feeds/<int:link_id>/revoke", methods=["POST"])
@login_required
def revoke(link_id: int):
    """Revoke a link: calendars that use it get nothing any more."""
    link = _get_link(link_id)
    feeds.revoke(link)
    flash(_("The link no longer works. Calendars that used it will stop updating."), "success")
    return redirect_to(url_for("feeds.links"))

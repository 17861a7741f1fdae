"""Public pages for residents (no login)."""

import re
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app import clock
from app.extensions import db
from app.models import ConsultationHours, Organisation, Topic
from app.services import alternatives, courses, embeds, finder
from app.services import booking as booking_service
from app.services.schedule import occurrences
from app.web import embed
from app.web.embed import embeddable
from app.web.htmx import render, wants_fragment
from app.web.params import query_int

bp = Blueprint("public", __name__)

ONE_YEAR = 365 * 24 * 3600


@bp.route("/")
def home():
    """Ask what the resident needs help with and where; show the coming days' sessions.

    On a network of many towns the start page asks where first (typed, or chosen from an
    index by letter) and shows the coming days there; ``?plaats=`` holds the answer."""
    large = finder.is_large_network()
    typed = " ".join(request.args.get("plaats", "").split())[:80]
    answer = finder.find_place(typed)
    page = None
    if answer.place or not large:
        page = finder.upcoming(
            finder.Filters(place=answer.place),
            limit=current_app.config["START_PAGE_SIZE"],
            weeks=1,
        )
    return render(
        "public/home.html",
        topics=finder.topics(),
        places=[] if large else finder.places(),
        large=large,
        typed=typed,
        answer=answer,
        page=page,
    )


@bp.route("/plaatsen")
def place_index():
    """Every town with help sessions, by first letter: choosing a place without typing."""
    letter = request.args.get("letter", "")[:1].upper()
    letters = finder.place_letters()
    if letter not in letters:
        letter = letters[0] if letters else ""
    return render(
        "public/places.html",
        letters=letters,
        letter=letter,
        places=finder.places_by_letter(letter) if letter else [],
    )


@bp.route("/plaatsen/suggesties")
def place_suggestions():
    """Places that match what a resident is typing (htmx, as they type); opened as a page,
    the start page with what was typed."""
    if not wants_fragment():
        return redirect(url_for("public.home", plaats=request.args.get("plaats", "")[:80] or None))
    answer = finder.find_place(request.args.get("plaats", ""))
    if answer.place:
        answer = finder.PlaceAnswer(suggestions=[answer.place])
    return render("public/_place_suggestions.html", answer=answer, typed="", target="public.home")


@embeddable(bp, "/spreekuren", block="results", label=lambda: _("All help sessions"))
def hours():
    """List the coming weeks' help sessions by day, filtered by topic, place and organisation
    (each of them alone also has a readable address of its own, below)."""
    filters, answer, typed = _filters()
    return _hours_page(filters, place_answer=answer, typed_place=typed)


@embeddable(bp, "/spreekuren/plaats/<slug>", block="results")
def hours_in_place(slug: str):
    """The coming weeks' help sessions in one town or city."""
    place = embeds.place_by_slug(slug)
    if place is None:
        abort(404)
    return _hours_page(
        finder.Filters(place=place), heading=_("Help sessions in %(place)s", place=place)
    )


@embeddable(bp, "/spreekuren/onderwerp/<slug>", block="results")
def hours_on_topic(slug: str):
    """The coming weeks' help sessions about one topic."""
    topic = db.session.scalar(
        sa.select(Topic).where(Topic.slug == slug, Topic.active, Topic.public)
    )
    if topic is None:
        abort(404)
    return _hours_page(
        finder.Filters(topic=topic),
        heading=_("Help with %(topic)s", topic=topic.name(get_locale().language)),
    )


@embeddable(bp, "/spreekuren/organisatie/<slug>", block="results")
def hours_of_organisation(slug: str):
    """The coming weeks' help sessions of one organisation; its address is its number and
    name, and stays valid when the name changes (the old one moves to the new)."""
    number = re.match(r"(\d{1,9})(?:-|$)", slug)
    organisation = db.session.get(Organisation, int(number.group(1))) if number else None
    if organisation is None or not organisation.active:
        abort(404)
    if slug != embeds.organisation_slug(organisation):
        return redirect(
            embed.list_url(
                "public.hours_of_organisation", slug=embeds.organisation_slug(organisation)
            ),
            code=301,
        )
    return _hours_page(
        finder.Filters(organisation=organisation),
        heading=_("Help sessions of %(organisation)s", organisation=organisation.name),
    )


def _hours_page(
    filters: finder.Filters,
    heading: str | None = None,
    place_answer: finder.PlaceAnswer | None = None,
    typed_place: str = "",
):
    page = finder.upcoming(filters, after=finder.Cursor.parse(request.args.get("na")))
    large = finder.is_large_network()
    return render(
        "public/hours.html",
        block="results",
        heading=heading,
        page=page,
        later_url=_later_url(page),
        first_url=_first_url() if "na" in request.args else "",
        filters=filters,
        place_answer=place_answer or finder.PlaceAnswer(),
        typed_place=typed_place,
        large=large,
        topics=finder.topics(),
        places=[] if large else finder.places(),
        organisations=finder.organisations(filters.place),
        topic_courses=courses.public_courses(filters.topic) if filters.topic else [],
    )


def _full_page_endpoint() -> str:
    """This list's endpoint on the full site (an embedded list links to it)."""
    return (request.endpoint or "public.hours").removesuffix("_embedded")


def _later_url(page: finder.Page) -> str:
    if page.later is None:
        return ""
    args = {**request.args.to_dict(), "na": page.later.param()}
    return url_for(_full_page_endpoint(), **(request.view_args or {}), **args)


def _first_url() -> str:
    args = {key: value for key, value in request.args.items() if key != "na"}
    return url_for(_full_page_endpoint(), **(request.view_args or {}), **args)


def _filters() -> tuple[finder.Filters, finder.PlaceAnswer, str]:
    """The filters of the query string; what the place typed found, and the text typed."""
    args = request.args
    topic = db.session.scalar(
        sa.select(Topic).where(Topic.slug == args.get("onderwerp", ""), Topic.active, Topic.public)
    )
    organisation_id = query_int("organisatie")
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    if organisation is not None and not organisation.active:
        organisation = None
    typed = " ".join(args.get("plaats", "").split())[:80]
    answer = finder.find_place(typed)
    filters = finder.Filters(topic=topic, place=answer.place, organisation=organisation)
    return filters, answer, typed


@bp.route("/spreekuren/<int:series_id>")
def series(series_id: int):
    """One help session: what it is, where, how to get in, and its free times."""
    item = db.session.get(ConsultationHours, series_id)
    if not finder.is_public(item):
        abort(404)
    today = clock.today()
    free = booking_service.available_slots(
        [item], today, today + timedelta(days=item.book_ahead_days)
    )
    coming = occurrences([item], today, today + timedelta(weeks=6), include_cancelled=True)
    elsewhere = []
    if item.is_bookable_mode and not free:
        _same, elsewhere = alternatives.alternatives(item)
    return render(
        "public/series.html",
        series=item,
        free=free,
        coming=coming,
        elsewhere=elsewhere,
        may_join_waiting_list=item.is_bookable_mode and not free,
    )


@bp.route("/privacy")
def privacy():
    """What we keep about residents, why, for how long, who sees it, how to have it removed."""
    return render("public/privacy.html")


@bp.route("/toegankelijkheid")
def accessibility():
    """The accessibility statement."""
    return render("public/accessibility.html")


@bp.route("/taal", methods=["POST"])
def set_language():
    """Remember the chosen language in a cookie and return to the same page."""
    language = request.form.get("language", "")
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("public.home")
    response = redirect(target, code=303)
    if language in current_app.config["LANGUAGES"]:
        response.set_cookie(
            current_app.config["LANGUAGE_COOKIE"],
            language,
            max_age=ONE_YEAR,
            samesite="Lax",
            httponly=True,
            secure=request.is_secure,
        )
    return response


@bp.route("/favicon.ico")
def favicon():
    """The site's icon where browsers look for it without a link."""
    return current_app.send_static_file("favicon.ico")

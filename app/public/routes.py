"""Public pages for residents (no login)."""

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, request, url_for

from app import clock
from app.extensions import db
from app.models import ConsultationHours, Organisation, Topic
from app.services import booking as booking_service
from app.services import finder
from app.services.schedule import occurrences
from app.web.htmx import render
from app.web.params import query_int

bp = Blueprint("public", __name__)

ONE_YEAR = 365 * 24 * 3600


@bp.route("/")
def home():
    """Ask what the resident needs help with and where; show the coming days' sessions."""
    days, free = finder.upcoming(finder.Filters(), weeks=1)
    return render(
        "public/home.html",
        topics=finder.topics(),
        places=finder.places(),
        days=days,
        free=free,
    )


@bp.route("/spreekuren")
def hours():
    """List the coming weeks' help sessions by day, filtered by topic, place and organisation."""
    filters = _filters()
    days, free = finder.upcoming(filters)
    return render(
        "public/hours.html",
        block="results",
        days=days,
        free=free,
        total=sum(len(day.occurrences) for day in days),
        filters=filters,
        topics=finder.topics(),
        places=finder.places(),
        organisations=finder.organisations(),
    )


def _filters() -> finder.Filters:
    args = request.args
    topic = db.session.scalar(sa.select(Topic).where(Topic.slug == args.get("onderwerp", "")))
    organisation_id = query_int("organisatie")
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    place = args.get("plaats", "").strip()[:80]
    return finder.Filters(topic=topic, place=place, organisation=organisation)


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
        _same, elsewhere = finder.alternatives(item)
    return render("public/series.html", series=item, free=free, coming=coming, elsewhere=elsewhere)


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

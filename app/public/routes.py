"""Public pages for residents (no login)."""

from datetime import timedelta
from itertools import groupby

import sqlalchemy as sa
from flask import Blueprint, current_app, redirect, request, url_for

from app import clock
from app.extensions import db
from app.models import ConsultationHours, SeriesStatus
from app.services.schedule import occurrences
from app.web.htmx import render

bp = Blueprint("public", __name__)

ONE_YEAR = 365 * 24 * 3600


@bp.route("/")
def home():
    """Show the published consultation hours of the coming two weeks, by day."""
    today = clock.today()
    series = db.session.scalars(
        sa.select(ConsultationHours).where(ConsultationHours.status == SeriesStatus.PUBLISHED)
    ).all()
    upcoming = occurrences(series, today, today + timedelta(days=13))
    days = [(day, list(items)) for day, items in groupby(upcoming, key=lambda o: o.date)]
    return render("public/home.html", days=days)


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

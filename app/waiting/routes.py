"""Residents join the waiting list of full hours, see their place, leave, and take a time
that is offered to them (no account needed).

Access to a place on the list comes from its secret link (shown once after joining) and
to an offered time from the link in the message; either grants access for this browser
session, and the token leaves the address bar at once.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, session, url_for
from flask_babel import gettext as _

from app import clock
from app.booking.routes import SESSION_KEY as APPOINTMENT_KEY
from app.extensions import db
from app.i18n import current_language
from app.models import ConsultationHours, OfferStatus, SeatOffer, WaitingEntry
from app.portal.series_form import apply_domain_error
from app.services import DomainError, finder, mail, notify
from app.services import waiting_list as waiting_service
from app.waiting.forms import ConfirmForm, WaitingForm
from app.web import limits
from app.web.htmx import redirect_to, render
from app.web.security import personal

bp = Blueprint("waiting", __name__)

ENTRY_KEY = "waiting_entry"
OFFER_KEY = "waiting_offer"


@bp.route("/spreekuren/<int:series_id>/wachtlijst", methods=["GET", "POST"])
@personal  # a form sent back for correction repeats the resident's details
def join(series_id: int):
    """Ask a first name and a phone number or e-mail address, and put them on the list."""
    series = db.session.get(ConsultationHours, series_id)
    if not finder.is_public(series) or not series.is_bookable_mode:
        abort(404)
    if not waiting_service.may_join(series):
        return redirect_to(url_for("public.series", series_id=series.id))
    form = WaitingForm()
    if not form.is_submitted():
        form.language.data = current_language()
    status = 200
    refusal = None
    if form.validate_on_submit():
        try:
            entry, token = _join(series, form.details())
        except limits.TooManyAttempts as error:
            refusal, status = error, 429
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
            status = 422
        else:
            db.session.commit()
            session[ENTRY_KEY] = entry.id
            session["waiting_link"] = token
            return redirect_to(url_for("waiting.entry"))
    elif form.is_submitted():
        status = 422
    response = render(
        "waiting/join.html",
        block="waiting_form",
        status=status,
        form=form,
        series=series,
        refusal=refusal,
    )
    return limits.with_retry_after(response, refusal)


@limits.waiting_list_attempt
def _join(series: ConsultationHours, details) -> tuple[WaitingEntry, str]:
    """Put a resident on the list; places taken count per client address."""
    return waiting_service.join(series, details)


@bp.route("/wachtlijst/link/<token>")
@personal
def open_link(token: str):
    """Open the secret link to one's place on the list; the token leaves the address bar."""
    entry = waiting_service.find_entry(token)
    if entry is None:
        return render("waiting/link_invalid.html", status=404)
    session[ENTRY_KEY] = entry.id
    return redirect(url_for("waiting.entry"), code=303)


def _granted_entry() -> WaitingEntry:
    entry = db.session.get(WaitingEntry, session.get(ENTRY_KEY) or 0)
    if entry is None:
        abort(404)
    return entry


@bp.route("/wachtlijst/mijn")
@personal
def entry():
    """The resident's place on the waiting list, the link to keep, and leaving."""
    entry = _granted_entry()
    token = session.pop("waiting_link", None)
    offer = waiting_service.open_offer(entry)
    if offer is not None:
        session[OFFER_KEY] = offer.id  # whoever holds the place may take its offer
    return render(
        "waiting/entry.html",
        entry=entry,
        series=entry.series,
        place=waiting_service.position(entry) if entry.on_the_list else None,
        offer=offer,
        until=waiting_service.format_moment(offer.expires_at) if offer else None,
        link=notify.external_url("waiting.open_link", token=token) if token else None,
        form=ConfirmForm(),
    )


@bp.route("/wachtlijst/mijn/verlaten", methods=["POST"])
@personal
def leave():
    """Leave the waiting list; a time held for the resident goes to the next one."""
    entry = _granted_entry()
    if ConfirmForm().validate_on_submit():
        try:
            waiting_service.leave(entry)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            mail.send_after_response()
            flash(_("You are no longer on the waiting list."), "success")
    return redirect_to(url_for("waiting.entry"))


@bp.route("/wachtlijst/aanbod/<token>")
@personal
def open_offer(token: str):
    """Open the link in the message that offers a time; the token leaves the address bar."""
    offer = waiting_service.find_offer(token)
    if offer is None:
        return render("waiting/link_invalid.html", status=404)
    session[OFFER_KEY] = offer.id
    return redirect(url_for("waiting.offer"), code=303)


def _granted_offer() -> SeatOffer:
    offer = db.session.get(SeatOffer, session.get(OFFER_KEY) or 0)
    if offer is None:
        abort(404)
    return offer


@bp.route("/wachtlijst/aanbod", methods=["GET", "POST"])
@personal
def offer():
    """Show the time held for the resident and take it: it becomes their appointment."""
    offer = _granted_offer()
    form = ConfirmForm()
    now = clock.now()
    if form.validate_on_submit():
        try:
            booking, token = waiting_service.take(offer, now)
        except waiting_service.OfferGone as error:
            return _gone(offer, error.message)
        notify.booking_confirmed(booking, token)
        db.session.commit()
        mail.send_after_response()
        session.pop(OFFER_KEY, None)
        session[APPOINTMENT_KEY] = {"id": booking.id, "v": booking.version}
        session["new_link"] = token
        session["just_booked"] = True
        return redirect_to(url_for("booking.manage"))
    if offer.status is not OfferStatus.OPEN or offer.expires_at <= now:
        return _gone(offer, waiting_service.gone_message(offer, now))
    return render(
        "waiting/offer.html",
        offer=offer,
        series=offer.series,
        until=waiting_service.format_moment(offer.expires_at),
        form=form,
    )


def _gone(offer: SeatOffer, message: str):
    series = offer.series
    return render(
        "waiting/offer_gone.html",
        status=410,
        series=series,
        message=message,
        may_join=waiting_service.may_join(series),
    )

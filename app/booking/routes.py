"""Residents book, find, cancel and move their appointment (no account needed).

Access to an appointment comes from its secret link or from the code plus the phone number
or name. Either grants access for this browser session to the appointment *as it is now*:
when it changes elsewhere (staff move it), the session must look it up again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Response, abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _

from app import clock
from app.booking.forms import ActionForm, BookingForm, FindForm
from app.extensions import db
from app.i18n import current_language, resident_language
from app.models import Booking, BookingStatus, ConsultationHours
from app.portal.series_form import apply_domain_error
from app.services import DomainError, alternatives, finder, mail, notify
from app.services import booking as booking_service
from app.services.booking import ResidentDetails, SlotTaken, StaleBooking
from app.web import limits
from app.web.htmx import redirect_to, render
from app.web.lookups import code_lookup_page
from app.web.params import parse_slot, slot_param
from app.web.security import personal

bp = Blueprint("booking", __name__)

SESSION_KEY = "appointment"
# The secret link's token, while this browser was given it (booked or moved here, or opened
# the link): the appointment card's QR code leads to it.
LINK_KEY = "appointment_link"


def _published_series(series_id: int) -> ConsultationHours:
    series = db.session.get(ConsultationHours, series_id)
    if not finder.is_public(series):
        abort(404)
    return series


def _grant(booking: Booking, token: str | None = None) -> None:
    session[SESSION_KEY] = {"id": booking.id, "v": booking.version}
    if token:
        session[LINK_KEY] = token
    else:
        session.pop(LINK_KEY, None)


def _granted_booking() -> Booking:
    """The appointment this browser may manage, as it is now; otherwise 404."""
    grant = session.get(SESSION_KEY) or {}
    booking = db.session.get(Booking, grant.get("id") or 0)
    if booking is None or booking.version != grant.get("v") or booking.personal_data_erased_at:
        abort(404)
    return booking


@bp.route("/spreekuren/<int:series_id>/afspraak", methods=["GET", "POST"])
@personal  # a form sent back for correction repeats the resident's details
def book(series_id: int):
    """Ask the few details needed and book the chosen time."""
    series = _published_series(series_id)
    start = parse_slot(request.values.get("tijd"))
    if start is None:
        abort(404)
    try:
        occurrence, slot = booking_service.find_slot(series, start)
        booking_service.check_bookable(series, slot, clock.now(), staff=False)
    except DomainError:
        return _taken(series, _("This time can no longer be booked. Please choose another time."))
    form = BookingForm()
    if request.method == "GET":
        form.language.data = resident_language(current_language())
    status = 200
    refusal = None
    if form.validate_on_submit():
        details = form.resident_details()
        try:
            booking, token = _book(series, start, details)
        except limits.TooManyAttempts as error:
            refusal, status = error, 429
        except SlotTaken:
            return _taken(series, _("This time was just taken by someone else."))
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
            status = 422
        else:
            notify.booking_confirmed(booking, token)
            db.session.commit()
            mail.send_after_response()
            _grant(booking, token)
            session["new_link"] = token
            session["just_booked"] = True
            return redirect_to(url_for("booking.manage"))
    elif form.is_submitted():
        status = 422
    response = render(
        "booking/book.html",
        block="booking_form",
        status=status,
        form=form,
        series=series,
        slot=slot,
        occurrence=occurrence,
        refusal=refusal,
    )
    return limits.with_retry_after(response, refusal)


@limits.booking_attempt
def _book(
    series: ConsultationHours, start: datetime, details: ResidentDetails
) -> tuple[Booking, str]:
    """Book a time for a resident; appointments made count per client address."""
    return booking_service.book(series, start, details)


def _taken(series: ConsultationHours, message: str):
    same, elsewhere = alternatives.alternatives(series)
    return render(
        "booking/taken.html",
        status=409,
        series=series,
        message=message,
        same=same,
        elsewhere=elsewhere,
    )


@bp.route("/afspraak/link/<token>")
@personal
def open_link(token: str):
    """Open the secret link from the confirmation; the token leaves the address bar."""
    booking = booking_service.find_by_token(token)
    if booking is None or booking.personal_data_erased_at:
        return render("booking/link_invalid.html", status=404, form=FindForm())
    _grant(booking, token)
    return redirect(url_for("booking.manage"), code=303)


@bp.route("/afspraak", methods=["GET", "POST"])
@personal  # a look-up sent back repeats the code and phone number or name
def find():
    """Find an appointment with its code and the phone number or name."""
    return code_lookup_page(
        FindForm(),
        _find_by_code,
        grant=_grant,
        found_url=url_for("booking.manage"),
        not_found=_("We cannot find an appointment with this code and phone number or name."),
        template="booking/find.html",
    )


@limits.lookup_attempt
def _find_by_code(code: str, phone_or_name: str) -> Booking | None:
    """Look an appointment up; failed look-ups count per code and per client address."""
    return booking_service.find_by_code(code, phone_or_name)


@bp.route("/afspraak/mijn")
@personal
def manage():
    """The resident's appointment: when, where, the code, print, calendar, cancel, move."""
    booking = _granted_booking()
    new_link = session.pop("new_link", None)
    just_booked = session.pop("just_booked", False)
    return render(
        "booking/manage.html",
        booking=booking,
        new_link=notify.external_url("booking.open_link", token=new_link) if new_link else None,
        just_booked=just_booked,
        form=ActionForm(version=booking.version),
    )


@bp.route("/afspraak/mijn/kaart")
@personal
def card():
    """The printable appointment card."""
    booking = _granted_booking()
    return render("booking/card.html", booking=booking, link_token=session.get(LINK_KEY))


@bp.route("/afspraak/mijn/agenda.ics")
@personal
def calendar_file():
    """The appointment as a calendar file ('add to my calendar')."""
    booking = _granted_booking()
    response = Response(notify.booking_ics(booking), mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="afspraak.ics"'
    return response


@bp.route("/afspraak/mijn/afzeggen", methods=["GET", "POST"])
@personal
def cancel():
    """Ask 'are you sure?' and cancel the appointment."""
    booking = _granted_booking()
    form = ActionForm(version=booking.version)
    if booking.status is not BookingStatus.BOOKED:
        return redirect_to(url_for("booking.manage"))
    if form.validate_on_submit():
        try:
            booking_service.cancel(booking, version=_int(form.version.data))
        except StaleBooking as error:
            flash(error.message, "error")
            return redirect_to(url_for("booking.manage"))
        notify.booking_cancelled(booking)
        db.session.commit()
        mail.send_after_response()
        _grant(booking, session.get(LINK_KEY))
        flash(_("Your appointment is cancelled."), "success")
        return redirect_to(url_for("booking.manage"))
    return render("booking/cancel.html", booking=booking, form=form)


@bp.route("/afspraak/mijn/verzetten", methods=["GET", "POST"])
@personal
def move():
    """Choose another free time of the same hours."""
    booking = _granted_booking()
    if booking.status is not BookingStatus.BOOKED:
        return redirect_to(url_for("booking.manage"))
    form = ActionForm(version=booking.version)
    status = 200
    if form.validate_on_submit():
        new_start = parse_slot(form.slot.data)
        try:
            if new_start is None:
                raise DomainError(_("Please choose a time."))
            token = booking_service.move(booking, new_start, version=_int(form.version.data))
        except StaleBooking as error:
            flash(error.message, "error")
            return redirect_to(url_for("booking.manage"))
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = 409 if isinstance(error, SlotTaken) else 422
            booking = _granted_booking()
        else:
            notify.booking_moved(booking, token)
            db.session.commit()
            mail.send_after_response()
            _grant(booking, token)
            session["new_link"] = token
            flash(_("Your appointment has a new time."), "success")
            return redirect_to(url_for("booking.manage"))
    today = clock.today()
    free = booking_service.available_slots([booking.series], today, today + timedelta(days=60))
    free = [f for f in free if f.slot.start_utc != booking.slot_start]
    return render(
        "booking/move.html",
        status=status,
        booking=booking,
        free=free,
        form=ActionForm(version=booking.version),
        slot_param=slot_param,
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

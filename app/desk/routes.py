"""The desk: staff book on a resident's behalf, print the card, and handle day lists.

Staff of any organisation may book a resident into any published appointment hours of the
network (the library desk books into a partner's hours). Personal data of a booking is shown
only to the organisation that holds the hours and to the staff member who made it.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import groupby

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import clock
from app.desk.forms import CancelForm, DeskBookingForm, VersionForm
from app.extensions import db
from app.i18n import interface_language
from app.models import Booking, BookingStatus, ConsultationHours, Mode, Organisation
from app.permissions import Action, authorize, can, require, visible_bookings
from app.portal.series_form import apply_domain_error
from app.services import DomainError, deliveries, finder, mail, notify, reminders
from app.services import booking as booking_service
from app.services.booking import SlotTaken
from app.web.htmx import redirect_to, render
from app.web.params import FIRST_DAY, LAST_DAY, parse_slot, query_date, query_int, slot_param

bp = Blueprint("desk", __name__, url_prefix="/portal")

DESK_DAYS = 28


@bp.before_request
@login_required
def require_login() -> None:
    """The desk is for logged-in staff only."""


def _bookable_series() -> list[ConsultationHours]:
    return list(
        db.session.scalars(
            finder.public_series_query()
            .where(ConsultationHours.mode != Mode.WALK_IN)
            .order_by(Organisation.name, ConsultationHours.title)
        )
    )


@bp.route("/desk")
def desk():
    """Choose the hours, then a free time, quickly and in large type."""
    require(current_user, Action.BOOK_AT_DESK)
    all_series = _bookable_series()
    chosen = None
    free = []
    series_id = query_int("series")
    if series_id is not None:
        chosen = next((s for s in all_series if s.id == series_id), None)
        if chosen is None:
            abort(404)
        today = clock.today()
        free = booking_service.available_slots(
            [chosen], today, today + timedelta(days=DESK_DAYS), staff=True
        )
    return render(
        "desk/desk.html",
        block="slots",
        all_series=all_series,
        chosen=chosen,
        free=free,
        slot_param=slot_param,
    )


@bp.route("/desk/book", methods=["GET", "POST"])
def desk_book():
    """Book the chosen time for the resident at the desk or on the phone."""
    require(current_user, Action.BOOK_AT_DESK)
    series = db.session.get(ConsultationHours, query_int("series", 0))
    start = parse_slot(request.values.get("tijd"))
    if not finder.is_public(series) or start is None:
        abort(404)
    try:
        _occurrence, slot = booking_service.find_slot(series, start)
    except DomainError:
        flash(_("This time can no longer be booked. Please choose another time."), "error")
        return redirect_to(url_for("desk.desk", series=series.id))
    form = DeskBookingForm()
    status = 200
    if form.validate_on_submit():
        details = form.resident_details()
        try:
            booking, token = booking_service.book(series, start, details, by=current_user)
        except SlotTaken as error:
            flash(error.message, "error")
            return redirect_to(url_for("desk.desk", series=series.id))
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            notify.booking_confirmed(booking, token)
            db.session.commit()
            mail.send_after_response()
            flash(_("The appointment is made. Print the card for the resident."), "success")
            return redirect_to(url_for("desk.booking_detail", booking_id=booking.id))
        status = 422
    elif form.is_submitted():
        status = 422
    return render(
        "desk/book.html", block="booking_form", status=status, form=form, series=series, slot=slot
    )


def _get_booking(booking_id: int, action: Action = Action.VIEW) -> Booking:
    booking = db.session.get(Booking, booking_id)
    authorize(current_user, action, booking)
    return booking


@bp.route("/bookings/<int:booking_id>")
def booking_detail(booking_id: int):
    """One booking with everything staff may do for the resident."""
    booking = _get_booking(booking_id)
    today = clock.today()
    free = []
    if booking.status is BookingStatus.BOOKED:
        free = [
            f
            for f in booking_service.available_slots(
                [booking.series], today, today + timedelta(days=DESK_DAYS), staff=True
            )
            if f.slot.start_utc != booking.slot_start
        ]
    messages = None
    if can(current_user, Action.BOOKING_MESSAGES, booking):
        messages = deliveries.for_booking(booking)
    return render(
        "desk/booking.html",
        booking=booking,
        messages=messages,
        free=free,
        cancel_form=CancelForm(version=booking.version),
        form=VersionForm(version=booking.version),
        slot_param=slot_param,
    )


@bp.route("/bookings/<int:booking_id>/card")
def booking_card(booking_id: int):
    """The appointment card, to print for the resident."""
    booking = _get_booking(booking_id)
    back = url_for("desk.booking_detail", booking_id=booking.id)
    with force_locale(interface_language(booking.language)):
        return render("booking/card.html", booking=booking, back=back)


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
def booking_cancel(booking_id: int):
    """Cancel for the resident, with a reason they are told."""
    booking = _get_booking(booking_id, Action.MANAGE_BOOKING)
    form = CancelForm()
    if not form.validate_on_submit():
        flash(_("Please give a reason."), "error")
        return redirect_to(url_for("desk.booking_detail", booking_id=booking.id))
    try:
        booking_service.cancel(
            booking, version=_int(form.version.data), reason=form.reason.data, by=current_user
        )
    except DomainError as error:
        flash(error.message, "error")
    else:
        notify.booking_cancelled(booking)
        db.session.commit()
        mail.send_after_response()
        flash(_("The appointment is cancelled."), "success")
    return redirect_to(url_for("desk.booking_detail", booking_id=booking.id))


@bp.route("/bookings/<int:booking_id>/move", methods=["POST"])
def booking_move(booking_id: int):
    """Move the appointment to another free time for the resident."""
    booking = _get_booking(booking_id, Action.MANAGE_BOOKING)
    form = VersionForm()
    new_start = parse_slot(form.slot.data)
    try:
        if new_start is None:
            raise DomainError(_("Please choose a time."))
        token = booking_service.move(
            booking, new_start, version=_int(form.version.data), by=current_user
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        notify.booking_moved(booking, token)
        db.session.commit()
        mail.send_after_response()
        flash(_("The appointment has a new time. Print a new card."), "success")
    return redirect_to(url_for("desk.booking_detail", booking_id=booking_id))


@bp.route("/bookings/<int:booking_id>/attendance", methods=["POST"])
def booking_attendance(booking_id: int):
    """Record whether the resident came."""
    booking = _get_booking(booking_id, Action.MANAGE_BOOKING)
    form = VersionForm()
    try:
        booking_service.mark(booking, BookingStatus(form.status.data))
    except (ValueError, DomainError):
        db.session.rollback()
        flash(_("This change of status is not possible."), "error")
    else:
        db.session.commit()
    back = request.form.get("back") or url_for("desk.booking_detail", booking_id=booking.id)
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("desk.booking_detail", booking_id=booking.id)
    return redirect_to(back)


@bp.route("/bookings/<int:booking_id>/contacted", methods=["POST"])
def booking_contacted(booking_id: int):
    """Note that the resident of an affected booking has been told."""
    booking = _get_booking(booking_id, Action.MANAGE_BOOKING)
    booking.contacted_at = clock.now()
    db.session.commit()
    flash(_("Noted: the resident has been told."), "success")
    return redirect_to(url_for("desk.to_contact"))


@bp.route("/bookings")
def day_list():
    """The bookings of one day, per hours and location, to print and to mark who came."""
    day = query_date("day", clock.today())
    bookings = db.session.scalars(
        visible_bookings(current_user)
        .where(*booking_service.day_bounds(day))
        .order_by(Booking.series_id, Booking.slot_start)
    ).all()
    groups = [(series, list(items)) for series, items in groupby(bookings, key=lambda b: b.series)]
    return render(
        "desk/day_list.html",
        day=day,
        groups=groups,
        previous_day=day - timedelta(days=1) if day > FIRST_DAY else None,
        next_day=day + timedelta(days=1) if day < LAST_DAY else None,
    )


@bp.route("/bookings/to-contact")
def to_contact():
    """Residents whose appointment a change removed and who have not been told yet."""
    bookings = db.session.scalars(
        visible_bookings(current_user)
        .where(
            Booking.affected_at.is_not(None),
            Booking.contacted_at.is_(None),
            Booking.status == BookingStatus.BOOKED,
        )
        .order_by(Booking.slot_start)
    ).all()
    return render("desk/to_contact.html", bookings=bookings)


@bp.route("/bookings/call-list")
def call_list():
    """Residents to call the day before: no e-mail address, and no SMS reaches their phone."""
    day = query_date("day", clock.today() + timedelta(days=1))
    return render(
        "desk/call_list.html",
        day=day,
        bookings=reminders.call_list(visible_bookings(current_user), day),
        sms_on=reminders.sms.is_configured(),
        previous_day=day - timedelta(days=1) if day > FIRST_DAY else None,
        next_day=day + timedelta(days=1) if day < LAST_DAY else None,
    )


@bp.route("/bookings/<int:booking_id>/called", methods=["POST"])
def booking_called(booking_id: int):
    """Tick off the call the day before: it counts as the appointment's reminder."""
    booking = _get_booking(booking_id, Action.MANAGE_BOOKING)
    back = url_for("desk.call_list", day=request.form.get("day") or None)
    if _int(request.form.get("version")) != booking.version:
        flash(_("This appointment was changed in the meantime. Please look at it again."), "error")
    elif reminders.record_call(booking, current_user):
        db.session.commit()
        flash(_("Noted: %(name)s has been called.", name=booking.name), "success")
    else:
        db.session.rollback()
        flash(_("Someone had already noted this call."), "success")
    return redirect_to(back)


@bp.route("/messages/failed")
def failed_messages():
    """Messages to the organisation's residents that failed, per day (organisation admins)."""
    organisation = current_user.organisation
    authorize(current_user, Action.FAILED_MESSAGES, organisation)
    return render("desk/failed_messages.html", days=deliveries.failed_for(organisation))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

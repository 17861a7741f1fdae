"""The desk signs a resident up for a course on their behalf (at the desk or on the phone),
with the same service as the resident's own sign-up, prints the card, finds a sign-up with
the resident's code to sign them off, and tells who moved up from a waiting list without an
e-mail address.

Who sees a sign-up's details is decided in ``app.permissions`` (the organisation whose staff
member made it, and whoever handles the course's lists); a resident at the desk with their
code and name or phone number gives the staff member access to that one sign-up, as the
resident's own look-up does. Every view of a resident's details is in the audit log.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.course_signup.forms import (
    ConfirmForm,
    DeskFindForm,
    DeskSignUpForm,
    prepare,
    sign_up_details,
)
from app.extensions import db
from app.models import AuditAction, Course, Enrolment, EnrolmentStatus
from app.permissions import Action, can, require, visible_sign_ups
from app.portal.series_form import apply_domain_error
from app.services import DomainError, audit, course_messages, course_signups, courses, mail
from app.services.courses import CourseClosed
from app.web.htmx import redirect_to, render

bp = Blueprint("course_desk", __name__, url_prefix="/portal/desk/cursussen")

FOUND_KEY = "desk_course_sign_ups"  # the sign-ups found with a resident's code


@bp.before_request
@login_required
def require_login() -> None:
    """The desk is for logged-in staff only."""
    require(current_user, Action.BOOK_AT_DESK)


def _to_tell() -> list[Enrolment]:
    """Residents who moved up without an e-mail address and are not told yet."""
    return list(
        db.session.scalars(
            visible_sign_ups(current_user)
            .where(Enrolment.to_tell, Enrolment.status == EnrolmentStatus.PARTICIPANT)
            .order_by(Enrolment.id)
        )
    )


@bp.route("/")
def index():
    """The courses a resident can be signed up for, with the places left; who is to be told
    of a place; finding a sign-up with its code."""
    return render(
        "courses_public/desk_index.html",
        courses=courses.public_courses(),
        to_tell=_to_tell(),
        find_form=DeskFindForm(),
    )


@bp.route("/<int:course_id>/aanmelden", methods=["GET", "POST"])
def sign_up(course_id: int):
    """Sign the resident up: a place, or the waiting list; an intake time or 'to plan'."""
    course = db.session.get(Course, course_id)
    if not courses.is_public(course):
        abort(404)
    form = DeskSignUpForm()
    prepare(form, course, staff=True)
    status = 200
    if form.validate_on_submit():
        try:
            signed_up = course_signups.sign_up(course, sign_up_details(form), by=current_user)
        except CourseClosed:
            db.session.rollback()
            abort(404)
        except DomainError as error:
            db.session.rollback()
            course = db.session.get(Course, course_id)
            prepare(form, course, staff=True)
            apply_domain_error(form, error)
        else:
            course_messages.notify_signed_up(signed_up)
            db.session.commit()
            mail.send_after_response()
            flash(_("The resident is signed up. Print the card for the resident."), "success")
            return redirect_to(url_for(".enrolment", enrolment_id=signed_up.enrolment.id))
        status = 422
    elif form.is_submitted():
        status = 422
    return render(
        "courses_public/desk_sign_up.html",
        block="sign_up_form",
        status=status,
        form=form,
        course=course,
        places_left=courses.places_left(course),
    )


@bp.route("/zoeken", methods=["POST"])
def find():
    """Find a sign-up with the resident's code and their name or phone number."""
    form = DeskFindForm()
    if form.validate_on_submit():
        found = course_signups.find_by_code(form.code.data, form.phone_or_name.data)
        if found is not None:
            session[FOUND_KEY] = [*session.get(FOUND_KEY, [])[-9:], found.id]
            return redirect_to(url_for(".enrolment", enrolment_id=found.id))
        form.code.errors.append(_("There is no sign-up with this code and phone number or name."))
    return render(
        "courses_public/desk_index.html",
        status=422,
        courses=courses.public_courses(),
        to_tell=_to_tell(),
        find_form=form,
    )


def _desk_enrolment(enrolment_id: int, action: AuditAction | None = AuditAction.VIEW):
    """A sign-up the staff member may see (``app.permissions``), or found with the
    resident's code; 404 otherwise. The view is recorded in the audit log."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    if (
        enrolment is None
        or enrolment.referral_id is not None
        or enrolment.personal_data_erased_at is not None
    ):
        abort(404)
    if not (
        can(current_user, Action.COURSE_SIGN_UP, enrolment)
        or enrolment.id in session.get(FOUND_KEY, [])
    ):
        abort(404)
    if action is not None:
        audit.record_sign_up(current_user, action, enrolment)
    return enrolment


@bp.route("/aanmelding/<int:enrolment_id>")
def enrolment(enrolment_id: int):
    """The sign-up: the code, the place or place in the queue, print the card, sign off."""
    found = _desk_enrolment(enrolment_id)
    db.session.commit()
    return render(
        "courses_public/desk_enrolment.html",
        enrolment=found,
        course=found.course,
        queue_place=courses.queue_place(found),
        intake=course_signups.intake_planned(found),
        may_sign_off=course_signups.may_sign_off(found),
        form=ConfirmForm(),
    )


@bp.route("/aanmelding/<int:enrolment_id>/kaart")
def card(enrolment_id: int):
    """The printable card for the resident."""
    found = _desk_enrolment(enrolment_id, AuditAction.PRINT)
    db.session.commit()
    return render(
        "courses_public/card.html",
        enrolment=found,
        course=found.course,
        queue_place=courses.queue_place(found),
        intake=course_signups.intake_planned(found),
        back=url_for(".enrolment", enrolment_id=found.id),
    )


@bp.route("/aanmelding/<int:enrolment_id>/afmelden", methods=["POST"])
def cancel(enrolment_id: int):
    """Sign the resident off (their place goes to the first waiting); the receipt goes only
    from the request that took them off."""
    found = _desk_enrolment(enrolment_id, None)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        course_signups.cancel(found, by=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        audit.record_sign_up(current_user, AuditAction.STATUS, found, "signed off")
        course_messages.notify_cancelled(found)
        db.session.commit()
        mail.send_after_response()
        flash(_("The resident is signed off. The place goes to the next one waiting."), "success")
    return redirect(url_for(".enrolment", enrolment_id=enrolment_id), code=303)


@bp.route("/aanmelding/<int:enrolment_id>/verteld", methods=["POST"])
def told(enrolment_id: int):
    """Staff told the resident who moved up that the place is theirs: tick it off."""
    found = _desk_enrolment(enrolment_id, None)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if found.to_tell:
        found.to_tell = False
        audit.record_sign_up(current_user, AuditAction.STATUS, found, "told")
        db.session.commit()
        flash(_("Ticked off: the resident knows the place is theirs."), "success")
    back = request.form.get("back")
    if back == "index":
        return redirect(url_for(".index"), code=303)
    return redirect(url_for(".enrolment", enrolment_id=enrolment_id), code=303)

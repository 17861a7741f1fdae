"""The desk signs a resident up for a course on their behalf (at the desk or on the phone),
with the same service as the resident's own sign-up, and prints the card.

A sign-up made at the desk is shown to the staff of the organisation whose staff member made
it and to the organisation that gives the course; to others it does not exist (404).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.course_signup.forms import DeskSignUpForm
from app.course_signup.routes import prepare, sign_up_details
from app.extensions import db
from app.models import BookedVia, Course, Enrolment
from app.permissions import Action, require
from app.portal.series_form import apply_domain_error
from app.services import DomainError, courses, mail
from app.services.courses import CourseClosed
from app.web.htmx import redirect_to, render

bp = Blueprint("course_desk", __name__, url_prefix="/portal/desk/cursussen")


@bp.before_request
@login_required
def require_login() -> None:
    """The desk is for logged-in staff only."""
    require(current_user, Action.BOOK_AT_DESK)


@bp.route("/")
def index():
    """The courses a resident can be signed up for, with the places left."""
    return render("courses_public/desk_index.html", courses=courses.public_courses())


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
            signed_up = courses.sign_up(course, sign_up_details(form), by=current_user)
        except CourseClosed:
            db.session.rollback()
            abort(404)
        except DomainError as error:
            db.session.rollback()
            course = db.session.get(Course, course_id)
            prepare(form, course, staff=True)
            apply_domain_error(form, error)
        else:
            courses.notify_signed_up(signed_up)
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


def _desk_enrolment(enrolment_id: int) -> Enrolment:
    """A sign-up made at the desk, for the organisation that made it or gives the course."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    if (
        enrolment is None
        or enrolment.booked_via is not BookedVia.DESK
        or enrolment.personal_data_erased_at is not None
        or current_user.organisation_id
        not in (
            enrolment.course.organisation_id,
            enrolment.created_by.organisation_id if enrolment.created_by else None,
        )
    ):
        abort(404)
    return enrolment


@bp.route("/aanmelding/<int:enrolment_id>")
def enrolment(enrolment_id: int):
    """The sign-up just made: the code, the place or place in the queue, print the card."""
    found = _desk_enrolment(enrolment_id)
    return render(
        "courses_public/desk_enrolment.html",
        enrolment=found,
        course=found.course,
        queue_place=courses.queue_place(found),
        intake=courses.intake_planned(found),
    )


@bp.route("/aanmelding/<int:enrolment_id>/kaart")
def card(enrolment_id: int):
    """The printable card for the resident."""
    found = _desk_enrolment(enrolment_id)
    return render(
        "courses_public/card.html",
        enrolment=found,
        course=found.course,
        queue_place=courses.queue_place(found),
        intake=courses.intake_planned(found),
        back=url_for(".enrolment", enrolment_id=found.id),
    )

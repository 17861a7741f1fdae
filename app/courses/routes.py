"""Courses residents are referred to: what is on offer, offering one, and its lists.

The lists (who is on the course, who waits) hold residents' names: only the staff of the
organisation that gives the course see them; everyone else sees numbers.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from app.courses.forms import CourseForm
from app.extensions import db
from app.models import Course, Location, Organisation
from app.permissions import Action, authorize, can
from app.portal.series_form import apply_domain_error
from app.referrals.routes import referral_menu
from app.services import DomainError, courses, referrals
from app.web.htmx import redirect_to, render

bp = Blueprint("courses", __name__, url_prefix="/portal/courses")
bp.context_processor(referral_menu)


@bp.before_request
@login_required
def require_login() -> None:
    """Courses are managed by logged-in staff only."""


@bp.route("/")
def index():
    """The courses on offer (numbers only), and the user's own organisation's courses."""
    return render(
        "courses/index.html",
        open_courses=courses.open_courses(),
        own=[c for c in courses.all_courses() if c.organisation_id == current_user.organisation_id],
        counts=courses.counts,
        may_create=can(current_user, Action.CREATE_COURSE, current_user.organisation),
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Offer a course: a few sessions, a number of places."""
    organisation = current_user.organisation
    authorize(current_user, Action.CREATE_COURSE, organisation)
    form = CourseForm()
    locations = db.session.scalars(
        sa.select(Location)
        .join(Location.organisation)
        .where(Location.active)
        .order_by(Organisation.name, Location.name)
    ).all()
    form.location.choices = [(loc.id, f"{loc.name} ({loc.organisation.name})") for loc in locations]
    if form.validate_on_submit():
        data = courses.CourseData(
            title=form.title.data,
            description=form.description.data or "",
            what_to_bring=form.what_to_bring.data or "",
            location=db.session.get(Location, form.location.data),
            capacity=form.capacity.data,
            first_date=form.first_date.data,
            start_time=form.start_time.data,
            end_time=form.end_time.data,
            sessions=form.sessions.data,
            interval_weeks=form.interval_weeks.data,
        )
        try:
            course = courses.create_course(organisation, data, current_user)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("The course is open for referrals."), "success")
            return redirect_to(url_for(".detail", course_id=course.id))
    return render("courses/form.html", status=422 if form.is_submitted() else 200, form=form)


def _get(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    authorize(current_user, Action.VIEW, course)
    return course


@bp.route("/<int:course_id>")
def detail(course_id: int):
    """A course: its sessions and places; the lists for the organisation that gives it."""
    course = _get(course_id)
    lists = can(current_user, Action.COURSE_LISTS, course)
    participant_count, waiting_count = courses.counts(course)
    participants = courses.participants(course) if lists else []
    waiting = courses.waiting_list(course) if lists else []
    # The lists show residents' names: each one shown is a view of that referral.
    for enrolment in participants + waiting:
        if enrolment.referral is not None:
            referrals.record_view(enrolment.referral, current_user, "course list")
    db.session.commit()
    return render(
        "courses/detail.html",
        course=course,
        lists=lists,
        participants=participants,
        waiting=waiting,
        participant_count=participant_count,
        waiting_count=waiting_count,
        form=FlaskForm(),
    )


@bp.route("/<int:course_id>/open", methods=["POST"])
def toggle_open(course_id: int):
    """Close a course for new referrals, or open it again."""
    course = _get(course_id)
    authorize(current_user, Action.COURSE_LISTS, course)
    if not FlaskForm().validate_on_submit():
        abort(400)
    course.open_for_referrals = not course.open_for_referrals
    db.session.commit()
    if course.open_for_referrals:
        flash(_("The course takes referrals again."), "success")
    else:
        flash(_("The course takes no new referrals."), "success")
    return redirect_to(url_for(".detail", course_id=course.id))

"""Courses residents are referred to: what is on offer, offering one, its lists, and
running it (sessions, places, sign-up, attendance).

The lists (who is on the course, who waits, who came) hold residents' names: only the staff
of the organisation that gives the course see them and run it; everyone else sees numbers.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from app.courses.forms import (
    CancelSessionForm,
    CapacityForm,
    CourseForm,
    SessionForm,
    SignUpForm,
    attendance_form,
)
from app.extensions import db
from app.models import (
    ConsultationHours,
    Course,
    CourseSession,
    Device,
    Location,
    Organisation,
    SeriesStatus,
    Topic,
)
from app.permissions import Action, authorize, can
from app.portal.series_form import apply_domain_error
from app.services import DomainError, course_runs, courses, finder, referrals
from app.web.filters import topic_name
from app.web.htmx import redirect_to, render
from app.web.menus import referral_menu
from app.web.security import personal

bp = Blueprint("courses", __name__, url_prefix="/portal/courses")
bp.context_processor(referral_menu)

# What the course log's action codes say, in the reader's language.
CHANGES = {
    "session_moved": _l("Session moved"),
    "session_added": _l("Session added"),
    "session_removed": _l("Session removed"),
    "session_cancelled": _l("Session cancelled"),
    "capacity": _l("Number of places"),
    "promoted": _l("Moved up from the waiting list"),
    "opened": _l("Takes referrals again"),
    "closed": _l("Takes no new referrals"),
    "attendance": _l("Attendance marked"),
}


@bp.app_template_filter("course_change_label")
def course_change_label(action: str) -> str:
    return str(CHANGES.get(action, action))


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


def _intake_hours(organisation: Organisation) -> list[ConsultationHours]:
    """The organisation's published hours that take appointments: where an intake can be."""
    return [
        series
        for series in db.session.scalars(
            sa.select(ConsultationHours)
            .where(
                ConsultationHours.provider_id == organisation.id,
                ConsultationHours.status == SeriesStatus.PUBLISHED,
            )
            .order_by(ConsultationHours.title)
        )
        if series.is_bookable_mode
    ]


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
    form.topic.choices = [SelectChoice("", _("No topic"))] + [
        SelectChoice(t.id, topic_name(t)) for t in finder.topics()
    ]
    form.intake_series.choices = [
        SelectChoice("", _("None: the desk plans each intake with the resident"))
    ] + [SelectChoice(s.id, f"{s.title} ({s.location.name})") for s in _intake_hours(organisation)]
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
            device=Device(form.device.data),
            topic=db.session.get(Topic, form.topic.data) if form.topic.data else None,
            needs_intake=form.needs_intake.data,
            intake_series=(
                db.session.get(ConsultationHours, form.intake_series.data)
                if form.intake_series.data
                else None
            ),
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
    runs = can(current_user, Action.RUN_COURSE, course)
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
        runs=runs,
        participants=participants,
        waiting=waiting,
        participant_count=participant_count,
        waiting_count=waiting_count,
        attendance=course_runs.attendance_counts(course) if runs else {},
        log=course_runs.log_entries(course) if runs else [],
        has_started=course_runs.has_started,
        may_mark=course_runs.may_mark_attendance,
        form=SignUpForm(open=0 if course.open_for_referrals else 1),
    )


@bp.route("/<int:course_id>/sessions.ics")
def calendar_file(course_id: int):
    """The course's sessions as a calendar file, cancelled ones marked (no participants)."""
    course = _get(course_id)
    response = Response(course_runs.course_calendar(course), mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="course-{course.id}.ics"'
    return response


def _run(course_id: int) -> Course:
    """The course, once the user may run it (else 404 or 403)."""
    course = db.session.get(Course, course_id)
    authorize(current_user, Action.RUN_COURSE, course)
    return course


def _session(course: Course, session_id: int) -> CourseSession:
    session = db.session.get(CourseSession, session_id)
    if session is None or session.course_id != course.id:
        abort(404)
    return session


def _done(course: Course, message: str, told: int | None = None):
    db.session.commit()
    flash(message, "success")
    if told is not None:
        participant_count, _waiting = courses.counts(course)
        if told:
            flash(
                ngettext(
                    "%(num)s participant was told by e-mail.",
                    "%(num)s participants were told by e-mail.",
                    told,
                ),
                "success",
            )
        if participant_count > told:
            flash(
                ngettext(
                    "%(num)s participant has no e-mail address: please call them.",
                    "%(num)s participants have no e-mail address: please call them.",
                    participant_count - told,
                ),
                "info",
            )
    return redirect_to(url_for(".detail", course_id=course.id))


@bp.route("/<int:course_id>/sessions/new", methods=["GET", "POST"])
def add_session(course_id: int):
    """Add a session to the course."""
    course = _run(course_id)
    form = SessionForm()
    if form.validate_on_submit():
        try:
            told = course_runs.add_session(
                course, form.date.data, form.start_time.data, form.end_time.data, current_user
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _done(course, _("The session is added."), told)
    return render(
        "courses/session_form.html",
        status=422 if form.is_submitted() else 200,
        form=form,
        course=course,
        session=None,
    )


@bp.route("/<int:course_id>/sessions/<int:session_id>", methods=["GET", "POST"])
def edit_session(course_id: int, session_id: int):
    """Change a coming session's date and times."""
    course = _run(course_id)
    session = _session(course, session_id)
    form = SessionForm(obj=session)
    if form.validate_on_submit():
        try:
            told = course_runs.edit_session(
                session, form.date.data, form.start_time.data, form.end_time.data, current_user
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _done(course, _("The session has its new time."), told)
    return render(
        "courses/session_form.html",
        status=422 if form.is_submitted() else 200,
        form=form,
        course=course,
        session=session,
        started=course_runs.has_started(session),
        remove_form=FlaskForm(),
    )


@bp.route("/<int:course_id>/sessions/<int:session_id>/remove", methods=["POST"])
def remove_session(course_id: int, session_id: int):
    """Take a coming session off the course."""
    course = _run(course_id)
    session = _session(course, session_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        told = course_runs.remove_session(session, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect_to(url_for(".detail", course_id=course.id))
    return _done(course, _("The session is removed."), told)


@bp.route("/<int:course_id>/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
def cancel_session(course_id: int, session_id: int):
    """Cancel one coming session, with a reason for the participants."""
    course = _run(course_id)
    session = _session(course, session_id)
    form = CancelSessionForm()
    if form.validate_on_submit():
        try:
            told = course_runs.cancel_session(session, form.reason.data, current_user)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            return _done(course, _("The session is cancelled."), told)
    return render(
        "courses/cancel_session.html",
        status=422 if form.is_submitted() else 200,
        form=form,
        course=course,
        session=session,
    )


@bp.route("/<int:course_id>/places", methods=["GET", "POST"])
def capacity(course_id: int):
    """Give the course more or fewer places (never fewer than its participants)."""
    course = _run(course_id)
    form = CapacityForm(data=None if request.method == "POST" else {"capacity": course.capacity})
    if form.validate_on_submit():
        try:
            moved = course_runs.change_capacity(course, form.capacity.data, current_user)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            message = _("The course has %(num)s places.", num=form.capacity.data)
            if moved:
                message += " " + ngettext(
                    "%(num)s resident moved up from the waiting list.",
                    "%(num)s residents moved up from the waiting list.",
                    len(moved),
                )
            return _done(course, message)
    participant_count, waiting_count = courses.counts(course)
    return render(
        "courses/capacity.html",
        status=422 if form.is_submitted() else 200,
        form=form,
        course=course,
        participant_count=participant_count,
        waiting_count=waiting_count,
    )


@bp.route("/<int:course_id>/open", methods=["POST"])
def toggle_open(course_id: int):
    """Close a course for new residents, or open it again."""
    course = _run(course_id)
    form = SignUpForm()
    if not form.validate_on_submit():
        abort(400)
    opened = bool(form.open.data)
    course_runs.set_open(course, opened, current_user)
    if opened:
        return _done(course, _("The course takes referrals again."))
    return _done(course, _("The course takes no new referrals."))


@bp.route("/<int:course_id>/sessions/<int:session_id>/list", methods=["GET", "POST"])
@personal
def session_list(course_id: int, session_id: int):
    """The participant list of one session, to print, with who came and who did not."""
    course = _run(course_id)
    session = _session(course, session_id)
    lines = course_runs.session_list(session)
    form = attendance_form([line.enrolment.id for line in lines])(
        data={
            f"e{line.enrolment.id}": ("present" if line.present else "absent")
            for line in lines
            if line.present is not None
        }
        if request.method == "GET"
        else None
    )
    markable = course_runs.may_mark_attendance(session)
    if markable and form.validate_on_submit():
        marks = {
            line.enrolment.id: form[f"e{line.enrolment.id}"].data == "present"
            for line in lines
            if form[f"e{line.enrolment.id}"].data in ("present", "absent")
        }
        try:
            course_runs.record_attendance(session, marks, current_user)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Attendance is saved."), "success")
            return redirect_to(url_for(".session_list", course_id=course.id, session_id=session.id))
    course_runs.record_list_view(lines, current_user, "session list")
    db.session.commit()
    return render(
        "courses/session_list.html",
        status=422 if form.is_submitted() else 200,
        form=form,
        course=course,
        session=session,
        lines=lines,
        markable=markable,
    )

"""Courses for residents: the courses on offer, signing up without an account, and finding
the sign-up again with its code or secret link to print the card or sign off.

As with appointments, the code plus the phone number or name, or the secret link, grants
this browser session access to that one sign-up; nothing personal is on the course pages.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from app.course_signup.forms import (
    ConfirmForm,
    FindForm,
    SignUpForm,
    prepare,
    sign_up_details,
)
from app.extensions import db
from app.i18n import current_language
from app.models import Course, Enrolment, EnrolmentStatus
from app.portal.series_form import apply_domain_error
from app.services import (
    DomainError,
    course_calendars,
    course_messages,
    course_signups,
    courses,
    feeds,
    mail,
)
from app.services.courses import CourseClosed
from app.services.notify import external_url
from app.web import limits
from app.web.calendars import calendar_response, feed_language, not_found, without_body
from app.web.embed import embeddable
from app.web.htmx import redirect_to, render
from app.web.lookups import code_lookup_page
from app.web.security import personal

bp = Blueprint("course_signup", __name__)

SESSION_KEY = "course_sign_up"


@bp.app_template_global()
def course_places_left(course: Course) -> int:
    return courses.places_left(course)


@bp.app_template_global()
def course_url(course: Course, **values) -> str:
    """The course's readable, stable address: /cursussen/12-digisterker."""
    return url_for("course_signup.course", course_id=course.id, slug=courses.slug(course), **values)


@bp.app_template_global()
def course_device_text(course: Course) -> str:
    return courses.device_text(course)


@bp.app_template_global()
def course_next_session(course: Course):
    """The first session today or later, or None."""
    coming = courses.coming_sessions(course)
    return coming[0] if coming else None


@bp.app_template_global()
def course_session_times(course: Course, session) -> tuple:
    """A session's start and end in the location's zone."""
    return courses.session_start(course, session), courses.session_end(course, session)


@bp.app_template_global()
def course_sessions_left(course: Course) -> int:
    """How many sessions are still to come."""
    return len(courses.coming_sessions(course))


def _public_course(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if not courses.is_public(course):
        abort(404)
    return course


# The offer ------------------------------------------------------------------------------------


@embeddable(bp, "/cursussen", block="course_list", label=lambda: _("All courses"))
def index():
    """Every course residents can sign up for."""
    return render("courses_public/index.html", courses=courses.public_courses())


@bp.route("/cursussen/<int:course_id>")
@bp.route("/cursussen/<int:course_id>-<slug>")
def course(course_id: int, slug: str | None = None):
    """One course: what it teaches, when, where, what to bring, the places left."""
    found = _public_course(course_id)
    if slug != courses.slug(found):
        # An old title's address (or none) leads to the current one.
        return redirect(course_url(found), code=301)
    return render(
        "courses_public/course.html",
        course=found,
        sessions=courses.coming_sessions(found, include_cancelled=True),
        places_left=courses.places_left(found),
        sessions_left=len(courses.coming_sessions(found)),
        intake_times=bool(course_signups.intake_slots(found)),
    )


# Signing up -----------------------------------------------------------------------------------


@bp.route("/cursussen/<int:course_id>/aanmelden", methods=["GET", "POST"])
@personal  # a form sent back for correction repeats the resident's details
def sign_up(course_id: int):
    """Ask a name, a way to reach the resident (or none), the language, and an intake time."""
    found = _public_course(course_id)
    form = SignUpForm()
    prepare(form, found, staff=False)
    if request.method == "GET":
        form.language.data = current_language()
    status = 200
    refusal = None
    if form.validate_on_submit():
        try:
            signed_up = _sign_up(found, sign_up_details(form))
        except limits.TooManyAttempts as error:
            refusal, status = error, 429
        except CourseClosed:
            db.session.rollback()
            abort(404)
        except DomainError as error:
            db.session.rollback()
            found = _public_course(course_id)
            prepare(form, found, staff=False)
            apply_domain_error(form, error)
            status = 409 if isinstance(error, course_signups.IntakeTaken) else 422
        else:
            course_messages.notify_signed_up(signed_up)
            db.session.commit()
            mail.send_after_response()
            _grant(signed_up.enrolment)
            session["course_new_link"] = signed_up.token
            session["course_just_signed_up"] = True
            return redirect_to(url_for(".manage"))
    elif form.is_submitted():
        status = 422
    response = render(
        "courses_public/sign_up.html",
        block="sign_up_form",
        status=status,
        form=form,
        course=found,
        places_left=courses.places_left(found),
        refusal=refusal,
    )
    return limits.with_retry_after(response, refusal)


@limits.course_sign_up_attempt
def _sign_up(course: Course, details: course_signups.SignUp):
    """Sign up; sign-ups made count per client address, with the appointments."""
    return course_signups.sign_up(course, details)


# The resident's sign-up -----------------------------------------------------------------------


def _grant(enrolment: Enrolment) -> None:
    session[SESSION_KEY] = enrolment.id


def _granted() -> Enrolment:
    """The sign-up this browser may see, as it is now; otherwise 404."""
    enrolment = db.session.get(Enrolment, session.get(SESSION_KEY) or 0)
    if enrolment is None or enrolment.code is None or enrolment.personal_data_erased_at:
        abort(404)
    return enrolment


@bp.route("/cursussen/aanmelding/link/<token>")
@personal
def open_link(token: str):
    """Open the secret link from the confirmation; the token leaves the address bar."""
    enrolment = course_signups.find_by_token(token)
    if enrolment is None:
        return render("courses_public/find.html", status=404, form=FindForm(), invalid_link=True)
    _grant(enrolment)
    return redirect(url_for(".manage"), code=303)


@bp.route("/cursussen/mijn-aanmelding", methods=["GET", "POST"])
@personal
def find():
    """Find a sign-up with its code and the phone number or name."""
    return code_lookup_page(
        FindForm(),
        _find_by_code,
        grant=_grant,
        found_url=url_for(".manage"),
        not_found=_("We cannot find a sign-up with this code and phone number or name."),
        template="courses_public/find.html",
    )


@limits.course_lookup_attempt
def _find_by_code(code: str, phone_or_name: str) -> Enrolment | None:
    """Look a sign-up up; failed look-ups count per code and per client address."""
    return course_signups.find_by_code(code, phone_or_name)


@bp.route("/cursussen/mijn-aanmelding/overzicht")
@personal
def manage():
    """The resident's place or place in the queue, the sessions, the card, signing off."""
    enrolment = _granted()
    new_link = session.pop("course_new_link", None)
    return render(
        "courses_public/manage.html",
        enrolment=enrolment,
        course=enrolment.course,
        queue_place=courses.queue_place(enrolment),
        intake=course_signups.intake_planned(enrolment),
        may_sign_off=course_signups.may_sign_off(enrolment),
        just_signed_up=session.pop("course_just_signed_up", False),
        new_link=external_url("course_signup.open_link", token=new_link) if new_link else None,
    )


@bp.route("/cursussen/mijn-aanmelding/kaart")
@personal
def card():
    """The printable card with every session."""
    enrolment = _granted()
    return render(
        "courses_public/card.html",
        enrolment=enrolment,
        course=enrolment.course,
        queue_place=courses.queue_place(enrolment),
        intake=course_signups.intake_planned(enrolment),
        back=url_for(".manage"),
    )


@bp.route("/cursussen/mijn-aanmelding/agenda.ics")
@personal
def calendar_file():
    """Every session as a calendar file ('add to my calendar'), for a participant only: who
    waits has no place in the sessions yet."""
    enrolment = _granted()
    if enrolment.status is not EnrolmentStatus.PARTICIPANT:
        abort(404)
    response = Response(course_calendars.enrolment_ics(enrolment), mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="cursus.ics"'
    return response


@bp.route("/cursussen/mijn-aanmelding/afmelden", methods=["GET", "POST"])
@personal
def cancel():
    """Ask 'are you sure?' and give the place (or the place in the queue) back; not after
    the course is over. Only the request that took the resident off sends the receipt."""
    enrolment = _granted()
    if not course_signups.may_sign_off(enrolment):
        return redirect_to(url_for(".manage"))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            course_signups.cancel(enrolment)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect_to(url_for(".manage"))
        course_messages.notify_cancelled(enrolment)
        db.session.commit()
        mail.send_after_response()
        flash(_("You are signed off. Your place goes to someone else."), "success")
        return redirect_to(url_for(".manage"))
    return render(
        "courses_public/cancel.html", enrolment=enrolment, course=enrolment.course, form=form
    )


# Calendar feeds -------------------------------------------------------------------------------


@bp.route("/agenda/cursussen.ics")
def all_courses_feed():
    """Every course's sessions, for residents to subscribe to (no personal data)."""
    return _course_feed(None)


@bp.route("/agenda/cursus/<int:course_id>.ics")
def course_feed(course_id: int):
    """One course's sessions, for residents to subscribe to (no personal data)."""
    return _course_feed(course_id)


def _course_feed(course_id: int | None):
    found = course_calendars.feed_courses(course_id)
    if found is None:
        return not_found()
    language = feed_language()
    window = feeds.Window.current()
    freshness = course_calendars.feed_freshness(found, window, language)
    answer = without_body(freshness, private=False)
    if answer is not None:
        return answer
    with force_locale(language):
        name = found[0].title if course_id is not None else _("Courses")
        body = course_calendars.feed_calendar(
            found, window, name=name, last_modified=freshness.last_modified
        )
    return calendar_response(body, freshness, private=False)

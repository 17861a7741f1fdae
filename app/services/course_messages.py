"""What a course's participant is told: signed up (with the intake time booked with it),
moved up from the waiting list, signed off. Mail goes through the outbox in the same
transaction as the change; who moves up and cannot be mailed is marked for the desk to tell.
"""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.i18n import interface_language
from app.models import BookedVia, Enrolment, EnrolmentStatus
from app.services import mail
from app.services.course_calendars import enrolment_ics
from app.services.course_signups import SignedUp, intake_planned
from app.services.courses import participant, queue_place, slug
from app.services.notify import external_url


def _queue_mail(enrolment: Enrolment, subject: str, template: str, *, ics: bool, **context):
    person = participant(enrolment)
    if not person.email or person.erased:
        return False
    body = render_template(template, enrolment=enrolment, person=person, **context)
    calendar = enrolment_ics(enrolment).decode("utf-8") if ics else None
    mail.queue(person.email, subject, body, ics=calendar, enrolment=enrolment)
    return True


def _link(token: str | None) -> str | None:
    return external_url("course_signup.open_link", token=token) if token else None


def notify_signed_up(signed_up: SignedUp) -> None:
    """Confirmation with the code, every session, the intake time booked with it, the secret
    link (and the sessions as a calendar file for a participant)."""
    enrolment, token = signed_up.enrolment, signed_up.token
    with force_locale(interface_language(participant(enrolment).language)):
        title = enrolment.course.title
        if enrolment.status is EnrolmentStatus.PARTICIPANT:
            subject = _("You are signed up: %(title)s", title=title)
        else:
            subject = _("You are on the waiting list: %(title)s", title=title)
        _queue_mail(
            enrolment,
            subject,
            "mail/course_signed_up.txt",
            ics=enrolment.status is EnrolmentStatus.PARTICIPANT,
            link=_link(token),
            find_link=external_url("course_signup.find"),
            queue_place=queue_place(enrolment),
            intake=intake_planned(enrolment),
        )


def tell_promoted(enrolment: Enrolment) -> None:
    """Tell the resident who moved up that the place is theirs: by mail, else the desk is
    asked to tell them (the enrolment is marked "to tell" until staff tick it off)."""
    with force_locale(interface_language(participant(enrolment).language)):
        mailed = _queue_mail(
            enrolment,
            _("A place for you: %(title)s", title=enrolment.course.title),
            "mail/course_promoted.txt",
            ics=True,
            find_link=external_url("course_signup.find"),
        )
    enrolment.to_tell = not mailed


def notify_cancelled(enrolment: Enrolment) -> None:
    """A receipt: the resident is off the course."""
    with force_locale(interface_language(participant(enrolment).language)):
        _queue_mail(
            enrolment,
            _("You are signed off: %(title)s", title=enrolment.course.title),
            "mail/course_cancelled.txt",
            ics=enrolment.booked_via is not BookedVia.REFERRAL,
            course_link=external_url(
                "course_signup.course", course_id=enrolment.course_id, slug=slug(enrolment.course)
            ),
        )

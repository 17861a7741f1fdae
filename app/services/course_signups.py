"""Signing up for a course without an account (on the site or by staff at the desk), finding
the sign-up again with its code or secret link, signing off, and the intake booked with it.

The places and the waiting list themselves are in ``courses``; the mails in
``course_messages``.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app import clock
from app.extensions import db
from app.models import (
    BookedVia,
    Booking,
    BookingStatus,
    Course,
    Enrolment,
    EnrolmentStatus,
    User,
)
from app.services import DomainError
from app.services import booking as booking_service
from app.services.booking import ResidentDetails
from app.services.courses import (
    CourseClosed,
    coming_sessions,
    has_ended,
    is_public,
    lock,
    place,
    places_left,
    remove,
)


class IntakeTaken(DomainError):
    """The intake time chosen was just taken, or can no longer be booked."""


@dataclass
class SignUp:
    """What a resident gives to sign up: a name, a way to reach them (or none), a language,
    and for a course with an intake, a time for it (or None: the desk plans it)."""

    name: str
    phone: str = ""
    email: str = ""
    language: str = "nl"
    intake_start: datetime | None = None


def intake_slots(course: Course, *, staff: bool = False) -> list:
    """Free times of the course's intake hours before its first coming session; none while
    the course is full (who waits gets an intake planned when a place comes free)."""
    series = course.intake_series
    if not course.needs_intake or series is None or places_left(course) == 0:
        return []
    sessions = coming_sessions(course)
    if not sessions:
        return []
    today = clock.today()
    last = sessions[0].date - timedelta(days=1)
    if last < today:
        return []
    return booking_service.available_slots([series], today, last, staff=staff)


@dataclass
class SignedUp:
    """A sign-up made: the enrolment and its secret link's token."""

    enrolment: Enrolment
    token: str


def sign_up(
    course: Course, details: SignUp, *, by: User | None = None, now: datetime | None = None
) -> SignedUp:
    """Sign a resident up (on their own, or by staff at the desk). A free seat, else the end
    of the waiting list; a participant's intake time is booked in the same transaction (who
    waits gets none: the intake is planned when a place comes free)."""
    return booking_service.retry_on_lock(lambda: _sign_up(course, details, by=by, now=now))


def _sign_up(course, details, *, by, now) -> SignedUp:
    if not is_public(course):
        raise CourseClosed(_("This course takes no new residents."))
    resident = ResidentDetails(
        name=details.name,
        phone=details.phone,
        email=details.email,
        language=details.language,
    )
    booking_service.check_details(resident)
    lock(course)
    intake = None
    if course.needs_intake and details.intake_start is not None and places_left(course) > 0:
        if course.intake_series is None:
            raise IntakeTaken(_("Please choose a time for the intake."), "intake")
        resident.question = _("Intake for the course %(title)s", title=course.title)
        try:
            intake, _intake_token = booking_service.book(
                course.intake_series, details.intake_start, resident, by=by, now=now
            )
        except DomainError as error:
            raise IntakeTaken(
                _("This time for the intake can no longer be booked. Please choose another."),
                "intake",
            ) from error
    token = secrets.token_urlsafe(24)
    enrolment = Enrolment(
        course_id=course.id,
        booked_via=BookedVia.DESK if by else BookedVia.RESIDENT,
        created_by_id=by.id if by else None,
        code=_new_code(),
        token_hash=booking_service.hash_token(token),
        name=details.name.strip(),
        phone=details.phone.strip(),
        email=details.email.strip(),
        language=details.language,
        intake_booking_id=intake.id if intake else None,
    )
    place(enrolment, course)
    if enrolment.status is EnrolmentStatus.PARTICIPANT:
        enrolment.intake_to_plan = course.needs_intake and intake is None
    elif intake is not None:
        # The last place went a moment ago: the intake waits for a place too.
        booking_service.cancel(intake, version=None, by=by)
        enrolment.intake_booking_id = None
        enrolment.intake_to_plan = False
    db.session.flush()
    return SignedUp(enrolment, token)


def _new_code() -> str:
    """A code no sign-up has yet (the unique constraint is the judge)."""
    for _attempt in range(5):
        code = "".join(
            secrets.choice(booking_service.CODE_ALPHABET)
            for _ in range(booking_service.CODE_LENGTH)
        )
        if not db.session.scalar(sa.select(Enrolment.id).where(Enrolment.code == code)):
            return code
    return code


def find_by_token(token: str) -> Enrolment | None:
    """The sign-up a secret link points at (constant-time comparison of the hash)."""
    if not token or len(token) > 64:
        return None
    digest = booking_service.hash_token(token)
    enrolment = db.session.scalar(sa.select(Enrolment).where(Enrolment.token_hash == digest))
    if enrolment is None or not hmac.compare_digest(enrolment.token_hash or "", digest):
        return None
    if enrolment.personal_data_erased_at is not None:
        return None
    return enrolment


def find_by_code(code: str, phone_or_name: str) -> Enrolment | None:
    """The sign-up with this code whose phone number or name matches; None otherwise."""
    enrolment = find_code(code)
    if enrolment is None or not phone_or_name.strip():
        return None
    answer = phone_or_name.strip()
    phone_ok = enrolment.phone and booking_service.normalise_phone(
        answer
    ) == booking_service.normalise_phone(enrolment.phone)
    name_ok = answer.casefold() == enrolment.name.casefold()
    return enrolment if (phone_ok or name_ok) else None


def find_code(code: str) -> Enrolment | None:
    """The sign-up with this code (for staff at the desk, who see the resident), while its
    details are kept."""
    code = booking_service.normalise_code(code)
    if len(code) != booking_service.CODE_LENGTH:
        return None
    enrolment = db.session.scalar(sa.select(Enrolment).where(Enrolment.code == code))
    if enrolment is None or enrolment.personal_data_erased_at is not None:
        return None
    return enrolment


def may_sign_off(enrolment: Enrolment) -> bool:
    """On a list of a course that has not ended yet."""
    return enrolment.status is not EnrolmentStatus.REMOVED and not has_ended(enrolment.course)


def cancel(enrolment: Enrolment, *, by: User | None = None) -> list[Enrolment]:
    """The resident gives their place (or their place in the queue) back; a coming intake
    is cancelled with it. Returns who moved up from the waiting list.

    The course's lists are locked and the sign-up read again first: of two sign-offs at the
    same moment, the second finds it removed and fails, so only one sends a receipt.
    """
    lock(enrolment.course)
    db.session.refresh(enrolment)
    if enrolment.status is EnrolmentStatus.REMOVED:
        raise DomainError(_("You are no longer signed up for this course."))
    if has_ended(enrolment.course):
        raise DomainError(_("The course is over: signing off is no longer needed."))
    moved = remove(enrolment)
    intake = enrolment.intake_booking
    if intake is not None:
        db.session.refresh(intake)
        if intake.status is BookingStatus.BOOKED and intake.slot_start > clock.now():
            booking_service.cancel(intake, version=None, by=by)
    return moved


def intake_planned(enrolment: Enrolment) -> Booking | None:
    """The intake booked with the sign-up, while it stands."""
    intake = enrolment.intake_booking
    if intake is None or intake.status is BookingStatus.CANCELLED:
        return None
    return intake

"""Courses and their lists: the catalogue, the places and the waiting list. A resident signs
up (``course_signups``) or is referred, and gets a place or a place in the queue; the mails
are in ``course_messages``, the calendars in ``course_calendars``.

Places are never checked-then-taken: a participant claims a numbered seat and the unique
constraint on ``(course_id, seat)`` decides, as for the seats of a booking; the queue works
the same way with ``(course_id, position)``. Whatever changes a course's lists (a sign-up, a
cancellation) first locks the course's row on PostgreSQL, so that a place given back and a
sign-up at the same moment still keep the queue's order; on SQLite a writing transaction
holds the database's write lock from its start.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _

from app import clock
from app.extensions import db
from app.models import (
    BookedVia,
    ConsultationHours,
    Course,
    CourseSession,
    Device,
    Enrolment,
    EnrolmentStatus,
    Location,
    Organisation,
    Referral,
    SeriesStatus,
    Topic,
    User,
)
from app.services import DomainError

MAX_SESSIONS = 20


class CourseClosed(DomainError):
    """The course takes no new referrals."""


@dataclass
class CourseData:
    title: str
    location: Location | None
    capacity: int
    first_date: date
    start_time: time
    end_time: time
    sessions: int = 4
    interval_weeks: int = 1
    description: str = ""
    what_to_bring: str = ""
    topic: Topic | None = None
    device: Device = Device.EITHER
    needs_intake: bool = False
    intake_series: ConsultationHours | None = None


def create_course(organisation: Organisation, data: CourseData, by: User | None) -> Course:
    """Offer a course: its sessions every ``interval_weeks`` weeks from the first date."""
    if not data.title.strip():
        raise DomainError(_("Please give the course a name."), "title")
    if data.location is None or not data.location.active:
        raise DomainError(_("Please choose a location."), "location")
    if not 1 <= data.capacity <= 50:
        raise DomainError(_("A course has between 1 and 50 places."), "capacity")
    if not 1 <= data.sessions <= MAX_SESSIONS:
        raise DomainError(
            _("A course has between 1 and %(n)s sessions.", n=MAX_SESSIONS), "sessions"
        )
    if not 1 <= data.interval_weeks <= 4:
        raise DomainError(_("Choose every 1 to 4 weeks."), "interval_weeks")
    if data.end_time <= data.start_time:
        raise DomainError(_("The end time must be after the start time."), "end_time")
    if data.first_date < clock.today():
        raise DomainError(_("The first session cannot be in the past."), "first_date")
    intake = data.intake_series if data.needs_intake else None
    if intake is not None and (
        intake.provider_id != organisation.id
        or intake.status is not SeriesStatus.PUBLISHED
        or not intake.is_bookable_mode
    ):
        raise DomainError(
            _("Choose published hours of your own organisation that take appointments."),
            "intake_series",
        )
    course = Course(
        organisation=organisation,
        location=data.location,
        title=data.title.strip(),
        description=data.description.strip(),
        what_to_bring=data.what_to_bring.strip(),
        capacity=data.capacity,
        created_by_id=by.id if by else None,
        topic=data.topic,
        device=data.device,
        needs_intake=data.needs_intake,
        intake_series=intake,
    )
    course.sessions = [
        CourseSession(
            date=data.first_date + timedelta(weeks=n * data.interval_weeks),
            start_time=data.start_time,
            end_time=data.end_time,
        )
        for n in range(data.sessions)
    ]
    db.session.add(course)
    db.session.flush()
    return course


def open_courses(organisation: Organisation | None = None) -> list[Course]:
    """Courses that take referrals and have a session today or later."""
    upcoming = (
        sa.select(CourseSession.course_id)
        .where(CourseSession.date >= clock.today())
        .scalar_subquery()
    )
    query = sa.select(Course).where(Course.open_for_referrals, Course.id.in_(upcoming))
    if organisation is not None:
        query = query.where(Course.organisation_id == organisation.id)
    return sorted(
        db.session.scalars(query),
        key=lambda c: (c.first_day or date.max, c.title),
    )


def all_courses() -> list[Course]:
    """Every course, newest first."""
    return sorted(
        db.session.scalars(sa.select(Course)),
        key=lambda c: (c.first_day or date.max, c.title),
        reverse=True,
    )


def participants(course: Course) -> list[Enrolment]:
    return list(
        db.session.scalars(
            sa.select(Enrolment)
            .where(
                Enrolment.course_id == course.id,
                Enrolment.status == EnrolmentStatus.PARTICIPANT,
            )
            .order_by(Enrolment.seat)
        )
    )


def waiting_list(course: Course) -> list[Enrolment]:
    return list(
        db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.WAITING)
            .order_by(Enrolment.position)
        )
    )


def counts(course: Course) -> tuple[int, int]:
    """(participants, waiting): numbers only, for whoever may not see the lists."""
    rows = dict(
        db.session.execute(
            sa.select(Enrolment.status, sa.func.count())
            .where(Enrolment.course_id == course.id)
            .group_by(Enrolment.status)
        ).all()
    )
    return rows.get(EnrolmentStatus.PARTICIPANT, 0), rows.get(EnrolmentStatus.WAITING, 0)


def places_left(course: Course) -> int:
    taken, _waiting = counts(course)
    return max(course.capacity - taken, 0)


def queue_place(enrolment: Enrolment) -> int | None:
    """1 for the first on the waiting list; None when not waiting."""
    if enrolment.status is not EnrolmentStatus.WAITING:
        return None
    ahead = db.session.scalar(
        sa.select(sa.func.count()).where(
            Enrolment.course_id == enrolment.course_id,
            Enrolment.status == EnrolmentStatus.WAITING,
            Enrolment.position < enrolment.position,
        )
    )
    return ahead + 1


def enrol(course: Course, referral: Referral) -> Enrolment:
    """Put the referred resident on the course: a free seat, else the end of the queue."""
    if not course.open_for_referrals:
        raise CourseClosed(_("This course takes no new residents."))
    lock(course)
    # Not attached to the course or the referral (and so not to the session) before it has a
    # seat or a place: the savepoints below add it.
    enrolment = Enrolment(
        course_id=course.id, referral_id=referral.id, booked_via=BookedVia.REFERRAL
    )
    place(enrolment, course)
    enrolment.referral = referral
    return enrolment


def remove(enrolment: Enrolment) -> list[Enrolment]:
    """Take the resident off the lists; while the course has sessions to come, the first one
    waiting gets the free seat and is told.

    Returns who moved up from the waiting list.
    """
    from app.services import course_messages

    if enrolment.status is EnrolmentStatus.REMOVED:
        return []
    lock(enrolment.course)
    db.session.refresh(enrolment)
    if enrolment.status is EnrolmentStatus.REMOVED:
        return []  # removed by someone else while we waited for the lock
    was_participant = enrolment.status is EnrolmentStatus.PARTICIPANT
    enrolment.status = EnrolmentStatus.REMOVED
    enrolment.seat = None
    enrolment.position = None
    enrolment.removed_at = clock.now()
    db.session.flush()
    if not was_participant:
        return []
    moved = promote_waiting(enrolment.course)
    for promoted in moved:
        course_messages.tell_promoted(promoted)
    return moved


def promote_waiting(course: Course) -> list[Enrolment]:
    """Give free seats to those waiting longest, while the course has sessions to come (a
    place on a course that is over helps nobody); return who moved up. A course with an
    intake marks the intake "to plan" for who moved up."""
    if has_ended(course):
        return []
    moved = []
    for waiting in waiting_list(course):
        if not _claim_seat(waiting, course):
            break
        if course.needs_intake and waiting.intake_booking_id is None:
            waiting.intake_to_plan = True
        moved.append(waiting)
    return moved


def has_ended(course: Course) -> bool:
    """Every session of the course is over (or it has none)."""
    now = clock.now()
    return all(session_end(course, s) <= now for s in course.sessions)


def lock(course: Course) -> None:
    """Take the course's row lock until the end of the transaction (PostgreSQL; on SQLite the
    writing transaction holds the database's lock already)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(Course.id).where(Course.id == course.id).with_for_update())


def place(enrolment: Enrolment, course: Course) -> None:
    """A free seat, else the end of the queue."""
    if not _claim_seat(enrolment, course):
        _join_queue(enrolment, course)


def _claim_seat(enrolment: Enrolment, course: Course) -> bool:
    """Give the enrolment a free seat; False when the course is full.

    Each attempt is a write in a savepoint: the unique constraint makes it fail when someone
    else holds that seat, also when they took it a moment ago.
    """
    # The places as they are now, and none taken away until this transaction ends: the
    # course row is share-locked (PostgreSQL; SQLite's write lock already serialises), so a
    # change of places waits for this seat, or this seat for the change.
    with db.session.no_autoflush:
        capacity = db.session.scalar(
            sa.select(Course.capacity).where(Course.id == course.id).with_for_update(read=True)
        )
        taken = set(
            db.session.scalars(
                sa.select(Enrolment.seat).where(
                    Enrolment.course_id == course.id,
                    Enrolment.seat.is_not(None),
                    Enrolment.id != (enrolment.id or 0),
                )
            )
        )
    status, position = enrolment.status, enrolment.position
    for seat in range(1, capacity + 1):
        if seat in taken:
            continue
        try:
            with db.session.begin_nested():
                enrolment.status = EnrolmentStatus.PARTICIPANT
                enrolment.seat = seat
                enrolment.position = None
                db.session.add(enrolment)
                db.session.flush()
            return True
        except sa.exc.IntegrityError as error:
            if not _violates(error, "uq_enrolment_course_id_seat", "enrolment.seat"):
                raise
            continue  # taken between our read and our write: try the next seat
    enrolment.status, enrolment.position, enrolment.seat = status, position, None
    return False


def _violates(error: sa.exc.IntegrityError, constraint: str, sqlite_column: str) -> bool:
    """The write failed on this unique constraint (and not on another, or a check): on
    PostgreSQL by the constraint's name, on SQLite by the columns in its message."""
    diag = getattr(error.orig, "diag", None)
    if diag is not None:
        return diag.constraint_name == constraint
    message = str(error.orig)
    return "UNIQUE constraint failed" in message and sqlite_column in message


def _join_queue(enrolment: Enrolment, course: Course) -> None:
    for _attempt in range(50):
        with db.session.no_autoflush:
            last = db.session.scalar(
                sa.select(sa.func.max(Enrolment.position)).where(Enrolment.course_id == course.id)
            )
        try:
            with db.session.begin_nested():
                enrolment.status = EnrolmentStatus.WAITING
                enrolment.seat = None
                enrolment.position = (last or 0) + 1
                db.session.add(enrolment)
                db.session.flush()
            return
        except sa.exc.IntegrityError as error:
            if not _violates(error, "uq_enrolment_course_id_position", "enrolment.position"):
                raise
            continue  # someone joined the queue at the same moment: take the next place
    raise DomainError(_("The waiting list is busy. Please try again."))


# What residents see -----------------------------------------------------------------------


def is_public(course: Course | None) -> bool:
    """Residents see a course that takes sign-ups and has a session today or later, at a
    location in use, given by an active organisation."""
    return (
        course is not None
        and course.open_for_referrals
        and course.location.active
        and course.organisation.active
        and course.last_day is not None
        and course.last_day >= clock.today()
    )


def public_courses(topic: Topic | None = None) -> list[Course]:
    """The courses residents may sign up for (of one topic), the first to start first."""
    return [
        course
        for course in open_courses()
        if is_public(course) and (topic is None or course.topic_id == topic.id)
    ]


def slug(course: Course) -> str:
    """The course's title as a readable piece of its address: 'digisterker-basis'."""
    text = unicodedata.normalize("NFKD", course.title).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return text[:60].rstrip("-") or "cursus"


def coming_sessions(course: Course, *, include_cancelled: bool = False) -> list[CourseSession]:
    """The sessions today or later that take place (and, if asked, the cancelled ones)."""
    today = clock.today()
    return [
        s for s in course.sessions if s.date >= today and (include_cancelled or not s.cancelled)
    ]


def session_start(course: Course, session: CourseSession) -> datetime:
    """The session's start as an aware datetime in the location's zone."""
    return datetime.combine(session.date, session.start_time, ZoneInfo(course.location.timezone))


def session_end(course: Course, session: CourseSession) -> datetime:
    """The session's end as an aware datetime in the location's zone."""
    return datetime.combine(session.date, session.end_time, ZoneInfo(course.location.timezone))


# Who is on a course -------------------------------------------------------------------------


@dataclass(frozen=True)
class Participant:
    """A participant's details, wherever they are kept (referral or sign-up)."""

    name: str
    phone: str
    email: str
    language: str
    erased: bool


def participant(enrolment: Enrolment) -> Participant:
    """The name, contact and language of whoever holds the enrolment: for a referred
    resident from the referral, for a sign-up from the enrolment itself."""
    referral = enrolment.referral
    if referral is not None:
        return Participant(
            name=referral.resident_name,
            phone=referral.phone,
            email=referral.email,
            language=referral.language,
            erased=referral.personal_data_erased_at is not None,
        )
    return Participant(
        name=enrolment.name,
        phone=enrolment.phone,
        email=enrolment.email,
        language=enrolment.language,
        erased=enrolment.personal_data_erased_at is not None,
    )


def device_text(course: Course) -> str:
    """What a participant works on, as residents read it."""
    return {
        Device.OWN: _("Bring your own laptop, tablet or phone."),
        Device.LIBRARY: _("You work on a laptop of the library."),
        Device.EITHER: _("Bring your own laptop, tablet or phone, or borrow a library laptop."),
    }[course.device]

"""Courses and their lists: a referred resident gets a place, or a place in the queue.

Places are never checked-then-taken: a participant claims a numbered seat and the unique
constraint on ``(course_id, seat)`` decides, as for the seats of a booking; the queue works
the same way with ``(course_id, position)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app import clock
from app.extensions import db
from app.models import (
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    Location,
    Organisation,
    Referral,
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
    course = Course(
        organisation=organisation,
        location=data.location,
        title=data.title.strip(),
        description=data.description.strip(),
        what_to_bring=data.what_to_bring.strip(),
        capacity=data.capacity,
        created_by_id=by.id if by else None,
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
    # Not attached to the course or the referral (and so not to the session) before it has a
    # seat or a place: the savepoints below add it.
    enrolment = Enrolment(course_id=course.id, referral_id=referral.id)
    if not _claim_seat(enrolment, course):
        _join_queue(enrolment, course)
    enrolment.referral = referral
    return enrolment


def remove(enrolment: Enrolment) -> None:
    """Take the resident off the lists; the first one waiting gets the free seat."""
    if enrolment.status is EnrolmentStatus.REMOVED:
        return
    was_participant = enrolment.status is EnrolmentStatus.PARTICIPANT
    enrolment.status = EnrolmentStatus.REMOVED
    enrolment.seat = None
    enrolment.position = None
    enrolment.removed_at = clock.now()
    db.session.flush()
    if was_participant:
        promote_waiting(enrolment.course)


def promote_waiting(course: Course) -> list[Enrolment]:
    """Give free seats to those waiting longest; return who moved up."""
    moved = []
    for waiting in waiting_list(course):
        if not _claim_seat(waiting, course):
            break
        moved.append(waiting)
    return moved


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
        except sa.exc.IntegrityError:
            continue  # taken between our read and our write: try the next seat
    enrolment.status, enrolment.position, enrolment.seat = status, position, None
    return False


def _join_queue(enrolment: Enrolment, course: Course) -> None:
    for _attempt in range(10):
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
        except sa.exc.IntegrityError:
            continue  # someone joined the queue at the same moment: take the next place
    raise DomainError(_("The waiting list is busy. Please try again."))

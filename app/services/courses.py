"""Courses and their lists: a resident signs up (on the site or at the desk) or is referred,
and gets a place or a place in the queue.

Places are never checked-then-taken: a participant claims a numbered seat and the unique
constraint on ``(course_id, seat)`` decides, as for the seats of a booking; the queue works
the same way with ``(course_id, position)``. Whatever changes a course's lists (a sign-up, a
cancellation) first locks the course's row on PostgreSQL, so that a place given back and a
sign-up at the same moment still keep the queue's order; on SQLite a writing transaction
holds the database's write lock from its start.
"""

from __future__ import annotations

import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app import clock
from app.extensions import db
from app.i18n import interface_language
from app.models import (
    BookedVia,
    Booking,
    BookingStatus,
    ConsultationHours,
    Course,
    CourseSession,
    Device,
    Enrolment,
    EnrolmentStatus,
    Location,
    Organisation,
    Referral,
    Topic,
    User,
)
from app.services import DomainError, mail, notify
from app.services import booking as booking_service
from app.services.booking import ResidentDetails
from app.services.feeds import Freshness, Window, make_freshness
from app.services.ical import UID_DOMAIN, CalendarEvent, write_calendar
from app.services.notify import external_url

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
        intake_series=data.intake_series if data.needs_intake else None,
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
    _lock(course)
    # Not attached to the course or the referral (and so not to the session) before it has a
    # seat or a place: the savepoints below add it.
    enrolment = Enrolment(
        course_id=course.id, referral_id=referral.id, booked_via=BookedVia.REFERRAL
    )
    _place(enrolment, course)
    enrolment.referral = referral
    return enrolment


def remove(enrolment: Enrolment) -> list[Enrolment]:
    """Take the resident off the lists; the first one waiting gets the free seat and is told.

    Returns who moved up from the waiting list.
    """
    if enrolment.status is EnrolmentStatus.REMOVED:
        return []
    _lock(enrolment.course)
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
        notify_promoted(promoted)
    return moved


def promote_waiting(course: Course) -> list[Enrolment]:
    """Give free seats to those waiting longest; return who moved up."""
    moved = []
    for waiting in waiting_list(course):
        if not _claim_seat(waiting, course):
            break
        moved.append(waiting)
    return moved


def lock(course: Course) -> None:
    """Lock the course's row before changing its lists (see ``_lock``)."""
    _lock(course)


def _lock(course: Course) -> None:
    """Take the course's row lock until the end of the transaction (PostgreSQL; on SQLite the
    writing transaction holds the database's lock already)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(Course.id).where(Course.id == course.id).with_for_update())


def _place(enrolment: Enrolment, course: Course) -> None:
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
        except sa.exc.IntegrityError:
            continue  # taken between our read and our write: try the next seat
    enrolment.status, enrolment.position, enrolment.seat = status, position, None
    return False


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
        except sa.exc.IntegrityError:
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


def coming_sessions(course: Course) -> list[CourseSession]:
    """The sessions today or later."""
    today = clock.today()
    return [s for s in course.sessions if s.date >= today]


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


# Signing up without an account -------------------------------------------------------------


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
    """Free times of the course's intake hours before its first coming session."""
    series = course.intake_series
    if not course.needs_intake or series is None:
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
    """A sign-up made: the enrolment, its secret link's token, and the intake's, if booked."""

    enrolment: Enrolment
    token: str
    intake_token: str | None = None


def sign_up(
    course: Course, details: SignUp, *, by: User | None = None, now: datetime | None = None
) -> SignedUp:
    """Sign a resident up (on their own, or by staff at the desk). A free seat, else the end
    of the waiting list; with an intake time, the intake is booked in the same transaction."""
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
    intake = intake_token = None
    if course.needs_intake and details.intake_start is not None:
        if course.intake_series is None:
            raise IntakeTaken(_("Please choose a time for the intake."), "intake")
        resident.question = _("Intake for the course %(title)s", title=course.title)
        try:
            # First, so that a retry inside the booking never loses the enrolment.
            intake, intake_token = booking_service.book(
                course.intake_series, details.intake_start, resident, by=by, now=now
            )
        except DomainError as error:
            raise IntakeTaken(
                _("This time for the intake can no longer be booked. Please choose another."),
                "intake",
            ) from error
    _lock(course)
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
        intake_to_plan=course.needs_intake and intake is None,
    )
    _place(enrolment, course)
    return SignedUp(enrolment, token, intake_token)


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
    code = booking_service.normalise_code(code)
    if len(code) != booking_service.CODE_LENGTH or not phone_or_name.strip():
        return None
    enrolment = db.session.scalar(sa.select(Enrolment).where(Enrolment.code == code))
    if enrolment is None or enrolment.personal_data_erased_at is not None:
        return None
    answer = phone_or_name.strip()
    phone_ok = enrolment.phone and booking_service.normalise_phone(
        answer
    ) == booking_service.normalise_phone(enrolment.phone)
    name_ok = answer.casefold() == enrolment.name.casefold()
    return enrolment if (phone_ok or name_ok) else None


def cancel(enrolment: Enrolment, *, by: User | None = None) -> list[Enrolment]:
    """The resident gives their place (or their place in the queue) back; a coming intake
    is cancelled with it. Returns who moved up from the waiting list."""
    if enrolment.status is EnrolmentStatus.REMOVED:
        raise DomainError(_("You are no longer signed up for this course."))
    intake = enrolment.intake_booking
    if (
        intake is not None
        and intake.status is BookingStatus.BOOKED
        and intake.slot_start > clock.now()
    ):
        booking_service.cancel(intake, version=None, by=by)
    return remove(enrolment)


def intake_planned(enrolment: Enrolment) -> Booking | None:
    """The intake booked with the sign-up, while it stands."""
    intake = enrolment.intake_booking
    if intake is None or intake.status is BookingStatus.CANCELLED:
        return None
    return intake


# Messages to the participant ------------------------------------------------------------------


def _queue_mail(enrolment: Enrolment, subject: str, template: str, *, ics: bool, **context):
    person = participant(enrolment)
    if not person.email or person.erased:
        return
    body = render_template(template, enrolment=enrolment, person=person, **context)
    calendar = enrolment_ics(enrolment).decode("utf-8") if ics else None
    mail.queue(person.email, subject, body, ics=calendar, enrolment=enrolment)


def _link(token: str | None) -> str | None:
    return external_url("course_signup.open_link", token=token) if token else None


def notify_signed_up(signed_up: SignedUp) -> None:
    """Confirmation with the code, every session, the secret link (and the sessions as a
    calendar file for a participant); an intake booked with it has its own confirmation."""
    enrolment, token = signed_up.enrolment, signed_up.token
    if signed_up.intake_token and enrolment.intake_booking is not None:
        notify.booking_confirmed(enrolment.intake_booking, signed_up.intake_token)
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
        )


def notify_promoted(enrolment: Enrolment) -> None:
    """A place came free for the resident who waited longest."""
    with force_locale(interface_language(participant(enrolment).language)):
        _queue_mail(
            enrolment,
            _("A place for you: %(title)s", title=enrolment.course.title),
            "mail/course_promoted.txt",
            ics=True,
            find_link=external_url("course_signup.find"),
        )


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


# Calendars ----------------------------------------------------------------------------------


def _session_event(course: Course, session: CourseSession, **overrides) -> CalendarEvent:
    location = course.location
    text = [course.description] if course.description else []
    text.append(device_text(course))
    if course.what_to_bring:
        text.append(f"{_('What to bring')}: {course.what_to_bring}")
    values = {
        "uid": f"course-session-{session.id}@{UID_DOMAIN}",
        "start": session_start(course, session),
        "end": session_end(course, session),
        "summary": f"{course.title} ({course.organisation.name})",
        "location": f"{location.name}, {location.address}",
        "description": "\n\n".join(text),
        "url": external_url("course_signup.course", course_id=course.id, slug=slug(course)),
        # A cancelled session stays in calendars, marked so; each change raises its version.
        "sequence": session.version,
        "last_modified": session.cancelled_at or course.updated_at or clock.now(),
        "cancelled": session.cancelled,
    }
    values.update(overrides)
    return CalendarEvent(**values)


def device_text(course: Course) -> str:
    """What a participant works on, as residents read it."""
    return {
        Device.OWN: _("Bring your own laptop, tablet or phone."),
        Device.LIBRARY: _("You work on a laptop of the library."),
        Device.EITHER: _("Bring your own laptop, tablet or phone, or borrow a library laptop."),
    }[course.device]


def enrolment_ics(enrolment: Enrolment) -> bytes:
    """The participant's sessions as a calendar file, in the current language."""
    course = enrolment.course
    removed = enrolment.status is EnrolmentStatus.REMOVED
    events = [
        _session_event(
            course,
            session,
            uid=f"enrolment-{enrolment.id}-session-{session.id}@{UID_DOMAIN}",
            description=_("Your code: %(code)s", code=enrolment.display_code)
            if enrolment.code
            else "",
            sequence=(1 if removed else 0) + session.version,
            last_modified=enrolment.updated_at or clock.now(),
            cancelled=removed or session.cancelled,
        )
        for session in course.sessions
    ]
    return write_calendar(
        course.title, events, stamp=clock.now(), timezone=course.location.timezone
    )


def feed_courses(course_id: int | None) -> list[Course] | None:
    """The courses of a public feed: one course, or every course residents see; None when
    the one course is unknown or closed."""
    if course_id is None:
        return public_courses()
    course = db.session.get(Course, course_id)
    return [course] if is_public(course) else None


def feed_freshness(found: list[Course], window: Window, language: str) -> Freshness:
    """ETag and Last-Modified of a course feed from what it shows: the courses, their
    sessions in the window, their places and organisations."""
    parts: list = ["courses", language]
    instants = []
    for course in found:
        parts += [course.id, course.updated_at, course.location.updated_at]
        parts += [course.organisation.updated_at]
        parts += [
            (s.id, s.date, s.start_time, s.end_time)
            for s in course.sessions
            if window.start <= s.date <= window.end
        ]
        instants += [course.updated_at, course.location.updated_at, course.organisation.updated_at]
    return make_freshness(window, parts, instants)


def feed_calendar(
    found: list[Course], window: Window, *, name: str, last_modified: datetime
) -> bytes:
    """The sessions of the courses in the window as a published calendar."""
    from flask import current_app

    events = [
        _session_event(course, session)
        for course in found
        for session in course.sessions
        if window.start <= session.date <= window.end
    ]
    events.sort(key=lambda e: (e.start.astimezone(UTC), e.uid))
    return write_calendar(
        name,
        events,
        stamp=clock.now(),
        refresh=timedelta(minutes=current_app.config["FEED_REFRESH_MINUTES"]),
        last_modified=last_modified,
    )

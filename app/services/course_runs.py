"""Running a course once it is offered: its sessions, its places, sign-up, and attendance.

Everything here is for the staff of the organisation that gives the course (the views ask
``app.permissions``). What two staff members could do at once is decided by the database:
a session row is locked while it changes, the places of a course are changed with the course
row locked (first, as every change of its lists does), and attendance is
one row per participant and session, ``(enrolment_id, session_id)`` unique.

Participants with an e-mail address are told of every change to their sessions, in their
language, with the course's sessions as a calendar file; who they are and how to reach them
is read in one place, ``participant_contact``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from app import clock
from app.extensions import db
from app.i18n import interface_language
from app.models import (
    Attendance,
    BookedVia,
    Course,
    CourseLogEntry,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    User,
)
from app.services import DomainError, course_messages, courses, ical, mail, referrals

MAX_CAPACITY = 50
MAX_REASON = 200


class SessionError(DomainError):
    """A session cannot be changed this way."""


# Who the participants are -------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """How to reach a participant: their name, e-mail address (or "") and language."""

    name: str
    email: str
    language: str


def participant_contact(enrolment: Enrolment) -> Contact:
    """The participant's name, e-mail address and language, from the referral that put them
    on the course or from their own sign-up; erased details leave an empty name and address.
    """
    person = courses.participant(enrolment)
    if person.erased:
        return Contact("", "", person.language or "nl")
    return Contact(person.name or "", person.email or "", person.language or "nl")


def participant_source(enrolment: Enrolment) -> str:
    """How the participant came on the course: the referring organisation, or a sign-up."""
    if enrolment.referral is not None:
        return enrolment.referral.from_organisation.name
    if enrolment.booked_via is BookedVia.DESK:
        return _("Signed up at the desk")
    return _("Signed up themselves")


def record_list_view(lines: list[ListLine], user: User, what: str) -> None:
    """Showing referred participants' names is a view of their referral (audit log)."""
    for line in lines:
        if line.enrolment.referral is not None:
            referrals.record_view(line.enrolment.referral, user, what)


# Sessions -----------------------------------------------------------------------------------


def session_start(session: CourseSession) -> datetime:
    """When the session starts, as an aware time at the course's location."""
    zone = ZoneInfo(session.course.location.timezone)
    return datetime.combine(session.date, session.start_time, zone)


def session_end(session: CourseSession) -> datetime:
    zone = ZoneInfo(session.course.location.timezone)
    return datetime.combine(session.date, session.end_time, zone)


def has_started(session: CourseSession) -> bool:
    return session_start(session) <= clock.now()


def may_mark_attendance(session: CourseSession) -> bool:
    """Attendance is marked from the session's day on, also long afterwards."""
    return not session.cancelled and session.date <= clock.today()


def _check_times(course: Course, day: date, start: time, end: time) -> None:
    if end <= start:
        raise SessionError(_("The end time must be after the start time."), "end_time")
    zone = ZoneInfo(course.location.timezone)
    if datetime.combine(day, start, zone) <= clock.now():
        raise SessionError(_("A session cannot be in the past."), "date")


def _session_count(course: Course) -> int:
    """How many sessions the course has now (its row locked, so nobody adds one meanwhile)."""
    return db.session.scalar(sa.select(sa.func.count()).where(CourseSession.course_id == course.id))


def _locked_session(session: CourseSession) -> CourseSession:
    """The session row, locked until the transaction ends, as it is now."""
    found = db.session.scalar(
        sa.select(CourseSession)
        .where(CourseSession.id == session.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise SessionError(_("This session no longer exists."))
    return found


def _save_times(session: CourseSession, day: date, start: time, end: time) -> None:
    """Write the date and times; another session of the course at that time is refused."""
    try:
        with db.session.begin_nested():
            session.date, session.start_time, session.end_time = day, start, end
            db.session.add(session)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise SessionError(
            _("The course already has a session at that date and time."), "start_time"
        ) from None


def edit_session(session: CourseSession, day: date, start: time, end: time, by: User | None) -> int:
    """Give a coming session another date or times; return how many participants were told
    by e-mail."""
    session = _locked_session(session)
    if session.cancelled:
        raise SessionError(_("This session is cancelled."))
    if has_started(session):
        raise SessionError(_("This session has already started: it cannot be changed."))
    _check_times(session.course, day, start, end)
    if (day, start, end) == (session.date, session.start_time, session.end_time):
        return 0
    before, was = describe(session), (session.date, session.start_time, session.end_time)
    _save_times(session, day, start, end)
    session.version += 1
    db.session.flush()
    log(session.course, by, "session_moved", f"{before} -> {describe(session)}", session)
    return notify_participants(session.course, "moved", session=session, before=was)


def add_session(course: Course, day: date, start: time, end: time, by: User | None) -> int:
    """Add a session to the course; return how many participants were told by e-mail."""
    _lock_course(course)
    if _session_count(course) >= courses.MAX_SESSIONS:
        raise SessionError(
            _("A course has between 1 and %(n)s sessions.", n=courses.MAX_SESSIONS), "date"
        )
    _check_times(course, day, start, end)
    session = CourseSession(course_id=course.id)
    _save_times(session, day, start, end)
    db.session.refresh(course, ["sessions"])
    log(course, by, "session_added", describe(session), session)
    return notify_participants(course, "added", session=session)


def remove_session(session: CourseSession, by: User | None) -> int:
    """Take a coming session off the course; return how many participants were told by
    e-mail."""
    course = session.course
    _lock_course(course)
    session = _locked_session(session)
    if has_started(session):
        raise SessionError(_("Only a session that has not started yet can be removed."))
    if _session_count(course) <= 1:
        raise SessionError(_("A course keeps at least one session."))
    what = describe(session)
    # The calendar file tells calendars the session is off: as cancelled, one version on.
    told = 0
    session.version += 1
    if not session.cancelled:  # those of a cancelled session were told already
        session.cancelled_at = clock.now()
        told = notify_participants(course, "removed", session=session)
    log(course, by, "session_removed", what)
    db.session.flush()  # the log and the mail first: deleting the session unlinks the log
    db.session.delete(session)
    db.session.flush()
    db.session.refresh(course, ["sessions"])
    return told


def cancel_session(session: CourseSession, reason: str, by: User | None) -> int:
    """Cancel one coming session with a reason: it stays on the course, marked cancelled.
    Return how many participants were told by e-mail."""
    reason = " ".join(reason.split())
    if not reason:
        raise SessionError(_("Please give a reason."), "reason")
    if len(reason) > MAX_REASON:
        raise SessionError(_("Please keep the reason short."), "reason")
    session = _locked_session(session)
    if session.cancelled:
        raise SessionError(_("This session is cancelled."))
    if has_started(session):
        raise SessionError(_("This session has already started: it cannot be cancelled."))
    session.cancelled_at = clock.now()
    session.cancel_reason = reason
    session.version += 1
    db.session.flush()
    log(session.course, by, "session_cancelled", describe(session), session)
    return notify_participants(session.course, "cancelled", session=session)


def describe(session: CourseSession) -> str:
    """A session as a short code for the log: 2026-12-09 10:00-12:00."""
    return f"{session.date.isoformat()} {session.start_time:%H:%M}-{session.end_time:%H:%M}"


# Places and sign-up -------------------------------------------------------------------------


def _lock_course(course: Course) -> Course:
    """The course row, locked until the transaction ends, as it is now."""
    return db.session.scalar(
        sa.select(Course)
        .where(Course.id == course.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _participants(course: Course, *, lock: bool = False) -> list[Enrolment]:
    query = (
        sa.select(Enrolment)
        .where(Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.PARTICIPANT)
        .order_by(Enrolment.id)
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update()
    return list(db.session.scalars(query))


def change_capacity(course: Course, capacity: int, by: User | None) -> list[Enrolment]:
    """Give the course another number of places; return who moved up from the waiting list.

    Never fewer places than participants. The course row is locked first, as every change of
    a course's lists locks it (``courses``), so a seat claimed or given back at this moment
    is either counted here or waits and sees the new number.
    """
    if not 1 <= capacity <= MAX_CAPACITY:
        raise DomainError(_("A course has between 1 and 50 places."), "capacity")
    course = _lock_course(course)
    before = course.capacity
    if capacity == before:
        return []
    taken = _participants(course)
    if capacity < len(taken):
        raise DomainError(
            ngettext(
                "The course has %(num)s participant: it needs at least %(num)s place.",
                "The course has %(num)s participants: it needs at least %(num)s places.",
                len(taken),
            ),
            "capacity",
        )
    if capacity < before:
        # Seats are numbered 1 to the number of places: move those above it down.
        free = sorted(set(range(1, capacity + 1)) - {e.seat for e in taken})
        for enrolment in sorted(taken, key=lambda e: e.seat):
            if enrolment.seat > capacity:
                enrolment.seat = free.pop(0)
                db.session.flush()
    course.capacity = capacity
    db.session.flush()
    moved = courses.promote_waiting(course) if capacity > before else []
    log(course, by, "capacity", f"{before} -> {capacity}")
    for enrolment in moved:
        log(course, by, "promoted", f"enrolment {enrolment.id}")
        course_messages.tell_promoted(enrolment)
    return moved


def set_open(course: Course, open_for_referrals: bool, by: User | None) -> bool:
    """Open or close the course for new residents; False when it already was so."""
    course = _lock_course(course)
    if course.open_for_referrals == open_for_referrals:
        return False
    course.open_for_referrals = open_for_referrals
    db.session.flush()
    log(course, by, "opened" if open_for_referrals else "closed")
    return True


# Attendance ---------------------------------------------------------------------------------


@dataclass
class ListLine:
    """One line of a session's participant list: who, and whether they came (None: not
    marked yet)."""

    enrolment: Enrolment
    contact: Contact
    source: str
    present: bool | None


def session_list(session: CourseSession) -> list[ListLine]:
    """The participants of a session: everyone on the course now, and anyone marked for this
    session who has left the course since, in the order of their seats."""
    marks = dict(
        db.session.execute(
            sa.select(Attendance.enrolment_id, Attendance.present).where(
                Attendance.session_id == session.id
            )
        ).all()
    )
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .where(
            Enrolment.course_id == session.course_id,
            sa.or_(
                Enrolment.status == EnrolmentStatus.PARTICIPANT,
                Enrolment.id.in_(list(marks) or [0]),
            ),
        )
        .order_by(Enrolment.seat.is_(None), Enrolment.seat, Enrolment.id)
    ).all()
    return [
        ListLine(e, participant_contact(e), participant_source(e), marks.get(e.id))
        for e in enrolments
    ]


def record_attendance(session: CourseSession, marks: dict[int, bool], by: User | None) -> int:
    """Mark who came (True) and who did not (False) per enrolment; return how many changed.

    Only the session's list can be marked. Each mark is one row per participant and session:
    a second staff member marking at the same moment changes that row, never adds one.
    """
    session = db.session.scalar(
        sa.select(CourseSession)
        .where(CourseSession.id == session.id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    if session is None:
        raise SessionError(_("This session no longer exists."))
    if not may_mark_attendance(session):
        raise SessionError(_("Attendance can be marked from the day of the session on."))
    allowed = {line.enrolment.id for line in session_list(session)}
    changed = 0
    for enrolment_id, present in marks.items():
        if enrolment_id not in allowed:
            raise SessionError(_("This resident is not on the list of this session."))
        if _mark(session, enrolment_id, present, by):
            changed += 1
            # By enrolment number, never by name: the log outlives the resident's details.
            mark = "present" if present else "absent"
            log(
                session.course,
                by,
                "attendance",
                f"{describe(session)} #{enrolment_id}: {mark}",
                session,
            )
    return changed


def _mark(session: CourseSession, enrolment_id: int, present: bool, by: User | None) -> bool:
    for _attempt in range(3):
        row = db.session.scalar(
            sa.select(Attendance)
            .where(Attendance.session_id == session.id, Attendance.enrolment_id == enrolment_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if row is not None:
            if row.present == present:
                return False
            row.present = present
            row.marked_at = clock.now()
            row.marked_by_id = by.id if by else None
            db.session.flush()
            return True
        try:
            with db.session.begin_nested():
                db.session.add(
                    Attendance(
                        session_id=session.id,
                        enrolment_id=enrolment_id,
                        present=present,
                        marked_at=clock.now(),
                        marked_by_id=by.id if by else None,
                    )
                )
                db.session.flush()
            return True
        except sa.exc.IntegrityError:
            continue  # marked by someone else a moment ago: change their row instead
    raise SessionError(_("The list is busy. Please try again."))


def attendance_counts(course: Course) -> dict[int, tuple[int, int]]:
    """Per session id: (present, absent)."""
    rows = db.session.execute(
        sa.select(Attendance.session_id, Attendance.present, sa.func.count())
        .join(CourseSession, CourseSession.id == Attendance.session_id)
        .where(CourseSession.course_id == course.id)
        .group_by(Attendance.session_id, Attendance.present)
    ).all()
    counts: dict[int, tuple[int, int]] = {}
    for session_id, present, n in rows:
        came, absent = counts.get(session_id, (0, 0))
        counts[session_id] = (came + n, absent) if present else (came, absent + n)
    return counts


# The log ------------------------------------------------------------------------------------


def log(
    course: Course,
    by: User | None,
    action: str,
    detail: str = "",
    session: CourseSession | None = None,
) -> CourseLogEntry:
    """Write who changed what on the course (no resident's data), in this transaction."""
    entry = CourseLogEntry(
        course_id=course.id,
        session_id=session.id if session is not None and session.id else None,
        user_id=by.id if by else None,
        at=clock.now(),
        action=action,
        detail=detail[:200],
    )
    db.session.add(entry)
    return entry


def log_entries(course: Course, limit: int = 50) -> list[CourseLogEntry]:
    """The course's latest changes, newest first."""
    return list(
        db.session.scalars(
            sa.select(CourseLogEntry)
            .where(CourseLogEntry.course_id == course.id)
            .order_by(CourseLogEntry.at.desc(), CourseLogEntry.id.desc())
            .limit(limit)
        )
    )


# Telling the participants -------------------------------------------------------------------


def session_event(session: CourseSession) -> ical.CalendarEvent:
    """A session as a calendar event: cancelled sessions stay, with STATUS:CANCELLED."""
    course = session.course
    location = course.location
    return ical.CalendarEvent(
        uid=f"course-session-{session.id}@{ical.UID_DOMAIN}",
        start=session_start(session),
        end=session_end(session),
        summary=f"{course.title} ({course.organisation.name})",
        location=f"{location.name}, {location.address}",
        description=(
            _("Cancelled: %(reason)s", reason=session.cancel_reason)
            if session.cancel_reason
            else ""
        ),
        sequence=session.version,
        last_modified=session.cancelled_at or clock.now(),
        cancelled=session.cancelled,
    )


def course_calendar(course: Course, extra: Iterable[CourseSession] = ()) -> bytes:
    """The course's sessions as a calendar file, in the current language."""
    sessions = {s.id: s for s in [*course.sessions, *extra]}
    events = [
        session_event(s) for s in sorted(sessions.values(), key=lambda s: (s.date, s.start_time))
    ]
    return ical.write_calendar(
        course.title, events, stamp=clock.now(), timezone=course.location.timezone
    )


SUBJECTS = {
    "moved": lambda title: _("New time for a session of %(title)s", title=title),
    "added": lambda title: _("A session added to %(title)s", title=title),
    "removed": lambda title: _("A session of %(title)s is cancelled", title=title),
    "cancelled": lambda title: _("A session of %(title)s is cancelled", title=title),
    "promoted": lambda title: _("You have a place on %(title)s", title=title),
}


def notify_participant(
    enrolment: Enrolment,
    change: str,
    *,
    session: CourseSession | None = None,
    before: tuple | None = None,
) -> bool:
    """Mail one participant about a change, in their language, with the course's sessions
    as a calendar file; False when there is no address to write to."""
    contact = participant_contact(enrolment)
    if not contact.email:
        return False
    course = enrolment.course
    with force_locale(interface_language(contact.language)):
        extra = [session] if session is not None else []
        body = render_template(
            "courses/mail/change.txt",
            change=change,
            contact=contact,
            course=course,
            session=session,
            before=before,
            sessions=sorted(
                {s.id: s for s in [*course.sessions, *extra]}.values(),
                key=lambda s: (s.date, s.start_time),
            ),
        )
        ics = course_calendar(course, extra).decode("utf-8")
        mail.queue(contact.email, SUBJECTS[change](course.title), body, ics=ics)
    return True


def notify_participants(
    course: Course,
    change: str,
    *,
    session: CourseSession | None = None,
    before: tuple | None = None,
) -> int:
    """Mail every participant with an address about a change to the sessions; return how
    many were written to (the others have no address: staff call them)."""
    told = 0
    for enrolment in _participants(course):
        told += notify_participant(enrolment, change, session=session, before=before)
    return told

"""Courses as calendars: a participant's own sessions as a calendar file, and the public
feeds of one course or all courses (the same writer and conditional GET as the other feeds).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app import clock
from app.extensions import db
from app.models import Course, CourseSession, Enrolment, EnrolmentStatus
from app.services.courses import (
    device_text,
    is_public,
    public_courses,
    session_end,
    session_start,
    slug,
)
from app.services.feeds import Freshness, Window, make_freshness
from app.services.ical import UID_DOMAIN, CalendarEvent, write_calendar
from app.services.notify import external_url


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


def enrolment_ics(enrolment: Enrolment) -> bytes:
    """The participant's sessions as a calendar file, in the current language (all of them
    cancelled once the resident is off the course). Not for who waits: they have no place."""
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
    sessions in the window, their places and organisations; and the newest change to any
    course (a course closed or ended leaves the feed, and touching a session touches its
    course), so a copy from before that is never answered with 304."""
    newest, number = db.session.execute(
        sa.select(sa.func.max(Course.updated_at), sa.func.count(Course.id))
    ).one()
    parts: list = ["courses", language, newest, number]
    instants = [newest]
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

"""Reminders before appointments and course sessions, and the desk's call list.

``REMINDER_HOURS_BEFORE`` hours before an appointment (24: the day before) the resident gets
one short reminder in their own language: by e-mail when they gave an address, otherwise by
SMS when they gave a mobile number and an SMS provider is set. Residents with only a phone
number that no SMS reaches are on the desk's "call the day before" list; a call ticked off
there counts as their reminder.

Exactly one reminder per appointment version, decided by the database: every reminder has a
key (booking and version; enrolment and session) that is unique in the outbox, so two runs
of ``flask send-messages`` at once never write two. A moved appointment gets a reminder for
its new time only (the version rose); a cancelled one, or one whose time no longer exists,
none; and one whose time was chosen after its reminder moment none either: the resident was
just told (confirmation, "new time" message or the desk).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app import clock
from app.extensions import db
from app.models import (
    Booking,
    BookingStatus,
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    MessageChannel,
    OutboxMessage,
    OutboxStatus,
    User,
)
from app.services import booking as booking_service
from app.services import courses, notify, outbox, sms
from app.transactions import writing

KIND = "reminder"


def participant_contact(enrolment: Enrolment) -> courses.Participant | None:
    """A course participant's name, contact details and language (from the referral that put
    them on the list, or their own sign-up); None when they were erased."""
    person = courses.participant(enrolment)
    return None if person.erased else person


def hours_before() -> timedelta:
    return timedelta(hours=current_app.config["REMINDER_HOURS_BEFORE"])


def channel_for(email: str, phone: str) -> tuple[MessageChannel, str] | None:
    """How a reminder reaches this resident (channel and address), or None: staff call."""
    if email and email.strip():
        return MessageChannel.MAIL, email.strip()
    if sms.is_configured():
        number = sms.mobile_number(phone)
        if number:
            return MessageChannel.SMS, number
    return None


def booking_key(booking: Booking) -> str:
    return f"{KIND}:booking:{booking.id}:v{booking.version}"


def _chosen_at(booking: Booking) -> datetime:
    return booking.time_chosen_at or booking.created_at


def _reminded(booking_ids: list[int]) -> dict[int, list[datetime]]:
    """When each booking's reminders (or ticked-off calls) were written."""
    if not booking_ids:
        return {}
    rows = db.session.execute(
        sa.select(OutboxMessage.booking_id, OutboxMessage.created_at).where(
            OutboxMessage.booking_id.in_(booking_ids), OutboxMessage.kind == KIND
        )
    )
    written: dict[int, list[datetime]] = {}
    for booking_id, created_at in rows:
        written.setdefault(booking_id, []).append(created_at)
    return written


def _needs_reminder(booking: Booking, written: dict[int, list[datetime]]) -> bool:
    """Booked for this time before its reminder moment, and not reminded of this time yet.

    (The key of the reminder is the version, which also rises when staff mark who came and
    undo it; a reminder written after the time was chosen already covers this time.)
    """
    chosen = _chosen_at(booking)
    if chosen > booking.slot_start - hours_before():
        return False
    return not any(created >= chosen for created in written.get(booking.id, []))


def _active_bookings():
    return sa.select(Booking).where(
        Booking.status == BookingStatus.BOOKED,
        Booking.affected_at.is_(None),
        Booking.personal_data_erased_at.is_(None),
    )


def due_bookings(now: datetime) -> list[Booking]:
    """Bookings whose reminder moment has come and that have had no reminder for this time."""
    bookings = db.session.scalars(
        _active_bookings()
        .where(Booking.slot_start > now, Booking.slot_start <= now + hours_before())
        .order_by(Booking.slot_start, Booking.id)
    ).all()
    written = _reminded([b.id for b in bookings])
    return [b for b in bookings if _needs_reminder(b, written)]


def due_sessions(now: datetime) -> list[tuple[CourseSession, datetime, datetime]]:
    """Course sessions starting within the reminder window: (session, local start, end)."""
    last = now + hours_before()
    sessions = db.session.scalars(
        sa.select(CourseSession)
        .where(
            CourseSession.cancelled_at.is_(None),
            CourseSession.date >= now.date() - timedelta(days=1),
            CourseSession.date <= last.date() + timedelta(days=1),
        )
        .order_by(CourseSession.date, CourseSession.start_time)
    ).all()
    due = []
    for session in sessions:
        course = session.course
        start, end = courses.session_start(course, session), courses.session_end(course, session)
        if now < start.astimezone(UTC) <= last:
            due.append((session, start, end))
    return due


def _participants(course: Course) -> list[Enrolment]:
    return list(
        db.session.scalars(
            sa.select(Enrolment)
            .where(
                Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.PARTICIPANT
            )
            .order_by(Enrolment.id)
        )
    )


def write_booking_reminders(now: datetime) -> int:
    written = 0
    for booking in due_bookings(now):
        reach = channel_for(booking.email, booking.phone)
        if reach is None:
            continue  # on the call list
        channel, recipient = reach
        if notify.booking_reminder(booking, booking_key(booking), channel, recipient):
            written += 1
    return written


def write_session_reminders(now: datetime) -> int:
    written = 0
    for session, start, end in due_sessions(now):
        moment = start.astimezone(UTC) - hours_before()
        for enrolment in _participants(session.course):
            if enrolment.created_at > moment:
                continue  # put on the list after the reminder moment: they were just told
            contact = participant_contact(enrolment)
            reach = contact and channel_for(contact.email, contact.phone)
            if not reach:
                continue
            channel, recipient = reach
            key = (
                f"{KIND}:enrolment:{enrolment.id}:session:{session.id}:"
                f"{start.astimezone(UTC):%Y%m%dT%H%M}"
            )
            if notify.course_reminder(enrolment, contact, start, end, key, channel, recipient):
                written += 1
    return written


def write_due(now: datetime | None = None) -> int:
    """Write every reminder that is due, in one transaction; return how many were written."""
    now = now or clock.now()
    db.session.commit()
    with writing():
        written = write_booking_reminders(now) + write_session_reminders(now)
        db.session.commit()
    return written


def send_messages() -> tuple[int, int, int]:
    """What one run of ``flask send-messages`` does: write due reminders, then send every
    due message. Returns (reminders written, sent, failed)."""
    written = write_due()
    sent, failed = outbox.send_all_due()
    return written, sent, failed


# The desk's "call the day before" list ------------------------------------------------------


@dataclass(frozen=True)
class ToCall:
    booking: Booking
    reminder_failed: bool  # a reminder was written for this time but never arrived


def call_list(query: sa.Select, day: date) -> list[ToCall]:
    """Appointments on ``day`` (of the bookings ``query`` selects, e.g. those the user may
    see) with a phone number to call: no reminder reaches the resident, or the reminder for
    this time was given up; and nobody has called them about this time yet."""
    bookings = db.session.scalars(
        query.where(
            Booking.status == BookingStatus.BOOKED,
            Booking.affected_at.is_(None),
            Booking.personal_data_erased_at.is_(None),
            Booking.phone != "",
            *booking_service.day_bounds(day),
        ).order_by(Booking.slot_start, Booking.id)
    ).all()
    rows: dict[int, list[tuple]] = {}
    if bookings:
        for booking_id, created_at, channel, status in db.session.execute(
            sa.select(
                OutboxMessage.booking_id,
                OutboxMessage.created_at,
                OutboxMessage.channel,
                OutboxMessage.status,
            ).where(
                OutboxMessage.booking_id.in_([b.id for b in bookings]),
                OutboxMessage.kind == KIND,
            )
        ):
            rows.setdefault(booking_id, []).append((created_at, channel, status))
    to_call = []
    for booking in bookings:
        this_time = [r for r in rows.get(booking.id, []) if r[0] >= _chosen_at(booking)]
        if any(channel is MessageChannel.CALL for _at, channel, _status in this_time):
            continue  # called already
        if this_time:
            if all(status is OutboxStatus.FAILED for _at, _channel, status in this_time):
                to_call.append(ToCall(booking, reminder_failed=True))
        elif channel_for(booking.email, booking.phone) is None:
            to_call.append(ToCall(booking, reminder_failed=False))
    return to_call


def record_call(booking: Booking, by: User) -> bool:
    """Tick off the call for this time of the appointment: it counts as its reminder.

    Return False when someone had ticked it off already (the database decides).
    """
    now = clock.now()
    return outbox.insert_once(
        {
            "channel": MessageChannel.CALL,
            "kind": KIND,
            "dedupe_key": f"call:booking:{booking.id}:v{booking.version}",
            "recipient": booking.phone,
            "subject": "",
            "body": "",
            "booking_id": booking.id,
            "status": OutboxStatus.SENT,
            "attempts": 0,
            "last_error": "",
            "next_attempt_at": now,
            "created_at": now,
            "sent_at": now,
            "called_by_id": by.id,
        }
    )

"""Booking, cancelling and moving appointments.

Capacity is never checked-then-inserted: a booking claims a numbered seat of its slot and
the database's unique constraint on ``(series_id, slot_start, seat)`` decides who gets it.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from app import clock
from app.extensions import db
from app.i18n import interface_language
from app.models import ConsultationHours, Enrolment, EnrolmentStatus, SeriesStatus, User
from app.models.booking import BookedVia, Booking, BookingStatus
from app.services import DomainError, occurrence_index, visits, waiting_list
from app.services.schedule import Occurrence, Slot, expand, occurrences

# No look-alikes: without 0/O, 1/I/L, 2/Z, 5/S, 6/G, 8/B.
CODE_ALPHABET = "ACDEFHJKMNPQRTUVWXY3479"
CODE_LENGTH = 8

# Nine digits in a row, optionally grouped with spaces, dots or dashes: looks like a BSN.
BSN_LIKE = re.compile(r"(?<![\d])\d(?:[ .-]?\d){8}(?![ .-]?\d)")
PHONE = re.compile(r"^\+?[0-9 ()-]{8,20}$")


class SlotTaken(DomainError):
    """Every seat of the slot was taken, possibly a moment ago by someone else."""


class SlotUnavailable(DomainError):
    """The slot does not exist (any more), is too soon, or too far ahead."""


class StaleBooking(DomainError):
    """The form or link is from before the last change of the booking."""


@dataclass
class ResidentDetails:
    name: str
    phone: str = ""
    email: str = ""
    language: str = "nl"
    question: str = ""
    needs_interpreter: bool = False
    needs_wheelchair: bool = False


def contains_bsn(text: str) -> bool:
    """Whether a free text holds something that looks like a citizen service number."""
    return bool(BSN_LIKE.search(text or ""))


def normalise_phone(phone: str) -> str:
    return re.sub(r"[^0-9+]", "", phone or "")


def normalise_code(code: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", (code or "").upper())


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def check_details(details: ResidentDetails) -> None:
    """Refuse details the booking must not hold, with a reason the resident understands."""
    if not details.name.strip():
        raise DomainError(_("Please fill in your first name or initials."), "name")
    if details.phone and not PHONE.match(details.phone.strip()):
        raise DomainError(_("This phone number is not correct."), "phone")
    for field, text in (("question", details.question), ("name", details.name)):
        if contains_bsn(text):
            raise DomainError(
                _(
                    "Please do not write your BSN (citizen service number) here. "
                    "We do not need it. Remove the number and try again."
                ),
                field,
            )


def find_occurrence(series: ConsultationHours, day: date) -> Occurrence | None:
    """The occurrence of a series on a date, exceptions and closures applied."""
    found = occurrences([series], day, day, include_cancelled=True)
    return found[0] if found else None


def find_slot(series: ConsultationHours, slot_start: datetime) -> tuple[Occurrence, Slot]:
    """The held occurrence and slot that start at ``slot_start`` or SlotUnavailable."""
    local = slot_start.astimezone(_zone(series))
    occurrence = find_occurrence(series, local.date())
    if occurrence is not None and occurrence.is_held:
        for slot in occurrence.slots:
            if slot.start_utc == slot_start.astimezone(UTC):
                return occurrence, slot
    raise SlotUnavailable(_("This time is not available."))


def _zone(series: ConsultationHours):
    from zoneinfo import ZoneInfo

    return ZoneInfo(series.location.timezone)


def check_bookable(series: ConsultationHours, slot: Slot, now: datetime, *, staff: bool) -> None:
    """Published appointment hours, within notice and horizon (staff may book at short notice)."""
    if series.status is not SeriesStatus.PUBLISHED or not series.is_bookable_mode:
        raise SlotUnavailable(_("You cannot book these hours."))
    if slot.start <= now:
        raise SlotUnavailable(_("This time has already passed."))
    if not staff and slot.start < now + timedelta(hours=series.min_notice_hours):
        raise SlotUnavailable(_("This time is too soon to book. Please choose a later time."))
    horizon = now.astimezone(_zone(series)).date() + timedelta(days=series.book_ahead_days)
    if slot.start.astimezone(_zone(series)).date() > horizon:
        raise SlotUnavailable(_("This time is too far ahead to book."))


def claim_seat(booking: Booking, series: ConsultationHours, slot: Slot) -> None:
    """Give the booking a free seat of the slot, or raise SlotTaken.

    Each attempt is an INSERT/UPDATE in a savepoint; the unique constraint makes it fail
    when someone else holds that seat, also when they took it a millisecond ago.
    """
    start = slot.start_utc
    end = slot.end.astimezone(UTC)
    held_before = booking.slot_start if booking.seat is not None else None
    with db.session.no_autoflush:
        taken = set(
            db.session.scalars(
                sa.select(Booking.seat).where(
                    Booking.series_id == series.id,
                    Booking.slot_start == start,
                    Booking.seat.is_not(None),
                    Booking.id != (booking.id or 0),
                )
            )
        )
    for seat in range(1, series.seats_per_slot + 1):
        if seat in taken:
            continue
        try:
            with db.session.begin_nested():
                booking.slot_start, booking.slot_end, booking.seat = start, end, seat
                db.session.add(booking)
                db.session.flush()
            occurrence_index.seats_changed(series.id, taken=start, given_back=held_before)
            return
        except sa.exc.IntegrityError:
            continue  # taken between our read and our write: try the next seat
    raise SlotTaken(_("This time was just taken by someone else."))


def is_lock_conflict(error: sa.exc.OperationalError) -> bool:
    """SQLite's answer when another writer got there first ('database is locked')."""
    return "locked" in str(error.orig).lower() or "busy" in str(error.orig).lower()


def retry_on_lock(operation, attempts: int = 20):
    """Run a write operation again after a lock conflict (SQLite); the constraint stays the judge.

    PostgreSQL waits for the other transaction itself, so it never gets here.
    """
    for attempt in range(attempts):
        try:
            return operation()
        except sa.exc.OperationalError as error:
            db.session.rollback()
            if not is_lock_conflict(error) or attempt == attempts - 1:
                raise
            time.sleep(0.02 * (attempt + 1) + random.random() * 0.05)
    raise AssertionError("unreachable")


def book(
    series: ConsultationHours,
    slot_start: datetime,
    details: ResidentDetails,
    *,
    by: User | None = None,
    via: BookedVia | None = None,
    now: datetime | None = None,
) -> tuple[Booking, str]:
    """Book a slot for a resident; return the booking and its secret manage-link token."""
    return retry_on_lock(lambda: _book(series, slot_start, details, by=by, via=via, now=now))


def _book(series, slot_start, details, *, by, via, now) -> tuple[Booking, str]:
    now = now or clock.now()
    check_details(details)
    _occurrence, slot = find_slot(series, slot_start)
    check_bookable(series, slot, now, staff=by is not None)
    token = secrets.token_urlsafe(24)
    booking = Booking(
        series=series,
        token_hash=hash_token(token),
        booked_via=via or (BookedVia.DESK if by else BookedVia.RESIDENT),
        created_by=by,
        name=details.name.strip(),
        phone=details.phone.strip(),
        email=details.email.strip(),
        language=details.language,
        question=details.question.strip(),
        needs_interpreter=details.needs_interpreter,
        needs_wheelchair=details.needs_wheelchair,
        time_chosen_at=now,
    )
    for _attempt in range(5):
        booking.code = new_code()
        if not db.session.scalar(sa.select(Booking.id).where(Booking.code == booking.code)):
            break
    try:
        claim_seat(booking, series, slot)
    except SlotTaken:
        db.session.rollback()
        raise
    return booking, token


def find_by_token(token: str) -> Booking | None:
    """The booking a secret link points at (constant-time comparison of the hash)."""
    if not token or len(token) > 64:
        return None
    digest = hash_token(token)
    booking = db.session.scalar(sa.select(Booking).where(Booking.token_hash == digest))
    if booking is None or not hmac.compare_digest(booking.token_hash, digest):
        return None
    return booking


def find_by_code(code: str, phone_or_name: str) -> Booking | None:
    """The booking with this code whose phone number or name matches; None otherwise."""
    code = normalise_code(code)
    if len(code) != CODE_LENGTH or not phone_or_name.strip():
        return None
    booking = db.session.scalar(sa.select(Booking).where(Booking.code == code))
    if booking is None or booking.personal_data_erased_at is not None:
        return None
    answer = phone_or_name.strip()
    phone_ok = booking.phone and normalise_phone(answer) == normalise_phone(booking.phone)
    name_ok = answer.casefold() == booking.name.casefold()
    return booking if (phone_ok or name_ok) else None


def _check_version(booking: Booking, version: int | None) -> None:
    if version is not None and version != booking.version:
        raise StaleBooking(
            _("This appointment was changed in the meantime. Please look at it again.")
        )


def cancel(
    booking: Booking, *, version: int | None, reason: str = "", by: User | None = None
) -> None:
    """Cancel an appointment and free its seat."""
    _check_version(booking, version)
    if booking.status is not BookingStatus.BOOKED:
        raise DomainError(_("This appointment cannot be cancelled any more."))
    waiting_list.seats_will_free(booking.series)
    held = booking.slot_start if booking.seat is not None else None
    booking.status = BookingStatus.CANCELLED
    booking.seat = None
    booking.cancel_reason = reason.strip()
    booking.cancelled_at = clock.now()
    booking.version += 1
    db.session.flush()
    if held is not None:
        occurrence_index.seats_changed(booking.series_id, given_back=held)
    waiting_list.seat_freed(booking.series)
    # A course's intake cancelled: the course's participant needs another (the desk plans it).
    db.session.execute(
        sa.update(Enrolment)
        .where(
            Enrolment.intake_booking_id == booking.id,
            Enrolment.status == EnrolmentStatus.PARTICIPANT,
        )
        .values(intake_to_plan=True)
        .execution_options(synchronize_session="fetch")
    )


def move(
    booking: Booking,
    new_start: datetime,
    *,
    version: int | None,
    by: User | None = None,
    now: datetime | None = None,
) -> str:
    """Move an appointment to another free slot of the same series; return the new token.

    The old seat is freed, the secret link is replaced and the version rises, so nothing
    from before the move can act on the moved appointment.
    """
    return retry_on_lock(lambda: _move(booking, new_start, version=version, by=by, now=now))


def _move(booking, new_start, *, version, by, now) -> str:
    now = now or clock.now()
    _check_version(booking, version)
    if booking.status is not BookingStatus.BOOKED:
        raise DomainError(_("This appointment cannot be moved any more."))
    series = booking.series
    _occurrence, slot = find_slot(series, new_start)
    check_bookable(series, slot, now, staff=by is not None)
    if slot.start_utc == booking.slot_start:
        raise DomainError(_("This is already the time of your appointment."))
    waiting_list.seats_will_free(series)
    claim_seat(booking, series, slot)
    token = secrets.token_urlsafe(24)
    booking.token_hash = hash_token(token)
    booking.version += 1
    booking.time_chosen_at = now
    booking.affected_at = None
    booking.affected_reason = ""
    db.session.flush()
    waiting_list.seat_freed(series)
    return token


def mark(booking: Booking, status: BookingStatus) -> None:
    """Record whether the resident came (attended / no-show); who came joins the desk's queue."""
    if status not in (BookingStatus.ATTENDED, BookingStatus.NO_SHOW, BookingStatus.BOOKED):
        raise DomainError(_("This change of status is not possible."))
    if booking.status is BookingStatus.CANCELLED:
        raise DomainError(_("This appointment was cancelled."))
    if booking.status is BookingStatus.OFFERED:
        raise DomainError(_("This change of status is not possible."))
    booking.status = status
    booking.version += 1
    db.session.flush()
    visits.attendance_changed(booking)


def seats_taken(series_ids: Iterable[int], start: datetime, end: datetime) -> dict:
    """Active bookings per ``(series_id, slot start in UTC)`` in [start, end)."""
    rows = db.session.execute(
        sa.select(Booking.series_id, Booking.slot_start, sa.func.count())
        .where(
            Booking.series_id.in_(list(series_ids)),
            Booking.slot_start >= start,
            Booking.slot_start < end,
            Booking.seat.is_not(None),
        )
        .group_by(Booking.series_id, Booking.slot_start)
    )
    return {(sid, clock.as_utc(at)): count for sid, at, count in rows}



def affected_bookings(series: ConsultationHours, start: date, end: date) -> list[Booking]:
    """Active future bookings of a series in [start, end] whose slot no longer exists."""
    zone = _zone(series)
    bookings = db.session.scalars(
        sa.select(Booking).where(
            Booking.series_id == series.id,
            Booking.status == BookingStatus.BOOKED,
            Booking.slot_start >= clock.now(),
        )
    ).all()
    if not bookings:
        return []
    valid = set()
    for occurrence in expand(
        series, start, end, _exceptions(series, start, end), _closures(series, start, end)
    ):
        if occurrence.is_held and series.status is SeriesStatus.PUBLISHED:
            valid.update(
                (slot.start_utc, slot.end.astimezone(slot.start_utc.tzinfo))
                for slot in occurrence.slots
            )
    result = []
    for booking in bookings:
        local_day = clock.as_utc(booking.slot_start).astimezone(zone).date()
        if (
            start <= local_day <= end
            and (clock.as_utc(booking.slot_start), clock.as_utc(booking.slot_end)) not in valid
        ):
            result.append(booking)
    return result


def _exceptions(series, start, end):
    from app.models import SeriesException

    return db.session.scalars(
        sa.select(SeriesException).where(
            SeriesException.series_id == series.id, SeriesException.date.between(start, end)
        )
    ).all()


def _closures(series, start, end):
    from app.models import LocationClosure

    return db.session.scalars(
        sa.select(LocationClosure).where(
            LocationClosure.location_id == series.location_id,
            LocationClosure.start_date <= end,
            LocationClosure.end_date >= start,
        )
    ).all()


def flag_affected(series_list: Iterable[ConsultationHours], start: date, end: date, reason):
    """Mark bookings whose slot a change removed; return the newly affected ones.

    Called after an exception, a closure, an edit or a pause: no booking may silently point
    at a time that no longer exists. Staff see them in their list of residents to contact.
    """
    newly = []
    now = clock.now()
    for series in series_list:
        for booking in affected_bookings(series, start, end):
            if booking.affected_at is None:
                booking.affected_at = now
                # A standard reason (a lazy text) is stored in the resident's own language.
                with force_locale(interface_language(booking.language)):
                    booking.affected_reason = str(reason)[:200]
                booking.version += 1
                newly.append(booking)
    db.session.flush()
    return newly


def available_slots(
    series_list: Iterable[ConsultationHours],
    start: date,
    end: date,
    *,
    now: datetime | None = None,
    staff: bool = False,
):
    """Free slots of the series in [start, end] that may be booked now (seats left > 0)."""
    from app.services.schedule import bookable_slots

    series_list = list(series_list)
    if not series_list:
        return []
    now = now or clock.now()
    window_start = datetime.combine(start - timedelta(days=1), datetime.min.time(), UTC)
    window_end = datetime.combine(end + timedelta(days=2), datetime.min.time(), UTC)
    taken = seats_taken([s.id for s in series_list], window_start, window_end)
    return bookable_slots(series_list, start, end, now=now, booked=taken, apply_notice=not staff)


def day_bounds(day: date, zone: str = "Europe/Amsterdam") -> tuple:
    """Conditions selecting bookings that start on a local calendar day."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    start = datetime.combine(day, datetime.min.time(), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
    return (Booking.slot_start >= start, Booking.slot_start < end)

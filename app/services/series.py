"""Creating and changing consultation-hours series, their exceptions, and location closures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import clock
from app.extensions import db
from app.models import (
    ConsultationHours,
    ExceptionKind,
    Location,
    LocationClosure,
    Mode,
    Organisation,
    Recurrence,
    SeriesException,
    SeriesStatus,
    Topic,
    User,
)
from app.services import DomainError, notify, occurrence_index
from app.services import booking as booking_service
from app.services.schedule import Occurrence, expand, matches_pattern


@dataclass
class SeriesData:
    """Everything a series form provides, already converted to Python values."""

    provider: Organisation
    location: Location
    title: str
    description: str
    what_to_bring: str
    topics: list[Topic]
    mode: Mode
    recurrence: Recurrence
    weekdays: list[int]
    interval_weeks: int
    month_weeks: list[int]
    start_date: date
    end_date: date | None
    start_time: time
    end_time: time
    walk_in_start: time | None
    walk_in_end: time | None
    slot_minutes: int
    seats_per_slot: int
    min_notice_hours: int
    book_ahead_days: int


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def validate(data: SeriesData) -> None:
    """Raise DomainError for a series that cannot be held as described."""
    if not data.weekdays:
        raise DomainError(_("Choose at least one day of the week."), "weekdays")
    if data.recurrence is Recurrence.MONTHLY and not data.month_weeks:
        raise DomainError(_("Choose which week of the month."), "month_weeks")
    if data.end_time <= data.start_time:
        raise DomainError(_("The end time must be after the start time."), "end_time")
    if data.end_date and data.end_date < data.start_date:
        raise DomainError(_("The last date must not be before the first date."), "end_date")
    block = _minutes(data.end_time) - _minutes(data.start_time)
    if data.mode is not Mode.WALK_IN and block < data.slot_minutes:
        raise DomainError(
            _("An appointment does not fit between the start and end time."), "slot_minutes"
        )
    if data.mode is Mode.MIXED:
        if not data.walk_in_start or not data.walk_in_end:
            raise DomainError(_("Give the times of the walk-in part."), "walk_in_start")
        if data.walk_in_end <= data.walk_in_start:
            raise DomainError(_("The walk-in part must end after it starts."), "walk_in_end")
    if not data.location.active:
        raise DomainError(_("This location is no longer in use."), "location")


def save_series(
    series: ConsultationHours | None, data: SeriesData, user: User
) -> ConsultationHours:
    """Create a series (as a draft) or update one; every change raises its revision."""
    validate(data)
    if series is None:
        series = ConsultationHours(created_by=user, status=SeriesStatus.DRAFT, revision=0)
        db.session.add(series)
    series.provider = data.provider
    series.location = data.location
    series.title = data.title.strip()
    series.description = data.description.strip()
    series.what_to_bring = data.what_to_bring.strip()
    series.topics = list(data.topics)
    series.mode = data.mode
    series.recurrence = data.recurrence
    series.weekdays = ",".join(str(d) for d in sorted(set(data.weekdays)))
    series.interval_weeks = data.interval_weeks if data.recurrence is Recurrence.WEEKLY else 1
    series.month_weeks = (
        ",".join(str(w) for w in sorted(set(data.month_weeks)))
        if data.recurrence is Recurrence.MONTHLY
        else ""
    )
    series.start_date = data.start_date
    series.end_date = data.end_date
    series.start_time = data.start_time
    series.end_time = data.end_time
    mixed = data.mode is Mode.MIXED
    series.walk_in_start = data.walk_in_start if mixed else None
    series.walk_in_end = data.walk_in_end if mixed else None
    series.slot_minutes = data.slot_minutes
    series.seats_per_slot = data.seats_per_slot
    series.min_notice_hours = data.min_notice_hours
    series.book_ahead_days = data.book_ahead_days
    series.revision = (series.revision or 0) + 1
    if series.id is not None:
        _flag_affected([series], None, None, _l("The times of these hours have changed."))
    occurrence_index.refresh_series(series)
    db.session.commit()
    return series


ALLOWED_STATUS_CHANGES = {
    SeriesStatus.DRAFT: {SeriesStatus.PUBLISHED},
    SeriesStatus.PUBLISHED: {SeriesStatus.PAUSED},
    SeriesStatus.PAUSED: {SeriesStatus.PUBLISHED},
}


def set_status(series: ConsultationHours, status: SeriesStatus) -> None:
    """Publish, pause or resume a series."""
    if status not in ALLOWED_STATUS_CHANGES[series.status]:
        raise DomainError(_("This change of status is not possible."))
    series.status = status
    series.revision += 1
    if status is SeriesStatus.PAUSED:
        _flag_affected([series], None, None, _l("These hours do not take place for now."))
    occurrence_index.refresh_series(series)
    db.session.commit()


def add_exception(
    series: ConsultationHours,
    *,
    day: date,
    kind: ExceptionKind,
    start_time: time | None = None,
    end_time: time | None = None,
    reason: str = "",
) -> SeriesException:
    """Cancel a date, change its times, or add an extra date."""
    existing = db.session.scalar(
        sa.select(SeriesException).where(
            SeriesException.series_id == series.id, SeriesException.date == day
        )
    )
    if existing is not None:
        raise DomainError(_("There is already a change for this date. Remove it first."), "date")
    on_pattern = matches_pattern(series, day)
    if kind is ExceptionKind.EXTRA:
        if on_pattern:
            raise DomainError(_("The hours are already held on this date."), "date")
    elif not on_pattern:
        raise DomainError(_("The hours are not held on this date."), "date")
    if kind is not ExceptionKind.CANCELLED:
        start_time = start_time or series.start_time
        end_time = end_time or series.end_time
        if end_time <= start_time:
            raise DomainError(_("The end time must be after the start time."), "end_time")
    else:
        start_time = end_time = None
    exception = SeriesException(
        series=series,
        date=day,
        kind=kind,
        start_time=start_time,
        end_time=end_time,
        reason=reason.strip(),
    )
    db.session.add(exception)
    series.revision += 1
    default_reason = (
        _l("These hours are cancelled on this day.")
        if kind is ExceptionKind.CANCELLED
        else _l("The times on this day have changed.")
    )
    _flag_affected([series], day, day, exception.reason or default_reason)
    occurrence_index.refresh_series(series, day, day)
    db.session.commit()
    return exception


def remove_exception(exception: SeriesException) -> None:
    """Undo a date exception: the date returns to the normal pattern."""
    series, day = exception.series, exception.date
    series.revision += 1
    db.session.delete(exception)
    _flag_affected([series], day, day, _l("The times on this day have changed."))
    occurrence_index.refresh_series(series, day, day)
    db.session.commit()


def close_location(
    location: Location, *, start: date, end: date, reason: str, user: User
) -> LocationClosure:
    """Close a location on dates: every series held there is off those days."""
    if end < start:
        raise DomainError(_("The last date must not be before the first date."), "end_date")
    if end - start > timedelta(days=366):
        raise DomainError(_("A closure can last one year at most."), "end_date")
    closure = LocationClosure(
        location=location,
        start_date=start,
        end_date=end,
        reason=reason.strip(),
        created_by_id=user.id,
    )
    db.session.add(closure)
    _bump_series_at(location)
    held_there = db.session.scalars(
        sa.select(ConsultationHours).where(ConsultationHours.location_id == location.id)
    ).all()
    _flag_affected(
        held_there, start, end, closure.reason or _l("The location is closed on this day.")
    )
    occurrence_index.refresh_location(location, start, end)
    db.session.commit()
    return closure


def remove_closure(closure: LocationClosure) -> None:
    """Reopen a location on the closure's dates."""
    location, start, end = closure.location, closure.start_date, closure.end_date
    _bump_series_at(location)
    db.session.delete(closure)
    occurrence_index.refresh_location(location, start, end)
    db.session.commit()


def _flag_affected(
    series_list: list[ConsultationHours], start: date | None, end: date | None, reason
) -> None:
    """Mark bookings that a change left without a slot, and tell residents by mail."""
    today = clock.today()
    start = max(start or today, today)
    end = end or today + timedelta(days=400)
    if end < start:
        return
    for booking in booking_service.flag_affected(series_list, start, end, reason):
        notify.booking_affected(booking)


def _bump_series_at(location: Location) -> None:
    db.session.execute(
        sa.update(ConsultationHours)
        .where(ConsultationHours.location_id == location.id)
        .values(revision=ConsultationHours.revision + 1)
    )


def preview(data: SeriesData, count: int = 8) -> list[Occurrence]:
    """The first dates a series described by ``data`` would be held (before saving it)."""
    draft = ConsultationHours(
        id=0,
        location=data.location,
        mode=data.mode,
        recurrence=data.recurrence,
        weekdays=",".join(str(d) for d in data.weekdays),
        interval_weeks=data.interval_weeks,
        month_weeks=",".join(str(w) for w in data.month_weeks),
        start_date=data.start_date,
        end_date=data.end_date,
        start_time=data.start_time,
        end_time=data.end_time,
        walk_in_start=data.walk_in_start,
        walk_in_end=data.walk_in_end,
        slot_minutes=data.slot_minutes,
        seats_per_slot=data.seats_per_slot,
    )
    start = max(data.start_date, clock.today())
    return expand(draft, start, start + timedelta(days=400))[:count]

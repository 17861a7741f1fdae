"""Occurrences and slots of consultation-hours series.

A series stores wall-clock times; every occurrence is turned into instants with the
location's IANA zone *for its own date*, so 14:00 stays 14:00 across DST changes.
The work done is proportional to the date range asked for, never to a series' history:
dates are tested arithmetically, and exceptions and closures are loaded for the range only.
"""

from __future__ import annotations

import calendar
import enum
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.extensions import db
from app.models import (
    LAST_WEEK,
    ConsultationHours,
    ExceptionKind,
    LocationClosure,
    Mode,
    Recurrence,
    SeriesException,
    SeriesStatus,
)


class OccurrenceStatus(enum.Enum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"  # by a date exception of the series
    CLOSED = "closed"  # the location is closed that day


class OccurrenceKind(enum.Enum):
    REGULAR = "regular"
    CHANGED = "changed"
    EXTRA = "extra"


@dataclass(frozen=True)
class Slot:
    """One bookable time inside an occurrence."""

    start: datetime  # aware, in the location's zone
    end: datetime
    seats: int

    @property
    def start_utc(self) -> datetime:
        return self.start.astimezone(UTC)


@dataclass
class Occurrence:
    """One date on which a series is held (or would have been)."""

    series: ConsultationHours
    date: date
    start: datetime  # aware, in the location's zone
    end: datetime
    kind: OccurrenceKind = OccurrenceKind.REGULAR
    status: OccurrenceStatus = OccurrenceStatus.SCHEDULED
    reason: str = ""
    walk_in_start: datetime | None = None
    walk_in_end: datetime | None = None
    slots: list[Slot] = field(default_factory=list)

    @property
    def is_held(self) -> bool:
        return self.status is OccurrenceStatus.SCHEDULED

    @cached_property
    def key(self) -> str:
        """Stable identity of this date of this series (for UIDs and links)."""
        return f"{self.series.id}-{self.date.isoformat()}"


def local_datetime(day: date, wall: time, zone: ZoneInfo) -> datetime | None:
    """The instant of a wall-clock time on a day, or None if DST skips that time.

    For an ambiguous time (the repeated hour in autumn) the first, summer-time, instant
    is taken (``fold=0``).
    """
    candidate = datetime.combine(day, wall, tzinfo=zone)
    round_trip = candidate.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != candidate.replace(tzinfo=None):
        return None
    return candidate


def _span(day: date, start: time, end: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Instants for a wall-clock span; a start or end inside a DST gap moves past the gap.

    A time inside the gap is read with the UTC offset from before the gap (as RFC 5545
    does), so 02:30 on the spring-forward day becomes 03:30 summer time. That can put a
    start that lies in the gap after an end just past it (02:30-03:15): the span then
    ends where it starts instead of before it.
    """

    def resolve(wall: time) -> datetime:
        exact = local_datetime(day, wall, zone)
        if exact is not None:
            return exact
        # Inside the spring-forward gap: the same UTC offset as before the gap lands after it.
        return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC).astimezone(zone)

    begin, finish = resolve(start), resolve(end)
    if finish.astimezone(UTC) < begin.astimezone(UTC):
        finish = begin
    return begin, finish


def matches_pattern(series: ConsultationHours, day: date) -> bool:
    """Whether the series' recurrence rule falls on ``day`` (ignoring exceptions)."""
    if day < series.start_date or (series.end_date and day > series.end_date):
        return False
    if day.weekday() not in series.weekday_list:
        return False
    if series.recurrence is Recurrence.WEEKLY:
        anchor = series.start_date - timedelta(days=series.start_date.weekday())
        monday = day - timedelta(days=day.weekday())
        return ((monday - anchor).days // 7) % max(series.interval_weeks, 1) == 0
    weeks = series.month_week_list
    nth = (day.day - 1) // 7 + 1
    is_last = day.day + 7 > calendar.monthrange(day.year, day.month)[1]
    return nth in weeks or (LAST_WEEK in weeks and is_last)


def pattern_dates(series: ConsultationHours, start: date, end: date) -> Iterator[date]:
    """Dates in [start, end] on which the recurrence rule falls."""
    first = max(start, series.start_date)
    last = min(end, series.end_date) if series.end_date else end
    day = first
    while day <= last:
        if matches_pattern(series, day):
            yield day
        day += timedelta(days=1)


def build_slots(series: ConsultationHours, occurrence: Occurrence) -> list[Slot]:
    """Appointment slots of an occurrence, each exactly the slot length of real time.

    Slots follow each other from the occurrence's start instant, stepping in UTC. On an
    ordinary day that is the wall-clock grid (14:00, 14:30, ...). Across the spring gap no
    slot starts at a wall-clock time that does not exist and none is cut short or
    dropped; in the repeated autumn hour both passes of it are offered (02:00 summer time
    and 02:00 winter time are different slots, told apart by ``start_utc``).
    """
    if not series.is_bookable_mode or not occurrence.is_held:
        return []
    zone = occurrence.start.tzinfo
    step = timedelta(minutes=series.slot_minutes)
    cursor = occurrence.start.astimezone(UTC)
    finish = occurrence.end.astimezone(UTC)
    slots = []
    while cursor + step <= finish:
        slots.append(
            Slot(cursor.astimezone(zone), (cursor + step).astimezone(zone), series.seats_per_slot)
        )
        cursor += step
    return slots


def expand(
    series: ConsultationHours,
    start: date,
    end: date,
    exceptions: Iterable[SeriesException] = (),
    closures: Iterable[LocationClosure] = (),
) -> list[Occurrence]:
    """All occurrences of one series in [start, end], cancelled and closed ones included."""
    zone = ZoneInfo(series.location.timezone)
    by_date = {exc.date: exc for exc in exceptions if start <= exc.date <= end}
    closed = [c for c in closures if c.start_date <= end and c.end_date >= start]

    days: dict[date, tuple[time, time, OccurrenceKind]] = {}
    for day in pattern_dates(series, start, end):
        days[day] = (series.start_time, series.end_time, OccurrenceKind.REGULAR)
    for day, exc in by_date.items():
        if exc.kind is ExceptionKind.EXTRA and day not in days:
            days[day] = (exc.start_time, exc.end_time, OccurrenceKind.EXTRA)
        elif exc.kind is ExceptionKind.CHANGED and day in days:
            days[day] = (exc.start_time, exc.end_time, OccurrenceKind.CHANGED)

    result = []
    for day in sorted(days):
        wall_start, wall_end, kind = days[day]
        begin, finish = _span(day, wall_start, wall_end, zone)
        occurrence = Occurrence(series=series, date=day, start=begin, end=finish, kind=kind)
        exc = by_date.get(day)
        closure = next((c for c in closed if c.start_date <= day <= c.end_date), None)
        if closure is not None:
            occurrence.status = OccurrenceStatus.CLOSED
            occurrence.reason = closure.reason
        elif exc is not None and exc.kind is ExceptionKind.CANCELLED:
            occurrence.status = OccurrenceStatus.CANCELLED
            occurrence.reason = exc.reason
        elif exc is not None:
            occurrence.reason = exc.reason
        if series.mode is Mode.MIXED and series.walk_in_start and series.walk_in_end:
            occurrence.walk_in_start, occurrence.walk_in_end = _span(
                day, series.walk_in_start, series.walk_in_end, zone
            )
        occurrence.slots = build_slots(series, occurrence)
        result.append(occurrence)
    return result


def occurrences(
    series_list: Iterable[ConsultationHours],
    start: date,
    end: date,
    *,
    include_cancelled: bool = False,
) -> list[Occurrence]:
    """Occurrences of several series in [start, end], sorted by start time.

    Exceptions and closures are loaded in two queries for the whole set and range.
    """
    series_list = list(series_list)
    if not series_list or end < start:
        return []
    series_ids = [s.id for s in series_list]
    location_ids = {s.location_id for s in series_list}
    exceptions: dict[int, list[SeriesException]] = defaultdict(list)
    for exc in db.session.scalars(
        sa.select(SeriesException).where(
            SeriesException.series_id.in_(series_ids),
            SeriesException.date.between(start, end),
        )
    ):
        exceptions[exc.series_id].append(exc)
    closures: dict[int, list[LocationClosure]] = defaultdict(list)
    for closure in db.session.scalars(
        sa.select(LocationClosure).where(
            LocationClosure.location_id.in_(location_ids),
            LocationClosure.start_date <= end,
            LocationClosure.end_date >= start,
        )
    ):
        closures[closure.location_id].append(closure)

    result = []
    for series in series_list:
        for occurrence in expand(
            series, start, end, exceptions[series.id], closures[series.location_id]
        ):
            if include_cancelled or occurrence.is_held:
                result.append(occurrence)
    # By instant: aware datetimes sharing a tzinfo compare by wall clock, not by instant.
    result.sort(key=lambda o: (o.start.astimezone(UTC), o.series.title, o.series.id))
    return result


@dataclass(frozen=True)
class BookableSlot:
    occurrence: Occurrence
    slot: Slot
    seats_left: int


def bookable_slots(
    series_list: Iterable[ConsultationHours],
    start: date,
    end: date,
    *,
    now: datetime,
    booked: Mapping[tuple[int, datetime], int] | None = None,
    apply_notice: bool = True,
) -> list[BookableSlot]:
    """Free slots residents may book now: published, held, past the notice, within the horizon.

    Staff at the desk pass ``apply_notice=False``: then only slots that have not started yet.

    ``now`` must be timezone-aware. ``booked`` maps ``(series_id, slot start)`` to the seats
    already taken; the start may be any aware datetime or a naive one in UTC (as SQLite
    returns it).
    """
    published = [
        s for s in series_list if s.status is SeriesStatus.PUBLISHED and s.is_bookable_mode
    ]
    return free_slots(
        occurrences(published, start, end), now=now, booked=booked, apply_notice=apply_notice
    )


def free_slots(
    held: Iterable[Occurrence],
    *,
    now: datetime,
    booked: Mapping[tuple[int, datetime], int] | None = None,
    apply_notice: bool = True,
) -> list[BookableSlot]:
    """The free slots among already computed occurrences (see ``bookable_slots``)."""
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    # Notice is counted in real hours: arithmetic on a wall-clock (Europe/Amsterdam)
    # datetime would be off by the DST shift.
    now = now.astimezone(UTC)
    taken: dict[tuple[int, datetime], int] = defaultdict(int)
    for (series_id, slot_start), seats in (booked or {}).items():
        if slot_start.tzinfo is None:
            slot_start = slot_start.replace(tzinfo=UTC)
        taken[(series_id, slot_start.astimezone(UTC))] += seats
    result = []
    for occurrence in held:
        series = occurrence.series
        if (
            not occurrence.is_held
            or not occurrence.slots
            or series.status is not SeriesStatus.PUBLISHED
        ):
            continue
        earliest = now + timedelta(hours=series.min_notice_hours if apply_notice else 0)
        horizon = now.astimezone(occurrence.start.tzinfo).date() + timedelta(
            days=series.book_ahead_days
        )
        if occurrence.date > horizon:
            continue
        for slot in occurrence.slots:
            if slot.start < earliest:
                continue
            left = slot.seats - taken.get((series.id, slot.start_utc), 0)
            if left > 0:
                result.append(BookableSlot(occurrence, slot, left))
    return result

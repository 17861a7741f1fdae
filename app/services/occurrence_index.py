"""The index of coming occurrences and free seats, kept in the same transaction as every
change that alters it.

What occurs is defined in one place, ``app.services.schedule``: every row here is made by
``schedule.occurrences`` (exceptions and closures applied) and never by a recurrence rule of
its own. The index covers one window of dates for all series, from yesterday to
``OCCURRENCE_INDEX_DAYS`` ahead, or further when a series may be booked further ahead, plus
one day (``target_window``): the free times of every series up to its booking horizon are
in it, and so is every date the hours list shows. ``flask index-occurrences`` moves it
forward once a day.

Who changes what, and how it stays right when two transactions run at once:

* A change of a series, an exception or a closure rebuilds the rows of the series (or of
  all series at the location) for the dates concerned (``refresh_series``,
  ``refresh_location``): it first locks the occurrence rows it replaces, deletes them and
  inserts them again from the schedule, with the seats taken counted from the bookings.
* A booking, cancellation or move adds or subtracts one on the counters of its slot and
  occurrence (``seats_changed``): an atomic ``UPDATE … SET seats_taken = seats_taken + 1``
  after the booking row is written. Its lock on the occurrence row orders it against a
  rebuild of that date: either the rebuild waits and then counts the committed booking, or
  the booking waits, finds the new row and adds its one to a count made without it.
* Marking whether a resident came keeps the seat: it changes nothing here.
* The window row is read with a share lock by every rebuild and taken for update by the
  daily roll, so a roll never expands a series that a running change is rewriting.

On SQLite a writing transaction holds the database's write lock from its BEGIN IMMEDIATE,
so all of this is one writer at a time anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import orm

from app import clock
from app.extensions import db
from app.models import (
    Booking,
    ConsultationHours,
    IndexedKind,
    IndexedOccurrence,
    IndexedSlot,
    IndexedStatus,
    Location,
    OccurrenceIndexWindow,
    Organisation,
    SeriesStatus,
)
from app.services import schedule

WINDOW_ID = 1
# Series expanded per batch when the whole network is (re)indexed.
BATCH = 500

_occurrences = IndexedOccurrence.__table__
_slots = IndexedSlot.__table__


@dataclass
class IndexReport:
    first_date: date
    last_date: date
    occurrences_added: int = 0
    occurrences_removed: int = 0
    rebuilt: bool = False


def target_window(today: date | None = None) -> tuple[date, date]:
    """The dates the index should cover today: yesterday up to the longest horizon plus one.

    Yesterday: an occurrence of last evening may still be running in another zone, and the
    list of today never misses a row while the roll has not run yet. The extra day at the
    end keeps the horizon covered until the next day's roll, whenever in the day it runs.
    """
    today = today or clock.today()
    longest = db.session.scalar(sa.select(sa.func.max(ConsultationHours.book_ahead_days))) or 0
    days = max(current_app.config["OCCURRENCE_INDEX_DAYS"], longest)
    return today - timedelta(days=1), today + timedelta(days=days + 1)


def window() -> OccurrenceIndexWindow | None:
    """The window the index covers, or None while it was never built."""
    return _window()


def _window(*, lock: str | None = None) -> OccurrenceIndexWindow | None:
    query = (
        sa.select(OccurrenceIndexWindow)
        .where(OccurrenceIndexWindow.id == WINDOW_ID)
        .execution_options(populate_existing=True)
    )
    if lock == "share":
        query = query.with_for_update(read=True)
    elif lock == "update":
        query = query.with_for_update()
    return db.session.scalar(query)


def _current_window(lock: str = "share") -> tuple[OccurrenceIndexWindow, bool]:
    """The window, locked; built first (for every series) if it never was. True if built now."""
    found = _window(lock=lock)
    if found is not None:
        return found, False
    first, last = target_window()
    try:
        with db.session.begin_nested():
            db.session.execute(
                sa.insert(OccurrenceIndexWindow).values(
                    id=WINDOW_ID, first_date=first, last_date=last, rolled_at=clock.now()
                )
            )
    except sa.exc.IntegrityError:
        # Another transaction built it meanwhile (and has committed: we waited for it).
        return _window(lock=lock), False
    _delete_rows(None, None, None)
    _fill(_all_series(), first, last)
    return _window(lock=lock), True


# Hooks: one call in the transaction of each change -------------------------------------------


def refresh_series(
    series: ConsultationHours, start: date | None = None, end: date | None = None
) -> None:
    """Rebuild the rows of one series for [start, end] (default: the whole window).

    Call after changing the series, its status or an exception, in the same transaction.
    """
    db.session.flush()
    needed = clock.today() + timedelta(days=series.book_ahead_days + 1)
    seen = _window()
    # Widening the window rewrites every series: take the lock for that at once.
    current, built = _current_window(
        "update" if seen is not None and needed > seen.last_date else "share"
    )
    if built:
        return
    if needed > current.last_date:
        current = _extend(needed)
    _rebuild([series], current, start, end)


def refresh_location(location: Location, start: date | None = None, end: date | None = None):
    """Rebuild the rows of every series at a location for [start, end] (default: the window).

    Call after a closure is added or removed, or the location is switched on or off or
    moved to another time zone.
    """
    db.session.flush()
    current, built = _current_window()
    if built:
        return
    held_there = db.session.scalars(
        sa.select(ConsultationHours)
        .where(ConsultationHours.location_id == location.id)
        .order_by(ConsultationHours.id)
    ).all()
    _rebuild(held_there, current, start, end)


def refresh_organisation(organisation: Organisation) -> None:
    """After an organisation is switched on or off: whether residents see its hours."""
    db.session.flush()
    _current_window()
    visible = (
        sa.select(ConsultationHours.id)
        .join(Location, Location.id == ConsultationHours.location_id)
        .join(Organisation, Organisation.id == ConsultationHours.provider_id)
        .where(
            ConsultationHours.id == IndexedOccurrence.series_id,
            ConsultationHours.status == SeriesStatus.PUBLISHED,
            Location.active,
            Organisation.active,
        )
        .exists()
    )
    db.session.execute(
        sa.update(IndexedOccurrence)
        .where(IndexedOccurrence.provider_id == organisation.id)
        .values(published=visible)
        .execution_options(synchronize_session=False)
    )
    of_provider = sa.select(IndexedOccurrence.series_id).where(
        IndexedOccurrence.provider_id == organisation.id
    )
    of_its_occurrence = (
        sa.select(IndexedOccurrence.published)
        .where(
            IndexedOccurrence.series_id == IndexedSlot.series_id,
            IndexedOccurrence.date == IndexedSlot.date,
        )
        .scalar_subquery()
    )
    db.session.execute(
        sa.update(IndexedSlot)
        .where(IndexedSlot.series_id.in_(of_provider))
        .values(published=of_its_occurrence)
        .execution_options(synchronize_session=False)
    )


def directory_changed(item) -> None:
    """Before a location or organisation is saved: refresh what switching it on or off, or
    another time zone, changes for residents. Other edits (a name, an address) change nothing
    in the index."""
    state = sa.inspect(item)
    if state.transient or state.pending:
        return

    def changed(name: str) -> bool:
        return name in state.attrs and state.attrs[name].history.has_changes()

    if isinstance(item, Location) and (changed("active") or changed("timezone")):
        refresh_location(item)
    elif isinstance(item, Organisation) and changed("active"):
        refresh_organisation(item)


def seats_changed(
    series_id: int, *, taken: datetime | None = None, given_back: datetime | None = None
) -> None:
    """A booking took a seat of the slot starting at ``taken`` and/or gave one back at
    ``given_back`` (a move does both). Call after the booking row is written (flushed)."""
    changes = [(at, 1) for at in (taken,) if at is not None]
    changes += [(at, -1) for at in (given_back,) if at is not None]
    for at, delta in sorted(changes, key=lambda change: clock.as_utc(change[0])):
        if not _count(series_id, at, delta) and delta > 0:
            _count_missing_slot(series_id, at)


def _count(series_id: int, at: datetime, delta: int) -> bool:
    """Add ``delta`` to the slot's and its occurrence's counters; False if it is not indexed."""
    day = (
        sa.select(IndexedSlot.date)
        .where(IndexedSlot.series_id == series_id, IndexedSlot.starts_at == at)
        .scalar_subquery()
    )
    occurrence = db.session.execute(
        sa.update(IndexedOccurrence)
        .where(IndexedOccurrence.series_id == series_id, IndexedOccurrence.date == day)
        .values(seats_taken=IndexedOccurrence.seats_taken + delta)
        .execution_options(synchronize_session=False)
    )
    if occurrence.rowcount == 0:
        return False
    db.session.execute(
        sa.update(IndexedSlot)
        .where(IndexedSlot.series_id == series_id, IndexedSlot.starts_at == at)
        .values(seats_taken=IndexedSlot.seats_taken + delta)
        .execution_options(synchronize_session=False)
    )
    return True


def _count_missing_slot(series_id: int, at: datetime) -> None:
    """A seat was taken in a slot the index does not hold (yet).

    Either the index was being rebuilt by another transaction (then its rows are there once
    we hold the window's share lock), or it was never built, or the slot lies outside the
    window: rows made now count the booking from the bookings table.
    """
    current, built = _current_window()
    if built or _count(series_id, at, 1):
        return
    series = db.session.get(ConsultationHours, series_id)
    day = clock.as_utc(at).astimezone(ZoneInfo(series.location.timezone)).date()
    if not current.first_date <= day <= current.last_date:
        return
    try:
        with db.session.begin_nested():
            _rebuild([series], current, day, day)
    except sa.exc.IntegrityError:
        # Another booking indexed this date at the same moment, without our seat.
        _count(series_id, at, 1)


# Reading ------------------------------------------------------------------------------------


def bookable_now(now: datetime) -> list[sa.ColumnElement[bool]]:
    """A slot a resident may book at ``now``: residents see it, a seat is free, it lies within
    the series' horizon and past its notice (``schedule.free_slots``). The notice implies a
    start after now (closes_at <= starts_at)."""
    return [
        IndexedSlot.published,
        IndexedSlot.seats_taken < IndexedSlot.seats,
        IndexedSlot.opens_at <= now,
        IndexedSlot.closes_at >= now,
    ]


def free_slots_query(now: datetime, *, staff: bool = False) -> sa.Select:
    """Free times that may be booked at ``now``, earliest first: series, start, end, seats,
    taken.

    Residents: within the series' horizon and past its notice (``schedule.free_slots``);
    staff at the desk (``staff=True``): any free time that has not started, within the
    horizon. Join ``IndexedOccurrence`` on (series_id, date) for a place or provider, and
    add a limit.
    """
    query = (
        sa.select(
            IndexedSlot.series_id,
            IndexedSlot.starts_at,
            IndexedSlot.ends_at,
            IndexedSlot.seats,
            IndexedSlot.seats_taken,
        )
        .where(
            # Implied by the notice for residents: lets the index on starts_at range-scan
            # from now.
            IndexedSlot.starts_at >= now,
        )
        .order_by(IndexedSlot.starts_at, IndexedSlot.series_id)
    )
    if staff:  # no notice: any free time that has not started
        return query.where(*bookable_now(now)[:3])
    return query.where(*bookable_now(now))


# The daily roll and the full rebuild --------------------------------------------------------


def roll(today: date | None = None) -> IndexReport:
    """Move the window forward to ``target_window(today)``: index the new days of every
    series and drop the days before yesterday. Running it twice, or twice at once, leaves
    the same rows: the second waits for the first's lock and then finds nothing to do."""
    current, built = _current_window(lock="update")
    first, last = target_window(today)
    report = IndexReport(current.first_date, current.last_date, rebuilt=built)
    if built:
        return report
    if last > current.last_date:
        start = max(current.last_date + timedelta(days=1), first)
        report.occurrences_added = _fill(_all_series(), start, last)
        current.last_date = last
    if first > current.first_date:
        report.occurrences_removed = _delete_rows(None, None, first - timedelta(days=1))
        current.first_date = first
    if current.last_date < current.first_date:
        current.last_date = current.first_date
    current.rolled_at = clock.now()
    db.session.flush()
    report.first_date, report.last_date = current.first_date, current.last_date
    return report


def rebuild(today: date | None = None) -> IndexReport:
    """Throw the whole index away and build it again from the schedule and the bookings."""
    current, built = _current_window(lock="update")
    first, last = target_window(today)
    if not built:
        _delete_rows(None, None, None)
        current.first_date, current.last_date = first, last
        current.rolled_at = clock.now()
        db.session.flush()
        _fill(_all_series(), first, last)
    added = db.session.scalar(sa.select(sa.func.count()).select_from(IndexedOccurrence))
    return IndexReport(first, last, occurrences_added=added, rebuilt=True)


def _extend(last: date) -> OccurrenceIndexWindow:
    """A series may now be booked beyond the window: index the extra days of every series."""
    current = _window(lock="update")
    if last > current.last_date:
        _fill(_all_series(), current.last_date + timedelta(days=1), last)
        current.last_date = last
        db.session.flush()
    return current


# Writing rows ---------------------------------------------------------------------------------


def _all_series() -> Iterable[list[ConsultationHours]]:
    ids = db.session.scalars(sa.select(ConsultationHours.id).order_by(ConsultationHours.id)).all()
    for at in range(0, len(ids), BATCH):
        yield db.session.scalars(
            sa.select(ConsultationHours)
            .where(ConsultationHours.id.in_(ids[at : at + BATCH]))
            .options(
                orm.joinedload(ConsultationHours.location),
                orm.joinedload(ConsultationHours.provider),
            )
            .order_by(ConsultationHours.id)
        ).all()


def _rebuild(
    series_list: Sequence[ConsultationHours],
    current: OccurrenceIndexWindow,
    start: date | None,
    end: date | None,
) -> None:
    """Replace the rows of these series for [start, end] clipped to the window."""
    start = max(start or current.first_date, current.first_date)
    end = min(end or current.last_date, current.last_date)
    if end < start or not series_list:
        return
    ids = [s.id for s in series_list]
    # Lock first: a booking counting on one of these dates waits for us, or we for it.
    db.session.execute(
        sa.select(IndexedOccurrence.id)
        .where(IndexedOccurrence.series_id.in_(ids), IndexedOccurrence.date.between(start, end))
        .order_by(IndexedOccurrence.series_id, IndexedOccurrence.date)
        .with_for_update()
    ).all()
    _delete_rows(ids, start, end)
    _fill([list(series_list)], start, end)


def _delete_rows(series_ids: list[int] | None, start: date | None, end: date | None) -> int:
    def where(table):
        conditions = []
        if series_ids is not None:
            conditions.append(table.c.series_id.in_(series_ids))
        if start is not None:
            conditions.append(table.c.date >= start)
        if end is not None:
            conditions.append(table.c.date <= end)
        return conditions

    db.session.execute(sa.delete(_slots).where(*where(_slots)))
    return db.session.execute(sa.delete(_occurrences).where(*where(_occurrences))).rowcount


def _fill(batches: Iterable[list[ConsultationHours]], start: date, end: date) -> int:
    """Insert the rows of these series for [start, end]; return the occurrences written."""
    written = 0
    for series_list in batches:
        if not series_list:
            continue
        found = schedule.occurrences(series_list, start, end, include_cancelled=True)
        taken = _seats_taken(
            [s.id for s in series_list],
            [slot.start_utc for occurrence in found for slot in occurrence.slots],
        )
        occurrence_rows, slot_rows = [], []
        for occurrence in found:
            occurrence_row, slots = _rows(occurrence, taken)
            occurrence_rows.append(occurrence_row)
            slot_rows.extend(slots)
        if occurrence_rows:
            db.session.execute(_occurrences.insert(), occurrence_rows)
        if slot_rows:
            db.session.execute(_slots.insert(), slot_rows)
        written += len(occurrence_rows)
    return written


def _seats_taken(series_ids: list[int], starts: list[datetime]) -> dict:
    """Bookings holding a seat, per (series, slot start), over the span of ``starts``."""
    if not starts:
        return {}
    rows = db.session.execute(
        sa.select(Booking.series_id, Booking.slot_start, sa.func.count())
        .where(
            Booking.series_id.in_(series_ids),
            Booking.slot_start >= min(starts),
            Booking.slot_start <= max(starts),
            Booking.seat.is_not(None),
        )
        .group_by(Booking.series_id, Booking.slot_start)
    )
    return {(series_id, clock.as_utc(at)): count for series_id, at, count in rows}


def is_published(series: ConsultationHours) -> bool:
    """Whether residents may see the series: the rule of ``finder.public_series_query``."""
    return (
        series.status is SeriesStatus.PUBLISHED
        and series.location.active
        and series.provider.active
    )


def _rows(occurrence: schedule.Occurrence, taken: dict) -> tuple[dict, list[dict]]:
    series = occurrence.series
    zone = occurrence.start.tzinfo
    # Bookable from the first instant of the day that puts this date within the horizon
    # (``schedule.free_slots``: date <= today + book_ahead_days, today in the location's zone).
    opens_at = datetime.combine(
        occurrence.date - timedelta(days=series.book_ahead_days), time(), zone
    ).astimezone(UTC)
    notice = timedelta(hours=series.min_notice_hours)
    published = is_published(series)
    slots = []
    for slot in occurrence.slots:
        start = slot.start_utc
        slots.append(
            {
                "series_id": series.id,
                "date": occurrence.date,
                "starts_at": start,
                "ends_at": slot.end.astimezone(UTC),
                "opens_at": opens_at,
                "closes_at": start - notice,
                "seats": slot.seats,
                "seats_taken": taken.get((series.id, start), 0),
                "published": published,
            }
        )
    row = {
        "series_id": series.id,
        "provider_id": series.provider_id,
        "location_id": series.location_id,
        "date": occurrence.date,
        "starts_at": occurrence.start.astimezone(UTC),
        "ends_at": occurrence.end.astimezone(UTC),
        "kind": IndexedKind(occurrence.kind.value),
        "status": IndexedStatus(occurrence.status.value),
        "reason": occurrence.reason[:200],
        "published": published,
        "bookable": bool(occurrence.slots),
        "walk_in_starts_at": _utc_or_none(occurrence.walk_in_start),
        "walk_in_ends_at": _utc_or_none(occurrence.walk_in_end),
        "seats": sum(slot["seats"] for slot in slots),
        "seats_taken": sum(slot["seats_taken"] for slot in slots),
    }
    return row, slots


def _utc_or_none(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None

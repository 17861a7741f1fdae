"""Where else to go when a series has no free time (its page, or the "just taken" answer
to a booking): the nearest free times found by bounded queries on the occurrence index.

Nearest means: other times of the same series first; then the same help (a topic in
common) in the same town; then elsewhere, soonest first. Each step reads a limited number
of rows, so the answer costs the same in a town of five series as in a country of five
thousand.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    ConsultationHours,
    IndexedOccurrence,
    IndexedSlot,
    IndexedStatus,
    Location,
    SeriesStatus,
)
from app.services import finder
from app.services.occurrence_index import bookable_now, free_slots_query
from app.services.schedule import BookableSlot, Occurrence, Slot

ALTERNATIVES_DAYS = 28
# Occurrences with a free seat read to find the soonest elsewhere.
CANDIDATES_READ = 40


def alternatives(
    series: ConsultationHours, *, limit: int = 6
) -> tuple[list[BookableSlot], list[BookableSlot]]:
    """The nearest free times of this series, and the first free time of up to ``limit``
    other public series on the same topics: in the same town first, then soonest."""
    now = clock.now()
    until = now + timedelta(days=ALTERNATIVES_DAYS)
    same = _free_times(
        free_slots_query(now)
        .where(IndexedSlot.series_id == series.id, IndexedSlot.starts_at < until)
        .limit(limit)
    )
    topic_ids = [topic.id for topic in series.topics]
    if not topic_ids:
        return same, []
    in_town = db.session.scalars(
        sa.select(ConsultationHours.id)
        .join(Location, Location.id == ConsultationHours.location_id)
        .where(
            Location.city == series.location.city,
            ConsultationHours.status == SeriesStatus.PUBLISHED,
            ConsultationHours.id != series.id,
            finder.on_topics(ConsultationHours.id, topic_ids),
        )
    ).all()
    firsts = _first_free_times(in_town, now, until, limit) if in_town else []
    if len(firsts) < limit:
        candidates = _soonest_elsewhere(topic_ids, [series.id, *in_town], now, until)
        if candidates:
            firsts += _first_free_times(
                {series_id for series_id, _day in candidates},
                now,
                until,
                limit - len(firsts),
                dates={day for _series_id, day in candidates},
            )
    if not firsts:
        return same, []
    chosen = set(firsts)
    found = _free_times(
        free_slots_query(now)
        .order_by(None)
        .where(
            IndexedSlot.series_id.in_({series_id for series_id, _start in firsts}),
            IndexedSlot.starts_at.in_({start for _series_id, start in firsts}),
        )
    )
    return same, [
        item for item in found if (item.occurrence.series.id, item.slot.start_utc) in chosen
    ]


def _first_free_times(
    series_ids, now: datetime, until: datetime, limit: int, dates=None
) -> list[tuple]:
    """(series, start) of the first free time of each of these series (on these dates),
    soonest first; one row per series. Read through the index on (series, date): the few
    series chosen, not every free time from now on."""
    slot = IndexedSlot
    free = sa.select(slot.series_id, slot.starts_at).where(
        slot.series_id.in_(series_ids),
        *bookable_now(now),
        slot.date <= until.date(),
    )
    if dates is not None:
        free = free.where(slot.date.in_(dates))
    free = free.subquery()
    first = sa.func.min(free.c.starts_at)
    return [
        (series_id, clock.as_utc(starts_at))
        for series_id, starts_at in db.session.execute(
            sa.select(free.c.series_id, first)
            .where(free.c.starts_at < until)
            .group_by(free.c.series_id)
            .order_by(first, free.c.series_id)
            .limit(limit)
        )
    ]


def _soonest_elsewhere(topic_ids, not_these: list[int], now: datetime, until: datetime) -> list:
    """(series, date) of the soonest occurrences with a free seat of the similar series
    outside the town: a bounded number of index rows, read in order of time."""
    held = IndexedOccurrence
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(held.series_id, held.date)
            .where(
                held.published,
                held.bookable,
                held.status == IndexedStatus.SCHEDULED,
                held.seats_taken < held.seats,
                held.ends_at > now,
                held.starts_at >= now - finder.LONGEST_OCCURRENCE,
                held.starts_at < until,
                held.series_id.not_in(not_these),
                finder.on_topics(held.series_id, topic_ids),
            )
            .order_by(held.starts_at, held.series_id)
            .limit(CANDIDATES_READ)
        )
    ]


def _free_times(query: sa.Select) -> list[BookableSlot]:
    """The rows of a ``free_slots_query`` as free times with their series (one more query),
    earliest first."""
    earliest_first = query.order_by(None).order_by(IndexedSlot.starts_at, IndexedSlot.series_id)
    rows = db.session.execute(earliest_first).all()
    series = finder.series_by_id({row.series_id for row in rows})
    found = []
    for row in rows:
        item = series[row.series_id]
        zone = ZoneInfo(item.location.timezone)
        start = clock.as_utc(row.starts_at).astimezone(zone)
        end = clock.as_utc(row.ends_at).astimezone(zone)
        slot = Slot(start=start, end=end, seats=row.seats)
        occurrence = Occurrence(series=item, date=start.date(), start=start, end=end)
        found.append(BookableSlot(occurrence, slot, row.seats - row.seats_taken))
    return found

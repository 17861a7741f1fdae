"""Where else to go when a series has no free time (its page, or the "just taken" answer
to a booking): the nearest free times found by bounded queries on the occurrence index.

Nearest means: other times of the same series first; then the same help (a topic in
common) in the same town; then elsewhere, soonest first. Each step reads a limited number
of rows, so the answer costs the same in a town of five series as in a country of five
thousand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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
    series_topic,
)
from app.services import finder
from app.services.occurrence_index import free_slots_query
from app.services.schedule import BookableSlot, Occurrence, Slot

ALTERNATIVES_DAYS = 28
# Free times read to find the first of each series in a town; occurrences read to find
# the soonest elsewhere.
TOWN_SLOTS_READ = 200
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
    similar = sa.select(series_topic.c.series_id).where(
        series_topic.c.topic_id.in_(topic_ids), series_topic.c.series_id != series.id
    )
    in_town = db.session.scalars(
        sa.select(ConsultationHours.id)
        .join(Location, Location.id == ConsultationHours.location_id)
        .where(
            Location.city == series.location.city,
            ConsultationHours.status == SeriesStatus.PUBLISHED,
            ConsultationHours.id.in_(similar),
        )
    ).all()
    found = _first_per_series(
        _free_times(
            free_slots_query(now)
            .where(IndexedSlot.series_id.in_(in_town), IndexedSlot.starts_at < until)
            .limit(TOWN_SLOTS_READ)
        )
        if in_town
        else [],
        limit,
    )
    if len(found) < limit:
        found += _first_per_series(_soonest_elsewhere(similar, in_town, now, until), limit)[
            : limit - len(found)
        ]
    return same, found


def _soonest_elsewhere(similar, in_town: list[int], now: datetime, until: datetime):
    """The first free time of each series among the soonest occurrences with a free seat."""
    held = IndexedOccurrence
    candidates = db.session.execute(
        sa.select(held.series_id, held.date)
        .where(
            held.published,
            held.bookable,
            held.status == IndexedStatus.SCHEDULED,
            held.seats_taken < held.seats,
            held.ends_at > now,
            held.starts_at >= now - finder.LONGEST_OCCURRENCE,
            held.starts_at < until,
            held.series_id.in_(similar),
            held.series_id.not_in(in_town),
        )
        .order_by(held.starts_at, held.series_id)
        .limit(CANDIDATES_READ)
    ).all()
    first_dates = {}
    for series_id, day in candidates:
        first_dates.setdefault(series_id, []).append(day)
    if not first_dates:
        return []
    return _free_times(
        free_slots_query(now).where(
            sa.or_(
                *(
                    sa.and_(IndexedSlot.series_id == series_id, IndexedSlot.date.in_(days))
                    for series_id, days in first_dates.items()
                )
            )
        )
    )


def _first_per_series(items: list[BookableSlot], limit: int) -> list[BookableSlot]:
    first = {}
    for item in items:
        first.setdefault(item.occurrence.series.id, item)
    return list(first.values())[:limit]


def _free_times(query: sa.Select) -> list[BookableSlot]:
    """The rows of a ``free_slots_query`` as free times with their series (one more query)."""
    rows = db.session.execute(query).all()
    series = finder.series_by_id({row.series_id for row in rows})
    found = []
    for row in rows:
        item = series[row.series_id]
        zone = ZoneInfo(item.location.timezone)
        start = _as_utc(row.starts_at).astimezone(zone)
        end = _as_utc(row.ends_at).astimezone(zone)
        slot = Slot(start=start, end=end, seats=row.seats)
        occurrence = Occurrence(series=item, date=start.date(), start=start, end=end)
        found.append(BookableSlot(occurrence, slot, row.seats - row.seats_taken))
    return found


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

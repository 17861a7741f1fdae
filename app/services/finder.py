"""Finding help: published hours by topic, place and organisation, with their free times."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import groupby

import sqlalchemy as sa
from sqlalchemy import orm

from app import clock
from app.extensions import db
from app.models import ConsultationHours, Location, Organisation, SeriesStatus, Topic, series_topic
from app.services import booking as booking_service
from app.services.schedule import Occurrence, free_slots, occurrences

WEEKS_SHOWN = 4


@dataclass
class Filters:
    topic: Topic | None = None
    place: str = ""  # a town or city
    organisation: Organisation | None = None

    @property
    def active(self) -> bool:
        return bool(self.topic or self.place or self.organisation)


@dataclass
class DayOfHours:
    day: date
    occurrences: list[Occurrence] = field(default_factory=list)


def public_series_query() -> sa.Select:
    """Series residents may see: published, at a location in use, by an active organisation."""
    return (
        sa.select(ConsultationHours)
        .join(ConsultationHours.location)
        .join(ConsultationHours.provider)
        .where(
            ConsultationHours.status == SeriesStatus.PUBLISHED,
            Location.active,
            Organisation.active,
        )
    )


def is_public(series: ConsultationHours | None) -> bool:
    """The same rule as ``public_series_query`` for one series."""
    return (
        series is not None
        and series.status is SeriesStatus.PUBLISHED
        and series.location.active
        and series.provider.active
    )


def published_series(filters: Filters) -> list[ConsultationHours]:
    """Series residents may see, matching the filters."""
    query = public_series_query()
    if filters.topic is not None:
        query = query.join(series_topic, series_topic.c.series_id == ConsultationHours.id).where(
            series_topic.c.topic_id == filters.topic.id
        )
    if filters.place:
        query = query.where(Location.city == filters.place)
    if filters.organisation is not None:
        query = query.where(ConsultationHours.provider_id == filters.organisation.id)
    query = query.options(
        orm.contains_eager(ConsultationHours.provider),
        orm.contains_eager(ConsultationHours.location),
    )
    return list(db.session.scalars(query.order_by(ConsultationHours.id)).unique())


def upcoming(filters: Filters, *, weeks: int = WEEKS_SHOWN) -> tuple[list[DayOfHours], dict]:
    """Held occurrences of the coming weeks grouped by day, and free slots per occurrence."""
    today = clock.today()
    end = today + timedelta(weeks=weeks) - timedelta(days=1)
    series = published_series(filters)
    now = clock.now()
    found = [o for o in occurrences(series, today, end) if o.end > now]
    taken = booking_service.seats_taken([s.id for s in series], *_window(today, end))
    free: dict[str, int] = defaultdict(int)
    for item in free_slots(found, now=now, booked=taken):
        free[item.occurrence.key] += 1
    days = [DayOfHours(day, list(items)) for day, items in groupby(found, key=lambda o: o.date)]
    return days, free


def _window(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start - timedelta(days=1), datetime.min.time(), UTC),
        datetime.combine(end + timedelta(days=2), datetime.min.time(), UTC),
    )


def topics() -> list[Topic]:
    return list(
        db.session.scalars(
            sa.select(Topic)
            .where(Topic.active, Topic.public)
            .order_by(Topic.sort_order, Topic.name_nl)
        )
    )


def places() -> list[str]:
    """Towns and cities with published hours."""
    query = public_series_query().with_only_columns(Location.city).distinct()
    return list(db.session.scalars(query.order_by(Location.city)))


def organisations() -> list[Organisation]:
    """Organisations with published hours."""
    ids = public_series_query().with_only_columns(ConsultationHours.provider_id)
    return list(
        db.session.scalars(
            sa.select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)
        )
    )


ALTERNATIVES_DAYS = 28


def alternatives(series: ConsultationHours, *, limit: int = 6):
    """Where else to go: the nearest free times of this series, and the first free time of
    each other public series on the same topics (nearest first)."""
    today = clock.today()
    end = today + timedelta(days=ALTERNATIVES_DAYS)
    same = booking_service.available_slots([series], today, end)[:limit]
    topic_ids = [t.id for t in series.topics]
    if not topic_ids:
        return same, []
    similar = db.session.scalars(
        public_series_query()
        .join(series_topic, series_topic.c.series_id == ConsultationHours.id)
        .where(ConsultationHours.id != series.id, series_topic.c.topic_id.in_(topic_ids))
        .distinct()
    ).all()
    first_per_series = {}
    for item in booking_service.available_slots(similar, today, end):
        first_per_series.setdefault(item.occurrence.series.id, item)
    elsewhere = sorted(first_per_series.values(), key=lambda item: item.slot.start_utc)
    return same, elsewhere[:limit]

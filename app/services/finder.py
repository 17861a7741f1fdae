"""Finding help: published hours by topic, place and organisation, with their free times.

Every list here is one bounded query on the occurrence index (``app.services.occurrence_index``):
it filters, sorts and limits in the database and never expands a series on a request, so
a page costs what it shows, whatever the size of the network. A list continues after the
last row it showed (a ``Cursor``), never at an offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import orm

from app import clock
from app.extensions import db
from app.models import (
    ConsultationHours,
    IndexedKind,
    IndexedOccurrence,
    IndexedSlot,
    IndexedStatus,
    Location,
    Organisation,
    SeriesStatus,
    Topic,
    series_topic,
)
from app.services.occurrence_index import bookable_now
from app.web.params import parse_slot, slot_param

WEEKS_SHOWN = 4
# No occurrence lasts longer than a day: the list reads the index on its start from a day
# before now, and keeps what has not ended.
LONGEST_OCCURRENCE = timedelta(days=1)


@dataclass
class Filters:
    topic: Topic | None = None
    place: str = ""  # a town or city
    organisation: Organisation | None = None

    @property
    def active(self) -> bool:
        return bool(self.topic or self.place or self.organisation)


@dataclass(slots=True)
class Listed:
    """One held date of a series as a list shows it; times in the location's zone."""

    series: ConsultationHours
    date: date
    start: datetime
    end: datetime
    changed: bool  # other times than usual
    reason: str
    walk_in_start: datetime | None
    walk_in_end: datetime | None
    free: int  # appointment times a resident may book now


@dataclass
class DayOfHours:
    day: date
    occurrences: list[Listed] = field(default_factory=list)


@dataclass(frozen=True)
class Cursor:
    """Where a list goes on: after the occurrence starting at ``starts_at`` of this series."""

    starts_at: datetime
    series_id: int

    def param(self) -> str:
        return f"{slot_param(self.starts_at)}.{self.series_id}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        moment, _, number = (text or "").partition(".")
        starts_at = parse_slot(moment)
        if starts_at is None or not number.isdigit() or len(number) > 9:
            return None
        return cls(starts_at.astimezone(UTC), int(number))


@dataclass
class Page:
    """One page of a list: its rows by day, and where the next page starts (if any)."""

    days: list[DayOfHours]
    later: Cursor | None
    shown: int


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


def upcoming(
    filters: Filters,
    *,
    limit: int | None = None,
    after: Cursor | None = None,
    weeks: int = WEEKS_SHOWN,
) -> Page:
    """The first ``limit`` held occurrences of the coming weeks that have not ended, matching
    the filters, earliest first, after ``after``; grouped by day, with their free times."""
    limit = limit or current_app.config["LIST_PAGE_SIZE"]
    now = clock.now()
    last_day = clock.today() + timedelta(weeks=weeks) - timedelta(days=1)
    held = IndexedOccurrence
    query = (
        sa.select(
            held.series_id,
            held.date,
            held.starts_at,
            held.ends_at,
            held.kind,
            held.reason,
            held.walk_in_starts_at,
            held.walk_in_ends_at,
            held.bookable,
        )
        .where(
            held.published,
            held.status == IndexedStatus.SCHEDULED,
            held.starts_at >= now - LONGEST_OCCURRENCE,
            held.ends_at > now,
            held.date <= last_day,
        )
        .order_by(held.starts_at, held.series_id)
        .limit(limit + 1)
    )
    query = _filtered(query, filters)
    if after is not None:
        query = query.where(
            sa.or_(
                held.starts_at > after.starts_at,
                sa.and_(held.starts_at == after.starts_at, held.series_id > after.series_id),
            )
        )
    rows = db.session.execute(query).all()
    if not rows:
        _warn_if_never_indexed()
    later = None
    if len(rows) > limit:
        rows = rows[:limit]
        later = Cursor(clock.as_utc(rows[-1].starts_at), rows[-1].series_id)
    series = series_by_id({row.series_id for row in rows})
    free = _free_times([(row.series_id, row.date) for row in rows if row.bookable], now=now)
    days: list[DayOfHours] = []
    for row in rows:
        item = series[row.series_id]
        zone = ZoneInfo(item.location.timezone)
        listed = Listed(
            series=item,
            date=row.date,
            start=clock.as_utc(row.starts_at).astimezone(zone),
            end=clock.as_utc(row.ends_at).astimezone(zone),
            changed=row.kind is IndexedKind.CHANGED,
            reason=row.reason,
            walk_in_start=_local(row.walk_in_starts_at, zone),
            walk_in_end=_local(row.walk_in_ends_at, zone),
            free=free.get((row.series_id, row.date), 0),
        )
        if not days or days[-1].day != row.date:
            days.append(DayOfHours(row.date))
        days[-1].occurrences.append(listed)
    return Page(days, later, len(rows))


def on_topics(series_id, topic_ids) -> sa.ColumnElement[bool]:
    """The series has one of these topics: a probe of series_topic's key per row, not a list
    of every series on the topic (which grows with the network)."""
    return (
        sa.select(series_topic.c.series_id)
        .where(series_topic.c.series_id == series_id, series_topic.c.topic_id.in_(topic_ids))
        .exists()
    )


def _warn_if_never_indexed() -> None:
    """An empty list on a database whose index was never built (an upgrade without
    ``flask index-occurrences --rebuild``) is a fault to report, not a quiet week."""
    from app.services.occurrence_index import window

    if window() is None and db.session.scalar(sa.select(ConsultationHours.id).limit(1)):
        current_app.logger.error(
            "The occurrence index was never built: residents see no help sessions. "
            "Run 'flask index-occurrences --rebuild'."
        )


def _filtered(query: sa.Select, filters: Filters) -> sa.Select:
    held = IndexedOccurrence
    if filters.topic is not None:
        query = query.where(on_topics(held.series_id, [filters.topic.id]))
    if filters.place:
        query = query.where(
            held.location_id.in_(sa.select(Location.id).where(Location.city == filters.place))
        )
    if filters.organisation is not None:
        query = query.where(held.provider_id == filters.organisation.id)
    return query


def series_by_id(ids: set[int]) -> dict[int, ConsultationHours]:
    """The listed series with their provider and location, in one query."""
    if not ids:
        return {}
    found = db.session.scalars(
        sa.select(ConsultationHours)
        .where(ConsultationHours.id.in_(ids))
        .options(
            orm.joinedload(ConsultationHours.provider),
            orm.joinedload(ConsultationHours.location),
        )
    )
    return {item.id: item for item in found}


def _free_times(occurrences: list[tuple[int, date]], *, now: datetime) -> dict:
    """Free times a resident may book now, per (series, date), for these occurrences: one
    query on the slots of the listed series over the listed dates."""
    if not occurrences:
        return {}
    wanted = set(occurrences)
    free = IndexedSlot
    query = (
        sa.select(free.series_id, free.date, sa.func.count())
        .where(
            free.series_id.in_({series_id for series_id, _day in wanted}),
            free.date.between(min(day for _id, day in wanted), max(day for _id, day in wanted)),
            *bookable_now(now),
        )
        .group_by(free.series_id, free.date)
    )
    return {
        (series_id, day): count
        for series_id, day, count in db.session.execute(query)
        if (series_id, day) in wanted
    }


def _local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    return clock.as_utc(value).astimezone(zone) if value is not None else None


# The filters' choices: from the small topic, location and organisation tables ------------------


def topics() -> list[Topic]:
    return list(
        db.session.scalars(
            sa.select(Topic)
            .where(Topic.active, Topic.public)
            .order_by(Topic.sort_order, Topic.name_nl)
        )
    )


def _has_public_hours(location=Location):
    return (
        sa.select(ConsultationHours.id)
        .where(
            ConsultationHours.location_id == location.id,
            ConsultationHours.status == SeriesStatus.PUBLISHED,
        )
        .exists()
    )


def places() -> list[str]:
    """Towns and cities with published hours."""
    return list(
        db.session.scalars(
            sa.select(Location.city)
            .where(Location.active, _has_public_hours())
            .distinct()
            .order_by(Location.city)
        )
    )


def is_large_network() -> bool:
    """Whether the network holds hours in more places than a list of buttons can show: then
    residents type or choose their place first."""
    most = current_app.config["PLACES_AS_BUTTONS"]
    found = db.session.scalars(
        sa.select(Location.city).where(Location.active).distinct().limit(most + 1)
    ).all()
    return len(found) > most


def organisations(place: str = "") -> list:
    """Active organisations with published hours (in ``place``, when given): their number
    and name, for the filter's choices."""
    held = sa.select(ConsultationHours.provider_id).where(
        ConsultationHours.status == SeriesStatus.PUBLISHED
    )
    if place:
        held = held.join(Location, Location.id == ConsultationHours.location_id).where(
            Location.city == place, Location.active
        )
    return db.session.execute(
        sa.select(Organisation.id, Organisation.name)
        .where(Organisation.active, Organisation.id.in_(held))
        .order_by(Organisation.name)
    ).all()


@dataclass
class PlaceAnswer:
    """What a typed place name found: the place itself, or the places it may mean."""

    place: str = ""
    suggestions: list[str] = field(default_factory=list)


def find_place(text: str, *, limit: int = 8) -> PlaceAnswer:
    """The town or city a resident typed (any case, spaces around), or the places whose name
    starts with it, then those that contain it."""
    text = " ".join(text.split())[:80]
    if not text:
        return PlaceAnswer()
    cities = sa.select(Location.city).where(Location.active, _has_public_hours()).distinct()
    exact = db.session.scalar(cities.where(Location.city == text).limit(1)) or db.session.scalar(
        cities.where(sa.func.lower(Location.city) == text.lower()).limit(1)
    )
    if exact is not None:
        return PlaceAnswer(place=exact)
    pattern = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    starting = db.session.scalars(
        cities.where(sa.func.lower(Location.city).like(f"{pattern}%", escape="\\"))
        .order_by(Location.city)
        .limit(limit)
    ).all()
    if len(starting) < limit and len(text) >= 3:
        containing = db.session.scalars(
            cities.where(sa.func.lower(Location.city).like(f"%{pattern}%", escape="\\"))
            .order_by(Location.city)
            .limit(limit)
        ).all()
        starting += [city for city in containing if city not in starting][: limit - len(starting)]
    return PlaceAnswer(suggestions=list(starting))


def places_by_letter(letter: str) -> list[str]:
    """Towns and cities with published hours whose name starts with ``letter``."""
    return list(
        db.session.scalars(
            sa.select(Location.city)
            .where(
                Location.active,
                _has_public_hours(),
                sa.func.upper(sa.func.substr(Location.city, 1, 1)) == letter.upper(),
            )
            .distinct()
            .order_by(Location.city)
        )
    )


def place_letters() -> list[str]:
    """The first letters of the towns and cities with published hours."""
    first = sa.func.upper(sa.func.substr(Location.city, 1, 1))
    return list(
        db.session.scalars(
            sa.select(first).where(Location.active, _has_public_hours()).distinct().order_by(first)
        )
    )

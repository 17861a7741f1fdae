"""The public offer as the API shows it: built from the same rules as the public pages
(``app.services.finder``: published hours at active locations of active organisations;
``app.services.courses``: open courses with a coming session)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import orm

from app import clock
from app.api import schemas
from app.extensions import db
from app.models import (
    ConsultationHours,
    Course,
    CourseSession,
    Location,
    Organisation,
    Topic,
    series_topic,
)
from app.services import booking as booking_service
from app.services import courses as course_service
from app.services import embeds, finder
from app.services.notify import external_url
from app.services.schedule import free_slots, occurrences


def page_of(query: sa.Select, page: int, limit: int) -> tuple[list, int]:
    """One page of a query's rows (ordered by the query) and the number of all rows."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.limit(limit).offset((page - 1) * limit)).unique().all()
    return list(rows), total


# Organisations and locations ---------------------------------------------------------------


def organisations_query() -> sa.Select:
    return sa.select(Organisation).where(Organisation.active).order_by(Organisation.id)


def organisation(item: Organisation) -> schemas.Organisation:
    return schemas.Organisation(
        id=item.id,
        name=item.name,
        kind=item.kind.value,
        description=item.description,
        website=item.website,
        hours_url=external_url("public.hours_of_organisation", slug=embeds.organisation_slug(item)),
    )


def locations_query() -> sa.Select:
    return (
        sa.select(Location)
        .join(Location.organisation)
        .where(Location.active, Organisation.active)
        .options(orm.contains_eager(Location.organisation))
        .order_by(Location.id)
    )


def location(item: Location) -> schemas.Location:
    return schemas.Location(
        id=item.id,
        name=item.name,
        street=item.street,
        postcode=item.postcode,
        city=item.city,
        accessibility=item.accessibility,
        timezone=item.timezone,
        host=_organisation_ref(item.organisation),
    )


def _organisation_ref(item: Organisation) -> schemas.OrganisationRef:
    return schemas.OrganisationRef(id=item.id, name=item.name)


def _location_ref(item: Location) -> schemas.LocationRef:
    return schemas.LocationRef(id=item.id, name=item.name, city=item.city)


def topics() -> list[schemas.Topic]:
    return [
        schemas.Topic(
            slug=topic.slug,
            name_nl=topic.name_nl,
            name_en=topic.name("en"),
            names={language: topic.name(language) for language in current_app.config["LANGUAGES"]},
            hours_url=external_url("public.hours_on_topic", slug=topic.slug),
        )
        for topic in finder.topics()
    ]


# Hours --------------------------------------------------------------------------------------


def hours_query(place: str | None, topic: str | None, organisation_id: int | None) -> sa.Select:
    """Public series, matching the filters, in a fixed order (for pages)."""
    query = finder.public_series_query()
    if topic:
        query = (
            query.join(series_topic, series_topic.c.series_id == ConsultationHours.id)
            .join(Topic, Topic.id == series_topic.c.topic_id)
            .where(Topic.slug == topic)
        )
    if place:
        query = query.where(Location.city == place)
    if organisation_id:
        query = query.where(ConsultationHours.provider_id == organisation_id)
    return query.options(
        orm.contains_eager(ConsultationHours.provider),
        orm.contains_eager(ConsultationHours.location),
        orm.selectinload(ConsultationHours.topics),
    ).order_by(ConsultationHours.id)


def hours(series_list: list[ConsultationHours], weeks: int) -> list[schemas.Hours]:
    """The series with their dates in the coming ``weeks`` and the free times of each date."""
    today, now = clock.today(), clock.now()
    end = today + timedelta(weeks=weeks) - timedelta(days=1)
    found = [o for o in occurrences(series_list, today, end, include_cancelled=True) if o.end > now]
    taken = booking_service.seats_taken(
        [s.id for s in series_list],
        datetime.combine(today - timedelta(days=1), datetime.min.time(), UTC),
        datetime.combine(end + timedelta(days=2), datetime.min.time(), UTC),
    )
    free: dict[str, int] = defaultdict(int)
    for item in free_slots(found, now=now, booked=taken):
        free[item.occurrence.key] += 1
    per_series = defaultdict(list)
    for occ in found:
        per_series[occ.series.id].append(
            schemas.Occurrence(
                date=occ.date,
                start=occ.start,
                end=occ.end,
                status=occ.status.value,
                change=occ.kind.value,
                reason=occ.reason,
                walk_in_start=occ.walk_in_start,
                walk_in_end=occ.walk_in_end,
                free_times=free[occ.key] if occ.series.is_bookable_mode else None,
            )
        )
    return [
        schemas.Hours(
            id=item.id,
            title=item.title,
            description=item.description,
            what_to_bring=item.what_to_bring,
            mode=item.mode.value,
            provider=_organisation_ref(item.provider),
            location=_location_ref(item.location),
            topics=[topic.slug for topic in item.topics if topic.active and topic.public],
            url=external_url("public.series", series_id=item.id),
            occurrences=per_series[item.id],
        )
        for item in series_list
    ]


# Courses ------------------------------------------------------------------------------------


def courses_query() -> sa.Select:
    """The courses residents may sign up for (as ``courses.is_public``), in one query."""
    upcoming = (
        sa.select(CourseSession.course_id)
        .where(CourseSession.date >= clock.today())
        .scalar_subquery()
    )
    return (
        sa.select(Course)
        .join(Course.location)
        .join(Course.organisation)
        .where(
            Course.open_for_referrals,
            Course.id.in_(upcoming),
            Location.active,
            Organisation.active,
        )
        .options(
            orm.contains_eager(Course.location),
            orm.contains_eager(Course.organisation),
            orm.selectinload(Course.sessions),
            orm.selectinload(Course.topic),
        )
        .order_by(Course.id)
    )


def course(item: Course) -> schemas.Course:
    zone = ZoneInfo(item.location.timezone)
    return schemas.Course(
        id=item.id,
        title=item.title,
        description=item.description,
        what_to_bring=item.what_to_bring,
        organisation=_organisation_ref(item.organisation),
        location=_location_ref(item.location),
        capacity=item.capacity,
        places_left=course_service.places_left(item),
        sessions=[
            schemas.CourseSession(
                date=session.date,
                start=datetime.combine(session.date, session.start_time, zone),
                end=datetime.combine(session.date, session.end_time, zone),
            )
            for session in item.sessions
        ],
        topic=item.topic.slug if item.topic is not None else None,
        device=item.device.value,
        needs_intake=item.needs_intake,
        url=external_url("course_signup.course", course_id=item.id, slug=course_service.slug(item)),
    )


def next_page_url(endpoint: str, page: int, limit: int, total: int, **args) -> str | None:
    if page * limit >= total:
        return None
    values = {k: v for k, v in args.items() if v is not None}
    return external_url(endpoint, page=page + 1, limit=limit, **values)

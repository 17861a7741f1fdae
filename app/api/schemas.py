"""What the API answers, as pydantic models: spectree documents them in the OpenAPI
document and checks every answer against them.

Only the public offer: no bookings, enrolments, referrals, visits, staff or contact details
of people. Version 1 only grows: a field is never removed or renamed (see
tests/test_api_schema.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(Model):
    """An error, as problem details (RFC 9457; served as application/problem+json)."""

    type: str = Field(description="Always about:blank: the status says what went wrong.")
    title: str
    status: int
    detail: str


class PageQuery(Model):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(1, ge=1, le=100_000, description="The page, from 1.")
    limit: int = Field(50, ge=1, le=100, description="Items per page (at most 100).")


class PageInfo(Model):
    page: int
    limit: int
    total: int = Field(description="Items on all pages together.")
    next: str | None = Field(description="The address of the next page; null on the last.")


class OrganisationRef(Model):
    id: int
    name: str


class LocationRef(Model):
    id: int
    name: str
    city: str


class Organisation(Model):
    """An organisation of the network: the library, the municipality or a partner."""

    id: int
    name: str
    kind: Literal["library", "municipality", "partner"]
    description: str = Field(description="What they help with, in plain language.")
    website: str
    hours_url: str = Field(description="The page with this organisation's help sessions.")


class OrganisationPage(PageInfo):
    items: list[Organisation]


class Location(Model):
    """A place where help sessions or courses are held."""

    id: int
    name: str
    street: str
    postcode: str
    city: str
    accessibility: str = Field(description="Wheelchair access, hearing loop, quiet room.")
    timezone: str
    host: OrganisationRef = Field(description="The organisation whose location it is.")


class LocationPage(PageInfo):
    items: list[Location]


class Topic(Model):
    """What residents can ask help with."""

    slug: str
    name_nl: str
    name_en: str = Field(description="The English name; the Dutch one where it has none.")
    names: dict[str, str] = Field(
        description="The name in every language residents can choose, by language code (nl, "
        "en, ar, fa, ti, tr, pl, uk); where a language has no name of its own, the English "
        "name, or else the Dutch one."
    )
    hours_url: str = Field(description="The page with the help sessions about this topic.")


class TopicList(Model):
    items: list[Topic]


class Occurrence(Model):
    """One date of a help session; times in the location's zone, with their offset."""

    date: date
    start: datetime
    end: datetime
    status: Literal["scheduled", "cancelled", "closed"] = Field(
        description="cancelled: not held this date; closed: the location is closed."
    )
    change: Literal["regular", "changed", "extra"] = Field(
        description="changed: other times than usual; extra: an extra date."
    )
    reason: str = Field(description="Why it is cancelled or changed, when said.")
    walk_in_start: datetime | None = Field(description="Mixed sessions: the walk-in window.")
    walk_in_end: datetime | None
    free_times: int | None = Field(
        description="Appointment times still free; null when there are no appointments."
    )


class Hours(Model):
    """A series of help sessions (a spreekuur), with its coming dates."""

    id: int
    title: str
    description: str
    what_to_bring: str
    mode: Literal["walk_in", "appointment", "mixed"]
    provider: OrganisationRef = Field(description="The organisation that holds it.")
    location: LocationRef
    topics: list[str] = Field(description="Slugs of its topics.")
    url: str = Field(description="Its page, where residents make an appointment.")
    occurrences: list[Occurrence] = Field(description="Its dates in the coming weeks.")


class HoursQuery(PageQuery):
    place: str | None = Field(None, max_length=80, description="A town or city.")
    topic: str | None = Field(None, max_length=40, description="A topic's slug.")
    organisation: int | None = Field(
        None, ge=1, le=2**31 - 1, description="The id of the organisation that holds them."
    )
    weeks: int = Field(4, ge=1, le=6, description="How many weeks of dates to show.")


class WeeksQuery(Model):
    model_config = ConfigDict(extra="ignore")

    weeks: int = Field(6, ge=1, le=6, description="How many weeks of dates to show.")


class HoursPage(PageInfo):
    items: list[Hours]


class CourseSession(Model):
    date: date
    start: datetime
    end: datetime


class Course(Model):
    """A course (Digisterker, Klik & Tik) with its sessions and the places left."""

    id: int
    title: str
    description: str
    what_to_bring: str
    organisation: OrganisationRef
    location: LocationRef
    capacity: int
    places_left: int = Field(description="0: full; residents can join the waiting list.")
    sessions: list[CourseSession]
    topic: str | None = Field(description="The slug of the course's topic, if it has one.")
    device: Literal["own", "library", "either"] = Field(
        description="What participants work on: their own device, a library laptop, or either."
    )
    needs_intake: bool = Field(description="Whether an intake comes before the course.")
    url: str = Field(description="Its page, where residents sign up.")


class CoursePage(PageInfo):
    items: list[Course]

"""A generated network of consultation hours, shared by the benchmarks in ``bench/``.

``build(url, SIZES["L"])`` makes, deterministically (seeded), a network of organisations,
locations in towns, topics and series (a mix of weekly and monthly, walk-in, appointment
and mixed hours), with a year of history: past bookings (attended, not come, cancelled),
booked seats in the coming weeks, date exceptions, location closures, registered contacts
at the desks, a staff member with a feed link of their organisation, and one series whose
every seat is booked (``FULL_TITLE``). Rows go in with bulk inserts; the network ends with
a full ``occurrence_index.rebuild()``, so the index is what the app would have kept.

The helpers the benchmarks share live here too: their app settings, a fresh schema on
SQLite or PostgreSQL (which makes the database when it is missing), bulk inserts of
bookings and registrations, medians, and the plain-``icalendar`` baseline of the feeds.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import icalendar  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402
from flask_migrate import downgrade, upgrade  # noqa: E402

from app import clock, create_app, dispose_engines, normalise_database_url  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    Booking,
    Channel,
    ConsultationHours,
    Duration,
    ExceptionKind,
    FeedBookings,
    FeedKind,
    HowHelped,
    Location,
    LocationClosure,
    Mode,
    Organisation,
    OrganisationKind,
    Recurrence,
    RegisteredQuestion,
    Registration,
    Role,
    SeriesException,
    SeriesStatus,
    Topic,
    User,
)
from app.services import feeds, ical, occurrence_index, schedule  # noqa: E402
from app.transactions import writing  # noqa: E402

AMS = ZoneInfo("Europe/Amsterdam")
FULL_TITLE = "Spreekuur Geldzaken (vol)"
STAFF_EMAIL = "medewerker@bench.example"
TOPICS = 8
BATCH = 5000


@dataclass(frozen=True)
class Size:
    name: str
    series: int
    locations: int
    organisations: int

    @property
    def places(self) -> int:
        """Towns: about three locations each, as many series per town at every size."""
        return max(self.locations // 3, 1)


SIZES = {
    "T": Size("T", series=12, locations=4, organisations=2),  # the test of the benchmark
    "S": Size("S", series=100, locations=20, organisations=4),
    "M": Size("M", series=1_000, locations=200, organisations=40),
    "L": Size("L", series=5_000, locations=1_000, organisations=150),
}


@dataclass
class Network:
    """What was built, and what a benchmark needs to find in it."""

    url: str
    size: Size
    feed_token: str = ""  # the staff member's organisation feed (with booking counts)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        parts = ", ".join(f"{n:,} {what}" for what, n in self.counts.items())
        return f"{self.size.name}: {parts} (built in {self.seconds:.0f} s)"


# Shared helpers ---------------------------------------------------------------------------


def config(url: str, **extra) -> dict:
    """App settings of a benchmark: the given database, no mail sent, limits high enough."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench",
        "TESTING": True,
        "PUBLIC_URL": "http://127.0.0.1",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
        "OUTBOX_SEND_AFTER_RESPONSE": False,
        "MAIL_PORT": 1,
        # What a page costs to make: the short-lived page cache is measured on its own.
        "PUBLIC_PAGE_CACHE_SECONDS": 0,
    }
    settings.update(extra)
    return settings


def ensure_database(url: str) -> None:
    """On PostgreSQL, make the database of ``url`` when it does not exist yet."""
    parsed = sa.engine.make_url(normalise_database_url(url))
    if parsed.get_backend_name() != "postgresql":
        return
    engine = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        found = conn.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        )
        if not found:
            conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    engine.dispose()


def drop_database(url: str) -> None:
    """On PostgreSQL, drop the database of ``url`` (SQLite files go with their directory)."""
    parsed = sa.engine.make_url(normalise_database_url(url))
    if parsed.get_backend_name() != "postgresql":
        return
    engine = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    engine.dispose()


def fresh_app(url: str, **extra) -> Flask:
    """The app on ``url`` with an empty schema at the newest migration."""
    ensure_database(url)
    app = create_app(config(url, **extra))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            downgrade(revision="base")
        upgrade()
        close()
    return app


def close() -> None:
    """End the session and close every pooled connection of the current app."""
    db.session.remove()
    dispose_engines()


def insert(table, rows: list[dict]) -> None:
    """Bulk insert (executemany) in batches."""
    for at in range(0, len(rows), BATCH):
        db.session.execute(sa.insert(table), rows[at : at + BATCH])


def booking_row(
    n: int,
    series_id: int,
    start: datetime,
    end: datetime,
    *,
    status: str = "booked",
    seat: int = 1,
    name: str = "Bench",
    phone: str = "",
    created_at: datetime | None = None,
) -> dict:
    """One booking for a bulk insert; a cancelled one holds no seat."""
    cancelled = status == "cancelled"
    moment = created_at or start
    return {
        "series_id": series_id,
        "slot_start": start,
        "slot_end": end,
        "seat": None if cancelled else seat,
        "code": f"B{n:07d}",
        "token_hash": hashlib.sha256(str(n).encode()).hexdigest(),
        "version": 2 if cancelled else 1,
        "status": status,
        "booked_via": "resident",
        "name": name,
        "phone": phone,
        "email": "",
        "language": "nl",
        "question": "",
        "needs_interpreter": False,
        "needs_wheelchair": False,
        "cancel_reason": "",
        "cancelled_at": moment if cancelled else None,
        "affected_reason": "",
        "created_at": moment,
        "updated_at": moment,
    }


def contacts(
    rng: random.Random,
    desks: list[tuple[int, int]],
    topic_ids: list[int],
    first: date,
    end: date,
    per_day: int,
    keep_from: date | None = None,
) -> Iterator[tuple[dict, list[dict]]]:
    """Registered contacts at the desks, ``per_day`` a day from ``first`` to ``end``: each a
    registration row and its questions. The same draws are made for days before
    ``keep_from`` (nothing yielded), so the kept days are the same whatever is left out."""
    channels, durations, hows = list(Channel), list(Duration), list(HowHelped)
    registration_id = question_id = 0
    day = first
    while day <= end:
        for _ in range(per_day):
            organisation_id, location_id = rng.choice(desks)
            channel, duration = rng.choice(channels), rng.choice(durations)
            asked = [
                (rng.choice(topic_ids), rng.choice(hows[:3]))
                for _ in range(rng.choice((1, 1, 1, 2)))
            ]
            if keep_from is not None and day < keep_from:
                continue
            registration_id += 1
            questions = []
            for topic_id, how in asked:
                question_id += 1
                questions.append(
                    {
                        "id": question_id,
                        "registration_id": registration_id,
                        "topic_id": topic_id,
                        "how_helped": how,
                        "course_recommended": False,
                        "organisation_id": organisation_id,
                        "location_id": location_id,
                        "day": day,
                    }
                )
            yield (
                {
                    "id": registration_id,
                    "organisation_id": organisation_id,
                    "location_id": location_id,
                    "channel": channel,
                    "duration": duration,
                    "day": day,
                    "registered_at": datetime.combine(day, datetime.min.time(), UTC),
                },
                questions,
            )
        day += timedelta(days=1)


def insert_contacts(found: Iterable[tuple[dict, list[dict]]]) -> int:
    """Write registrations and their questions in batches; return the questions written."""
    registrations, questions = [], []
    written = 0

    def flush() -> None:
        if registrations:
            db.session.execute(sa.insert(Registration), registrations)
            db.session.execute(sa.insert(RegisteredQuestion), questions)
            registrations.clear()
            questions.clear()

    for registration, asked in found:
        registrations.append(registration)
        questions.extend(asked)
        written += len(asked)
        if len(registrations) >= 20_000:
            flush()
    flush()
    return written


def settle() -> None:
    """After bulk inserts with explicit ids: sequences moved on (PostgreSQL), statistics made."""
    if db.engine.dialect.name == "postgresql":
        for table in ("registration", "registered_question"):
            db.session.execute(
                sa.text(
                    f"SELECT setval('{table}_id_seq', (SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )
        db.session.commit()
        # The steady state of a live database: statistics and visibility map up to date.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def median_ms(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def plain_icalendar(events: list[ical.CalendarEvent], name: str, stamp: datetime) -> bytes:
    """The same calendar, made the usual way: icalendar objects, then ``to_ical``."""
    cal = icalendar.Calendar()
    for key, value in (
        ("prodid", ical.PRODID),
        ("version", "2.0"),
        ("calscale", "GREGORIAN"),
        ("method", "PUBLISH"),
        ("name", name),
        ("x-wr-calname", name),
        ("x-wr-timezone", "Europe/Amsterdam"),
        ("refresh-interval", timedelta(hours=1)),
        ("x-published-ttl", "PT1H"),
    ):
        cal.add(key, value)
    cal.add_component(ical.vtimezone("Europe/Amsterdam"))
    for item in events:
        event = icalendar.Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", item.start)
        event.add("dtend", item.end)
        event.add("summary", item.summary)
        event.add("location", item.location)
        event.add("description", item.description)
        event.add("url", item.url)
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        event.add("sequence", item.sequence)
        event.add("last-modified", item.last_modified)
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()


# The network ------------------------------------------------------------------------------


def build(
    url: str,
    size: Size,
    *,
    seed: int = 14,
    history_days: int = 365,
    future_share: float = 0.3,
    past_share: float = 0.3,
    registrations: bool = True,
    index: bool = True,
    echo: bool = True,
) -> Network:
    """Build the network of ``size`` in a fresh schema on ``url`` (see the module's text).

    ``history_days``: how far back the series start and past bookings go (0: none);
    ``past_share``, ``future_share``: the share of past and coming slots with a booking;
    ``index``: end with a full rebuild of the occurrence index (without it, it is empty).
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    app = fresh_app(url)
    network = Network(url=url, size=size)
    with app.app_context():
        today = clock.today()
        now = clock.now()
        topics = [
            Topic(
                slug=f"onderwerp-{n}",
                name_nl=f"Onderwerp {n}",
                name_en=f"Topic {n}",
                sort_order=n,
            )
            for n in range(TOPICS)
        ]
        orgs = [
            Organisation(
                name=f"Organisatie {n}",
                kind=OrganisationKind.LIBRARY if n % 3 == 0 else OrganisationKind.PARTNER,
            )
            for n in range(size.organisations)
        ]
        db.session.add_all(topics + orgs)
        places = [
            Location(
                organisation=orgs[n % size.organisations],
                name=f"Vestiging {n}",
                street=f"Kerkstraat {n}",
                postcode="1234 AB",
                city=f"Plaats {n % size.places}",
            )
            for n in range(size.locations)
        ]
        staff = User(
            organisation=orgs[0],
            name="Medewerker",
            email=STAFF_EMAIL,
            role=Role.STAFF,
            password_hash="-",
        )
        db.session.add_all([*places, staff])
        db.session.flush()

        # The series start a year ago or at the start of the history, an even number of
        # weeks back: fortnightly series fall on the same dates whatever the history.
        weeks = max(-(-history_days // 7), 52)
        first_day = today - timedelta(weeks=weeks + weeks % 2)
        rows = []
        for n in range(size.series):
            mode = rng.choice([Mode.APPOINTMENT, Mode.APPOINTMENT, Mode.MIXED, Mode.WALK_IN])
            weekly = rng.random() < 0.8
            start = rng.choice([9, 10, 13, 14, 18])
            full = n == 0  # every seat booked: its page and a booking show the alternatives
            rows.append(
                {
                    "provider_id": orgs[n % size.organisations].id,
                    "location_id": places[n % size.locations].id,
                    "title": FULL_TITLE if full else f"Spreekuur {n}",
                    "description": "Neem uw brieven en uw DigiD mee.",
                    "what_to_bring": "",
                    "mode": (Mode.APPOINTMENT if full else mode).value,
                    "recurrence": (
                        Recurrence.WEEKLY if weekly or full else Recurrence.MONTHLY
                    ).value,
                    "weekdays": str(rng.randrange(5)),
                    "interval_weeks": 1 if full else rng.choice([1, 1, 1, 2]) if weekly else 1,
                    "month_weeks": "" if weekly or full else rng.choice(["1", "2,4", "-1"]),
                    "start_date": first_day,
                    "end_date": None,
                    "start_time": wall(start, 0),
                    "end_time": wall(start + rng.choice([2, 3]), 0),
                    "walk_in_start": wall(start - 1, 0)
                    if mode is Mode.MIXED and not full
                    else None,
                    "walk_in_end": wall(start, 0) if mode is Mode.MIXED and not full else None,
                    "slot_minutes": rng.choice([20, 30, 30, 45]),
                    "seats_per_slot": 1 if full else rng.choice([1, 1, 2]),
                    "min_notice_hours": 2,
                    "book_ahead_days": 28 if full else rng.choice([28, 42, 42, 60]),
                    # A few are drafts or stopped: the public pages must leave them out.
                    "status": (
                        SeriesStatus.DRAFT
                        if not full and rng.random() < 0.03
                        else SeriesStatus.PUBLISHED
                    ).value,
                    "revision": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        insert(ConsultationHours.__table__, rows)
        every = db.session.scalars(
            sa.select(ConsultationHours).order_by(ConsultationHours.id)
        ).all()
        links = []
        for s in every:
            chosen = {0} if s.title == FULL_TITLE else set()
            chosen.add(s.id % TOPICS)
            if rng.random() < 0.3:
                chosen.add(rng.randrange(TOPICS))
            links += [{"series_id": s.id, "topic_id": topics[t].id} for t in sorted(chosen)]
        insert(Topic.metadata.tables["series_topic"], links)

        full_series = every[0]
        exceptions = []
        for s in rng.sample(every[1:], len(every) // 10):
            days = list(schedule.pattern_dates(s, today, today + timedelta(days=40)))
            if days:
                exceptions.append(
                    SeriesException(
                        series_id=s.id,
                        date=rng.choice(days),
                        kind=ExceptionKind.CANCELLED,
                        reason="Vakantie",
                    )
                )
        db.session.add_all(exceptions)
        closures = 0
        for place in rng.sample(places[1:] or places, max(size.locations // 20, 1)):
            if place.id == full_series.location_id:
                continue
            first = today + timedelta(days=rng.randrange(40))
            db.session.add(
                LocationClosure(
                    location_id=place.id,
                    start_date=first,
                    end_date=first + timedelta(days=2),
                    reason="Verbouwing",
                )
            )
            closures += 1
        db.session.flush()

        # Draws of their own for the coming bookings and the registrations: with or without
        # history, the coming weeks of a network are the same.
        bookings = _bookings(seed, every, today, now, history_days, past_share, future_share)
        insert(Booking.__table__, bookings)

        questions = 0
        if registrations:
            desks = [(p.organisation_id, p.id) for p in places]
            per_day = max(size.locations // 4, 1)
            first = today - timedelta(days=365)
            found = contacts(
                random.Random(seed + 2), desks, [t.id for t in topics], first, today, per_day
            )
            questions = insert_contacts(found)
        db.session.commit()
        _link, network.feed_token = feeds.create_link(
            staff, FeedKind.ORGANISATION, organisation=orgs[0], include_bookings=FeedBookings.COUNTS
        )
        settle()
        indexed = 0
        if index:
            with writing():
                indexed = occurrence_index.rebuild().occurrences_added
                db.session.commit()
            settle()
        network.counts = {
            "organisations": size.organisations,
            "locations": size.locations,
            "series": len(every),
            "exceptions": len(exceptions),
            "closures": closures,
            "bookings": len(bookings),
            "questions registered": questions,
            "occurrences indexed": indexed,
        }
        close()
    network.seconds = time.perf_counter() - started
    if echo:
        print(f"  network {network.summary()}", file=sys.stderr)
    return network


def _bookings(
    seed: int,
    every: list[ConsultationHours],
    today: date,
    now: datetime,
    history_days: int,
    past_share: float,
    future_share: float,
) -> list[dict]:
    """Past bookings (attended, not come, cancelled) and booked seats in the coming weeks.

    Slots are laid out as ``schedule.build_slots`` does (from the start instant, in steps of
    the slot length); the full series gets every seat of every coming slot to its horizon."""
    past_rng, rng = random.Random(seed + 1), random.Random(seed + 3)
    rows: list[dict] = []
    past = ("attended",) * 8 + ("no_show", "cancelled")
    for s in every:
        if not s.is_bookable_mode:
            continue
        full = s.title == FULL_TITLE
        horizon = today + timedelta(days=s.book_ahead_days + 1)
        step = timedelta(minutes=s.slot_minutes)
        for day in schedule.pattern_dates(s, today - timedelta(days=history_days), horizon):
            cursor = datetime.combine(day, s.start_time, AMS).astimezone(UTC)
            finish = datetime.combine(day, s.end_time, AMS).astimezone(UTC)
            coming = day >= today
            while cursor + step <= finish:
                # One draw per slot, booked or not, past the moment or not: the network
                # depends on the day it is built, not on the time of day.
                if coming:
                    drawn = rng.random() < future_share
                    if full and cursor > now:
                        for seat in range(1, s.seats_per_slot + 1):
                            rows.append(
                                booking_row(len(rows), s.id, cursor, cursor + step, seat=seat)
                            )
                    elif drawn and cursor > now:
                        rows.append(
                            booking_row(len(rows), s.id, cursor, cursor + step, created_at=now)
                        )
                elif past_rng.random() < past_share:
                    status = past_rng.choice(past)
                    rows.append(booking_row(len(rows), s.id, cursor, cursor + step, status=status))
                cursor += step
    return rows

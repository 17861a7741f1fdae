"""Benchmark: what does the index of coming occurrences cost to build and to keep?

Generates a network (by default the size L of issue 14: 5,000 series at 1,000 locations of
150 organisations, a mix of weekly and monthly, walk-in, appointment and mixed hours, with
exceptions, closures and booked seats) and prints

* the index's row counts (occurrences, slots) and its window;
* the time of a full rebuild and of the daily roll by one day;
* per series, the median time to rebuild its rows for a typical edit — the whole window (an
  edit of the series) and one date (an exception) — in two ways: delete and insert again
  (what ``occurrence_index.refresh_series`` does), and a diff that reads the rows and
  writes only what changed, for an edit that changes every row (other times) and one that
  changes none (another title);
* the median time of the queries the lists will make: the first 50 published occurrences
  from now, those of one location, and the first free times after the notice.

    python bench/occurrence_index_bench.py [--database-url postgresql://...]
        [--series 5000] [--locations 1000] [--organisations 150] [--rounds 30]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, timedelta
from datetime import time as wall
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import downgrade, upgrade  # noqa: E402

from app import clock, create_app, dispose_engines  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    Booking,
    ConsultationHours,
    ExceptionKind,
    IndexedOccurrence,
    IndexedSlot,
    Location,
    LocationClosure,
    Mode,
    Organisation,
    OrganisationKind,
    Recurrence,
    SeriesException,
    SeriesStatus,
    Topic,
)
from app.services import occurrence_index, schedule  # noqa: E402
from app.transactions import writing  # noqa: E402


def build(url: str, series_count: int, locations: int, organisations: int, seed: int) -> None:
    """A generated network: series, exceptions, closures and bookings holding seats."""
    rng = random.Random(seed)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            downgrade(revision="base")
        upgrade()
        today = clock.today()
        topics = [
            Topic(slug=f"onderwerp-{n}", name_nl=f"Onderwerp {n}", name_en=f"Topic {n}")
            for n in range(8)
        ]
        orgs = [
            Organisation(
                name=f"Organisatie {n}",
                kind=OrganisationKind.LIBRARY if n % 3 == 0 else OrganisationKind.PARTNER,
            )
            for n in range(organisations)
        ]
        db.session.add_all(topics + orgs)
        places = [
            Location(
                organisation=orgs[n % organisations],
                name=f"Vestiging {n}",
                street="Straat 1",
                postcode="1234 AB",
                city=f"Plaats {n % 300}",
            )
            for n in range(locations)
        ]
        db.session.add_all(places)
        db.session.flush()
        rows = []
        for n in range(series_count):
            mode = rng.choice([Mode.APPOINTMENT, Mode.APPOINTMENT, Mode.MIXED, Mode.WALK_IN])
            weekly = rng.random() < 0.8
            start = rng.choice([9, 10, 13, 14, 18]) * 60
            rows.append(
                {
                    "provider_id": orgs[n % organisations].id,
                    "location_id": places[n % locations].id,
                    "title": f"Spreekuur {n}",
                    "description": "",
                    "what_to_bring": "",
                    "mode": mode.value,
                    "recurrence": (Recurrence.WEEKLY if weekly else Recurrence.MONTHLY).value,
                    "weekdays": str(rng.randrange(5)),
                    "interval_weeks": rng.choice([1, 1, 1, 2]) if weekly else 1,
                    "month_weeks": "" if weekly else rng.choice(["1", "2,4", "-1"]),
                    "start_date": today - timedelta(days=365),
                    "end_date": None,
                    "start_time": wall(start // 60, 0),
                    "end_time": wall(start // 60 + rng.choice([2, 3]), 0),
                    "walk_in_start": wall(start // 60 - 1, 0) if mode is Mode.MIXED else None,
                    "walk_in_end": wall(start // 60, 0) if mode is Mode.MIXED else None,
                    "slot_minutes": rng.choice([20, 30, 30, 45]),
                    "seats_per_slot": rng.choice([1, 1, 2]),
                    "min_notice_hours": 2,
                    "book_ahead_days": rng.choice([28, 42, 42, 60]),
                    "status": SeriesStatus.PUBLISHED.value,
                    "revision": 1,
                    "created_at": clock.now(),
                    "updated_at": clock.now(),
                }
            )
        for at in range(0, len(rows), 2000):
            db.session.execute(sa.insert(ConsultationHours.__table__), rows[at : at + 2000])
        every = db.session.scalars(sa.select(ConsultationHours)).all()
        links = [{"series_id": s.id, "topic_id": topics[s.id % 8].id} for s in every]
        db.session.execute(sa.insert(Topic.metadata.tables["series_topic"]), links)
        exceptions = []
        for s in rng.sample(every, len(every) // 10):
            days = list(schedule.pattern_dates(s, today, today + timedelta(days=40)))
            if days:
                exceptions.append(
                    SeriesException(
                        series_id=s.id, date=rng.choice(days), kind=ExceptionKind.CANCELLED
                    )
                )
        db.session.add_all(exceptions)
        for place in rng.sample(places, max(locations // 20, 1)):
            first = today + timedelta(days=rng.randrange(40))
            db.session.add(
                LocationClosure(
                    location_id=place.id, start_date=first, end_date=first + timedelta(days=2)
                )
            )
        db.session.flush()
        bookings = []
        bookable = [s for s in every if s.is_bookable_mode]
        found = schedule.occurrences(bookable, today, today + timedelta(days=42))
        for occurrence in found:
            for slot in occurrence.slots:
                if rng.random() < 0.3:
                    k = len(bookings)
                    bookings.append(
                        {
                            "series_id": occurrence.series.id,
                            "slot_start": slot.start_utc,
                            "slot_end": slot.end.astimezone(UTC),
                            "seat": 1,
                            "code": f"B{k:07d}",
                            "token_hash": hashlib.sha256(str(k).encode()).hexdigest(),
                            "version": 1,
                            "status": "booked",
                            "booked_via": "resident",
                            "name": "Bench",
                            "phone": "",
                            "email": "",
                            "language": "nl",
                            "question": "",
                            "needs_interpreter": False,
                            "needs_wheelchair": False,
                            "cancel_reason": "",
                            "affected_reason": "",
                            "created_at": clock.now(),
                            "updated_at": clock.now(),
                        }
                    )
        for at in range(0, len(bookings), 5000):
            db.session.execute(sa.insert(Booking), bookings[at : at + 5000])
        db.session.commit()
        print(
            f"  network: {organisations} organisations, {locations} locations, "
            f"{len(every)} series, {len(exceptions)} exceptions, {len(bookings)} bookings",
            file=sys.stderr,
        )
        dispose_engines()


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def median_ms(fn, rounds: int) -> float:
    return statistics.median(timed(fn) for _ in range(rounds))


def diff_refresh(series: ConsultationHours, start, end) -> None:
    """The alternative to delete-and-insert: read the rows, write only what differs."""
    window = occurrence_index.window()
    start, end = max(start, window.first_date), min(end, window.last_date)
    found = schedule.occurrences([series], start, end, include_cancelled=True)
    starts = [slot.start_utc for o in found for slot in o.slots]
    have_occurrences = {
        row.date: row
        for row in db.session.execute(
            sa.select(IndexedOccurrence.__table__)
            .where(
                IndexedOccurrence.series_id == series.id, IndexedOccurrence.date.between(start, end)
            )
            .with_for_update()
        )
    }
    have_slots = {
        row.starts_at: row
        for row in db.session.execute(
            sa.select(IndexedSlot.__table__).where(
                IndexedSlot.series_id == series.id, IndexedSlot.date.between(start, end)
            )
        )
    }
    taken = occurrence_index._seats_taken([series.id], starts)
    occurrences = IndexedOccurrence.__table__
    slots = IndexedSlot.__table__
    wanted_dates, wanted_starts = set(), set()
    for occurrence in found:
        row, slot_rows = occurrence_index._rows(occurrence, taken)
        wanted_dates.add(row["date"])
        old = have_occurrences.get(row["date"])
        if old is None:
            db.session.execute(occurrences.insert(), [row])
        elif any(getattr(old, key) != value for key, value in row.items() if key != "seats_taken"):
            db.session.execute(occurrences.update().where(occurrences.c.id == old.id).values(**row))
        for slot_row in slot_rows:
            wanted_starts.add(slot_row["starts_at"])
            old_slot = have_slots.get(slot_row["starts_at"])
            if old_slot is None:
                db.session.execute(slots.insert(), [slot_row])
            elif any(
                getattr(old_slot, key) != value
                for key, value in slot_row.items()
                if key != "seats_taken"
            ):
                db.session.execute(
                    slots.update().where(slots.c.id == old_slot.id).values(**slot_row)
                )
    gone = [row.id for at, row in have_slots.items() if at not in wanted_starts]
    if gone:
        db.session.execute(slots.delete().where(slots.c.id.in_(gone)))
    gone = [row.id for day, row in have_occurrences.items() if day not in wanted_dates]
    if gone:
        db.session.execute(occurrences.delete().where(occurrences.c.id.in_(gone)))


def measure(url: str, rounds: int, seed: int) -> None:
    rng = random.Random(seed)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context(), writing():
        today = clock.today()

        def rebuild():
            occurrence_index.rebuild()
            db.session.commit()

        full = timed(rebuild)
        window = occurrence_index.window()
        count = db.session.scalar(sa.select(sa.func.count()).select_from(IndexedOccurrence))
        slots = db.session.scalar(sa.select(sa.func.count()).select_from(IndexedSlot))
        taken = db.session.scalar(sa.select(sa.func.sum(IndexedSlot.seats_taken)))
        days = (window.last_date - window.first_date).days + 1
        print(f"Occurrence index ({db.engine.dialect.name}, medians of {rounds} where repeated)")
        print(f"  window: {window.first_date} to {window.last_date} ({days} days)")
        print(f"  rows: {count} occurrences, {slots} slots, {taken} seats taken")
        print(f"  full rebuild:          {full:10.1f} ms")

        def roll():
            occurrence_index.roll(today + timedelta(days=1))
            db.session.commit()

        print(f"  daily roll (one day):  {timed(roll):10.1f} ms")

        ids = db.session.scalars(sa.select(ConsultationHours.id)).all()
        picks = [db.session.get(ConsultationHours, i) for i in rng.sample(ids, rounds)]
        window = occurrence_index.window()
        cases = {}
        for label, span in (("whole window", None), ("one date", 7)):
            for change in ("every row", "no row"):
                replace_times, diff_times = [], []
                for series in picks:
                    first = window.first_date if span is None else today + timedelta(days=span)
                    last = window.last_date if span is None else first
                    for way, times in (("replace", replace_times), ("diff", diff_times)):
                        if change == "every row":
                            series.start_time = (
                                wall(8, 0) if series.start_time.hour != 8 else wall(7, 0)
                            )
                        else:
                            series.title = series.title + "."
                        db.session.flush()
                        if way == "replace":
                            times.append(
                                timed(
                                    lambda s=series, a=first, b=last: (
                                        occurrence_index.refresh_series(s, a, b)
                                    )
                                )
                            )
                        else:
                            times.append(
                                timed(lambda s=series, a=first, b=last: diff_refresh(s, a, b))
                            )
                        db.session.rollback()
                        series = db.session.get(ConsultationHours, series.id)
                cases[(label, change)] = (
                    statistics.median(replace_times),
                    statistics.median(diff_times),
                )
        print("  rebuild one series (delete + insert | diff):")
        for (label, change), (replace_ms, diff_ms) in cases.items():
            print(f"    {label:<13} {change:<10} {replace_ms:8.2f} ms | {diff_ms:8.2f} ms")

        now = clock.now()
        location_id = db.session.scalar(sa.select(Location.id).order_by(Location.id))
        first_50 = (
            sa.select(IndexedOccurrence.id)
            .where(IndexedOccurrence.published, IndexedOccurrence.starts_at >= now)
            .order_by(IndexedOccurrence.starts_at)
            .limit(50)
        )
        one_place = (
            sa.select(IndexedOccurrence.id)
            .where(IndexedOccurrence.location_id == location_id, IndexedOccurrence.starts_at >= now)
            .order_by(IndexedOccurrence.starts_at)
            .limit(50)
        )
        free = occurrence_index.free_slots_query(now).limit(20)
        print("  queries:")
        for label, query in (
            ("first 50 occurrences", first_50),
            ("one location's", one_place),
            ("first 20 free times", free),
        ):
            ms = median_ms(lambda q=query: db.session.execute(q).all(), rounds)
            print(f"    {label:<22} {ms:8.2f} ms")
        db.session.rollback()
        dispose_engines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (its tables are replaced)")
    parser.add_argument("--series", type=int, default=5000)
    parser.add_argument("--locations", type=int, default=1000)
    parser.add_argument("--organisations", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/network.db"
        print("Building the network...", file=sys.stderr)
        build(url, args.series, args.locations, args.organisations, args.seed)
        measure(url, args.rounds, args.seed)


if __name__ == "__main__":
    main()

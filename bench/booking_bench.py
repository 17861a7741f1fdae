"""Benchmark: does two years of history slow down finding help and booking?

Builds two databases with the same region (100+ series): one with two years of history
(50,000+ bookings), one without. Prints the median time of the public upcoming-hours page
and of a booking POST on each, as ratios to each other and to a bare Flask route measured
in the same process. Target: history costs at most 1.2x.

    python bench/booking_bench.py [--database-url postgresql://...] [--rounds 40]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as wall
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import downgrade, upgrade  # noqa: E402

from app import clock, create_app, dispose_engines  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    Booking,
    ConsultationHours,
    Location,
    Mode,
    Organisation,
    OrganisationKind,
    Recurrence,
    SeriesStatus,
    Topic,
)

AMS = ZoneInfo("Europe/Amsterdam")
SERIES = 120
BOOKINGS = 60_000


def build(url: str, history: bool) -> None:
    """Create the region; with history, add two years of past bookings."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            downgrade(revision="base")
        upgrade()
        today = clock.today()
        topic = Topic(slug="geldzaken", name_nl="Geldzaken", name_en="Money")
        library = Organisation(name="Bibliotheek", kind=OrganisationKind.LIBRARY)
        db.session.add_all([topic, library])
        locations = [
            Location(
                organisation=library,
                name=f"Vestiging {i}",
                street="Straat 1",
                postcode="1234 AB",
                city=f"Plaats {i % 6}",
            )
            for i in range(12)
        ]
        db.session.add_all(locations)
        series = []
        for i in range(SERIES):
            s = ConsultationHours(
                provider=library,
                location=locations[i % len(locations)],
                title=f"Spreekuur {i}",
                mode=Mode.APPOINTMENT,
                recurrence=Recurrence.WEEKLY,
                weekdays=str(i % 5),
                interval_weeks=1,
                month_weeks="",
                start_date=today - timedelta(days=2 * 365),
                start_time=wall(9, 0),
                end_time=wall(17, 0),
                slot_minutes=30,
                seats_per_slot=4,
                min_notice_hours=0,
                book_ahead_days=60,
                status=SeriesStatus.PUBLISHED,
                revision=1,
                topics=[topic],
            )
            series.append(s)
        db.session.add_all(series)
        db.session.commit()
        if history:
            rows = []
            n = 0
            day = today - timedelta(days=2 * 365)
            while n < BOOKINGS:
                for s in series:
                    if day.weekday() != int(s.weekdays):
                        continue
                    for k in range(5):
                        start = datetime.combine(day, wall(9 + k, 0), AMS).astimezone(UTC)
                        rows.append(
                            {
                                "series_id": s.id,
                                "slot_start": start,
                                "slot_end": start + timedelta(minutes=30),
                                "seat": 1,
                                "code": f"H{n:07d}",
                                "token_hash": hashlib.sha256(str(n).encode()).hexdigest(),
                                "version": 1,
                                "status": "attended",
                                "booked_via": "resident",
                                "name": "",
                                "phone": "",
                                "email": "",
                                "language": "nl",
                                "question": "",
                                "needs_interpreter": False,
                                "needs_wheelchair": False,
                                "cancel_reason": "",
                                "affected_reason": "",
                                "created_at": start,
                                "updated_at": start,
                            }
                        )
                        n += 1
                day += timedelta(days=1)
                if day >= today:
                    break
            for i in range(0, len(rows), 5000):
                db.session.execute(sa.insert(Booking), rows[i : i + 5000])
            db.session.commit()
            print(
                f"  history: {db.session.scalar(sa.select(sa.func.count(Booking.id)))} bookings,"
                f" {SERIES} series",
                file=sys.stderr,
            )
        dispose_engines()


def median_ms(fn, rounds: int) -> float:
    times = []
    for i in range(rounds):
        started = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


class Target:
    """One database's app with the three measured requests."""

    def __init__(self, url: str):
        self.app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench",
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
                "MAIL_PORT": 1,
                # One address books thousands of times here; the counting is still timed.
                "RATELIMIT_BOOKING_ADDRESS": "1000000 per hour",
            }
        )
        self.app.add_url_rule("/bare", "bare", lambda: "ok")
        self.client = self.app.test_client()
        with self.app.app_context():
            self.series_id = db.session.scalar(
                sa.select(ConsultationHours.id).order_by(ConsultationHours.id)
            )
            weekday = int(db.session.get(ConsultationHours, self.series_id).weekdays)
            today = clock.today()
            self.first = today + timedelta(days=(weekday - today.weekday()) % 7 + 7)

    def page(self, _i=0):
        assert self.client.get("/spreekuren").status_code == 200

    def bare(self, _i=0):
        assert self.client.get("/bare").status_code == 200

    def book(self, i=0):
        day = self.first + timedelta(weeks=(i // 16) % 6)
        start = datetime.combine(day, wall(9, 0), AMS) + timedelta(minutes=30 * (i % 16))
        moment = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
        response = self.client.post(
            f"/spreekuren/{self.series_id}/afspraak?tijd={moment}",
            data={"name": "Bench", "language": "nl"},
        )
        assert response.status_code in (303, 409), response.status_code


def measure(empty: Target, full: Target, rounds: int) -> dict[str, dict[str, float]]:
    """Median per request kind, the two databases measured in alternating blocks."""
    for target in (empty, full):  # warm up both
        target.page()
        target.bare()
    samples = {name: {"empty": [], "full": []} for name in ("page", "book", "bare")}
    block = max(rounds // 5, 1)
    for start in range(0, rounds, block):
        for label, target in (("empty", empty), ("full", full)):
            for name in samples:
                samples[name][label].append(
                    median_ms(lambda i, t=target, n=name, s=start: getattr(t, n)(s + i), block)
                )
    return {
        name: {label: statistics.median(values) for label, values in by_db.items()}
        for name, by_db in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (two databases: <url>, <url>_empty)")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.database_url:
            full_url, empty_url = args.database_url, args.database_url + "_empty"
        else:
            full_url, empty_url = f"sqlite:///{tmp}/history.db", f"sqlite:///{tmp}/empty.db"
        print("Building databases...", file=sys.stderr)
        build(full_url, history=True)
        build(empty_url, history=False)
        result = measure(Target(empty_url), Target(full_url), args.rounds)
    bare = result["bare"]["full"]
    print(f"Booking benchmark (medians of {args.rounds} requests each, in-process)")
    print(f"  bare Flask route:            {bare:8.2f} ms")
    for key, label in (("page", "upcoming-hours page /spreekuren"), ("book", "booking POST")):
        empty, full = result[key]["empty"], result[key]["full"]
        print(f"  {label}:")
        empty_bare = result["bare"]["empty"]
        print(f"    empty history  {empty:8.2f} ms  ({empty / empty_bare:7.1f}x bare route)")
        print(f"    2-year history {full:8.2f} ms  ({full / bare:7.1f}x bare route)")
        ratio = full / empty
        verdict = "OK" if ratio <= 1.2 else "ABOVE TARGET"
        print(f"    history / empty = {ratio:.2f}x  (target <= 1.20x: {verdict})")


if __name__ == "__main__":
    main()

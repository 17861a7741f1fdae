"""Benchmark: what does serving a calendar feed cost, and what does a poll that finds nothing
new cost?

Builds a region (12 locations, 120 weekly series, a year of hours and 55,000+ bookings) and
a staff member's location feed with booking counts (and one with codes). Prints the median
time of

* a full GET of the feed (token lookup, freshness, loading, building, serialising) as a
  ratio to serialising the very same events with plain ``icalendar`` (target <= 1.3x);
* a conditional GET answered 304 as a ratio to a bare Flask route in the same app
  (target <= 1.5x), measured twice: over HTTP on loopback (werkzeug's threaded server, one
  kept-alive connection), as calendar clients reach it, and in-process with Flask's test
  client, which leaves out the server's own work. The bare route gets the same request
  headers. To show what the 304 path is made of, the poll statement alone and a bare
  database round trip (SELECT 1) are timed on a poll connection too: back to back, and
  each right after a bare request, as in a server, where the database has gone idle
  between two queries.

    python bench/feed_bench.py [--database-url postgresql://...] [--rounds 30]
"""

from __future__ import annotations

import argparse
import http.client
import logging
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from datetime import time as wall
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import icalendar  # noqa: E402
import network  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from app import clock, create_app, dispose_engines  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    Booking,
    ConsultationHours,
    FeedBookings,
    FeedKind,
    FeedLink,
    Location,
    Mode,
    Organisation,
    OrganisationKind,
    Recurrence,
    Role,
    SeriesStatus,
    User,
)
from app.services import feeds, ical  # noqa: E402

AMS = ZoneInfo("Europe/Amsterdam")
LOCATIONS = 12
SERIES = 120
PER_WEEK = 8  # bookings per series per week


def build(url: str) -> dict[str, str]:
    """Create the region; return the tokens of the benchmarked feeds."""
    app = network.fresh_app(url)
    with app.app_context():
        today = clock.today()
        library = Organisation(name="Bibliotheek Vechtstreek", kind=OrganisationKind.LIBRARY)
        partners = [
            Organisation(name=f"Partner {i}", kind=OrganisationKind.PARTNER) for i in range(4)
        ]
        db.session.add_all([library, *partners])
        locations = [
            Location(
                organisation=library,
                name=f"Vestiging {i}",
                street=f"Kerkstraat {i}",
                postcode="3600 AA",
                city=f"Plaats {i % 6}",
            )
            for i in range(LOCATIONS)
        ]
        staff = User(
            organisation=library,
            name="Bench",
            email="bench@example.org",
            role=Role.STAFF,
            password_hash="-",
        )
        db.session.add_all([*locations, staff])
        series = [
            ConsultationHours(
                # Half the hours are the library's own (their bookings are in its feed).
                provider=library if i % 2 else partners[i % 4],
                location=locations[i % LOCATIONS],
                title=f"Spreekuur {i}: geldzaken, toeslagen; DigiD",
                description="Neem uw brieven mee.",
                mode=Mode.APPOINTMENT,
                recurrence=Recurrence.WEEKLY,
                weekdays=str(i % 5),
                interval_weeks=1,
                month_weeks="",
                start_date=today - timedelta(days=365),
                start_time=wall(9, 0),
                end_time=wall(17, 0),
                slot_minutes=30,
                seats_per_slot=2,
                min_notice_hours=0,
                book_ahead_days=60,
                status=SeriesStatus.PUBLISHED,
                revision=1,
            )
            for i in range(SERIES)
        ]
        db.session.add_all(series)
        db.session.commit()

        rows, n = [], 0
        now = clock.now()
        for s in series:
            day = s.start_date + timedelta(days=(int(s.weekdays) - s.start_date.weekday()) % 7)
            while day <= today + timedelta(days=60):
                for k in range(PER_WEEK):
                    start = datetime.combine(day, wall(9, 0), AMS) + timedelta(minutes=30 * k)
                    cancelled = k == 7 and day > today - timedelta(days=20)
                    rows.append(
                        network.booking_row(
                            n,
                            s.id,
                            start.astimezone(UTC),
                            (start + timedelta(minutes=30)).astimezone(UTC),
                            status="cancelled" if cancelled else "booked",
                            name="Fatima el Amrani",
                            phone="0612345678",
                            created_at=now,
                        )
                    )
                    n += 1
                day += timedelta(days=7)
        network.insert(Booking.__table__, rows)
        db.session.commit()
        tokens = {}
        for detail in (FeedBookings.COUNTS, FeedBookings.CODES):
            _link, tokens[detail.value] = feeds.create_link(
                staff, FeedKind.LOCATION, location=locations[1], include_bookings=detail
            )
        if db.engine.dialect.name == "postgresql":
            # The steady state of a live database: statistics and visibility map up to date.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE"))
        total = db.session.scalar(sa.select(sa.func.count(Booking.id)))
        print(
            f"  region: {SERIES} series at {LOCATIONS} locations, {total} bookings", file=sys.stderr
        )
        dispose_engines()
    return tokens


def after_request_ms(target: Target, fn, rounds: int) -> float:
    """The median time of ``fn`` run right after a bare request (only ``fn`` is timed)."""
    times = []
    for _ in range(rounds):
        target.get("/bare")
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


class Target:
    """The app with the benchmarked feeds, a bare route, and a loopback HTTP server."""

    def __init__(self, url: str, tokens: dict[str, str]):
        self.app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True}
        )
        self.app.add_url_rule("/bare", "bare", lambda: "ok")
        self.client = self.app.test_client()
        self.tokens = tokens
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        # One kept-alive connection, as a calendar client polling several feeds has.
        self.http = http.client.HTTPConnection("127.0.0.1", self.server.server_port)
        with self.app.app_context():
            engine = feeds.poll_engine()
        self.dialect = engine.dialect
        self.connection = engine.raw_connection()
        self.cursor = self.connection.cursor()

    def poll_query(self, detail: str) -> None:
        digest = feeds.hash_token(self.tokens[detail])
        feeds._TOKEN.run(self.cursor, self.dialect, {"token_hash": digest})

    def round_trip(self) -> None:
        self.cursor.execute("SELECT 1")
        self.cursor.fetchone()

    def path(self, detail: str) -> str:
        return f"/feeds/{self.tokens[detail]}.ics"

    def get(self, path: str, headers: dict | None = None):
        return self.client.get(path, headers=headers or {})

    def http_get(self, path: str, headers: dict | None = None) -> int:
        self.http.request("GET", path, headers=headers or {})
        response = self.http.getresponse()
        response.read()
        return response.status

    def close(self) -> None:
        self.cursor.close()
        self.connection.close()
        self.http.close()
        self.server.shutdown()
        with self.app.app_context():
            dispose_engines()

    def same_events(self, detail: str) -> tuple[list[ical.CalendarEvent], str]:
        """The events the feed holds, computed once, for the plain-icalendar baseline."""
        with self.app.test_request_context():
            token = self.tokens[detail]
            link = db.session.scalar(
                sa.select(FeedLink).where(FeedLink.token_hash == feeds.hash_token(token))
            )
            window = feeds.Window.current()
            with feeds.cursor() as cursor:
                feed = feeds.poll(cursor, token, window).feed
            covered = feeds._load(feed, link.user, window)
            return feeds._Builder(feed, covered, window).events(), feeds.title_of(link)


def measure(target: Target, detail: str, rounds: int) -> dict[str, float]:
    path = target.path(detail)
    full = target.get(path)
    assert full.status_code == 200, full.status_code
    parsed = icalendar.Calendar.from_ical(full.data)
    events, name = target.same_events(detail)
    assert len(parsed.events) == len(events), (len(parsed.events), len(events))
    stamp = datetime.now(UTC)
    # The bare route gets the same request headers: the ratio is about the server's work.
    conditional = {"If-None-Match": full.headers["ETag"]}
    assert target.get(path, conditional).status_code == 304
    assert target.http_get(path, conditional) == 304

    runs = {
        "feed": (lambda: target.get(path), 1),
        "icalendar": (lambda: network.plain_icalendar(events, name, stamp), 1),
        "304": (lambda: target.get(path, conditional), 40),
        "bare": (lambda: target.get("/bare", conditional), 40),
        "304 http": (lambda: target.http_get(path, conditional), 40),
        "bare http": (lambda: target.http_get("/bare", conditional), 40),
        "poll query": (lambda: target.poll_query(detail), 40),
        "round trip": (target.round_trip, 40),
    }
    between = {
        "poll query between": lambda: target.poll_query(detail),
        "round trip between": target.round_trip,
    }
    samples: dict[str, list[float]] = {key: [] for key in runs}
    blocks = 5
    per_block = max(rounds // blocks, 1)
    for _ in range(blocks):  # alternate, so that drift of the machine hits all alike
        for key, (run, weight) in runs.items():
            samples[key].append(network.median_ms(run, per_block * weight))
        for key, run in between.items():
            samples.setdefault(key, []).append(after_request_ms(target, run, per_block * 40))
    result = {key: statistics.median(values) for key, values in samples.items()}
    result["events"] = len(events)
    result["bytes"] = len(full.data)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL URL (its schema is rebuilt)")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/feeds.db"
        print("Building the region...", file=sys.stderr)
        tokens = build(url)
        target = Target(url, tokens)
        try:
            results = {detail: measure(target, detail, args.rounds) for detail in tokens}
        finally:
            target.close()

    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"Calendar-feed benchmark ({database}, medians)")
    for detail, r in results.items():
        print(
            f"  location feed with booking {detail}: {r['events']} events,"
            f" {r['bytes'] / 1024:.0f} KiB"
        )
        print(f"    full GET of the feed             {r['feed']:8.2f} ms")
        print(f"    same events, plain icalendar     {r['icalendar']:8.2f} ms")
        report("feed / icalendar", r["feed"] / r["icalendar"], 1.3)
        print(f"    conditional GET, 304 (HTTP)        {r['304 http'] * 1000:7.0f} us")
        print(f"    bare Flask route     (HTTP)        {r['bare http'] * 1000:7.0f} us")
        report("304 / bare route, over loopback HTTP", r["304 http"] / r["bare http"], 1.5)
        print(f"    conditional GET, 304 (in-process)  {r['304'] * 1000:7.0f} us")
        print(f"    bare Flask route     (in-process)  {r['bare'] * 1000:7.0f} us")
        report("304 / bare route, in-process", r["304"] / r["bare"], 1.5)
        print("    of the 304: the poll statement, and of that a database round trip (SELECT 1)")
        for label, key in (("back to back", ""), ("after a request", " between")):
            print(
                f"      {label:<16} {r['poll query' + key] * 1000:7.0f} us"
                f"   round trip {r['round trip' + key] * 1000:7.0f} us"
            )


def report(label: str, ratio: float, target: float) -> None:
    verdict = "OK" if ratio <= target else "ABOVE TARGET"
    print(f"    {label} = {ratio:.2f}x  (target <= {target:.2f}x: {verdict})")


if __name__ == "__main__":
    main()

"""Benchmark: does two years of history slow down finding help and booking?

Builds two databases with the same region (120 series, ``bench/network.py``): one with two
years of past bookings, one without; the coming weeks are the same. Prints the median time
of the public upcoming-hours page and of a booking POST on each, as ratios to each other
and to a bare Flask route measured in the same process. Target: history costs at most 1.2x.

    python bench/booking_bench.py [--database-url postgresql://...] [--rounds 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import network  # noqa: E402

from app import clock, create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.services import occurrence_index  # noqa: E402

# A region of 120 series at 12 locations of 3 organisations (bench/network.py).
REGION = network.Size("region", series=120, locations=12, organisations=3)
HISTORY_DAYS = 2 * 365


def build(url: str, history: bool) -> None:
    """The region; with history, two years of past bookings. The coming weeks (series,
    exceptions, booked seats) are the same in both."""
    network.build(
        url,
        REGION,
        history_days=HISTORY_DAYS if history else 0,
        past_share=1.0,  # every past slot was booked
        registrations=False,
    )


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
            network.config(
                url,
                WTF_CSRF_ENABLED=False,
                # One address books hundreds of times here; the counting is still timed.
                RATELIMIT_BOOKING_ADDRESS="1000000 per hour",
            )
        )
        self.app.add_url_rule("/bare", "bare", lambda: "ok")
        self.client = self.app.test_client()
        with self.app.app_context():
            # Free times from the index, the same in both databases: one POST books each.
            self.free = [
                (row.series_id, row.starts_at.strftime("%Y-%m-%dT%H:%MZ"))
                for row in db.session.execute(
                    occurrence_index.free_slots_query(clock.now()).limit(2000)
                )
            ]

    def page(self, _i=0):
        assert self.client.get("/spreekuren").status_code == 200

    def bare(self, _i=0):
        assert self.client.get("/bare").status_code == 200

    def book(self, i=0):
        series_id, moment = self.free[i % len(self.free)]
        response = self.client.post(
            f"/spreekuren/{series_id}/afspraak?tijd={moment}",
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

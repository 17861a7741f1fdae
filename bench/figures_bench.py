"""Benchmark: do three years of registrations slow down the figures of one month?

Builds two databases with the same region (60 locations of 13 organisations): one with
three years of registered contacts (300,000+ questions), one with the measured month only
(the same rows). Prints the median time of the network's figures page, its time chart and
its CSV export for that month on each, as a ratio (target: history costs at most 1.2x),
and the year view's ratio to the month view. The month measured is the last complete one,
so it holds a whole month of registrations whatever day the benchmark runs.

    python bench/figures_bench.py [--database-url postgresql://...] [--rounds 30]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import network  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from app import clock, create_app, dispose_engines  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    Location,
    Organisation,
    OrganisationKind,
    RegisteredQuestion,
    Role,
    Topic,
)
from app.services import accounts  # noqa: E402

LOCATIONS = 60
CONTACTS_PER_DAY = 260  # over the network: about 340 questions a day, 370,000 in 3 years
YEARS = 3
EMAIL, PASSWORD = "coordinator@bench.example", "bench-password-1"


def config(url: str) -> dict:
    return network.config(url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)


def measured_month(today: date) -> tuple[date, date]:
    """The last complete month before ``today``."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def build(url: str, history: bool) -> None:
    """The region; the registrations of three years, or of the measured month only."""
    app = network.fresh_app(url)
    with app.app_context():
        today = clock.today()
        topics = [
            Topic(slug=f"t{i}", name_nl=f"Onderwerp {i}", name_en=f"Topic {i}", sort_order=i)
            for i in range(15)
        ]
        library = Organisation(name="Bibliotheek", kind=OrganisationKind.LIBRARY)
        others = [
            Organisation(name=f"Partner {i}", kind=OrganisationKind.PARTNER) for i in range(12)
        ]
        db.session.add_all([*topics, library, *others])
        locations = [
            Location(
                organisation=library if i < 36 else others[i % len(others)],
                name=f"Locatie {i}",
                street="Straat 1",
                postcode="1234 AB",
                city=f"Plaats {i % 9}",
            )
            for i in range(LOCATIONS)
        ]
        db.session.add_all(locations)
        db.session.commit()
        accounts.create_user(
            organisation=library,
            name="Bench",
            email=EMAIL,
            role=Role.COORDINATOR,
            password=PASSWORD,
        )
        db.session.commit()
        desks = [(loc.organisation_id, loc.id) for loc in locations]
        first, last = measured_month(today)
        # The same random draws for every day, kept or not: the measured month is the same
        # in both databases.
        found = network.contacts(
            random.Random(3),
            desks,
            [t.id for t in topics],
            first - timedelta(days=YEARS * 365),
            today if history else last,
            CONTACTS_PER_DAY,
            keep_from=None if history else first,
        )
        network.insert_contacts(found)
        db.session.commit()
        network.settle()
        count = db.session.scalar(sa.select(sa.func.count()).select_from(RegisteredQuestion))
        print(f"  {'history' if history else 'one month'}: {count} questions", file=sys.stderr)
        dispose_engines()


class Target:
    """One database's app, logged in as the coordinator, with the measured requests."""

    def __init__(self, url: str):
        self.app = create_app(config(url))
        self.client = self.app.test_client()
        response = self.client.post("/auth/login", data={"email": EMAIL, "password": PASSWORD})
        assert response.status_code == 303, response.status_code
        with self.app.app_context():
            first, _last = measured_month(clock.today())
        self.month = {"period": "month", "day": first.isoformat()}
        self.year = {"period": "year", "day": first.isoformat()}

    def get(self, path: str, query: dict) -> None:
        response = self.client.get(path, query_string=query)
        assert response.status_code == 200, (path, response.status_code)

    def page(self):
        self.get("/portal/figures/network", self.month)

    def chart(self):
        self.get("/portal/figures/network/chart/time.svg", self.month)

    def export(self):
        self.get("/portal/figures/network/export.csv", self.month)

    def year_page(self):
        self.get("/portal/figures/network", self.year)


def measure(empty: Target, full: Target, rounds: int) -> dict[str, dict[str, float]]:
    """Median per request kind, the two databases measured in alternating blocks."""
    names = ("page", "chart", "export", "year_page")
    for target in (empty, full):
        for name in names:
            getattr(target, name)()
    samples = {name: {"empty": [], "full": []} for name in names}
    block = max(rounds // 5, 1)
    for _ in range(0, rounds, block):
        for label, target in (("empty", empty), ("full", full)):
            for name in names:
                samples[name][label].append(network.median_ms(getattr(target, name), block))
    return {
        name: {label: statistics.median(values) for label, values in by_db.items()}
        for name, by_db in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (two databases: <url>, <url>_empty)")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.database_url:
            full_url, empty_url = args.database_url, args.database_url + "_empty"
        else:
            full_url, empty_url = f"sqlite:///{tmp}/history.db", f"sqlite:///{tmp}/month.db"
        print("Building databases...", file=sys.stderr)
        started = time.perf_counter()
        build(full_url, history=True)
        build(empty_url, history=False)
        print(f"  built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        result = measure(Target(empty_url), Target(full_url), args.rounds)
    print(f"Figures benchmark (medians of {args.rounds} requests each, in-process)")
    for key, label in (
        ("page", "network figures page, one month"),
        ("chart", "its chart of weeks (SVG)"),
        ("export", "its CSV export"),
    ):
        empty, full = result[key]["empty"], result[key]["full"]
        ratio = full / empty
        verdict = "OK" if ratio <= 1.2 else "ABOVE TARGET"
        print(f"  {label}:")
        print(f"    one month only {empty:8.2f} ms")
        print(f"    3-year history {full:8.2f} ms")
        print(f"    history / month only = {ratio:.2f}x  (target <= 1.20x: {verdict})")
    year, month = result["year_page"]["full"], result["page"]["full"]
    print(f"  year view {year:8.2f} ms = {year / month:.1f}x the month view (3-year history)")


if __name__ == "__main__":
    main()

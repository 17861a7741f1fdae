"""The page benchmark (bench/pages_bench.py) at a tiny size: the generator builds the same
network twice from one seed, with a fully booked series in the index, and one round of
every measured request is served by gunicorn with the answers the benchmark expects."""

import io
import os
import secrets
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import network  # noqa: E402
import pages_bench  # noqa: E402

from app import clock, create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Booking, ConsultationHours, IndexedSlot  # noqa: E402
from app.services import occurrence_index  # noqa: E402


@pytest.fixture
def urls(tmp_path):
    """Two databases of their own (PostgreSQL with TEST_DATABASE_URL, else SQLite files)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield [f"sqlite:///{tmp_path}/small.db", f"sqlite:///{tmp_path}/large.db"]
        return
    suffix = f"{os.getpid()}_{secrets.token_hex(3)}"
    made = [f"{base}_bench_{suffix}_s", f"{base}_bench_{suffix}_l"]
    yield made
    for url in made:
        network.drop_database(url)


def test_tiny_network_is_built_deterministically_and_served(urls, tmp_path):
    small = network.build(urls[0], network.SIZES["T"], echo=False)
    large = network.build(urls[1], network.SIZES["T"], echo=False)
    assert small.counts == large.counts
    assert small.counts["series"] == 12
    assert small.counts["bookings"] > 0 and small.counts["occurrences indexed"] > 0

    app = create_app(network.config(small.url))
    with app.app_context():
        full = db.session.scalar(
            sa.select(ConsultationHours).where(ConsultationHours.title == network.FULL_TITLE)
        )
        now = clock.now()
        bookable = sa.select(sa.func.count()).where(
            IndexedSlot.series_id == full.id,
            IndexedSlot.opens_at <= now,
            IndexedSlot.closes_at >= now,
        )
        assert db.session.scalar(bookable) > 0
        # Every seat it may be booked in is taken: its page shows the alternatives.
        free = occurrence_index.free_slots_query(now).where(IndexedSlot.series_id == full.id)
        assert db.session.execute(free).all() == []
        assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == small.counts["bookings"]
        network.close()

    report = pages_bench.run(
        small, large, rounds=1, seconds=0.2, connections=(2,), workdir=tmp_path
    )
    for kind in pages_bench.KINDS:
        assert report.medians[kind.key]["S"] > 0 and report.medians[kind.key]["L"] > 0
    assert report.bytes["feed304"] == {"S": 0, "L": 0}
    assert report.bytes["list"]["S"] > 1000
    assert report.bytes["feed"]["L"] > 0 and report.feed_events > 0
    assert report.throughput[2]["bare"] > 0 and report.throughput[2]["pages"] > 0
    assert len(report.worker_rss_mb) == 2

    out = io.StringIO()
    pages_bench.print_report(report, "test", out)
    text = out.getvalue()
    for kind in pages_bench.KINDS:
        assert kind.label in text
    assert "target <= 1.5: " in text and "resident memory" in text

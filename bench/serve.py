"""Spreekuur as the page benchmark serves it: ``gunicorn --pythonpath bench serve:app``.

The database is ``BENCH_DATABASE_URL``. Production settings, except that the benchmark's
booking POSTs carry no CSRF token and one client address may book as often as it likes
(the limit is still counted), and confirmations stay in the outbox. The cache of public
pages is off unless ``BENCH_PAGE_CACHE_SECONDS`` sets it: the benchmark measures what a
page costs to make, and the cache's throughput separately.
"""

import os

from network import config

from app import create_app

app = create_app(
    config(
        os.environ["BENCH_DATABASE_URL"],
        TESTING=False,
        WTF_CSRF_ENABLED=False,
        RATELIMIT_BOOKING_ADDRESS="1000000 per hour",
        PUBLIC_PAGE_CACHE_SECONDS=float(os.environ.get("BENCH_PAGE_CACHE_SECONDS", "0")),
    )
)

"""Rate-limit counts live in the database that every worker shares, outside the requests'
transactions."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from limits.storage import MemoryStorage, storage_from_string

from app import POLL_BIND, clock, create_app, dispose_engines
from app.extensions import db, limiter
from app.models import RateLimitCounter
from app.services.rate_limits import DatabaseStorage
from tests.conftest import FreshContextClient, _clear, _test_config


def _limited_config(database_url: str, **settings) -> dict:
    return {**_test_config(database_url), "RATELIMIT_ENABLED": True, **settings}


@pytest.fixture
def app(database_url):
    """The app with its rate limits on, as in production (the other tests turn them off)."""
    app = create_app(_limited_config(database_url))
    app.test_client_class = FreshContextClient
    with app.app_context():
        assert app.config["RATELIMIT_ENABLED"] and limiter.enabled
        assert isinstance(limiter.storage, DatabaseStorage)
        yield app
        db.session.remove()
        _clear(db.engine)
        dispose_engines()


def counters() -> dict[str, int]:
    """The counts the database holds, by key."""
    rows = db.session.execute(sa.select(RateLimitCounter.key, RateLimitCounter.count))
    return dict(rows.all())


# Storage -----------------------------------------------------------------------------------------


def test_the_storage_counts_in_windows(app, monkeypatch):
    """The storage behind spreekuur+db:// counts up, tells when its window ends, starts a new
    window once it has ended, and clears one key or all."""
    storage = storage_from_string("spreekuur+db://")
    assert isinstance(storage, DatabaseStorage) and storage.check()
    start = clock.now()
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("k", 60, amount=2) == 5
    assert storage.get("k") == 5 and storage.get("other") == 0
    assert storage.get_expiry("k") == pytest.approx(
        (start + timedelta(seconds=60)).timestamp(), abs=2
    )

    later = start + timedelta(seconds=61)
    monkeypatch.setattr("app.clock.now", lambda: later)
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1
    assert storage.get_expiry("k") == pytest.approx(
        (later + timedelta(seconds=60)).timestamp(), abs=2
    )

    storage.incr("j", 60)
    storage.clear("k")
    assert storage.get("k") == 0 and storage.get("j") == 1
    assert storage.reset() == 1 and counters() == {}


def test_a_rolled_back_request_keeps_its_count(app):
    """Counting happens outside the request's transaction: rolling that back keeps the count."""
    storage = DatabaseStorage()
    db.session.execute(sa.select(RateLimitCounter.key)).all()  # the session's transaction is open
    assert storage.incr("k", 60) == 1
    db.session.rollback()
    assert storage.get("k") == 1 and counters() == {"k": 1}


def test_a_count_survives_a_connection_the_database_dropped(app):
    """After a database restart or fail-over the next count is made all the same: the dead
    pooled connection is thrown away and the statement runs again on a fresh one."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a SQLite database file has no connection to lose")
    engine = db.engines[POLL_BIND]
    engine.dispose()
    with engine.connect() as connection:  # the pool now holds this one connection
        pid = connection.scalar(sa.text("SELECT pg_backend_pid()"))
    with db.engine.connect() as admin:
        assert admin.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    storage = DatabaseStorage()
    assert storage.incr("k", 60) == 1 and storage.get("k") == 1
    with engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT pg_backend_pid()")) != pid


def test_simultaneous_increments_give_an_exact_count(app):
    """Eight workers incrementing one counter at once: every increment gets its own number and
    none is lost, because each is one atomic statement and the database decides."""
    threads, per_thread = 8, 25
    storage = DatabaseStorage()
    barrier = threading.Barrier(threads)
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            with app.app_context():
                barrier.wait()
                got = [storage.incr("together", 600) for _ in range(per_thread)]
            with lock:
                results.extend(got)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    assert sorted(results) == list(range(1, threads * per_thread + 1))
    assert storage.get("together") == threads * per_thread


def test_the_storage_is_the_database_unless_configured(database_url):
    """By default the counts live in this database; an in-memory SQLite database (one
    process, no second connection) counts in memory; a configured storage is used as is
    (for Redis: RATELIMIT_STORAGE_URI = "redis://…")."""
    default = create_app(_limited_config(database_url))
    assert default.config["RATELIMIT_STORAGE_URI"] == "spreekuur+db://"
    in_memory = create_app(_limited_config("sqlite://"))
    assert in_memory.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert isinstance(limiter.storage, MemoryStorage)
    configured = create_app(_limited_config(database_url, RATELIMIT_STORAGE_URI="memory://"))
    assert configured.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert isinstance(limiter.storage, MemoryStorage)
    for created in (default, in_memory, configured):
        with created.app_context():
            dispose_engines()

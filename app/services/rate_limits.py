"""Rate-limit counts in the application's database: a storage for the ``limits`` library
that Flask-Limiter counts with (``RATELIMIT_STORAGE_URI = "spreekuur+db://"``).

Every gunicorn worker sees the same counts, because they live in the database. Each count
is one atomic statement (``INSERT … ON CONFLICT … DO UPDATE … RETURNING``) on a connection
of the autocommit engine (``POLL_BIND``), never in the request's transaction: a request that
rolls back keeps its count, and counting never waits for a request's transaction to end.

It implements what the fixed-window strategy needs. A counter's window starts with its first
count; when the window has ended, the next count starts a new one. Expired counters are
deleted by the daily retention job.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import sqlalchemy as sa
from limits.errors import ConfigurationError
from limits.storage import Storage
from sqlalchemy.dialects import postgresql, sqlite

from app import POLL_BIND, clock
from app.extensions import db
from app.models import RateLimitCounter

SCHEME = "spreekuur+db"

_counter = RateLimitCounter.__table__
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
T = TypeVar("T")


def _engine() -> sa.Engine:
    engine = db.engines.get(POLL_BIND)
    if engine is None:
        raise ConfigurationError(
            f"{SCHEME}:// needs a second connection to the database, "
            "which an in-memory SQLite database does not have"
        )
    return engine


def _on_connection(work: Callable[[sa.Connection], T]) -> T:
    """Run ``work`` on an autocommit connection; once more on a fresh connection when the
    pooled one turns out to be dead (the engine does not ping before use)."""
    engine = _engine()
    try:
        with engine.connect() as connection:
            return work(connection)
    except sa.exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
    with engine.connect() as connection:
        return work(connection)


class DatabaseStorage(Storage):
    """Fixed-window counters in the ``rate_limit_counter`` table."""

    STORAGE_SCHEME = [SCHEME]

    @property
    def base_exceptions(self) -> type[Exception]:
        return sa.exc.SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add ``amount`` to the counter and return the new count, starting a new window of
        ``expiry`` seconds when there is none or it has ended."""
        now = clock.now()

        def increment(connection: sa.Connection) -> int:
            insert = _INSERTS[connection.dialect.name](_counter).values(
                key=key, count=amount, expires_at=now + timedelta(seconds=expiry)
            )
            ended = _counter.c.expires_at <= now
            statement = insert.on_conflict_do_update(
                index_elements=[_counter.c.key],
                set_={
                    "count": sa.case(
                        (ended, insert.excluded.count),
                        else_=_counter.c.count + insert.excluded.count,
                    ),
                    "expires_at": sa.case(
                        (ended, insert.excluded.expires_at), else_=_counter.c.expires_at
                    ),
                },
            ).returning(_counter.c.count)
            return connection.execute(statement).scalar_one()

        return _on_connection(increment)

    def get(self, key: str) -> int:
        """The count in the current window (0 when there is none)."""
        statement = sa.select(_counter.c.count).where(
            _counter.c.key == key, _counter.c.expires_at > clock.now()
        )
        return _on_connection(lambda connection: connection.execute(statement).scalar() or 0)

    def get_expiry(self, key: str) -> float:
        """When the current window ends (a POSIX timestamp; now when there is none)."""
        now = clock.now()
        statement = sa.select(_counter.c.expires_at).where(
            _counter.c.key == key, _counter.c.expires_at > now
        )
        expires_at = _on_connection(lambda connection: connection.execute(statement).scalar())
        return (expires_at or now).timestamp()

    def check(self) -> bool:
        """Whether the database answers."""
        try:
            _on_connection(lambda connection: connection.execute(sa.text("SELECT 1")))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        """Delete every counter; return how many there were."""
        return _on_connection(lambda connection: connection.execute(sa.delete(_counter)).rowcount)

    def clear(self, key: str) -> None:
        """Delete one counter."""
        statement = sa.delete(_counter).where(_counter.c.key == key)
        _on_connection(lambda connection: connection.execute(statement))

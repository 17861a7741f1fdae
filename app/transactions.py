"""One change, one transaction: on SQLite as on PostgreSQL.

Python's sqlite3 module sends BEGIN only before an INSERT, UPDATE or DELETE, and none before
a SAVEPOINT: a savepoint then starts the transaction and its RELEASE commits it, half-way
through what should be one change (a booking committed before the mail that confirms it).
``sqlite_real_transactions`` applies SQLAlchemy's documented pysqlite recipe: the driver
sends no BEGIN of its own and every SQLAlchemy transaction starts with ours.

A transaction that will write takes SQLite's write lock at BEGIN (``BEGIN IMMEDIATE``), so a
second writer waits for it (busy timeout) instead of failing when it wants to write after
reading a snapshot that changed meanwhile. Read-only work (residents' page views, tests
looking at the database) never takes that lock and never waits for a writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, Response, has_request_context, request, session
from sqlalchemy import event
from sqlalchemy.engine import Engine

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_writing: ContextVar[bool] = ContextVar("writing", default=False)


def sqlite_real_transactions(engine: Engine) -> None:
    """Let ``engine`` (SQLite) begin its transactions itself, as one real transaction each."""

    @event.listens_for(engine, "connect")
    def _driver_sends_no_begin(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if may_write() else "BEGIN")


def may_write() -> bool:
    """Whether the transaction now beginning is expected to write.

    In a request: a form (any method but GET, HEAD, OPTIONS), or a page of a logged-in staff
    member (viewing a referral is written to its audit log). Outside a request: inside
    ``writing()`` (commands, the outbox sender).
    """
    if has_request_context():
        return request.method not in SAFE_METHODS or "_user_id" in session
    return _writing.get()


@contextmanager
def writing() -> Iterator[None]:
    """Mark work outside a request that reads and then writes (a command, a sender)."""
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


def end_before_rate_limit_counts(app: Flask) -> None:
    """End the request's transaction before Flask-Limiter counts the attempt.

    Register right after ``limiter.init_app``: ``after_request`` functions run in reverse
    order, so this one runs just before the limiter's. The count is written on a connection
    of its own; on SQLite it would otherwise wait for the write lock this very request holds.
    Ending the transaction here is what the end of the request does anyway (a view commits
    what it means to keep).
    """
    from app.extensions import db

    @app.after_request
    def _end_transaction(response: Response) -> Response:
        db.session.rollback()
        return response

"""Fixtures: a migrated database (SQLite, or PostgreSQL via TEST_DATABASE_URL), the app,
clients, a login helper and factories for the domain objects."""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import socket
import threading
from datetime import date, time
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from flask_migrate import upgrade

from app import create_app, dispose_engines, normalise_database_url
from app.extensions import db
from app.models import (
    ConsultationHours,
    Location,
    Mode,
    Organisation,
    OrganisationKind,
    Recurrence,
    Role,
    SeriesStatus,
    Topic,
    User,
)
from app.services import occurrence_index

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _test_config(url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
        # The address in links in messages (the test client's default host).
        "PUBLIC_URL": "http://localhost",
        # Hashing is not what these tests are about; scrypt would cost ~80 ms per account.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
        # Tests read the outbox as the change left it; the tests of sending after a
        # response turn this on.
        "OUTBOX_SEND_AFTER_RESPONSE": False,
        # Tests log in and book over and over; tests/test_rate_limits.py turns the limits on.
        "RATELIMIT_ENABLED": False,
        # Tests look at a page right after changing what it shows; tests/test_page_cache.py
        # turns the cache of public pages on.
        "PUBLIC_PAGE_CACHE_SECONDS": 0,
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A database migrated to the newest schema, once per test session.

    On PostgreSQL every session gets a database of its own, so that test runs side by
    side never touch each other's data; it is dropped at the end.
    """
    url = _database_url(tmp_path_factory)
    own_database = None
    if url.startswith("postgres"):
        url, own_database = _create_pg_database(url)
    app = create_app(_test_config(url))
    with app.app_context():
        upgrade()
        dispose_engines()
    yield url
    if own_database:
        _drop_pg_database(own_database)


def _create_pg_database(url: str) -> tuple[str, tuple]:
    admin_url = sa.engine.make_url(normalise_database_url(url))
    name = f"{admin_url.database}_{os.getpid()}_{secrets.token_hex(3)}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    test_url = admin_url.set(database=name).render_as_string(hide_password=False)
    return test_url, (admin_url, name)


def _drop_pg_database(own_database: tuple) -> None:
    admin_url, name = own_database
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _clear(engine) -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with engine.begin() as conn:
        # DELETE on these small tables is much faster than TRUNCATE (~1 ms against ~17 ms).
        for name in tables:
            conn.execute(sa.text(f"DELETE FROM {name}"))


class FreshContextClient(FlaskClient):
    """Runs each request in an application context of its own, as a real server does.

    Without this, requests would share the test's context: its ``g`` (Flask-Login's cached
    user) and its database session. The test's own transaction ends first (as a server's
    other requests would have ended theirs: it may hold SQLite's write lock, and its snapshot
    would not show what the request writes); afterwards its objects are expired so that it
    reads what the request wrote.
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


@contextlib.contextmanager
def app_in_context(database_url: str, **settings):
    """The app with these settings over the test configuration, in an application context;
    the database is emptied afterwards."""
    app = create_app({**_test_config(database_url), **settings})
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app
        db.session.remove()
        _clear(db.engine)
        dispose_engines()


@pytest.fixture
def app(database_url):
    with app_in_context(database_url) as app:
        yield app


@pytest.fixture
def csrf_app(database_url):
    """The app with CSRF protection on, as in production."""
    with app_in_context(database_url, WTF_CSRF_ENABLED=True) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# Factories -------------------------------------------------------------------------------


@pytest.fixture
def make_org(app):
    def make(**overrides) -> Organisation:
        n = next(_counter)
        values = {"name": f"Organisation {n}", "kind": OrganisationKind.PARTNER}
        values.update(overrides)
        org = Organisation(**values)
        db.session.add(org)
        db.session.commit()
        return org

    return make


@pytest.fixture
def make_location(app, make_org):
    def make(organisation: Organisation | None = None, **overrides) -> Location:
        n = next(_counter)
        values = {
            "organisation": organisation or make_org(kind=OrganisationKind.LIBRARY),
            "name": f"Location {n}",
            "street": f"Dorpsstraat {n}",
            "postcode": "3600 AA",
            "city": "Maarssen",
        }
        values.update(overrides)
        location = Location(**values)
        db.session.add(location)
        db.session.commit()
        return location

    return make


@pytest.fixture
def make_user(app, make_org):
    def make(role: Role = Role.STAFF, organisation: Organisation | None = None, **overrides):
        n = next(_counter)
        user = User(
            organisation=organisation or make_org(),
            name=overrides.pop("name", f"User {n}"),
            email=overrides.pop("email", f"user{n}@example.org"),
            role=role,
            **overrides,
        )
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_topic(app):
    def make(**overrides) -> Topic:
        n = next(_counter)
        values = {"slug": f"topic-{n}", "name_nl": f"Onderwerp {n}", "name_en": f"Topic {n}"}
        values.update(overrides)
        topic = Topic(**values)
        db.session.add(topic)
        db.session.commit()
        return topic

    return make


@pytest.fixture
def make_series(app, make_org, make_location):
    def make(**overrides) -> ConsultationHours:
        provider = overrides.pop("provider", None) or make_org()
        location = overrides.pop("location", None) or make_location()
        values = {
            "title": "Spreekuur geldzaken",
            "mode": Mode.APPOINTMENT,
            "recurrence": Recurrence.WEEKLY,
            "weekdays": "1",
            "interval_weeks": 1,
            "month_weeks": "",
            "start_date": date(2026, 1, 5),
            "end_date": None,
            "start_time": time(14, 0),
            "end_time": time(16, 0),
            "slot_minutes": 30,
            "seats_per_slot": 1,
            "min_notice_hours": 2,
            "book_ahead_days": 42,
            "status": SeriesStatus.PUBLISHED,
        }
        values.update(overrides)
        series = ConsultationHours(provider=provider, location=location, **values)
        db.session.add(series)
        db.session.flush()
        occurrence_index.refresh_series(series)
        db.session.commit()
        return series

    return make


@pytest.fixture
def login(client):
    """Log a user in through the real login form."""

    def do_login(user: User, password: str = PASSWORD, test_client=None):
        response = (test_client or client).post(
            "/auth/login", data={"email": user.email, "password": password}
        )
        assert response.status_code == 303, response.get_data(as_text=True)
        return response

    return do_login


# A real server ------------------------------------------------------------------------------


class LiveServer:
    def __init__(self, app, threaded: bool = True):
        from werkzeug.serving import make_server

        self.app = app
        # threaded=False serves one request at a time, as a synchronous gunicorn worker does.
        self.server = make_server("127.0.0.1", 0, app, threaded=threaded)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(app):
    """The app served over HTTP on a free loopback port, in a thread (CSRF off)."""
    with LiveServer(app) as server:
        yield server


# A real mail server -------------------------------------------------------------------------


class Inbox:
    """What a real SMTP server on loopback received (aiosmtpd, in a thread of its own)."""

    def __init__(self):
        self.messages = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(app):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield inbox
    controller.stop()


@pytest.fixture
def sms_gateway(app):
    """A local server that speaks CM.com's SMS API; the app sends SMS through it."""
    from tests.sms_helpers import serve_sms_gateway

    yield from serve_sms_gateway(app)

"""Guessing is not free: the staff login, finding an appointment by its code and booking are
rate limited per client address and per account or code, with counts in the database that
every worker shares."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from limits.storage import MemoryStorage, storage_from_string

from app import POLL_BIND, clock, create_app, dispose_engines
from app.extensions import db, limiter
from app.models import Booking, RateLimitCounter
from app.services import booking as booking_service
from app.services import retention
from app.services.booking import ResidentDetails
from app.services.rate_limits import DatabaseStorage
from tests.conftest import PASSWORD, FreshContextClient, _clear, _test_config

ROOT = Path(__file__).resolve().parent.parent
AMS = ZoneInfo("Europe/Amsterdam")


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


def address(n: int) -> dict:
    """A request from client address number ``n`` (as ProxyFix leaves it in REMOTE_ADDR)."""
    return {"REMOTE_ADDR": f"198.51.100.{n}"}


def log_in(client, email: str, password: str, n: int = 1, **kwargs):
    return client.post(
        "/auth/login",
        data={"email": email, "password": password},
        environ_overrides=address(n),
        **kwargs,
    )


def find(client, code: str, phone_or_name: str, n: int = 1, **kwargs):
    return client.post(
        "/afspraak",
        data={"code": code, "phone_or_name": phone_or_name},
        environ_overrides=address(n),
        **kwargs,
    )


def retry_after(response) -> int:
    return int(response.headers["Retry-After"])


def counters() -> dict[str, int]:
    """The counts the database holds, by key."""
    rows = db.session.execute(sa.select(RateLimitCounter.key, RateLimitCounter.count))
    return dict(rows.all())


# Staff login ----------------------------------------------------------------------------------


def test_wrong_passwords_for_one_account_from_many_addresses_are_limited(client, make_user):
    """Ten wrong passwords for one account, each from another address, lock that account
    for the rest of the 15 minutes: even the right password gets 429, in Dutch, with
    Retry-After, the e-mail address still in the form; another account is not affected."""
    user = make_user(email="anna@example.org")
    other = make_user(email="bram@example.org")
    for n in range(1, 11):
        assert log_in(client, "Anna@Example.org ", f"guess-{n}", n=n).status_code == 422

    response = log_in(client, user.email, PASSWORD, n=11)
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert '<html lang="nl"' in page
    assert "Er is te vaak geprobeerd in te loggen met een verkeerd wachtwoord." in page
    assert re.search(r"Probeer het over 15 minuten opnieuw, om \d\d:\d\d\.", page)
    assert 'value="anna@example.org"' in page
    assert 840 < retry_after(response) <= 900
    assert client.get("/portal/").status_code == 302  # not logged in

    assert log_in(client, other.email, PASSWORD, n=11).status_code == 303


def test_the_refusal_is_in_english_when_chosen(client, make_user):
    """With English chosen, the refusal says the same in English, with the time to come back."""
    user = make_user()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for n in range(10):
        log_in(client, user.email, "nope", n=n)
    response = log_in(client, user.email, "nope", n=99)
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert '<html lang="en"' in page
    assert "Please wait a while" in page
    assert "There were too many attempts to log in with a wrong password." in page
    until = clock.now() + timedelta(seconds=retry_after(response))
    expected = until.astimezone(AMS)
    shown = re.search(r"Try again in 15 minutes, at (\d\d:\d\d)\.", page).group(1)
    assert shown in {
        expected.strftime("%H:%M"),
        (expected + timedelta(minutes=1)).strftime("%H:%M"),
    }


def test_wrong_passwords_from_one_address_are_limited(client, make_user):
    """Thirty wrong logins from one address, ten for each of three accounts, block that
    address: the 31st attempt gets 429 even for a fourth account; other addresses do not."""
    tried = [make_user() for _ in range(3)]
    user = make_user()
    for account in tried:
        for _ in range(10):
            assert log_in(client, account.email, "nope", n=7).status_code == 422
    response = log_in(client, user.email, PASSWORD, n=7)
    assert response.status_code == 429
    assert 0 < retry_after(response) <= 900
    assert log_in(client, user.email, PASSWORD, n=8).status_code == 303


def test_successful_logins_do_not_count(app, make_user):
    """Volunteers at one desk computer log in and out all day: successful logins never count,
    only the wrong passwords do (nine, then successes, then the tenth is still allowed)."""
    user = make_user()
    desk = app.test_client()
    for _ in range(9):
        assert log_in(desk, user.email, "typo").status_code == 422
    for _ in range(35):  # more than the address allows in failures
        volunteer = app.test_client()
        assert log_in(volunteer, user.email, PASSWORD).status_code == 303
        assert volunteer.post("/auth/logout").status_code == 303
    assert log_in(desk, user.email, "typo").status_code == 422
    assert log_in(desk, user.email, PASSWORD).status_code == 429
    assert sorted(counters().values()) == [10, 10]  # per account and per address


def test_a_form_without_a_password_is_no_attempt(client, make_user):
    """A form sent without a password is answered as before (422) and counts for nothing."""
    user = make_user()
    for _ in range(12):
        response = client.post("/auth/login", data={"email": user.email, "password": ""})
        assert response.status_code == 422
    assert counters() == {}
    assert log_in(client, user.email, PASSWORD).status_code == 303


def test_pages_are_not_limited(client, make_user):
    """Opening the login page and the find page is never limited, also when the posts are."""
    user = make_user()
    for _ in range(11):
        log_in(client, user.email, "nope", n=1)
    for _ in range(31):
        find(client, "AAAA-AAAA", "Fatima", n=1)
    assert log_in(client, user.email, PASSWORD, n=1).status_code == 429
    assert find(client, "AAAA-AAAA", "Fatima", n=1).status_code == 429
    for _ in range(40):
        assert client.get("/auth/login", environ_overrides=address(1)).status_code == 200
        assert client.get("/afspraak", environ_overrides=address(1)).status_code == 200


def test_the_window_ends_and_the_account_opens_again(client, make_user, monkeypatch):
    """After the window the locked account can log in again, and the daily retention job
    deletes the expired counters."""
    user = make_user()
    for _ in range(10):
        log_in(client, user.email, "nope")
    assert log_in(client, user.email, PASSWORD).status_code == 429
    assert sorted(counters().values()) == [10, 10]

    later = clock.now() + timedelta(minutes=15, seconds=1)
    monkeypatch.setattr("app.clock.now", lambda: later)
    assert log_in(client, user.email, PASSWORD).status_code == 303
    report = retention.run()
    assert report.rate_limit_counters_deleted == 2
    assert counters() == {}


# Finding an appointment --------------------------------------------------------------------


@pytest.fixture
def series(make_series):
    return make_series(
        weekdays="0,1,2,3,4,5,6",
        start_date=clock.today(),
        start_time=time(10, 0),
        end_time=time(12, 0),
        seats_per_slot=50,
        min_notice_hours=0,
    )


def tomorrow_at(hour: int) -> datetime:
    day = clock.today() + timedelta(days=1)
    return datetime.combine(day, time(hour), AMS).astimezone(UTC)


def test_different_codes_from_one_address_are_limited(client, series):
    """Thirty wrong codes from one address block finding from there: 429 with the message in
    Dutch, the code and the name still in the form, Retry-After; another address can find."""
    booking, _token = booking_service.book(series, tomorrow_at(10), ResidentDetails(name="Fatima"))
    db.session.commit()
    for n in range(30):
        assert find(client, f"ABCD-{n:04d}", "Fatima", n=3).status_code == 422

    response = find(client, booking.code, "Fatima", n=3)
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "Het zoeken naar een afspraak ging te vaak mis." in page
    assert re.search(r"Probeer het over 10 minuten opnieuw, om \d\d:\d\d\.", page)
    assert f'value="{booking.code}"' in page and 'value="Fatima"' in page
    assert 540 < retry_after(response) <= 600

    assert find(client, booking.code, "Fatima", n=4).status_code == 303


def test_one_code_from_many_addresses_is_limited(client, series):
    """Ten failed look-ups of one code, from ten addresses, protect that appointment: the
    right name is refused too for a while, in English when chosen; other codes are found."""
    booking, _token = booking_service.book(series, tomorrow_at(10), ResidentDetails(name="Fatima"))
    other, _token = booking_service.book(series, tomorrow_at(11), ResidentDetails(name="Ahmed"))
    db.session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for n in range(10):
        assert find(client, booking.code.lower(), f"Guess {n}", n=n).status_code == 422

    response = find(client, booking.code, "Fatima", n=50)
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "Finding an appointment went wrong too many times." in page
    assert re.search(r"Try again in 10 minutes, at \d\d:\d\d\.", page)
    assert "Or ask at the library desk: we help you." in page

    assert find(client, other.code, "Ahmed", n=50).status_code == 303


def test_htmx_gets_the_form_fragment_with_the_refusal(client, series):
    """The htmx form gets back only itself (status 429, swapped by htmx) with the message."""
    for n in range(10):
        find(client, "ABCD-EFGH", "Fatima", n=n)
    response = find(client, "ABCD-EFGH", "Fatima", n=60, headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "<html" not in page and 'id="find-form"' in page
    assert "Het zoeken naar een afspraak ging te vaak mis." in page
    assert "Retry-After" in response.headers


# Booking ---------------------------------------------------------------------------------------


def test_booking_is_limited_per_address(app, client, series):
    """Appointments made from one address are limited (here 3 an hour): the next booking form
    comes back with 429, the message and everything the resident typed; failed forms do not
    count, the booking page itself is not limited, and another address can still book."""
    app.config["RATELIMIT_BOOKING_ADDRESS"] = "3 per hour"
    url = f"/spreekuren/{series.id}/afspraak?tijd={tomorrow_at(10).strftime('%Y-%m-%dT%H:%MZ')}"
    form = {"name": "Fatima", "phone": "06 12345678", "language": "nl"}
    for _ in range(5):
        response = client.post(url, data={**form, "name": ""}, environ_overrides=address(5))
        assert response.status_code == 422
    for _ in range(3):
        assert client.post(url, data=form, environ_overrides=address(5)).status_code == 303

    typed = {**form, "question": "Brief van de Belastingdienst", "needs_interpreter": "y"}
    response = client.post(url, data=typed, environ_overrides=address(5))
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "Via deze internetverbinding zijn in korte tijd veel afspraken gemaakt." in page
    assert re.search(r"Probeer het over 60 minuten opnieuw, om \d\d:\d\d\.", page)
    assert 'value="Fatima"' in page and 'value="06 12345678"' in page
    assert "Brief van de Belastingdienst</textarea>" in page
    assert "checked" in re.search(r'<input[^>]*id="needs_interpreter"[^>]*>', page).group(0)
    assert 3540 < retry_after(response) <= 3600
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 3

    assert client.get(url, environ_overrides=address(5)).status_code == 200
    assert client.post(url, data=form, environ_overrides=address(6)).status_code == 303


def test_other_limits_get_the_error_page(database_url):
    """A form limited with Flask-Limiter's own decorator gets the error page when over its
    limit: full page or htmx fragment, in the user's language, with Retry-After."""
    app = create_app(_limited_config(database_url))

    @app.route("/limited", methods=["POST"])
    @limiter.limit("2 per minute")
    def limited_page():
        return "ok"

    app.test_client_class = FreshContextClient
    with app.app_context():
        try:
            client = app.test_client()
            assert [client.post("/limited").status_code for _ in range(2)] == [200, 200]
            response = client.post("/limited")
            page = response.get_data(as_text=True)
            assert response.status_code == 429
            assert "<html" in page and "Even geduld" in page
            assert re.search(r"Het is te vaak geprobeerd\. Probeer het over 1 minuut", page)
            assert 0 < retry_after(response) <= 60

            fragment = client.post(
                "/limited", headers={"HX-Request": "true", "Accept-Language": "en"}
            )
            text = fragment.get_data(as_text=True)
            assert fragment.status_code == 429 and "<html" not in text
            assert "There were too many attempts. Try again in 1 minute, at" in text
            assert "Retry-After" in fragment.headers
        finally:
            db.session.remove()
            _clear(db.engine)
            dispose_engines()


# Storage -----------------------------------------------------------------------------------------


SECOND_WORKER = """
import json, os, sys
from app import create_app, dispose_engines
config = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "SQLALCHEMY_DATABASE_URI": os.environ["SPREEKUUR_TEST_DATABASE"],
    "WTF_CSRF_ENABLED": False,
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
    "RATELIMIT_ENABLED": True,
}
app = create_app(config)
statuses = []
with app.app_context():
    client = app.test_client()
    for n in range(int(sys.argv[1])):
        response = client.post(
            "/auth/login",
            data={"email": sys.argv[2], "password": "wrong"},
            environ_overrides={"REMOTE_ADDR": f"203.0.113.{n}"},
        )
        statuses.append(response.status_code)
    dispose_engines()
print(json.dumps(statuses))
"""


def test_counts_are_shared_between_workers(app, client, make_user, database_url):
    """Two workers (a second create_app on the same database, in a process of its own, as
    gunicorn runs them) count together: six failures there and four here lock the account."""
    user = make_user()
    worker = subprocess.run(
        [sys.executable, "-c", SECOND_WORKER, "6", user.email],
        cwd=ROOT,
        env={**os.environ, "SPREEKUUR_TEST_DATABASE": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(worker.stdout.strip().splitlines()[-1]) == [422] * 6
    for n in range(4):
        assert log_in(client, user.email, "wrong", n=n).status_code == 422
    assert log_in(client, user.email, PASSWORD, n=9).status_code == 429


def test_a_second_app_on_the_same_database_sees_the_counts(app, client, make_user, database_url):
    """The counts are in the database, not in a worker: a second app instance, with engines of
    its own, refuses the account that the first one counted."""
    user = make_user()
    for n in range(10):
        log_in(client, user.email, "wrong", n=n)
    assert len(counters()) == 11  # one per address and one for the account

    second = create_app(_limited_config(database_url))
    try:
        response = log_in(second.test_client(), user.email, PASSWORD, n=42)
        assert response.status_code == 429
    finally:
        with second.app_context():
            dispose_engines()


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

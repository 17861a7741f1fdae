"""One change, one transaction; every message sent exactly once.

A booking, a move or a booking from a referral and the confirmation it causes are one
transaction on both databases: another connection never sees the one without the other,
and a failure between them leaves neither. Any number of senders at once (web workers after
their responses, cron, other servers) send each message exactly once, never empty, and
sending never slows or fails the response that queued the message.
"""

from __future__ import annotations

import socket
import threading
import time as wall_clock
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app import clock, create_app, dispose_engines
from app.extensions import db
from app.models import Booking, ConsentScope, ContactMethod, OutboxMessage, OutboxStatus, Role
from app.services import mail
from tests.conftest import LiveServer, _test_config
from tests.referral_helpers import slot_param, write_warm

AMS = ZoneInfo("Europe/Amsterdam")
EVERY_DAY = "0,1,2,3,4,5,6"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def wait_for(condition, what: str, timeout: float = 120.0):
    """Wait until ``condition()`` is true (a generous limit: the machine may be busy)."""
    deadline = wall_clock.monotonic() + timeout
    while not (result := condition()):
        if wall_clock.monotonic() > deadline:
            raise AssertionError(f"waited in vain for {what}")
        wall_clock.sleep(0.02)
    return result


class Observer:
    """A second connection to the database, as another worker or server has."""

    def __init__(self, url: str):
        self.engine = sa.create_engine(url)

    def rows(self, statement) -> list:
        with self.engine.connect() as connection:
            return list(connection.execute(statement))

    def bookings(self) -> list[tuple]:
        return self.rows(sa.select(Booking.slot_start, Booking.status).order_by(Booking.id))

    def messages(self) -> list[tuple]:
        return self.rows(
            sa.select(OutboxMessage.recipient, OutboxMessage.subject).order_by(OutboxMessage.id)
        )


@pytest.fixture
def observer(app):
    watcher = Observer(app.config["SQLALCHEMY_DATABASE_URI"])
    yield watcher
    watcher.engine.dispose()


@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def series(make_series):
    return make_series(
        title="Hulp bij geldzaken",
        weekdays=EVERY_DAY,
        start_date=clock.today() - timedelta(days=7),
        start_time=time(9, 0),
        end_time=time(17, 0),
        slot_minutes=30,
        seats_per_slot=3,
        min_notice_hours=0,
    )


def at(days: int, hour: int, minute: int = 0) -> datetime:
    day = clock.today() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), AMS).astimezone(UTC)


def book_url(series, moment: datetime) -> str:
    return f"/spreekuren/{series.id}/afspraak?tijd={slot_param(moment)}"


def resident(n: int = 0, **overrides) -> dict:
    data = {"name": f"Bewoner {n}", "email": f"bewoner{n}@example.org", "language": "en"}
    data.update(overrides)
    return data


def spy_on_queue(monkeypatch, look):
    """Call ``look()`` at the moment a message is queued; return what it saw each time."""
    seen = []
    queue = mail.queue

    def spying(*args, **kwargs):
        seen.append(look())
        return queue(*args, **kwargs)

    monkeypatch.setattr(mail, "queue", spying)
    return seen


def fail_on_queue(monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("the confirmation could not be written")

    monkeypatch.setattr(mail, "queue", broken)


# One transaction ----------------------------------------------------------------------------


def test_a_booking_is_never_seen_without_its_confirmation(en, series, observer, monkeypatch):
    """While the confirmation is being written, another connection sees no booking yet;
    after the commit it sees both."""
    seen = spy_on_queue(monkeypatch, lambda: (observer.bookings(), observer.messages()))
    response = en.post(book_url(series, at(2, 10)), data=resident(1))
    assert response.status_code == 303
    assert seen == [([], [])]
    assert [start for start, _status in observer.bookings()] == [at(2, 10)]
    assert observer.messages() == [("bewoner1@example.org", "Your appointment: Hulp bij geldzaken")]


def test_a_failure_before_the_confirmation_leaves_no_booking(en, series, observer, monkeypatch):
    """When writing the confirmation fails, the booking is not there either: the resident
    who tries again does not hold two seats."""
    fail_on_queue(monkeypatch)
    with pytest.raises(RuntimeError):
        en.post(book_url(series, at(2, 10)), data=resident(1))
    assert observer.bookings() == []
    assert observer.messages() == []


def _booked_and_opened(en, series) -> Booking:
    """A resident books through the form (with e-mail) and has the appointment open."""
    assert en.post(book_url(series, at(2, 10)), data=resident(1)).status_code == 303
    return db.session.scalar(sa.select(Booking))


def test_a_move_is_never_seen_without_its_message(en, series, observer, monkeypatch):
    """While the 'new time' message is being written, another connection still sees the
    old time; after the commit the new time and the message."""
    booking = _booked_and_opened(en, series)
    seen = spy_on_queue(monkeypatch, lambda: [start for start, _status in observer.bookings()])
    response = en.post(
        "/afspraak/mijn/verzetten", data={"version": booking.version, "slot": slot_param(at(2, 11))}
    )
    assert response.status_code == 303
    assert seen == [[at(2, 10)]]
    assert [start for start, _status in observer.bookings()] == [at(2, 11)]
    assert len(observer.messages()) == 2


def test_a_failure_during_a_move_keeps_the_old_time(en, series, observer, monkeypatch):
    """When the message cannot be written, the appointment keeps its old time and seat."""
    booking = _booked_and_opened(en, series)
    fail_on_queue(monkeypatch)
    with pytest.raises(RuntimeError):
        en.post(
            "/afspraak/mijn/verzetten",
            data={"version": booking.version, "slot": slot_param(at(2, 11))},
        )
    assert [start for start, _status in observer.bookings()] == [at(2, 10)]
    assert len(observer.messages()) == 1
    db.session.rollback()
    assert db.session.get(Booking, booking.id).slot_start == at(2, 10)


@pytest.fixture
def referral_to_book(make_org, make_user, make_topic, make_series, make_location):
    """A warm handover with consent to an appointment, and the receiver's hours."""
    library = make_org(name="Bibliotheek Vechtdal")
    partner = make_org(name="Geldpunt Vechtdal")
    librarian = make_user(Role.STAFF, library, name="Chris Balie")
    hours = make_series(
        provider=partner,
        location=make_location(organisation=library),
        weekdays=EVERY_DAY,
        start_date=clock.today() - timedelta(days=7),
        start_time=time(9, 0),
        end_time=time(17, 0),
        min_notice_hours=0,
    )
    referral = write_warm(
        librarian,
        partner,
        make_topic(),
        scope=ConsentScope.APPOINTMENT,
        email="fatima@example.org",
        contact_method=ContactMethod.EMAIL,
    )
    return librarian, referral, hours


def test_a_booking_from_a_referral_is_never_seen_without_its_confirmation(
    en, login, referral_to_book, observer, monkeypatch
):
    """The warm handover into a slot: booking, referral link and confirmation at once."""
    librarian, referral, hours = referral_to_book
    login(librarian)
    seen = spy_on_queue(monkeypatch, lambda: (observer.bookings(), observer.messages()))
    response = en.post(
        f"/portal/referrals/{referral.id}/book",
        data={"series": hours.id, "tijd": slot_param(at(2, 10))},
    )
    assert response.status_code == 303
    assert seen == [([], [])]
    assert len(observer.bookings()) == 1 and len(observer.messages()) == 1


def test_a_failure_in_a_referral_booking_leaves_no_booking(
    en, login, referral_to_book, observer, monkeypatch
):
    librarian, referral, hours = referral_to_book
    login(librarian)
    fail_on_queue(monkeypatch)
    with pytest.raises(RuntimeError):
        en.post(
            f"/portal/referrals/{referral.id}/book",
            data={"series": hours.id, "tijd": slot_param(at(2, 10))},
        )
    assert observer.bookings() == [] and observer.messages() == []


# Every message once -------------------------------------------------------------------------


def _received(inbox) -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {}
    for message in list(inbox.messages):
        texts.setdefault(message["To"], []).append(message.get_body(("plain",)).get_content())
    return texts


def test_eight_senders_at_once_send_every_message_exactly_once(app, smtp_server):
    """Eight senders (web workers, cron runs) drain one outbox at the same moment: each
    message reaches its resident once, with its text; none is sent empty."""
    residents = [f"bewoner{n}@example.org" for n in range(40)]
    for n, address in enumerate(residents):
        mail.queue(address, f"Uw afspraak {n}", f"Tot dinsdag, bewoner {n}!")
    db.session.commit()

    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def sender() -> None:
        with app.app_context():
            try:
                barrier.wait()
                while mail.send_pending(limit=3) != (0, 0):
                    pass
            except BaseException as error:  # noqa: BLE001 (reported by the test below)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    received = _received(smtp_server)
    assert sorted(received) == sorted(residents)
    for n, address in enumerate(residents):
        assert [text.strip() for text in received[address]] == [f"Tot dinsdag, bewoner {n}!"]
    db.session.rollback()
    stored = db.session.execute(sa.select(OutboxMessage.status, OutboxMessage.body)).all()
    assert stored == [(OutboxStatus.SENT, "")] * 40


def test_a_message_without_text_is_never_queued(app):
    with pytest.raises(ValueError):
        mail.queue("bewoner@example.org", "Uw afspraak", "  ")


def test_a_sender_whose_claim_ran_out_does_not_overwrite_the_outcome(app, smtp_server, monkeypatch):
    """A sender that stalled past its claim's lease finds the message claimed again by
    another; only the holder of the claim records the outcome."""
    mail.queue("bewoner@example.org", "Uw afspraak", "Tot dinsdag!")
    db.session.commit()
    stalled_token, [stalled] = mail.claim(10)
    later = clock.now() + mail.CLAIM_LEASE + timedelta(seconds=1)
    monkeypatch.setattr("app.clock.now", lambda: later)
    assert mail.send_pending() == (1, 0)
    mail._failed(stalled, stalled_token, OSError("too late"), later)
    db.session.rollback()
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.status is OutboxStatus.SENT and message.attempts == 0
    assert message.last_error == "" and message.claim_token is None


def test_a_refused_address_is_given_up_at_once_with_the_reason(app):
    """A permanent refusal (5xx) is not retried for days: it is given up with the reason."""
    import smtplib

    mail.queue("niemand@example.org", "Uw afspraak", "Tot dinsdag!")
    db.session.commit()
    token, [claimed] = mail.claim(10)
    error = smtplib.SMTPRecipientsRefused({"niemand@example.org": (550, b"No such user")})
    mail._failed(claimed, token, error, clock.now())
    db.session.rollback()
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.status is OutboxStatus.FAILED and "No such user" in message.last_error


# Sending after the response -----------------------------------------------------------------


class SilentMailServer:
    """A mail server that accepts connections and then says nothing until released."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connected = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            connection, _address = self.sock.accept()
        except OSError:
            return
        self.connected.set()
        self.release.wait()
        connection.close()  # the sender's greeting never comes: it gives up

    def close(self) -> None:
        self.release.set()
        self.sock.close()
        self.thread.join(timeout=10)


def test_sending_after_the_response_never_slows_or_fails_it(app, series, observer):
    """A worker that serves one request at a time (as gunicorn's sync workers do) answers
    the booking and the next visitor while the mail server hangs; the message then waits
    in the outbox for a retry, and the booking stands."""
    silent = SilentMailServer()
    app.config.update(
        OUTBOX_SEND_AFTER_RESPONSE=True,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=silent.port,
        MAIL_TIMEOUT=600,  # the sender hangs until the test lets the server go
    )
    no_redirects = urllib.request.build_opener(NoRedirect)
    attempts = sa.select(OutboxMessage.attempts, OutboxMessage.status, OutboxMessage.claim_token)
    try:
        with LiveServer(app, threaded=False) as worker:
            data = urllib.parse.urlencode(resident(1)).encode()
            request = urllib.request.Request(worker.url + book_url(series, at(2, 10)), data=data)
            with pytest.raises(urllib.error.HTTPError) as answer:
                no_redirects.open(request, timeout=60)
            answer.value.close()
            assert answer.value.code == 303
            assert silent.connected.wait(timeout=120)  # the sender is stuck at the mail server
            with urllib.request.urlopen(worker.url + "/", timeout=60) as page:
                assert page.status == 200
            # Answered while the sender was still waiting for the mail server.
            assert observer.rows(attempts)[0][0] == 0
    finally:
        silent.close()
    wait_for(
        lambda: observer.rows(attempts) == [(1, OutboxStatus.PENDING, None)], "the failed attempt"
    )
    assert len(observer.bookings()) == 1


def test_many_residents_booking_at_once_each_get_one_confirmation(
    app, database_url, smtp_server, series, observer
):
    """Eight residents at a time book with an e-mail address on two web workers while cron
    runs too: every resident gets exactly one confirmation, none empty."""
    second = create_app(_test_config(database_url))
    for worker in (app, second):
        worker.config.update(
            OUTBOX_SEND_AFTER_RESPONSE=True,
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=app.config["MAIL_PORT"],
        )
    slots = [
        at(days, hour, minute) for days in (2, 3) for hour in range(9, 14) for minute in (0, 30)
    ]
    people = list(range(40))
    paths = [book_url(series, slots[n // 2]) for n in people]
    stop_cron = threading.Event()
    errors: list[BaseException] = []

    def cron() -> None:
        with app.app_context():
            try:
                while not stop_cron.is_set():
                    mail.send_pending(limit=5)
            except BaseException as error:  # noqa: BLE001
                errors.append(error)
            finally:
                db.session.remove()

    with LiveServer(app) as one, LiveServer(second) as two:
        cron_thread = threading.Thread(target=cron)
        cron_thread.start()
        barrier = threading.Barrier(8)
        no_redirects = urllib.request.build_opener(NoRedirect)

        def client(k: int) -> None:
            try:
                barrier.wait()
                for n in people[k::8]:
                    server = (one, two)[n % 2]
                    url = server.url + paths[n]
                    data = urllib.parse.urlencode(resident(n)).encode()
                    request = urllib.request.Request(url, data=data)
                    try:
                        no_redirects.open(request, timeout=120)
                    except urllib.error.HTTPError as answer:
                        with answer:
                            assert answer.code == 303, answer.read()
                    else:
                        raise AssertionError("the booking was not made")
            except BaseException as error:  # noqa: BLE001
                errors.append(error)

        clients = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        try:
            wait_for(lambda: errors or len(smtp_server.messages) >= 40, "40 confirmations")
            sent = sa.select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.SENT)
            wait_for(lambda: len(observer.rows(sent)) == 40, "every message marked sent")
        finally:
            stop_cron.set()
            cron_thread.join()
    with second.app_context():
        dispose_engines()

    assert errors == []
    received = _received(smtp_server)
    assert sorted(received) == sorted(f"bewoner{n}@example.org" for n in people)
    for address, texts in received.items():
        assert len(texts) == 1, address
        assert texts[0].strip() and "/afspraak/link/" in texts[0]

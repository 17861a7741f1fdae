"""Reminders before an appointment: one per appointment version, in the resident's language,
by e-mail (a real SMTP server) or SMS (a local CM.com gateway); none after a cancel, the new
time after a move, none for a time chosen after its reminder moment; two runs of
``flask send-messages`` at once write one; course participants before each session; the
desk's call list for residents no message reaches."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Booking, MessageChannel, OutboxMessage, OutboxStatus, Role, User
from app.services import booking as booking_service
from app.services import course_signups, courses, reminders
from app.services.booking import ResidentDetails
from app.transactions import writing
from tests.referral_helpers import write_warm

AMS = ZoneInfo("Europe/Amsterdam")
EVERY_DAY = "0,1,2,3,4,5,6"


@pytest.fixture
def series(make_series, make_location):
    return make_series(
        title="Hulp bij geldzaken",
        location=make_location(name="Bibliotheek Maarssen"),
        weekdays=EVERY_DAY,
        start_date=clock.today() - timedelta(days=7),
        start_time=time(9, 0),
        end_time=time(17, 0),
        slot_minutes=30,
        seats_per_slot=3,
        min_notice_hours=0,
    )


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """A time ``days`` from the real today (also while a test sets the app's clock)."""
    day = datetime.now(AMS).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), AMS).astimezone(UTC)


def slot_param(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")


def book(client, series, moment, **resident) -> Booking:
    """A resident books through the public form."""
    data = {"name": "Sam", "language": "nl", **resident}
    response = client.post(f"/spreekuren/{series.id}/afspraak?tijd={slot_param(moment)}", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    return db.session.scalars(sa.select(Booking).order_by(Booking.id.desc())).first()


def set_clock(monkeypatch, moment: datetime) -> None:
    monkeypatch.setattr("app.clock.now", lambda: moment)


def send_messages(runner) -> str:
    result = runner.invoke(args=["send-messages"])
    assert result.exit_code == 0, result.output
    return result.output


def reminder_mails(inbox) -> list:
    return [m for m in list(inbox.messages) if m["Subject"].startswith(("Reminder", "Herinnering"))]


def text(message) -> str:
    return message.get_body(("plain",)).get_content()


def reminder_rows() -> list[OutboxMessage]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.kind == "reminder")
            .order_by(OutboxMessage.id)
        )
    )


def test_an_english_booking_gets_one_english_reminder_the_day_before(
    client, runner, series, smtp_server, monkeypatch
):
    """24 hours before, one reminder in English with date, time, place, code and the page
    to cancel or move; later runs write no second one."""
    booking = book(client, series, at(3, 10), email="sam@example.org", language="en")
    send_messages(runner)  # the confirmation
    assert reminder_mails(smtp_server) == []

    set_clock(monkeypatch, at(2, 9, 59))  # 24 hours and a minute before: not yet
    send_messages(runner)
    assert reminder_mails(smtp_server) == []

    set_clock(monkeypatch, at(2, 10, 1))
    assert "Reminders written: 1" in send_messages(runner)
    set_clock(monkeypatch, at(2, 16))
    send_messages(runner)
    set_clock(monkeypatch, at(3, 9, 45))
    send_messages(runner)

    [reminder] = reminder_mails(smtp_server)
    assert reminder["To"] == "sam@example.org"
    assert reminder["Subject"] == "Reminder: your appointment Hulp bij geldzaken"
    body = text(reminder)
    assert "A reminder of your appointment." in body
    assert "10:00" in body and "Bibliotheek Maarssen" in body
    assert booking.display_code in body
    assert "http://localhost/afspraak" in body
    assert [row.status for row in reminder_rows()] == [OutboxStatus.SENT]


def test_a_dutch_resident_with_only_a_mobile_number_gets_the_reminder_by_sms(
    client, runner, series, sms_gateway, monkeypatch
):
    booking = book(client, series, at(3, 14, 30), phone="06 12345678", language="nl")
    set_clock(monkeypatch, at(2, 15))
    send_messages(runner)
    send_messages(runner)
    [message] = sms_gateway.texts_to("0031612345678")
    assert message.startswith("Herinnering: afspraak Hulp bij geldzaken op ")
    assert "14:30" in message and "Bibliotheek Maarssen" in message
    assert booking.display_code in message and "http://localhost/afspraak" in message
    [row] = reminder_rows()
    assert row.channel is MessageChannel.SMS and row.status is OutboxStatus.SENT


def test_a_resident_with_a_landline_gets_no_sms(client, runner, series, sms_gateway, monkeypatch):
    book(client, series, at(3, 10), phone="030 123 4567")
    set_clock(monkeypatch, at(2, 11))
    send_messages(runner)
    assert sms_gateway.requests == 0 and reminder_rows() == []


def test_a_cancelled_appointment_gets_no_reminder(client, runner, series, smtp_server, monkeypatch):
    book(client, series, at(3, 10), email="sam@example.org")
    assert client.post("/afspraak/mijn/afzeggen", data={"version": 1}).status_code == 303
    set_clock(monkeypatch, at(2, 11))
    send_messages(runner)
    assert reminder_mails(smtp_server) == [] and reminder_rows() == []


def test_a_moved_appointment_gets_the_reminder_for_its_new_time_only(
    client, runner, series, smtp_server, monkeypatch
):
    """Reminded of 10:00, then moved to 15:00 two days later: one more reminder, of 15:00,
    when its own moment comes; none for the old time."""
    book(client, series, at(3, 10), email="sam@example.org", language="en")
    set_clock(monkeypatch, at(2, 10, 5))
    send_messages(runner)
    assert len(reminder_mails(smtp_server)) == 1

    set_clock(monkeypatch, at(2, 12))
    moved = client.post(
        "/afspraak/mijn/verzetten", data={"version": 1, "slot": slot_param(at(5, 15))}
    )
    assert moved.status_code == 303
    set_clock(monkeypatch, at(3, 9, 30))  # the old time's reminder window: nothing more
    send_messages(runner)
    assert len(reminder_mails(smtp_server)) == 1

    set_clock(monkeypatch, at(4, 15, 1))
    send_messages(runner)
    first, second = reminder_mails(smtp_server)
    assert "10:00" in text(first) and "15:00" in text(second) and "10:00" not in text(second)
    assert [row.dedupe_key.rsplit(":", 1)[1] for row in reminder_rows()] == ["v1", "v2"]


def test_a_move_before_the_reminder_gives_one_reminder_of_the_new_time(
    client, runner, series, smtp_server, monkeypatch
):
    book(client, series, at(3, 10), email="sam@example.org", language="en")
    client.post("/afspraak/mijn/verzetten", data={"version": 1, "slot": slot_param(at(3, 16))})
    set_clock(monkeypatch, at(2, 10, 5))  # the old time's moment: not due any more
    send_messages(runner)
    assert reminder_mails(smtp_server) == []
    set_clock(monkeypatch, at(2, 16, 5))
    send_messages(runner)
    [reminder] = reminder_mails(smtp_server)
    assert "16:00" in text(reminder)


def test_a_booking_made_after_the_reminder_moment_gets_none(
    client, runner, series, smtp_server, monkeypatch
):
    """Booked this afternoon for tomorrow morning: the confirmation is enough."""
    set_clock(monkeypatch, at(1, 8))
    book(client, series, at(1, 16), email="sam@example.org", language="en")
    send_messages(runner)
    set_clock(monkeypatch, at(1, 12))
    send_messages(runner)
    assert reminder_mails(smtp_server) == [] and reminder_rows() == []
    assert len(list(smtp_server.messages)) == 1  # the confirmation


def test_two_runs_at_once_write_one_reminder_each(app, series, monkeypatch):
    """Eight runs of send-messages start at the same moment: every due appointment gets
    exactly one reminder (the database's unique key decides)."""
    for n in range(12):
        booking_service.book(
            series,
            at(3, 9 + n // 2, 30 * (n % 2)),
            ResidentDetails(name=f"Bewoner {n}", email=f"bewoner{n}@example.org"),
        )
    db.session.commit()
    set_clock(monkeypatch, at(2, 16))
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    written: list[int] = []

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait()
                written.append(reminders.write_due())
            except BaseException as error:  # noqa: BLE001 (reported below)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(written) == 12
    rows = reminder_rows()
    assert len(rows) == 12
    assert len({row.booking_id for row in rows}) == 12


def test_course_participants_get_a_reminder_before_each_session(
    app,
    runner,
    make_org,
    make_user,
    make_topic,
    make_location,
    smtp_server,
    sms_gateway,
    monkeypatch,
):
    partner = make_org(name="Bibliotheek Vechtdal")
    staff = make_user(Role.STAFF, partner)
    course = courses.create_course(
        partner,
        courses.CourseData(
            title="Digisterker",
            location=make_location(organisation=partner, name="Bibliotheek Breukelen"),
            capacity=8,
            first_date=clock.today() + timedelta(days=3),
            start_time=time(10, 0),
            end_time=time(12, 0),
            sessions=2,
        ),
        staff,
    )
    db.session.commit()
    write_warm(staff, partner, make_topic(), course=course, email="ali@example.org", language="en")
    write_warm(staff, partner, make_topic(), course=course, resident_name="Bo", phone="030 1234567")
    # A resident who signed up themselves, with only a mobile number: by SMS.
    course_signups.sign_up(
        course, course_signups.SignUp(name="Dirk", phone="06 12345678", language="nl")
    )
    db.session.commit()

    set_clock(monkeypatch, at(2, 10, 30))
    send_messages(runner)
    send_messages(runner)
    set_clock(monkeypatch, at(9, 10, 30))  # the day before the second session
    send_messages(runner)

    first, second = reminder_mails(smtp_server)
    assert first["To"] == second["To"] == "ali@example.org"
    assert first["Subject"] == "Reminder: course Digisterker"
    assert "Bibliotheek Breukelen" in text(first) and "10:00" in text(first)
    days = [text(m).split("Date: ")[1].split("\n")[0] for m in (first, second)]
    assert days[0] != days[1]
    texts = sms_gateway.texts_to("0031612345678")
    assert len(texts) == 2
    assert texts[0].startswith("Herinnering: cursus Digisterker op ")
    assert "Bibliotheek Breukelen" in texts[0] and "10:00" in texts[0]
    assert len(reminder_rows()) == 4  # none for the participant with a landline


def test_the_call_list_shows_who_no_reminder_reaches_and_is_ticked_off(
    app, client, login, make_user, series, monkeypatch
):
    """Without an SMS provider, a resident with only a phone number is on the desk's list
    for the day before; ticking off the call takes them off and counts as the reminder."""
    staff = make_user(Role.STAFF, series.provider)
    set_clock(monkeypatch, at(-1, 12))  # booked yesterday, long before any reminder moment
    booking_service.book(series, at(1, 11), ResidentDetails(name="Bea Jansen", phone="06 12345678"))
    booking_service.book(
        series, at(1, 12), ResidentDetails(name="Eva Smit", email="eva@example.org")
    )
    booking_service.book(
        series, at(2, 11), ResidentDetails(name="Kees Bakker", phone="06 87654321")
    )
    db.session.commit()
    set_clock(monkeypatch, at(0, 9))
    login(staff)

    page = client.get("/portal/bookings/call-list").get_data(as_text=True)
    assert "Bea Jansen" in page and "06 12345678" in page
    assert "Eva Smit" not in page and "Kees Bakker" not in page  # e-mail; not tomorrow
    [bea] = db.session.scalars(sa.select(Booking).where(Booking.name == "Bea Jansen")).all()

    answer = client.post(f"/portal/bookings/{bea.id}/called", data={"version": bea.version})
    assert answer.status_code == 303
    page = client.get("/portal/bookings/call-list").get_data(as_text=True)
    assert "Genoteerd: Bea Jansen is gebeld." in page
    assert f"/portal/bookings/{bea.id}/called" not in page and "Niemand om te bellen." in page

    set_clock(monkeypatch, at(0, 12, 1))
    assert reminders.write_due() == 1  # Eva's e-mail; none for Bea: her call is the reminder
    call, mail = reminder_rows()
    assert call.booking_id == bea.id and call.channel is MessageChannel.CALL
    assert call.called_by_id == staff.id and call.status is OutboxStatus.SENT
    assert mail.channel is MessageChannel.MAIL and mail.recipient == "eva@example.org"


def test_a_reminder_that_did_not_arrive_puts_the_resident_on_the_call_list(
    app, client, login, make_user, series, sms_gateway, monkeypatch
):
    """The provider refuses the number for good: staff see it on tomorrow's call list."""
    staff = make_user(Role.STAFF, series.provider)
    booking_service.book(series, at(2, 15), ResidentDetails(name="Bea Jansen", phone="06 12345678"))
    db.session.commit()
    sms_gateway.answers["0031612345678"] = "reject"
    set_clock(monkeypatch, at(1, 15, 1))
    reminders.send_messages()
    [row] = reminder_rows()
    assert row.status is OutboxStatus.FAILED

    login(staff)
    page = client.get("/portal/bookings/call-list").get_data(as_text=True)
    assert "Bea Jansen" in page and "De herinnering is niet aangekomen." in page


def test_two_staff_ticking_off_the_same_call_at_once_note_it_once(app, make_user, series):
    staff = [make_user(Role.STAFF, series.provider) for _ in range(4)]
    booking, _token = booking_service.book(
        series, at(2, 11), ResidentDetails(name="Bea Jansen", phone="030 123 4567")
    )
    db.session.commit()
    barrier = threading.Barrier(4)
    noted: list[bool] = []
    errors: list[BaseException] = []

    def tick(user_id: int) -> None:
        with app.app_context():
            try:
                with writing():
                    barrier.wait()
                    user = db.session.get(User, user_id)
                    noted.append(reminders.record_call(db.session.get(Booking, booking.id), user))
                    db.session.commit()
            except BaseException as error:  # noqa: BLE001 (reported below)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tick, args=(user.id,)) for user in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(noted) == [False, False, False, True]
    assert len(reminder_rows()) == 1

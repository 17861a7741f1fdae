"""Delivery staff can see: an appointment's messages for the organisation that holds the
hours, the messages that failed per day for its admins, the figures per channel, and no text
or recipient kept past the booking's retention."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import MessageChannel, OutboxMessage, OutboxStatus, Role
from app.services import booking as booking_service
from app.services import courses, figures, mail, outbox, referrals, retention, sms
from app.services.booking import ResidentDetails
from tests.referral_helpers import write_warm


@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def hours(make_series):
    return make_series(
        weekdays="0,1,2,3,4,5,6",
        start_date=clock.today() - timedelta(days=7),
        start_time=time(10, 0),
        end_time=time(12, 0),
        min_notice_hours=0,
    )


def book(hours, days: int = 2, **details):
    booking, _token = booking_service.book(
        hours, _slot(hours, days), ResidentDetails(name="Anna de Wit", **details)
    )
    db.session.commit()
    return booking


def _slot(hours, days: int) -> datetime:
    day = clock.today() + timedelta(days=days)
    return datetime.combine(day, time(10, 0), ZoneInfo("Europe/Amsterdam")).astimezone(UTC)


def test_the_holding_organisation_sees_what_was_sent_and_how_it_went(
    en, login, make_user, make_org, hours, smtp_server, sms_gateway
):
    booking = book(hours, email="anna@example.org", phone="06 12345678")
    mail.queue(
        "anna@example.org", "Your appointment", "See you!", booking=booking, kind="confirmed"
    )
    sms_gateway.answers["0031612345678"] = "reject"
    sms.queue("06 12345678", "Reminder", booking=booking, kind="reminder")
    db.session.commit()
    assert outbox.send_all_due() == (1, 1)

    login(make_user(Role.STAFF, hours.provider))
    page = en.get(f"/portal/bookings/{booking.id}").get_data(as_text=True)
    assert "Messages to the resident" in page
    assert "Confirmation" in page and "E-mail" in page and ">Sent<" in page
    assert "Given up" in page and "is not a number" in page


def test_others_who_see_the_booking_do_not_see_its_messages(en, login, make_user, make_org, hours):
    """The library desk that booked into a partner's hours sees the booking, not the
    messages; a volunteer of the holding organisation neither."""
    librarian = make_user(Role.STAFF, make_org())
    booking, _token = booking_service.book(
        hours,
        _slot(hours, 2),
        ResidentDetails(name="Anna de Wit", email="a@example.org"),
        by=librarian,
    )
    mail.queue("a@example.org", "Your appointment", "See you!", booking=booking)
    db.session.commit()
    login(librarian)
    page = en.get(f"/portal/bookings/{booking.id}").get_data(as_text=True)
    assert "Anna de Wit" in page and "Messages to the resident" not in page


def test_an_admin_sees_the_messages_that_failed_per_day(
    en, login, make_user, hours, sms_gateway, monkeypatch
):
    booking = book(hours, phone="06 12345678")
    other = book(hours, days=3, phone="06 87654321")
    sms_gateway.answers["0031612345678"] = "reject"
    sms_gateway.answers["0031687654321"] = "down"
    sms.queue("06 12345678", "Reminder", booking=booking, kind="reminder")
    db.session.commit()
    outbox.send_all_due()
    tomorrow = clock.now() + timedelta(days=1)
    monkeypatch.setattr("app.clock.now", lambda: tomorrow)
    sms.queue("06 87654321", "Reminder", booking=other, kind="reminder")
    db.session.commit()
    outbox.send_all_due()

    login(make_user(Role.ORG_ADMIN, hours.provider))
    page = en.get("/portal/messages/failed").get_data(as_text=True)
    assert page.count('<h2 id="day-') == 2
    assert "Given up" in page and "Failed, will be tried again" in page
    assert f"/portal/bookings/{booking.id}" in page and f"/portal/bookings/{other.id}" in page
    assert page.index(f"/portal/bookings/{other.id}") < page.index(f"/portal/bookings/{booking.id}")


def test_only_admins_see_failed_messages_and_only_their_own(
    en, login, make_user, make_org, hours, sms_gateway
):
    booking = book(hours, phone="06 12345678")
    sms_gateway.answers["0031612345678"] = "reject"
    sms.queue("06 12345678", "Reminder", booking=booking, kind="reminder")
    db.session.commit()
    outbox.send_all_due()
    login(make_user(Role.STAFF, hours.provider))
    assert en.get("/portal/messages/failed").status_code == 403
    en.post("/auth/logout")
    login(make_user(Role.ORG_ADMIN, make_org()))
    page = en.get("/portal/messages/failed").get_data(as_text=True)
    assert "No messages failed." in page


def test_the_figures_count_messages_per_channel(app, hours, smtp_server, sms_gateway):
    booking = book(hours, email="a@example.org", phone="06 12345678")
    for n in range(3):
        mail.queue("a@example.org", "Your appointment", f"Text {n}", booking=booking)
    sms.queue("06 12345678", "Reminder", booking=booking, kind="reminder")
    sms_gateway.answers["0031687654321"] = "reject"
    sms.queue("06 87654321", "Reminder", booking=booking, kind="reminder")
    db.session.commit()
    outbox.send_all_due()
    period = figures.period_for("month", clock.today())
    rows = figures.messages(figures.Scope.of(hours.provider), period)
    assert [(r.channel, r.sent, r.retrying, r.given_up) for r in rows] == [
        (MessageChannel.MAIL, 3, 0, 0),
        (MessageChannel.SMS, 1, 0, 1),
    ]
    network = figures.messages(figures.Scope.of(None), period)
    assert sum(r.sent for r in network) == 4
    assert figures.messages(figures.Scope.of(hours.location), period)[0].sent == 3


def test_the_figures_download_counts_messages_per_channel(
    en, login, make_user, hours, smtp_server
):
    """The CSV has the same counts of messages as the page, and no recipient or text."""
    booking = book(hours, email="a@example.org")
    mail.queue("a@example.org", "Your appointment", "Text for Anna", booking=booking)
    db.session.commit()
    outbox.send_all_due()
    login(make_user(Role.ORG_ADMIN, hours.provider))
    today = clock.today().isoformat()
    response = en.get(
        f"/portal/figures/organisation/{hours.provider.id}/export.csv",
        query_string={"period": "range", "first": today, "last": today},
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Messages to residents;Sent;Failed, will be tried again;Given up" in text
    assert "E-mail;1;0;0" in text
    assert "a@example.org" not in text and "Anna" not in text


def test_retention_erases_text_and_recipient_with_the_booking(app, hours, monkeypatch):
    booking = book(hours, email="anna@example.org")
    mail.queue("anna@example.org", "Your appointment", "See you, Anna!", booking=booking)
    db.session.commit()
    later = clock.now() + timedelta(days=40)
    monkeypatch.setattr("app.clock.now", lambda: later)
    report = retention.run()
    assert report.bookings_erased == 1 and report.messages_erased == 1
    db.session.rollback()
    message = db.session.scalar(sa.select(OutboxMessage))
    assert (message.recipient, message.body) == ("", "")
    # Never sent by now, and never to be sent empty.
    assert message.status is OutboxStatus.FAILED


def test_a_participant_s_messages_are_erased_with_their_details(
    app, make_org, make_user, make_topic, make_location
):
    partner = make_org()
    staff = make_user(Role.STAFF, partner)
    course = courses.create_course(
        partner,
        courses.CourseData(
            title="Digisterker",
            location=make_location(organisation=partner),
            capacity=8,
            first_date=clock.today() + timedelta(days=3),
            start_time=time(10, 0),
            end_time=time(12, 0),
        ),
        staff,
    )
    db.session.commit()
    referral = write_warm(staff, partner, make_topic(), course=course, email="ali@example.org")
    mail.queue("ali@example.org", "Reminder", "See you, Ali!", enrolment=referral.enrolment)
    db.session.commit()
    referrals.erase_personal_data(referral, clock.now())
    db.session.commit()
    # Erased at once with the referral's details (kept as a row for the counts); the
    # nightly run finds nothing left to erase.
    assert db.session.scalar(sa.select(OutboxMessage.recipient)) == ""
    assert db.session.scalar(sa.select(OutboxMessage.body)) == ""
    assert retention.run().messages_erased == 0
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1

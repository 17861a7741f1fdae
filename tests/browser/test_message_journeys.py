"""Staff of the organisation that holds the hours see what was sent to a resident and how it
went (a real SMTP server and a local CM.com gateway), and tick off the residents they called
the day before. With and without JavaScript, with axe on every page."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app import clock
from app.extensions import db
from app.models import MessageChannel, OutboxMessage, Role, SeriesStatus
from app.services import booking as booking_service
from app.services import notify, outbox, reminders
from app.services.booking import ResidentDetails

pytestmark = pytest.mark.browser

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def hours(make_series, partner, library_location):
    return make_series(
        provider=partner,
        location=library_location,
        title="Help with money matters",
        weekdays="0,1,2,3,4,5,6",
        start_date=clock.today(),
        start_time=time(10, 0),
        end_time=time(12, 0),
        slot_minutes=30,
        min_notice_hours=0,
        status=SeriesStatus.PUBLISHED,
    )


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    day = clock.today() + timedelta(days=1)
    return datetime.combine(day, time(hour, minute), AMS).astimezone(UTC)


def test_staff_see_message_statuses_and_tick_off_the_call_list(
    pages, js, hours, partner_staff, log_in, check_accessible, smtp_server, sms_gateway
):
    # Anna booked with an e-mail address: her confirmation went out; an SMS reminder to her
    # mobile number found the provider down and waits for another try.
    anna, token = booking_service.book(
        hours, tomorrow_at(10), ResidentDetails(name="Anna de Wit", email="anna@example.org")
    )
    notify.booking_confirmed(anna, token)
    db.session.commit()
    assert outbox.send_all_due() == (1, 0)
    sms_gateway.answers["0031612345678"] = "down"
    notify.booking_reminder(anna, "test:anna", MessageChannel.SMS, "+31612345678")
    db.session.commit()
    assert outbox.send_all_due() == (0, 1)
    # Henk gave only a landline: no message reaches him, so staff call him.
    henk, _token = booking_service.book(
        hours, tomorrow_at(11), ResidentDetails(name="Henk Visser", phone="030 123 4567")
    )
    db.session.commit()

    page = pages.open(js=js)
    log_in(page, partner_staff)
    page.goto(f"/portal/bookings/{anna.id}")
    messages = page.get_by_role("region", name="Messages to the resident")
    rows = messages.get_by_role("row")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("Confirmation")
    expect(rows.nth(1)).to_contain_text("E-mail")
    expect(rows.nth(1)).to_contain_text("Sent")
    expect(rows.nth(2)).to_contain_text("Reminder")
    expect(rows.nth(2)).to_contain_text("SMS")
    expect(rows.nth(2)).to_contain_text("Failed, will be tried again")
    expect(rows.nth(2)).to_contain_text("CM.com answered 503")
    expect(rows.nth(2)).to_contain_text("Next try")
    check_accessible(page)

    page.goto("/portal/bookings")
    page.get_by_role("link", name="Call the day before").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Call the day before")
    expect(page.get_by_role("link", name="Henk Visser")).to_be_visible()
    expect(page.get_by_role("link", name="Anna de Wit")).to_have_count(0)
    expect(page.get_by_role("link", name="030 123 4567")).to_have_attribute(
        "href", "tel:0301234567"
    )
    check_accessible(page)

    henk_card = page.get_by_role("listitem").filter(has_text="Henk Visser")
    henk_card.get_by_role("button", name="Called").click()
    expect(page.get_by_text("Noted: Henk Visser has been called.")).to_be_visible()
    expect(page.get_by_text("Nobody to call.")).to_be_visible()
    check_accessible(page)

    # The call is on Henk's appointment, with who made it.
    db.session.rollback()
    call = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.booking_id == henk.id))
    assert call.channel is MessageChannel.CALL and call.called_by_id == partner_staff.id
    assert reminders.call_list(sa.select(type(henk)), tomorrow_at(0).astimezone(AMS).date()) == []
    page.goto(f"/portal/bookings/{henk.id}")
    row = page.get_by_role("region", name="Messages to the resident").get_by_role("row").nth(1)
    expect(row).to_contain_text("Phone call by staff")
    expect(row).to_contain_text("Fatima Partner")
    check_accessible(page)


def test_a_host_who_booked_at_the_desk_does_not_see_the_messages(
    pages, hours, library, make_account, log_in
):
    """The library desk booked into the partner's hours: it sees the booking it made, but
    what was sent is for the organisation that holds the hours."""
    librarian = make_account(Role.STAFF, library, "Lars Library")
    booking, _token = booking_service.book(
        hours, tomorrow_at(10), ResidentDetails(name="Anna de Wit"), by=librarian
    )
    db.session.commit()
    page = pages.open()
    log_in(page, librarian)
    page.goto(f"/portal/bookings/{booking.id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Appointment")
    expect(page.get_by_role("heading", name="Messages to the resident")).to_have_count(0)

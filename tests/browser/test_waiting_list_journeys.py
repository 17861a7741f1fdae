"""Journeys of the waiting list in a real browser, with and without JavaScript: a resident
joins the list of full hours on a 320 px wide phone and leaves it; a resident takes the
time offered to them from the link in the mail (a real SMTP server on loopback); staff of
the organisation that holds the hours see and manage the list. axe checks every page."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import BookingStatus, SeatOffer, WaitingEntry, WaitingStatus
from app.services import booking as booking_service
from app.services import mail
from tests.browser.conftest import NARROW
from tests.waiting_helpers import OFFER_LINK, full_series, join_many, later_bookings

TITLE = "Debt help"


@pytest.fixture
def full_hours(make_series, partner, library_location):
    """The partner's hours at the library, every time within the horizon booked."""
    return full_series(make_series, title=TITLE, provider=partner, location=library_location)


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_resident_joins_the_waiting_list_on_a_phone_and_leaves_it(
    pages, js, full_hours, check_page
):
    page = pages.open(js=js, viewport=NARROW)
    join_many(full_hours, 1)

    page.goto(f"/spreekuren/{full_hours.id}")
    expect(page.get_by_text("All times are taken at the moment.")).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="Put me on the waiting list").click()
    expect(heading(page)).to_have_text("Waiting list")
    check_page(page)

    # Without a phone number or e-mail address we could not tell them: the form says so.
    page.get_by_label("Your first name or initials").fill("Sara")
    page.get_by_role("button", name="Put me on the waiting list").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Please fill in a phone number or an e-mail address"
    )
    check_page(page)

    page.get_by_label("Phone number").fill("06 1234 5678")
    page.get_by_role("button", name="Put me on the waiting list").click()
    expect(heading(page)).to_have_text("You are on the waiting list")
    expect(page.get_by_text("Your place: 2")).to_be_visible()
    expect(page.get_by_text("We call you at 06 1234 5678.")).to_be_visible()
    expect(page.locator(".link-text")).to_contain_text("/wachtlijst/link/")
    check_page(page)

    page.get_by_role("button", name="Leave the waiting list").click()
    expect(page.get_by_text("You are no longer on the waiting list.")).to_be_visible()
    expect(heading(page)).to_have_text("You are not on the waiting list")
    check_page(page)
    db.session.rollback()
    entry = db.session.scalar(
        sa.select(WaitingEntry).where(WaitingEntry.status == WaitingStatus.LEFT)
    )
    assert (entry.name, entry.phone) == ("", "")


def test_resident_takes_the_offered_time_from_the_link_in_the_mail(
    pages, js, full_hours, check_page, smtp_server
):
    page = pages.open(js=js)
    join_many(full_hours, 1)
    booking_service.cancel(later_bookings(full_hours)[0], version=1)
    db.session.commit()

    assert mail.send_all_due() == (1, 0)
    (message,) = smtp_server.messages
    assert message["To"] == "wachter1@example.org"
    assert TITLE in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    link = OFFER_LINK.search(body).group(0)
    assert link.startswith(pages.base_url)

    page.goto(link)
    expect(heading(page)).to_have_text("A time is free for you")
    expect(page.get_by_text("We hold this time for you until")).to_be_visible()
    expect(page).to_have_url(f"{pages.base_url}/wachtlijst/aanbod")  # the token left it
    check_page(page)

    page.get_by_role("button", name="Take this time").click()
    expect(heading(page)).to_have_text("Your appointment is made")
    check_page(page)
    db.session.rollback()
    offer = db.session.scalar(sa.select(SeatOffer))
    assert offer.booking.status is BookingStatus.BOOKED
    assert offer.booking.name == "Wachter 1"


def test_staff_see_and_manage_the_waiting_list(
    pages, js, full_hours, partner_staff, log_in, check_page
):
    page = pages.open(js=js)
    join_many(full_hours, 3)
    booking_service.cancel(later_bookings(full_hours)[0], version=1)
    db.session.commit()

    log_in(page, partner_staff)
    page.goto(f"/portal/series/{full_hours.id}")
    page.get_by_role("link", name="Waiting list").click()
    expect(heading(page)).to_have_text("Waiting list")
    offered = page.get_by_role("region", name="Times offered now")
    expect(offered).to_contain_text("Wachter 1")
    waiting = page.get_by_role("region", name="Waiting", exact=True)
    expect(waiting).to_contain_text("Wachter 2")
    expect(waiting).to_contain_text("Wachter 3")
    check_page(page)

    page.get_by_role("button", name="Remove Wachter 1").click()
    expect(page.get_by_text("The resident is no longer on the waiting list.")).to_be_visible()
    expect(page.get_by_role("region", name="Times offered now")).to_contain_text("Wachter 2")
    expect(page.get_by_text("Wachter 1")).to_have_count(0)
    check_page(page)

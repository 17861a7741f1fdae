"""A library volunteer books a resident into a partner's hours at the desk and prints the
card; the partner's staff find the resident on the day list and mark that they came. With
and without JavaScript, on a desktop and on a 320 px wide screen, with axe on every page."""

import re
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from playwright.sync_api import Page, expect

from app import clock
from app.extensions import db
from app.models import BookedVia, Booking, BookingStatus, Role, SeriesStatus
from tests.browser.conftest import staff_menu

pytestmark = pytest.mark.browser

TITLE = "Help with money matters"
HOURS_OPTION = "Humanitas Stichtse Vecht – Help with money matters (Bibliotheek Maarssen)"


def tomorrow() -> date:
    return clock.today() + timedelta(days=1)


@pytest.fixture
def desk_hours(make_series, partner, library_location):
    """The partner's hours at the library, weekly on tomorrow's weekday. Residents must book
    two days ahead; the desk may book tomorrow all the same."""
    return make_series(
        provider=partner,
        location=library_location,
        title=TITLE,
        weekdays=str(tomorrow().weekday()),
        start_date=clock.today(),
        start_time=time(10, 0),
        end_time=time(12, 0),
        slot_minutes=30,
        min_notice_hours=48,
        status=SeriesStatus.PUBLISHED,
    )


@pytest.fixture
def volunteer(make_account, library):
    return make_account(Role.VOLUNTEER, library, "Vera Volunteer")


def mark_page(page: Page) -> None:
    """Leave a mark in the window that a full page load would wipe out."""
    page.evaluate("window.__samePage = true")


def expect_same_page(page: Page) -> None:
    assert page.evaluate("window.__samePage === true"), "expected an htmx swap, got a page load"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_volunteer_books_at_the_desk_and_partner_staff_mark_that_the_resident_came(
    pages,
    js,
    viewport,
    desk_hours,
    volunteer,
    partner_staff,
    log_in,
    check_page,
    day_text,
):
    """The desk's main flow: choose the hours, a free time, fill in only a name, print the
    card. The partner's staff then see the resident on that day's list and mark "Came"."""
    day = tomorrow()
    page = pages.open(js=js, viewport=viewport)
    log_in(page, volunteer)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]

    staff_menu(page).get_by_role("link", name="Desk").click()
    expect(heading(page)).to_have_text("Make an appointment for a resident")
    expect(page).to_have_url("/portal/desk")
    free_times = page.get_by_role("region", name="Free times")
    expect(free_times.get_by_role("link")).to_have_count(0)
    check_page(page)

    # Choosing the hours shows their free times: at once with htmx, or after "Show free times".
    if js:
        mark_page(page)
    page.get_by_label("Which hours?").select_option(label=HOURS_OPTION)
    if not js:
        page.get_by_role("button", name="Show free times").click()
    expect(free_times.get_by_role("heading", level=2)).to_have_text(
        f"{TITLE} · Bibliotheek Maarssen"
    )
    expect(page).to_have_url(f"/portal/desk?series={desk_hours.id}")
    if js:
        expect_same_page(page)
    slots = free_times.get_by_role("link")
    expect(slots).to_have_count(4 * 4)  # four times a week, four weeks ahead
    expect(slots.first).to_have_text(f"{day_text(day)} 10:00–10:30")
    check_page(page)

    # A time within the residents' notice: the desk may book it.
    free_times.get_by_role("link", name=f"{day_text(day)} 10:00–10:30", exact=True).click()
    expect(heading(page)).to_have_text("Make an appointment for a resident")
    expect(page.locator(".chosen-slot .big")).to_have_text(
        f"{day_text(day)} 10:00–10:30", use_inner_text=True
    )
    check_page(page)

    # Only the name is needed; forgetting it is explained, and the summary takes the focus.
    page.get_by_role("button", name="Make the appointment").click()
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading")).to_have_text("Please check the form")
    expect(summary).to_be_focused()
    name = page.get_by_label("First name or initials of the resident")
    expect(name).to_have_attribute("aria-invalid", "true")
    check_page(page)
    name.fill("Jan")
    page.get_by_role("button", name="Make the appointment").click()

    # The booking, with the code to tell the resident and the card to print.
    db.session.rollback()  # end the test's snapshot: see what the server wrote
    expect(page.get_by_role("status")).to_have_text(
        "The appointment is made. Print the card for the resident."
    )
    booking = db.session.scalars(sa.select(Booking)).one()
    code = booking.display_code
    assert booking.booked_via is BookedVia.DESK and booking.created_by_id == volunteer.id
    assert (booking.phone, booking.email) == ("", "")
    expect(heading(page)).to_have_text(f"Appointment {code}")
    expect(page).to_have_url(f"/portal/bookings/{booking.id}")
    expect(page.locator("dd.code")).to_have_text(code)
    facts = page.locator("dl.facts")
    expect(facts.locator("dt:text-is('Resident') + dd")).to_have_text("Jan")
    expect(facts.locator("dt:text-is('Phone number') + dd")).to_have_text("–")
    expect(facts.locator("dt:text-is('Email address') + dd")).to_have_text("–")
    check_page(page)

    # The card is in the resident's language (Dutch unless chosen otherwise).
    page.get_by_role("link", name="Print appointment card").click()
    expect(page).to_have_url(f"/portal/bookings/{booking.id}/card")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    card = page.get_by_role("article")
    expect(card.locator(".card-date")).to_have_text(format_date(day, "EEEE d MMMM y", locale="nl"))
    expect(card.locator(".card-time")).to_have_text("10:00–10:30")
    expect(card.locator(".card-code")).to_have_text(code)
    check_page(page)
    page.emulate_media(media="print")
    expect(page.locator(".no-print")).to_be_hidden()
    expect(card.locator(".card-code")).to_be_visible()
    page.emulate_media(media="screen")

    # The partner's staff open the day list of that day and mark that Jan came.
    partner_page = pages.open(js=js, viewport=viewport)
    log_in(partner_page, partner_staff)
    staff_menu(partner_page).get_by_role("link", name="Appointments").click()
    expect(heading(partner_page)).to_have_text(f"Appointments on {day_text(clock.today())}")
    check_page(partner_page)
    partner_page.get_by_role("navigation", name="Other days").get_by_role(
        "link", name="Next day"
    ).click()
    expect(heading(partner_page)).to_have_text(f"Appointments on {day_text(day)}")
    expect(partner_page).to_have_url(f"/portal/bookings?day={day.isoformat()}")
    hours_list = partner_page.get_by_role("region", name=f"{TITLE} · Bibliotheek Maarssen")
    row = hours_list.get_by_role("row").filter(has_text="Jan")
    expect(row.get_by_role("cell")).to_have_text(
        ["10:00", "Jan", "Came: Jan 10:00 Did not come: Jan 10:00", "Booked", "–", code]
    )
    check_page(partner_page)

    # The button names the resident and the time for screen readers (Chromium puts a space
    # before the hidden part of the name).
    came = row.get_by_role("button", name=re.compile(r"^Came ?: Jan 10:00$"))
    expect(came).to_have_attribute("aria-pressed", "false")
    # The buttons come right after the name: in view without scrolling the table sideways.
    box = came.bounding_box()
    assert box is not None and box["x"] + box["width"] <= viewport["width"]
    came.click()
    expect(row.get_by_role("cell").nth(3)).to_have_text("Came")
    expect(came).to_have_attribute("aria-pressed", "true")
    expect(row.get_by_role("button", name=re.compile(r"^Did not come"))).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(heading(partner_page)).to_have_text(f"Appointments on {day_text(day)}")
    expect(partner_page).to_have_url(f"/portal/bookings?day={day.isoformat()}")
    check_page(partner_page)
    db.session.rollback()  # end the test's snapshot: see what the server wrote
    assert db.session.get(Booking, booking.id).status is BookingStatus.ATTENDED

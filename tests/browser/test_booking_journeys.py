"""Residents book, print the card, add it to their calendar, move and cancel an appointment;
they find it again with the code; a BSN in the question is refused. With and without
JavaScript, on a desktop and on a 320 px wide screen, with axe checking every page shown."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app import clock
from app.extensions import db
from app.models import Booking, BookingStatus, SeriesStatus
from app.services import booking as booking_service
from app.services.booking import ResidentDetails
from tests.browser.conftest import tap

pytestmark = pytest.mark.browser

AMS = ZoneInfo("Europe/Amsterdam")
TITLE = "Help with tax returns"
ELSEWHERE = "Tax help in Breukelen"
BRING = "Your letters from the tax office"


def booking_day() -> date:
    """The weekday of the hours: two days ahead, well past the notice the hours ask."""
    return clock.today() + timedelta(days=2)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), AMS)


@pytest.fixture
def hours(make_series, make_location, make_topic, partner, library, library_location):
    """Tax help in Maarssen and in Breukelen on the same weekday, and DigiD help in Maarssen."""
    taxes = make_topic(slug="taxes", name_en="Taxes", name_nl="Belastingen")
    digid = make_topic(slug="digid", name_en="DigiD", name_nl="DigiD")
    breukelen = make_location(
        organisation=library,
        name="Bibliotheek Breukelen",
        street="Kerkbrink 1",
        postcode="3621 BR",
        city="Breukelen",
    )
    common = {
        "provider": partner,
        "weekdays": str(booking_day().weekday()),
        "start_date": clock.today(),
        "start_time": time(14, 0),
        "end_time": time(16, 0),
        "slot_minutes": 30,
        "status": SeriesStatus.PUBLISHED,
    }
    series = make_series(
        title=TITLE,
        location=library_location,
        topics=[taxes],
        what_to_bring=BRING,
        **common,
    )
    make_series(title=ELSEWHERE, location=breukelen, topics=[taxes], **common)
    make_series(title="DigiD help", location=library_location, topics=[digid], **common)
    return series


@pytest.fixture
def resident_page(pages, js, viewport) -> Page:
    """A resident's browser: English, with or without JavaScript, desktop or 320 px wide."""
    return pages.open(js=js, viewport=viewport)


def mark_page(page: Page) -> None:
    """Leave a mark in the window that a full page load would wipe out."""
    page.evaluate("window.__samePage = true")


def expect_same_page(page: Page) -> None:
    assert page.evaluate("window.__samePage === true"), "expected an htmx swap, got a page load"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def slot_link(page: Page, day_text, day: date, times: str):
    """A free time, named by its whole day, date and time."""
    return page.get_by_role("link", name=f"{day_text(day)} {times}", exact=True)


def when(page: Page):
    """The "When" of the appointment (its day and time are on lines of their own)."""
    return page.locator("dt:text-is('When') + dd")


def expect_when(page: Page, text: str) -> None:
    expect(when(page)).to_have_text(text, use_inner_text=True)


def only_booking() -> Booking:
    db.session.rollback()  # end the test's snapshot: see what the server wrote
    return db.session.scalars(sa.select(Booking)).one()


def test_resident_books_prints_moves_and_cancels(
    resident_page, js, hours, check_page, day_text, tmp_path
):
    """From the start page to a booked appointment, its card and calendar file, another
    time, and a cancellation: every page says where the resident is and what happened."""
    page = resident_page
    day = booking_day()

    # The start page asks what the resident needs help with.
    page.goto("/")
    expect(heading(page)).to_have_text("Help with government websites")
    check_page(page)
    topics = page.get_by_role("region", name="What do you need help with?")
    topics.get_by_role("link", name="Taxes", exact=True).click()

    # The help sessions on taxes, in both places; the DigiD help is not among them. The
    # heading names the topic; the filters are folded into one line that says the choice.
    expect(heading(page)).to_have_text("Help with Taxes")
    expect(page.locator("#filter-summary")).to_have_text("Taxes")
    expect(page).to_have_url("/spreekuren?onderwerp=taxes")
    count = page.get_by_role("status")
    results = page.get_by_role("region", name="Results")
    expect(count).to_have_text("8 help sessions found in the coming four weeks.")
    expect(results.get_by_role("link", name=TITLE)).to_have_count(4)
    expect(results.get_by_role("link", name=ELSEWHERE)).to_have_count(4)
    expect(results.get_by_role("link", name="DigiD help")).to_have_count(0)
    expect(page.get_by_label("What do you need help with?")).to_have_value("taxes")
    check_page(page)

    # Only Maarssen: the line opens the filters; with htmx the results follow the choice at
    # once; without, "Show".
    if js:
        mark_page(page)
    page.get_by_text("Change choice").click()
    page.get_by_label("Where?").select_option("Maarssen")
    if not js:
        page.get_by_role("button", name="Show").click()
    expect(count).to_have_text("4 help sessions found in the coming four weeks.")
    expect(results.get_by_role("link", name=ELSEWHERE)).to_have_count(0)
    expect(page).to_have_url("/spreekuren?onderwerp=taxes&plaats=Maarssen&organisatie=")
    expect(heading(page)).to_have_text("Help with Taxes in Maarssen")
    expect(page.locator("#filter-summary")).to_have_text("Taxes · Maarssen")
    if js:
        expect_same_page(page)
    first_day = results.get_by_role("region", name=day_text(day))
    expect(first_day.get_by_role("listitem")).to_contain_text(
        ["14:00–16:00 Help with tax returns Humanitas Stichtse Vecht"]
    )
    expect(first_day).to_contain_text("4 free appointment times")
    expect(first_day).to_contain_text("Choose a time")
    check_page(page)

    # The hours' own page: the free times first (saying day, date and time), then where and
    # what to bring. The whole card is the target: a tap on its action opens the page.
    tap(page, first_day.get_by_text("Choose a time"))
    expect(heading(page)).to_have_text(TITLE)
    expect(page.get_by_text(BRING)).to_be_visible()
    expect(page.get_by_text("Binnenweg 1")).to_be_visible()
    # By day: the day as a heading, then its times (each still named with the whole day).
    expect(page.get_by_role("heading", level=3, name=day_text(day))).to_be_visible()
    first_times = page.get_by_role("list").filter(has=slot_link(page, day_text, day, "14:00–14:30"))
    expect(first_times.get_by_role("link")).to_have_text(
        [
            f"{day_text(day)} {times}"
            for times in ("14:00–14:30", "14:30–15:00", "15:00–15:30", "15:30–16:00")
        ]
    )
    next_week = day + timedelta(weeks=1)
    expect(page.get_by_role("heading", level=3, name=day_text(next_week))).to_be_visible()
    expect(slot_link(page, day_text, next_week, "15:30–16:00")).to_be_visible()
    check_page(page)
    slot_link(page, day_text, day, "14:00–14:30").click()

    # The few details: first name, phone (not required), language.
    expect(heading(page)).to_have_text("Make an appointment")
    expect(page.locator(".chosen-slot .big")).to_have_text(
        f"{day_text(day)} 14:00–14:30", use_inner_text=True
    )
    check_page(page)
    page.get_by_label("Your first name or initials").fill("Fatima")
    page.get_by_label("Phone number (not required)").fill("06 12345678")
    page.get_by_label("Which language do you prefer?").select_option(label="English")
    page.get_by_role("button", name="Make the appointment").first.click()

    # A success panel: the code large and boxed, the card and the calendar first.
    expect(heading(page)).to_have_text("Your appointment is made")
    expect(page).to_have_url("/afspraak/mijn")
    booking = only_booking()
    code = booking.display_code
    assert booking.name == "Fatima" and booking.language == "en"
    expect(page.locator("dd.code")).to_have_text(code)
    expect(page.locator(".success-panel .code-box")).to_have_text(code)
    expect_when(page, f"{day_text(day)} 14:00–14:30")
    expect(page.get_by_text("/afspraak/link/")).to_have_count(0)
    check_page(page)

    # The card: big date, time and code; printed without the page's controls.
    page.get_by_role("link", name="Print appointment card").click()
    expect(heading(page)).to_have_text("Appointment card")
    expect(page).to_have_url("/afspraak/mijn/kaart")
    card = page.get_by_role("article")
    expect(card.locator(".card-date")).to_have_text(day_text(day))
    expect(card.locator(".card-time")).to_have_text("14:00–14:30")
    expect(card.locator(".card-code")).to_have_text(code)
    expect(card).to_contain_text(BRING)
    expect(
        card.get_by_role("img", name="QR code: scan it to open your appointment on your phone.")
    ).to_be_visible()
    for part, at_least in ((".card-date", 28), (".card-time", 32), (".card-code", 28)):
        size = card.locator(part).evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= at_least, f"{part} is {size}px, want at least {at_least}px"
    back = page.get_by_role("link", name="Back")
    print_button = page.get_by_role("button", name="Print")
    expect(back).to_be_visible()
    if js:
        expect(print_button).to_be_visible()
        expect(page.get_by_text("Use the print function of your browser.")).to_be_hidden()
        page.evaluate("window.print = () => { window.__printed = true }")
        print_button.click()
        assert page.evaluate("window.__printed === true")
    else:
        # Without JavaScript the button could not print: the browser's own print is named.
        expect(print_button).to_have_count(0)
        expect(page.get_by_text("Use the print function of your browser.")).to_be_visible()
    check_page(page)
    page.emulate_media(media="print")
    expect(back).to_be_hidden()
    expect(print_button).to_be_hidden()
    expect(page.get_by_text("Use the print function of your browser.")).to_be_hidden()
    expect(card.locator(".card-time")).to_be_visible()
    page.emulate_media(media="screen")
    back.click()

    # The calendar file holds the appointment's instant.
    expect(heading(page)).to_have_text("Your appointment")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Add to my calendar").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".ics")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    event = icalendar.Calendar.from_ical(saved.read_bytes()).events[0]
    assert event.decoded("dtstart").astimezone(UTC) == at(day, 14).astimezone(UTC)
    assert event.decoded("dtend").astimezone(UTC) == at(day, 14, 30).astimezone(UTC)
    expect(page).to_have_url("/afspraak/mijn")

    # Another time of the same hours.
    page.get_by_role("link", name="Choose another time").click()
    expect(heading(page)).to_have_text("Choose another time")
    expect(page.get_by_text("Your appointment now:")).to_contain_text(f"{day_text(day)}, 14:00")
    choices = page.get_by_role("group", name=f"Free times for {TITLE}")
    expect(choices.get_by_role("button", name=f"{day_text(day)} 14:00–14:30")).to_have_count(0)
    check_page(page)
    choices.get_by_role("button", name=f"{day_text(day)} 15:00–15:30", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Your appointment has a new time.")
    expect(page).to_have_url("/afspraak/mijn")
    expect_when(page, f"{day_text(day)} 15:00–15:30")
    expect(page.locator("dd.code")).to_have_text(code)
    check_page(page)

    # Cancel, after a question.
    page.get_by_role("link", name="Cancel appointment").click()
    expect(heading(page)).to_have_text("Do you want to cancel this appointment?")
    expect_when(page, f"{day_text(day)} 15:00–15:30")
    check_page(page)
    page.get_by_role("button", name="Yes, cancel the appointment").click()
    expect(heading(page)).to_have_text("This appointment is cancelled")
    expect(page.get_by_role("status")).to_have_text("Your appointment is cancelled.")
    expect(page).to_have_url("/afspraak/mijn")
    expect(page.get_by_role("link", name="Cancel appointment")).to_have_count(0)
    expect(page.get_by_role("link", name="Make a new appointment")).to_be_visible()
    check_page(page)
    assert only_booking().status is BookingStatus.CANCELLED


def test_resident_finds_the_appointment_with_code_and_phone(
    resident_page, js, hours, check_page, day_text
):
    """A wrong phone number is explained in the error summary, which takes the focus; the
    right one opens the appointment."""
    page = resident_page
    day = booking_day()
    booking, _token = booking_service.book(
        hours, at(day, 15), ResidentDetails(name="Fatima", phone="06 12345678", language="en")
    )
    db.session.commit()
    code = booking.display_code

    page.goto("/")
    page.get_by_role("link", name="I have an appointment").click()
    expect(heading(page)).to_have_text("My appointment")
    expect(page).to_have_url("/afspraak")
    check_page(page)

    page.get_by_label("Appointment code").fill(code.lower())
    page.get_by_label("Your phone number, or the name you gave").fill("06 87654321")
    if js:
        mark_page(page)
    page.get_by_role("button", name="Find my appointment").click()
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading")).to_have_text("Please check the form")
    expect(summary.get_by_role("link")).to_have_text(
        ["Appointment code: We cannot find an appointment with this code and phone number or name."]
    )
    expect(summary).to_be_focused()
    expect(page.get_by_label("Appointment code")).to_have_attribute("aria-invalid", "true")
    if js:
        expect_same_page(page)
    check_page(page)

    page.get_by_label("Your phone number, or the name you gave").fill("0612345678")
    page.get_by_role("button", name="Find my appointment").click()
    expect(heading(page)).to_have_text("Your appointment")
    expect(page).to_have_url("/afspraak/mijn")
    expect(page.locator("dd.code")).to_have_text(code)
    expect_when(page, f"{day_text(day)} 15:00–15:30")
    check_page(page)


def test_a_bsn_in_the_question_is_refused_and_nothing_is_booked(
    resident_page, js, hours, check_page, day_text
):
    """Nine digits in the question look like a BSN: the resident is told not to write it, the
    time stays free, and without the number the appointment is made."""
    page = resident_page
    day = booking_day()
    page.goto(f"/spreekuren/{hours.id}")
    slot_link(page, day_text, day, "14:30–15:00").click()
    expect(heading(page)).to_have_text("Make an appointment")
    page.get_by_label("Your first name or initials").fill("Fatima")
    question = page.get_by_label("What is your question? (not required)")
    question.fill("My BSN is 123 456 782. Can you help with my tax return?")
    if js:
        mark_page(page)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Make the appointment").first.click()
    assert answer.value.status == 422

    message = (
        "Please do not write your BSN (citizen service number) here. "
        "We do not need it. Remove the number and try again."
    )
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading")).to_have_text("Please check the form")
    expect(summary.get_by_role("link")).to_have_text(
        [f"What is your question? (not required): {message}"]
    )
    expect(summary).to_be_focused()
    expect(question).to_have_attribute("aria-invalid", "true")
    expect(question).to_have_accessible_description(
        f"In a few words. Do not write your BSN or passwords. {message}"
    )
    expect(heading(page)).to_have_text("Make an appointment")
    if js:
        expect_same_page(page)
    check_page(page)
    db.session.rollback()  # end the test's snapshot: see what the server wrote
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0

    summary.get_by_role("link").click()
    expect(question).to_be_focused()
    question.fill("Can you help with my tax return?")
    page.get_by_role("button", name="Make the appointment").first.click()
    expect(heading(page)).to_have_text("Your appointment is made")
    expect_when(page, f"{day_text(day)} 14:30–15:00")
    check_page(page)

"""Calendar feeds in the browser: staff make a secret feed link, subscribe to it and revoke
it; residents find the public calendars per place and per topic. With and without
JavaScript, on a desktop and on a 320 px wide screen, with axe checking every page shown."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa
from babel.dates import format_date
from playwright.sync_api import APIResponse, Page, expect

from app import clock
from app.extensions import db
from app.models import FeedBookings, FeedKind, SeriesStatus, Topic
from app.services import booking as booking_service
from app.services import feeds
from app.services.booking import ResidentDetails
from tests.browser.conftest import staff_menu

pytestmark = pytest.mark.browser

AMS = ZoneInfo("Europe/Amsterdam")
TITLE = "Help with money matters"
ELSEWHERE = "Money help in Breukelen"
FEED_NAME = "Maarssen branch"
LOCATION = "Bibliotheek Maarssen (Bibliotheek Stichtse Vecht)"
COUNTS = "The number of bookings per session (for example: 3 of 8)"
NARROW = {"width": 320, "height": 640}
REVOKED = "The link no longer works. Calendars that used it will stop updating."


def session_day() -> date:
    """The weekday of the hours: two days ahead, inside every feed's window."""
    return clock.today() + timedelta(days=2)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), AMS)


@pytest.fixture
def hours(make_series, make_location, library, partner, library_location, partner_staff):
    """The partner's hours in Maarssen (one time booked) and in Breukelen, on taxes."""
    taxes = db.session.scalar(sa.select(Topic).where(Topic.slug == "taxes"))
    breukelen = make_location(
        organisation=library,
        name="Bibliotheek Breukelen",
        street="Kerkbrink 1",
        postcode="3621 BR",
        city="Breukelen",
    )
    common = {
        "provider": partner,
        "topics": [taxes],
        "weekdays": str(session_day().weekday()),
        "start_date": clock.today(),
        "start_time": time(14, 0),
        "end_time": time(16, 0),
        "slot_minutes": 30,
        "status": SeriesStatus.PUBLISHED,
    }
    series = make_series(title=TITLE, location=library_location, **common)
    make_series(title=ELSEWHERE, location=breukelen, **common)
    booking_service.book(
        series, at(session_day(), 14), ResidentDetails(name="Fatima", language="en")
    )
    db.session.commit()
    return series


@pytest.fixture
def any_page(pages, js, viewport) -> Page:
    """A browser in English, with or without JavaScript, desktop or 320 px wide."""
    return pages.open(js=js, viewport=viewport)


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def calendar_of(response: APIResponse) -> icalendar.Calendar:
    """The calendar a calendar app would get from this answer."""
    assert response.status == 200, response.text()
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.body().startswith(b"BEGIN:VCALENDAR\r\n")
    return icalendar.Calendar.from_ical(response.body())


def event_on(calendar: icalendar.Calendar, day: date) -> icalendar.Event:
    """The (one) event that starts on this day, Amsterdam time."""
    [event] = [e for e in calendar.events if e.decoded("dtstart").astimezone(AMS).date() == day]
    return event


def link_name(text: str, card: str) -> re.Pattern:
    """A link's name: its visible text and, for screen readers, the card it belongs to (the
    hidden part is set apart, so the browser may put a space before its colon)."""
    return re.compile(rf"^{re.escape(text)} ?: {re.escape(card)}$")


def feed_row(page: Page, name: str):
    """The row of a feed in the list of the user's feeds."""
    table = page.get_by_role("table", name="Your calendar feeds")
    return table.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))


def test_staff_member_makes_a_location_feed_and_sees_its_address_once(
    any_page, js, live_server, hours, partner_staff, log_in, check_page
):
    """Staff choose a location feed with booking counts; the next page shows its https and
    webcal address with a copy button and how to subscribe in Outlook, Google Calendar and
    Apple Calendar. The address gives the calendar; after a reload it is shown no more."""
    page = any_page
    log_in(page, partner_staff)
    staff_menu(page).get_by_role("link", name="Calendar feeds").click()
    expect(heading(page)).to_have_text("Calendar feeds")
    expect(page.get_by_text("You have no calendar feeds yet.")).to_be_visible()
    check_page(page)

    # What should the calendar show?
    page.get_by_role("link", name="New calendar feed").click()
    expect(heading(page)).to_have_text("New calendar feed")
    expect(page.get_by_role("heading", level=2)).to_have_text(
        ["All hours at a location", "All hours of an organisation", "Hours I follow"]
    )
    check_page(page)
    page.get_by_role("link", name="All hours at a location").click()

    expect(heading(page)).to_have_text("New calendar feed: All hours at a location")
    check_page(page)
    page.get_by_label("Location", exact=True).select_option(label=LOCATION)
    page.get_by_label("Name of the calendar (optional)").fill(FEED_NAME)
    page.get_by_role("radio", name=COUNTS).check()
    page.get_by_role("button", name="Make the link").click()

    # The subscribe page: the address, once.
    expect(heading(page)).to_have_text(f"Calendar feed: {FEED_NAME}")
    expect(page.get_by_text("The calendar feed has been made.")).to_be_visible()
    address = page.get_by_role("region", name="The address of your calendar")
    expect(address.get_by_text("This address is shown only now.")).to_be_visible()
    https_field = address.get_by_role("textbox", name="Address (https)")
    webcal_field = address.get_by_role("textbox", name="Address (webcal)")
    # On the developer's own machine (loopback) the https address keeps http; anywhere
    # else it is https (tests/test_feeds.py checks that with a public address).
    expect(https_field).to_have_value(re.compile(rf"^{re.escape(live_server)}/feeds/[\w-]+\.ics$"))
    https_url = https_field.input_value()
    webcal_url = "webcal://" + https_url.split("://", 1)[1]
    expect(webcal_field).to_have_value(webcal_url)
    for field in (https_field, webcal_field):
        expect(field).to_have_attribute("readonly", "")
        expect(field).to_be_visible()
    expect(address.get_by_role("link", name="Open in my calendar app")).to_have_attribute(
        "href", webcal_url
    )
    token = https_url.rsplit("/", 1)[1].removesuffix(".ics")
    assert page.content().count(token) == 3  # two fields and the webcal link, nowhere else

    how = page.get_by_role("region", name="How to add it to your calendar")
    expect(how.get_by_role("heading", level=3)).to_have_text(
        ["Outlook", "Google Calendar", "Apple Calendar"]
    )
    expect(how).to_contain_text("choose Add calendar, then Subscribe from web")
    expect(how).to_contain_text("Next to Other calendars choose +, then From URL")
    expect(how).to_contain_text("Add Subscribed Calendar")

    copy = page.get_by_role("button", name="Copy Address (https)")
    if js:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        expect(copy).to_be_visible()
        expect(page.get_by_text("The address is copied.")).to_have_count(0)
        copy.click()
        # The feedback is shown beside the button that was pressed, and read out.
        copied = address.get_by_role("status").filter(has_text="The address is copied.")
        expect(copied).to_be_visible()
        expect(copied).to_have_attribute("id", "feed-https-copied")
        assert page.evaluate("navigator.clipboard.readText()") == https_url
        page.get_by_role("button", name="Copy Address (webcal)").click()
        expect(copied).to_have_attribute("id", "feed-webcal-copied")
        assert page.evaluate("navigator.clipboard.readText()") == webcal_url
    else:
        # Without JavaScript a copy button could not work: the address is selected by hand.
        expect(copy).to_be_hidden()
    check_page(page)

    # The address gives the calendar: the location's hours, with the number booked.
    calendar = calendar_of(page.request.get(https_url))
    assert str(calendar["X-WR-CALNAME"]) == FEED_NAME
    event = event_on(calendar, session_day())
    assert TITLE in str(event["SUMMARY"])
    assert event.decoded("dtstart") == at(session_day(), 14)
    assert "Booked: 1 of 4" in str(event["DESCRIPTION"])
    assert "Fatima" not in calendar.to_ical().decode()  # counts only, never names
    assert all(ELSEWHERE not in str(e["SUMMARY"]) for e in calendar.events)

    # Coming back to the page shows what the feed is, never the secret address again.
    page.reload()
    expect(heading(page)).to_have_text(f"Calendar feed: {FEED_NAME}")
    expect(page.get_by_role("textbox")).to_have_count(0)
    expect(page.get_by_text("For your safety the address is shown only once")).to_be_visible()
    expect(page.get_by_text("The calendar feed has been made.")).to_have_count(0)
    assert token not in page.content()
    check_page(page)


def test_feed_list_shows_last_use_and_revoking_stops_the_feed(
    any_page, hours, partner_staff, library_location, partner, log_in, check_page
):
    """The list shows when each feed was last used; revoking one (a POST form) says so,
    removes it from the list and its address answers 404; the other feed keeps working."""
    page = any_page
    _link, token = feeds.create_link(
        partner_staff,
        FeedKind.LOCATION,
        location=library_location,
        include_bookings=FeedBookings.COUNTS,
        name=FEED_NAME,
        language="en",
    )
    _other, other_token = feeds.create_link(
        partner_staff, FeedKind.ORGANISATION, organisation=partner, language="en"
    )
    db.session.commit()
    log_in(page, partner_staff)
    page.goto("/portal/feeds")
    expect(heading(page)).to_have_text("Calendar feeds")
    row = feed_row(page, FEED_NAME)
    other_row = feed_row(page, "Hours of Humanitas Stichtse Vecht")
    expect(row.get_by_role("cell")).to_have_text(
        [
            FEED_NAME,
            f"All hours at a location: {library_location.name}",
            COUNTS,
            format_date(clock.today(), "EEE d MMM y", locale="en"),
            "Not used yet",
            f"Revoke {FEED_NAME}",
        ]
    )
    expect(other_row.get_by_role("cell").nth(4)).to_have_text("Not used yet")
    check_page(page)

    # A calendar app reads the feed: the list shows when.
    address = f"/feeds/{token}.ics"
    assert TITLE in str(calendar_of(page.request.get(address)).events[0]["SUMMARY"])
    page.reload()
    used = clock.now().astimezone(AMS)
    expect(row.get_by_role("cell").nth(4)).to_have_text(
        re.compile(rf"^{format_date(used, 'EEE d MMM y', locale='en')}, \d\d:\d\d$")
    )
    expect(other_row.get_by_role("cell").nth(4)).to_have_text("Not used yet")
    check_page(page)

    # Revoking cannot be undone: the list leads to the feed's page, which says what follows.
    row.get_by_role("link", name=f"Revoke {FEED_NAME}").click()
    expect(heading(page)).to_have_text(f"Calendar feed: {FEED_NAME}")
    stop = page.get_by_role("region", name="Stop this feed")
    expect(stop).to_contain_text("This cannot be undone")
    check_page(page)
    assert page.request.get(address).status == 200  # nothing happened yet
    stop.get_by_role("button", name="Revoke this feed").click()
    expect(heading(page)).to_have_text("Calendar feeds")
    expect(page.get_by_role("status")).to_have_text(REVOKED)
    expect(row).to_have_count(0)
    expect(page.get_by_role("link", name=FEED_NAME)).to_have_count(0)
    expect(other_row).to_have_count(1)
    check_page(page)

    gone = page.request.get(address)
    assert gone.status == 404
    assert gone.headers["content-type"].startswith("text/plain")
    assert "BEGIN:VCALENDAR" not in gone.text()
    calendar_of(page.request.get(f"/feeds/{other_token}.ics"))


@pytest.mark.parametrize("start", ["footer", "hours list"])
def test_resident_finds_the_public_calendars_and_subscribes_to_a_place(
    any_page, start, live_server, hours, check_page
):
    """From the footer or the list of help sessions a resident reaches the public calendars:
    each place and topic with an "add to my calendar" (webcal) and an https address; the
    place's address gives a calendar with the hours held there, and nothing personal."""
    page = any_page
    if start == "footer":
        page.goto("/")
        expect(heading(page)).to_have_text("Help with government websites")
        check_page(page)
        page.get_by_role("contentinfo").get_by_role(
            "link", name="Help sessions in your calendar"
        ).click()
    else:
        page.goto("/spreekuren")
        expect(heading(page)).to_have_text("Help sessions")
        check_page(page)
        page.get_by_role("main").get_by_role(
            "link", name="Put the help sessions in the calendar on your phone or computer"
        ).click()

    expect(heading(page)).to_have_text("Help sessions in your calendar")
    expect(page).to_have_url("/agenda")
    expect(page.get_by_role("heading", level=3)).to_have_text(
        ["Breukelen", "Maarssen", "Taxes", "DigiD", "Outlook", "Google Calendar", "Apple Calendar"]
    )
    expect(page.get_by_text("nothing about you")).to_be_visible()
    address = f"{live_server.removeprefix('http://')}/agenda"
    for name, path in (
        ("Maarssen", "plaats/Maarssen.ics"),
        ("Breukelen", "plaats/Breukelen.ics"),
        ("Taxes", "onderwerp/taxes.ics"),
    ):
        add = page.get_by_role("link", name=link_name("Add to my calendar", name))
        expect(add).to_be_visible()
        expect(add).to_have_attribute("href", f"webcal://{address}/{path}?taal=en")
        https = page.get_by_role(
            "link", name=link_name("Address for Google Calendar or Outlook", name)
        )
        expect(https).to_be_visible()
        expect(https).to_have_attribute("href", f"http://{address}/{path}?taal=en")
    check_page(page)

    maarssen = page.get_by_role(
        "link", name=link_name("Address for Google Calendar or Outlook", "Maarssen")
    )
    calendar = calendar_of(page.request.get(maarssen.get_attribute("href")))
    assert str(calendar["X-WR-CALNAME"]) == "Help sessions in Maarssen"
    event = event_on(calendar, session_day())
    assert TITLE in str(event["SUMMARY"])
    assert "Bibliotheek Maarssen" in str(event["LOCATION"])
    assert event.decoded("dtstart").astimezone(UTC) == at(session_day(), 14).astimezone(UTC)
    assert event.decoded("dtend").astimezone(UTC) == at(session_day(), 16).astimezone(UTC)
    assert all(ELSEWHERE not in str(e["SUMMARY"]) for e in calendar.events)
    assert "Fatima" not in calendar.to_ical().decode()


def test_dutch_resident_reads_the_calendar_links_in_dutch(pages, js, hours, check_page):
    """In Dutch, on a 320 px screen, the links say in plain words what the page is for, and
    the public calendars are Dutch (their addresses ask for no other language)."""
    page = pages.open(js=js, locale="nl-NL", viewport=NARROW)
    page.goto("/spreekuren")
    expect(heading(page)).to_have_text("Spreekuren")
    expect(
        page.get_by_role("contentinfo").get_by_role("link", name="Spreekuren in uw agenda")
    ).to_be_visible()
    check_page(page)
    page.get_by_role(
        "link", name="Zet de spreekuren in de agenda op uw telefoon of computer"
    ).click()

    expect(heading(page)).to_have_text("Spreekuren in uw agenda")
    add = page.get_by_role("link", name=link_name("In mijn agenda zetten", "Maarssen"))
    expect(add).to_have_attribute("href", re.compile(r"^webcal://.*/agenda/plaats/Maarssen\.ics$"))
    check_page(page)
    calendar = calendar_of(
        page.request.get("http" + add.get_attribute("href").removeprefix("webcal"))
    )
    assert str(calendar["X-WR-CALNAME"]) == "Spreekuren in Maarssen"

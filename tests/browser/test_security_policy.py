"""The pages keep their own Content-Security-Policy: a resident's booking and a staff member's
feed and day list run with JavaScript without the browser blocking anything, every answer
carries the security headers, and a boosted page change still puts the focus on the content.
(Every browser journey fails on a blocked script or style: see ``check_policy_kept``.)"""

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, Response, expect

from app import clock
from app.extensions import db
from app.models import SeriesStatus, Topic

pytestmark = pytest.mark.browser

TITLE = "Help with tax returns"
LOCATION = "Bibliotheek Maarssen (Bibliotheek Stichtse Vecht)"


def session_day() -> date:
    """The weekday of the hours: two days ahead, well past the notice residents must give."""
    return clock.today() + timedelta(days=2)


@pytest.fixture
def hours(make_series, partner, library_location, partner_staff):
    """The partner's hours on taxes at the library (partner_staff made the topics)."""
    return make_series(
        title=TITLE,
        provider=partner,
        location=library_location,
        topics=[db.session.scalar(sa.select(Topic).where(Topic.slug == "taxes"))],
        weekdays=str(session_day().weekday()),
        start_date=clock.today(),
        start_time=time(14, 0),
        end_time=time(16, 0),
        slot_minutes=30,
        status=SeriesStatus.PUBLISHED,
    )


@pytest.fixture
def js_page(pages) -> Page:
    return pages.open(js=True)


def record_answers(page: Page, base_url: str) -> list[Response]:
    """Every answer of the app to this page: documents, htmx requests, scripts, styles."""
    answers: list[Response] = []
    page.on("response", lambda r: answers.append(r) if r.url.startswith(base_url) else None)
    return answers


def check_headers(answers: list[Response], *, logged_in: bool = False) -> None:
    assert answers
    for answer in answers:
        headers = answer.headers
        policy = headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "unsafe" not in policy, answer.url
        assert "frame-ancestors 'none'" in policy, answer.url
        assert headers.get("x-content-type-options") == "nosniff", answer.url
        assert headers.get("x-frame-options") == "DENY", answer.url
        kind = answer.request.resource_type
        if logged_in and kind in ("document", "xhr", "fetch"):
            assert headers.get("cache-control") == "no-store", answer.url


def mark_page(page: Page) -> None:
    """Leave a mark in the window that a full page load would wipe out."""
    page.evaluate("window.__samePage = true")


def expect_boosted_to_main(page: Page) -> None:
    """An htmx swap (no page load), after which the focus starts on the new content."""
    assert page.evaluate("window.__samePage === true"), "expected an htmx swap, got a page load"
    expect(page.locator("#main")).to_be_focused()


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def stub_print(page: Page) -> None:
    page.evaluate("window.print = () => { window.__printed = true }")


def test_the_policy_blocks_inline_styles_and_handlers_and_the_journeys_would_see_it(pages, js_page):
    """An inline style and an inline event handler put into a page are refused and reported:
    journeys without reports ran under the policy, not without one."""
    page = js_page
    page.goto("/")
    expect(heading(page)).to_have_text("Help with government websites")

    def reported(message) -> bool:
        return "Content Security Policy" in message.text

    with page.expect_console_message(reported):
        page.evaluate("document.querySelector('h1').setAttribute('style', 'color: red')")
    with page.expect_console_message(reported):
        page.evaluate(
            "document.querySelector('main').insertAdjacentHTML('beforeend', "
            "'<button id=inline onclick=\"window.__ran = true\">x</button>')"
        )
        page.locator("#inline").click()
    assert page.evaluate("window.__ran === undefined")
    assert len(pages.policy_reports) == 2
    pages.policy_reports.clear()  # the blocks above were the point of this test


def test_resident_books_under_the_policy_and_focus_follows_boosted_pages(
    js_page, live_server, hours, check_accessible, day_text
):
    """Start page, topic, hours, booking, appointment and card: nothing is blocked, every
    answer carries the headers, each boosted page change focuses the content, and the card's
    Print button (no inline handler) still prints."""
    page = js_page
    answers = record_answers(page, live_server)
    page.goto("/")
    check_accessible(page)

    mark_page(page)
    page.get_by_role("link", name="Taxes", exact=True).click()
    expect(heading(page)).to_have_text("Help with Taxes")
    expect_boosted_to_main(page)
    check_accessible(page)

    page.get_by_role("region", name="Results").get_by_role("link", name=TITLE).first.click()
    expect(heading(page)).to_have_text(TITLE)
    expect_boosted_to_main(page)
    slot = f"{day_text(session_day())} 14:00–14:30"
    page.get_by_role("link", name=slot, exact=True).click()
    expect(heading(page)).to_have_text("Make an appointment")
    expect_boosted_to_main(page)
    check_accessible(page)

    page.get_by_label("Your first name or initials").fill("Fatima")
    page.get_by_role("button", name="Make the appointment").first.click()
    expect(heading(page)).to_have_text("Your appointment is made")
    expect(page).to_have_url("/afspraak/mijn")
    check_accessible(page)

    page.get_by_role("link", name="Print appointment card").click()
    expect(heading(page)).to_have_text("Appointment card")
    stub_print(page)
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.__printed === true")
    check_accessible(page)
    check_headers(answers)


def test_staff_copy_a_feed_address_and_print_the_day_list_under_the_policy(
    js_page, live_server, hours, partner_staff, log_in, check_accessible
):
    """The feed page's Copy button and the day list's Print button work from the site's own
    script; every answer to the logged-in user is marked no-store."""
    page = js_page
    log_in(page, partner_staff)
    answers = record_answers(page, live_server)
    menu = page.get_by_role("navigation", name="Staff menu")

    menu.get_by_role("link", name="Calendar feeds").click()
    expect(heading(page)).to_have_text("Calendar feeds")
    mark_page(page)
    page.get_by_role("link", name="New calendar feed").click()
    expect(heading(page)).to_have_text("New calendar feed")
    expect_boosted_to_main(page)
    page.get_by_role("link", name="All hours at a location").click()
    page.get_by_label("Location", exact=True).select_option(label=LOCATION)
    page.get_by_role("button", name="Make the link").click()
    expect(heading(page)).to_have_text("Calendar feed: Hours at Bibliotheek Maarssen")

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy Address (https)").click()
    expect(page.get_by_role("status").filter(has_text="The address is copied.")).to_be_visible()
    address = page.get_by_role("textbox", name="Address (https)").input_value()
    assert page.evaluate("navigator.clipboard.readText()") == address
    check_accessible(page)

    menu.get_by_role("link", name="Appointments").click()
    expect(heading(page)).to_contain_text("Appointments on")
    stub_print(page)
    page.get_by_role("button", name="Print this list").click()
    assert page.evaluate("window.__printed === true")
    check_accessible(page)
    check_headers(answers, logged_in=True)

"""Partner staff create consultation hours at a library, with and without JavaScript."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from app import clock

pytestmark = pytest.mark.browser

TITLE = "Help with money matters"
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def first_day() -> date:
    """A date three days ahead: its weekday is the series' day, within the public two weeks."""
    return clock.today() + timedelta(days=3)


def fill_series_form(page: Page, *, start: str = "14:00", end: str = "16:00") -> None:
    day = first_day()
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Location", exact=True).select_option(
        label="Bibliotheek Maarssen (Bibliotheek Stichtse Vecht)"
    )
    page.get_by_role("checkbox", name="Taxes", exact=True).check()
    page.get_by_role("radio", name="By appointment", exact=True).check()
    page.get_by_role("radio", name="Every week or every few weeks").check()
    page.get_by_role("checkbox", name=WEEKDAYS[day.weekday()], exact=True).check()
    page.get_by_label("First date", exact=True).fill(clock.today().isoformat())
    page.get_by_label("Last date (optional)", exact=True).fill(
        (day + timedelta(weeks=8)).isoformat()
    )
    page.get_by_label("Start time", exact=True).fill(start)
    page.get_by_label("End time", exact=True).fill(end)
    page.get_by_label("Length of one appointment (minutes)", exact=True).fill("30")


def open_new_series_form(page: Page, js: bool, check_accessible) -> None:
    page.get_by_role("link", name="New consultation hours").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New consultation hours")
    if js:
        # htmx swapped the page in (boosted link): the focus starts on the new content.
        expect(page.locator("main")).to_be_focused()
    check_accessible(page)


def mark_page(page: Page) -> None:
    """Leave a mark in the window that a full page load would wipe out."""
    page.evaluate("window.__samePage = true")


def expect_same_page(page: Page) -> None:
    assert page.evaluate("window.__samePage === true"), "expected an htmx swap, got a page load"


def test_staff_member_creates_previews_saves_and_publishes_hours(
    page, js, partner_staff, log_in, check_accessible, day_text
):
    """Staff fill in new hours, see the first dates, save a draft and publish it; residents
    then find the hours on the public home page."""
    log_in(page, partner_staff)
    open_new_series_form(page, js, check_accessible)
    posts = []
    page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)
    if js:
        # Count the "refresh" events that would ask the server for dates (they do not
        # bubble: listen on the way down).
        page.evaluate(
            "window.refreshes = 0;"
            "document.addEventListener('refresh', () => window.refreshes++, true)"
        )
    fill_series_form(page)
    if js:
        # Filling in the form asks nothing of the server until the dates are wanted: the
        # change events have run by now, and none asked for a refresh or sent a form.
        assert page.evaluate("window.refreshes") == 0
        assert posts == []

    preview = page.get_by_role("region", name="The first dates")
    if js:
        mark_page(page)
    page.get_by_role("button", name="Show dates").click()
    dates = preview.get_by_role("listitem")
    expect(dates.first).to_have_text(f"{day_text(first_day())}, 14:00–16:00")
    expect(dates.nth(1)).to_have_text(f"{day_text(first_day() + timedelta(weeks=1))}, 14:00–16:00")
    if js:
        expect_same_page(page)
        # Once shown, the dates follow the form.
        page.get_by_label("End time", exact=True).fill("16:30")
        page.get_by_label("End time", exact=True).blur()
        expect(dates.first).to_have_text(f"{day_text(first_day())}, 14:00–16:30")
        page.get_by_label("End time", exact=True).fill("16:00")
        page.get_by_label("End time", exact=True).blur()
        expect(dates.first).to_have_text(f"{day_text(first_day())}, 14:00–16:00")
        expect_same_page(page)
    else:
        # Without htmx the whole form came back, still filled in.
        expect(page.get_by_label("Title", exact=True)).to_have_value(TITLE)
    check_accessible(page)

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_role("status")).to_have_text("The hours have been saved.")
    expect(page.get_by_text("Draft", exact=True)).to_be_visible()
    check_accessible(page)

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_have_text(
        "The hours are published. Residents can see them now."
    )
    expect(page.get_by_text("Published", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)
    check_accessible(page)

    page.get_by_role("link", name="Spreekuur").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Help with government websites")
    day = page.get_by_role("region", name=day_text(first_day()))
    session = day.get_by_role("listitem")
    expect(session).to_contain_text("14:00–16:00")
    expect(session.get_by_role("link", name=TITLE)).to_be_visible()
    expect(session).to_contain_text("Humanitas Stichtse Vecht")
    expect(session).to_contain_text("Bibliotheek Maarssen, Maarssen")
    expect(session).to_contain_text("4 free appointment times")
    check_accessible(page)


def test_end_time_before_start_time_is_explained_and_nothing_is_saved(
    page, js, partner_staff, log_in, check_accessible
):
    """An end time before the start time shows the error summary and the message at the
    field (status 422: swapped in place with htmx, a full page without), and saves nothing."""
    log_in(page, partner_staff)
    open_new_series_form(page, js, check_accessible)
    fill_series_form(page, start="14:00", end="13:00")
    if js:
        mark_page(page)

    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Save").click()
    assert answer.value.status == 422
    expect(page.get_by_role("heading", level=1)).to_have_text("New consultation hours")

    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading")).to_have_text("Please check the form")
    expect(summary.get_by_role("link")).to_have_text(
        ["End time: The end time must be after the start time."]
    )
    end_time = page.get_by_label("End time", exact=True)
    expect(end_time).to_have_attribute("aria-invalid", "true")
    expect(end_time).to_have_accessible_description("The end time must be after the start time.")
    expect(page.get_by_label("Title", exact=True)).to_have_value(TITLE)
    # The summary takes the focus: by autofocus on a page load, by htmx after a swap.
    expect(summary).to_be_focused()
    if js:
        expect_same_page(page)
    check_accessible(page)

    summary.get_by_role("link").click()
    expect(end_time).to_be_focused()

    page.get_by_role("navigation", name="Staff menu").get_by_role("link", name="Overview").click()
    expect(page.get_by_text("Your organisation has no consultation hours yet.")).to_be_visible()
    check_accessible(page)

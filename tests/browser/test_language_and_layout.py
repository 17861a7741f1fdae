"""Language choice, narrow screens, and the accessibility check itself."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app import clock
from app.models import SeriesStatus

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}


def test_dutch_browser_gets_dutch_and_english_choice_is_remembered(pages, js, check_accessible):
    """A Dutch browser gets lang="nl"; pressing "English" shows the page in English, and the
    next page stays English (the choice is kept in a cookie)."""
    page = pages.open(js=js, locale="nl-NL")
    html = page.locator("html")
    page.goto("/")
    expect(html).to_have_attribute("lang", "nl")
    expect(page.get_by_role("button", name="Nederlands")).to_have_attribute("aria-current", "true")
    check_accessible(page)

    page.get_by_role("button", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Help with government websites")
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-current", "true")
    check_accessible(page)

    page.get_by_role("link", name="Staff login").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff login")
    expect(html).to_have_attribute("lang", "en")
    check_accessible(page)


@pytest.fixture
def published_series(make_series, partner, library_location):
    today = clock.today()
    return make_series(
        provider=partner,
        location=library_location,
        title="Help with money matters, letters and forms of the municipality",
        weekdays=str((today + timedelta(days=1)).weekday()),
        start_date=today,
        status=SeriesStatus.PUBLISHED,
    )


def page_width(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def test_public_pages_fit_a_320_pixel_screen(pages, js, published_series, check_accessible):
    """The home page (with hours on it) and the login page need no sideways scrolling at
    320 CSS pixels (WCAG 1.4.10 Reflow)."""
    page = pages.open(js=js, viewport=NARROW)
    page.goto("/")
    expect(page.get_by_text(published_series.title).first).to_be_visible()
    assert page_width(page) <= 320
    check_accessible(page)

    page.goto("/auth/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff login")
    assert page_width(page) <= 320
    check_accessible(page)


def test_staff_table_reflows_at_320_pixels_and_the_menu_folds(
    pages, js, published_series, partner_staff, log_in
):
    """At 320 pixels the staff menu is one line "Menu" that opens the links (also without
    JavaScript) and marks the current page; the series table reflows: each row a block
    within the screen, each cell named by its column, nothing to scroll sideways."""
    page = pages.open(js=js, viewport=NARROW)
    log_in(page, partner_staff)  # checks the login page and the overview with axe
    assert page_width(page) <= 320

    menu = page.get_by_role("navigation", name="Staff menu")
    menu_box = menu.bounding_box()
    assert menu_box is not None and menu_box["height"] <= 60
    overview = menu.get_by_role("link", name="Overview")
    expect(overview).to_be_hidden()
    menu.get_by_text("Menu", exact=True).click()
    expect(overview).to_be_visible()
    expect(overview).to_have_attribute("aria-current", "page")
    expect(menu.get_by_role("link", name="Locations")).not_to_have_attribute("aria-current", "page")

    region = page.get_by_role("region", name="Hours held by Humanitas Stichtse Vecht")
    assert region.evaluate("element => element.scrollWidth <= element.clientWidth")
    status = region.get_by_text("Published")
    box = status.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 320
    label = region.locator("td[data-label]").last.evaluate(
        "cell => getComputedStyle(cell, '::before').content"
    )
    assert label == '"Status: "'


def test_accessibility_check_fails_on_a_violation(pages, js, check_accessible):
    """The axe check reports a violation, with or without JavaScript: a clean result on the
    journeys means the pages are clean, not that the check did not run."""
    page = pages.open(js=js)
    page.goto("/auth/login")
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend', "
        "'<img src=\"/static/css/app.css\">')"
    )
    with pytest.raises(pytest.fail.Exception, match="image-alt"):
        check_accessible(page)

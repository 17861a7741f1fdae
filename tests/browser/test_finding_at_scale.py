"""Finding help on a large network, in a real browser with and without JavaScript, on a
320 px phone: the hours list goes on page by page after its last session, and the start page
asks where first (typed, with suggestions as you type, or chosen by letter) and then shows
the coming days there. axe checks every page shown."""

import re
from datetime import time, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app import clock
from app.extensions import db
from app.models import ConsultationHours
from app.services.schedule import occurrences
from tests.browser.conftest import NARROW

pytestmark = pytest.mark.browser

EVERY_DAY = "0,1,2,3,4,5,6"


@pytest.fixture
def network(app, make_series, make_location, library, partner, make_topic):
    """Three towns, one of them with three sessions every day; a start page that asks where
    first from two towns on."""
    app.config["PLACES_AS_BUTTONS"] = 2
    app.config["LIST_PAGE_SIZE"] = 25
    money = make_topic(slug="geldzaken", name_en="Money matters", name_nl="Geldzaken")
    towns = {
        city: make_location(organisation=library, name=f"Bibliotheek {city}", city=city)
        for city in ("Maarssen", "Maarn", "Breukelen")
    }
    # Every evening: three in Maarssen (on money matters), one in each other town.
    for title, city, minute, topics in (
        ("Geldhulp 1", "Maarssen", 0, [money]),
        ("Geldhulp 2", "Maarssen", 15, [money]),
        ("Geldhulp 3", "Maarssen", 30, [money]),
        ("Spreekuur Breukelen", "Breukelen", 0, [money]),
        ("Spreekuur Maarn", "Maarn", 0, []),
    ):
        make_series(
            title=title,
            provider=partner,
            location=towns[city],
            weekdays=EVERY_DAY,
            start_date=clock.today(),
            start_time=time(20, minute),
            end_time=time(21, minute),
            topics=topics,
        )
    return towns


def _cards(page: Page):
    return page.locator("#results .occurrence .occ-link")


def _shown(page: Page) -> list[tuple[str, str]]:
    """(day, title) of every card on the page, in order."""
    found = []
    for day in page.locator("#results section.day").all():
        heading = day.locator("h3").inner_text()
        found += [(heading, title) for title in day.locator(".occ-link").all_inner_texts()]
    return found


def _expected_in(town) -> int:
    """Sessions in the town in the coming four weeks that have not ended, by the schedule."""
    today, now = clock.today(), clock.now()
    there = db.session.scalars(
        sa.select(ConsultationHours).where(ConsultationHours.location_id == town.id)
    ).all()
    held = occurrences(there, today, today + timedelta(weeks=4) - timedelta(days=1))
    return sum(1 for o in held if o.end > now)


def test_the_list_goes_on_page_by_page(pages, js, network, check_accessible):
    page = pages.open(js=js, viewport=NARROW)
    page.goto("/spreekuren?plaats=Maarssen")
    expect(page.get_by_role("heading", level=1)).to_have_text("Help in Maarssen")
    expect(page.locator("#result-count")).to_have_text(
        "25 help sessions shown. Later sessions are on the next page."
    )
    expect(_cards(page)).to_have_count(25)
    first = _shown(page)
    check_accessible(page)

    # Later, page by page, each from where the one before stopped: together every session
    # of the four weeks once, in order.
    seen = list(first)
    while page.get_by_role("link", name="Later help sessions").count():
        before = seen[-1]
        later = page.get_by_role("link", name="Later help sessions")
        href = later.get_attribute("href")
        assert "plaats=Maarssen" in href and "na=" in href
        later.click()
        expect(page).to_have_url(re.compile(re.escape(href) + "$"))
        expect(page.locator("#results .occ-link").first).to_be_visible()
        shown = _shown(page)
        assert shown and shown[0] != before
        seen += shown
        assert len(seen) < 200
    expect(page.locator("#result-count")).to_contain_text("the last in the coming four weeks")
    assert len(seen) == _expected_in(network["Maarssen"])
    assert len(set(seen)) == len(seen) > 50  # at least three pages, none twice
    check_accessible(page)

    page.get_by_role("link", name="Back to the first help sessions").click()
    expect(page).to_have_url(re.compile(r"/spreekuren\?plaats=Maarssen$"))
    expect(_cards(page)).to_have_count(25)
    assert _shown(page) == first
    no_sideways = page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    assert no_sideways


def test_the_start_page_asks_where_first(pages, js, network, check_accessible):
    page = pages.open(js=js, viewport=NARROW)
    page.goto("/")
    expect(page.get_by_role("heading", name="Where do you want help?")).to_be_visible()
    expect(page.get_by_role("heading", name="Help in the coming days")).to_have_count(0)
    check_accessible(page)

    town = page.get_by_label("Your town")
    if js:
        # Suggestions appear while typing; choosing one shows the coming days there.
        town.press_sequentially("maar")
        suggestions = page.locator("#place-suggestions")
        expect(suggestions.get_by_role("link", name="Maarssen")).to_be_visible()
        expect(suggestions.get_by_role("link", name="Maarn")).to_be_visible()
        expect(suggestions.get_by_role("link", name="Breukelen")).to_have_count(0)
        check_accessible(page)
        suggestions.get_by_role("link", name="Maarssen").click()
    else:
        # Sent as typed: the places it may mean, as buttons.
        town.fill("maar")
        page.get_by_role("button", name="Show help there").click()
        expect(page.get_by_text("Which place do you mean?")).to_be_visible()
        check_accessible(page)
        page.get_by_role("link", name="Maarssen").click()

    expect(page.get_by_role("heading", name="Help in the coming days in Maarssen")).to_be_visible()
    soon = page.locator(
        "section", has=page.get_by_role("heading", name="Help in the coming days in Maarssen")
    )
    expect(soon.get_by_text("Geldhulp 1").first).to_be_visible()
    expect(soon.get_by_text("Spreekuur Breukelen")).to_have_count(0)
    expect(page.get_by_label("Your town")).to_have_value("Maarssen")
    check_accessible(page)

    # A topic keeps the place.
    page.get_by_role("link", name="Money matters").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Help with Money matters in Maarssen")

    # A name nobody knows: said plainly, and the list of towns is one tap away.
    page.goto("/")
    page.get_by_label("Your town").fill("Atlantis")
    page.get_by_label("Your town").press("Enter")
    expect(
        page.get_by_text("We do not know a town called “Atlantis” with help sessions.")
    ).to_be_visible()
    check_accessible(page)


def test_choosing_a_town_from_the_list(pages, js, network, check_accessible):
    page = pages.open(js=js, viewport=NARROW)
    page.goto("/")
    page.get_by_role("link", name="Choose your town from a list").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your town")
    letters = page.get_by_role("navigation", name="First letter")
    expect(letters.get_by_role("link", name="B")).to_have_attribute("aria-current", "page")
    check_accessible(page)
    letters.get_by_role("link", name="M").click()
    expect(page.get_by_role("heading", name="Towns starting with M")).to_be_visible()
    expect(page.get_by_role("link", name="Breukelen")).to_have_count(0)
    check_accessible(page)
    page.get_by_role("link", name="Maarn").click()
    expect(page.get_by_role("heading", name="Help in the coming days in Maarn")).to_be_visible()
    expect(page.get_by_text("Spreekuur Maarn").first).to_be_visible()

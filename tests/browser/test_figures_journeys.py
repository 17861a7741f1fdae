"""An organisation admin looks at the library's figures: the menu leads there, the charts
are images with the numbers as tables beside them, the period form shows another period,
the downloads download, and the report prints on A4 without the site's menus. With and
without JavaScript, on a desktop and on a 320 px wide screen, with axe on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app import clock
from app.extensions import db
from app.models import Channel, Duration, HowHelped, RegisteredQuestion, Registration
from tests.browser.conftest import staff_menu

pytestmark = pytest.mark.browser
A4 = {"width": 794, "height": 1123}


@pytest.fixture
def registered(library, library_location, make_topic):
    """Three contacts with four questions registered today at the library's branch."""
    digid = make_topic(slug="digid", name_en="DigiD", name_nl="DigiD")
    taxes = make_topic(slug="taxes", name_en="Taxes", name_nl="Belastingen")
    today = clock.today()
    for channel, topics in [
        (Channel.DESK, [digid]),
        (Channel.DESK, [digid, taxes]),
        (Channel.PHONE, [taxes]),
    ]:
        registration = Registration(
            organisation_id=library.id,
            location_id=library_location.id,
            channel=channel,
            duration=Duration.UNDER_10,
            day=today,
        )
        for topic in topics:
            registration.questions.append(
                RegisteredQuestion(
                    topic_id=topic.id,
                    how_helped=HowHelped.SHOWN_HOW,
                    organisation_id=library.id,
                    location_id=library_location.id,
                    day=today,
                )
            )
        db.session.add(registration)
    db.session.commit()


def cell(page: Page, table: str, row: str):
    """The number in ``row`` of the table with this caption."""
    return (
        page.get_by_role("table", name=table)
        .get_by_role("row", name=re.compile(rf"^{re.escape(row)} "))
        .get_by_role("cell")
        .first
    )


def total(page: Page, term: str):
    return page.locator(".figures-totals div").filter(has_text=term).get_by_role("definition")


def charts_loaded(page: Page) -> None:
    """Every chart is an image with an alt text that loaded: the SVG answer was allowed."""
    images = page.locator("img.chart")
    for i in range(images.count()):
        image = images.nth(i)
        expect(image).to_have_attribute("alt", re.compile("the numbers are in the table"))
        expect(image).to_have_js_property("naturalWidth", 800)


def test_figures_page_period_downloads_and_printed_report(
    pages, js, viewport, registered, library_admin, log_in, check_page
):
    """Menu → figures of the own organisation (this month): the totals, the tables beside the
    charts; the period form shows the year; the CSV downloads; the report hides the menus
    when printed and shows every table."""
    page = pages.open(js=js, viewport=viewport)
    log_in(page, library_admin)

    staff_menu(page).get_by_role("link", name="Figures").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Figures: Bibliotheek Stichtse Vecht")
    expect(total(page, "Contacts")).to_have_text("3")
    expect(total(page, "Questions")).to_have_text("4")
    expect(cell(page, "Questions per category", "DigiD")).to_have_text("2")
    expect(cell(page, "Contacts per channel", "Phone")).to_have_text("1")
    expect(page.locator("img.chart")).to_have_count(4)
    charts_loaded(page)
    check_page(page)

    page.get_by_label("Period", exact=True).select_option("year")
    page.get_by_role("button", name="Show figures").click()
    year = str(clock.today().year)
    expect(page.get_by_role("heading", level=2, name=year, exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"period=year"))
    expect(cell(page, "Questions per category", "Taxes")).to_have_text("2")
    check_page(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.endswith(".csv")

    page.get_by_role("link", name="Report to print").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Report of the help desks: Bibliotheek Stichtse Vecht"
    )
    check_page(page)
    # On paper the page is A4 (210 mm, 794 CSS pixels) wide, whatever the screen.
    page.set_viewport_size(A4)
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Staff menu")).to_be_hidden()
    expect(page.get_by_role("link", name="Back to the figures")).to_be_hidden()
    expect(page.get_by_role("table", name="Questions per category")).to_be_visible()
    charts_loaded(page)
    check_page(page)

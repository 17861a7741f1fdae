"""A single date is cancelled and the host library closes its location: staff see both."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from app import clock
from app.models import SeriesStatus

pytestmark = pytest.mark.browser

TITLE = "Help with money matters"


def dates_table(page: Page):
    return page.get_by_role("table", name="Dates in the coming eight weeks")


def date_row(page: Page, text: str):
    return dates_table(page).get_by_role("row").filter(has_text=text)


def test_cancelled_date_and_closed_location_show_in_the_series_dates(
    pages,
    js,
    make_series,
    partner,
    library_location,
    partner_staff,
    library_admin,
    log_in,
    check_accessible,
    day_text,
):
    """Partner staff cancel one date; the library's admin closes the location on the next
    one; the series' dates then show "Cancelled" and "Location closed" with the reasons."""
    today = clock.today()
    first = today + timedelta(days=3)
    closed = first + timedelta(weeks=1)
    make_series(
        provider=partner,
        location=library_location,
        title=TITLE,
        weekdays=str(first.weekday()),
        start_date=today,
        status=SeriesStatus.PUBLISHED,
    )

    staff_page = pages.open(js=js)
    log_in(staff_page, partner_staff)
    staff_page.get_by_role("table", name="Hours held by Humanitas Stichtse Vecht").get_by_role(
        "link", name=TITLE
    ).click()
    expect(staff_page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(date_row(staff_page, day_text(first))).to_contain_text("As usual")
    check_accessible(staff_page)

    changes = staff_page.get_by_role("region", name="Changes on single dates")
    changes.get_by_role("radio", name="Cancelled", exact=True).check()
    changes.get_by_label("Date", exact=True).fill(first.isoformat())
    changes.get_by_label("Reason (shown to residents)", exact=True).fill("Staff training")
    changes.get_by_role("button", name="Save change").click()
    expect(staff_page.get_by_role("status")).to_have_text("The change has been saved.")
    expect(changes.get_by_role("listitem")).to_contain_text(
        [f"{day_text(first)}: Cancelled (Staff training)"]
    )
    expect(date_row(staff_page, day_text(first))).to_contain_text("Cancelled Staff training")
    check_accessible(staff_page)

    admin_page = pages.open(js=js)
    log_in(admin_page, library_admin)
    admin_page.get_by_role("navigation", name="Staff menu").get_by_role(
        "link", name="Locations"
    ).click()
    expect(admin_page.get_by_role("heading", level=1)).to_have_text("Our locations")
    check_accessible(admin_page)
    admin_page.get_by_role("link", name="Bibliotheek Maarssen").click()
    expect(admin_page.get_by_role("heading", level=1)).to_have_text("Bibliotheek Maarssen")
    check_accessible(admin_page)

    closures = admin_page.get_by_role("region", name="Closed on")
    closures.get_by_label("Closed from", exact=True).fill((closed - timedelta(days=1)).isoformat())
    closures.get_by_label("Closed until (this day included)", exact=True).fill(
        (closed + timedelta(days=1)).isoformat()
    )
    closures.get_by_label("Reason (shown to residents)", exact=True).fill("Renovation")
    closures.get_by_role("button", name="Save closure").click()
    expect(admin_page.get_by_role("status")).to_have_text("The location is closed on these dates.")
    expect(closures.get_by_role("listitem")).to_contain_text(
        [
            f"{day_text(closed - timedelta(days=1))} – {day_text(closed + timedelta(days=1))}"
            ": Renovation"
        ]
    )
    check_accessible(admin_page)

    staff_page.reload()
    expect(date_row(staff_page, day_text(first))).to_contain_text("Cancelled Staff training")
    expect(date_row(staff_page, day_text(closed))).to_contain_text("Location closed Renovation")
    expect(date_row(staff_page, day_text(closed + timedelta(weeks=1)))).to_contain_text("As usual")
    check_accessible(staff_page)

"""Staff tables on a 320 px wide screen: the calendar-feed links and the referral counts
(the referrals' counts page and the figures' referral tables) reflow, each row a block with
every value named by its column, so neither the page nor a table scrolls sideways; axe finds
no violations. With and without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import FeedBookings, FeedKind, OrganisationKind, Role
from app.services import feeds
from tests.browser.conftest import NARROW
from tests.referral_helpers import write_signpost, write_warm

pytestmark = pytest.mark.browser


@pytest.fixture
def coordinator(make_account, library, library_location, partner, make_org, make_topic):
    """A coordinator with two feed links, in a network whose organisations (with long names)
    sent and received referrals."""
    user = make_account(Role.COORDINATOR, library, "Noor Coordinator")
    topic = make_topic(slug="toeslagen", name_nl="Toeslagen", name_en="Toeslagen (benefits)")
    debts = make_org(
        name="Schuldhulpverlening Stichtse Vecht en omstreken", kind=OrganisationKind.PARTNER
    )
    write_warm(user, partner, topic)
    write_warm(user, debts, topic)
    write_signpost(user, debts, topic)
    feeds.create_link(
        user,
        FeedKind.LOCATION,
        location=library_location,
        include_bookings=FeedBookings.COUNTS,
        name="Bibliotheek Maarssen: alle spreekuren met het aantal afspraken",
    )
    feeds.create_link(user, FeedKind.ORGANISATION, organisation=partner)
    db.session.commit()
    return user


def tables_fit(page: Page) -> None:
    """No table's scroll box is wider inside than out: nothing hides beside the screen."""
    hidden = page.evaluate(
        """[...document.querySelectorAll('.table-scroll')]
             .filter(box => box.scrollWidth > box.clientWidth)
             .map(box => box.getAttribute('aria-labelledby'))"""
    )
    assert hidden == [], f"{page.url}: these tables scroll sideways at 320 px: {hidden}"


@pytest.mark.parametrize(
    ("path", "table"),
    [
        ("/portal/feeds", "Your calendar feeds"),
        ("/portal/referrals/counts", "Referrals per receiving organisation"),
        ("/portal/figures/network", "Referrals sent"),
    ],
    ids=["feed-links", "referral-counts", "figures"],
)
def test_staff_tables_reflow_at_320_px(pages, js, coordinator, log_in, check_page, path, table):
    page = pages.open(js=js, viewport=NARROW)
    log_in(page, coordinator)
    page.goto(path)
    shown = page.get_by_role("table", name=table)
    expect(shown).to_be_visible()
    check_page(page)
    tables_fit(page)
    # Each value is named by its column, read before it.
    labelled = shown.locator("td[data-label]").first
    label = labelled.get_attribute("data-label")
    before = labelled.evaluate("cell => getComputedStyle(cell, '::before').content")
    assert before == f'"{label}: "'


def test_the_check_finds_a_table_that_scrolls_sideways(pages, coordinator, log_in):
    """The check above is able to fail: the same page on a desktop screen squeezed into a
    narrow box that keeps the table's width."""
    page = pages.open(viewport=NARROW)
    log_in(page, coordinator)
    page.goto("/portal/referrals/counts")
    page.evaluate(
        "document.querySelector('table').classList.remove('reflow');"
        "document.querySelector('table').style.minWidth = '40rem'"
    )
    with pytest.raises(AssertionError, match="scroll sideways"):
        tables_fit(page)

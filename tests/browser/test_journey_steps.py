"""How many taps and screens the resident journey takes on a 320 × 640 phone without
JavaScript: from the start page to the confirmation, and from the code to the cancelled
appointment. A screen is 640 pixels of a page: a target on the second screen of a page
counts two. The counts are printed, and kept at or below what the redesign reaches."""

from __future__ import annotations

import math
from datetime import time, timedelta

import pytest
from playwright.sync_api import Page, expect

from app import clock
from app.models import Mode, OrganisationKind, SeriesStatus
from tests.browser.conftest import NARROW

pytestmark = pytest.mark.browser

HEIGHT = NARROW["height"]
# What the redesign reaches. Before it, the same walk took 12 screens and 5 taps to the
# confirmation (the first free time on the third screen of its page, the booking button on
# the fourth) and 9 screens and 6 taps from the code to the cancelled appointment.
MOST_TO_CONFIRMATION = {"screens": 5, "taps": 5}
MOST_TO_CANCELLED = {"screens": 6, "taps": 6}


@pytest.fixture
def hours(make_org, make_location, make_topic, make_series):
    """The demo region's shape on one topic: the library's walk-in window plus appointments
    every week, and a partner's walk-in hours later the same day."""
    library = make_org(name="Bibliotheek Stichtse Vecht", kind=OrganisationKind.LIBRARY)
    partner = make_org(name="VluchtelingenWerk Stichtse Vecht", kind=OrganisationKind.PARTNER)
    maarssen = make_location(
        organisation=library,
        name="Bibliotheek Maarssen",
        street="Binnenweg 1",
        postcode="3604 AB",
        city="Maarssen",
    )
    taxes = make_topic(slug="belastingdienst", name_en="Taxes", name_nl="Belastingdienst")
    day = clock.today() + timedelta(days=2)
    common = {
        "weekdays": str(day.weekday()),
        "start_date": clock.today(),
        "status": SeriesStatus.PUBLISHED,
        "location": maarssen,
        "topics": [taxes],
    }
    make_series(
        title="Informatiepunt Digitale Overheid",
        provider=library,
        mode=Mode.MIXED,
        start_time=time(14, 0),
        end_time=time(16, 0),
        walk_in_start=time(14, 0),
        walk_in_end=time(14, 30),
        slot_minutes=30,
        seats_per_slot=2,
        description="Vragen over DigiD, belastingen, toeslagen of een andere overheidswebsite? "
        "Kom langs of maak een afspraak.",
        what_to_bring="Uw telefoon of tablet, uw DigiD-app en de brieven die u kreeg.",
        **common,
    )
    make_series(
        title="Inloopspreekuur VluchtelingenWerk",
        provider=partner,
        mode=Mode.WALK_IN,
        start_time=time(16, 30),
        end_time=time(17, 30),
        **common,
    )


class Counter:
    def __init__(self, page: Page):
        self.page = page
        self.screens = 0
        self.taps = 0

    def reach(self, target) -> None:
        """Count the screens of this page down to the target (and bring it into view)."""
        expect(target).to_be_attached()
        top = self.page.evaluate("window.scrollY")
        box = target.bounding_box()
        assert box is not None
        self.screens += max(1, math.ceil((top + box["y"] + box["height"]) / HEIGHT))
        target.scroll_into_view_if_needed()

    def tap(self, target) -> None:
        self.reach(target)
        self.taps += 1
        target.click()

    def type(self, target, text: str) -> None:
        """Tapping a field to type in it is a tap; it is on a screen already counted."""
        self.taps += 1
        target.fill(text)

    def counts(self) -> dict:
        return {"screens": self.screens, "taps": self.taps}


def test_journey_step_counts(pages, hours):
    """From the start page to the confirmation, and from the code to the cancelled
    appointment, in Dutch on a 320 × 640 phone without JavaScript."""
    page = pages.open(js=False, locale="nl-NL", viewport=NARROW)
    main = page.locator("main")

    booking = Counter(page)
    page.goto("/")
    booking.tap(main.get_by_role("link", name="Belastingdienst", exact=True))
    booking.tap(main.locator(".occurrence a").first)
    booking.tap(main.locator(".slot-button").first)
    booking.type(main.locator("input[name=name]"), "Fatima")
    booking.tap(main.locator("#booking-form button[type=submit]").first)
    booking.reach(main.locator(".code-box, dd.code").first)
    code = main.locator("dd.code").inner_text().strip()

    page = pages.open(js=False, locale="nl-NL", viewport=NARROW)
    main = page.locator("main")
    cancelling = Counter(page)
    page.goto("/")
    cancelling.tap(main.locator('a[href="/afspraak"]').first)
    cancelling.type(main.locator("input[name=code]"), code)
    cancelling.type(main.locator("input[name=phone_or_name]"), "Fatima")
    cancelling.tap(main.locator("#find-form button[type=submit]"))
    cancelling.tap(main.locator('a[href="/afspraak/mijn/afzeggen"]'))
    cancelling.tap(main.locator("form button[type=submit]").first)
    cancelling.reach(page.get_by_role("heading", level=1))

    print(f"\nto the confirmation: {booking.counts()}; to cancelled: {cancelling.counts()}")
    assert booking.counts()["screens"] <= MOST_TO_CONFIRMATION["screens"]
    assert booking.counts()["taps"] <= MOST_TO_CONFIRMATION["taps"]
    assert cancelling.counts()["screens"] <= MOST_TO_CANCELLED["screens"]
    assert cancelling.counts()["taps"] <= MOST_TO_CANCELLED["taps"]

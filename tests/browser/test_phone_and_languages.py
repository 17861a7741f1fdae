"""The phone journey and the residents' languages, in a real browser at 320 × 640 and on a
desktop: the first screen after choosing a topic shows a session, the booking button is in
view once the name is typed, no page scrolls sideways (every public page and the staff
pages, in Dutch and in Arabic, the slip and a long-word series included), and the resident
journey in Arabic and in Turkish, with and without JavaScript, right to left where it must
be, with axe checking every page.

Texts are looked up in the language's own catalogue, so these tests keep passing once the
catalogues awaiting translation are translated."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from babel.support import Translations
from playwright.sync_api import Page, expect

from app import clock, i18n
from app.extensions import db
from app.models import Booking, BookingStatus, Mode, OrganisationKind, Role, SeriesStatus
from tests.browser.conftest import NARROW, PASSWORD, tap
from tests.referral_helpers import write_signpost

pytestmark = pytest.mark.browser

AMS = ZoneInfo("Europe/Amsterdam")
TRANSLATIONS = Path(__file__).resolve().parents[2] / "app" / "translations"
TITLE = "Help with tax returns"
LONG_TITLE = "Inloop cliëntondersteuning"
LONG_WEBSITE = "https://www.onafhankelijkeclientondersteuningstichtsevecht.example.org/aanmelden"
DIRECTION = {"nl": "ltr", "en": "ltr", "ar": "rtl", "fa": "rtl", "tr": "ltr"}
COOKIE_LOCALE = {"nl": "nl-NL", "ar": "ar", "tr": "tr-TR"}


@cache
def _catalogue(language: str) -> Translations:
    return Translations.load(str(TRANSLATIONS), [language])


def t(language: str, text: str, **values) -> str:
    """A text as the pages in ``language`` show it (the English source text where the
    catalogue has no translation yet)."""
    translated = _catalogue(language).gettext(text)
    return translated % values if values else translated


def booking_day() -> date:
    return clock.today() + timedelta(days=2)


def day_text(language: str, day: date) -> str:
    return format_date(day, "EEEE d MMMM y", locale=language)


@pytest.fixture
def region(make_org, make_location, make_topic, make_series, make_account):
    """A library and partners, with appointment hours on taxes, a walk-in series with a long
    Dutch word in its title, a mixed series, an organisation with a long web address, a
    booking, and a signposting referral to print."""
    library = make_org(name="Bibliotheek Stichtse Vecht", kind=OrganisationKind.LIBRARY)
    partner = make_org(name="Humanitas Stichtse Vecht", kind=OrganisationKind.PARTNER)
    oco = make_org(
        name="OCO Stichtse Vecht",
        kind=OrganisationKind.PARTNER,
        website=LONG_WEBSITE,
        phone="0346 254 000",
    )
    maarssen = make_location(
        organisation=library,
        name="Bibliotheek Maarssen",
        street="Binnenweg 1",
        postcode="3604 AB",
        city="Maarssen",
    )
    taxes = make_topic(slug="taxes", name_en="Taxes", name_nl="Belastingen")
    common = {
        "weekdays": str(booking_day().weekday()),
        "start_date": clock.today(),
        "start_time": time(14, 0),
        "end_time": time(16, 0),
        "slot_minutes": 30,
        "status": SeriesStatus.PUBLISHED,
        "location": maarssen,
    }
    series = make_series(title=TITLE, provider=partner, topics=[taxes], **common)
    long_word = make_series(
        title=LONG_TITLE, provider=oco, topics=[taxes], mode=Mode.WALK_IN, **common
    )
    mixed = make_series(
        title="Informatiepunt Digitale Overheid",
        provider=library,
        topics=[taxes],
        mode=Mode.MIXED,
        walk_in_start=time(14, 0),
        walk_in_end=time(14, 30),
        **common,
    )
    admin = make_account(Role.ORG_ADMIN, library, "Lieke Library")
    coordinator = make_account(Role.COORDINATOR, library, "Cor Coordinator")
    referral = write_signpost(admin, oco, taxes)
    return {
        "coordinator": coordinator,
        "series": series,
        "long_word": long_word,
        "mixed": mixed,
        "admin": admin,
        "referral": referral,
        "taxes": taxes,
    }


def open_in(pages, language: str, *, js: bool = True, viewport: dict | None = None) -> Page:
    """A resident's browser that has chosen ``language`` (the cookie the switch sets)."""
    page = pages.open(js=js, locale=COOKIE_LOCALE.get(language, "en-US"), viewport=viewport)
    page.context.add_cookies([{"name": "spreekuur_lang", "value": language, "url": pages.base_url}])
    return page


def log_in_dutch(page: Page, user) -> None:
    """Log in on the staff login page, which is Dutch here."""
    page.goto("/auth/login")
    page.get_by_label(t("nl", "Email address"), exact=True).fill(user.email)
    page.get_by_label(t("nl", "Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=t("nl", "Log in"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(t("nl", "Overview"))


def expect_language(page: Page, language: str) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", DIRECTION[language])


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def in_first_screen(page: Page, locator) -> bool:
    """Whether the element is wholly within the first screen, without scrolling."""
    box = locator.bounding_box()
    scrolled = page.evaluate("window.scrollY")
    height = (page.viewport_size or NARROW)["height"]
    return (
        box is not None and scrolled == 0 and box["y"] >= 0 and box["y"] + box["height"] <= height
    )


# The first screen ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["nl", "ar"])
def test_the_first_screen_after_choosing_a_topic_shows_a_session(
    pages, js, region, language, check_page
):
    """At 320 × 640, after tapping a topic on the start page, the first screen names the
    topic, sums up the choice in one line, and shows at least one whole session card."""
    page = open_in(pages, language, js=js, viewport=NARROW)
    page.goto("/")
    expect_language(page, language)
    topic = "Belastingen" if language == "nl" else "Taxes"
    page.get_by_role("link", name=topic, exact=True).click()
    expect(heading(page)).to_have_text(t(language, "Help with %(topic)s", topic=topic))
    expect_language(page, language)
    card = page.locator(".occurrence").first
    expect(card).to_be_visible()
    assert in_first_screen(page, card), (
        f"no whole session on the first screen: {card.bounding_box()}"
    )
    summary = page.locator(".filter-details > summary")
    assert in_first_screen(page, summary)
    check_page(page)

    # The line opens the filters, also without JavaScript.
    where = page.get_by_label(t(language, "Where?"))
    expect(where).to_be_hidden()
    summary.click()
    expect(where).to_be_visible()
    check_page(page)


@pytest.mark.parametrize("language", ["nl", "ar"])
def test_the_booking_button_is_in_view_once_the_name_is_typed(
    pages, js, region, language, check_page
):
    """At 320 × 640 the booking form's button follows the one required field: typing the
    name leaves the button in view, without scrolling."""
    page = open_in(pages, language, js=js, viewport=NARROW)
    page.goto(f"/spreekuren/{region['series'].id}")
    expect_language(page, language)
    page.locator(".slot-button").first.click()
    expect(heading(page)).to_have_text(t(language, "Make an appointment"))
    name = page.get_by_label(t(language, "Your first name or initials"))
    name.fill("Fatima")
    button = page.get_by_role("button", name=t(language, "Make the appointment")).first
    expect(button).to_be_visible()
    assert in_first_screen(page, button), "the booking button is below the first screen"
    check_page(page)


def test_the_card_is_one_target_with_a_visible_action(pages, region, check_page):
    """Tapping anywhere on a session card opens the session; each card says what to do."""
    page = open_in(pages, "nl", viewport=NARROW)
    page.goto("/spreekuren")
    cards = page.locator(".occurrence")
    walk_in = cards.filter(has_text=LONG_TITLE).first
    expect(walk_in.locator(".occ-action")).to_have_text("Inloop: kom gewoon langs")
    bookable = cards.filter(has_text=TITLE).first
    expect(bookable.locator(".occ-action")).to_have_text("Kies een tijd")
    box = bookable.bounding_box()
    assert box is not None and box["height"] >= 44
    # A tap on the card's empty corner, not on its title, opens the session.
    page.mouse.click(box["x"] + box["width"] - 8, box["y"] + box["height"] - 8)
    expect(heading(page)).to_have_text(TITLE)
    # The free times come first, then the walk-in dates.
    page.goto(f"/spreekuren/{region['mixed'].id}")
    book_title = page.get_by_role("heading", level=2, name="Afspraak maken")
    walk_title = page.get_by_role("heading", level=2, name="Inloop zonder afspraak")
    book_box, walk_box = book_title.bounding_box(), walk_title.bounding_box()
    assert book_box and walk_box and book_box["y"] < walk_box["y"]
    expect(page.locator(".walk-in-note")).to_contain_text("tegelijk met de eerste afspraken")
    check_page(page)


# No page scrolls sideways ----------------------------------------------------------------


def _crawl_paths(app, region, booking_id: int) -> tuple[list[str], list[str]]:
    """The public pages and the staff pages to visit: every page without parameters, and
    the pages of one series, organisation, location, booking and referral."""
    public, staff = [], []
    skip = ("static", "public.favicon", "feeds.token_feed", "feeds.place_feed", "feeds.topic_feed")
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.arguments or rule.endpoint.startswith(skip):
                continue
            if rule.endpoint in (
                "auth.logout",
                "booking.manage",
                "booking.card",
                "booking.calendar_file",
                "booking.cancel",
                "booking.move",
                # A resident's own sign-up and waiting-list place, as for the booking
                # above: only with the code or the secret link.
                "course_signup.manage",
                "course_signup.card",
                "course_signup.cancel",
                "waiting.entry",
                "waiting.offer",
                "desk.desk_book",  # needs the hours and time chosen on the desk page
            ):
                continue
            path = rule.rule
            if path.endswith((".ics", ".csv", ".xlsx", ".svg", ".json")) or "/export" in path:
                continue
            if path.startswith("/api/") and path != "/api/v1/docs":
                continue  # JSON for programs (tests/test_api.py); its documentation is a page
            (staff if path.startswith(("/portal", "/admin", "/auth")) else public).append(path)
    series, referral = region["series"], region["referral"]
    public += [
        f"/spreekuren/{series.id}",
        f"/spreekuren/{region['long_word'].id}",
        f"/spreekuren/{region['mixed'].id}",
        "/spreekuren?onderwerp=taxes",
    ]
    staff += [
        f"/portal/series/{series.id}",
        f"/portal/series/{series.id}/edit",
        f"/portal/locations/{series.location_id}",
        f"/portal/bookings/{booking_id}",
        f"/portal/referrals/{referral.id}",
        f"/portal/referrals/{referral.id}/slip",
        f"/portal/referrals/new/{referral.to_organisation_id}",
        f"/portal/referrals/new/{referral.to_organisation_id}/details?kind=signpost",
    ]
    return sorted(set(public)), sorted(set(staff))


@pytest.mark.parametrize("language", ["nl", "ar"])
def test_no_page_scrolls_sideways_at_320_pixels(
    pages, app, region, language, check_page, monkeypatch
):
    """Every public page and every staff page, in Dutch and in Arabic, fits 320 CSS pixels:
    long words and web addresses wrap (the walk-in series with "cliëntondersteuning" in its
    title, the signposting slip with a long web address). Public pages are right to left in
    Arabic; staff pages stay Dutch, left to right; the slip is printed in the resident's
    language once its catalogue is complete (here taken as complete, to see it right to
    left)."""
    from app.services import booking as booking_service
    from app.services.booking import ResidentDetails

    if language == "ar":
        monkeypatch.setattr(i18n, "COMPLETE_CATALOGUES", (*i18n.COMPLETE_CATALOGUES, "ar"))
        region["referral"].language = "ar"
    booking, _token = booking_service.book(
        region["mixed"],
        datetime.combine(booking_day(), time(15, 0), AMS),
        ResidentDetails(name="Fatima", phone="06 12345678", language=language),
    )
    db.session.commit()
    public, staff = _crawl_paths(app, region, booking.id)
    assert len(public) >= 10 and len(staff) >= 25

    page = open_in(pages, language, viewport=NARROW)
    for path in public:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        expect_language(page, language)
        check_page(page)
    page.goto(f"/spreekuren/{region['long_word'].id}")
    expect(heading(page)).to_have_text(LONG_TITLE)

    # The organisation's admin; what only the network's coordinator may open, as them.
    coordinator_only: list[str] = []
    for user, paths in ((region["admin"], staff), (region["coordinator"], None)):
        page = open_in(pages, language, viewport=NARROW)
        log_in_dutch(page, user)
        forbidden = []
        for path in paths if paths is not None else coordinator_only:
            response = page.goto(path)
            assert response is not None, path
            if response.status == 403 and paths is not None:
                forbidden.append(path)
                continue
            assert response.status == 200, path
            if path.endswith("/slip"):
                expect_language(page, language)
                expect(page.get_by_text(LONG_WEBSITE)).to_be_visible()
            else:
                expect_language(page, "nl")
            check_page(page)
        coordinator_only = forbidden


# The resident journey in Arabic and in Turkish --------------------------------------------


@pytest.mark.parametrize("language", ["ar", "tr"])
@pytest.mark.parametrize(
    "viewport", [NARROW, {"width": 1280, "height": 900}], ids=["320px", "desktop"]
)
def test_resident_journey_in_arabic_and_turkish(pages, js, viewport, region, language, check_page):
    """Find help, book, open the card, find the appointment again by its code, cancel: in
    Arabic (right to left) and in Turkish, dates in the language, times and the code left to
    right, every page checked by axe and with the right lang and dir."""
    page = open_in(pages, language, js=js, viewport=viewport)
    day = booking_day()

    def check(expected_heading: str) -> None:
        expect(heading(page)).to_have_text(expected_heading)
        expect_language(page, language)
        check_page(page)

    page.goto("/")
    check(t(language, "Help with government websites"))
    page.get_by_role("link", name="Taxes", exact=True).click()
    check(t(language, "Help with %(topic)s", topic="Taxes"))
    results = page.get_by_role("region", name=t(language, "Results"))
    first_day = results.get_by_role("region", name=day_text(language, day))
    card = first_day.locator(".occurrence").filter(has_text=TITLE)
    expect(card.locator(".occ-time bdi[dir=ltr]")).to_have_text("14:00–16:00")
    tap(page, card.get_by_text(t(language, "Choose a time")))

    check(TITLE)
    times = page.get_by_role("link", name=f"{day_text(language, day)} 14:00–14:30", exact=True)
    expect(times.locator("bdi[dir=ltr]")).to_have_text("14:00–14:30")
    times.click()

    check(t(language, "Make an appointment"))
    page.get_by_label(t(language, "Your first name or initials")).fill("Fatima")
    page.get_by_label(t(language, "Phone number (not required)")).fill("06 12345678")
    page.get_by_role("button", name=t(language, "Make the appointment")).first.click()

    check(t(language, "Your appointment is made"))
    db.session.rollback()
    booking = db.session.scalars(sa.select(Booking)).one()
    code = booking.display_code
    assert booking.language == language
    expect(page.locator(".code-box bdi[dir=ltr]")).to_have_text(code)
    expect(page.get_by_role("link", name=t(language, "Print appointment card"))).to_be_visible()
    page.get_by_role("link", name=t(language, "Print appointment card")).click()

    check(t(language, "Appointment card"))
    card = page.get_by_role("article")
    expect(card.locator(".card-date")).to_have_text(day_text(language, day))
    expect(card.locator(".card-code")).to_have_text(code)
    expect(
        card.get_by_role(
            "img", name=t(language, "QR code: scan it to open your appointment on your phone.")
        )
    ).to_be_visible()

    # Another browser (or after closing this one): the code and the name find it again.
    other = open_in(pages, language, js=js, viewport=viewport)
    other.goto("/")
    other.get_by_role("link", name=t(language, "I have an appointment")).click()
    page = other
    check(t(language, "My appointment"))
    page.get_by_label(t(language, "Appointment code")).fill(code)
    page.get_by_label(t(language, "Your phone number, or the name you gave")).fill("Fatima")
    page.get_by_role("button", name=t(language, "Find my appointment")).click()
    check(t(language, "Your appointment"))
    expect(page.locator("dd.code bdi[dir=ltr]")).to_have_text(code)
    page.get_by_role("link", name=t(language, "Cancel appointment")).click()

    check(t(language, "Do you want to cancel this appointment?"))
    page.get_by_role("button", name=t(language, "Yes, cancel the appointment")).click()
    check(t(language, "This appointment is cancelled"))
    expect(page.get_by_role("status")).to_have_text(t(language, "Your appointment is cancelled."))
    db.session.rollback()
    assert db.session.get(Booking, booking.id).status is BookingStatus.CANCELLED


def test_the_language_switch_folds_on_a_phone_and_remembers_the_choice(
    pages, js, region, check_page
):
    """At 320 pixels the switch is one line (a globe and the current language, in itself)
    that opens the eight languages, each in its own script and direction; choosing one
    shows the page in it, right to left for Arabic, and the choice stays."""
    page = pages.open(js=js, locale="nl-NL", viewport=NARROW)
    page.goto("/spreekuren")
    expect_language(page, "nl")
    menu = page.locator("details.language-menu")
    summary = menu.locator("summary")
    expect(summary).to_have_text("Nederlands – Taal")
    box = page.locator(".site-header").bounding_box()
    assert box is not None and box["height"] <= 70, "the header takes more than one line"
    arabic = page.get_by_role("button", name="العربية")
    expect(arabic).to_be_hidden()
    summary.click()
    expect(arabic).to_be_visible()
    expect(arabic).to_have_attribute("dir", "rtl")
    for name in ("English", "دری / فارسی", "Türkçe", "Polski", "Українська", "ትግርኛ"):
        expect(page.get_by_role("button", name=name)).to_be_visible()
    check_page(page)
    arabic.click()
    expect_language(page, "ar")
    expect(page).to_have_url("/spreekuren")
    check_page(page)
    page.goto("/afspraak")
    expect_language(page, "ar")
    expect(page.locator("details.language-menu summary")).to_contain_text("العربية")

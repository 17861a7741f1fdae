"""Referrals in the browser: library staff write a warm handover with consent and book the
resident straight into the partner's hours, then print the card; the partner closes the loop
and the library sees the status, never the partner's notes. With and without JavaScript,
with axe checking every page shown."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app import clock
from app.extensions import db
from app.models import (
    BookedVia,
    Booking,
    ConsentMethod,
    ConsentScope,
    Referral,
    ReferralKind,
    ReferralStatus,
    Role,
    SeriesStatus,
    Topic,
)
from tests.referral_helpers import write_warm

pytestmark = pytest.mark.browser

AMS = ZoneInfo("Europe/Amsterdam")
HOURS_TITLE = "Money help in the library"
NOTE = "Called twice, she calls back on Monday"


def appointment_day() -> date:
    return clock.today() + timedelta(days=2)


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def flash(page: Page):
    return page.locator(".flashes")


@pytest.fixture
def partner_hours(make_series, partner, library_location):
    """The partner's appointment hours in the library, on the appointment's weekday."""
    return make_series(
        title=HOURS_TITLE,
        provider=partner,
        location=library_location,
        weekdays=str(appointment_day().weekday()),
        start_date=clock.today(),
        start_time=time(14, 0),
        end_time=time(16, 0),
        slot_minutes=30,
        what_to_bring="Your bank statements",
        status=SeriesStatus.PUBLISHED,
    )


@pytest.fixture
def librarian(make_account, library):
    return make_account(Role.STAFF, library, "Chris Balie")


def only_referral() -> Referral:
    db.session.rollback()  # end the test's snapshot: see what the server wrote
    return db.session.scalars(sa.select(Referral)).one()


def test_warm_handover_with_consent_into_a_slot_and_the_card(
    page,
    js,
    pages,
    log_in,
    check_accessible,
    partner_staff,
    librarian,
    partner,
    partner_hours,
    day_text,
):
    """Choose the partner, read the consent script, record two yes's, write the details (a
    BSN is refused first), book a free time of the partner and print the card."""
    day = appointment_day()
    log_in(page, librarian)

    # The referrals area from the staff menu; nothing sent yet.
    page.get_by_role("navigation", name="Staff menu").get_by_role("link", name="Referrals").click()
    expect(heading(page)).to_have_text("Referrals to Bibliotheek Stichtse Vecht")
    check_accessible(page)
    page.get_by_role("link", name="Write a referral").click()

    # Who can help: what they do, their hours.
    expect(heading(page)).to_have_text("Write a referral")
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=partner.name))
    expect(card).to_contain_text(HOURS_TITLE)
    check_accessible(page)
    card.get_by_role("link", name=f"Refer to {partner.name}").click()

    # Warm handover, in English.
    expect(heading(page)).to_have_text(f"Refer to {partner.name}")
    expect(page.get_by_text(HOURS_TITLE).first).to_be_visible()
    check_accessible(page)
    page.get_by_role("radio", name="Warm handover").check()
    page.get_by_label("The resident's language").select_option(label="English")
    page.get_by_role("button", name="Next").click()

    # The consent script in the resident's language; nothing ticked beforehand.
    expect(heading(page)).to_have_text("Ask for consent")
    script = page.locator(".consent-script")
    expect(script).to_have_attribute("lang", "en")
    expect(script).to_contain_text("May I pass on your details and your question?")
    expect(script).to_contain_text(f"May {partner.name} receive them?")
    expect(page.locator("input[type=radio]:checked")).to_have_count(0)
    check_accessible(page)
    page.get_by_role(
        "group", name="Question 1: may we pass on the details and the question?"
    ).get_by_label("Yes").check()
    page.get_by_role("group", name="Question 2: may the organisation receive them?").get_by_label(
        "Yes"
    ).check()
    page.get_by_label("Spoken: I read the text aloud").check()
    page.get_by_label("Pass on the details and make an appointment").check()
    page.get_by_role("button", name="Record the answers").click()

    # The details. Nothing is stored yet.
    expect(heading(page)).to_have_text(f"Warm handover to {partner.name}")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 0
    check_accessible(page)
    page.get_by_label("Topic").select_option(label="Taxes")
    expect(page.get_by_label("The resident's preferred language")).to_have_value("en")
    page.get_by_label("This week").check()
    page.get_by_label("The resident's first name or initials").fill("Fatima")
    page.get_by_label("Phone number").fill("06 12345678")
    request = page.get_by_label("What does the resident want? A few lines")
    request.fill("Her BSN is 123456782; she wants a payment plan for the energy bill")
    page.get_by_role("button", name="Send the referral").click()

    # A BSN is refused, with the reason at the field; nothing is stored.
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("must never contain a BSN")
    expect(summary).to_be_focused()
    expect(request).to_have_attribute("aria-invalid", "true")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 0
    check_accessible(page)
    request.fill("Wants a payment plan for the energy bill")
    page.get_by_role("button", name="Send the referral").click()

    # The referral, with the consent record.
    expect(flash(page)).to_have_text(f"The referral has been sent to {partner.name}.")
    referral = only_referral()
    expect(heading(page)).to_have_text(f"Referral {referral.id}: Taxes")
    assert referral.kind is ReferralKind.WARM and referral.resident_name == "Fatima"
    consent = referral.consent
    assert (consent.method, consent.scope, consent.script_language) == (
        ConsentMethod.SPOKEN,
        ConsentScope.APPOINTMENT,
        "en",
    )
    assert consent.asked_by_id == librarian.id and consent.receiving_organisation_id == partner.id
    expect(page.get_by_role("region", name="Consent", exact=True)).to_contain_text("Chris Balie")
    check_accessible(page)

    # Straight into a free time of the partner's hours.
    page.get_by_role("link", name=f"Book a time with {partner.name}").click()
    expect(heading(page)).to_have_text(f"Book a time with {partner.name}")
    check_accessible(page)
    page.get_by_role("button", name=f"{day_text(day)} 14:30–15:00", exact=True).click()
    expect(flash(page)).to_have_text("The appointment is made. Print the card for the resident.")
    db.session.rollback()
    booking = db.session.scalars(sa.select(Booking)).one()
    assert booking.booked_via is BookedVia.REFERRAL and booking.created_by_id == librarian.id
    assert only_referral().booking_id == booking.id
    local = datetime.combine(day, time(14, 30), AMS).astimezone(UTC)
    assert booking.slot_start == local and booking.name == "Fatima"
    appointment = page.get_by_role("region", name="Appointment", exact=True)
    expect(appointment).to_contain_text(booking.display_code)
    expect(page.get_by_role("link", name=f"Book a time with {partner.name}")).to_have_count(0)
    check_accessible(page)

    # The card, in the resident's language (English).
    page.get_by_role("link", name="Print appointment card").click()
    expect(heading(page)).to_have_text("Appointment card")
    expect(page.locator(".card-date")).to_have_text(day_text(day))
    expect(page.locator(".card-time")).to_have_text("14:30–15:00")
    expect(page.locator(".card-code")).to_have_text(booking.display_code)
    check_accessible(page)
    page.get_by_role("link", name="Back").click()
    expect(heading(page)).to_have_text(f"Referral {referral.id}: Taxes")


def test_receiving_partner_closes_the_loop_and_the_sender_sees_only_the_status(
    page, js, pages, log_in, check_accessible, partner_staff, librarian, partner, make_topic
):
    """The partner finds the new referral in its inbox (counted in the menu), filters it,
    moves it to in contact with an internal note and then to done; the library sees the
    statuses, not the note."""
    money = make_topic(slug="money", name_en="Money", name_nl="Geld")
    taxes = db.session.scalars(sa.select(Topic).where(Topic.slug == "taxes")).one()
    referral = write_warm(
        librarian, partner, money, request="Wants help with a payment plan", language="en"
    )
    write_warm(librarian, partner, taxes, resident_name="Jan")
    log_in(page, partner_staff)

    # The menu counts two new referrals; the inbox lists them.
    nav = page.get_by_role("navigation", name="Staff menu")
    expect(nav.get_by_role("link", name="Referrals 2 new")).to_be_visible()
    nav.get_by_role("link", name="Referrals 2 new").click()
    expect(heading(page)).to_have_text(f"Referrals to {partner.name}")
    results = page.locator("#referral-results")
    expect(results.get_by_role("heading", level=2).first).to_have_text("2 referrals")
    check_accessible(page)

    # Filter by topic: with htmx the results follow the choice; without, the Show button.
    if js:
        page.evaluate("window.__samePage = true")
        page.get_by_label("Topic").select_option(label="Money")
    else:
        page.get_by_label("Topic").select_option(label="Money")
        page.get_by_role("button", name="Show").click()
    expect(results.get_by_role("heading", level=2).first).to_have_text("1 referral")
    expect(page).to_have_url("/portal/referrals/?status=open&topic=money")
    if js:
        assert page.evaluate("window.__samePage === true"), "expected an htmx swap"
    check_accessible(page)
    results.get_by_role("link", name=f"Referral {referral.id}: Money").click()

    # The referral: who, how to reach them, the consent.
    expect(heading(page)).to_have_text(f"Referral {referral.id}: Money")
    expect(page.get_by_role("region", name="The resident")).to_contain_text(
        "Wants help with a payment plan"
    )
    check_accessible(page)
    page.get_by_label("Short note (only your organisation sees it)").fill(NOTE)
    page.get_by_role("button", name="In contact", exact=True).click()
    expect(flash(page)).to_have_text("Status: In contact.")
    expect(page.get_by_role("region", name="Our work on this referral")).to_contain_text(NOTE)
    check_accessible(page)
    page.get_by_role("button", name="Done: helped").click()
    expect(flash(page)).to_have_text("Status: Done.")
    expect(page.get_by_role("button", name="Done: helped")).to_have_count(0)
    check_accessible(page)
    db.session.rollback()  # end the test's snapshot: see what the server wrote
    assert db.session.get(Referral, referral.id).status is ReferralStatus.DONE

    # The library sees the statuses with their dates, and not the partner's note.
    sender = pages.open(js=js)
    log_in(sender, librarian)
    sender.goto("/portal/referrals/sent")
    expect(heading(sender)).to_have_text("Referrals from Bibliotheek Stichtse Vecht")
    item = sender.get_by_role("listitem").filter(
        has=sender.get_by_role("link", name=f"Referral {referral.id}: Money")
    )
    expect(item).to_contain_text("Done")
    check_accessible(sender)
    item.get_by_role("link", name=f"Referral {referral.id}: Money").click()
    history = sender.get_by_role("region", name="Status", exact=True)
    expect(history.get_by_role("listitem")).to_contain_text(["Received", "In contact", "Done"])
    expect(sender.get_by_text(NOTE)).to_have_count(0)
    expect(sender.get_by_role("button", name="Done: helped")).to_have_count(0)
    check_accessible(sender)

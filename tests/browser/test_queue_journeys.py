"""A library volunteer's desk: someone comes in, is taken and helped, and the contact is
registered in at most three interactions after "finish"; a contact helped earlier is picked
up from the still-to-register list until it is empty. With and without JavaScript, on a
desktop and on a 320 px wide screen, with axe on every page."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import Channel, Duration, HowHelped, Registration, Role, VisitStatus
from app.services import visits
from tests.browser.conftest import staff_menu
from tests.desk_helpers import walk_in_hours

pytestmark = pytest.mark.browser

# Chromium puts a space before the visually hidden part of a name.
REGISTER_FIRST = re.compile(r"^Register ?: number 1, ")


@pytest.fixture
def desk(make_series, make_org, make_location, library, library_location, make_topic):
    """The library's walk-in hours at its branch today, and two categories."""
    make_topic(slug="taxes", name_en="Taxes", name_nl="Belastingen")
    make_topic(slug="digid", name_en="DigiD", name_nl="DigiD")
    return walk_in_hours(
        make_series, make_org, make_location, provider=library, location=library_location
    )


def heading(page: Page):
    return page.get_by_role("heading", level=1)


class Counter:
    """Counts what a person does on the page: each click or choice is one interaction."""

    def __init__(self) -> None:
        self.count = 0

    def click(self, locator) -> None:
        self.count += 1
        locator.click()

    def check(self, locator) -> None:
        self.count += 1
        locator.check()


def test_walk_in_is_taken_finished_and_registered_in_three_interactions(
    pages, js, viewport, desk, make_account, library, log_in, check_page
):
    """Queue → someone came in → take the next one → finish; then category, how helped and
    save are the only interactions. The earlier contact waiting in "still to register" is
    registered from that list, which then says everything is registered."""
    volunteer = make_account(Role.VOLUNTEER, library, "Vera Volunteer")
    earlier = visits.add_walk_in(desk)
    earlier.status = VisitStatus.FINISHED
    db.session.commit()
    page = pages.open(js=js, viewport=viewport)
    log_in(page, volunteer)
    menu = staff_menu(page)
    expect(menu.get_by_role("link", name="Still to register 1")).to_be_visible()

    menu.get_by_role("link", name="Queue").click()
    expect(heading(page)).to_have_text("Who is waiting at Bibliotheek Maarssen")
    check_page(page)
    page.get_by_role("button", name="Someone came in").click()
    expect(page.get_by_role("status")).to_have_text("Number 2 is waiting.")
    waiting = page.get_by_role("region", name="Waiting (1)")
    expect(waiting.get_by_role("listitem")).to_contain_text("Walk-in")
    check_page(page)

    page.get_by_role("button", name="Take the next one").click()
    expect(page.get_by_role("status")).to_have_text("You are helping number 2.")
    check_page(page)
    page.get_by_role("button", name="Finish number 2").click()
    expect(heading(page)).to_have_text("Register number 2")
    check_page(page)

    counter = Counter()
    counter.check(page.get_by_role("radio", name="Taxes"))
    counter.check(page.get_by_role("radio", name="Showed how"))
    counter.click(page.get_by_role("button", name="Save"))
    expect(page.get_by_role("status")).to_have_text("The contact is registered.")
    expect(heading(page)).to_have_text("Who is waiting at Bibliotheek Maarssen")
    assert counter.count <= 3
    check_page(page)
    db.session.rollback()  # end the test's snapshot: read what the requests wrote
    registration = db.session.scalars(sa.select(Registration)).one()
    assert (registration.channel, registration.duration) == (Channel.DESK, Duration.UNDER_10)
    assert registration.questions[0].how_helped is HowHelped.SHOWN_HOW
    assert registration.questions[0].topic.slug == "taxes"

    # The earlier contact: from the list, registered, and the list is empty.
    page.get_by_role("link", name="Still to register").first.click()
    expect(heading(page)).to_have_text("Still to register")
    expect(page.get_by_role("link", name=REGISTER_FIRST)).to_have_count(1)
    check_page(page)
    page.get_by_role("link", name=REGISTER_FIRST).click()
    expect(heading(page)).to_have_text("Register number 1")
    page.get_by_role("radio", name="DigiD").check()
    page.get_by_role("radio", name="Gave information").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("The contact is registered.")
    expect(heading(page)).to_have_text("Still to register")
    expect(page.get_by_text("Everything has been registered.")).to_be_visible()
    expect(menu.get_by_role("link", name="Still to register 1")).to_have_count(0)
    check_page(page)


def test_a_phone_contact_with_two_questions(
    pages, js, desk, make_account, library, check_page, log_in
):
    """ "Add another question" works with and without JavaScript and keeps what was chosen;
    the second question is referred to an organisation of the network."""
    staff = make_account(Role.STAFF, library, "Sam Staff")
    page = pages.open(js=js)
    log_in(page, staff)
    page.goto("/portal/registrations/new")
    expect(heading(page)).to_have_text("Register a contact")
    check_page(page)
    page.get_by_role("radio", name="Phone").check()
    page.get_by_role("radio", name="Taxes").check()
    page.get_by_role("radio", name="Gave information").check()
    page.get_by_role("button", name="Add another question").click()
    second = page.get_by_role("group", name="Question 2")
    expect(second).to_be_visible()
    expect(page.get_by_role("radio", name="Phone")).to_be_checked()
    expect(
        page.get_by_role("group", name="Question 1").get_by_role("radio", name="Taxes")
    ).to_be_checked()
    check_page(page)
    second.get_by_role("radio", name="DigiD").check()
    second.get_by_role("radio", name="Referred").check()
    second.get_by_label("Referred to an organisation in the network").select_option(
        label="Bibliotheek Stichtse Vecht"
    )
    page.get_by_role("radio", name="10 to 20 minutes").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("The contact is registered.")
    check_page(page)
    db.session.rollback()  # end the test's snapshot: read what the requests wrote
    registration = db.session.scalars(sa.select(Registration)).one()
    assert registration.channel is Channel.PHONE and len(registration.questions) == 2
    assert registration.questions[1].referred_organisation_id == library.id

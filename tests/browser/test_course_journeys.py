"""Residents find a course from the start page, sign up with only a first name, print the
card and later sign off with the code; a second resident lands on the waiting list and gets
the place (and one mail) when the first signs off. With and without JavaScript, on a desktop
and on a 320 px wide screen, with axe checking every page shown."""

from datetime import time, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app import clock
from app.extensions import db
from app.models import Course, Enrolment, EnrolmentStatus
from app.services import courses, mail
from app.services.courses import CourseData, SignUp

pytestmark = pytest.mark.browser

TITLE = "Klik & Tik: de basis"


@pytest.fixture
def course(library, library_location) -> Course:
    """Three weekly sessions at the library in Maarssen, two places."""
    library_location.accessibility = "Step-free entrance, lift to the first floor."
    made = courses.create_course(
        library,
        CourseData(
            title=TITLE,
            description="For beginners: the mouse, the keyboard, the internet and email.",
            location=library_location,
            capacity=2,
            first_date=clock.today() + timedelta(days=7),
            start_time=time(14, 0),
            end_time=time(15, 30),
            sessions=3,
        ),
        None,
    )
    db.session.commit()
    return made


@pytest.fixture
def resident_page(pages, js, viewport) -> Page:
    return pages.open(js=js, viewport=viewport)


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def enrolment_named(name: str) -> Enrolment:
    db.session.rollback()  # end the test's snapshot: see what the server wrote
    return db.session.scalars(sa.select(Enrolment).where(Enrolment.name == name)).one()


def test_resident_finds_signs_up_prints_and_signs_off(
    resident_page, js, pages, viewport, course, check_page, day_text
):
    page = resident_page
    sessions = [s.date for s in course.sessions]

    # From the start page to the courses and this course's page.
    page.goto("/")
    check_page(page)
    page.get_by_role("link", name="Courses: learn it yourself").click()
    expect(heading(page)).to_have_text("Courses")
    expect(page).to_have_url("/cursussen")
    expect(page.get_by_text("2 places left")).to_be_visible()
    check_page(page)
    page.get_by_role("link", name=TITLE).click()

    expect(heading(page)).to_have_text(TITLE)
    expect(page).to_have_url(f"/cursussen/{course.id}-klik-tik-de-basis")
    expect(page.get_by_text("For beginners: the mouse")).to_be_visible()
    expect(page.get_by_text("Step-free entrance, lift to the first floor.")).to_be_visible()
    expect(
        page.get_by_text("Bring your own laptop, tablet or phone, or borrow a library laptop.")
    ).to_be_visible()
    expect(page.locator(".course-sessions li")).to_have_text(
        [f"{day_text(day)}, 14:00–15:30" for day in sessions]
    )
    expect(page.get_by_text("2 places left")).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="Sign up for this course").click()

    # Only a first name.
    expect(heading(page)).to_have_text(f"Sign up: {TITLE}")
    check_page(page)
    page.get_by_role("button", name="Sign up").click()
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading")).to_have_text("Please check the form")
    check_page(page)
    page.get_by_label("Your first name or initials").fill("Fatima")
    page.get_by_role("button", name="Sign up").click()

    expect(heading(page)).to_have_text("You are signed up")
    expect(page).to_have_url("/cursussen/mijn-aanmelding/overzicht")
    enrolment = enrolment_named("Fatima")
    assert enrolment.status is EnrolmentStatus.PARTICIPANT and enrolment.phone == ""
    code = enrolment.display_code
    expect(page.locator("dd.code")).to_have_text(code)
    expect(page.get_by_text("You have a place on the course.")).to_be_visible()
    check_page(page)

    # The printable card with every session.
    page.get_by_role("link", name="Print the card").click()
    expect(heading(page)).to_have_text("Course card")
    card = page.get_by_role("article")
    expect(card.get_by_role("listitem")).to_have_text(
        [f"{day_text(day)}, 14:00–15:30" for day in sessions]
    )
    expect(card.locator(".card-code")).to_have_text(code)
    if js:
        page.evaluate("window.print = () => { window.__printed = true }")
        page.get_by_role("button", name="Print").click()
        assert page.evaluate("window.__printed === true")
    else:
        expect(page.get_by_text("Use the print function of your browser.")).to_be_visible()
    check_page(page)

    # Later, in another browser: the code and the name open the sign-up; sign off.
    later = pages.open(js=js, viewport=viewport)
    later.goto("/cursussen")
    later.get_by_role("link", name="I am signed up for a course").click()
    expect(heading(later)).to_have_text("My course")
    check_page(later)
    later.get_by_label("Your code").fill(code.lower())
    later.get_by_label("Your phone number, or the name you gave").fill("Someone else")
    later.get_by_role("button", name="Find my sign-up").click()
    expect(later.get_by_role("alert")).to_contain_text(
        "We cannot find a sign-up with this code and phone number or name."
    )
    check_page(later)
    later.get_by_label("Your phone number, or the name you gave").fill("fatima")
    later.get_by_role("button", name="Find my sign-up").click()
    expect(heading(later)).to_have_text("Your sign-up")
    check_page(later)
    later.get_by_role("link", name="Sign off").click()
    expect(heading(later)).to_have_text("Do you want to sign off?")
    check_page(later)
    later.get_by_role("button", name="Yes, sign me off").click()
    expect(heading(later)).to_have_text("You are signed off")
    expect(later.get_by_role("status")).to_have_text(
        "You are signed off. Your place goes to someone else."
    )
    check_page(later)
    assert enrolment_named("Fatima").status is EnrolmentStatus.REMOVED


def test_a_waiting_resident_gets_the_freed_place(
    resident_page, js, pages, viewport, course, check_page, smtp_server
):
    page = resident_page
    first = courses.sign_up(course, SignUp(name="Ans"))
    courses.sign_up(course, SignUp(name="Bert"))
    db.session.commit()

    # The course is full: the second resident goes on the waiting list.
    page.goto(f"/cursussen/{course.id}-klik-tik-de-basis")
    expect(page.get_by_text("Full: you can go on the waiting list")).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="Go on the waiting list").click()
    expect(page.get_by_text("The course is full. You go on the waiting list.")).to_be_visible()
    page.get_by_label("Your first name or initials").fill("Chris")
    page.get_by_label("Email address (not required)").fill("chris@example.org")
    page.get_by_label("Which language do you prefer?").select_option(label="English")
    page.get_by_role("button", name="Sign up").click()
    expect(heading(page)).to_have_text("You are on the waiting list")
    expect(page.get_by_text("You are number 1 on the waiting list.")).to_be_visible()
    check_page(page)
    mail.send_pending()  # the confirmation
    assert [m["To"] for m in smtp_server.messages] == ["chris@example.org"]

    # Ans signs off with her secret link; the place goes to Chris, who is mailed once.
    ans = pages.open(js=js, viewport=viewport)
    ans.goto(f"/cursussen/aanmelding/link/{first.token}")
    expect(heading(ans)).to_have_text("Your sign-up")
    ans.get_by_role("link", name="Sign off").click()
    ans.get_by_role("button", name="Yes, sign me off").click()
    expect(heading(ans)).to_have_text("You are signed off")

    page.reload()
    expect(heading(page)).to_have_text("Your sign-up")
    expect(page.get_by_text("You have a place on the course.")).to_be_visible()
    check_page(page)
    assert enrolment_named("Chris").status is EnrolmentStatus.PARTICIPANT
    assert mail.send_pending() == (1, 0)
    promoted = smtp_server.messages[-1]
    assert promoted["To"] == "chris@example.org"
    assert promoted["Subject"] == f"A place for you: {TITLE}"


def test_staff_sign_a_resident_up_at_the_desk(page, js, course, library_admin, log_in, check_page):
    """From the desk: the course, the resident's first name and phone, the code and the card."""
    log_in(page, library_admin)
    page.get_by_role("link", name="Desk").click()
    page.get_by_role("link", name="Sign up for a course").click()
    expect(heading(page)).to_have_text("Sign a resident up for a course")
    check_page(page)
    page.get_by_role("link", name=f"Sign up for {TITLE}").click()
    expect(heading(page)).to_have_text(f"Sign up for {TITLE}")
    check_page(page)
    page.get_by_label("First name or initials of the resident").fill("Wim")
    page.get_by_label("Phone number (not required)").fill("06 34567890")
    page.get_by_role("button", name="Sign the resident up").click()

    expect(heading(page)).to_have_text("Course sign-up")
    expect(page.get_by_role("status")).to_have_text(
        "The resident is signed up. Print the card for the resident."
    )
    enrolment = enrolment_named("Wim")
    expect(page.locator("dd.code")).to_have_text(enrolment.display_code)
    check_page(page)
    page.get_by_role("link", name="Print the card").click()
    expect(heading(page)).to_have_text("Course card")
    expect(page.locator(".card-code")).to_have_text(enrolment.display_code)
    check_page(page)

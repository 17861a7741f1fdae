"""The library's staff run their course: they give a session a new time, cancel another with
a reason, and mark on the printable participant list of a session held who came. With and
without JavaScript, on a desktop and on a 320 px wide screen, with axe on every page."""

from datetime import time, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app import clock
from app.extensions import db
from app.models import Attendance, CourseSession, OutboxMessage, Role
from app.services import courses
from app.services.courses import CourseData
from tests.referral_helpers import RESIDENT, write_warm

pytestmark = pytest.mark.browser


@pytest.fixture
def course(library, library_location, partner, make_account, make_topic):
    """Digisterker at the library: four weekly sessions, the first one held a week ago; two
    residents referred by the partner, one with an e-mail address."""
    course = courses.create_course(
        library,
        CourseData(
            title="Digisterker",
            location=library_location,
            capacity=8,
            first_date=clock.today() + timedelta(days=1),
            start_time=time(10, 0),
            end_time=time(12, 0),
        ),
        None,
    )
    course.sessions[0].date = clock.today() - timedelta(days=7)
    db.session.commit()
    topic = make_topic(slug="computer", name_en="Computer", name_nl="Computer")
    referrer = make_account(Role.STAFF, partner, "Petra Partner")
    write_warm(referrer, library, topic, course=course, email="fatima@example.org", language="en")
    write_warm(referrer, library, topic, course=course, resident_name="Jan Jansen")
    return course


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def sessions_table(page: Page):
    return page.get_by_role("region", name="Sessions")


def test_staff_move_a_session_cancel_one_and_mark_attendance_on_the_printable_list(
    pages, js, viewport, course, library_admin, log_in, check_page, day_text
):
    held, moved, cancelled = course.sessions[:3]
    page = pages.open(js=js, viewport=viewport)
    log_in(page, library_admin)
    page.goto(f"/portal/courses/{course.id}")
    expect(heading(page)).to_have_text("Digisterker")
    check_page(page)

    # A new time for the second session: a day later, in the afternoon.
    new_day = moved.date + timedelta(days=1)
    sessions_table(page).get_by_role("link", name=f"Change {day_text(moved.date)}").click()
    expect(heading(page)).to_have_text("Change a session")
    check_page(page)
    page.get_by_label("Date").fill(new_day.isoformat())
    page.get_by_label("Start time").fill("13:30")
    page.get_by_label("End time").fill("15:30")
    page.get_by_role("button", name="Save the new time").click()
    expect(heading(page)).to_have_text("Digisterker")
    expect(page.get_by_role("status")).to_contain_text("The session has its new time.")
    expect(page.get_by_role("status")).to_contain_text("1 participant was told by e-mail.")
    expect(page.get_by_role("status")).to_contain_text(
        "1 participant has no e-mail address: please call them."
    )
    row = sessions_table(page).get_by_role("row").filter(has_text=day_text(new_day))
    expect(row).to_contain_text("13:30–15:30")
    check_page(page)

    # Cancel the third session: a reason is needed, and the participants read it.
    sessions_table(page).get_by_role("link", name=f"Cancel {day_text(cancelled.date)}").click()
    expect(heading(page)).to_have_text("Cancel a session")
    page.get_by_role("button", name="Cancel this session").click()
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading")).to_have_text("Please check the form")
    check_page(page)
    page.get_by_label("Reason (participants read it)").fill("The trainer is ill")
    page.get_by_role("button", name="Cancel this session").click()
    expect(page.get_by_role("status")).to_contain_text("The session is cancelled.")
    row = sessions_table(page).get_by_role("row").filter(has_text=day_text(cancelled.date))
    expect(row).to_contain_text("Cancelled: The trainer is ill")
    expect(row.get_by_role("link", name=f"Change {day_text(cancelled.date)}")).to_have_count(0)
    check_page(page)

    db.session.rollback()  # end the test's snapshot: see what the server wrote
    assert db.session.get(CourseSession, cancelled.id).cancelled_at is not None
    subjects = db.session.scalars(
        sa.select(OutboxMessage.subject).where(OutboxMessage.recipient == "fatima@example.org")
    ).all()
    assert sorted(subjects) == [
        "A session of Digisterker is cancelled",
        "New time for a session of Digisterker",
    ]

    # The list of the session held a week ago: print it, and mark who came.
    sessions_table(page).get_by_role(
        "link", name=f"List and attendance {day_text(held.date)}"
    ).click()
    expect(heading(page)).to_have_text("Participant list: Digisterker")
    # A page of its own (never swapped into the portal's layout): nothing but the list.
    expect(page.get_by_role("navigation")).to_have_count(0)
    expect(page.locator('link[href$="course-list.css"]')).to_have_count(1)
    check_page(page)
    page.get_by_label(f"Came: {RESIDENT}").check()
    page.get_by_label("Did not come: Jan Jansen").check()
    page.get_by_role("button", name="Save attendance").click()
    expect(page.get_by_role("status")).to_have_text("Attendance is saved.")
    expect(page.get_by_label(f"Came: {RESIDENT}")).to_be_checked()
    expect(page.get_by_label("Did not come: Jan Jansen")).to_be_checked()
    check_page(page)
    page.emulate_media(media="print")
    expect(page.locator(".no-print").first).to_be_hidden()
    expect(page.get_by_role("button", name="Save attendance")).to_be_hidden()
    expect(page.get_by_role("table")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("Jan Jansen")
    page.emulate_media(media="screen")

    db.session.rollback()
    marks = (
        db.session.execute(sa.select(Attendance.present).order_by(Attendance.enrolment_id))
        .scalars()
        .all()
    )
    assert marks == [True, False]

    # Back on the course: 1 of the 2 marked came to that session.
    page.get_by_role("link", name="Back to the course").click()
    row = sessions_table(page).get_by_role("row").filter(has_text=day_text(held.date))
    expect(row).to_contain_text("1 of 2")
    check_page(page)

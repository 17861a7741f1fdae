"""Courses partners refer residents to: a place, or a place on the waiting list; places given
back move the queue up; only the organisation giving the course sees who is on it."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    AuditAction,
    AuditEntry,
    Course,
    Enrolment,
    EnrolmentStatus,
    OrganisationKind,
    ReferralKind,
    ReferralStatus,
    Role,
)
from app.services import DomainError, courses, referrals
from app.services.courses import CourseClosed, CourseData
from tests.referral_helpers import RESIDENT, write_signpost, write_warm


@pytest.fixture
def library(make_org):
    return make_org(kind=OrganisationKind.LIBRARY, name="Bibliotheek Vechtdal")


@pytest.fixture
def partner(make_org):
    return make_org(name="Welzijn Vechtdal")


@pytest.fixture
def topic(make_topic):
    return make_topic(slug="computer", name_nl="Computer en telefoon", name_en="Computer")


@pytest.fixture
def partner_staff(make_user, partner):
    return make_user(Role.STAFF, partner)


@pytest.fixture
def library_staff(make_user, library):
    return make_user(Role.STAFF, library)


@pytest.fixture
def make_course(library, make_location):
    location = make_location(organisation=library, name="Bibliotheek Maarssen")

    def make(capacity: int = 8, title: str = "Digisterker") -> Course:
        course = courses.create_course(
            library,
            CourseData(
                title=title,
                location=location,
                capacity=capacity,
                first_date=clock.today() + timedelta(days=7),
                start_time=time(10, 0),
                end_time=time(12, 0),
                sessions=4,
            ),
            None,
        )
        db.session.commit()
        return course

    return make


def enrolment_of(referral) -> Enrolment:
    db.session.expire_all()
    return db.session.scalar(sa.select(Enrolment).where(Enrolment.referral_id == referral.id))


def test_a_course_has_its_sessions_and_places(make_course):
    """Digisterker: four weekly sessions of two hours, at most eight residents."""
    course = make_course()
    assert course.capacity == 8
    first = clock.today() + timedelta(days=7)
    assert [(s.date, s.start_time, s.end_time) for s in course.sessions] == [
        (first + timedelta(weeks=n), time(10, 0), time(12, 0)) for n in range(4)
    ]
    assert courses.places_left(course) == 8


def test_a_full_course_puts_residents_on_the_waiting_list_in_order(
    make_course, partner_staff, library, topic
):
    """With two places, the third and fourth resident wait, in the order they came."""
    course = make_course(capacity=2)
    sent = [write_warm(partner_staff, library, topic, course=course) for _ in range(4)]
    statuses = [enrolment_of(r).status for r in sent]
    assert statuses == [EnrolmentStatus.PARTICIPANT] * 2 + [EnrolmentStatus.WAITING] * 2
    assert [courses.queue_place(enrolment_of(r)) for r in sent] == [None, None, 1, 2]
    assert courses.counts(course) == (2, 2) and courses.places_left(course) == 0


def test_a_place_given_back_goes_to_the_first_on_the_waiting_list(
    make_course, partner_staff, library_staff, library, topic
):
    """Not reached: the seat goes to whoever waited longest; the next one moves up."""
    course = make_course(capacity=1)
    first, second, third = (
        write_warm(partner_staff, library, topic, course=course) for _ in range(3)
    )
    referrals.update(first, library_staff, ReferralStatus.NOT_REACHED)
    db.session.commit()
    assert enrolment_of(first).status is EnrolmentStatus.REMOVED
    assert enrolment_of(second).status is EnrolmentStatus.PARTICIPANT
    assert courses.queue_place(enrolment_of(third)) == 1


def test_withdrawn_consent_gives_the_place_back(make_course, partner_staff, library, topic):
    """The resident's name leaves the list at once; the next one gets the place."""
    course = make_course(capacity=1)
    first = write_warm(partner_staff, library, topic, course=course)
    second = write_warm(partner_staff, library, topic, course=course)
    referrals.withdraw_consent(first, partner_staff)
    db.session.commit()
    assert enrolment_of(first).status is EnrolmentStatus.REMOVED
    assert enrolment_of(second).status is EnrolmentStatus.PARTICIPANT


def test_done_keeps_the_place(make_course, partner_staff, library_staff, library, topic):
    """A resident who was helped (done) stays on the course."""
    course = make_course(capacity=1)
    referral = write_warm(partner_staff, library, topic, course=course)
    referrals.update(referral, library_staff, ReferralStatus.DONE)
    assert enrolment_of(referral).status is EnrolmentStatus.PARTICIPANT


def test_the_database_never_gives_one_seat_twice(make_course, partner_staff, library, topic):
    """Even bypassing the service, two residents cannot hold the same seat."""
    course = make_course(capacity=2)
    first = write_warm(partner_staff, library, topic, course=course)
    second = write_warm(partner_staff, library, topic, course=course)
    enrolment_of(second).seat = enrolment_of(first).seat
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_closed_course_takes_no_referrals(make_course, partner_staff, library, topic):
    course = make_course()
    course.open_for_referrals = False
    db.session.commit()
    with pytest.raises(CourseClosed):
        write_warm(partner_staff, library, topic, course=course)


def test_signposting_to_a_course_puts_nobody_on_a_list(make_course, partner_staff, library, topic):
    """Without consent the resident only gets the slip with the course's dates."""
    course = make_course()
    referral = write_signpost(partner_staff, library, topic, course=course)
    assert referral.kind is ReferralKind.SIGNPOST and referral.enrolment is None
    assert courses.counts(course) == (0, 0)


def test_the_library_refers_to_its_own_course(make_course, library_staff, library, topic):
    """A course of one's own organisation is the one self-referral that makes sense."""
    course = make_course()
    referral = write_warm(library_staff, library, topic, course=course)
    assert enrolment_of(referral).status is EnrolmentStatus.PARTICIPANT


def test_only_the_course_organisation_sees_the_names_on_its_lists(
    client, app, login, make_course, make_user, partner_staff, library, topic
):
    """The library's staff see names; the referring partner sees its own referral's place;
    others see numbers only."""
    course = make_course(capacity=1)
    first = write_warm(partner_staff, library, topic, course=course)
    second = write_warm(partner_staff, library, topic, course=course, resident_name="Jan")

    def page_for(user, url):
        browser = app.test_client()
        browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        login(user, test_client=browser)
        return browser.get(url).get_data(as_text=True)

    librarian = make_user(Role.STAFF, library)
    library_page = page_for(librarian, f"/portal/courses/{course.id}")
    assert RESIDENT in library_page and "Jan" in library_page
    # Each name shown is a view of that referral in the audit log.
    viewed = db.session.scalars(
        sa.select(AuditEntry.referral_id).where(
            AuditEntry.action == AuditAction.VIEW, AuditEntry.user_id == librarian.id
        )
    ).all()
    assert sorted(viewed) == sorted([first.id, second.id])
    partner_page = page_for(partner_staff, f"/portal/courses/{course.id}")
    assert RESIDENT not in partner_page and "1 of 1 places taken" in partner_page
    referral_page = page_for(partner_staff, f"/portal/referrals/{second.id}")
    assert "On the waiting list" in referral_page and "number 1" in referral_page
    volunteer_page = page_for(make_user(Role.VOLUNTEER, library), f"/portal/courses/{course.id}")
    assert RESIDENT not in volunteer_page
    assert first.id


def test_staff_offer_a_course_through_the_form(
    client, login, library_staff, make_location, library
):
    """Title, place, capacity and the sessions: the course is open for referrals."""
    location = make_location(organisation=library, name="Bibliotheek Breukelen")
    login(library_staff)
    first = clock.today() + timedelta(days=10)
    response = client.post(
        "/portal/courses/new",
        data={
            "title": "Klik & Tik",
            "location": location.id,
            "capacity": 6,
            "first_date": first.isoformat(),
            "start_time": "14:00",
            "end_time": "15:30",
            "sessions": 3,
            "interval_weeks": 1,
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    course = db.session.scalar(sa.select(Course))
    assert course.title == "Klik & Tik" and len(course.sessions) == 3 and course.capacity == 6
    assert course.organisation_id == library.id
    assert "Klik &amp; Tik" in client.get("/portal/courses/").get_data(as_text=True)


def test_staff_give_a_course_a_topic_what_to_work_on_and_intake_hours(
    client, login, library_staff, make_location, library, partner, topic, make_series
):
    """The form offers the public topics, what participants work on and the library's own
    appointment hours for the intake; residents then find the course with the topic, read
    what to bring and choose an intake time. Hours of another organisation are refused."""
    location = make_location(organisation=library, name="Bibliotheek Breukelen")
    intake_hours = make_series(provider=library, location=location, title="Intake Digisterker")
    others = make_series(provider=partner, title="Spreekuur van een ander")
    login(library_staff)
    form = client.get("/portal/courses/new").get_data(as_text=True)
    assert "Intake Digisterker" in form and "Spreekuur van een ander" not in form
    assert topic.name_nl in form
    first = clock.today() + timedelta(days=14)
    data = {
        "title": "Digisterker",
        "location": location.id,
        "capacity": 8,
        "first_date": first.isoformat(),
        "start_time": "10:00",
        "end_time": "12:00",
        "sessions": 4,
        "interval_weeks": 1,
        "device": "library",
        "topic": topic.id,
        "needs_intake": "y",
        "intake_series": others.id,
    }
    refused = client.post("/portal/courses/new", data=data)
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(Course)) is None
    with pytest.raises(DomainError, match="uw eigen organisatie"):
        courses.create_course(
            library,
            CourseData(
                title="Digisterker",
                location=location,
                capacity=8,
                first_date=first,
                start_time=time(10, 0),
                end_time=time(12, 0),
                needs_intake=True,
                intake_series=others,
            ),
            library_staff,
        )
    db.session.rollback()

    response = client.post("/portal/courses/new", data={**data, "intake_series": intake_hours.id})
    assert response.status_code == 303, response.get_data(as_text=True)
    course = db.session.scalar(sa.select(Course))
    assert (course.topic_id, course.device.value, course.needs_intake) == (
        topic.id,
        "library",
        True,
    )
    assert course.intake_series_id == intake_hours.id
    client.get("/auth/logout")
    page = client.get(f"/cursussen/{course.id}", follow_redirects=True).get_data(as_text=True)
    assert "U werkt op een laptop van de bibliotheek." in page
    assert "U kiest een tijd als u zich aanmeldt." in page
    topic_page = client.get(f"/spreekuren?onderwerp={topic.slug}").get_data(as_text=True)
    assert "Digisterker" in topic_page
    sign_up = client.get(f"/cursussen/{course.id}/aanmelden").get_data(as_text=True)
    assert 'name="intake"' in sign_up


def test_a_cancelled_session_shows_as_cancelled_and_gets_no_reminder(
    client, make_course, library_staff
):
    """Residents see a cancelled session struck through with the reason; the sessions left
    count only those that take place; no reminder is written for it."""
    from app.services import course_runs, reminders

    course = make_course()
    session = course.sessions[1]
    course_runs.cancel_session(session, "De bibliotheek is dicht", library_staff)
    db.session.commit()
    page = client.get(f"/cursussen/{course.id}", follow_redirects=True).get_data(as_text=True)
    assert page.count("<del>") == 1 and "De bibliotheek is dicht" in page
    cancelled_start = courses.session_start(course, session)
    due = reminders.due_sessions(cancelled_start - timedelta(hours=20))
    assert session not in [due_session for due_session, _start, _end in due]


def test_volunteers_do_not_offer_courses(client, login, make_user, library):
    login(make_user(Role.VOLUNTEER, library))
    assert client.get("/portal/courses/new").status_code == 403

"""Residents sign up for a course without an account: a place or the waiting list, a code to
find it again, signing off; a freed place goes to the first waiting, who gets one mail; the
intake is booked with the sign-up or left for the desk to plan; sign-ups are erased on
schedule; nothing personal is on the public course pages and feeds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app import clock
from app.extensions import db
from app.models import (
    BookedVia,
    Booking,
    BookingStatus,
    Course,
    Device,
    Enrolment,
    EnrolmentStatus,
    Location,
    Organisation,
    OrganisationKind,
    OutboxMessage,
    Role,
)
from app.services import DomainError, courses, mail, retention
from app.services.courses import CourseClosed, CourseData, IntakeTaken, SignUp
from tests.conftest import app_in_context
from tests.referral_helpers import write_warm

AMS = ZoneInfo("Europe/Amsterdam")
EN = {"Accept-Language": "en"}


@pytest.fixture
def library(make_org):
    return make_org(kind=OrganisationKind.LIBRARY, name="Bibliotheek Vechtdal")


@pytest.fixture
def course_location(make_location, library):
    return make_location(
        organisation=library,
        name="Bibliotheek Maarssen",
        street="Harmonieplein 25",
        postcode="3603 BS",
        city="Maarssen",
        accessibility="Lift to the first floor, hearing loop at the desk.",
    )


@pytest.fixture
def make_course(library, course_location):
    def make(capacity: int = 8, title: str = "Digisterker", **extra) -> Course:
        values = {
            "title": title,
            "location": course_location,
            "capacity": capacity,
            "first_date": clock.today() + timedelta(days=7),
            "start_time": time(10, 0),
            "end_time": time(12, 0),
            "sessions": 4,
            "description": "You learn to log in with DigiD.",
            "device": Device.EITHER,
        }
        values.update(extra)
        course = courses.create_course(library, CourseData(**values), None)
        db.session.commit()
        return course

    return make


def sign_up(course, name="Fatima", **extra):
    signed_up = courses.sign_up(course, SignUp(name=name, **extra))
    db.session.commit()
    return signed_up.enrolment


def text(response) -> str:
    return response.get_data(as_text=True)


# The service ----------------------------------------------------------------------------------


def test_a_first_name_is_enough_for_a_place_with_a_code(make_course):
    """Only a first name: a seat on the course, a code without look-alikes, the name kept."""
    course = make_course(capacity=2)
    enrolment = sign_up(course, "Fatima")
    assert enrolment.status is EnrolmentStatus.PARTICIPANT and enrolment.seat == 1
    assert enrolment.referral_id is None and enrolment.booked_via is BookedVia.RESIDENT
    assert re.fullmatch(r"[ACDEFHJKMNPQRTUVWXY3479]{8}", enrolment.code)
    person = courses.participant(enrolment)
    assert (person.name, person.phone, person.email, person.language) == ("Fatima", "", "", "nl")
    assert courses.places_left(course) == 1


def test_a_full_course_puts_sign_ups_on_the_waiting_list_in_order(make_course):
    course = make_course(capacity=1)
    first, second, third = (sign_up(course, name) for name in ("Ans", "Bert", "Cor"))
    assert first.status is EnrolmentStatus.PARTICIPANT
    assert [courses.queue_place(e) for e in (second, third)] == [1, 2]


def test_the_participant_details_come_from_the_referral_or_the_sign_up(
    make_course, make_user, make_topic, library
):
    """One function answers name, contact and language for both kinds of enrolment."""
    course = make_course()
    partner_staff = make_user(Role.STAFF)
    referral = write_warm(
        partner_staff, library, make_topic(), course=course, resident_name="Ria", language="tr"
    )
    referred = db.session.scalar(sa.select(Enrolment).where(Enrolment.referral_id == referral.id))
    assert referred.name == "" and referred.code is None
    assert courses.participant(referred).name == "Ria"
    assert courses.participant(referred).language == "tr"
    own = sign_up(course, "Sam", email="sam@example.org", language="en")
    assert courses.participant(own).email == "sam@example.org"


@pytest.mark.parametrize(
    ("details", "field", "message"),
    [
        (SignUp(name="  "), "name", "Please fill in your first name or initials."),
        (SignUp(name="Jan", phone="abc"), "phone", "This phone number is not correct."),
        (SignUp(name="Jan 123456782"), "name", "Please do not write your BSN"),
    ],
)
def test_bad_details_are_refused_with_a_reason_and_nothing_is_written(
    make_course, details, field, message
):
    course = make_course()
    with force_locale("en"), pytest.raises(DomainError) as refused:
        courses.sign_up(course, details)
    db.session.rollback()
    assert refused.value.field == field and refused.value.message.startswith(message)
    assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 0


def test_a_closed_or_finished_course_takes_no_sign_ups(make_course):
    closed = make_course()
    closed.open_for_referrals = False
    past = make_course(first_date=clock.today(), sessions=1)
    past.sessions[0].date = clock.today() - timedelta(days=1)
    db.session.commit()
    for course in (closed, past):
        with pytest.raises(CourseClosed):
            courses.sign_up(course, SignUp(name="Jan"))
        db.session.rollback()


def test_the_code_finds_the_sign_up_with_the_name_or_phone_only(make_course):
    course = make_course()
    enrolment = sign_up(course, "Fatima", phone="06-12345678")
    code = enrolment.display_code.lower()
    assert courses.find_by_code(code, "fatima") == enrolment
    assert courses.find_by_code(code, "06 1234 5678") == enrolment
    assert courses.find_by_code(code, "Someone") is None
    assert courses.find_by_code("ACDE-FH37", "Fatima") is None


def test_signing_off_gives_the_place_to_the_first_waiting(make_course):
    course = make_course(capacity=1)
    first, second, third = (sign_up(course, name) for name in ("Ans", "Bert", "Cor"))
    moved = courses.cancel(first)
    db.session.commit()
    assert moved == [second]
    assert first.status is EnrolmentStatus.REMOVED
    assert second.status is EnrolmentStatus.PARTICIPANT and second.seat == 1
    assert courses.queue_place(third) == 1
    with pytest.raises(DomainError):
        courses.cancel(first)


def test_the_promoted_resident_gets_one_mail_in_their_language(app, make_course, smtp_server):
    """Only the one who moved up is mailed, in English as they chose, through the outbox."""
    course = make_course(capacity=1, title="Klik & Tik")
    first = sign_up(course, "Ans", email="ans@example.org", language="nl")
    sign_up(course, "Bert", email="bert@example.org", language="en")
    sign_up(course, "Cor", email="cor@example.org", language="nl")
    db.session.execute(sa.delete(OutboxMessage))  # the confirmations of the sign-ups
    db.session.commit()

    courses.cancel(first)
    db.session.commit()
    assert mail.send_pending() == (1, 0)

    [received] = smtp_server.messages
    assert received["To"] == "bert@example.org"
    assert received["Subject"] == "A place for you: Klik & Tik"
    body = received.get_body(("plain",)).get_content()
    assert "Hello Bert," in body and "The place is yours now." in body
    [attachment] = list(received.iter_attachments())
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    assert len(calendar.walk("VEVENT")) == 4


def test_a_referred_resident_who_moves_up_is_mailed_without_a_code(
    app, make_course, make_user, make_topic, library
):
    """Whoever holds the place (a sign-up or a referral) is told: the referral's address and
    language, and no code, since a referred resident has none."""
    course = make_course(capacity=1, title="Klik & Tik")
    first = sign_up(course, "Ans")
    write_warm(
        make_user(Role.STAFF),
        library,
        make_topic(),
        course=course,
        resident_name="Ria",
        email="ria@example.org",
        language="en",
    )
    db.session.execute(sa.delete(OutboxMessage))
    courses.cancel(first)
    db.session.commit()
    [message] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert message.recipient == "ria@example.org"
    assert message.subject == "A place for you: Klik & Tik"
    assert "Hello Ria," in message.body and "Your code" not in message.body
    assert "Please tell Bibliotheek Vechtdal" in message.body


def test_a_promoted_resident_without_an_address_gets_no_mail(app, make_course):
    course = make_course(capacity=1)
    first = sign_up(course, "Ans")
    sign_up(course, "Bert")
    db.session.execute(sa.delete(OutboxMessage))
    courses.cancel(first)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


# The intake -------------------------------------------------------------------------------------


@pytest.fixture
def intake_course(make_course, make_series, library, course_location):
    """A course with an intake in the library's intake hours, every day 9:00-10:00."""
    hours = make_series(
        provider=library,
        location=course_location,
        title="Intake Digisterker",
        weekdays="0,1,2,3,4,5,6",
        start_date=clock.today(),
        start_time=time(9, 0),
        end_time=time(10, 0),
        slot_minutes=20,
        min_notice_hours=0,
    )
    return make_course(capacity=2, needs_intake=True, intake_series=hours)


def intake_at(days: int, hour: int = 9, minute: int = 0) -> datetime:
    day = clock.today() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), AMS).astimezone(UTC)


def test_an_intake_time_is_booked_with_the_sign_up(intake_course):
    free = courses.intake_slots(intake_course)
    assert free and all(f.slot.start.date() < intake_course.first_day for f in free)
    enrolment = sign_up(intake_course, "Fatima", intake_start=intake_at(2))
    intake = enrolment.intake_booking
    assert intake.status is BookingStatus.BOOKED and intake.slot_start == intake_at(2)
    assert intake.name == "Fatima" and not enrolment.intake_to_plan


def test_without_an_intake_time_the_desk_plans_it(intake_course):
    enrolment = sign_up(intake_course, "Fatima")
    assert enrolment.intake_booking is None and enrolment.intake_to_plan


def test_a_taken_intake_time_leaves_nothing_half_written(intake_course):
    sign_up(intake_course, "Ans", intake_start=intake_at(2))
    with pytest.raises(IntakeTaken):
        courses.sign_up(intake_course, SignUp(name="Bert", intake_start=intake_at(2)))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 1


def test_signing_off_cancels_the_coming_intake(intake_course):
    enrolment = sign_up(intake_course, "Fatima", intake_start=intake_at(2))
    courses.cancel(enrolment)
    db.session.commit()
    assert enrolment.intake_booking.status is BookingStatus.CANCELLED


# Retention --------------------------------------------------------------------------------------


def test_sign_ups_are_erased_after_the_last_session(app, make_course, monkeypatch):
    """COURSE_SIGNUP_RETENTION_DAYS after the last session the details and the mail go; the
    place on the list (as a count) stays. Referred residents' details stay with the referral."""
    course = make_course(sessions=1)
    signed_up = courses.sign_up(
        course, SignUp(name="Fatima", phone="0612345678", email="f@example.org")
    )
    courses.notify_signed_up(signed_up)  # the confirmation, with the name in it
    db.session.commit()
    enrolment = signed_up.enrolment
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1
    last = datetime.combine(course.last_day, time(12, 0), AMS)
    days = app.config["COURSE_SIGNUP_RETENTION_DAYS"]

    monkeypatch.setattr("app.clock.now", lambda: last + timedelta(days=days - 1))
    assert retention.run().course_sign_ups_erased == 0
    monkeypatch.setattr("app.clock.now", lambda: last + timedelta(days=days + 1))
    report = retention.run()
    assert report.course_sign_ups_erased == 1 and report.messages_deleted == 1
    db.session.expire_all()
    assert (enrolment.name, enrolment.phone, enrolment.email) == ("", "", "")
    assert enrolment.personal_data_erased_at is not None
    assert courses.counts(course) == (1, 0)
    assert courses.find_by_code(enrolment.code, "Fatima") is None


# The public pages -------------------------------------------------------------------------------


def test_the_course_page_says_what_when_where_and_the_places_left(client, make_course):
    course = make_course(capacity=2, what_to_bring="Your DigiD app")
    sign_up(course, "Ans")
    response = client.get(f"/cursussen/{course.id}-digisterker", headers=EN)
    assert response.status_code == 200
    page = text(response)
    for expected in (
        "You learn to log in with DigiD.",
        "Bibliotheek Maarssen",
        "Harmonieplein 25, 3603 BS Maarssen",
        "Lift to the first floor, hearing loop at the desk.",
        "Bring your own laptop, tablet or phone, or borrow a library laptop.",
        "Your DigiD app",
        "1 place left",
    ):
        assert expected in page
    first = course.sessions[0].date
    assert f"{first.strftime('%A')} {first.day} {first.strftime('%B %Y')}, 10:00–12:00" in page
    assert "Ans" not in page


def test_a_full_course_offers_the_waiting_list(client, make_course):
    course = make_course(capacity=1)
    sign_up(course, "Ans")
    page = text(client.get(f"/cursussen/{course.id}-digisterker", headers=EN))
    assert "Full: you can go on the waiting list" in page
    assert "Go on the waiting list" in page


def test_an_old_or_missing_slug_leads_to_the_current_address(client, make_course):
    course = make_course(title="Klik & Tik: de basis")
    for old in (f"/cursussen/{course.id}", f"/cursussen/{course.id}-digisterker"):
        response = client.get(old)
        assert response.status_code == 301
        assert response.headers["Location"] == f"/cursussen/{course.id}-klik-tik-de-basis"


def test_unknown_and_closed_courses_are_not_found(client, make_course):
    closed = make_course()
    closed.open_for_referrals = False
    db.session.commit()
    for path in (
        "/cursussen/999999-x",
        f"/cursussen/{closed.id}-digisterker",
        f"/cursussen/{closed.id}/aanmelden",
        f"/agenda/cursus/{closed.id}.ics",
        "/agenda/cursus/999999.ics",
        "/cursussen/99999999999-x",
    ):
        assert client.get(path).status_code == 404, path
    assert "Digisterker" not in text(client.get("/cursussen"))


def test_the_courses_are_linked_from_the_start_page_and_their_topic(
    client, make_course, make_topic
):
    topic = make_topic(slug="computer", name_en="Computer")
    course = make_course(title="Klik & Tik", topic=topic)
    make_course(title="Digisterker")
    assert 'href="/cursussen"' in text(client.get("/", headers=EN))
    listed = text(client.get("/cursussen", headers=EN))
    assert f'href="/cursussen/{course.id}-klik-tik"' in listed and "Digisterker" in listed
    hours = text(client.get("/spreekuren?onderwerp=computer", headers=EN))
    assert "Courses on this topic" in hours and f"/cursussen/{course.id}-klik-tik" in hours
    assert "Digisterker" not in hours


def test_personal_data_is_never_on_the_public_pages_and_feeds(client, make_course, make_topic):
    topic = make_topic(slug="computer")
    course = make_course(capacity=1, topic=topic)
    sign_up(course, "Zwaantje", phone="0687654321", email="zwaantje@example.org")
    sign_up(course, "Quirijn", phone="0611112222", email="quirijn@example.org")
    for path in (
        "/",
        "/cursussen",
        f"/cursussen/{course.id}-digisterker",
        f"/cursussen/{course.id}/aanmelden",
        "/spreekuren?onderwerp=computer",
        "/agenda/cursussen.ics",
        f"/agenda/cursus/{course.id}.ics",
    ):
        response = client.get(path, headers=EN)
        assert response.status_code == 200, path
        body = text(response)
        for secret in ("Zwaantje", "0687654321", "zwaantje@", "Quirijn", "0611112222"):
            assert secret not in body, (path, secret)


def test_the_course_feeds_answer_304_to_a_current_copy(client, make_course):
    course = make_course()
    other = make_course(title="Klik & Tik")
    response = client.get(f"/agenda/cursus/{course.id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    events = calendar.walk("VEVENT")
    assert len(events) == 4 and {str(e["SUMMARY"]) for e in events} == {
        "Digisterker (Bibliotheek Vechtdal)"
    }
    assert events[0]["DTSTART"].dt.tzinfo.key == "Europe/Amsterdam"
    again = client.get(
        f"/agenda/cursus/{course.id}.ics", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""
    since = client.get(
        f"/agenda/cursus/{course.id}.ics",
        headers={"If-Modified-Since": response.headers["Last-Modified"]},
    )
    assert since.status_code == 304
    all_courses = icalendar.Calendar.from_ical(client.get("/agenda/cursussen.ics").data)
    assert len(all_courses.walk("VEVENT")) == 8
    # A change of the course gives a new tag.
    other.sessions[0].start_time = time(9, 0)
    db.session.commit()
    changed = client.get(
        "/agenda/cursussen.ics", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert changed.status_code == 200


# Signing up on the site -------------------------------------------------------------------------


def test_sign_up_look_up_print_and_sign_off_on_the_site(app, make_course):
    """The resident's whole way with the code: signed up, found again in a new browser,
    card and calendar file with every session, signed off; the place goes to the next."""
    course = make_course(capacity=1)
    waiting = sign_up(course, "Bert")  # takes the only place
    resident = app.test_client()
    response = resident.post(
        f"/cursussen/{course.id}/aanmelden", data={"name": "Fatima", "language": "en"}, headers=EN
    )
    assert response.status_code == 303
    page = text(resident.get(response.headers["Location"], headers=EN))
    assert "You are on the waiting list" in page and "You are number 1 on the waiting list." in page
    enrolment = db.session.scalar(sa.select(Enrolment).where(Enrolment.name == "Fatima"))
    assert enrolment.display_code in page

    other_browser = app.test_client()
    assert other_browser.get("/cursussen/mijn-aanmelding/overzicht").status_code == 404
    wrong = other_browser.post(
        "/cursussen/mijn-aanmelding",
        data={"code": enrolment.code, "phone_or_name": "Someone"},
        headers=EN,
    )
    assert wrong.status_code == 422
    assert "We cannot find a sign-up with this code and phone number or name." in text(wrong)
    found = other_browser.post(
        "/cursussen/mijn-aanmelding",
        data={"code": enrolment.display_code, "phone_or_name": "fatima"},
    )
    assert found.status_code == 303

    courses.cancel(waiting)  # Bert signs off: Fatima moves up
    db.session.commit()
    card = text(other_browser.get("/cursussen/mijn-aanmelding/kaart", headers=EN))
    assert "Course card" in card and enrolment.display_code in card
    for session in course.sessions:
        assert f"{session.date.day} {session.date.strftime('%B %Y')}, 10:00–12:00" in card
    ics = other_browser.get("/cursussen/mijn-aanmelding/agenda.ics")
    assert len(icalendar.Calendar.from_ical(ics.data).walk("VEVENT")) == 4

    assert other_browser.post("/cursussen/mijn-aanmelding/afmelden").status_code == 303
    page = text(other_browser.get("/cursussen/mijn-aanmelding/overzicht", headers=EN))
    assert "You are signed off" in page
    db.session.expire_all()
    assert enrolment.status is EnrolmentStatus.REMOVED


def test_the_secret_link_opens_the_sign_up(app, make_course):
    course = make_course()
    signed_up = courses.sign_up(course, SignUp(name="Fatima"))
    db.session.commit()
    browser = app.test_client()
    response = browser.get(f"/cursussen/aanmelding/link/{signed_up.token}")
    assert response.status_code == 303
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "You have a place on the course." in text(
        browser.get("/cursussen/mijn-aanmelding/overzicht", headers=EN)
    )
    assert app.test_client().get("/cursussen/aanmelding/link/wrong").status_code == 404


def test_the_form_says_what_is_wrong_and_keeps_what_was_typed(client, make_course):
    course = make_course()
    response = client.post(
        f"/cursussen/{course.id}/aanmelden",
        data={"name": "", "email": "not-an-address", "language": "en"},
        headers=EN,
    )
    assert response.status_code == 422
    page = text(response)
    assert "Please check the form" in page and 'value="not-an-address"' in page
    bsn = client.post(
        f"/cursussen/{course.id}/aanmelden",
        data={"name": "Jan 123456782", "language": "en"},
        headers=EN,
    )
    assert bsn.status_code == 422 and "Please do not write your BSN" in text(bsn)
    assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 0


def test_the_form_offers_intake_times_or_later(client, intake_course):
    page = text(client.get(f"/cursussen/{intake_course.id}/aanmelden", headers=EN))
    assert "When do you come for the intake?" in page
    assert "Plan the intake later: the library contacts me" in page
    slot = intake_at(2).strftime("%Y-%m-%dT%H:%MZ")
    assert f'value="{slot}"' in page
    response = client.post(
        f"/cursussen/{intake_course.id}/aanmelden",
        data={"name": "Fatima", "language": "en", "intake": slot},
    )
    assert response.status_code == 303
    enrolment = db.session.scalar(sa.select(Enrolment))
    assert enrolment.intake_booking.slot_start == intake_at(2)
    missing = client.post(
        f"/cursussen/{intake_course.id}/aanmelden", data={"name": "Bert", "language": "en"}
    )
    assert missing.status_code == 422


# The desk -----------------------------------------------------------------------------------------


def test_staff_at_the_desk_sign_a_resident_up(app, client, login, make_user, make_course, library):
    """Same service, marked as made at the desk; the card for the resident; other
    organisations cannot open the sign-up."""
    course = make_course(capacity=1)
    staff = make_user(Role.VOLUNTEER, organisation=library)
    login(staff)
    assert f"/portal/desk/cursussen/{course.id}/aanmelden" in text(
        client.get("/portal/desk/cursussen/", headers=EN)
    )
    response = client.post(
        f"/portal/desk/cursussen/{course.id}/aanmelden",
        data={"name": "Wim", "phone": "0612345678", "language": "nl"},
    )
    assert response.status_code == 303
    enrolment = db.session.scalar(sa.select(Enrolment))
    assert enrolment.booked_via is BookedVia.DESK and enrolment.created_by_id == staff.id
    detail = text(client.get(response.headers["Location"], headers=EN))
    assert enrolment.display_code in detail and "On the participant list" in detail
    card = client.get(f"/portal/desk/cursussen/aanmelding/{enrolment.id}/kaart", headers=EN)
    assert card.status_code == 200 and enrolment.display_code in text(card)

    outsider = app.test_client()
    login(make_user(Role.STAFF, organisation=make_org_of(app, "Elders")), test_client=outsider)
    assert outsider.get(f"/portal/desk/cursussen/aanmelding/{enrolment.id}").status_code == 404
    assert app.test_client().get("/portal/desk/cursussen/").status_code in (302, 401)


def make_org_of(app, name):
    from app.models import Organisation

    org = Organisation(name=name, kind=OrganisationKind.PARTNER)
    db.session.add(org)
    db.session.commit()
    return org


def test_the_course_staff_see_sign_ups_on_their_list(
    client, login, make_user, make_course, library
):
    course = make_course(capacity=1)
    sign_up(course, "Ans", phone="0612345678")
    sign_up(course, "Bert")
    login(make_user(Role.STAFF, organisation=library))
    page = text(client.get(f"/portal/courses/{course.id}", headers=EN))
    assert "Ans" in page and "0612345678" in page and "Bert" in page


# Rate limits --------------------------------------------------------------------------------------


def test_guessing_codes_and_signing_up_by_the_dozen_are_limited(database_url):
    """Failed look-ups count per code (as for appointments) and sign-ups per client address:
    over the limit the form comes back with 429, a Retry-After and a message."""
    settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_BOOKING_ADDRESS": "2 per hour"}
    with app_in_context(database_url, **settings) as limited:
        library = Organisation(name="Bibliotheek", kind=OrganisationKind.LIBRARY)
        location = Location(
            organisation=library, name="Bieb", street="Straat 1", postcode="3600 AA", city="X"
        )
        db.session.add_all([library, location])
        db.session.flush()  # defaults (active) filled in
        course = courses.create_course(
            library,
            CourseData(
                title="Digisterker",
                location=location,
                capacity=8,
                first_date=clock.today() + timedelta(days=7),
                start_time=time(10, 0),
                end_time=time(12, 0),
            ),
            None,
        )
        db.session.commit()
        client = limited.test_client()
        url = f"/cursussen/{course.id}/aanmelden"
        for n in range(2):
            assert client.post(url, data={"name": f"Jan {n}", "language": "en"}).status_code == 303
        refused = client.post(url, data={"name": "Jan 3", "language": "en"}, headers=EN)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert "Many appointments were made through this internet connection" in text(refused)
        assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 2

        guess = {"code": "ACDE-FH37", "phone_or_name": "Jan"}
        allowed = int(limited.config["RATELIMIT_LOOKUP_CODE"].split()[0])
        for _attempt in range(allowed):
            assert client.post("/cursussen/mijn-aanmelding", data=guess).status_code == 422
        over = client.post("/cursussen/mijn-aanmelding", data=guess, headers=EN)
        assert over.status_code == 429 and "Retry-After" in over.headers
        assert "Finding an appointment went wrong too many times" in text(over)

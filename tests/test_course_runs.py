"""Running a course: its staff change sessions, places and sign-up, cancel a session with a
reason, and mark who came; participants with an e-mail address are told; the figures count
the course; nobody else's staff may do any of it."""

from __future__ import annotations

import csv
import io
import os
import threading
from datetime import time, timedelta

import icalendar
import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import load_workbook

from app import clock
from app.extensions import db
from app.models import (
    Attendance,
    ConsentScope,
    Course,
    CourseLogEntry,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    OrganisationKind,
    OutboxMessage,
    Referral,
    ReferralStatus,
    Role,
    Topic,
    User,
)
from app.services import DomainError, course_runs, courses, figures, mail, referrals, retention
from app.services.courses import CourseData
from app.transactions import writing
from tests.referral_helpers import RESIDENT, consent, warm_draft, write_warm


@pytest.fixture(autouse=True)
def english(app):
    """Messages of the services in English (the network's default language is Dutch)."""
    with force_locale("en"):
        yield


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

    def make(capacity: int = 8, first_in_days: int = 7, sessions: int = 4) -> Course:
        course = courses.create_course(
            library,
            CourseData(
                title="Digisterker",
                location=location,
                capacity=capacity,
                first_date=clock.today() + timedelta(days=first_in_days),
                start_time=time(10, 0),
                end_time=time(12, 0),
                sessions=sessions,
            ),
            None,
        )
        db.session.commit()
        return course

    return make


def refer(partner_staff, library, topic, course, **details):
    return write_warm(partner_staff, library, topic, course=course, **details)


def statuses(course) -> list[tuple[EnrolmentStatus, int | None]]:
    db.session.expire_all()
    return list(
        db.session.execute(
            sa.select(Enrolment.status, Enrolment.seat)
            .where(Enrolment.course_id == course.id)
            .order_by(Enrolment.id)
        ).all()
    )


def participants_of(course_id: int) -> list[int]:
    return sorted(
        db.session.scalars(
            sa.select(Enrolment.seat).where(
                Enrolment.course_id == course_id,
                Enrolment.status == EnrolmentStatus.PARTICIPANT,
            )
        )
    )


# Sessions -----------------------------------------------------------------------------------


def test_staff_move_a_coming_session_and_participants_with_an_address_are_told(
    make_course, partner_staff, library, library_staff, topic, smtp_server
):
    """A new date and time: the session changes, one mail in the resident's language with
    the new time in its calendar file; the resident without an address gets none."""
    course = make_course()
    refer(partner_staff, library, topic, course, email="fatima@example.org", language="en")
    refer(partner_staff, library, topic, course, resident_name="Jan", phone="0612345678")
    session = course.sessions[1]
    new_day = session.date + timedelta(days=1)

    told = course_runs.edit_session(session, new_day, time(13, 30), time(15, 30), library_staff)
    db.session.commit()

    assert told == 1
    db.session.expire_all()
    moved = db.session.get(CourseSession, session.id)
    assert (moved.date, moved.start_time, moved.end_time) == (new_day, time(13, 30), time(15, 30))
    assert moved.version == 1
    assert mail.send_pending() == (1, 0)
    [message] = smtp_server.messages
    assert message["To"] == "fatima@example.org"
    assert message["Subject"] == "New time for a session of Digisterker"
    body = message.get_body(("plain",)).get_content()
    assert f"Hello {RESIDENT}," in body and "has a new time" in body and "13:30" in body
    [attachment] = list(message.iter_attachments())
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    event = events[f"course-session-{session.id}@spreekuur"]
    assert event.decoded("DTSTART").replace(tzinfo=None) == (
        clock.now().replace(tzinfo=None).combine(new_day, time(13, 30))
    )
    assert int(event["SEQUENCE"]) == 1 and str(event["STATUS"]) == "CONFIRMED"
    assert len(events) == 4
    [entry] = db.session.scalars(
        sa.select(CourseLogEntry).where(CourseLogEntry.action == "session_moved")
    ).all()
    assert entry.user_id == library_staff.id and RESIDENT not in entry.detail


def test_the_dutch_resident_gets_the_message_in_dutch(
    make_course, partner_staff, library, library_staff, topic
):
    course = make_course()
    refer(partner_staff, library, topic, course, email="piet@example.org", language="nl")
    course_runs.edit_session(
        course.sessions[0], course.sessions[0].date, time(10, 30), time(12, 30), library_staff
    )
    db.session.commit()
    message = db.session.scalar(sa.select(OutboxMessage))
    assert message.subject == "Nieuwe tijd voor een bijeenkomst van Digisterker"


@pytest.mark.parametrize(
    ("days", "start", "end", "field"),
    [
        (-1, time(10, 0), time(12, 0), "date"),  # yesterday
        (0, time(0, 0), time(0, 30), "date"),  # earlier today
        (3, time(12, 0), time(11, 0), "end_time"),  # ends before it starts
    ],
)
def test_a_session_cannot_move_into_the_past_or_end_before_it_starts(
    make_course, library_staff, days, start, end, field
):
    course = make_course()
    session = course.sessions[0]
    with pytest.raises(DomainError) as caught:
        course_runs.edit_session(
            session, clock.today() + timedelta(days=days), start, end, library_staff
        )
    assert caught.value.field == field
    db.session.rollback()
    assert db.session.get(CourseSession, session.id).start_time == time(10, 0)


def test_a_session_that_has_started_cannot_be_changed_removed_or_cancelled(
    make_course, library_staff
):
    """A session in the past stays as it was (its attendance belongs to it)."""
    course = make_course()
    session = course.sessions[0]
    session.date = clock.today() - timedelta(days=2)
    db.session.commit()
    later = clock.today() + timedelta(days=30)
    for attempt in (
        lambda: course_runs.edit_session(session, later, time(10), time(12), library_staff),
        lambda: course_runs.remove_session(session, library_staff),
        lambda: course_runs.cancel_session(session, "Ziek", library_staff),
    ):
        with pytest.raises(DomainError):
            attempt()
        db.session.rollback()
    assert db.session.get(CourseSession, session.id).cancelled_at is None


def test_two_sessions_of_a_course_cannot_start_at_the_same_time(make_course, library_staff):
    course = make_course()
    first, second = course.sessions[:2]
    with pytest.raises(DomainError, match="already has a session"):
        course_runs.edit_session(second, first.date, first.start_time, time(11, 0), library_staff)
    db.session.rollback()
    with pytest.raises(DomainError, match="already has a session"):
        course_runs.add_session(course, first.date, first.start_time, time(13), library_staff)
    db.session.rollback()
    assert len(db.session.get(Course, course.id).sessions) == 4


def test_staff_add_and_remove_a_session_and_participants_are_told(
    make_course, partner_staff, library, library_staff, topic
):
    course = make_course()
    refer(partner_staff, library, topic, course, email="fatima@example.org", language="en")
    extra_day = course.sessions[-1].date + timedelta(weeks=1)
    assert course_runs.add_session(course, extra_day, time(10), time(12), library_staff) == 1
    db.session.commit()
    course = db.session.get(Course, course.id)
    assert [s.date for s in course.sessions][-1] == extra_day
    removed = course.sessions[1]
    assert course_runs.remove_session(removed, library_staff) == 1
    db.session.commit()
    course = db.session.get(Course, course.id)
    assert removed.id not in [s.id for s in course.sessions] and len(course.sessions) == 4
    subjects = db.session.scalars(sa.select(OutboxMessage.subject).order_by(OutboxMessage.id))
    assert list(subjects) == [
        "A session added to Digisterker",
        "A session of Digisterker is cancelled",
    ]
    # The removal's calendar file tells calendars the session is off.
    removal = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()[1]
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(removal.ics).walk("VEVENT")}
    assert str(events[f"course-session-{removed.id}@spreekuur"]["STATUS"]) == "CANCELLED"


def test_a_course_keeps_at_least_one_session(make_course, library_staff):
    course = make_course(sessions=1)
    with pytest.raises(DomainError, match="at least one session"):
        course_runs.remove_session(course.sessions[0], library_staff)
    db.session.rollback()


def test_cancel_one_session_with_a_reason_tells_the_participants_by_real_mail(
    make_course, partner_staff, library, library_staff, topic, smtp_server
):
    """Cancelled: the session stays on the course, marked with its reason; the participant
    with an address receives the message over SMTP, the session cancelled in the calendar."""
    course = make_course()
    refer(partner_staff, library, topic, course, email="fatima@example.org", language="en")
    session = course.sessions[2]

    told = course_runs.cancel_session(session, "  De trainer is  ziek ", library_staff)
    db.session.commit()

    assert told == 1
    db.session.expire_all()
    kept = db.session.get(CourseSession, session.id)
    assert kept.cancelled and kept.cancel_reason == "De trainer is ziek"
    assert kept in db.session.get(Course, course.id).sessions
    assert mail.send_pending() == (1, 0)
    [message] = smtp_server.messages
    assert message["Subject"] == "A session of Digisterker is cancelled"
    body = message.get_body(("plain",)).get_content()
    assert "will not take place" in body and "Reason: De trainer is ziek" in body
    assert "(cancelled)" in body
    [attachment] = list(message.iter_attachments())
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    event = next(
        e
        for e in calendar.walk("VEVENT")
        if str(e["UID"]) == f"course-session-{session.id}@spreekuur"
    )
    assert str(event["STATUS"]) == "CANCELLED"

    with pytest.raises(DomainError, match="is cancelled"):
        course_runs.cancel_session(kept, "Nog eens", library_staff)
    db.session.rollback()


def test_a_cancellation_needs_a_reason(make_course, library_staff):
    course = make_course()
    with pytest.raises(DomainError) as caught:
        course_runs.cancel_session(course.sessions[0], "   ", library_staff)
    assert caught.value.field == "reason"
    db.session.rollback()


# Places -------------------------------------------------------------------------------------


def test_places_are_never_fewer_than_the_participants(
    make_course, partner_staff, library, library_staff, topic
):
    course = make_course(capacity=4)
    for _ in range(3):
        refer(partner_staff, library, topic, course)
    with pytest.raises(DomainError, match="3 participants: it needs at least 3 places"):
        course_runs.change_capacity(course, 2, library_staff)
    db.session.rollback()
    assert db.session.get(Course, course.id).capacity == 4


def test_lowering_places_renumbers_seats_within_the_new_number(
    make_course, partner_staff, library, library_staff, topic
):
    """Seats 1, 3 and 5 of 6 with 3 places: seats 1 to 3, and a later claim still works."""
    course = make_course(capacity=6)
    sent = [refer(partner_staff, library, topic, course) for _ in range(5)]
    for referral in (sent[1], sent[3]):
        referrals.update(referral, library_staff, ReferralStatus.NOT_REACHED)
    db.session.commit()
    assert participants_of(course.id) == [1, 3, 5]
    course_runs.change_capacity(course, 3, library_staff)
    db.session.commit()
    assert participants_of(course.id) == [1, 2, 3]
    late = refer(partner_staff, library, topic, course)
    assert late.enrolment.status is EnrolmentStatus.WAITING


def test_raising_places_gives_them_to_the_first_waiting_who_are_told(
    make_course, partner_staff, library, library_staff, topic
):
    course = make_course(capacity=1)
    refer(partner_staff, library, topic, course)
    second = refer(partner_staff, library, topic, course, email="two@example.org", language="en")
    third = refer(partner_staff, library, topic, course)
    fourth = refer(partner_staff, library, topic, course)

    moved = course_runs.change_capacity(course, 3, library_staff)
    db.session.commit()

    assert [e.referral_id for e in moved] == [second.id, third.id]
    assert [s for s, _ in statuses(course)] == [
        EnrolmentStatus.PARTICIPANT,
        EnrolmentStatus.PARTICIPANT,
        EnrolmentStatus.PARTICIPANT,
        EnrolmentStatus.WAITING,
    ]
    assert courses.queue_place(db.session.get(Enrolment, fourth.enrolment.id)) == 1
    [message] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert message.recipient == "two@example.org"
    assert message.subject == "A place for you: Digisterker"


def at_once(app, count: int, work) -> list:
    """Run ``work(n)`` in ``count`` threads released together, each with its own app
    context, session and transaction (writing, as a request that may write), as
    simultaneous requests would; return what each returned."""
    barrier = threading.Barrier(count)
    results, errors = [], []
    lock = threading.Lock()

    def run(n: int) -> None:
        with app.app_context():
            try:
                with writing():
                    barrier.wait()
                    result = work(n)
                    db.session.commit()
                with lock:
                    results.append(result)
            except Exception as error:  # pragma: no cover - reported below
                with lock:
                    errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return results


def lower_or_refer(course_id: int, by_id: int, library_id: int, topic_id: int, staff_id: int):
    """Thread 0 lowers the places to three; every other thread refers a resident."""

    def work(n: int) -> str:
        course = db.session.get(Course, course_id)
        if n == 0:
            try:
                course_runs.change_capacity(course, 3, db.session.get(User, staff_id))
            except DomainError:
                db.session.rollback()
                return "refused"
            return "lowered"
        referrals.create(
            warm_draft(
                db.session.get(Organisation, library_id),
                db.session.get(Topic, topic_id),
                course=course,
            ),
            db.session.get(User, by_id),
            consent(ConsentScope.COURSE),
        )
        return "referred"

    return work


def test_lowering_places_while_residents_take_seats_never_exceeds_the_places(
    app, make_course, partner_staff, library, library_staff, topic
):
    """Eight referrals and a change to three places at the same moment, in their own
    transactions: whatever order the database gives them, the participants fit the places
    and every seat is within them; the rest wait in one queue without duplicates."""
    for round_ in range(3):
        course = make_course(capacity=8)
        refer(partner_staff, library, topic, course)  # one participant already
        work = lower_or_refer(course.id, partner_staff.id, library.id, topic.id, library_staff.id)
        db.session.commit()

        outcomes = at_once(app, 9, work)

        assert sorted(outcomes).count("referred") == 8
        db.session.rollback()  # end the test's snapshot: read what the threads wrote
        capacity = db.session.scalar(sa.select(Course.capacity).where(Course.id == course.id))
        seats = participants_of(course.id)
        assert len(seats) <= capacity, (round_, outcomes, seats, capacity)
        assert seats == list(range(1, len(seats) + 1))
        waiting = db.session.scalars(
            sa.select(Enrolment.position)
            .where(Enrolment.course_id == course.id, Enrolment.status == EnrolmentStatus.WAITING)
            .order_by(Enrolment.position)
        ).all()
        assert len(seats) + len(waiting) == 9
        assert len(set(waiting)) == len(waiting)
        if "lowered" in outcomes:
            assert capacity == 3 and len(seats) == 3
        else:
            assert capacity == 8 and len(seats) == 8


def test_places_changed_while_places_are_given_back_and_taken_never_overfill(
    app, make_course, partner_staff, library, library_staff, topic
):
    """Two participants declined (their places go to those waiting), two new referrals and a
    change to five places, all at once: no error, and the participants fill the places in
    seats within them. (Giving back locks the participant's row and then the course, as a
    change of places does; this run does not force the interleaving that the opposite
    order would deadlock on.)"""
    for round_ in range(3):
        course = make_course(capacity=6)
        sent = [refer(partner_staff, library, topic, course) for _ in range(9)]
        declined = [sent[1].id, sent[4].id]
        ids = (course.id, partner_staff.id, library.id, topic.id, library_staff.id)
        refer_or_lower = lower_or_refer(*ids)
        db.session.commit()

        def work(n: int, declined=declined, refer_or_lower=refer_or_lower, ids=ids) -> str:
            if n in (1, 2):
                referral = db.session.get(Referral, declined[n - 1])
                referrals.update(referral, db.session.get(User, ids[4]), ReferralStatus.DECLINED)
                return "declined"
            if n == 0:
                course = db.session.get(Course, ids[0])
                try:
                    course_runs.change_capacity(course, 5, db.session.get(User, ids[4]))
                except DomainError:
                    db.session.rollback()
                    return "refused"
                return "lowered"
            return refer_or_lower(n)

        outcomes = at_once(app, 5, work)

        db.session.rollback()
        capacity = db.session.scalar(sa.select(Course.capacity).where(Course.id == course.id))
        seats = participants_of(course.id)
        assert len(seats) == len(set(seats)) and all(1 <= s <= capacity for s in seats), (
            round_,
            outcomes,
            seats,
            capacity,
        )
        assert len(seats) == capacity  # enough were waiting to fill every place
        assert capacity == (5 if "lowered" in outcomes else 6)


def waiting_on_a_lock(application_name: str) -> bool:
    """Whether the PostgreSQL session with this name waits for a row lock now."""
    with db.engine.connect() as connection:
        return bool(
            connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE application_name = :name AND wait_event_type = 'Lock'"
                ),
                {"name": application_name},
            ).scalar()
        )


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="row locks: SQLite runs one writer at a time",
)
def test_a_change_of_places_waits_behind_a_place_given_back_without_deadlock(
    app, make_course, partner_staff, library, library_staff, topic
):
    """A place is given back as ``courses.remove`` does (the course row locked, then the
    participant's row) and, before the first waiting claims it, the places are raised. The
    change waits for the course row, the claim goes ahead, then the change: no deadlock, and
    both happen."""
    course = make_course(capacity=3)
    sent = [refer(partner_staff, library, topic, course) for _ in range(5)]  # 3 in, 2 waiting
    leaving_id, course_id, staff_id = sent[0].enrolment.id, course.id, library_staff.id
    db.session.commit()
    row_locked, go_on = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def give_back() -> None:
        with app.app_context():
            try:
                with writing():
                    db.session.execute(
                        sa.select(Course.id).where(Course.id == course_id).with_for_update()
                    )
                    leaving = db.session.get(Enrolment, leaving_id)
                    leaving.status, leaving.seat = EnrolmentStatus.REMOVED, None
                    leaving.removed_at = clock.now()
                    db.session.flush()  # as courses.remove does, before it promotes
                    row_locked.set()
                    assert go_on.wait(60)
                    courses.promote_waiting(db.session.get(Course, course_id))
                    db.session.commit()
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                db.session.remove()

    def raise_places() -> None:
        with app.app_context():
            try:
                with writing():
                    assert row_locked.wait(60)
                    db.session.execute(sa.text("SET application_name = 'raise-places'"))
                    course_runs.change_capacity(
                        db.session.get(Course, course_id), 4, db.session.get(User, staff_id)
                    )
                    db.session.commit()
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=give_back), threading.Thread(target=raise_places)]
    for thread in threads:
        thread.start()
    deadline = clock.now() + timedelta(seconds=30)
    while not waiting_on_a_lock("raise-places") and clock.now() < deadline:
        threading.Event().wait(0.01)
    assert waiting_on_a_lock("raise-places"), "the change of places did not wait"
    go_on.set()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    db.session.rollback()
    assert db.session.get(Course, course_id).capacity == 4
    assert participants_of(course_id) == [1, 2, 3, 4]


# Sign-up ------------------------------------------------------------------------------------


def test_closing_and_reopening_sign_up(make_course, partner_staff, library, library_staff, topic):
    course = make_course()
    assert course_runs.set_open(course, False, library_staff)
    db.session.commit()
    assert not course_runs.set_open(course, False, library_staff)
    with pytest.raises(courses.CourseClosed):
        refer(partner_staff, library, topic, course)
    db.session.rollback()
    assert course_runs.set_open(course, True, library_staff)
    db.session.commit()
    assert refer(partner_staff, library, topic, course).enrolment is not None
    actions = db.session.scalars(sa.select(CourseLogEntry.action).order_by(CourseLogEntry.id)).all()
    assert actions == ["closed", "opened"]


# Attendance ---------------------------------------------------------------------------------


def past_course(make_course):
    """A course whose first three sessions are past (two weeks, one week and one day ago);
    the fourth is to come."""
    course = make_course(first_in_days=1)
    for session, days in zip(course.sessions, (-14, -7, -1), strict=False):
        session.date = clock.today() + timedelta(days=days)
    db.session.commit()
    return course


def test_attendance_is_one_row_per_participant_and_session_and_can_change_later(
    make_course, partner_staff, library, library_staff, topic
):
    course = past_course(make_course)
    one = refer(partner_staff, library, topic, course).enrolment
    two = refer(partner_staff, library, topic, course).enrolment
    held = course.sessions[0]
    assert course_runs.record_attendance(held, {one.id: True, two.id: False}, library_staff) == 2
    db.session.commit()
    # Afterwards: the second resident did come after all.
    assert course_runs.record_attendance(held, {one.id: True, two.id: True}, library_staff) == 1
    db.session.commit()
    rows = db.session.execute(
        sa.select(Attendance.enrolment_id, Attendance.present).order_by(Attendance.enrolment_id)
    ).all()
    assert rows == [(one.id, True), (two.id, True)]
    logged = db.session.scalars(
        sa.select(CourseLogEntry.detail)
        .where(CourseLogEntry.action == "attendance")
        .order_by(CourseLogEntry.id)
    ).all()
    day = held.date.isoformat()
    assert logged == [
        f"{day} 10:00-12:00 #{one.id}: present",
        f"{day} 10:00-12:00 #{two.id}: absent",
        f"{day} 10:00-12:00 #{two.id}: present",
    ]
    lines = course_runs.session_list(held)
    assert [(line.contact.name, line.present) for line in lines] == [
        (RESIDENT, True),
        (RESIDENT, True),
    ]


def test_attendance_waits_for_the_session_day_and_only_for_its_list(
    make_course, partner_staff, library, library_staff, topic, make_org
):
    course = make_course()
    one = refer(partner_staff, library, topic, course).enrolment
    with pytest.raises(DomainError, match="from the day of the session"):
        course_runs.record_attendance(course.sessions[0], {one.id: True}, library_staff)
    db.session.rollback()
    other = past_course(make_course)
    stranger = refer(partner_staff, library, topic, other).enrolment
    held = db.session.get(Course, other.id).sessions[0]
    with pytest.raises(DomainError, match="not on the list"):
        course_runs.record_attendance(held, {one.id: True}, library_staff)
    db.session.rollback()
    assert course_runs.record_attendance(held, {stranger.id: False}, library_staff) == 1


def test_two_staff_marking_at_once_leave_one_row(
    app, make_course, partner_staff, library, library_staff, topic
):
    """Six marks for one participant and session at the same moment: one row, no error."""
    course = past_course(make_course)
    enrolment_id = refer(partner_staff, library, topic, course).enrolment.id
    session_id, staff_id = course.sessions[0].id, library_staff.id
    db.session.commit()

    at_once(
        app,
        6,
        lambda n: course_runs.record_attendance(
            db.session.get(CourseSession, session_id),
            {enrolment_id: n % 2 == 0},
            db.session.get(User, staff_id),
        ),
    )

    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 1


def test_attendance_and_participants_are_counted_in_the_figures(
    make_course, partner_staff, library, library_staff, topic, make_org
):
    """Per course and organisation: participants, sessions held (not the cancelled one, not
    the coming one) and the share of marks that were 'came'."""
    course = past_course(make_course)
    one, two, three = (refer(partner_staff, library, topic, course).enrolment for _ in range(3))
    first, second = course.sessions[:2]
    course_runs.record_attendance(first, {one.id: True, two.id: True, three.id: False}, None)
    course_runs.record_attendance(second, {one.id: True, two.id: False}, None)
    course.sessions[2].cancelled_at = clock.now()  # cancelled when it was still to come
    db.session.commit()
    period = figures.period_for("range", clock.today() - timedelta(days=30), clock.today())

    for scope in (figures.Scope.of(library), figures.Scope.of(None)):
        result = figures.figures(scope, period, "en")
        [row] = result.courses
        assert (row.participants, row.sessions_held, row.present, row.absent) == (3, 2, 3, 2)
        assert row.attendance_rate == pytest.approx(0.6)
        [org] = result.course_organisations
        assert (org.label, org.courses, org.participants, org.sessions_held) == (
            "Bibliotheek Vechtdal",
            1,
            3,
            2,
        )
        assert (org.present, org.absent) == (3, 2)
    other = make_org(name="Geldpunt")
    assert figures.figures(figures.Scope.of(other), period, "en").courses == []


# The pages ----------------------------------------------------------------------------------


@pytest.fixture
def en(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_staff_change_a_session_through_the_form(
    en, login, make_course, partner_staff, library, library_staff, topic
):
    course = make_course()
    refer(partner_staff, library, topic, course, email="fatima@example.org", language="en")
    session = course.sessions[0]
    login(library_staff)
    page = en.get(f"/portal/courses/{course.id}").get_data(as_text=True)
    assert f"/portal/courses/{course.id}/sessions/{session.id}" in page
    new_day = (session.date + timedelta(days=2)).isoformat()
    response = en.post(
        f"/portal/courses/{course.id}/sessions/{session.id}",
        data={"date": new_day, "start_time": "14:00", "end_time": "16:00"},
    )
    assert response.status_code == 303
    page = en.get(f"/portal/courses/{course.id}").get_data(as_text=True)
    assert "The session has its new time." in page
    assert "1 participant was told by e-mail." in page
    assert "14:00–16:00" in page


def test_a_session_moved_into_the_past_is_refused_with_a_message(
    en, login, make_course, library_staff
):
    course = make_course()
    session = course.sessions[0]
    login(library_staff)
    response = en.post(
        f"/portal/courses/{course.id}/sessions/{session.id}",
        data={
            "date": (clock.today() - timedelta(days=1)).isoformat(),
            "start_time": "10:00",
            "end_time": "12:00",
        },
    )
    assert response.status_code == 422
    assert "A session cannot be in the past." in response.get_data(as_text=True)


def test_too_few_places_through_the_form_says_why(
    en, login, make_course, partner_staff, library, library_staff, topic
):
    course = make_course(capacity=3)
    for _ in range(2):
        refer(partner_staff, library, topic, course)
    login(library_staff)
    response = en.post(f"/portal/courses/{course.id}/places", data={"capacity": "1"})
    assert response.status_code == 422
    assert "The course has 2 participants: it needs at least 2 places." in response.get_data(
        as_text=True
    )
    response = en.post(f"/portal/courses/{course.id}/places", data={"capacity": "99"})
    assert response.status_code == 422
    assert en.post(f"/portal/courses/{course.id}/places", data={"capacity": "5"}).status_code == 303
    assert db.session.get(Course, course.id).capacity == 5


def test_cancel_close_and_reopen_through_the_pages(en, login, make_course, library_staff):
    course = make_course()
    session = course.sessions[1]
    login(library_staff)
    response = en.post(
        f"/portal/courses/{course.id}/sessions/{session.id}/cancel", data={"reason": ""}
    )
    assert response.status_code == 422
    response = en.post(
        f"/portal/courses/{course.id}/sessions/{session.id}/cancel",
        data={"reason": "Zaal niet beschikbaar"},
    )
    assert response.status_code == 303
    page = en.get(f"/portal/courses/{course.id}").get_data(as_text=True)
    assert "Cancelled: Zaal niet beschikbaar" in page
    assert en.post(f"/portal/courses/{course.id}/open", data={"open": "0"}).status_code == 303
    assert not db.session.get(Course, course.id).open_for_referrals
    # The same click again (a second tab) keeps it closed.
    assert en.post(f"/portal/courses/{course.id}/open", data={"open": "0"}).status_code == 303
    assert not db.session.get(Course, course.id).open_for_referrals
    assert en.post(f"/portal/courses/{course.id}/open", data={"open": "1"}).status_code == 303
    assert db.session.get(Course, course.id).open_for_referrals


def test_attendance_marked_on_the_printable_list(
    en, login, make_course, partner_staff, library, library_staff, topic
):
    course = past_course(make_course)
    one = refer(partner_staff, library, topic, course).enrolment
    two = refer(partner_staff, library, topic, course, resident_name="Jan Jansen").enrolment
    session = course.sessions[1]
    login(library_staff)
    url = f"/portal/courses/{course.id}/sessions/{session.id}/list"
    page = en.get(url)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    assert RESIDENT in body and "Jan Jansen" in body and "site-header" not in body
    response = en.post(url, data={f"e{one.id}": "present", f"e{two.id}": "absent"})
    assert response.status_code == 303
    body = en.get(url).get_data(as_text=True)
    assert "Attendance is saved." in body
    assert f'name="e{one.id}" value="present" checked' in body
    assert f'name="e{two.id}" value="absent" checked' in body
    response = en.post(url, data={f"e{one.id}": "maybe"})
    assert response.status_code == 422
    page = en.get(f"/portal/courses/{course.id}").get_data(as_text=True)
    assert "1 of 2" in page


def test_the_list_of_a_coming_session_prints_without_marking(
    en, login, make_course, partner_staff, library, library_staff, topic
):
    course = make_course()
    one = refer(partner_staff, library, topic, course).enrolment
    login(library_staff)
    url = f"/portal/courses/{course.id}/sessions/{course.sessions[0].id}/list"
    body = en.get(url).get_data(as_text=True)
    assert "Attendance can be marked from the day of the session on." in body
    assert en.post(url, data={f"e{one.id}": "present"}).status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0


def course_pages(course, session) -> list[tuple[str, str, dict | None]]:
    base = f"/portal/courses/{course.id}"
    s = f"{base}/sessions/{session.id}"
    day = (session.date + timedelta(days=1)).isoformat()
    return [
        ("GET", f"{base}/sessions/new", None),
        ("POST", f"{base}/sessions/new", {"date": day, "start_time": "18:00", "end_time": "19:00"}),
        ("GET", s, None),
        ("POST", s, {"date": day, "start_time": "14:00", "end_time": "16:00"}),
        ("POST", f"{s}/remove", {}),
        ("GET", f"{s}/cancel", None),
        ("POST", f"{s}/cancel", {"reason": "Ziek"}),
        ("GET", f"{base}/places", None),
        ("POST", f"{base}/places", {"capacity": "2"}),
        ("POST", f"{base}/open", {"open": "0"}),
        ("GET", f"{s}/list", None),
        ("POST", f"{s}/list", {}),
    ]


@pytest.mark.parametrize("role", [Role.STAFF, Role.ORG_ADMIN, Role.VOLUNTEER, Role.COORDINATOR])
def test_other_organisations_and_volunteers_may_not_run_the_course(
    en, login, make_course, make_user, partner, library, partner_staff, topic, role
):
    """Staff of another organisation (every role, the coordinator too) and the course's own
    volunteers get 403 on every page and action, see no links to them and change nothing."""
    course = make_course()
    refer(partner_staff, library, topic, course)
    session = course.sessions[0]
    outsider = make_user(role, partner if role is not Role.VOLUNTEER else library)
    login(outsider)
    before = (
        [(s.id, s.date, s.start_time, s.cancelled_at) for s in course.sessions],
        course.capacity,
        course.open_for_referrals,
    )
    for method, url, data in course_pages(course, session):
        response = en.open(url, method=method, data=data)
        assert response.status_code == 403, (method, url)
        assert RESIDENT not in response.get_data(as_text=True)
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    after = (
        [(s.id, s.date, s.start_time, s.cancelled_at) for s in course.sessions],
        course.capacity,
        course.open_for_referrals,
    )
    assert after == before
    page = en.get(f"/portal/courses/{course.id}").get_data(as_text=True)
    assert f"/portal/courses/{course.id}/sessions/" not in page
    assert f"/portal/courses/{course.id}/places" not in page
    assert f"/portal/courses/{course.id}/open" not in page


def test_a_session_of_another_course_is_not_found(en, login, make_course, library_staff):
    """The organisation's own staff, a session number of a different course: 404."""
    course, other = make_course(), make_course()
    login(library_staff)
    for method, url, data in course_pages(course, other.sessions[0]):
        if "/sessions/" in url and "/sessions/new" not in url:
            assert en.open(url, method=method, data=data).status_code == 404, url
    assert en.get("/portal/courses/999999/places").status_code == 404


def test_the_figures_page_and_downloads_count_the_course(
    en, login, make_course, partner_staff, library, library_staff, topic, make_user
):
    """Marked through the printable list, counted on the organisation's figures page and in
    its CSV and XLSX downloads: 1 course, 2 participants, 3 sessions held, 3 of 4 came."""
    course = past_course(make_course)
    one, two = (refer(partner_staff, library, topic, course).enrolment for _ in range(2))
    admin = make_user(Role.ORG_ADMIN, library)
    login(admin)
    for session, marks in zip(
        course.sessions[:2],
        (
            {f"e{one.id}": "present", f"e{two.id}": "present"},
            {f"e{one.id}": "present", f"e{two.id}": "absent"},
        ),
        strict=True,
    ):
        url = f"/portal/courses/{course.id}/sessions/{session.id}/list"
        assert en.post(url, data=marks).status_code == 303
    query = {
        "period": "range",
        "first": (clock.today() - timedelta(days=30)).isoformat(),
        "last": clock.today().isoformat(),
    }
    base = f"/portal/figures/organisation/{library.id}"
    page = en.get(base, query_string=query).get_data(as_text=True)
    row = page[page.index("Courses per organisation") :]
    row = row[row.index('<th scope="row">Bibliotheek Vechtdal</th>') :].split("</tr>")[0]
    cells = [c.split(">", 1)[1].split("</td>")[0] for c in row.split('<td class="number"')[1:]]
    assert cells == ["1", "2", "3", "75%"]

    text = en.get(f"{base}/export.csv", query_string=query).get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = rows.index(
        [
            "Courses per organisation",
            "Courses given",
            "Participants",
            "Sessions held",
            "Came",
            "Did not come",
            "Attendance (%)",
        ]
    )
    assert rows[header + 1] == ["Bibliotheek Vechtdal", "1", "2", "3", "3", "1", "75"]

    book = load_workbook(io.BytesIO(en.get(f"{base}/export.xlsx", query_string=query).get_data()))
    values = [list(r) for r in book.active.iter_rows(values_only=True)]
    assert ["Bibliotheek Vechtdal", 1, 2, 3, 3, 1, 75] in values


def test_the_course_calendar_shows_a_cancelled_session_as_cancelled(
    en, login, make_course, partner_staff, library_staff, make_user, partner
):
    """Anyone who may see the course downloads its sessions; the cancelled one stays in it,
    STATUS:CANCELLED with a higher SEQUENCE, and no participant is in it."""
    course = make_course()
    cancelled = course.sessions[1]
    course_runs.cancel_session(cancelled, "Zaal bezet", library_staff)
    db.session.commit()
    login(make_user(Role.STAFF, partner))
    page = en.get(f"/portal/courses/{course.id}").get_data(as_text=True)
    assert f"/portal/courses/{course.id}/sessions.ics" in page
    response = en.get(f"/portal/courses/{course.id}/sessions.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    events = {
        str(e["UID"]): e for e in icalendar.Calendar.from_ical(response.get_data()).walk("VEVENT")
    }
    assert len(events) == 4
    event = events[f"course-session-{cancelled.id}@spreekuur"]
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1
    assert "Zaal bezet" in str(event["DESCRIPTION"])
    others = [e for uid, e in events.items() if uid != f"course-session-{cancelled.id}@spreekuur"]
    assert {str(e["STATUS"]) for e in others} == {"CONFIRMED"}
    assert RESIDENT not in response.get_data(as_text=True)


def test_the_nightly_retention_deletes_old_course_log_entries(make_course, library_staff, app):
    """The course log is kept as long as the audit log (AUDIT_RETENTION_DAYS), then deleted."""
    course = make_course()
    course_runs.set_open(course, False, library_staff)
    old = course_runs.log(course, library_staff, "opened")
    old.at = clock.now() - timedelta(days=app.config["AUDIT_RETENTION_DAYS"] + 1)
    db.session.commit()
    retention.run()
    assert db.session.scalars(sa.select(CourseLogEntry.action)).all() == ["closed"]

"""Places and the waiting list are guarantees: more residents sign up at once than a course
has places, and residents sign off while others sign up. Never more participants than
places; one queue order, without gaps or duplicates; a freed place goes to whoever waited
longest. Run on SQLite and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Course, Enrolment, EnrolmentStatus, OrganisationKind
from app.services import courses
from app.services.courses import CourseData, SignUp
from app.transactions import writing

SIGN_UPS = 20
CAPACITY = 4


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def course(make_org, make_location) -> Course:
    library = make_org(kind=OrganisationKind.LIBRARY)
    made = courses.create_course(
        library,
        CourseData(
            title="Digisterker",
            location=make_location(organisation=library),
            capacity=CAPACITY,
            first_date=clock.today() + timedelta(days=7),
            start_time=time(10, 0),
            end_time=time(12, 0),
        ),
        None,
    )
    db.session.commit()
    return made


def lists(course_id: int) -> tuple[list[Enrolment], list[Enrolment]]:
    db.session.rollback()  # end the test's snapshot: read what the others wrote
    rows = db.session.scalars(sa.select(Enrolment).where(Enrolment.course_id == course_id)).all()
    seated = sorted(
        (e for e in rows if e.status is EnrolmentStatus.PARTICIPANT), key=lambda e: e.seat
    )
    waiting = sorted(
        (e for e in rows if e.status is EnrolmentStatus.WAITING), key=lambda e: e.position
    )
    return seated, waiting


def test_more_simultaneous_sign_ups_than_places(app, live_server, course):
    """20 residents send the form at the same moment for 4 places: every one is signed up
    (303), 4 hold the seats 1-4, 16 wait at the positions 1-16, each name once."""
    url = f"{live_server.url}/cursussen/{course.id}/aanmelden"
    opener = urllib.request.build_opener(NoRedirect)
    barrier = threading.Barrier(SIGN_UPS)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        data = urllib.parse.urlencode({"name": f"Bewoner {n}", "language": "nl"}).encode()
        request = urllib.request.Request(url, data=data)
        barrier.wait()
        try:
            with opener.open(request, timeout=120) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(SIGN_UPS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert statuses == [303] * SIGN_UPS
    seated, waiting = lists(course.id)
    assert [e.seat for e in seated] == list(range(1, CAPACITY + 1))
    assert [e.position for e in waiting] == list(range(1, SIGN_UPS - CAPACITY + 1))
    names = [e.name for e in seated + waiting]
    assert sorted(names) == sorted(f"Bewoner {n}" for n in range(SIGN_UPS))
    assert courses.places_left(db.session.get(Course, course.id)) == 0


def _run_at_once(app, works) -> None:
    """Run each work in a thread of its own, released together, each with its own app
    context, session and transaction, as simultaneous requests would."""
    barrier = threading.Barrier(len(works))
    errors: list[Exception] = []

    def run(work) -> None:
        with app.app_context():
            try:
                with writing():
                    barrier.wait()
                    work()
                    db.session.commit()
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert errors == []


def test_sign_offs_and_sign_ups_at_once_keep_the_queue_order(app, course):
    """All 4 participants sign off while 6 newcomers sign up: the 4 freed places go to the
    4 who waited longest, never to a newcomer; the queue stays one order without gaps."""
    course_id = course.id
    first = [courses.sign_up(course, SignUp(name=f"Eerst {n}")).enrolment for n in range(4)]
    earlier = [courses.sign_up(course, SignUp(name=f"Wacht {n}")).enrolment for n in range(6)]
    db.session.commit()
    first_ids = [e.id for e in first]
    earlier_ids = [e.id for e in earlier]

    def sign_off(enrolment_id: int):
        return lambda: courses.cancel(db.session.get(Enrolment, enrolment_id))

    def newcomer(n: int):
        return lambda: courses.sign_up(db.session.get(Course, course_id), SignUp(name=f"Nieuw {n}"))

    _run_at_once(app, [sign_off(i) for i in first_ids] + [newcomer(n) for n in range(6)])

    seated, waiting = lists(course_id)
    assert sorted(e.id for e in seated) == sorted(earlier_ids[:4])
    assert sorted(e.seat for e in seated) == [1, 2, 3, 4]
    assert [e.id for e in waiting[:2]] == earlier_ids[4:]
    assert sorted(e.name for e in waiting[2:]) == [f"Nieuw {n}" for n in range(6)]
    ranks = [courses.queue_place(e) for e in waiting]
    assert ranks == list(range(1, 9))
    assert len({e.position for e in waiting}) == len(waiting)

"""Who is waiting: walk-ins get the next ticket number of their location, staff take them
one by one (never two staff the same visitor), finish them or note that they left, and an
appointment marked "came" joins the same queue."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    Booking,
    BookingStatus,
    ConsultationHours,
    Location,
    Mode,
    Role,
    User,
    Visit,
    VisitStatus,
)
from app.services import DomainError, visits
from app.services import booking as booking_service
from app.services.booking import ResidentDetails
from app.transactions import writing
from tests.desk_helpers import EVERY_DAY, walk_in_hours

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def hours(make_series, make_org, make_location):
    return walk_in_hours(make_series, make_org, make_location)


def test_walk_ins_get_consecutive_numbers_per_location_and_day(
    app, hours, make_series, make_org, make_location, make_topic
):
    """Numbers count up per location; another location starts at 1; initials and topic are
    optional and the initials keep at most 8 characters."""
    topic = make_topic()
    first = visits.add_walk_in(hours)
    second = visits.add_walk_in(hours, initials="  A.B.  ", topic=topic)
    elsewhere = visits.add_walk_in(walk_in_hours(make_series, make_org, make_location))
    long = visits.add_walk_in(hours, initials="ABCDEFGHIJK")
    db.session.commit()

    assert (first.number, second.number, long.number, elsewhere.number) == (1, 2, 3, 1)
    assert (first.initials, second.initials, long.initials) == ("", "A.B.", "ABCDEFGH")
    assert second.topic_id == topic.id and first.topic_id is None
    assert first.status is VisitStatus.WAITING and first.day == clock.today()
    assert first.organisation_id == hours.provider_id and first.series_id == hours.id


def test_walk_in_refused_when_the_hours_are_not_held_today(
    app, make_series, make_org, make_location
):
    """Appointment-only hours, or hours not held today, take no walk-ins."""
    appointments = walk_in_hours(make_series, make_org, make_location, mode=Mode.APPOINTMENT)
    tomorrow_only = walk_in_hours(
        make_series, make_org, make_location, weekdays=str((clock.today().weekday() + 1) % 7)
    )
    for series in (appointments, tomorrow_only):
        with pytest.raises(DomainError):
            visits.add_walk_in(series)


def test_take_next_takes_the_longest_waiting_of_ones_own_organisation(
    app, hours, make_user, make_series, make_org
):
    """Take next gives the lowest number waiting for one's own desk; a guest organisation's
    visitor at the same location stays for the guest; nobody waiting gives None."""
    staff = make_user(Role.VOLUNTEER, organisation=hours.provider)
    guest_hours = walk_in_hours(make_series, make_org, None, location=hours.location)
    guest_visit = visits.add_walk_in(guest_hours)
    one, two = visits.add_walk_in(hours), visits.add_walk_in(hours)
    db.session.commit()

    taken = visits.take_next(hours.location, staff)
    assert taken.id == one.id and taken.status is VisitStatus.BEING_HELPED
    assert taken.helped_by_id == staff.id and taken.called_at is not None
    assert visits.take_next(hours.location, staff).id == two.id
    assert visits.take_next(hours.location, staff) is None
    db.session.commit()
    assert db.session.get(Visit, guest_visit.id).status is VisitStatus.WAITING


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="a PostgreSQL planner's choice")
def test_take_next_takes_exactly_one_whatever_plan_postgresql_chooses(
    app, hours, make_user, make_series, make_org
):
    """After many visits were deleted and the table analysed, PostgreSQL estimates it empty
    and plans a nested loop that runs the choice of the next visitor again for every row:
    still exactly one visitor is taken, the lowest number of one's own desk."""
    staff = make_user(Role.STAFF, organisation=hours.provider)
    for _ in range(40):
        visits.add_walk_in(hours)
    db.session.commit()
    db.session.execute(sa.delete(Visit))
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE visit")
    guest_hours = walk_in_hours(make_series, make_org, None, location=hours.location)
    visits.add_walk_in(guest_hours)
    one, two = visits.add_walk_in(hours), visits.add_walk_in(hours)
    db.session.commit()

    taken = visits.take_next(hours.location, staff)
    db.session.commit()
    assert taken is not None and taken.id == one.id
    statuses = dict(db.session.execute(sa.select(Visit.id, Visit.status)).all())
    assert list(statuses.values()).count(VisitStatus.BEING_HELPED) == 1
    assert statuses[two.id] is VisitStatus.WAITING


def test_take_finish_and_left(app, hours, make_user):
    """A specific visitor can be taken once; finishing records the time; a visitor who left
    without help leaves the queue; a closed visit cannot change again."""
    staff = make_user(Role.STAFF, organisation=hours.provider)
    visit, other = visits.add_walk_in(hours), visits.add_walk_in(hours)
    db.session.commit()

    visits.take(visit, staff)
    with pytest.raises(visits.VisitChanged):
        visits.take(visit, staff)
    visits.finish(visit, staff)
    assert visit.status is VisitStatus.FINISHED and visit.finished_at >= visit.called_at
    visits.mark_left(other)
    assert other.status is VisitStatus.LEFT
    for action in (lambda: visits.finish(other, staff), lambda: visits.mark_left(visit)):
        with pytest.raises(visits.VisitChanged):
            action()


def test_minutes_waited_stops_when_called(app, hours):
    """Waiting time counts from arrival until now, or until the visitor was called."""
    now = clock.now()
    visit = visits.add_walk_in(hours, now=now - timedelta(minutes=17))
    assert visits.minutes_waited(visit, now) == 17
    visit.called_at = now - timedelta(minutes=5)
    assert visits.minutes_waited(visit, now + timedelta(hours=1)) == 12


def _run_at_once(app, count: int, work) -> list:
    """Run ``work(n)`` in ``count`` threads released together, each with its own app
    context, session and transaction, as simultaneous requests would."""
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


def test_simultaneous_arrivals_never_share_a_ticket_number(app, hours):
    """Eight walk-ins added at the same moment get the numbers 1 to 8, each once."""
    series_id = hours.id
    db.session.commit()

    numbers = _run_at_once(
        app,
        8,
        lambda n: visits.add_walk_in(db.session.get(ConsultationHours, series_id)).number,
    )

    assert sorted(numbers) == list(range(1, 9))
    db.session.rollback()
    stored = db.session.scalars(sa.select(Visit.number).order_by(Visit.number)).all()
    assert stored == list(range(1, 9))


def test_simultaneous_take_next_never_gives_one_visitor_to_two_staff(app, hours, make_user):
    """Eight staff press "take next" at once while five wait: five different visitors are
    taken, three staff get nobody, and each visitor has exactly one helper."""
    staff_ids = [make_user(Role.STAFF, organisation=hours.provider).id for _ in range(8)]
    waiting = {visits.add_walk_in(hours).id for _ in range(5)}
    location_id = hours.location_id
    db.session.commit()

    def take(n: int):
        visit = visits.take_next(
            db.session.get(Location, location_id), db.session.get(User, staff_ids[n])
        )
        return visit.id if visit else None

    taken = _run_at_once(app, 8, take)

    got = [visit_id for visit_id in taken if visit_id is not None]
    assert sorted(got) == sorted(waiting) and taken.count(None) == 3
    db.session.rollback()
    helpers = db.session.execute(sa.select(Visit.status, Visit.helped_by_id)).all()
    assert {status for status, _ in helpers} == {VisitStatus.BEING_HELPED}
    assert len({helper for _, helper in helpers}) == 5


def test_an_appointment_marked_came_joins_the_queue_once(app, make_series):
    """Marking "came" today puts the appointment in the queue (once, however often it is
    marked); "did not come" takes it out again while it is still waiting."""
    series = make_series(
        weekdays=EVERY_DAY,
        start_date=clock.today() - timedelta(days=7),
        start_time=time(0, 30),
        end_time=time(23, 30),
        min_notice_hours=0,
    )
    slot = datetime.combine(clock.today(), time(0, 30), AMS).astimezone(UTC)
    booking = Booking(
        series=series,
        slot_start=slot,
        slot_end=slot + timedelta(minutes=30),
        seat=1,
        code="ACDEFHJK",
        token_hash="x" * 64,
        name="Jan",
    )
    db.session.add(booking)
    db.session.commit()

    booking_service.mark(booking, BookingStatus.ATTENDED)
    booking_service.mark(booking, BookingStatus.ATTENDED)
    visit = db.session.scalars(sa.select(Visit)).one()
    assert (visit.booking_id, visit.status, visit.initials) == (booking.id, VisitStatus.WAITING, "")
    assert visit.organisation_id == series.provider_id and visit.location_id == series.location_id

    booking_service.mark(booking, BookingStatus.NO_SHOW)
    assert db.session.scalars(sa.select(Visit)).all() == []


def test_an_appointment_of_an_earlier_day_marked_came_is_over_already(app, make_series):
    """Marked "came" afterwards, the appointment does not wait: it is finished, timed as
    its slot, and waits only to be registered."""
    yesterday = clock.today() - timedelta(days=1)
    series = make_series(weekdays=EVERY_DAY, start_date=yesterday - timedelta(days=7))
    slot = datetime.combine(yesterday, time(14, 0), AMS).astimezone(UTC)
    booking, _token = booking_service.book(
        series, slot, ResidentDetails(name="Jan"), now=slot - timedelta(days=1)
    )
    db.session.commit()

    booking_service.mark(booking, BookingStatus.ATTENDED)

    visit = db.session.scalars(sa.select(Visit)).one()
    assert (visit.status, visit.day) == (VisitStatus.FINISHED, yesterday)
    assert (visit.called_at, visit.finished_at) == (booking.slot_start, booking.slot_end)

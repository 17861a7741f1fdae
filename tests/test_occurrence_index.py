"""The index of coming occurrences equals the schedule, and changes with it in one transaction.

``schedule.occurrences`` is the one definition of what occurs; the index (one row per series
and date, one per slot with its seats taken) is what lists and free times will be read
from. These tests build randomised series with exceptions, closures and bookings over a year
with both DST weekends and compare the two row for row; they look from a second connection
while each kind of change commits; and they run bookings, rebuilds and window rolls at once.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from app import clock, demo
from app.extensions import db
from app.models import (
    Booking,
    BookingStatus,
    ConsultationHours,
    ExceptionKind,
    IndexedOccurrence,
    IndexedSlot,
    LocationClosure,
    Mode,
    OccurrenceIndexWindow,
    Recurrence,
    Role,
    SeriesException,
    SeriesStatus,
)
from app.services import booking as booking_service
from app.services import directory, finder, occurrence_index, schedule
from app.services import series as series_service
from app.services.booking import ResidentDetails
from app.services.series import SeriesData
from app.transactions import writing

AMS = ZoneInfo("Europe/Amsterdam")
EVERY_DAY = "0,1,2,3,4,5,6"


# What the index should hold, computed from the schedule and the bookings -----------------


def index_rows() -> tuple[dict, dict]:
    """The occurrences and slots in the index, as comparable tuples."""
    occurrences = {
        (row.series_id, row.date): (
            row.provider_id,
            row.location_id,
            row.starts_at,
            row.ends_at,
            row.kind.value,
            row.status.value,
            row.reason,
            row.published,
            row.bookable,
            row.walk_in_starts_at,
            row.walk_in_ends_at,
            row.seats,
            row.seats_taken,
        )
        for row in db.session.scalars(sa.select(IndexedOccurrence))
    }
    slots = {
        (row.series_id, row.starts_at): (
            row.date,
            row.ends_at,
            row.seats,
            row.seats_taken,
            row.published,
        )
        for row in db.session.scalars(sa.select(IndexedSlot))
    }
    return occurrences, slots


def schedule_rows(first: date, last: date) -> tuple[dict, dict]:
    """The same, from ``schedule.occurrences`` and the bookings holding a seat."""
    every_series = db.session.scalars(sa.select(ConsultationHours)).all()
    found = schedule.occurrences(every_series, first, last, include_cancelled=True)
    taken = booking_service.seats_taken(
        [s.id for s in every_series],
        datetime.combine(first - timedelta(days=2), time(), UTC),
        datetime.combine(last + timedelta(days=2), time(), UTC),
    )
    occurrences, slots = {}, {}
    for o in found:
        s = o.series
        seats = taken_here = 0
        for slot in o.slots:
            count = taken.get((s.id, slot.start_utc), 0)
            slots[(s.id, slot.start_utc)] = (
                o.date,
                slot.end.astimezone(UTC),
                slot.seats,
                count,
                finder.is_public(s),
            )
            seats += slot.seats
            taken_here += count
        occurrences[(s.id, o.date)] = (
            s.provider_id,
            s.location_id,
            o.start.astimezone(UTC),
            o.end.astimezone(UTC),
            o.kind.value,
            o.status.value,
            o.reason,
            finder.is_public(s),
            bool(o.slots),
            o.walk_in_start.astimezone(UTC) if o.walk_in_start else None,
            o.walk_in_end.astimezone(UTC) if o.walk_in_end else None,
            seats,
            taken_here,
        )
    return occurrences, slots


def free_times_from_index(now: datetime, *, staff: bool = False) -> list[tuple]:
    return [
        (series_id, starts_at, seats - taken)
        for series_id, starts_at, _ends_at, seats, taken in db.session.execute(
            occurrence_index.free_slots_query(now, staff=staff)
        )
    ]


def free_times_from_schedule(first: date, last: date, now: datetime, *, staff=False) -> list:
    public = db.session.scalars(finder.public_series_query()).all()
    return [
        (item.occurrence.series.id, item.slot.start_utc, item.seats_left)
        for item in booking_service.available_slots(public, first, last, now=now, staff=staff)
    ]


def assert_index_equals_schedule(rng: random.Random | None = None) -> None:
    window = occurrence_index.window()
    assert window is not None
    expected_occurrences, expected_slots = schedule_rows(window.first_date, window.last_date)
    occurrences, slots = index_rows()
    assert expected_occurrences, "nothing occurs: the comparison would prove nothing"
    for day in _days(window.first_date, window.last_date):
        # Day by day, so that a difference names its date.
        want = {k: v for k, v in expected_occurrences.items() if k[1] == day}
        have = {k: v for k, v in occurrences.items() if k[1] == day}
        assert have == want, day
    assert occurrences == expected_occurrences
    assert slots == expected_slots
    nows = [clock.now(), clock.now() + timedelta(hours=1, minutes=7)]
    if rng is not None:
        nows += [clock.now() + timedelta(minutes=rng.randrange(0, 60 * 24 * 200)) for _ in range(4)]
    for now in nows:
        for staff in (False, True):
            want = free_times_from_schedule(window.first_date, window.last_date, now, staff=staff)
            have = free_times_from_index(now, staff=staff)
            assert sorted(have) == sorted(want), (now, staff)
            assert [(s, at) for s, at, _left in have] == sorted(
                [(s, at) for s, at, _left in want], key=lambda item: (item[1], item[0])
            )


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


# Randomised series, exceptions, closures and bookings --------------------------------------


def _wall(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def random_series(rng, provider, location, user) -> ConsultationHours:
    mode = rng.choice([Mode.APPOINTMENT, Mode.APPOINTMENT, Mode.MIXED, Mode.WALK_IN])
    # Some start in the night, so that both DST changes fall inside an occurrence.
    start = rng.choice([60, 90, 120, 150, 9 * 60, 10 * 60 + 15, 13 * 60 + 30, 18 * 60, 22 * 60])
    slot = rng.choice([10, 15, 20, 30, 45, 60])
    end = min(start + rng.choice([slot, 2 * slot, 90, 150, 240]), 23 * 60 + 59)
    weekly = rng.random() < 0.6
    today = clock.today()
    first = today + timedelta(days=rng.randrange(-200, 120))
    series = ConsultationHours(
        provider=provider,
        location=location,
        title=f"Spreekuur {rng.randrange(1000)}",
        mode=mode,
        recurrence=Recurrence.WEEKLY if weekly else Recurrence.MONTHLY,
        weekdays=",".join(str(d) for d in sorted(rng.sample(range(7), rng.randint(1, 3)))),
        interval_weeks=rng.choice([1, 1, 2, 3]) if weekly else 1,
        month_weeks=""
        if weekly
        else ",".join(str(w) for w in sorted(rng.sample([1, 2, 3, 4, 5, -1], rng.randint(1, 2)))),
        start_date=first,
        end_date=None if rng.random() < 0.6 else first + timedelta(days=rng.randrange(20, 400)),
        start_time=_wall(start),
        end_time=_wall(end),
        walk_in_start=_wall(max(start - 60, 0)) if mode is Mode.MIXED else None,
        walk_in_end=_wall(start) if mode is Mode.MIXED else None,
        slot_minutes=slot,
        seats_per_slot=rng.randint(1, 3),
        min_notice_hours=rng.choice([0, 2, 24, 48]),
        book_ahead_days=rng.choice([7, 42, 120, 366]),
        status=rng.choice([SeriesStatus.PUBLISHED] * 4 + [SeriesStatus.PAUSED, SeriesStatus.DRAFT]),
        created_by=user,
    )
    db.session.add(series)
    return series


def random_exception(rng, series) -> None:
    today = clock.today()
    days = [
        today + timedelta(days=n)
        for n in range(-1, 370)
        if schedule.matches_pattern(series, today + timedelta(days=n))
    ]
    taken = {e.date for e in series.exceptions}
    kind = rng.choice(list(ExceptionKind))
    if kind is ExceptionKind.EXTRA:
        candidates = [today + timedelta(days=n) for n in range(-1, 370)]
        candidates = [d for d in candidates if d not in days]
    else:
        candidates = days
    candidates = [d for d in candidates if d not in taken]
    if not candidates:
        return
    start = rng.choice([60, 120, 150, 11 * 60, 15 * 60])
    series_service.add_exception(
        series,
        day=rng.choice(candidates),
        kind=kind,
        start_time=_wall(start),
        end_time=_wall(start + rng.choice([45, 90, 180])),
        reason=rng.choice(["", "Studiedag", "Ziek"]),
    )


def book_some(rng, series_list, user, count: int) -> None:
    today = clock.today()
    for _ in range(count):
        series = rng.choice(series_list)
        free = booking_service.available_slots(
            [series], today, today + timedelta(days=370), staff=True
        )
        if not free:
            continue
        item = rng.choice(free)
        booking_service.book(series, item.slot.start_utc, ResidentDetails(name="A.B."), by=user)
        db.session.commit()


def data_of(series: ConsultationHours, **changes) -> SeriesData:
    values = dict(
        provider=series.provider,
        location=series.location,
        title=series.title,
        description=series.description,
        what_to_bring=series.what_to_bring,
        topics=list(series.topics),
        mode=series.mode,
        recurrence=series.recurrence,
        weekdays=series.weekday_list,
        interval_weeks=series.interval_weeks,
        month_weeks=series.month_week_list,
        start_date=series.start_date,
        end_date=series.end_date,
        start_time=series.start_time,
        end_time=series.end_time,
        walk_in_start=series.walk_in_start,
        walk_in_end=series.walk_in_end,
        slot_minutes=series.slot_minutes,
        seats_per_slot=series.seats_per_slot,
        min_notice_hours=series.min_notice_hours,
        book_ahead_days=series.book_ahead_days,
    )
    values.update(changes)
    return SeriesData(**values)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_index_equals_the_schedule_for_a_year_of_random_series(
    app, seed, make_org, make_location, make_user
):
    """Random weekly and monthly series (intervals, last week, first and last dates, night
    hours across both DST changes, walk-in windows, slot lengths, seats) with random
    exceptions, closures, bookings, cancellations, moves, edits, pauses and switched-off
    places: after every kind of change the index holds exactly the occurrences and slots of
    ``schedule.occurrences(..., include_cancelled=True)`` with the seats taken, day by day,
    and the free times it gives are those of the schedule."""
    rng = random.Random(seed)
    app.config["OCCURRENCE_INDEX_DAYS"] = 370
    staff = make_user(Role.COORDINATOR)
    providers = [make_org(), make_org()]
    places = [make_location(), make_location(), make_location(timezone="Europe/London")]
    series_list = [
        random_series(rng, rng.choice(providers), rng.choice(places), staff) for _ in range(14)
    ]
    # Every Sunday night, so that both DST changes fall inside a bookable occurrence.
    night = ConsultationHours(
        provider=providers[0],
        location=places[0],
        title="Nachtspreekuur",
        mode=Mode.APPOINTMENT,
        recurrence=Recurrence.WEEKLY,
        weekdays="6",
        start_date=clock.today(),
        start_time=time(1, 30),
        end_time=time(4, 0),
        slot_minutes=30,
        seats_per_slot=2,
        min_notice_hours=0,
        book_ahead_days=366,
        status=SeriesStatus.PUBLISHED,
    )
    db.session.add(night)
    series_list.append(night)
    db.session.commit()
    with writing():
        occurrence_index.rebuild()
        db.session.commit()
    window = occurrence_index.window()
    spring, autumn = date(2027, 3, 28), date(2027, 10, 31)
    assert window.first_date < spring < autumn < window.last_date
    # 01:30-04:00 on the clock is 1.5 hours in spring and 3.5 hours in autumn.
    assert [
        db.session.scalar(
            sa.select(IndexedOccurrence.seats).where(
                IndexedOccurrence.series_id == night.id, IndexedOccurrence.date == day
            )
        )
        for day in (spring, autumn)
    ] == [3 * 2, 7 * 2]
    assert_index_equals_schedule(rng)
    # 03:00 summer time in spring; 02:00 summer time and 02:00 winter time in autumn.
    for day, hour in ((spring, 1), (autumn, 0), (autumn, 1)):
        moment = datetime.combine(day, time(hour, 0), UTC)
        booking_service.book(night, moment, ResidentDetails(name="N.N."), by=staff)
        db.session.commit()

    for series in rng.sample(series_list, 10):
        for _ in range(rng.randint(1, 3)):
            random_exception(rng, series)
    for place in places[:2]:
        start = clock.today() + timedelta(days=rng.randrange(0, 300))
        series_service.close_location(
            place,
            start=start,
            end=start + timedelta(days=rng.randrange(0, 10)),
            reason="Dicht",
            user=staff,
        )
    bookable = [s for s in series_list if s.is_bookable_mode and s.status is SeriesStatus.PUBLISHED]
    book_some(rng, bookable, staff, 40)
    assert_index_equals_schedule(rng)

    active = db.session.scalars(
        sa.select(Booking).where(Booking.status == BookingStatus.BOOKED)
    ).all()
    for booking in rng.sample(active, min(6, len(active))):
        booking_service.cancel(booking, version=booking.version, by=staff)
        db.session.commit()
    for booking in db.session.scalars(
        sa.select(Booking).where(Booking.status == BookingStatus.BOOKED).limit(6)
    ).all():
        today = clock.today()
        free = [
            item
            for item in booking_service.available_slots(
                [booking.series], today, today + timedelta(days=370), staff=True
            )
            if item.slot.start_utc != booking.slot_start
        ]
        if free:
            booking_service.move(
                booking, rng.choice(free).slot.start_utc, version=booking.version, by=staff
            )
            db.session.commit()
    # A closure and an exception taken away again.
    series_service.remove_closure(db.session.scalars(sa.select(LocationClosure)).first())
    series_service.remove_exception(db.session.scalars(sa.select(SeriesException)).first())
    assert_index_equals_schedule(rng)

    # Edits of the series themselves: other times and seats, a pause, a publication.
    for series in rng.sample(series_list, 4):
        start = rng.choice([90, 9 * 60, 14 * 60])
        series_service.save_series(
            series,
            data_of(
                series,
                start_time=_wall(start),
                end_time=_wall(start + 120),
                seats_per_slot=rng.randint(1, 4),
                min_notice_hours=rng.choice([0, 5]),
            ),
            staff,
        )
    for series in series_list:
        if series.status is SeriesStatus.PUBLISHED and rng.random() < 0.3:
            series_service.set_status(series, SeriesStatus.PAUSED)
        elif series.status is not SeriesStatus.PUBLISHED and rng.random() < 0.5:
            series_service.set_status(series, SeriesStatus.PUBLISHED)
    assert_index_equals_schedule(rng)

    # A place switched off, another moved to another zone, an organisation switched off.
    directory.save(places[0], {"active": False})
    directory.save(places[1], {"timezone": "Europe/Lisbon"})
    directory.save(providers[1], {"active": False})
    assert_index_equals_schedule(rng)
    directory.save(places[0], {"active": True})
    directory.save(providers[1], {"active": True})
    assert_index_equals_schedule(rng)


def test_rolling_the_window_forward_keeps_it_equal_to_the_schedule(app, make_series, make_user):
    """Day after day (and after a pause of several days) the roll adds the new days, drops
    the old ones, and the rows stay those of the schedule."""
    today = clock.today()
    make_series(weekdays=EVERY_DAY, start_date=today - timedelta(days=30), seats_per_slot=2)
    make_series(
        recurrence=Recurrence.MONTHLY,
        weekdays="3",
        month_weeks="1,-1",
        start_date=today,
        mode=Mode.MIXED,
        walk_in_start=time(13, 0),
        walk_in_end=time(14, 0),
    )
    first, last = occurrence_index.target_window()
    window = occurrence_index.window()
    assert (window.first_date, window.last_date) == (first, last)
    assert_index_equals_schedule()
    for later in (1, 2, 6):
        with writing():
            report = occurrence_index.roll(today + timedelta(days=later))
            db.session.commit()
        assert report.first_date == today + timedelta(days=later - 1)
        assert report.last_date == last + timedelta(days=later)
        assert report.occurrences_added > 0 and report.occurrences_removed > 0
        assert_index_equals_schedule()
    with writing():
        again = occurrence_index.roll(today + timedelta(days=6))
        db.session.commit()
    assert (again.occurrences_added, again.occurrences_removed) == (0, 0)


def test_a_longer_booking_horizon_widens_the_window_for_every_series(app, make_series, make_user):
    """A series that may be booked further ahead than the window covers: the window grows for
    every series in the same change, so every date in it is complete."""
    today = clock.today()
    short = make_series(weekdays=EVERY_DAY, start_date=today)
    other = make_series(weekdays="2", start_date=today)
    before = occurrence_index.window().last_date
    series_service.save_series(
        other, data_of(other, book_ahead_days=200), make_user(Role.COORDINATOR)
    )
    window = occurrence_index.window()
    assert window.last_date == today + timedelta(days=201) > before
    assert (
        db.session.scalar(
            sa.select(sa.func.max(IndexedOccurrence.date)).where(
                IndexedOccurrence.series_id == short.id
            )
        )
        == window.last_date
    )
    assert_index_equals_schedule()


def test_demo_data_ends_with_a_correct_index(app):
    """The demo region (series, exceptions, a closure, bookings) is indexed as it is."""
    demo.load()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IndexedSlot)) > 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) > 0
    assert_index_equals_schedule(random.Random(3))


def test_the_command_rolls_and_rebuilds(app, runner, make_series):
    series = make_series(weekdays=EVERY_DAY, start_date=clock.today())
    db.session.execute(sa.delete(IndexedSlot))
    db.session.execute(sa.delete(IndexedOccurrence))
    db.session.commit()
    result = runner.invoke(args=["index-occurrences"])
    assert result.exit_code == 0, result.output
    assert "Occurrences added: 0; removed: 0." in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IndexedOccurrence)) == 0

    result = runner.invoke(args=["index-occurrences", "--rebuild"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    first, last = occurrence_index.target_window()
    assert (last - first).days == db.session.scalar(
        sa.select(sa.func.count()).select_from(IndexedOccurrence)
    )
    assert f"Index rebuilt: {(last - first).days} occurrences." in result.output
    assert f"The index covers {first} to {last}." in result.output
    assert_index_equals_schedule()
    assert series.id in db.session.scalars(sa.select(IndexedOccurrence.series_id)).all()


# One transaction -----------------------------------------------------------------------------


class Observer:
    """A second connection, as another worker has: what is committed, nothing else."""

    def __init__(self, url: str):
        self.engine = sa.create_engine(url)

    def rows(self, statement) -> list:
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(statement)]


@pytest.fixture
def observer(app):
    watcher = Observer(app.config["SQLALCHEMY_DATABASE_URI"])
    yield watcher
    watcher.engine.dispose()


@pytest.fixture
def at_commit(app):
    """Call ``look()`` just before each commit of the test's session; collect what it saw."""
    seen, looks = [], []

    def before_commit(session):
        for look in looks:
            seen.append(look())

    sa.event.listen(orm.Session, "before_commit", before_commit)

    def watch(look):
        seen.clear()
        looks[:] = [look]
        return seen

    yield watch
    sa.event.remove(orm.Session, "before_commit", before_commit)


@pytest.fixture
def hours(make_series):
    return make_series(
        weekdays=EVERY_DAY,
        start_date=clock.today() - timedelta(days=7),
        start_time=time(9, 0),
        end_time=time(12, 0),
        seats_per_slot=3,
        min_notice_hours=0,
    )


def at(days: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(
        clock.today() + timedelta(days=days), time(hour, minute), AMS
    ).astimezone(UTC)


def assert_only(seen: list, expected) -> None:
    """Every look before a commit (the change's own and its savepoints') saw ``expected``."""
    assert seen and all(item == expected for item in seen), seen


def occurrence_seen(observer, series, day) -> list:
    rows = observer.rows(
        sa.select(IndexedOccurrence.status, IndexedOccurrence.seats_taken).where(
            IndexedOccurrence.series_id == series.id, IndexedOccurrence.date == day
        )
    )
    return [(status.value, taken) for status, taken in rows]


def slot_taken_seen(observer, series, start) -> list:
    return observer.rows(
        sa.select(IndexedSlot.seats_taken).where(
            IndexedSlot.series_id == series.id, IndexedSlot.starts_at == start
        )
    )


def test_an_exception_and_its_index_change_commit_together(hours, observer, at_commit):
    day = clock.today() + timedelta(days=3)

    def look():
        exceptions = observer.rows(
            sa.select(SeriesException.date).where(SeriesException.series_id == hours.id)
        )
        return exceptions, occurrence_seen(observer, hours, day)

    seen = at_commit(look)
    with writing():
        series_service.add_exception(hours, day=day, kind=ExceptionKind.CANCELLED, reason="Ziek")
    assert_only(seen, ([], [("scheduled", 0)]))
    assert look() == ([(day,)], [("cancelled", 0)])

    seen = at_commit(look)
    with writing():
        series_service.remove_exception(db.session.scalars(sa.select(SeriesException)).one())
    assert_only(seen, ([(day,)], [("cancelled", 0)]))
    assert look() == ([], [("scheduled", 0)])


def test_a_closure_and_its_index_change_commit_together(hours, observer, at_commit, make_user):
    day = clock.today() + timedelta(days=4)

    def look():
        closures = observer.rows(sa.select(LocationClosure.start_date))
        return closures, occurrence_seen(observer, hours, day)

    coordinator = make_user(Role.COORDINATOR)
    seen = at_commit(look)
    with writing():
        series_service.close_location(
            hours.location, start=day, end=day, reason="Verbouwing", user=coordinator
        )
    assert_only(seen, ([], [("scheduled", 0)]))
    assert look() == ([(day,)], [("closed", 0)])

    seen = at_commit(look)
    with writing():
        series_service.remove_closure(db.session.scalars(sa.select(LocationClosure)).one())
    assert_only(seen, ([(day,)], [("closed", 0)]))
    assert look() == ([], [("scheduled", 0)])


def test_a_booking_a_move_and_a_cancel_commit_with_their_seat_counts(hours, observer, at_commit):
    first, second = at(2, 10), at(3, 11)

    def look():
        bookings = observer.rows(sa.select(Booking.slot_start, Booking.status))
        return (
            [(start.replace(tzinfo=None), status.value) for start, status in bookings],
            slot_taken_seen(observer, hours, first),
            slot_taken_seen(observer, hours, second),
            occurrence_seen(observer, hours, first.astimezone(AMS).date()),
        )

    naive_first, naive_second = first.replace(tzinfo=None), second.replace(tzinfo=None)
    seen = at_commit(look)
    with writing():
        booking, _token = booking_service.book(hours, first, ResidentDetails(name="A.B."))
        db.session.commit()
    assert_only(seen, ([], [(0,)], [(0,)], [("scheduled", 0)]))
    assert look() == ([(naive_first, "booked")], [(1,)], [(0,)], [("scheduled", 1)])

    seen = at_commit(look)
    with writing():
        booking_service.move(booking, second, version=booking.version)
        db.session.commit()
    assert_only(seen, ([(naive_first, "booked")], [(1,)], [(0,)], [("scheduled", 1)]))
    assert look() == ([(naive_second, "booked")], [(0,)], [(1,)], [("scheduled", 0)])

    seen = at_commit(look)
    with writing():
        booking_service.cancel(booking, version=booking.version)
        db.session.commit()
    assert_only(seen, ([(naive_second, "booked")], [(0,)], [(1,)], [("scheduled", 0)]))
    assert look() == ([(naive_second, "cancelled")], [(0,)], [(0,)], [("scheduled", 0)])


def test_a_failing_index_update_leaves_no_booking(hours, observer, monkeypatch):
    """The counter is written in the booking's own transaction: if it fails, so does the
    booking, and nobody holds a seat the index does not count."""

    def broken(*_args, **_kwargs):
        raise RuntimeError("the index could not be written")

    monkeypatch.setattr(occurrence_index, "_count", broken)
    with writing(), pytest.raises(RuntimeError):
        booking_service.book(hours, at(2, 10), ResidentDetails(name="A.B."))
    db.session.rollback()
    assert observer.rows(sa.select(Booking.id)) == []
    assert slot_taken_seen(observer, hours, at(2, 10)) == [(0,)]


# At the same time ------------------------------------------------------------------------------


def _in_threads(app, count: int, work) -> list[BaseException]:
    """Run ``work(n)`` in ``count`` threads at once, each with its own session."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                work(n)
            except BaseException as error:  # noqa: BLE001 (reported by the test)
                with lock:
                    errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return errors


def test_concurrent_bookings_of_one_slot_leave_the_counter_equal_to_the_bookings(app, hours):
    """Twelve residents at once for three seats, while the series is rebuilt again and
    again: the slot's and the occurrence's counters equal the bookings holding a seat."""
    moment, series_id = at(2, 10), hours.id
    stop = threading.Event()
    done = []

    def work(n: int) -> None:
        series = db.session.get(ConsultationHours, series_id)
        if n == 0:
            while not stop.is_set():
                with writing():
                    booking_service.retry_on_lock(
                        lambda: (occurrence_index.refresh_series(series), db.session.commit())
                    )
            return
        try:
            with writing():
                booking_service.book(series, moment, ResidentDetails(name=f"Bewoner {n}"))
                db.session.commit()
        except booking_service.SlotTaken:
            pass
        finally:
            done.append(n)
            if len(done) == 12:
                stop.set()

    errors = _in_threads(app, 13, work)
    stop.set()
    assert errors == []
    db.session.rollback()
    holding = db.session.scalar(
        sa.select(sa.func.count()).where(
            Booking.series_id == hours.id, Booking.slot_start == moment, Booking.seat.is_not(None)
        )
    )
    assert holding == 3
    assert (
        db.session.scalar(
            sa.select(IndexedSlot.seats_taken).where(
                IndexedSlot.series_id == hours.id, IndexedSlot.starts_at == moment
            )
        )
        == 3
    )
    assert_index_equals_schedule()


def test_concurrent_bookings_and_cancellations_over_several_slots(app, hours):
    """Residents booking and cancelling on several slots at once: every counter is right."""
    moments, series_id = [at(2, 9), at(2, 9, 30), at(3, 9)], hours.id

    def work(n: int) -> None:
        series = db.session.get(ConsultationHours, series_id)
        try:
            with writing():
                booking, _token = booking_service.book(
                    series, moments[n % 3], ResidentDetails(name=f"Bewoner {n}")
                )
                db.session.commit()
        except booking_service.SlotTaken:
            return
        if n % 2:
            with writing():
                booking_service.retry_on_lock(
                    lambda: (
                        booking_service.cancel(db.session.get(Booking, booking.id), version=None),
                        db.session.commit(),
                    )
                )

    assert _in_threads(app, 12, work) == []
    db.session.rollback()
    assert_index_equals_schedule()


def test_two_rolls_at_once_leave_no_duplicates(app, make_series):
    """The nightly roll started twice at the same moment (two servers' cron): one does the
    work, the other waits and finds it done; the rows are those of the schedule, once."""
    today = clock.today()
    make_series(weekdays=EVERY_DAY, start_date=today - timedelta(days=3), seats_per_slot=2)
    make_series(weekdays="1,3", start_date=today, mode=Mode.WALK_IN)
    reports = []

    def work(_n: int) -> None:
        with writing():
            reports.append(occurrence_index.roll(today + timedelta(days=3)))
            db.session.commit()

    assert _in_threads(app, 2, work) == []
    added = sorted(report.occurrences_added for report in reports)
    assert added[0] == 0 and added[1] > 0
    db.session.rollback()
    assert_index_equals_schedule()
    assert occurrence_index.window().first_date == today + timedelta(days=2)


def test_two_first_builds_at_once_build_the_index_once(app, make_series):
    """Without any index yet, two changes at once each find it missing: it is built once."""
    series_id = make_series(weekdays=EVERY_DAY, start_date=clock.today()).id
    db.session.execute(sa.delete(IndexedSlot))
    db.session.execute(sa.delete(IndexedOccurrence))
    db.session.execute(sa.delete(OccurrenceIndexWindow))
    db.session.commit()

    def work(n: int) -> None:
        with writing():
            booking_service.book(
                db.session.get(ConsultationHours, series_id),
                at(2 + n, 15),
                ResidentDetails(name=f"Bewoner {n}"),
            )
            db.session.commit()

    assert _in_threads(app, 2, work) == []
    db.session.rollback()
    assert_index_equals_schedule()


def test_a_booking_through_the_form_counts_in_the_index(client, hours):
    """A resident books on the public page: the slot's seats taken rise in that request."""
    moment = at(2, 10)
    response = client.post(
        f"/spreekuren/{hours.id}/afspraak?tijd={moment.strftime('%Y-%m-%dT%H:%MZ')}",
        data={"name": "Bewoner", "language": "en"},
    )
    assert response.status_code == 303
    db.session.rollback()
    assert (
        db.session.scalar(
            sa.select(IndexedSlot.seats_taken).where(
                IndexedSlot.series_id == hours.id, IndexedSlot.starts_at == moment
            )
        )
        == 1
    )
    assert_index_equals_schedule()

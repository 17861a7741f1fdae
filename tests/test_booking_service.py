"""The booking service: booking, capacity, cancelling, moving, finding, mail outbox."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    ExceptionKind,
    LocationClosure,
    Mode,
    Role,
    SeriesException,
    SeriesStatus,
)
from app.models.booking import Booking, BookingStatus
from app.services import DomainError
from app.services import booking as booking_service
from app.services.booking import ResidentDetails, SlotTaken, SlotUnavailable, StaleBooking

# A Monday in winter; the series below runs on Tuesdays 14:00-16:00 Amsterdam (13:00 UTC).
NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
TUESDAY = date(2026, 1, 13)
SLOT = datetime(2026, 1, 13, 13, 0, tzinfo=UTC)
NEXT_SLOT = datetime(2026, 1, 13, 13, 30, tzinfo=UTC)


@pytest.fixture
def series(make_series):
    return make_series(start_date=date(2026, 1, 6), seats_per_slot=2, min_notice_hours=2)


def details(**overrides) -> ResidentDetails:
    values = {"name": "A.B.", "phone": "06 12345678"}
    values.update(overrides)
    return ResidentDetails(**values)


def book(series, start=SLOT, now=NOW, **kwargs):
    booking, token = booking_service.book(series, start, details(**kwargs), now=now)
    db.session.commit()
    return booking, token


def test_booking_gets_a_readable_code_a_secret_token_and_a_seat(series):
    """A booking has an 8-character code without look-alikes, a secret link and seat 1."""
    booking, token = book(series)
    assert len(booking.code) == 8
    assert set(booking.code) <= set(booking_service.CODE_ALPHABET)
    assert not set(booking.code) & set("0O1IL2Z5S6G8B")
    assert len(token) >= 32 and token not in booking.token_hash
    assert booking.seat == 1 and booking.status is BookingStatus.BOOKED
    assert booking.slot_start == SLOT
    assert booking.slot_end == SLOT + timedelta(minutes=30)


def test_slot_instants_survive_the_database_in_utc(series):
    """What is stored is read back as the same aware UTC instant (also on SQLite)."""
    booking, _ = book(series)
    db.session.expire_all()
    stored = db.session.get(Booking, booking.id)
    assert stored.slot_start == SLOT and stored.slot_start.tzinfo is not None


def test_seats_per_slot_are_never_exceeded(series):
    """Two seats: two bookings fit, the third is refused with SlotTaken."""
    book(series)
    book(series, name="C.D.")
    with pytest.raises(SlotTaken):
        book(series, name="E.F.")
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Booking))
    assert count == 2


def test_the_database_itself_refuses_a_second_booking_on_a_seat(series):
    """Bypassing the service, the unique constraint still stops a double booking."""
    first, _ = book(series)
    double = Booking(
        series=series,
        slot_start=first.slot_start,
        slot_end=first.slot_end,
        seat=first.seat,
        code="ACDEFHJK",
        token_hash="x" * 64,
        name="X",
    )
    db.session.add(double)
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_cancelling_frees_the_seat(series):
    """A cancelled booking gives its seat back to the next resident."""
    first, _ = book(series)
    book(series, name="C.D.")
    booking_service.cancel(first, version=first.version)
    db.session.commit()
    third, _ = book(series, name="E.F.")
    assert third.seat == first.seat or third.seat == 1
    assert first.seat is None and first.status is BookingStatus.CANCELLED


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("question", "Mijn BSN is 123456782", "BSN"),
        ("question", "bsn 1234 56 782 graag", "BSN"),
        ("name", "", "first name or initials"),
        ("phone", "bel me", "phone number"),
    ],
)
def test_bad_details_are_refused_with_an_explanation(app, series, field, value, message):
    """A BSN-like number, an empty name or a wrong phone number is refused and explained."""
    with (
        app.test_request_context(headers={"Accept-Language": "en"}),
        pytest.raises(DomainError) as error,
    ):
        book(series, **{field: value})
    assert message in error.value.message
    assert error.value.field == field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


def test_phone_number_with_ten_digits_is_not_taken_for_a_bsn(series):
    """A Dutch mobile number in the question is not mistaken for a BSN."""
    booking, _ = book(series, question="Bel mij op 06 12345678 of 0612345678")
    assert booking.id


def test_minimum_notice_applies_to_residents_not_to_staff(series, make_user):
    """Residents book at least the notice ahead; staff at the desk may book the same day."""
    late = SLOT - timedelta(hours=1)
    with pytest.raises(SlotUnavailable):
        book(series, now=late)
    staff = make_user(Role.STAFF, series.provider)
    booking, _ = booking_service.book(series, SLOT, details(), by=staff, now=late)
    assert booking.created_by == staff


def test_booking_horizon_is_enforced(series):
    """A slot past the booking horizon cannot be booked yet."""
    far = SLOT + timedelta(weeks=7)
    with pytest.raises(SlotUnavailable):
        book(series, start=far)


@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 1, 13, 13, 10, tzinfo=UTC),  # not on the slot grid
        datetime(2026, 1, 14, 13, 0, tzinfo=UTC),  # a Wednesday
        datetime(2026, 1, 13, 15, 0, tzinfo=UTC),  # after the end
    ],
)
def test_only_real_slots_can_be_booked(series, start):
    """A time that is not a slot of the series is refused."""
    with pytest.raises(SlotUnavailable):
        book(series, start=start)


def test_cancelled_or_closed_dates_cannot_be_booked(series):
    """No bookings on a cancelled date or while the location is closed."""
    db.session.add(SeriesException(series=series, date=TUESDAY, kind=ExceptionKind.CANCELLED))
    db.session.add(
        LocationClosure(
            location=series.location,
            start_date=TUESDAY + timedelta(weeks=1),
            end_date=TUESDAY + timedelta(weeks=1),
            reason="Vakantie",
        )
    )
    db.session.commit()
    with pytest.raises(SlotUnavailable):
        book(series)
    with pytest.raises(SlotUnavailable):
        book(series, start=SLOT + timedelta(weeks=1))


@pytest.mark.parametrize(
    "overrides", [{"status": SeriesStatus.DRAFT}, {"status": SeriesStatus.PAUSED}]
)
def test_unpublished_hours_cannot_be_booked(make_series, overrides):
    """Draft and paused hours take no bookings."""
    series = make_series(start_date=date(2026, 1, 6), **overrides)
    with pytest.raises(SlotUnavailable):
        book(series)


def test_walk_in_hours_cannot_be_booked(make_series):
    """Walk-in hours have no slots."""
    series = make_series(start_date=date(2026, 1, 6), mode=Mode.WALK_IN)
    with pytest.raises(SlotUnavailable):
        book(series)


def test_find_by_code_needs_the_phone_number_or_the_name(series):
    """The code alone finds nothing; with the phone number or the name it does."""
    booking, _ = book(series, name="Fatima", phone="06-1234 5678")
    code = booking.display_code.lower()
    assert booking_service.find_by_code(code, "") is None
    assert booking_service.find_by_code(code, "Someone else") is None
    assert booking_service.find_by_code(code, "0612345678") == booking
    assert booking_service.find_by_code(code, "fatima") == booking


def test_find_by_token(series):
    """The secret link finds its booking; any other token finds nothing."""
    booking, token = book(series)
    assert booking_service.find_by_token(token) == booking
    assert booking_service.find_by_token(token + "x") is None
    assert booking_service.find_by_token("") is None


def test_move_frees_the_old_seat_and_replaces_the_link(make_series):
    """After a move the old time is free again and the old link and forms are void."""
    series = make_series(start_date=date(2026, 1, 6), seats_per_slot=1)
    booking, old_token = book(series)
    old_version = booking.version
    new_token = booking_service.move(booking, NEXT_SLOT, version=old_version, now=NOW)
    db.session.commit()
    assert booking.slot_start == NEXT_SLOT
    assert booking_service.find_by_token(old_token) is None
    assert booking_service.find_by_token(new_token) == booking
    with pytest.raises(StaleBooking):
        booking_service.cancel(booking, version=old_version)
    other, _ = book(series, name="C.D.")  # the old slot is free again
    assert other.slot_start == SLOT


def test_move_to_a_full_slot_keeps_the_appointment(make_series):
    """Moving to a taken time fails and the original appointment stays as it was."""
    series = make_series(start_date=date(2026, 1, 6), seats_per_slot=1)
    mine, token = book(series)
    book(series, start=NEXT_SLOT, name="C.D.")
    with pytest.raises(SlotTaken):
        booking_service.move(mine, NEXT_SLOT, version=mine.version, now=NOW)
    db.session.expire_all()
    mine = db.session.get(Booking, mine.id)
    assert mine.slot_start == SLOT and mine.seat == 1
    assert booking_service.find_by_token(token) == mine


def test_seats_taken_feeds_bookable_slots(series):
    """The count of taken seats per slot makes full slots disappear from the free list."""
    from app.services.schedule import bookable_slots

    book(series)
    book(series, name="C.D.")
    taken = booking_service.seats_taken(
        [series.id], SLOT - timedelta(days=1), SLOT + timedelta(days=1)
    )
    assert taken == {(series.id, SLOT): 2}
    free = bookable_slots([series], TUESDAY, TUESDAY, now=NOW, booked=taken)
    assert SLOT not in {b.slot.start_utc for b in free}
    assert NEXT_SLOT in {b.slot.start_utc for b in free}


def test_affected_bookings_after_a_cancelled_date(series, monkeypatch):
    """A booking on a date that is then cancelled is listed as affected."""
    monkeypatch.setattr("app.clock.now", lambda: NOW)
    booking, _ = book(series)
    other, _ = book(series, start=SLOT + timedelta(weeks=1), name="C.D.")
    db.session.add(SeriesException(series=series, date=TUESDAY, kind=ExceptionKind.CANCELLED))
    db.session.commit()
    affected = booking_service.affected_bookings(series, TUESDAY, TUESDAY + timedelta(weeks=2))
    assert affected == [booking]


def test_affected_bookings_after_changed_times(series, monkeypatch):
    """Changed times that drop a booked slot make that booking affected."""
    monkeypatch.setattr("app.clock.now", lambda: NOW)
    early, _ = book(series)
    late, _ = book(series, start=SLOT + timedelta(hours=1, minutes=30), name="C.D.")
    db.session.add(
        SeriesException(
            series=series,
            date=TUESDAY,
            kind=ExceptionKind.CHANGED,
            start_time=time(14, 0),
            end_time=time(15, 0),
        )
    )
    db.session.commit()
    assert booking_service.affected_bookings(series, TUESDAY, TUESDAY) == [late]


def test_both_passes_of_the_repeated_autumn_hour_can_be_booked(make_series):
    """On the night the clocks go back, 02:30 exists twice; each is its own bookable slot."""
    night = date(2026, 10, 25)
    series = make_series(
        start_date=night,
        weekdays="6",
        start_time=time(1, 0),
        end_time=time(4, 0),
        min_notice_hours=0,
    )
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 summer time
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 winter time
    now = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    a, _ = booking_service.book(series, first, details(), now=now)
    b, _ = booking_service.book(series, second, details(name="C.D."), now=now)
    db.session.commit()
    assert (a.slot_start, b.slot_start) == (first, second)

"""Helpers for the waiting-list tests: hours with every seat taken, residents waiting, and
the links their offers were sent with."""

from __future__ import annotations

import re
from datetime import time, timedelta

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import Booking, BookingStatus, IndexedSlot, OutboxMessage
from app.services import booking as booking_service
from app.services import waiting_list
from app.services.booking import ResidentDetails
from app.services.waiting_list import WaitingDetails

OFFER_LINK = re.compile(r"https?://\S+/wachtlijst/aanbod/(\S+)")


def full_series(make_series, **overrides):
    """Daily hours 10:00-11:00, two seats per half hour, bookable four days ahead, with
    every seat within the horizon booked."""
    values = {
        "weekdays": "0,1,2,3,4,5,6",
        "start_date": clock.today() - timedelta(days=7),
        "start_time": time(10, 0),
        "end_time": time(11, 0),
        "seats_per_slot": 2,
        "min_notice_hours": 0,
        "book_ahead_days": 4,
    }
    values.update(overrides)
    series = make_series(**values)
    today = clock.today()
    free = booking_service.available_slots(
        [series], today, today + timedelta(days=series.book_ahead_days)
    )
    n = 0
    for item in free:
        for _seat in range(item.seats_left):
            n += 1
            booking_service.book(series, item.slot.start_utc, ResidentDetails(name=f"Vol {n}"))
            db.session.commit()
    assert not waiting_list.has_free_time(series)
    return series


def join_many(series, count: int, *, start: int = 1) -> list[int]:
    """``count`` residents join the list one after the other; their entry ids in order."""
    ids = []
    for n in range(start, start + count):
        entry, _token = waiting_list.join(
            series, WaitingDetails(name=f"Wachter {n}", email=f"wachter{n}@example.org")
        )
        db.session.commit()
        ids.append(entry.id)
    return ids


def later_bookings(series, days_ahead: int = 2) -> list[Booking]:
    """Appointments of the series at least ``days_ahead`` days ahead (far from any notice)."""
    since = clock.now() + timedelta(days=days_ahead - 1)
    return db.session.scalars(
        sa.select(Booking)
        .where(
            Booking.series_id == series.id,
            Booking.status == BookingStatus.BOOKED,
            Booking.slot_start >= since,
        )
        .order_by(Booking.slot_start, Booking.seat)
    ).all()


def offer_token(email: str) -> str:
    """The token of the newest offer link mailed to ``email`` (read from the outbox)."""
    body = db.session.scalars(
        sa.select(OutboxMessage.body)
        .where(OutboxMessage.recipient == email)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert body, f"no message to {email}"
    return OFFER_LINK.search(body).group(1)


def assert_never_overbooked(series) -> None:
    """No slot holds more seats than the series has, appointments and held seats together."""
    rows = db.session.execute(
        sa.select(Booking.slot_start, sa.func.count())
        .where(Booking.series_id == series.id, Booking.seat.is_not(None))
        .group_by(Booking.slot_start)
    ).all()
    assert all(count <= series.seats_per_slot for _start, count in rows), rows
    assert_index_counts(series)


def assert_index_counts(series) -> None:
    """The occurrence index counts every held seat as taken, and a released one as free."""
    booked = dict(
        db.session.execute(
            sa.select(Booking.slot_start, sa.func.count())
            .where(Booking.series_id == series.id, Booking.seat.is_not(None))
            .group_by(Booking.slot_start)
        ).all()
    )
    indexed = dict(
        db.session.execute(
            sa.select(IndexedSlot.starts_at, IndexedSlot.seats_taken).where(
                IndexedSlot.series_id == series.id, IndexedSlot.seats_taken > 0
            )
        ).all()
    )
    assert indexed == booked

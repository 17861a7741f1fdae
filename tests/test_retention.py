"""Personal data of bookings is erased 30 days after the appointment; counts remain."""

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Booking, BookingStatus, OutboxMessage
from app.services import booking as booking_service
from app.services import mail
from app.services.booking import ResidentDetails


def test_retention_erases_old_bookings_and_keeps_recent_ones(app, runner, make_series, monkeypatch):
    """The command erases name, phone, email and question of old appointments only."""
    series = make_series(start_date=date(2026, 1, 6), weekdays="1")
    old_slot = datetime(2026, 1, 13, 13, 0, tzinfo=UTC)
    new_slot = datetime(2026, 2, 10, 13, 0, tzinfo=UTC)
    before = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
    details = ResidentDetails(
        name="Fatima",
        phone="0612345678",
        email="f@example.org",
        question="Toeslag",
        needs_wheelchair=True,
    )
    old, _ = booking_service.book(series, old_slot, details, now=before)
    recent, _ = booking_service.book(series, new_slot, details, now=before)
    mail.queue("f@example.org", "Uw afspraak", "Tot dan", booking=old)
    db.session.commit()

    monkeypatch.setattr("app.clock.now", lambda: datetime(2026, 2, 13, 12, 0, tzinfo=UTC))
    result = runner.invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    assert "Bookings erased: 1; mail messages deleted: 1." in result.output

    db.session.expire_all()
    old, recent = db.session.get(Booking, old.id), db.session.get(Booking, recent.id)
    assert (old.name, old.phone, old.email, old.question) == ("", "", "", "")
    assert not old.needs_wheelchair and old.personal_data_erased_at is not None
    assert old.status is BookingStatus.BOOKED and old.slot_start == old_slot  # counts remain
    assert recent.name == "Fatima" and recent.personal_data_erased_at is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0

    again = runner.invoke(args=["retention"])
    assert "Bookings erased: 0" in again.output


def test_erased_booking_cannot_be_found_any_more(app, make_series, monkeypatch):
    """After erasure the code no longer opens the appointment."""
    series = make_series(start_date=date(2026, 1, 6), weekdays="1")
    slot = datetime(2026, 1, 13, 13, 0, tzinfo=UTC)
    booking, token = booking_service.book(
        series, slot, ResidentDetails(name="Fatima"), now=slot - timedelta(days=1)
    )
    db.session.commit()
    monkeypatch.setattr("app.clock.now", lambda: slot + timedelta(days=31))
    from app.services import retention

    retention.run()
    assert booking_service.find_by_code(booking.code, "Fatima") is None

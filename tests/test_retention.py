"""Personal data of bookings is erased 30 days after the appointment, of referrals 90 days
after they were closed; counts remain."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import (
    AuditAction,
    AuditEntry,
    Booking,
    BookingStatus,
    OrganisationKind,
    OutboxMessage,
    Referral,
    ReferralStatus,
    Role,
)
from app.services import booking as booking_service
from app.services import mail, referrals, retention
from app.services.booking import ResidentDetails
from tests.referral_helpers import RESIDENT, write_signpost, write_warm


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
    retention.run()
    assert booking_service.find_by_code(booking.code, "Fatima") is None


# Referrals -----------------------------------------------------------------------------------


@pytest.fixture
def referral_setup(make_org, make_user, make_topic):
    library = make_org(kind=OrganisationKind.LIBRARY)
    partner = make_org()
    return (
        make_user(Role.STAFF, library),
        make_user(Role.STAFF, partner),
        partner,
        make_topic(),
    )


def test_retention_erases_referrals_closed_more_than_90_days_ago(
    app, runner, referral_setup, monkeypatch
):
    """Name, contact, question and the receiver's notes go 90 days after closing; the
    referral itself stays for the counts; open ones and recent ones are kept."""
    sender, receiver, partner, topic = referral_setup
    old = write_warm(sender, partner, topic)
    recent = write_warm(sender, partner, topic)
    still_open = write_warm(sender, partner, topic)
    write_signpost(sender, partner, topic)
    referrals.update(old, receiver, ReferralStatus.DONE, "Afspraak gehad, schuldhulp gestart")
    db.session.commit()
    now = clock.now()
    monkeypatch.setattr("app.clock.now", lambda: now + timedelta(days=80))
    referrals.update(recent, receiver, ReferralStatus.DECLINED)
    db.session.commit()

    monkeypatch.setattr("app.clock.now", lambda: now + timedelta(days=91))
    result = runner.invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    assert "Referrals erased: 1." in result.output

    db.session.expire_all()
    old = db.session.get(Referral, old.id)
    assert (old.resident_name, old.phone, old.email, old.request) == ("", "", "", "")
    assert old.personal_data_erased_at is not None and old.notes[0].text == ""
    assert old.status is ReferralStatus.DONE and old.topic_id == topic.id  # counts remain
    assert db.session.get(Referral, recent.id).resident_name == RESIDENT
    assert db.session.get(Referral, still_open.id).resident_name == RESIDENT
    erased = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == AuditAction.ERASE)
    ).all()
    assert [(e.referral_id, e.user_id) for e in erased] == [(old.id, None)]

    assert "Referrals erased: 0." in runner.invoke(args=["retention"]).output


def test_the_referral_retention_period_is_configurable(app, referral_setup, monkeypatch):
    """REFERRAL_RETENTION_DAYS sets the period."""
    sender, receiver, partner, topic = referral_setup
    referral = write_warm(sender, partner, topic)
    referrals.update(referral, receiver, ReferralStatus.NOT_REACHED)
    db.session.commit()
    app.config["REFERRAL_RETENTION_DAYS"] = 10
    now = clock.now()
    monkeypatch.setattr("app.clock.now", lambda: now + timedelta(days=9))
    assert retention.run().referrals_erased == 0
    monkeypatch.setattr("app.clock.now", lambda: now + timedelta(days=11))
    assert retention.run().referrals_erased == 1
    assert db.session.get(Referral, referral.id).resident_name == ""

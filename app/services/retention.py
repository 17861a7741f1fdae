"""Deleting personal data on schedule (run daily: ``flask retention``).

What stays is anonymous: that a booking existed, when, for which hours, and whether the
resident came, so counts remain possible. The same for referrals: who referred to whom, on
which topic, and how it ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app import clock
from app.extensions import db
from app.models import AuditAction, Booking, OutboxMessage, Referral, ReferralKind
from app.services import audit
from app.services.referrals import erase_personal_data


@dataclass
class RetentionReport:
    bookings_erased: int = 0
    messages_deleted: int = 0
    referrals_erased: int = 0


def erase_bookings(report: RetentionReport) -> None:
    """Erase the personal fields of bookings whose appointment is older than the period."""
    days = current_app.config["BOOKING_RETENTION_DAYS"]
    cutoff = clock.now() - timedelta(days=days)
    ids = db.session.scalars(
        sa.select(Booking.id).where(
            Booking.slot_end < cutoff, Booking.personal_data_erased_at.is_(None)
        )
    ).all()
    if not ids:
        return
    report.messages_deleted += db.session.execute(
        sa.delete(OutboxMessage).where(OutboxMessage.booking_id.in_(ids))
    ).rowcount
    report.bookings_erased += db.session.execute(
        sa.update(Booking)
        .where(Booking.id.in_(ids))
        .values(
            name="",
            phone="",
            email="",
            question="",
            needs_interpreter=False,
            needs_wheelchair=False,
            cancel_reason="",
            affected_reason="",
            personal_data_erased_at=clock.now(),
        )
    ).rowcount


def erase_referrals(report: RetentionReport) -> None:
    """Erase the resident's details and the receiver's notes of referrals closed longer ago
    than the period (REFERRAL_RETENTION_DAYS); each erasure is in the audit log."""
    days = current_app.config["REFERRAL_RETENTION_DAYS"]
    now = clock.now()
    referrals = db.session.scalars(
        sa.select(Referral).where(
            Referral.kind == ReferralKind.WARM,
            Referral.closed_at < now - timedelta(days=days),
            Referral.personal_data_erased_at.is_(None),
        )
    ).all()
    for referral in referrals:
        erase_personal_data(referral, now)
        audit.record(None, AuditAction.ERASE, referral, f"retention {days} days")
        report.referrals_erased += 1


def run() -> RetentionReport:
    """Apply every retention rule in one transaction and say what was erased."""
    report = RetentionReport()
    erase_bookings(report)
    erase_referrals(report)
    db.session.commit()
    return report

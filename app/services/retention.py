"""Deleting personal data on schedule (run daily: ``flask retention``).

What stays is anonymous: that a booking existed, when, for which hours, and whether the
resident came, so counts remain possible. The same for referrals: who referred to whom, on
which topic, and how it ended (or that it never ended). Old audit-log entries are deleted,
and so are rate-limit counters whose window has ended and expired login sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app import clock
from app.extensions import db
from app.models import (
    AuditAction,
    AuditEntry,
    Booking,
    CourseLogEntry,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    OutboxMessage,
    OutboxStatus,
    RateLimitCounter,
    Referral,
    ReferralKind,
    ReferralNote,
    Visit,
    WaitingEntry,
    WaitingStatus,
)
from app.models.referral import OPEN_STATUSES
from app.services import audit, login_sessions, outbox
from app.services.referrals import erase_personal_data
from app.transactions import writing


@dataclass
class RetentionReport:
    bookings_erased: int = 0
    messages_erased: int = 0  # text and recipient, with the booking's or participant's data
    referrals_erased: int = 0  # closed ones, REFERRAL_RETENTION_DAYS after closing
    open_referrals_erased: int = 0  # never closed, REFERRAL_OPEN_RETENTION_DAYS after a change
    audit_entries_deleted: int = 0
    rate_limit_counters_deleted: int = 0
    visit_initials_erased: int = 0  # the desk's initials, once the day is over
    # COURSE_SIGNUP_RETENTION_DAYS after the last session; signed off: once told so
    course_sign_ups_erased: int = 0
    login_sessions_deleted: int = 0
    waiting_entries_erased: int = 0  # left, taken, passed, or on the list too long


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
    report.messages_erased += outbox.erase(OutboxMessage.booking_id.in_(ids))
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


def erase_course_messages(report: RetentionReport) -> None:
    """Erase the messages to course participants whose details were erased (consent
    withdrawn, the referral's retention period over, a sign-up erased)."""
    erased = (
        sa.select(Enrolment.id)
        .outerjoin(Referral, Enrolment.referral_id == Referral.id)
        .where(
            sa.or_(
                Referral.personal_data_erased_at.is_not(None),
                Enrolment.personal_data_erased_at.is_not(None),
            )
        )
    )
    report.messages_erased += outbox.erase(OutboxMessage.enrolment_id.in_(erased))


def erase_course_sign_ups(report: RetentionReport) -> None:
    """Erase the personal fields of course sign-ups (by the resident or at the desk) whose
    course's last session is longer ago than the period (COURSE_SIGNUP_RETENTION_DAYS), or
    that were signed off and have no mail left to send (the receipt), and the messages about
    them. What stays: that someone was on the list, and how it ended."""
    days = current_app.config["COURSE_SIGNUP_RETENTION_DAYS"]
    cutoff = clock.today() - timedelta(days=days)
    last_session = (
        sa.select(sa.func.max(CourseSession.date))
        .where(CourseSession.course_id == Enrolment.course_id)
        .scalar_subquery()
    )
    mail_to_send = (
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.enrolment_id == Enrolment.id,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .exists()
    )
    ids = db.session.scalars(
        sa.select(Enrolment.id).where(
            Enrolment.referral_id.is_(None),
            Enrolment.personal_data_erased_at.is_(None),
            sa.or_(
                last_session.is_(None),
                last_session < cutoff,
                sa.and_(Enrolment.status == EnrolmentStatus.REMOVED, ~mail_to_send),
            ),
        )
    ).all()
    if not ids:
        return
    report.messages_erased += outbox.erase(OutboxMessage.enrolment_id.in_(ids))
    report.course_sign_ups_erased += db.session.execute(
        sa.update(Enrolment)
        .where(Enrolment.id.in_(ids))
        .values(name="", phone="", email="", personal_data_erased_at=clock.now())
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


def erase_open_referrals(report: RetentionReport) -> None:
    """Erase the resident's details and the receiver's notes of warm handovers that are still
    open but have not changed for longer than the period (REFERRAL_OPEN_RETENTION_DAYS);
    each erasure is in the audit log.

    The last change is the newest of: the status (set when the referral is written and on
    every move), the receiver's notes (a receiver still writing notes is still working on
    it), the appointment made from it and the last session of its course (the details are
    needed until then, also when nobody moves the status). Views do not count, or reading
    the inbox would keep the data for ever. The status is kept: only the receiver knows
    whether the resident was reached, and they can still set it.
    """
    days = current_app.config["REFERRAL_OPEN_RETENTION_DAYS"]
    now = clock.now()
    cutoff = now - timedelta(days=days)
    recent_note = (
        sa.select(ReferralNote.id)
        .where(ReferralNote.referral_id == Referral.id, ReferralNote.created_at >= cutoff)
        .exists()
    )
    recent_appointment = (
        sa.select(Booking.id)
        .where(Booking.id == Referral.booking_id, Booking.slot_end >= cutoff)
        .exists()
    )
    recent_course_session = (
        sa.select(CourseSession.id)
        .where(
            CourseSession.course_id == Referral.course_id,
            CourseSession.date >= clock.today() - timedelta(days=days),
        )
        .exists()
    )
    referrals = db.session.scalars(
        sa.select(Referral).where(
            Referral.kind == ReferralKind.WARM,
            Referral.status.in_(OPEN_STATUSES),
            Referral.personal_data_erased_at.is_(None),
            Referral.status_changed_at < cutoff,
            ~recent_note,
            ~recent_appointment,
            ~recent_course_session,
        )
    ).all()
    for referral in referrals:
        erase_personal_data(referral, now)
        audit.record(
            None, AuditAction.ERASE, referral, f"retention: open, no change for {days} days"
        )
        report.open_referrals_erased += 1


def delete_audit_entries(report: RetentionReport) -> None:
    """Delete audit-log entries older than the period (AUDIT_RETENTION_DAYS).

    Nothing refers to an entry, so deleting one cannot break a foreign key; the referral it
    was about stays.
    """
    days = current_app.config["AUDIT_RETENTION_DAYS"]
    cutoff = clock.now() - timedelta(days=days)
    report.audit_entries_deleted += db.session.execute(
        sa.delete(AuditEntry).where(AuditEntry.at < cutoff)
    ).rowcount
    # A course's log says which staff member changed what, for as long as the audit log.
    report.audit_entries_deleted += db.session.execute(
        sa.delete(CourseLogEntry).where(CourseLogEntry.at < cutoff)
    ).rowcount


def delete_rate_limit_counters(report: RetentionReport) -> None:
    """Delete the rate-limit counters whose window has ended (they count as zero anyway)."""
    report.rate_limit_counters_deleted += db.session.execute(
        sa.delete(RateLimitCounter).where(RateLimitCounter.expires_at <= clock.now())
    ).rowcount


def erase_visit_initials(report: RetentionReport) -> None:
    """Erase the initials of visits of earlier days: they only served to call someone."""
    report.visit_initials_erased += db.session.execute(
        sa.update(Visit).where(Visit.day < clock.today(), Visit.initials != "").values(initials="")
    ).rowcount


def delete_expired_login_sessions(report: RetentionReport) -> None:
    """Delete the login sessions that have expired: they can never be used again."""
    report.login_sessions_deleted += login_sessions.delete_expired(clock.now())


def erase_waiting_entries(report: RetentionReport) -> None:
    """Erase the waiting list's personal data: of residents no longer on it (left, removed,
    took a time, let an offer pass), and of those who joined longer ago than the period
    (WAITING_LIST_RETENTION_DAYS), who are taken off the list."""
    from app.services import waiting_list

    days = current_app.config["WAITING_LIST_RETENTION_DAYS"]
    cutoff = clock.now() - timedelta(days=days)
    lapsed = db.session.scalars(
        sa.select(WaitingEntry).where(
            WaitingEntry.status.in_([WaitingStatus.WAITING, WaitingStatus.OFFERED]),
            WaitingEntry.joined_at < cutoff,
        )
    ).all()
    for entry in lapsed:
        waiting_list.take_off_after_retention(entry)
        report.waiting_entries_erased += 1
    report.waiting_entries_erased += db.session.execute(
        sa.update(WaitingEntry)
        .where(
            WaitingEntry.status.not_in([WaitingStatus.WAITING, WaitingStatus.OFFERED]),
            WaitingEntry.personal_data_erased_at.is_(None),
        )
        .values(name="", phone="", email="", contact_key="", personal_data_erased_at=clock.now())
    ).rowcount


def run() -> RetentionReport:
    """Apply every retention rule in one transaction and say what was erased."""
    report = RetentionReport()
    db.session.commit()
    with writing():
        erase_bookings(report)
        erase_course_sign_ups(report)
        erase_referrals(report)
        erase_open_referrals(report)
        erase_course_messages(report)
        delete_audit_entries(report)
        delete_rate_limit_counters(report)
        erase_visit_initials(report)
        delete_expired_login_sessions(report)
        erase_waiting_entries(report)
        db.session.commit()
    return report

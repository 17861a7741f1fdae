"""The audit log of referrals and course sign-ups: who viewed or changed which referral or
which resident's sign-up, and when.

Entries are written by the referral services in the same transaction as what they record.
The detail is a short code (a status, a date), never the resident's data.
"""

from __future__ import annotations

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import AuditAction, AuditEntry, Enrolment, Organisation, Referral, User


def record(
    user: User | None, action: AuditAction, referral: Referral, detail: str = ""
) -> AuditEntry:
    """Write one entry; ``user`` None is the system (the retention job)."""
    # On the network's clock, as the retention job that deletes old entries is.
    entry = AuditEntry(
        user=user, referral=referral, action=action, detail=detail[:200], at=clock.now()
    )
    db.session.add(entry)
    return entry


def record_sign_up(
    user: User | None, action: AuditAction, enrolment: Enrolment, detail: str = ""
) -> AuditEntry:
    """Write one entry about a course sign-up (a resident's details seen, printed, signed
    off by staff)."""
    entry = AuditEntry(
        user=user, enrolment_id=enrolment.id, action=action, detail=detail[:200], at=clock.now()
    )
    db.session.add(entry)
    return entry


def organisation_log(organisation: Organisation) -> sa.Select:
    """Entries about the referrals the organisation sent or received, newest first."""
    return (
        sa.select(AuditEntry)
        .join(AuditEntry.referral)
        .where(
            sa.or_(
                Referral.from_organisation_id == organisation.id,
                Referral.to_organisation_id == organisation.id,
            )
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )


def entries_for(referral: Referral) -> list[AuditEntry]:
    """The entries of one referral, oldest first."""
    return list(
        db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.referral_id == referral.id)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    )

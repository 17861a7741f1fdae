"""Helpers shared by the referral and course tests: a resident's consent and referrals
written through the service, as a staff member would."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app import clock
from app.extensions import db
from app.models import (
    ConsentMethod,
    ConsentScope,
    ContactMethod,
    Course,
    Organisation,
    Referral,
    ReferralKind,
    Topic,
    Urgency,
    User,
)
from app.services import referrals
from app.services.referrals import ConsentAnswers, ReferralDraft

AMS = ZoneInfo("Europe/Amsterdam")
RESIDENT = "Fatima El Amrani"
PHONE = "06 12345678"
REQUEST = "Wil hulp bij een betalingsregeling voor de energierekening"


def consent(
    scope: ConsentScope = ConsentScope.CONTACT,
    method: ConsentMethod = ConsentMethod.SPOKEN,
    language: str = "nl",
) -> ConsentAnswers:
    """The resident said yes to both questions."""
    return ConsentAnswers(
        may_share=True, may_receive=True, method=method, scope=scope, script_language=language
    )


def warm_draft(to: Organisation, topic: Topic, **overrides) -> ReferralDraft:
    values = {
        "to_organisation": to,
        "kind": ReferralKind.WARM,
        "topic": topic,
        "urgency": Urgency.SOON,
        "language": "nl",
        "contact_method": ContactMethod.PHONE,
        "resident_name": RESIDENT,
        "phone": PHONE,
        "request": REQUEST,
    }
    values.update(overrides)
    return ReferralDraft(**values)


def write_warm(
    by: User,
    to: Organisation,
    topic: Topic,
    scope: ConsentScope = ConsentScope.CONTACT,
    course: Course | None = None,
    **overrides,
) -> Referral:
    """A warm handover with consent, committed."""
    referral = referrals.create(
        warm_draft(to, topic, course=course, **overrides),
        by,
        consent(ConsentScope.COURSE if course else scope),
    )
    db.session.commit()
    return referral


def write_signpost(by: User, to: Organisation, topic: Topic, **overrides) -> Referral:
    values = {"to_organisation": to, "kind": ReferralKind.SIGNPOST, "topic": topic}
    values.update(overrides)
    referral = referrals.create(ReferralDraft(**values), by)
    db.session.commit()
    return referral


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Amsterdam ``days`` from today, as a UTC instant."""
    day = clock.today() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), AMS).astimezone(UTC)


def slot_param(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")

"""Registering every contact: one or more questions in categories, no personal data and no
free text, so the counts can go to the national IDO registration and the municipality.

A visit (and so an appointment that came) is registered once: ``registration.visit_id`` and
``registration.booking_id`` are unique, so a second "save", by the same or another staff
member, is refused by the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from app import clock
from app.extensions import db
from app.models import (
    Channel,
    ConsultationHours,
    Duration,
    HowHelped,
    Location,
    Organisation,
    OutsideBody,
    Referral,
    RegisteredQuestion,
    Registration,
    Topic,
    User,
    Visit,
    VisitStatus,
)
from app.services import DomainError, NotAllowed, visits

STILL_TO_REGISTER_DAYS = 14


class AlreadyRegistered(DomainError):
    """This visit or appointment has been registered already (perhaps a moment ago)."""


@dataclass
class QuestionData:
    topic_id: int | None
    how_helped: HowHelped | None
    referred_organisation_id: int | None = None
    outside_body_id: int | None = None
    referral_id: int | None = None
    course_recommended: bool = False


@dataclass
class ContactData:
    channel: Channel
    duration: Duration
    location_id: int | None
    questions: list[QuestionData] = field(default_factory=list)


def duration_for(minutes: float) -> Duration:
    """The national registration's bucket for a conversation of ``minutes``."""
    if minutes < 10:
        return Duration.UNDER_10
    if minutes < 20:
        return Duration.FROM_10_TO_20
    if minutes < 30:
        return Duration.FROM_20_TO_30
    return Duration.OVER_30


def proposed_duration(visit: Visit) -> Duration:
    """Measured from being called to finished; for an appointment, the slot's length."""
    if visit.booking is not None:
        start, end = visit.booking.slot_start, visit.booking.slot_end
    else:
        start, end = visit.called_at or visit.arrived_at, visit.finished_at or clock.now()
    return duration_for((end - start).total_seconds() / 60)


def proposed_channel(visit: Visit) -> Channel:
    """An appointment, a walk-in at one's own place, or at a partner's location."""
    if visit.booking_id is not None:
        return Channel.APPOINTMENT
    if visit.location.organisation_id != visit.organisation_id:
        return Channel.PARTNER_LOCATION
    return Channel.DESK


def registration_locations(organisation_id: int) -> list[Location]:
    """Where the organisation registers contacts: its own locations in use, and those where
    it holds hours."""
    guest_at = sa.select(ConsultationHours.location_id).where(
        ConsultationHours.provider_id == organisation_id
    )
    return list(
        db.session.scalars(
            sa.select(Location)
            .join(Location.organisation)
            .where(
                Location.active.is_(True),
                sa.or_(Location.organisation_id == organisation_id, Location.id.in_(guest_at)),
            )
            .order_by(Location.organisation_id != organisation_id, Location.name)
        )
    )


def categories() -> list[Topic]:
    """The categories a question is registered in: every topic in use, public or not."""
    return list(
        db.session.scalars(
            sa.select(Topic).where(Topic.active.is_(True)).order_by(Topic.sort_order, Topic.name_nl)
        )
    )


def receivers() -> tuple[list[Organisation], list[OutsideBody]]:
    """Whom a resident can be referred to: the network's organisations and outside bodies."""
    organisations = db.session.scalars(
        sa.select(Organisation).where(Organisation.active.is_(True)).order_by(Organisation.name)
    ).all()
    bodies = db.session.scalars(
        sa.select(OutsideBody)
        .where(OutsideBody.active.is_(True))
        .order_by(OutsideBody.sort_order, OutsideBody.name)
    ).all()
    return list(organisations), list(bodies)


def _referral_written_today(by: User, to_org: int, taken: set[int]) -> int | None:
    """The referral the user wrote to this organisation today that no registered question
    names yet: a question referred there is linked to it (the closed loop in the figures)."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    today = clock.today()
    start, end = (
        datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)
        for day in (today, today + timedelta(days=1))
    )
    linked = sa.select(RegisteredQuestion.referral_id).where(
        RegisteredQuestion.referral_id.is_not(None)
    )
    return db.session.scalar(
        sa.select(Referral.id)
        .where(
            Referral.from_organisation_id == by.organisation_id,
            Referral.to_organisation_id == to_org,
            Referral.created_by_id == by.id,
            Referral.created_at >= start,
            Referral.created_at < end,
            Referral.id.not_in(linked),
            Referral.id.not_in(taken or {0}),
        )
        .order_by(Referral.created_at.desc(), Referral.id.desc())
        .limit(1)
    )


def _check_question(index: int, question: QuestionData, by: User, taken: set[int]) -> None:
    prefix = f"questions-{index}-"
    topic = db.session.get(Topic, question.topic_id or 0)
    if topic is None or not topic.active:
        raise DomainError(_("Choose what the question was about."), prefix + "topic")
    if question.how_helped is None:
        raise DomainError(_("Choose how the resident was helped."), prefix + "how_helped")
    referred = question.how_helped is HowHelped.REFERRED
    to_org, to_body = question.referred_organisation_id, question.outside_body_id
    if referred and not (to_org or to_body):
        raise DomainError(_("Choose where the resident was referred to."), prefix + "referred_to")
    if to_org and to_body:
        raise DomainError(
            _("Choose one place the resident was referred to, not two."), prefix + "referred_to"
        )
    if not referred:
        question.referred_organisation_id = question.outside_body_id = None
        question.referral_id = None
        return
    receiver = db.session.get(Organisation, to_org) if to_org else None
    receiver = receiver or (db.session.get(OutsideBody, to_body) if to_body else None)
    if receiver is None or not receiver.active:
        raise DomainError(_("Choose where the resident was referred to."), prefix + "referred_to")
    if question.referral_id is None and to_org:
        question.referral_id = _referral_written_today(by, to_org, taken)
    if question.referral_id is not None:
        taken.add(question.referral_id)
        referral = db.session.get(Referral, question.referral_id)
        if (
            referral is None
            or referral.from_organisation_id != by.organisation_id
            or referral.to_organisation_id != to_org
        ):
            raise DomainError(
                _("This referral was not written to that organisation."), prefix + "referred_to"
            )


def register(
    data: ContactData, by: User, *, visit: Visit | None = None, now: datetime | None = None
) -> Registration:
    """Register one contact of the user's organisation, with its questions.

    For a visit the place and day are the visit's, and an open visit is finished by it.
    """
    now = now or clock.now()
    if not data.questions:
        raise DomainError(_("Register at least one question."))
    taken: set[int] = set()  # referrals linked by an earlier question of this contact
    for index, question in enumerate(data.questions):
        _check_question(index, question, by, taken)
    if visit is not None:
        if visit.organisation_id != by.organisation_id:
            raise NotAllowed(_("You register contacts for your own organisation only."))
        if visit.status is VisitStatus.LEFT:
            raise DomainError(_("This resident left without help: there is nothing to register."))
        if visit.status is not VisitStatus.FINISHED:
            visits.finish(visit, by, now=now)
        location_id, day = visit.location_id, visit.day
    else:
        allowed = {place.id for place in registration_locations(by.organisation_id)}
        if data.location_id not in allowed:
            raise DomainError(_("Choose the location of the contact."), "location")
        location_id, day = data.location_id, clock.today()
    registration = Registration(
        organisation_id=by.organisation_id,
        location_id=location_id,
        channel=data.channel,
        duration=data.duration,
        day=day,
        registered_at=now,
        registered_by_id=by.id,
        visit_id=visit.id if visit else None,
        booking_id=visit.booking_id if visit else None,
        questions=[
            RegisteredQuestion(
                topic_id=q.topic_id,
                how_helped=q.how_helped,
                referred_organisation_id=q.referred_organisation_id,
                outside_body_id=q.outside_body_id,
                referral_id=q.referral_id,
                course_recommended=q.course_recommended,
                organisation_id=by.organisation_id,
                location_id=location_id,
                day=day,
            )
            for q in data.questions
        ],
    )
    try:
        with db.session.begin_nested():
            db.session.add(registration)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise AlreadyRegistered(_("This contact has already been registered.")) from None
    return registration


def is_registered(visit: Visit) -> bool:
    return (
        db.session.scalar(sa.select(Registration.id).where(Registration.visit_id == visit.id))
        is not None
    )


def _still_to_register(organisation_id: int, today: date | None) -> sa.Select:
    today = today or clock.today()
    registered = sa.select(Registration.id).where(Registration.visit_id == Visit.id).exists()
    return sa.select(Visit).where(
        Visit.organisation_id == organisation_id,
        Visit.day > today - timedelta(days=STILL_TO_REGISTER_DAYS),
        Visit.day <= today,
        sa.or_(
            Visit.status == VisitStatus.FINISHED,
            sa.and_(Visit.booking_id.is_not(None), Visit.status != VisitStatus.LEFT),
        ),
        ~registered,
    )


def still_to_register(organisation_id: int, today: date | None = None) -> list[Visit]:
    """Finished walk-ins and appointments that came, of the organisation in the last 14
    days, that have no registration yet: nothing is forgotten at a busy desk."""
    query = _still_to_register(organisation_id, today)
    return list(db.session.scalars(query.order_by(Visit.day.desc(), Visit.number)))


def still_to_register_count(organisation_id: int, today: date | None = None) -> int:
    query = _still_to_register(organisation_id, today)
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))

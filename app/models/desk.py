"""The desk's day: who came in (visits), and the registration of every contact.

A registration holds no personal data and no free text: categories only, so that its counts
can leave the system. The only personal detail of the desk is a visit's initials, erased by
the daily retention job once the day is over.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, enum_column, utcnow
from app.models.booking import Booking
from app.models.organisation import Location, Organisation
from app.models.schedule import ConsultationHours, Topic
from app.models.user import User


class OutsideBody(db.Model):
    """A body outside the network a resident is referred to (Juridisch Loket, ...)."""

    __tablename__ = "outside_body"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=100)

    def __repr__(self) -> str:
        return f"<OutsideBody {self.name!r}>"


class VisitStatus(enum.Enum):
    WAITING = "waiting"
    BEING_HELPED = "being_helped"
    FINISHED = "finished"
    LEFT = "left"  # left without help


class Visit(db.Model):
    """Someone at the desk today: a walk-in, or an appointment marked "came"."""

    __tablename__ = "visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id", ondelete="RESTRICT"))
    # Whose desk: the provider of the hours held there.
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT")
    )
    series_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("consultation_hours.id", ondelete="SET NULL")
    )
    booking_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("booking.id", ondelete="SET NULL"), unique=True
    )
    initials: Mapped[str] = mapped_column(sa.String(8), default="")
    topic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("topic.id", ondelete="SET NULL"))
    # The ticket number, per location per day: the unique constraint decides who gets it.
    number: Mapped[int] = mapped_column()
    day: Mapped[date] = mapped_column(sa.Date)  # the local date (Europe/Amsterdam)
    status: Mapped[VisitStatus] = mapped_column(
        enum_column(VisitStatus, name="visit_status"), default=VisitStatus.WAITING
    )
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    helped_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )

    location: Mapped[Location] = relationship()
    organisation: Mapped[Organisation] = relationship()
    series: Mapped[ConsultationHours | None] = relationship()
    booking: Mapped[Booking | None] = relationship()
    topic: Mapped[Topic | None] = relationship()
    helped_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("location_id", "day", "number"),
        sa.CheckConstraint("number >= 1", name="number_positive"),
        sa.Index("ix_visit_location_day_status", "location_id", "day", "status"),
        sa.Index("ix_visit_organisation_day", "organisation_id", "day"),
    )

    def __repr__(self) -> str:
        return f"<Visit {self.number} {self.day} {self.status.value}>"


class Channel(enum.Enum):
    DESK = "desk"  # walked in at the desk
    APPOINTMENT = "appointment"
    PHONE = "phone"
    ONLINE = "online"  # e-mail or online
    PARTNER_LOCATION = "partner_location"  # at a partner's location


class Duration(enum.Enum):
    UNDER_10 = "under_10"
    FROM_10_TO_20 = "10_to_20"
    FROM_20_TO_30 = "20_to_30"
    OVER_30 = "over_30"


class HowHelped(enum.Enum):
    INFORMATION = "information"
    SHOWN_HOW = "shown_how"
    STEP_BY_STEP = "step_by_step"
    REFERRED = "referred"


class Registration(db.Model):
    """One contact, registered by the organisation that helped: categories only."""

    __tablename__ = "registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT")
    )
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id", ondelete="RESTRICT"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, name="channel"))
    duration: Mapped[Duration] = mapped_column(enum_column(Duration, name="duration"))
    day: Mapped[date] = mapped_column(sa.Date)  # the local date of the contact
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    registered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # A visit or appointment is registered once, also when "save" is sent twice.
    visit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("visit.id", ondelete="SET NULL"), unique=True
    )
    booking_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("booking.id", ondelete="SET NULL"), unique=True
    )

    location: Mapped[Location] = relationship()
    questions: Mapped[list[RegisteredQuestion]] = relationship(
        back_populates="registration",
        cascade="all, delete-orphan",
        order_by="RegisteredQuestion.id",
    )

    __table_args__ = (
        sa.Index("ix_registration_organisation_day", "organisation_id", "day"),
        sa.Index("ix_registration_location_day", "location_id", "day"),
    )


class RegisteredQuestion(db.Model):
    """One question of a registered contact. Organisation, location and day are copied from
    the registration, so the figures count questions from one table over its indexes."""

    __tablename__ = "registered_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("topic.id", ondelete="RESTRICT"))
    how_helped: Mapped[HowHelped] = mapped_column(enum_column(HowHelped, name="how_helped"))
    referred_organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT")
    )
    referral_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("referral.id", ondelete="SET NULL")
    )
    outside_body_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("outside_body.id", ondelete="RESTRICT")
    )
    course_recommended: Mapped[bool] = mapped_column(default=False)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT")
    )
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id", ondelete="RESTRICT"))
    day: Mapped[date] = mapped_column(sa.Date)

    registration: Mapped[Registration] = relationship(back_populates="questions")
    topic: Mapped[Topic] = relationship()
    referred_organisation: Mapped[Organisation | None] = relationship(
        foreign_keys=[referred_organisation_id]
    )
    outside_body: Mapped[OutsideBody | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "(how_helped = 'referred') = "
            "(referred_organisation_id IS NOT NULL OR outside_body_id IS NOT NULL)",
            name="referred_has_receiver",
        ),
        sa.CheckConstraint(
            "referred_organisation_id IS NULL OR outside_body_id IS NULL", name="one_receiver"
        ),
        sa.CheckConstraint(
            "referral_id IS NULL OR referred_organisation_id IS NOT NULL",
            name="referral_to_organisation",
        ),
        sa.Index("ix_registered_question_organisation_day", "organisation_id", "day"),
        sa.Index("ix_registered_question_location_day", "location_id", "day"),
    )

"""Referrals between organisations, the resident's consent, the receiver's notes, the audit log.

A warm handover (warme overdracht) passes the resident's details on, and only with a consent
record; signposting (koude doorverwijzing) holds no personal data at all, which the database
checks. Who may see a referral is decided in ``app.permissions`` (``visible_referrals``).
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TimestampMixin, UTCDateTime, enum_column, utcnow
from app.models.booking import Booking
from app.models.course import Course, Enrolment
from app.models.organisation import Organisation
from app.models.schedule import Topic
from app.models.user import User


class ReferralKind(enum.Enum):
    WARM = "warm"  # warm handover: the resident's details passed on, with consent
    SIGNPOST = "signpost"  # signposting: the resident gets the address, nothing is passed on


class ReferralStatus(enum.Enum):
    RECEIVED = "received"
    IN_CONTACT = "in_contact"
    DONE = "done"
    NOT_REACHED = "not_reached"
    DECLINED = "declined"
    SIGNPOSTED = "signposted"  # nothing for the receiver to do: the resident contacts them
    WITHDRAWN = "withdrawn"  # the resident withdrew consent: their details are erased


OPEN_STATUSES = frozenset({ReferralStatus.RECEIVED, ReferralStatus.IN_CONTACT})


class Urgency(enum.Enum):
    NORMAL = "normal"
    SOON = "soon"
    URGENT = "urgent"


class ContactMethod(enum.Enum):
    PHONE = "phone"
    TEXT_MESSAGE = "text_message"
    EMAIL = "email"


class Referral(TimestampMixin, db.Model):
    """A resident referred by one organisation (the sender) to another (the receiver)."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReferralKind] = mapped_column(enum_column(ReferralKind, name="referral_kind"))
    status: Mapped[ReferralStatus] = mapped_column(
        enum_column(ReferralStatus, name="referral_status")
    )
    from_organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    to_organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT")
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("topic.id", ondelete="RESTRICT"))
    course_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("course.id", ondelete="RESTRICT"), index=True
    )
    # The appointment made for the resident in the receiver's hours (warm handover into a slot).
    booking_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("booking.id", ondelete="SET NULL"), unique=True
    )
    urgency: Mapped[Urgency] = mapped_column(
        enum_column(Urgency, name="referral_urgency"), default=Urgency.NORMAL
    )
    contact_method: Mapped[ContactMethod | None] = mapped_column(
        enum_column(ContactMethod, name="contact_method")
    )
    language: Mapped[str] = mapped_column(sa.String(8), default="nl")

    # Personal data: only in a warm handover, erased when consent is withdrawn and on schedule.
    resident_name: Mapped[str] = mapped_column(sa.String(60), default="")
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    email: Mapped[str] = mapped_column(sa.String(255), default="")
    request: Mapped[str] = mapped_column(sa.String(500), default="")
    personal_data_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the referral leaves the open statuses: the retention period counts from here.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    from_organisation: Mapped[Organisation] = relationship(foreign_keys=[from_organisation_id])
    to_organisation: Mapped[Organisation] = relationship(foreign_keys=[to_organisation_id])
    created_by: Mapped[User | None] = relationship()
    topic: Mapped[Topic] = relationship()
    course: Mapped[Course | None] = relationship()
    booking: Mapped[Booking | None] = relationship()
    consent: Mapped[Consent | None] = relationship(back_populates="referral")
    notes: Mapped[list[ReferralNote]] = relationship(
        back_populates="referral", order_by=lambda: (ReferralNote.created_at, ReferralNote.id)
    )
    enrolment: Mapped[Enrolment | None] = relationship(back_populates="referral")

    __table_args__ = (
        # Signposting passes nothing on, so it keeps nothing personal.
        sa.CheckConstraint(
            "kind = 'warm' OR (resident_name = '' AND phone = '' AND email = '' AND request = '')",
            name="signpost_without_personal_data",
        ),
        sa.CheckConstraint(
            "(status IN ('received', 'in_contact')) = (closed_at IS NULL)",
            name="closed_when_not_open",
        ),
        sa.Index("ix_referral_to_organisation_id_status", "to_organisation_id", "status"),
        # The figures count a period's referrals per organisation, and the network's.
        sa.Index(
            "ix_referral_from_organisation_id_created_at", "from_organisation_id", "created_at"
        ),
        sa.Index("ix_referral_to_organisation_id_created_at", "to_organisation_id", "created_at"),
        sa.Index("ix_referral_created_at", "created_at"),
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_erased(self) -> bool:
        return self.personal_data_erased_at is not None

    @property
    def consent_active(self) -> bool:
        return self.consent is not None and self.consent.withdrawn_at is None

    def __repr__(self) -> str:
        return f"<Referral {self.id} {self.kind.value} {self.status.value}>"


class ConsentMethod(enum.Enum):
    SPOKEN = "spoken"
    ON_SCREEN = "on_screen"
    SIGNED_FORM = "signed_form"


class ConsentScope(enum.Enum):
    CONTACT = "contact"  # details and question passed on, to contact the resident about it
    APPOINTMENT = "appointment"  # and an appointment made for them in the receiver's hours
    COURSE = "course"  # and their name put on the course's list


class Consent(db.Model):
    """The resident's two yes's for a warm handover: may we share, and may they receive.

    Provable: who asked, when, how, in which language the script was shown, what was
    consented to (scope) and to which organisation. A withdrawal is recorded, not deleted.
    """

    __tablename__ = "referral_consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        sa.ForeignKey("referral.id", ondelete="RESTRICT"), unique=True
    )
    receiving_organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT")
    )
    asked_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[ConsentMethod] = mapped_column(enum_column(ConsentMethod, name="consent_method"))
    scope: Mapped[ConsentScope] = mapped_column(enum_column(ConsentScope, name="consent_scope"))
    # The language the consent script was shown or read in.
    script_language: Mapped[str] = mapped_column(sa.String(8), default="nl")
    may_share: Mapped[bool] = mapped_column()
    may_receive: Mapped[bool] = mapped_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )

    referral: Mapped[Referral] = relationship(back_populates="consent")
    receiving_organisation: Mapped[Organisation] = relationship()
    asked_by: Mapped[User | None] = relationship(foreign_keys=[asked_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    __table_args__ = (
        # A consent record exists only for two yes's.
        sa.CheckConstraint("may_share AND may_receive", name="both_yes"),
    )


class ReferralNote(db.Model):
    """The receiver's own log of a referral: status changes and internal notes.

    The sender sees the statuses and their dates, never the text.
    """

    __tablename__ = "referral_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        sa.ForeignKey("referral.id", ondelete="RESTRICT"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The status the referral moved to with this entry; NULL for a note only.
    status: Mapped[ReferralStatus | None] = mapped_column(
        enum_column(ReferralStatus, name="referral_note_status")
    )
    text: Mapped[str] = mapped_column(sa.String(500), default="")

    referral: Mapped[Referral] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()


class AuditAction(enum.Enum):
    VIEW = "view"
    CREATE = "create"
    STATUS = "status"
    NOTE = "note"
    WITHDRAW = "withdraw"
    BOOK = "book"
    ENROL = "enrol"
    PRINT = "print"
    ERASE = "erase"


class AuditEntry(db.Model):
    """Who viewed or changed which referral, and when. Never holds personal data."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # NULL for the system (the retention job).
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # A referral's entry, or a course sign-up's (its details are on the enrolment).
    referral_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("referral.id", ondelete="RESTRICT"), index=True
    )
    enrolment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("enrolment.id", ondelete="RESTRICT"), index=True
    )
    action: Mapped[AuditAction] = mapped_column(enum_column(AuditAction, name="audit_action"))
    detail: Mapped[str] = mapped_column(sa.String(200), default="")

    user: Mapped[User | None] = relationship()
    referral: Mapped[Referral | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "(referral_id IS NULL) != (enrolment_id IS NULL)", name="referral_or_enrolment"
        ),
    )


class ReferralProfile(TimestampMixin, db.Model):
    """What referring staff and residents need to know about an organisation beyond its
    description: what it does not do, how residents contact it, what to bring."""

    __tablename__ = "referral_profile"

    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    not_offered: Mapped[str] = mapped_column(sa.Text, default="")
    how_to_contact: Mapped[str] = mapped_column(sa.Text, default="")
    what_to_bring: Mapped[str] = mapped_column(sa.Text, default="")

    organisation: Mapped[Organisation] = relationship()

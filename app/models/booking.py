"""Bookings of appointment slots, and the mail outbox."""

from __future__ import annotations

import enum
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TimestampMixin, UTCDateTime, enum_column, utcnow
from app.models.schedule import ConsultationHours
from app.models.user import User


class BookingStatus(enum.Enum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class BookedVia(enum.Enum):
    RESIDENT = "resident"  # the resident booked on their own
    DESK = "desk"  # staff booked on the resident's behalf
    REFERRAL = "referral"  # booked from a referral (warm handover)


class Booking(TimestampMixin, db.Model):
    """One resident's appointment in one slot of a series.

    Capacity is guaranteed by the database: an active booking holds a numbered seat of its
    slot, and ``(series_id, slot_start, seat)`` is unique. Seats are numbered 1..seats of the
    series; a cancelled booking gives its seat back (``seat`` becomes NULL).
    """

    __tablename__ = "booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(
        sa.ForeignKey("consultation_hours.id", ondelete="RESTRICT"), index=True
    )
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime)
    slot_end: Mapped[datetime] = mapped_column(UTCDateTime)
    seat: Mapped[int | None] = mapped_column()
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    # SHA-256 of the secret manage-link token; replaced on every move.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Rises on every change: a form from before the change can no longer act.
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[BookingStatus] = mapped_column(
        enum_column(BookingStatus, name="booking_status"), default=BookingStatus.BOOKED
    )
    booked_via: Mapped[BookedVia] = mapped_column(
        enum_column(BookedVia, name="booked_via"), default=BookedVia.RESIDENT
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )

    # Personal data: as little as possible, erased on schedule (see retention).
    name: Mapped[str] = mapped_column(sa.String(60), default="")
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    email: Mapped[str] = mapped_column(sa.String(255), default="")
    language: Mapped[str] = mapped_column(sa.String(8), default="nl")
    question: Mapped[str] = mapped_column(sa.String(500), default="")
    needs_interpreter: Mapped[bool] = mapped_column(default=False)
    needs_wheelchair: Mapped[bool] = mapped_column(default=False)
    personal_data_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    cancel_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the hours changed after booking (exception, closure, edit): staff contact them.
    affected_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    affected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    series: Mapped[ConsultationHours] = relationship()
    created_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("series_id", "slot_start", "seat"),
        sa.CheckConstraint("seat IS NULL OR seat >= 1", name="seat_positive"),
        sa.CheckConstraint("(status = 'cancelled') = (seat IS NULL)", name="seat_only_when_active"),
        sa.Index("ix_booking_slot_start", "slot_start"),
    )

    @property
    def is_active(self) -> bool:
        return self.status is not BookingStatus.CANCELLED

    @property
    def local_start(self) -> datetime:
        """The start in the location's wall-clock time."""
        return self.slot_start.astimezone(ZoneInfo(self.series.location.timezone))

    @property
    def local_end(self) -> datetime:
        return self.slot_end.astimezone(ZoneInfo(self.series.location.timezone))

    @property
    def display_code(self) -> str:
        """The code as residents read it: two groups of four."""
        return f"{self.code[:4]}-{self.code[4:]}"


class OutboxStatus(enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the maximum number of attempts


class OutboxMessage(db.Model):
    """An email written in the same transaction as the change it reports, sent after commit."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(255))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    ics: Mapped[str | None] = mapped_column(sa.Text)
    booking_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("booking.id", ondelete="SET NULL"), index=True
    )
    # A message about a course sign-up: deleted with the sign-up's personal data.
    enrolment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("enrolment.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, name="outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A sender claims a message before sending it: it sets a token of its own and moves
    # ``next_attempt_at`` past the claim's lease, so no other sender picks it up meanwhile.
    # Only the holder of the token may record the outcome.
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),)

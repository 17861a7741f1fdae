"""Bookings of appointment slots, and the outbox of messages to residents (mail and SMS)."""

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
    # A seat held for a resident of the waiting list while it is offered to them (see
    # app.models.waiting): not an appointment yet, but the seat is taken.
    OFFERED = "offered"


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
    # When the appointment got its current time (booked or moved): a time chosen after its
    # reminder moment gets no reminder (the resident was just told).
    time_chosen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)

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
    PENDING = "pending"  # waiting to be sent; with attempts > 0: failed, will be retried
    SENT = "sent"
    FAILED = "failed"  # given up: a permanent refusal, or the maximum number of attempts


class MessageChannel(enum.Enum):
    MAIL = "mail"
    SMS = "sms"
    CALL = "call"  # staff phoned the resident (ticked off on the call list); never sent


class OutboxMessage(db.Model):
    """A message to a resident (e-mail or SMS), written in the same transaction as the change
    it reports and sent after commit by exactly one sender."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[MessageChannel] = mapped_column(
        enum_column(MessageChannel, name="message_channel"),
        default=MessageChannel.MAIL,
        server_default=MessageChannel.MAIL.value,
    )
    # What the message is about, for staff: confirmed, moved, cancelled, affected, reminder …
    kind: Mapped[str] = mapped_column(sa.String(32), default="", server_default="")
    # A message that may exist only once (one reminder per appointment version): the
    # database refuses a second row with the same key, also from two senders at once.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    # An e-mail address, or a mobile number in E.164 (+316…) for an SMS.
    recipient: Mapped[str] = mapped_column(sa.String(255))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    ics: Mapped[str | None] = mapped_column(sa.Text)
    booking_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("booking.id", ondelete="SET NULL"), index=True
    )
    # A message about a course participant (a sign-up's confirmation, a reminder before a
    # session).
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
    # The staff member who ticked off a call (channel CALL).
    called_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )

    called_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),
        # The figures and the admin's list of failed messages count by day.
        sa.Index("ix_outbox_message_created_at", "created_at"),
    )

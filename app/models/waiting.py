"""The waiting list of bookable hours that have no free time, and the seats offered from it.

A seat offered to a waiting resident is held by a booking row in the state ``offered``: it
occupies a numbered seat of its slot under the same unique constraint as every appointment,
so nobody else can book it, and it can never be held twice. Taking the offer turns that row
into the resident's appointment; an offer not taken passes the same row on to the next
resident, or deletes it when nobody is waiting.
"""

from __future__ import annotations

import enum
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, enum_column, utcnow
from app.models.booking import Booking
from app.models.schedule import ConsultationHours
from app.models.user import User


class WaitingStatus(enum.Enum):
    WAITING = "waiting"
    OFFERED = "offered"  # a time is held for them now
    BOOKED = "booked"  # took an offered time
    LEFT = "left"  # left the list themselves
    REMOVED = "removed"  # taken off the list by staff
    PASSED = "passed"  # did not take an offered time in time
    LAPSED = "lapsed"  # waited longer than the retention period


ON_THE_LIST = (WaitingStatus.WAITING, WaitingStatus.OFFERED)
_ON_THE_LIST_SQL = "status IN ('waiting', 'offered')"


class WaitingEntry(db.Model):
    """One resident waiting for a free time of one series, in the order they joined."""

    __tablename__ = "waiting_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(
        sa.ForeignKey("consultation_hours.id", ondelete="CASCADE")
    )
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[WaitingStatus] = mapped_column(
        enum_column(WaitingStatus, name="waiting_status"), default=WaitingStatus.WAITING
    )
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # SHA-256 of the secret link to see one's place and leave the list.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The appointment made from an offer.
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("booking.id", ondelete="SET NULL"))

    # Personal data: as little as possible, erased on schedule (see retention).
    name: Mapped[str] = mapped_column(sa.String(60), default="")
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    email: Mapped[str] = mapped_column(sa.String(255), default="")
    language: Mapped[str] = mapped_column(sa.String(8), default="nl")
    # The e-mail address or phone number as compared: one place on a list per resident.
    contact_key: Mapped[str] = mapped_column(sa.String(255), default="")
    personal_data_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    series: Mapped[ConsultationHours] = relationship()
    booking: Mapped[Booking | None] = relationship()

    __table_args__ = (
        sa.Index("ix_waiting_entry_queue", "series_id", "status", "joined_at", "id"),
        sa.Index(
            "uq_waiting_entry_contact_on_list",
            "series_id",
            "contact_key",
            unique=True,
            sqlite_where=sa.text(_ON_THE_LIST_SQL),
            postgresql_where=sa.text(_ON_THE_LIST_SQL),
        ),
    )

    @property
    def on_the_list(self) -> bool:
        return self.status in ON_THE_LIST


class OfferStatus(enum.Enum):
    OPEN = "open"
    TAKEN = "taken"
    PASSED = "passed"  # not taken in time
    WITHDRAWN = "withdrawn"  # the resident left, staff removed them, or the time is gone


class SeatOffer(db.Model):
    """A held seat offered to one waiting resident until ``expires_at``."""

    __tablename__ = "seat_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        sa.ForeignKey("waiting_entry.id", ondelete="CASCADE"), index=True
    )
    series_id: Mapped[int] = mapped_column(
        sa.ForeignKey("consultation_hours.id", ondelete="CASCADE"), index=True
    )
    # The booking row in the state ``offered`` that holds the seat (NULL once released).
    booking_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("booking.id", ondelete="SET NULL"), index=True
    )
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime)
    slot_end: Mapped[datetime] = mapped_column(UTCDateTime)
    # SHA-256 of the secret link in the message that offers the time.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[OfferStatus] = mapped_column(
        enum_column(OfferStatus, name="offer_status"), default=OfferStatus.OPEN
    )
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when staff offered the time by hand, out of the list's order.
    offered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )

    entry: Mapped[WaitingEntry] = relationship()
    series: Mapped[ConsultationHours] = relationship()
    booking: Mapped[Booking | None] = relationship()
    offered_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.Index("ix_seat_offer_due", "status", "expires_at"),
        # One resident at a time per held seat, and one held seat at a time per resident.
        sa.Index(
            "uq_seat_offer_open_per_seat",
            "booking_id",
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        ),
        sa.Index(
            "uq_seat_offer_open_per_entry",
            "entry_id",
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        ),
    )

    @property
    def local_start(self) -> datetime:
        """The start in the location's wall-clock time."""
        return self.slot_start.astimezone(ZoneInfo(self.series.location.timezone))

    @property
    def local_end(self) -> datetime:
        return self.slot_end.astimezone(ZoneInfo(self.series.location.timezone))

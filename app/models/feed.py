"""Secret calendar-feed links of staff members.

A link is a credential: only the SHA-256 of its random token is kept, and a revoked link
stays in the table (revoked_at) so that its last use can still be looked up.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, enum_column, utcnow
from app.models.booking import Booking
from app.models.organisation import Location, Organisation
from app.models.schedule import ConsultationHours
from app.models.user import User


class FeedKind(enum.Enum):
    LOCATION = "location"  # every series held at a location, by any organisation
    ORGANISATION = "organisation"  # every series an organisation provides, wherever held
    PERSONAL = "personal"  # series of the user's own organisation they chose to follow


class FeedBookings(enum.Enum):
    """How much of the bookings a staff feed shows (never names or contact details)."""

    NONE = "none"
    COUNTS = "counts"  # number booked / seats per occurrence
    CODES = "codes"  # each booking as an event with its code and the resident's initials


feed_link_series = sa.Table(
    "feed_link_series",
    db.metadata,
    sa.Column("feed_link_id", sa.ForeignKey("feed_link.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "series_id", sa.ForeignKey("consultation_hours.id", ondelete="CASCADE"), primary_key=True
    ),
)


class FeedLink(db.Model):
    """A secret, revocable address at which a calendar client reads a staff member's feed."""

    __tablename__ = "feed_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(80), default="")
    kind: Mapped[FeedKind] = mapped_column(enum_column(FeedKind, name="feed_kind"))
    location_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("location.id", ondelete="CASCADE")
    )
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE")
    )
    include_bookings: Mapped[FeedBookings] = mapped_column(
        enum_column(FeedBookings, name="feed_bookings"), default=FeedBookings.NONE
    )
    # Calendar clients send no cookie: the feed keeps the language it was made in.
    language: Mapped[str] = mapped_column(sa.String(8), default="nl")
    # SHA-256 (hex) of the secret token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When what the feed contains was last changed. Deliberately not an ``onupdate`` column:
    # recording a use (last_used_at) must not make every calendar download the feed again.
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    location: Mapped[Location | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    series: Mapped[list[ConsultationHours]] = relationship(
        secondary=feed_link_series, order_by=ConsultationHours.title
    )

    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'location') = (location_id IS NOT NULL)", name="location_target"
        ),
        sa.CheckConstraint(
            "(kind = 'organisation') = (organisation_id IS NOT NULL)", name="organisation_target"
        ),
    )

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<FeedLink {self.id} {self.kind.value}>"


# The freshness check of a feed with bookings asks for the newest change of each series'
# bookings: with this index that is one index probe per series, however long the history.
sa.Index("ix_booking_series_id_updated_at", Booking.series_id, Booking.updated_at)

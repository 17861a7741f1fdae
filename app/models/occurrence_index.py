"""The index of coming occurrences and their slots, derived from ``app.services.schedule``.

Nothing here is a source of truth: every row can be rebuilt from the series, their
exceptions, the location closures and the bookings (``app.services.occurrence_index``). The
rows let the database filter, sort and limit what residents see, and count free seats,
without expanding any series on a request. They cover one window of dates, the same for
every series (``OccurrenceIndexWindow``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, enum_column


class IndexedKind(enum.Enum):
    """As ``schedule.OccurrenceKind``: the date is from the pattern, changed, or extra."""

    REGULAR = "regular"
    CHANGED = "changed"
    EXTRA = "extra"


class IndexedStatus(enum.Enum):
    """As ``schedule.OccurrenceStatus``: held, cancelled by an exception, or closed."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    CLOSED = "closed"


class OccurrenceIndexWindow(db.Model):
    """The dates the index covers, for every series: one row (id 1) once it is built.

    A change that rebuilds rows reads it with a share lock and the daily roll takes it for
    update, so a roll and a change of a series never write the same series at once.
    """

    __tablename__ = "occurrence_index_window"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    first_date: Mapped[date] = mapped_column(sa.Date)
    last_date: Mapped[date] = mapped_column(sa.Date)
    rolled_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint("last_date >= first_date", name="date_order"),
    )


class IndexedOccurrence(db.Model):
    """One date of one series in the window, as ``schedule.expand`` gives it.

    Cancelled and closed dates are kept (with their reason), so a list can say so.
    ``published``: residents may see the series (published, at a location in use, by an
    organisation in use: the rule of ``finder.public_series_query``). ``bookable``: the
    date has slots (appointment or mixed hours, held). ``seats`` and ``seats_taken`` are
    the sums over its slots.
    """

    __tablename__ = "indexed_occurrence"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(
        sa.ForeignKey("consultation_hours.id", ondelete="CASCADE")
    )
    provider_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(sa.Date)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[IndexedKind] = mapped_column(enum_column(IndexedKind, name="indexed_kind"))
    status: Mapped[IndexedStatus] = mapped_column(enum_column(IndexedStatus, name="indexed_status"))
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    published: Mapped[bool] = mapped_column()
    bookable: Mapped[bool] = mapped_column()
    walk_in_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    walk_in_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seats: Mapped[int] = mapped_column(default=0)
    seats_taken: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        sa.UniqueConstraint("series_id", "date"),
        sa.Index("ix_indexed_occurrence_published_starts_at", "published", "starts_at"),
        sa.Index("ix_indexed_occurrence_location_starts_at", "location_id", "starts_at"),
        sa.Index("ix_indexed_occurrence_provider_starts_at", "provider_id", "starts_at"),
    )


class IndexedSlot(db.Model):
    """One appointment slot of a bookable indexed occurrence, with its seats taken.

    A resident may book it while ``opens_at <= now <= closes_at`` (the series' horizon in
    days and notice in hours, as ``schedule.free_slots`` applies them) and
    ``seats_taken < seats``. ``seats_taken`` counts the bookings holding a seat of it; every
    booking, cancellation and move changes it by one in its own transaction. ``published``
    is its occurrence's, so that free times across the network are read from this table's
    index on ``starts_at`` alone.
    """

    __tablename__ = "indexed_slot"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column()
    date: Mapped[date] = mapped_column(sa.Date)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seats: Mapped[int] = mapped_column(sa.SmallInteger)
    seats_taken: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    published: Mapped[bool] = mapped_column()

    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["series_id", "date"],
            ["indexed_occurrence.series_id", "indexed_occurrence.date"],
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("series_id", "starts_at"),
        sa.Index("ix_indexed_slot_series_id_date", "series_id", "date"),
        sa.Index("ix_indexed_slot_starts_at_series_id", "starts_at", "series_id"),
    )

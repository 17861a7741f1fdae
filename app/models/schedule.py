"""Consultation hours: topics, series with their recurrence, date exceptions and closures.

Times of a series are wall-clock times at the location (Europe/Amsterdam); instants are
computed from them per date by ``app.services.schedule`` so that DST never shifts an hour.
"""

from __future__ import annotations

import enum
from datetime import date, time
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, attribute_keyed_dict, mapped_column, relationship

from app.extensions import db
from app.models.base import TimestampMixin, enum_column
from app.models.organisation import Location, Organisation

if TYPE_CHECKING:
    from app.models.user import User


class Topic(db.Model):
    """What residents can ask help with. The Dutch name is required; every other language
    has its name in ``TopicName`` (optional), shown through ``name()``."""

    __tablename__ = "topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name_nl: Mapped[str] = mapped_column(sa.String(80))
    icon: Mapped[str] = mapped_column(sa.String(40), default="help")
    sort_order: Mapped[int] = mapped_column(default=100)
    active: Mapped[bool] = mapped_column(default=True)
    # False: a category for registering contacts only, not offered on residents' pages.
    public: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # The names in languages other than Dutch, by language code.
    translations: Mapped[dict[str, TopicName]] = relationship(
        collection_class=attribute_keyed_dict("language"),
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    def name(self, locale: str | None = None) -> str:
        """The topic's name in the given language; where it has none, the English name, and
        the Dutch one where that is missing too."""
        language = str(locale or "nl").replace("-", "_").split("_")[0]
        language = TOPIC_LANGUAGE_ALIASES.get(language, language)
        if language != "nl":
            for code in (language, "en"):
                named = self.translations.get(code)
                if named is not None and named.name:
                    return named.name
        return self.name_nl

    def own_name(self, language: str) -> str | None:
        """The name given for exactly this language (no fallback), or None."""
        if language == "nl":
            return self.name_nl
        named = self.translations.get(language)
        return named.name if named is not None else None

    def set_name(self, language: str, name: str | None) -> None:
        """Give the topic its name in a language; an empty name removes it (not for Dutch)."""
        name = (name or "").strip()
        if language == "nl":
            self.name_nl = name
        elif not name:
            self.translations.pop(language, None)
        elif language in self.translations:
            self.translations[language].name = name
        else:
            self.translations[language] = TopicName(language=language, name=name)

    @property
    def name_en(self) -> str | None:
        """The English name given (None: none), for what reads or writes it by that name."""
        return self.own_name("en")

    @name_en.setter
    def name_en(self, name: str | None) -> None:
        self.set_name("en", name)

    def __repr__(self) -> str:
        return f"<Topic {self.slug}>"


# A resident's language code that names its topics with another language's names (Dari is
# written with the Persian catalogue).
TOPIC_LANGUAGE_ALIASES = {"prs": "fa"}


class TopicName(db.Model):
    """A topic's name in one language other than Dutch (at most one per language)."""

    __tablename__ = "topic_name"

    topic_id: Mapped[int] = mapped_column(
        sa.ForeignKey("topic.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))

    def __repr__(self) -> str:
        return f"<TopicName {self.topic_id} {self.language}>"


series_topic = sa.Table(
    "series_topic",
    db.metadata,
    sa.Column(
        "series_id",
        sa.ForeignKey("consultation_hours.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("topic_id", sa.ForeignKey("topic.id", ondelete="RESTRICT"), primary_key=True),
    sa.Index("ix_series_topic_topic_id", "topic_id"),
)


class Mode(enum.Enum):
    WALK_IN = "walk_in"
    APPOINTMENT = "appointment"
    MIXED = "mixed"


class Recurrence(enum.Enum):
    WEEKLY = "weekly"  # on chosen weekdays, every ``interval_weeks`` weeks
    MONTHLY = "monthly"  # on the n-th (or last) chosen weekday of each month


class SeriesStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    PAUSED = "paused"


LAST_WEEK = -1  # month_weeks value meaning "the last one of the month"


class ConsultationHours(TimestampMixin, db.Model):
    """A recurring series of consultation hours held by a provider at a location."""

    __tablename__ = "consultation_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    location_id: Mapped[int] = mapped_column(
        sa.ForeignKey("location.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    what_to_bring: Mapped[str] = mapped_column(sa.Text, default="")
    mode: Mapped[Mode] = mapped_column(enum_column(Mode, name="mode"))

    recurrence: Mapped[Recurrence] = mapped_column(enum_column(Recurrence, name="recurrence"))
    # Comma-separated ISO weekday numbers, Monday = 0 ("1,3" = Tuesday and Thursday).
    weekdays: Mapped[str] = mapped_column(sa.String(20))
    interval_weeks: Mapped[int] = mapped_column(default=1)
    # For monthly series: comma-separated week numbers 1-5, or -1 for the last week.
    month_weeks: Mapped[str] = mapped_column(sa.String(20), default="")
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date | None] = mapped_column(sa.Date)

    start_time: Mapped[time] = mapped_column(sa.Time)
    end_time: Mapped[time] = mapped_column(sa.Time)
    # Mixed mode: the walk-in window inside or beside the appointment block.
    walk_in_start: Mapped[time | None] = mapped_column(sa.Time)
    walk_in_end: Mapped[time | None] = mapped_column(sa.Time)

    slot_minutes: Mapped[int] = mapped_column(default=30)
    seats_per_slot: Mapped[int] = mapped_column(default=1)
    min_notice_hours: Mapped[int] = mapped_column(default=2)
    book_ahead_days: Mapped[int] = mapped_column(default=42)

    status: Mapped[SeriesStatus] = mapped_column(
        enum_column(SeriesStatus, name="series_status"), default=SeriesStatus.DRAFT
    )
    # Rises on every change that calendar clients should see (iCalendar SEQUENCE).
    revision: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )

    provider: Mapped[Organisation] = relationship(foreign_keys=[provider_id])
    location: Mapped[Location] = relationship()
    topics: Mapped[list[Topic]] = relationship(secondary=series_topic, order_by=Topic.sort_order)
    exceptions: Mapped[list[SeriesException]] = relationship(
        back_populates="series", cascade="all, delete-orphan", order_by="SeriesException.date"
    )
    created_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("end_time > start_time", name="time_order"),
        sa.CheckConstraint("slot_minutes BETWEEN 5 AND 480", name="slot_minutes_range"),
        sa.CheckConstraint("seats_per_slot BETWEEN 1 AND 50", name="seats_range"),
        sa.CheckConstraint("interval_weeks BETWEEN 1 AND 52", name="interval_range"),
        sa.CheckConstraint("min_notice_hours >= 0", name="notice_positive"),
        sa.CheckConstraint("book_ahead_days >= 1", name="ahead_positive"),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="date_order"),
        sa.Index("ix_consultation_hours_status_dates", "status", "start_date", "end_date"),
    )

    @property
    def weekday_list(self) -> list[int]:
        return [int(d) for d in self.weekdays.split(",") if d.strip()]

    @property
    def month_week_list(self) -> list[int]:
        return [int(w) for w in self.month_weeks.split(",") if w.strip()]

    @property
    def is_bookable_mode(self) -> bool:
        return self.mode in (Mode.APPOINTMENT, Mode.MIXED)

    def __repr__(self) -> str:
        return f"<ConsultationHours {self.id} {self.title!r}>"


class ExceptionKind(enum.Enum):
    CANCELLED = "cancelled"  # a regular date does not take place
    CHANGED = "changed"  # a regular date takes place at other times
    EXTRA = "extra"  # an additional date outside the pattern


class SeriesException(TimestampMixin, db.Model):
    __tablename__ = "series_exception"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(
        sa.ForeignKey("consultation_hours.id", ondelete="CASCADE"), index=True
    )
    date: Mapped[date] = mapped_column(sa.Date)
    kind: Mapped[ExceptionKind] = mapped_column(enum_column(ExceptionKind, name="exception_kind"))
    start_time: Mapped[time | None] = mapped_column(sa.Time)
    end_time: Mapped[time | None] = mapped_column(sa.Time)
    reason: Mapped[str] = mapped_column(sa.String(200), default="")

    series: Mapped[ConsultationHours] = relationship(back_populates="exceptions")

    __table_args__ = (
        sa.UniqueConstraint("series_id", "date"),
        sa.CheckConstraint(
            "kind = 'cancelled' OR (start_time IS NOT NULL AND end_time IS NOT NULL"
            " AND end_time > start_time)",
            name="times_present",
        ),
    )


class LocationClosure(TimestampMixin, db.Model):
    """A location is closed on these dates: every series held there is off."""

    __tablename__ = "location_closure"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(
        sa.ForeignKey("location.id", ondelete="CASCADE"), index=True
    )
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )

    location: Mapped[Location] = relationship()

    __table_args__ = (sa.CheckConstraint("end_date >= start_date", name="date_order"),)

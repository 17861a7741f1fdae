"""Courses that partners refer residents to (Digisterker, Klik & Tik), and who is on them.

A course is a group with a fixed number of places. The places are guaranteed by the
database, as the seats of a booking are: a participant holds a numbered seat and
``(course_id, seat)`` is unique; a resident on the waiting list holds a place in the queue,
``(course_id, position)`` unique. The resident's details stay in the referral that put them
on the list, so erasing the referral erases them here too.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TimestampMixin, UTCDateTime, enum_column
from app.models.organisation import Location, Organisation

if TYPE_CHECKING:
    from app.models.referral import Referral
    from app.models.user import User


class Course(TimestampMixin, db.Model):
    """A course offered by an organisation: a few group sessions with a maximum group size."""

    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="RESTRICT"), index=True
    )
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    what_to_bring: Mapped[str] = mapped_column(sa.Text, default="")
    capacity: Mapped[int] = mapped_column(default=8)
    # Closed courses take no new referrals; their lists stay.
    open_for_referrals: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )

    organisation: Mapped[Organisation] = relationship()
    location: Mapped[Location] = relationship()
    sessions: Mapped[list[CourseSession]] = relationship(
        back_populates="course",
        cascade="all, delete-orphan",
        order_by=lambda: (CourseSession.date, CourseSession.start_time),
    )
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="course")

    __table_args__ = (sa.CheckConstraint("capacity BETWEEN 1 AND 50", name="capacity_range"),)

    @property
    def first_day(self) -> date | None:
        return self.sessions[0].date if self.sessions else None

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.title!r}>"


class CourseSession(db.Model):
    """One meeting of a course: a date with wall-clock times at the course's location."""

    __tablename__ = "course_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    date: Mapped[date] = mapped_column(sa.Date)
    start_time: Mapped[time] = mapped_column(sa.Time)
    end_time: Mapped[time] = mapped_column(sa.Time)
    # A cancelled session stays on the course (and in calendars, as cancelled).
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    # Raised at every change, as the SEQUENCE of its calendar event.
    version: Mapped[int] = mapped_column(default=0, server_default="0")

    course: Mapped[Course] = relationship(back_populates="sessions")

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    __table_args__ = (
        sa.UniqueConstraint("course_id", "date", "start_time"),
        sa.CheckConstraint("end_time > start_time", name="time_order"),
        # The figures count a period's sessions.
        sa.Index("ix_course_session_date", "date"),
    )


class EnrolmentStatus(enum.Enum):
    PARTICIPANT = "participant"
    WAITING = "waiting"
    REMOVED = "removed"  # off the lists: consent withdrawn, not reached or declined


class Enrolment(TimestampMixin, db.Model):
    """A referred resident's place on a course: a seat, a place in the queue, or neither."""

    __tablename__ = "enrolment"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course.id", ondelete="RESTRICT"), index=True
    )
    referral_id: Mapped[int] = mapped_column(
        sa.ForeignKey("referral.id", ondelete="RESTRICT"), unique=True
    )
    status: Mapped[EnrolmentStatus] = mapped_column(
        enum_column(EnrolmentStatus, name="enrolment_status")
    )
    seat: Mapped[int | None] = mapped_column()
    # Rising numbers in the order of arrival; the place in the queue is the rank among them.
    position: Mapped[int | None] = mapped_column()
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    course: Mapped[Course] = relationship(back_populates="enrolments")
    referral: Mapped[Referral] = relationship(back_populates="enrolment")

    __table_args__ = (
        sa.UniqueConstraint("course_id", "seat"),
        sa.UniqueConstraint("course_id", "position"),
        sa.CheckConstraint("seat IS NULL OR seat >= 1", name="seat_positive"),
        sa.CheckConstraint(
            "(status = 'participant') = (seat IS NOT NULL)", name="seat_only_for_participants"
        ),
        sa.CheckConstraint(
            "(status = 'waiting') = (position IS NOT NULL)", name="position_only_when_waiting"
        ),
    )


# Running a course ---------------------------------------------------------------------------


class Attendance(db.Model):
    """Whether a participant came to one session, as the course's staff marked it.

    One row per participant and session, ``(enrolment_id, session_id)`` unique: marking again
    changes the row. Holds no personal data, so it stays for the figures when the referral's
    details are erased.
    """

    __tablename__ = "course_attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolment.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course_session.id", ondelete="CASCADE"), index=True
    )
    present: Mapped[bool] = mapped_column()
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    marked_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )

    enrolment: Mapped[Enrolment] = relationship()
    session: Mapped[CourseSession] = relationship()

    __table_args__ = (sa.UniqueConstraint("enrolment_id", "session_id"),)


class CourseLogEntry(db.Model):
    """Who changed what on a course, and when: sessions, places, sign-up, attendance.

    The detail is a short code (dates, times, numbers), never a resident's data.
    """

    __tablename__ = "course_log_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("course_session.id", ondelete="SET NULL")
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(sa.String(32))
    detail: Mapped[str] = mapped_column(sa.String(200), default="")

    user: Mapped[User | None] = relationship()

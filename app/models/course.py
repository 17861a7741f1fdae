"""Courses (Digisterker, Klik & Tik) that residents sign up for or are referred to, and who
is on them.

A course is a group with a fixed number of places. The places are guaranteed by the
database, as the seats of a booking are: a participant holds a numbered seat and
``(course_id, seat)`` is unique; a resident on the waiting list holds a place in the queue,
``(course_id, position)`` unique. A referred resident's details stay in the referral that put
them on the list, so erasing the referral erases them here too; a resident who signed up
themselves (or at the desk) has their few details on the enrolment, erased on schedule.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import TimestampMixin, UTCDateTime, enum_column, utcnow
from app.models.booking import BookedVia, Booking
from app.models.organisation import Location, Organisation
from app.models.schedule import ConsultationHours, Topic

if TYPE_CHECKING:
    from app.models.referral import Referral
    from app.models.user import User


class Device(enum.Enum):
    """What a participant works on during the course."""

    OWN = "own"  # their own laptop, tablet or phone
    LIBRARY = "library"  # a laptop of the library
    EITHER = "either"  # their own, or borrow one of the library


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
    # Shown on the hours page of this topic, beside the help sessions.
    topic_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("topic.id", ondelete="SET NULL"), index=True
    )
    device: Mapped[Device] = mapped_column(
        enum_column(Device, name="course_device"), default=Device.EITHER
    )
    # An intake conversation comes first; residents book it in the intake hours, if set.
    needs_intake: Mapped[bool] = mapped_column(default=False)
    intake_series_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("consultation_hours.id", ondelete="SET NULL")
    )

    organisation: Mapped[Organisation] = relationship()
    location: Mapped[Location] = relationship()
    topic: Mapped[Topic | None] = relationship()
    intake_series: Mapped[ConsultationHours | None] = relationship()
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

    @property
    def last_day(self) -> date | None:
        return self.sessions[-1].date if self.sessions else None

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


def _touch_course(_mapper, connection, session: CourseSession) -> None:
    """A changed, added or deleted session changes its course (feeds and calendars read the
    course's ``updated_at``)."""
    connection.execute(
        sa.update(Course.__table__)
        .where(Course.__table__.c.id == session.course_id)
        .values(updated_at=utcnow())
    )


for _event in ("after_insert", "after_update", "after_delete"):
    sa.event.listen(CourseSession, _event, _touch_course)


class EnrolmentStatus(enum.Enum):
    PARTICIPANT = "participant"
    WAITING = "waiting"
    REMOVED = "removed"  # off the lists: consent withdrawn, not reached or declined


class Enrolment(TimestampMixin, db.Model):
    """A resident's place on a course: a seat, a place in the queue, or neither.

    Made from a referral (the details stay in the referral) or by the resident or the desk
    (the details are here, with a code and a secret link to find the enrolment again).
    """

    __tablename__ = "enrolment"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        sa.ForeignKey("course.id", ondelete="RESTRICT"), index=True
    )
    referral_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("referral.id", ondelete="RESTRICT"), unique=True
    )
    status: Mapped[EnrolmentStatus] = mapped_column(
        enum_column(EnrolmentStatus, name="enrolment_status")
    )
    seat: Mapped[int | None] = mapped_column()
    # Rising numbers in the order of arrival; the place in the queue is the rank among them.
    position: Mapped[int | None] = mapped_column()
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    booked_via: Mapped[BookedVia] = mapped_column(
        enum_column(BookedVia, name="enrolment_booked_via"), default=BookedVia.REFERRAL
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # A sign-up's code (no look-alikes) and the SHA-256 of its secret link's token.
    code: Mapped[str | None] = mapped_column(sa.String(12), unique=True)
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # Personal data of a sign-up: as little as possible, erased on schedule (see retention).
    name: Mapped[str] = mapped_column(sa.String(60), default="")
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    email: Mapped[str] = mapped_column(sa.String(255), default="")
    language: Mapped[str] = mapped_column(sa.String(8), default="nl")
    personal_data_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The intake booked with the sign-up, or the desk plans one with the resident.
    intake_booking_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("booking.id", ondelete="SET NULL")
    )
    intake_to_plan: Mapped[bool] = mapped_column(default=False)
    # Moved up from the waiting list without an e-mail address: the desk tells the resident.
    to_tell: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    course: Mapped[Course] = relationship(back_populates="enrolments")
    referral: Mapped[Referral | None] = relationship(back_populates="enrolment")
    created_by: Mapped[User | None] = relationship()
    intake_booking: Mapped[Booking | None] = relationship()

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
        # Either a referral holds the details, or the enrolment has a code of its own.
        sa.CheckConstraint("(referral_id IS NULL) = (code IS NOT NULL)", name="referral_or_code"),
        sa.CheckConstraint(
            "referral_id IS NULL OR (name = '' AND phone = '' AND email = '')",
            name="referral_details_in_referral",
        ),
    )

    @property
    def display_code(self) -> str:
        """The code as residents read it: two groups of four."""
        code = self.code or ""
        return f"{code[:4]}-{code[4:]}"


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

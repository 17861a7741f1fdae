"""What was sent to residents and how it went, for staff: per appointment, and the messages
that failed per day for an organisation's admins. A reminder that silently does not arrive is
worse than none: its status is always visible."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app import clock
from app.extensions import db
from app.models import (
    Booking,
    ConsultationHours,
    Course,
    Enrolment,
    MessageChannel,
    Organisation,
    OutboxMessage,
    OutboxStatus,
)


class Delivery(enum.Enum):
    WAITING = "waiting"  # not tried yet
    RETRYING = "retrying"  # failed, will be tried again
    SENT = "sent"  # handed to the mail server or the SMS provider (or the call was made)
    GIVEN_UP = "given_up"  # refused for good, or too many attempts


def delivery(message: OutboxMessage) -> Delivery:
    if message.status is OutboxStatus.SENT:
        return Delivery.SENT
    if message.status is OutboxStatus.FAILED:
        return Delivery.GIVEN_UP
    return Delivery.RETRYING if message.attempts else Delivery.WAITING


DELIVERY_LABEL = {
    Delivery.WAITING: _l("Waiting to be sent"),
    Delivery.RETRYING: _l("Failed, will be tried again"),
    Delivery.SENT: _l("Sent"),
    Delivery.GIVEN_UP: _l("Given up"),
}
CHANNEL_LABEL = {
    MessageChannel.MAIL: _l("E-mail"),
    MessageChannel.SMS: _l("SMS"),
    MessageChannel.CALL: _l("Phone call by staff"),
}
KIND_LABEL = {
    "confirmed": _l("Confirmation"),
    "moved": _l("New time"),
    "cancelled": _l("Cancellation"),
    "affected": _l("Time no longer exists"),
    "reminder": _l("Reminder"),
    "offer": _l("Free time offered"),
}


@dataclass(frozen=True)
class Line:
    message: OutboxMessage
    state: Delivery

    @property
    def state_label(self) -> str:
        return str(DELIVERY_LABEL[self.state])

    @property
    def channel_label(self) -> str:
        return str(CHANNEL_LABEL[self.message.channel])

    @property
    def kind_label(self) -> str:
        return str(KIND_LABEL.get(self.message.kind, self.message.kind or "–"))


def for_booking(booking: Booking) -> list[Line]:
    """Every message about this appointment, oldest first."""
    messages = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.booking_id == booking.id)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    )
    return [Line(m, delivery(m)) for m in messages]


def _local_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def failed_for(organisation: Organisation, days: int = 14) -> list[tuple[date, list[Line]]]:
    """Messages to residents of the organisation's hours and courses from the last ``days``
    days that failed (given up, or failed and waiting for a retry), per day, newest first."""
    since = clock.now() - timedelta(days=days)
    own_booking = (
        sa.select(Booking.id)
        .join(ConsultationHours, Booking.series_id == ConsultationHours.id)
        .where(ConsultationHours.provider_id == organisation.id)
    )
    own_enrolment = (
        sa.select(Enrolment.id)
        .join(Course, Enrolment.course_id == Course.id)
        .where(Course.organisation_id == organisation.id)
    )
    messages = db.session.scalars(
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.created_at >= since,
            sa.or_(
                OutboxMessage.status == OutboxStatus.FAILED,
                sa.and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts > 0),
            ),
            sa.or_(
                OutboxMessage.booking_id.in_(own_booking),
                OutboxMessage.enrolment_id.in_(own_enrolment),
            ),
        )
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    ).all()
    return [
        (day, [Line(m, delivery(m)) for m in items])
        for day, items in groupby(messages, key=lambda m: _local_day(m.created_at))
    ]

"""Mail through an outbox: written in the transaction of the change, sent after commit.

A mail-server outage therefore loses nothing: messages stay pending and are retried
(``flask send-mail`` from cron, and after every request that queued mail).
"""

from __future__ import annotations

import smtplib
from datetime import timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app

from app import clock
from app.extensions import db
from app.models.booking import OutboxMessage, OutboxStatus

MAX_ATTEMPTS = 8


def queue(recipient: str, subject: str, body: str, *, ics: str | None = None, booking=None):
    """Add a message to the outbox in the current transaction (the caller commits)."""
    message = OutboxMessage(
        recipient=recipient,
        subject=subject,
        body=body,
        ics=ics,
        booking_id=booking.id if booking else None,
    )
    db.session.add(message)
    return message


def _build(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email.set_content(message.body)
    if message.ics:
        email.add_attachment(
            message.ics.encode("utf-8"),
            maintype="text",
            subtype="calendar",
            filename="afspraak.ics",
            params={"method": "PUBLISH", "charset": "utf-8"},
        )
    return email


def send_pending(limit: int = 50) -> tuple[int, int]:
    """Send due messages; return (sent, failed). Failures are retried later with back-off."""
    now = clock.now()
    due = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    if not due:
        return 0, 0
    sent = failed = 0
    config = current_app.config
    try:
        smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10)
    except OSError as error:
        for message in due:
            _failed(message, error, now)
        db.session.commit()
        return 0, len(due)
    with smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        for message in due:
            try:
                smtp.send_message(_build(message))
            except (smtplib.SMTPException, OSError) as error:
                _failed(message, error, now)
                failed += 1
            else:
                message.status = OutboxStatus.SENT
                message.sent_at = now
                # The text may hold personal data: once delivered it is no longer kept.
                message.body = ""
                message.ics = None
                sent += 1
            db.session.commit()
    return sent, failed


def _failed(message: OutboxMessage, error: Exception, now) -> None:
    message.attempts += 1
    message.last_error = str(error)[:500]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = OutboxStatus.FAILED
    else:
        message.next_attempt_at = now + timedelta(minutes=2**message.attempts)


def send_after_response() -> None:
    """Send the outbox once the current response has gone out (the commit came before)."""
    from flask import after_this_request, current_app

    app = current_app._get_current_object()

    @after_this_request
    def _send(response):
        def deliver():
            with app.app_context():
                try:
                    send_pending()
                except Exception:  # the outbox keeps the message; cron retries
                    app.logger.exception("sending mail from the outbox failed")

        response.call_on_close(deliver)
        return response

"""Mail through an outbox: written in the transaction of the change, sent after commit.

A mail-server outage therefore loses nothing: messages stay pending and are retried
(``flask send-mail`` from cron, and in the background after every request that queued mail).

Any number of senders may run at once (every web worker after its responses, cron, other
servers): a sender first **claims** due messages in a short transaction of its own: it
chooses and locks them (on PostgreSQL ``FOR UPDATE SKIP LOCKED``, so other senders pass them
over; on SQLite the transaction holds the database's single write lock from its start), and
marks them with its token only where they are still due. It then sends them with no
transaction open, and records each outcome only if its claim still holds. A claim lasts
``CLAIM_LEASE``: a sender that dies mid-way leaves its messages to be claimed again once the
lease is over.
"""

from __future__ import annotations

import secrets
import smtplib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from flask import Flask, after_this_request, current_app

from app import clock
from app.extensions import db
from app.models.booking import OutboxMessage, OutboxStatus
from app.transactions import writing

MAX_ATTEMPTS = 8
CLAIM_LEASE = timedelta(minutes=10)


def queue(
    recipient: str,
    subject: str,
    body: str,
    *,
    ics: str | None = None,
    booking=None,
    enrolment=None,
):
    """Add a message to the outbox in the current transaction (the caller commits)."""
    if not body.strip() or not recipient.strip():
        raise ValueError("an outbox message needs a recipient and a text")
    message = OutboxMessage(
        recipient=recipient,
        subject=subject,
        body=body,
        ics=ics,
        booking_id=booking.id if booking else None,
        enrolment_id=enrolment.id if enrolment else None,
    )
    db.session.add(message)
    return message


@dataclass(frozen=True)
class _Claimed:
    """What a sender needs of a claimed message, read once: no ORM object crosses the send."""

    id: int
    recipient: str
    subject: str
    body: str
    ics: str | None
    attempts: int


def claim(limit: int, *, token: str | None = None) -> tuple[str, list[_Claimed]]:
    """Claim up to ``limit`` due messages for one sender; return its token and the messages.

    Runs and commits a transaction of its own; no other sender gets these messages until
    the claim's lease is over.
    """
    db.session.commit()  # a claim is the first statement of its transaction (SQLite)
    token = token or secrets.token_hex(16)
    now = clock.now()
    due = (
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    with writing():
        # Choose and lock first, then claim: the locks hold until the commit below.
        chosen = list(db.session.scalars(due))
        if chosen:
            db.session.execute(
                sa.update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(chosen),
                    # Checked again on the row itself: another sender may have claimed it.
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.next_attempt_at <= now,
                )
                .values(claim_token=token, claimed_at=now, next_attempt_at=now + CLAIM_LEASE)
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
    rows = db.session.execute(
        sa.select(
            OutboxMessage.id,
            OutboxMessage.recipient,
            OutboxMessage.subject,
            OutboxMessage.body,
            OutboxMessage.ics,
            OutboxMessage.attempts,
        )
        .where(OutboxMessage.claim_token == token, OutboxMessage.status == OutboxStatus.PENDING)
        .order_by(OutboxMessage.id)
    ).all()
    db.session.commit()  # no transaction stays open while we talk to the mail server
    return token, [_Claimed(*row) for row in rows]


def _build(message: _Claimed) -> EmailMessage:
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


def _record(message: _Claimed, token: str, **values) -> bool:
    """Store the outcome of a send, only while the claim is still this sender's."""
    with writing():
        result = db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.claim_token == token)
            .values(claim_token=None, **values)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return result.rowcount == 1


def _sent(message: _Claimed, token: str, now: datetime) -> None:
    # The text may hold personal data: once delivered it is no longer kept.
    _record(message, token, status=OutboxStatus.SENT, sent_at=now, body="", ics=None)


def _failed(message: _Claimed, token: str, error: Exception, now: datetime) -> None:
    attempts = message.attempts + 1
    give_up = attempts >= MAX_ATTEMPTS or _is_permanent(error)
    _record(
        message,
        token,
        attempts=attempts,
        last_error=str(error)[:500] or type(error).__name__,
        status=OutboxStatus.FAILED if give_up else OutboxStatus.PENDING,
        next_attempt_at=now + timedelta(minutes=2**attempts),
    )


def _is_permanent(error: Exception) -> bool:
    """A 5xx answer (no such mailbox, refused) will not change on a retry; 4xx may."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def send_pending(limit: int = 50) -> tuple[int, int]:
    """Claim due messages and send them; return (sent, failed).

    Failures are retried later with back-off, or given up with the reason.
    """
    token, claimed = claim(limit)
    if not claimed:
        return 0, 0
    config = current_app.config
    now = clock.now()
    sent = failed = 0
    try:
        smtp = smtplib.SMTP(
            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]
        )
    except OSError as error:
        for message in claimed:
            _failed(message, token, error, now)
        return 0, len(claimed)
    with smtp:
        try:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        except (smtplib.SMTPException, OSError) as error:
            for message in claimed:
                _failed(message, token, error, now)
            return 0, len(claimed)
        for message in claimed:
            try:
                smtp.send_message(_build(message))
            except (smtplib.SMTPException, OSError) as error:
                _failed(message, token, error, now)
                failed += 1
            else:
                _sent(message, token, clock.now())
                sent += 1
    return sent, failed


def send_all_due(batch: int = 50) -> tuple[int, int]:
    """Send until nothing is due (what one run of the cron command does)."""
    sent = failed = 0
    while True:
        batch_sent, batch_failed = send_pending(batch)
        sent, failed = sent + batch_sent, failed + batch_failed
        if batch_sent + batch_failed < batch:
            return sent, failed


class _BackgroundSender:
    """One thread per process that sends the outbox when a request asks it to.

    The request only sets an event: the response never waits for the mail server and
    never fails because of it. What the thread cannot send stays in the outbox for cron.
    """

    def __init__(self, app: Flask):
        self.app = app
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def kick(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
                self.thread.start()
        self.wake.set()

    def _run(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            with self.app.app_context():
                try:
                    send_all_due()
                except Exception:  # the outbox keeps the message; cron retries
                    self.app.logger.exception("sending mail from the outbox failed")
                finally:
                    db.session.remove()


def send_after_response() -> None:
    """Have the background sender look at the outbox once the response has gone out."""
    app = current_app._get_current_object()
    if not app.config.get("OUTBOX_SEND_AFTER_RESPONSE", True):
        return
    sender = app.extensions.setdefault("outbox_sender", _BackgroundSender(app))

    @after_this_request
    def _send(response):
        response.call_on_close(sender.kick)
        return response

"""One outbox for every message to a resident, e-mail and SMS: written in the transaction of
the change, sent after commit.

An outage of the mail server or the SMS provider therefore loses nothing: messages stay
pending and are retried (``flask send-messages`` from cron or a systemd timer, and in the
background after every request that queued a message).

Any number of senders may run at once (every web worker after its responses, cron, other
servers): a sender first **claims** due messages in a short transaction of its own: it
chooses and locks them (on PostgreSQL ``FOR UPDATE SKIP LOCKED``, so other senders pass them
over; on SQLite the transaction holds the database's single write lock from its start), and
marks them with its token only where they are still due. It then sends them with no
transaction open, each through its channel (``app.services.mail``, ``app.services.sms``),
and records each outcome only if its claim still holds. A claim lasts ``CLAIM_LEASE``: a
sender that dies mid-way leaves its messages to be claimed again once the lease is over.
A temporary failure is retried with back-off (2, 4, 8 … minutes, ``MAX_ATTEMPTS`` in all);
a permanent refusal is given up at once with the reason.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, after_this_request, current_app

from app import clock
from app.extensions import db
from app.models.booking import MessageChannel, OutboxMessage, OutboxStatus
from app.transactions import writing

MAX_ATTEMPTS = 8
CLAIM_LEASE = timedelta(minutes=10)


def queue(
    channel: MessageChannel,
    recipient: str,
    subject: str,
    body: str,
    *,
    ics: str | None = None,
    booking=None,
    enrolment=None,
    kind: str = "",
) -> OutboxMessage:
    """Add a message to the outbox in the current transaction (the caller commits)."""
    _check(recipient, body)
    now = clock.now()
    message = OutboxMessage(
        created_at=now,
        next_attempt_at=now,
        channel=channel,
        kind=kind,
        recipient=recipient,
        subject=subject,
        body=body,
        ics=ics,
        booking_id=booking.id if booking else None,
        enrolment_id=enrolment.id if enrolment else None,
    )
    db.session.add(message)
    return message


def queue_once(
    key: str,
    channel: MessageChannel,
    recipient: str,
    subject: str,
    body: str,
    *,
    booking=None,
    enrolment=None,
    kind: str = "",
) -> bool:
    """Add a message that may exist only once (its ``key``); return whether it was added.

    The database decides: the key is unique, and a second writer's row is left out
    (``ON CONFLICT DO NOTHING``), also when two senders write it at the same moment.
    """
    _check(recipient, body)
    values = {
        "channel": channel,
        "kind": kind,
        "dedupe_key": key,
        "recipient": recipient,
        "subject": subject,
        "body": body,
        "booking_id": booking.id if booking else None,
        "enrolment_id": enrolment.id if enrolment else None,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "last_error": "",
        "next_attempt_at": clock.now(),
        "created_at": clock.now(),
    }
    return insert_once(values)


def insert_once(values: dict) -> bool:
    """Insert an outbox row unless one with its ``dedupe_key`` exists; return whether it did.

    ``ON CONFLICT DO NOTHING``: on PostgreSQL a second writer of the same key waits for the
    first one's transaction and then leaves its row out; SQLite has one writer at a time.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )
    return db.session.execute(statement).scalar() is not None


def _check(recipient: str, body: str) -> None:
    if not body.strip() or not recipient.strip():
        raise ValueError("an outbox message needs a recipient and a text")


@dataclass(frozen=True)
class Claimed:
    """What a sender needs of a claimed message, read once: no ORM object crosses the send."""

    id: int
    channel: MessageChannel
    recipient: str
    subject: str
    body: str
    ics: str | None
    attempts: int


def claim(limit: int, *, token: str | None = None) -> tuple[str, list[Claimed]]:
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
            OutboxMessage.channel,
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
    return token, [Claimed(*row) for row in rows]


def _record(message: Claimed, token: str, **values) -> bool:
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


def sent(message: Claimed, token: str, now: datetime) -> None:
    # The text may hold personal data: once delivered it is no longer kept.
    _record(message, token, status=OutboxStatus.SENT, sent_at=now, body="", ics=None)


def failed(message: Claimed, token: str, error: Exception, now: datetime) -> None:
    """Record a failed attempt: retried later with back-off, or given up with the reason."""
    attempts = message.attempts + 1
    give_up = attempts >= MAX_ATTEMPTS or is_permanent(message.channel, error)
    _record(
        message,
        token,
        attempts=attempts,
        last_error=str(error)[:500] or type(error).__name__,
        status=OutboxStatus.FAILED if give_up else OutboxStatus.PENDING,
        next_attempt_at=now + timedelta(minutes=2**attempts),
    )


# What a channel does: deliver a batch, saying per message whether it went (None) or the
# error; and whether an error will never change on a retry.
Deliver = Callable[[list[Claimed]], Iterator[tuple[Claimed, Exception | None]]]


def _channels() -> dict[MessageChannel, tuple[Deliver, Callable[[Exception], bool]]]:
    from app.services import mail, sms

    return {
        MessageChannel.MAIL: (mail.deliver, mail.is_permanent),
        MessageChannel.SMS: (sms.deliver, sms.is_permanent),
    }


def is_permanent(channel: MessageChannel, error: Exception) -> bool:
    entry = _channels().get(channel)
    return entry is not None and entry[1](error)


def send_pending(limit: int = 50) -> tuple[int, int]:
    """Claim due messages and send each through its channel; return (sent, failed).

    Failures are retried later with back-off, or given up with the reason.
    """
    token, claimed = claim(limit)
    if not claimed:
        return 0, 0
    channels = _channels()
    done = failures = 0
    for channel, batch in _by_channel(claimed):
        entry = channels.get(channel)
        if entry is None:  # nothing sends this channel: given up at once
            for message in batch:
                failed(message, token, UnknownChannel(channel.value), clock.now())
                failures += 1
            continue
        deliver, _permanent = entry
        for message, error in deliver(batch):
            if error is None:
                sent(message, token, clock.now())
                done += 1
            else:
                failed(message, token, error, clock.now())
                failures += 1
    return done, failures


class UnknownChannel(Exception):
    """A message of a channel nothing sends (staff calls are recorded, never sent)."""


def _by_channel(messages: Iterable[Claimed]) -> list[tuple[MessageChannel, list[Claimed]]]:
    groups: dict[MessageChannel, list[Claimed]] = {}
    for message in messages:
        groups.setdefault(message.channel, []).append(message)
    return list(groups.items())


def send_all_due(batch: int = 50) -> tuple[int, int]:
    """Send until nothing is due (what one run of the cron command does)."""
    total_sent = total_failed = 0
    while True:
        batch_sent, batch_failed = send_pending(batch)
        total_sent, total_failed = total_sent + batch_sent, total_failed + batch_failed
        if batch_sent + batch_failed < batch:
            return total_sent, total_failed


class _BackgroundSender:
    """One thread per process that sends the outbox when a request asks it to.

    The request only sets an event: the response never waits for the mail server or the
    SMS provider and never fails because of them. What the thread cannot send stays in the
    outbox for cron.
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
                    self.app.logger.exception("sending messages from the outbox failed")
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


def erase(which) -> int:
    """Erase the text and recipient of messages; keep channel, kind, status and times, which
    the figures count. A message not sent by now never will be."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(which, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.FAILED, last_error="erased before it was sent")
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(
        sa.update(OutboxMessage)
        .where(which, OutboxMessage.recipient != "")
        .values(recipient="", subject="", body="", ics=None, last_error="")
        .execution_options(synchronize_session=False)
    ).rowcount

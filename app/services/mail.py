"""E-mail, one channel of the outbox (``app.services.outbox``): queue a message in the
transaction of the change; the outbox's senders deliver it over SMTP after commit.

``queue(recipient, subject, body, …)`` is how every part of Spreekuur writes an e-mail to a
resident. The names of the outbox (``claim``, ``send_pending``, ``send_all_due``,
``send_after_response``) are also here, so a view that queued mail asks for it to be sent
from the same module.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

from flask import current_app

from app.models.booking import MessageChannel
from app.services.outbox import (  # noqa: F401 (the outbox, as the mail module always had it)
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    Claimed,
    claim,
    send_after_response,
    send_all_due,
    send_pending,
)
from app.services.outbox import failed as _failed  # noqa: F401
from app.services.outbox import queue as _queue_message
from app.services.outbox import sent as _sent  # noqa: F401


def queue(
    recipient: str,
    subject: str,
    body: str,
    *,
    ics: str | None = None,
    booking=None,
    enrolment=None,
    kind: str = "",
):
    """Add an e-mail to the outbox in the current transaction (the caller commits)."""
    return _queue_message(
        MessageChannel.MAIL,
        recipient,
        subject,
        body,
        ics=ics,
        booking=booking,
        enrolment=enrolment,
        kind=kind,
    )


def _build(message: Claimed) -> EmailMessage:
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


def is_permanent(error: Exception) -> bool:
    """A 5xx answer (no such mailbox, refused) will not change on a retry; 4xx may."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def deliver(messages: list[Claimed]) -> Iterator[tuple[Claimed, Exception | None]]:
    """Send claimed e-mails over one SMTP connection; say per message how it went."""
    config = current_app.config
    try:
        smtp = smtplib.SMTP(
            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]
        )
    except OSError as error:
        for message in messages:
            yield message, error
        return
    with smtp:
        try:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        except (smtplib.SMTPException, OSError) as error:
            for message in messages:
                yield message, error
            return
        for message in messages:
            try:
                smtp.send_message(_build(message))
            except (smtplib.SMTPException, OSError) as error:
                yield message, error
            else:
                yield message, None

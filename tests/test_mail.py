"""Mail goes through the outbox to a real SMTP server on loopback; an outage loses nothing."""

from datetime import timedelta

import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import OutboxMessage, OutboxStatus
from app.services import mail
from tests.conftest import free_port


def test_queued_mail_is_delivered_with_its_calendar_attachment(app, smtp_server):
    """A queued message reaches the SMTP server, with the .ics attached, and its text is
    no longer kept once sent."""
    mail.queue(
        "fatima@example.org",
        "Uw afspraak",
        "Tot dinsdag!",
        ics="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
    )
    db.session.commit()
    assert mail.send_pending() == (1, 0)

    [received] = smtp_server.messages
    assert received["To"] == "fatima@example.org"
    assert received["Subject"] == "Uw afspraak"
    assert "Tot dinsdag!" in received.get_body(("plain",)).get_content()
    [attachment] = list(received.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "afspraak.ics"

    stored = db.session.scalar(sa.select(OutboxMessage))
    assert stored.status is OutboxStatus.SENT and stored.body == "" and stored.ics is None


def test_mail_server_outage_keeps_the_message_for_a_retry(app):
    """With the mail server down the message stays pending and is retried later."""
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    mail.queue("fatima@example.org", "Uw afspraak", "Tot dinsdag!")
    db.session.commit()
    assert mail.send_pending() == (0, 1)
    stored = db.session.scalar(sa.select(OutboxMessage))
    assert stored.status is OutboxStatus.PENDING
    assert stored.attempts == 1 and stored.last_error
    assert stored.next_attempt_at > clock.now()
    assert "Tot dinsdag!" in stored.body


def test_a_retry_after_the_outage_delivers(app, smtp_server):
    """Once the server is back, the waiting message goes out."""
    mail.queue("fatima@example.org", "Uw afspraak", "Tot dinsdag!")
    db.session.commit()
    message = db.session.scalar(sa.select(OutboxMessage))
    message.attempts = 1
    message.next_attempt_at = clock.now() - timedelta(seconds=1)
    db.session.commit()
    assert mail.send_pending() == (1, 0)
    assert len(smtp_server.messages) == 1


def test_messages_are_given_up_after_many_attempts(app):
    """A message that keeps failing is marked failed instead of being tried for ever."""
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    mail.queue("x@example.org", "S", "B")
    db.session.commit()
    message = db.session.scalar(sa.select(OutboxMessage))
    message.attempts = mail.MAX_ATTEMPTS - 1
    db.session.commit()
    mail.send_pending()
    assert db.session.scalar(sa.select(OutboxMessage)).status is OutboxStatus.FAILED

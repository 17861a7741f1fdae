"""One outbox for e-mail and SMS: eight senders drain a mix of both at once, and every
message reaches its resident exactly once, with its text (a real SMTP server on loopback and
a local CM.com gateway)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import MessageChannel, OutboxMessage, OutboxStatus
from app.services import mail, outbox, sms


def test_eight_senders_at_once_send_every_mail_and_sms_exactly_once(app, smtp_server, sms_gateway):
    addresses = [f"bewoner{n}@example.org" for n in range(24)]
    numbers = [f"06 1234 {n:04d}" for n in range(24)]
    for n in range(24):
        mail.queue(addresses[n], f"Uw afspraak {n}", f"Tot dinsdag, bewoner {n}!")
        sms.queue(numbers[n], f"Herinnering {n}: morgen om 10:00.")
    db.session.commit()

    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def sender() -> None:
        with app.app_context():
            try:
                barrier.wait()
                while outbox.send_pending(limit=3) != (0, 0):
                    pass
            except BaseException as error:  # noqa: BLE001 (reported by the test below)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    received: dict[str, list[str]] = {}
    for message in list(smtp_server.messages):
        received.setdefault(message["To"], []).append(
            message.get_body(("plain",)).get_content().strip()
        )
    assert sorted(received) == sorted(addresses)
    for n, address in enumerate(addresses):
        assert received[address] == [f"Tot dinsdag, bewoner {n}!"]

    assert len(sms_gateway.received) == 24
    for n in range(24):
        assert sms_gateway.texts_to(f"003161234{n:04d}") == [f"Herinnering {n}: morgen om 10:00."]

    db.session.rollback()
    stored = db.session.execute(
        sa.select(OutboxMessage.channel, OutboxMessage.status, OutboxMessage.body)
    ).all()
    assert sorted((c.value, s.value, b) for c, s, b in stored) == sorted(
        [("mail", "sent", "")] * 24 + [("sms", "sent", "")] * 24
    )
    assert {c for c, _s, _b in stored} == {MessageChannel.MAIL, MessageChannel.SMS}
    assert {s for _c, s, _b in stored} == {OutboxStatus.SENT}


@pytest.mark.parametrize("name", ["send-mail", "waiting-list"])
def test_the_earlier_names_are_still_the_same_command(app, runner, smtp_server, name):
    """Crontabs that call the command's earlier names keep working."""
    mail.queue("bewoner@example.org", "Uw afspraak", "Tot dinsdag!")
    db.session.commit()
    result = runner.invoke(args=[name])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Offers passed on: 0; withdrawn: 0; new offers: 0.\n"
        "Reminders written: 0; sent: 1; failed: 0.\n"
    )
    assert len(smtp_server.messages) == 1

"""SMS through CM.com's Business Messaging API, tested against a local server that speaks it:
accepted, refused for good, the provider down (5xx), the provider too slow; numbers in E.164
and only mobile numbers."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import clock
from app.extensions import db
from app.models import MessageChannel, OutboxMessage, OutboxStatus
from app.services import outbox, sms
from app.services.sms.cm import CMProvider
from tests.sms_helpers import TOKEN


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("06 12345678", "+31612345678"),
        ("06-1234 5678", "+31612345678"),
        ("+31 6 12345678", "+31612345678"),
        ("0031612345678", "+31612345678"),
        ("+44 7911 123456", "+447911123456"),
        ("030 123 4567", None),  # a landline: no SMS
        ("0800 1234", None),
        ("12345", None),
        ("bel me", None),
        ("", None),
    ],
)
def test_only_mobile_numbers_are_used_in_e164(app, typed, expected):
    assert sms.mobile_number(typed) == expected


def test_an_sms_to_a_landline_is_never_queued(app):
    with pytest.raises(ValueError):
        sms.queue("030 123 4567", "Tot morgen!")


def _message() -> OutboxMessage:
    db.session.rollback()
    return db.session.scalar(sa.select(OutboxMessage))


def test_an_accepted_sms_is_sent_once_and_its_text_not_kept(app, sms_gateway):
    """The gateway gets the number (international, with 00), the sender and the text; the
    outbox marks the message sent and keeps no text."""
    sms.queue("06 12345678", "Herinnering: afspraak morgen om 10:00.", kind="reminder")
    db.session.commit()
    assert outbox.send_pending() == (1, 0)
    assert sms_gateway.received == [
        {
            "number": "0031612345678",
            "text": "Herinnering: afspraak morgen om 10:00.",
            "from": "Bibliotheek",
        }
    ]
    message = _message()
    assert message.channel is MessageChannel.SMS and message.status is OutboxStatus.SENT
    assert message.recipient == "+31612345678" and message.body == ""
    assert outbox.send_pending() == (0, 0)
    assert sms_gateway.requests == 1


def test_a_rejected_number_is_given_up_at_once_with_the_reason(app, sms_gateway):
    sms_gateway.answers["0031612345678"] = "reject"
    sms.queue("06 12345678", "Tot morgen!")
    db.session.commit()
    assert outbox.send_pending() == (0, 1)
    message = _message()
    assert message.status is OutboxStatus.FAILED and message.attempts == 1
    assert "is not a number" in message.last_error and "303" in message.last_error


def test_a_provider_that_is_down_is_tried_again_later(app, sms_gateway, monkeypatch):
    """A 5xx answer is temporary: the message waits, with back-off, and goes once the
    provider is back."""
    sms_gateway.answers["0031612345678"] = "down"
    sms.queue("06 12345678", "Tot morgen!")
    db.session.commit()
    assert outbox.send_pending() == (0, 1)
    message = _message()
    assert message.status is OutboxStatus.PENDING and message.attempts == 1
    assert "503" in message.last_error
    assert message.next_attempt_at > clock.now() + timedelta(minutes=1)
    assert outbox.send_pending() == (0, 0)  # not before its time

    sms_gateway.answers.clear()
    later = clock.now() + timedelta(minutes=3)
    monkeypatch.setattr("app.clock.now", lambda: later)
    assert outbox.send_pending() == (1, 0)
    assert sms_gateway.texts_to("0031612345678") == ["Tot morgen!"]
    assert _message().status is OutboxStatus.SENT


def test_a_provider_that_does_not_answer_in_time_is_tried_again_later(app, sms_gateway):
    app.config["SMS_TIMEOUT"] = 0.5
    sms_gateway.answers["0031612345678"] = "hang"
    sms.queue("06 12345678", "Tot morgen!")
    db.session.commit()
    assert outbox.send_pending() == (0, 1)
    assert sms_gateway.hanging.is_set()
    message = _message()
    assert message.status is OutboxStatus.PENDING and message.attempts == 1
    assert "in time" in message.last_error


def test_a_wrong_token_is_not_given_up_at_once(app, sms_gateway):
    """The account's problems (token, balance) can be put right: the message waits."""
    app.config["SMS_PRODUCT_TOKEN"] = "wrong"
    sms.queue("06 12345678", "Tot morgen!")
    db.session.commit()
    assert outbox.send_pending() == (0, 1)
    message = _message()
    assert message.status is OutboxStatus.PENDING
    assert "No account found" in message.last_error


def test_without_a_provider_an_sms_waits(app):
    """An SMS queued while SMS is switched off is not lost, nor sent anywhere."""
    sms.queue("06 12345678", "Tot morgen!")
    db.session.commit()
    assert outbox.send_pending() == (0, 1)
    message = _message()
    assert message.status is OutboxStatus.PENDING and "no SMS provider" in message.last_error


def test_the_request_is_what_cm_documents(app):
    """The JSON body of one message, as in CM.com's documentation."""
    app.config.update(SMS_PRODUCT_TOKEN=TOKEN, SMS_SENDER="Spreekuur")
    payload = CMProvider(app.config).payload("+31612345678", "Tot morgen!", "spreekuur-7")
    assert payload == {
        "messages": {
            "authentication": {"producttoken": TOKEN},
            "msg": [
                {
                    "allowedChannels": ["SMS"],
                    "from": "Spreekuur",
                    "to": [{"number": "0031612345678"}],
                    "body": {"type": "auto", "content": "Tot morgen!"},
                    "reference": "spreekuur-7",
                    "minimumNumberOfMessageParts": 1,
                    "maximumNumberOfMessageParts": 4,
                }
            ],
        }
    }

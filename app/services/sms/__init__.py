"""SMS, one channel of the outbox (``app.services.outbox``), through a provider's HTTP API.

A provider is a small class with ``send(to, text, reference)`` (see ``SmsProvider``),
registered by name in ``PROVIDERS`` and chosen with the setting ``SMS_PROVIDER``; without
one, nothing is sent by SMS and residents with only a phone number are on the desk's "call
the day before" list. Numbers are normalised to E.164 (``+31612345678``) with the
``phonenumbers`` library, and only mobile numbers are used: a landline cannot receive an SMS.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import phonenumbers
from flask import current_app

from app.models.booking import MessageChannel
from app.services.outbox import Claimed
from app.services.outbox import queue as _queue_message
from app.services.sms.cm import CMProvider
from app.services.sms.errors import SmsError

__all__ = [
    "PROVIDERS",
    "SmsError",
    "SmsProvider",
    "deliver",
    "is_configured",
    "is_permanent",
    "mobile_number",
    "provider",
    "queue",
]


class SmsProvider(Protocol):
    """What the outbox needs of an SMS provider."""

    def send(self, to: str, text: str, reference: str) -> None:
        """Hand one message to the provider, or raise ``SmsError`` (permanent or not)."""


PROVIDERS: dict[str, type] = {"cm": CMProvider}


def provider() -> SmsProvider | None:
    """The configured provider, or None when SMS is switched off."""
    name = current_app.config.get("SMS_PROVIDER")
    if not name:
        return None
    try:
        factory = PROVIDERS[name]
    except KeyError:
        raise RuntimeError(f"unknown SMS_PROVIDER {name!r}; known: {sorted(PROVIDERS)}") from None
    return factory(current_app.config)


def is_configured() -> bool:
    return bool(current_app.config.get("SMS_PROVIDER"))


MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def mobile_number(phone: str, region: str | None = None) -> str | None:
    """The number in E.164 when it is a valid mobile number, else None."""
    if not phone or not phone.strip():
        return None
    region = region or current_app.config.get("SMS_DEFAULT_REGION", "NL")
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def queue(phone: str, text: str, *, booking=None, enrolment=None, kind: str = ""):
    """Add an SMS to the outbox in the current transaction; refuses a non-mobile number."""
    number = mobile_number(phone)
    if number is None:
        raise ValueError("an SMS needs a mobile number")
    return _queue_message(
        MessageChannel.SMS, number, "", text, booking=booking, enrolment=enrolment, kind=kind
    )


def is_permanent(error: Exception) -> bool:
    return isinstance(error, SmsError) and error.permanent


def deliver(messages: list[Claimed]) -> Iterator[tuple[Claimed, Exception | None]]:
    """Hand claimed messages to the provider one by one; say per message how it went."""
    try:
        sender = provider()
    except SmsError as error:  # e.g. no token yet: retried, so nothing is lost meanwhile
        for message in messages:
            yield message, error
        return
    for message in messages:
        if sender is None:
            yield message, SmsError("no SMS provider is configured", permanent=False)
            continue
        try:
            sender.send(message.recipient, message.body, reference=f"spreekuur-{message.id}")
        except SmsError as error:
            yield message, error
        else:
            yield message, None

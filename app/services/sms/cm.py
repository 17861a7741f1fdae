"""CM.com's Business Messaging API (JSON), used by many Dutch organisations for SMS.

One message is one ``POST {SMS_BASE_URL}/v1.0/message`` (``https://gw.cmtelecom.com``) with
a JSON body::

    {"messages": {"authentication": {"producttoken": "…"},
                  "msg": [{"allowedChannels": ["SMS"], "from": "Spreekuur",
                           "to": [{"number": "0031612345678"}],
                           "body": {"type": "auto", "content": "…"},
                           "reference": "spreekuur-42"}]}}

The answer says per message whether it was accepted::

    {"details": "Created 1 message(s)", "errorCode": 0,
     "messages": [{"to": "0031612345678", "status": "Accepted", "reference": "spreekuur-42",
                   "parts": 1, "messageDetails": null, "messageErrorCode": 0}]}

A request with something wrong answers ``400 Bad Request`` with an ``errorCode`` for the
request (101 no account for the authentication, 102 insufficient balance, 103 invalid
product token, 201 not every message created, 202 malformed request, 203 ``msg`` array
incorrect, 500 internal error, 999 unknown) and per message ``"status": "Rejected"`` with a
``messageErrorCode`` (301 invalid sender, 302 invalid recipient, 303 not a phone number,
304 invalid body, 305 invalid field, 401 spam, 402 blacklisted, 403 rejected) and
``messageDetails`` saying why.

Rejections of the message itself (the 3xx and 4xx message codes, a malformed request) are
permanent: the outbox gives them up at once with the provider's reason. Everything else is
retried with back-off: the provider unreachable, too slow, answering 5xx or 500/999, and the
account's problems (token, balance), which the organisation can put right meanwhile.
Acceptance is not delivery: the handset's delivery report comes later, to a webhook this app
does not have.

Documentation: https://docs.cmtelecom.com/en/api/business-messaging-api/1.0/index (sending,
channels, responses) and https://developers.cm.com/messaging/docs/responses-errors-json (the
answers and error codes above).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from app.services.sms.errors import SmsError

PERMANENT_REQUEST_ERRORS = {202, 203}
PERMANENT_MESSAGE_ERRORS = {301, 302, 303, 304, 305, 401, 402, 403}


class CMProvider:
    """Sends one SMS per request through CM.com's JSON gateway."""

    name = "cm"

    def __init__(self, config):
        token = config.get("SMS_PRODUCT_TOKEN")
        if not token:
            raise SmsError("SMS_PRODUCT_TOKEN is not set", permanent=False)
        self.url = config["SMS_BASE_URL"].rstrip("/") + "/v1.0/message"
        self.token = token
        self.sender = config["SMS_SENDER"]
        self.timeout = config["SMS_TIMEOUT"]

    def payload(self, to: str, text: str, reference: str) -> dict:
        return {
            "messages": {
                "authentication": {"producttoken": self.token},
                "msg": [
                    {
                        "allowedChannels": ["SMS"],
                        "from": self.sender,
                        # CM.com writes international numbers with 00 (E.164's + also works).
                        "to": [{"number": "00" + to.removeprefix("+")}],
                        "body": {"type": "auto", "content": text},
                        "reference": reference,
                        # A reminder is short; never more than a few parts if it is not.
                        "minimumNumberOfMessageParts": 1,
                        "maximumNumberOfMessageParts": 4,
                    }
                ],
            }
        }

    def send(self, to: str, text: str, reference: str) -> None:
        data = json.dumps(self.payload(to, text, reference)).encode("utf-8")
        request = urllib.request.Request(
            self.url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            with error:
                status, body = error.code, error.read()
        except TimeoutError as error:
            raise SmsError(f"CM.com did not answer in time ({error})", permanent=False) from error
        except (urllib.error.URLError, OSError) as error:
            raise SmsError(f"CM.com could not be reached ({error})", permanent=False) from error
        _check_answer(status, body)


def _check_answer(status: int, body: bytes) -> None:
    """Return when the message was accepted; otherwise raise SmsError with the reason."""
    if status >= 500:
        raise SmsError(f"CM.com answered {status}", permanent=False)
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        raise SmsError(f"CM.com answered {status} without JSON", permanent=False) from None
    error_code = answer.get("errorCode")
    messages = answer.get("messages") or []
    message = messages[0] if messages else {}
    if status == 200 and error_code == 0 and message.get("status") == "Accepted":
        return
    message_code = message.get("messageErrorCode")
    reason = message.get("messageDetails") or answer.get("details") or f"HTTP {status}"
    described = f"CM.com: {reason} (error {message_code or error_code})"
    permanent = (
        message.get("status") == "Rejected" and message_code in PERMANENT_MESSAGE_ERRORS
    ) or error_code in PERMANENT_REQUEST_ERRORS
    raise SmsError(described, permanent=permanent)

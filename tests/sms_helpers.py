"""A local HTTP server that speaks CM.com's Business Messaging API (``POST /v1.0/message``),
as the SMS tests' provider; and a fixture that points the app at it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "00000000-test-token-0000-000000000000"


class SmsGateway:
    """What the gateway received, and how it answers each number (by default: accepted).

    ``answers[number]`` is "reject" (400, message rejected: not a phone number), "down"
    (503), "hang" (no answer until the test ends) or "accept".
    """

    def __init__(self):
        self.received: list[dict] = []  # every accepted message: number, text, sender
        self.requests = 0
        self.answers: dict[str, str] = {}
        self.release = threading.Event()
        self.hanging = threading.Event()
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length))
                status, answer = gateway.answer(self.path, payload)
                if answer is None:
                    return
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str, payload: dict) -> tuple[int, dict | None]:
        with self._lock:
            self.requests += 1
        if path != "/v1.0/message":
            return 404, {"details": "Not found", "errorCode": 999, "messages": []}
        messages = payload["messages"]
        if messages["authentication"]["producttoken"] != TOKEN:
            return 400, {
                "details": "No account found for the given authentication",
                "errorCode": 101,
                "messages": [],
            }
        msg = messages["msg"][0]
        number = msg["to"][0]["number"]
        behaviour = self.answers.get(number, "accept")
        if behaviour == "down":
            return 503, {"details": "Service unavailable", "errorCode": 500, "messages": []}
        if behaviour == "hang":
            self.hanging.set()
            self.release.wait(timeout=60)
            return 200, None
        if behaviour == "reject" or not msg["body"]["content"].strip():
            return 400, {
                "details": "Created 0 message(s)",
                "errorCode": 201,
                "messages": [
                    {
                        "to": number,
                        "status": "Rejected",
                        "reference": msg.get("reference"),
                        "parts": 0,
                        "messageDetails": f"Gsm '{number}' is not a number.",
                        "messageErrorCode": 303,
                    }
                ],
            }
        with self._lock:
            self.received.append(
                {"number": number, "text": msg["body"]["content"], "from": msg["from"]}
            )
        return 200, {
            "details": "Created 1 message(s)",
            "errorCode": 0,
            "messages": [
                {
                    "to": number,
                    "status": "Accepted",
                    "reference": msg.get("reference"),
                    "parts": 1,
                    "messageDetails": None,
                    "messageErrorCode": 0,
                }
            ],
        }

    def texts_to(self, number: str) -> list[str]:
        with self._lock:
            return [m["text"] for m in self.received if m["number"] == number]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def serve_sms_gateway(app):
    """Point the app at a local CM.com gateway while the test runs (the ``sms_gateway``
    fixture of tests/conftest.py)."""
    gateway = SmsGateway()
    app.config.update(
        SMS_PROVIDER="cm",
        SMS_BASE_URL=gateway.url,
        SMS_PRODUCT_TOKEN=TOKEN,
        SMS_SENDER="Bibliotheek",
        SMS_TIMEOUT=5,
    )
    yield gateway
    gateway.close()

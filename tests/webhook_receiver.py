"""A real HTTP receiver on 127.0.0.1 for the webhook tests: it verifies every signature with
the `standardwebhooks` package, records what arrived, how many requests of one webhook-id
were in flight at once, and answers as the test's plan says (a status, or a sleep first)."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

# plan(webhook_id, nth request of that id (1-based), path) -> (status, seconds to sleep first)
Plan = Callable[[str, int, str], tuple[int, float]]


def accept_all(_id: str, _nth: int, _path: str) -> tuple[int, float]:
    return 204, 0.0


@dataclass
class Received:
    """One request that verified: its webhook-id, body, path and when it arrived."""

    webhook_id: str
    body: dict[str, Any]
    path: str
    at: float
    status: int


@dataclass
class Receiver:
    """The server, the secrets it verifies with (per path), and what it saw."""

    plan: Plan = accept_all
    secrets: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    bad_signatures: int = 0
    max_in_flight_per_id: int = 0
    requests: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def url(self, path: str = "/hook") -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                receiver._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        raw = handler.rfile.read(int(handler.headers.get("content-length") or 0))
        headers = {k.lower(): v for k, v in handler.headers.items()}
        webhook_id = headers.get("webhook-id", "")
        try:
            Webhook(self.secrets[handler.path]).verify(raw, headers)
        except (WebhookVerificationError, KeyError):
            with self._lock:
                self.bad_signatures += 1
            self._answer(handler, 401)
            return
        with self._lock:
            self.requests[webhook_id] += 1
            nth = self.requests[webhook_id]
            self._in_flight[webhook_id] += 1
            self.max_in_flight_per_id = max(self.max_in_flight_per_id,
                                            self._in_flight[webhook_id])
        try:
            status, pause = self.plan(webhook_id, nth, handler.path)
            if pause:
                time.sleep(pause)
            if 200 <= status < 300:
                with self._lock:
                    self.received.append(Received(webhook_id, json.loads(raw), handler.path,
                                                  time.time(), status))
            self._answer(handler, status)
        finally:
            with self._lock:
                self._in_flight[webhook_id] -= 1

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int) -> None:
        try:
            handler.send_response(status)
            handler.send_header("content-length", "0")
            handler.end_headers()
        except (BrokenPipeError, ConnectionResetError):  # the sender timed out and left
            pass

    def accepted(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if path is None or r.path == path]


def wait_until(predicate: Callable[[], bool], seconds: float, every: float = 0.05) -> bool:
    """Poll predicate until true or seconds pass; its last answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()

"""Sending one webhook: the Standard Webhooks body and headers, signed with the
`standardwebhooks` package, over a pooled HTTP client (urllib3: about four times the requests
per second of httpx here) with a timeout."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import urllib3
from standardwebhooks import Webhook
from urllib3.exceptions import HTTPError, TimeoutError

from service.services.notifications.catalogue import event_version

USER_AGENT = "oms-webhooks/1"
ERROR_CHARS = 500


@dataclass(frozen=True)
class Message:
    """One webhook to send: its id (the event id), where, with what secret, what body."""

    delivery_id: int
    webhook_id: str
    url: str
    secret: str
    body: bytes


@dataclass(frozen=True)
class Answer:
    """What one attempt got: a status code (None: no answer), latency, error text."""

    delivery_id: int
    status_code: int | None
    latency_ms: int
    error: str | None


def body_of(event_type: str, payload: dict[str, Any] | str, created_at: datetime) -> bytes:
    """The Standard Webhooks body: {"type","version","timestamp","data"}; a payload given as
    JSON text (as the outbox stores it) goes in as it is."""
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    head = json.dumps({"type": event_type, "version": event_version(event_type),
                       "timestamp": created_at.isoformat().replace("+00:00", "Z")},
                      separators=(",", ":"))
    return f'{head[:-1]},"data":{data}}}'.encode()


def headers_for(message: Message, now: datetime) -> dict[str, str]:
    """webhook-id, webhook-timestamp and webhook-signature (v1, HMAC-SHA256)."""
    signature = Webhook(message.secret).sign(message.webhook_id, now, message.body)
    return {"webhook-id": message.webhook_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature, "content-type": "application/json",
            "user-agent": USER_AGENT}


class Sender:
    """A pooled HTTP client and a thread pool: sends many webhooks at once."""

    def __init__(self, concurrency: int, timeout_seconds: float) -> None:
        self.client = urllib3.PoolManager(
            num_pools=64, maxsize=concurrency, block=True, retries=False,
            timeout=urllib3.Timeout(total=timeout_seconds))
        self.pool = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook")

    def send_all(self, messages: list[Message]) -> list[Answer]:
        """Send every message concurrently; an answer for each, in the same order."""
        return list(self.pool.map(self.send, messages))

    def send(self, message: Message) -> Answer:
        """One POST; a timeout or a connection error is an answer without a status code. The
        webhook-timestamp is the wall clock's (receivers check it against theirs)."""
        now = datetime.now(UTC)
        started = time.perf_counter()
        try:
            response = self.client.request("POST", message.url, body=message.body,
                                           headers=headers_for(message, now))
            code, error = response.status, None
            if not 200 <= code < 300:
                error = f"HTTP {code}: {response.data[:200].decode(errors='replace')}"
        except TimeoutError as exc:
            code, error = None, f"timeout: {type(exc).__name__}"
        except HTTPError as exc:
            code, error = None, f"{type(exc).__name__}: {exc}"
        latency = round((time.perf_counter() - started) * 1000)
        return Answer(message.delivery_id, code, latency, error and error[:ERROR_CHARS])

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.clear()

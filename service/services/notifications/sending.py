"""Sending one webhook: the Standard Webhooks body and headers, signed with the
`standardwebhooks` package, over keep-alive connections of the standard library's http.client
(one set per sending thread) with a timeout."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPConnection, HTTPException, HTTPSConnection, RemoteDisconnected
from typing import Any
from urllib.parse import urlsplit

from standardwebhooks import Webhook

from service.services.notifications.catalogue import event_version

USER_AGENT = "oms-webhooks/1"
ERROR_CHARS = 500
MAX_RECEIVERS = 64  # kept connections per sending thread
MAX_ANSWER_BYTES = 64 * 1024  # a receiver's answer read to its end (else the connection is closed)


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
    signature = _signer(message.secret).sign(message.webhook_id, now, message.body)
    return {"webhook-id": message.webhook_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature, "content-type": "application/json",
            "user-agent": USER_AGENT}


@functools.lru_cache(maxsize=256)
def _signer(secret: str) -> Webhook:
    """A subscription's signer (its secret decoded once, not once per webhook)."""
    return Webhook(secret)


class Sender:
    """Keep-alive HTTP connections, one set per sending thread, and a thread pool: sends many
    webhooks at once.

    Built on the standard library's http.client rather than urllib3's pool: it writes the
    headers and the body in one send (urllib3 2 writes them in two), and it does no pool
    bookkeeping per request. Measured against the bench's receiver, one thread: 231-295 µs of
    CPU per webhook against 399-488 µs through an urllib3 connection pool and 460-771 µs
    through its PoolManager (bench/changes.md, "Webhook sending on http.client").
    """

    def __init__(self, concurrency: int, timeout_seconds: float) -> None:
        self.timeout = timeout_seconds
        self.pool = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook")
        self._local = threading.local()
        self._every: list[_Connections] = []  # each thread's, so close() reaches them all
        self._lock = threading.Lock()

    def send_all(self, messages: list[Message]) -> list[Answer]:
        """Send every message concurrently; an answer for each, in the same order."""
        return list(self.pool.map(self.send, messages))

    def send(self, message: Message) -> Answer:
        """One POST; a timeout or a connection error is an answer without a status code. The
        webhook-timestamp is the wall clock's (receivers check it against theirs)."""
        now = datetime.now(UTC)
        started = time.perf_counter()
        try:
            code, error = self._connections().post(message, headers_for(message, now))
        except TimeoutError as exc:
            code, error = None, f"timeout: {type(exc).__name__}"
        except (OSError, HTTPException, ValueError) as exc:
            code, error = None, f"{type(exc).__name__}: {exc}"
        latency = round((time.perf_counter() - started) * 1000)
        return Answer(message.delivery_id, code, latency, error and error[:ERROR_CHARS])

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        with self._lock:
            for connections in self._every:
                connections.close()
            self._every.clear()

    def _connections(self) -> _Connections:
        connections = getattr(self._local, "connections", None)
        if connections is None:
            connections = self._local.connections = _Connections(self.timeout)
            with self._lock:
                self._every.append(connections)
        return connections


@dataclass(frozen=True)
class _Target:
    """Where a webhook URL points: the connection's scheme, host and port, and the path."""

    https: bool
    host: str
    port: int | None
    path: str

    @classmethod
    @functools.lru_cache(maxsize=1024)
    def of(cls, url: str) -> _Target:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url[:200]}")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.scheme == "https", parts.hostname, parts.port, path)


class _Connections:
    """One thread's keep-alive connections, one per receiver (at most MAX_RECEIVERS, the
    oldest closed first). `timeout` bounds the connect, and the sending and the answer take
    at most what is left of it after each step."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.open: OrderedDict[tuple[bool, str, int | None], HTTPConnection] = OrderedDict()

    def post(self, message: Message, headers: dict[str, str]) -> tuple[int, str | None]:
        """(status, error text or None) of one POST; a kept connection the receiver closed
        meanwhile is opened again once (the webhook-id is the same: receivers dedupe)."""
        target = _Target.of(message.url)
        deadline = time.monotonic() + self.timeout
        reused = (target.https, target.host, target.port) in self.open
        try:
            return self._exchange(target, message.body, headers, deadline)
        except (ConnectionResetError, BrokenPipeError, RemoteDisconnected):
            if not reused:
                raise
            return self._exchange(target, message.body, headers, deadline)

    def _exchange(self, target: _Target, body: bytes, headers: dict[str, str],
                  deadline: float) -> tuple[int, str | None]:
        conn = self._connection(target)
        try:
            conn.request("POST", target.path, body=body, headers=headers)
            conn.sock.settimeout(max(0.001, deadline - time.monotonic()))
            response = conn.getresponse()
            data = response.read(MAX_ANSWER_BYTES + 1)
            code = response.status
            if len(data) > MAX_ANSWER_BYTES or response.will_close or not response.isclosed():
                self._drop(target)  # a longer answer is not read to its end: not reusable
        except BaseException:
            self._drop(target)
            raise
        if 200 <= code < 300:
            return code, None
        return code, f"HTTP {code}: {data[:200].decode(errors='replace')}"

    def _connection(self, target: _Target) -> HTTPConnection:
        key = (target.https, target.host, target.port)
        conn = self.open.get(key)
        if conn is None:
            if len(self.open) >= MAX_RECEIVERS:
                self.open.popitem(last=False)[1].close()
            kind = HTTPSConnection if target.https else HTTPConnection
            conn = self.open[key] = kind(target.host, target.port, timeout=self.timeout)
        else:
            self.open.move_to_end(key)
            if conn.sock is not None:
                conn.sock.settimeout(self.timeout)
        return conn

    def _drop(self, target: _Target) -> None:
        conn = self.open.pop((target.https, target.host, target.port), None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        for conn in self.open.values():
            conn.close()
        self.open.clear()

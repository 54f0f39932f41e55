"""The webhook sender's connections, against raw socket servers that answer as each test needs:
kept connections reused, a connection the receiver closed opened again, long and failing
answers, timeouts and refusals each an answer (never an exception), every request signed."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from service.services.notifications.sending import (
    MAX_ANSWER_BYTES,
    Message,
    Sender,
    body_of,
)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"

# answer(request number over the server's life, request head and body) -> bytes to write, and
# whether to close the connection after writing them
Answerer = Callable[[int, bytes, bytes], tuple[bytes, bool]]


class RawServer:
    """HTTP/1.1 by hand: each connection in a thread, requests read by Content-Length."""

    def __init__(self, answer: Answerer) -> None:
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.connections = 0
        self.requests: list[tuple[bytes, bytes]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}{path}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                body, buffer = buffer[:length], buffer[length:]
                with self.lock:
                    self.requests.append((head, body))
                    nth = len(self.requests)
                reply, close = self.answer(nth, head, body)
                conn.sendall(reply)
                if close:
                    return

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Answerer], RawServer]]:
    servers: list[RawServer] = []

    def start(answer: Answerer) -> RawServer:
        servers.append(RawServer(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def sender() -> Iterator[Sender]:
    one = Sender(1, 0.5)
    yield one
    one.close()


def message(url: str, n: int = 1) -> Message:
    body = body_of("order.created", {"order_id": f"O{n}"}, datetime(2026, 12, 6, tzinfo=UTC))
    return Message(n, f"evt-{n}", url, SECRET, body)


def test_webhooks_to_one_receiver_share_one_kept_connection_and_arrive_signed(serve, sender):
    server = serve(lambda _n, _head, _body: (NO_CONTENT, False))
    answers = [sender.send(message(server.url(), n)) for n in range(1, 6)]
    assert [a.status_code for a in answers] == [204] * 5
    assert all(a.error is None for a in answers)
    assert server.connections == 1 and len(server.requests) == 5
    for n, (head, body) in enumerate(server.requests, start=1):
        headers = {name.strip().decode().lower(): value.strip().decode()
                   for name, _, value in (line.partition(b":")
                                          for line in head.split(b"\r\n")[1:])}
        assert head.startswith(b"POST /hook HTTP/1.1\r\n")
        assert headers["webhook-id"] == f"evt-{n}"
        assert headers["content-type"] == "application/json"
        assert Webhook(SECRET).verify(body, headers)["data"] == {"order_id": f"O{n}"}


def test_a_kept_connection_the_receiver_closed_is_opened_again_for_the_next_webhook(
        serve, sender):
    server = serve(lambda _n, _head, _body: (NO_CONTENT, True))  # closes without saying so
    first = sender.send(message(server.url(), 1))
    time.sleep(0.05)  # the close has reached the sender's socket
    second = sender.send(message(server.url(), 2))
    assert (first.status_code, second.status_code) == (204, 204)
    assert server.connections == 2 and len(server.requests) == 2


def test_a_failing_answer_is_recorded_with_its_status_and_the_start_of_its_body(serve, sender):
    text = b"no such order " * 40
    reply = b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\n\r\n%s" % (len(text), text)
    server = serve(lambda _n, _head, _body: (reply, False))
    answer = sender.send(message(server.url()))
    assert answer.status_code == 500
    assert answer.error == "HTTP 500: " + text[:200].decode()
    assert sender.send(message(server.url(), 2)).status_code == 500
    assert server.connections == 1  # an answer read to its end leaves the connection usable


def test_an_answer_longer_than_is_read_closes_the_connection_and_the_next_opens_another(
        serve, sender):
    big = b"x" * (MAX_ANSWER_BYTES + 10)
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(big), big)
    server = serve(lambda _n, _head, _body: (reply, False))
    answers = [sender.send(message(server.url(), n)) for n in (1, 2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert server.connections == 2


def test_a_receiver_that_does_not_answer_in_time_is_a_timeout_answer(serve, sender):
    server = serve(lambda _n, _head, _body: (b"", False))  # reads, never answers
    started = time.monotonic()
    answer = sender.send(message(server.url()))
    assert answer.status_code is None and answer.error.startswith("timeout")
    assert 0.4 <= time.monotonic() - started < 2 and answer.latency_ms >= 400


def test_a_refused_connection_and_a_url_that_is_not_http_are_answers_without_status(sender):
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    refused = sender.send(message(f"http://127.0.0.1:{port}/hook"))
    assert refused.status_code is None and refused.error.startswith("ConnectionRefusedError")
    odd = sender.send(message("ftp://example.invalid/hook"))
    assert odd.status_code is None and odd.error.startswith("ValueError")


def test_sending_many_at_once_answers_each_in_order(serve):
    server = serve(lambda _n, _head, _body: (NO_CONTENT, False))
    many = Sender(4, 1.0)
    try:
        answers = many.send_all([message(server.url(), n) for n in range(1, 41)])
    finally:
        many.close()
    assert [a.delivery_id for a in answers] == list(range(1, 41))
    assert all(a.status_code == 204 for a in answers)
    assert 1 <= server.connections <= 4

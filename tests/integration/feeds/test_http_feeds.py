"""URL feeds polled against a local HTTP server: conditional GET, checksums, failures."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from service.feeds import sources
from service.services.feeds.running import run_feed
from service.store.models import StockPosition
from tests.integration.feeds.helpers import T1, T2, csv_text, stock


@dataclass
class Site:
    """What the local server serves, and the requests it saw."""

    body: bytes = b""
    status: int = 200
    etag: str | None = None
    last_modified: datetime | None = None
    delay: float = 0.0
    requests: list[dict[str, str]] = field(default_factory=list)


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
            site.requests.append(dict(self.headers))
            time.sleep(site.delay)
            if site.etag and self.headers.get("If-None-Match") == site.etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(site.status)
            if site.etag:
                self.send_header("ETag", site.etag)
            if site.last_modified:
                self.send_header("Last-Modified", format_datetime(site.last_modified, True))
            self.send_header("Content-Length", str(len(site.body)))
            self.end_headers()
            try:
                self.wfile.write(site.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test)

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def site() -> Iterator[tuple[Site, str]]:
    """A local HTTP server on a free port, and its base URL."""
    served = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def feeds(site: tuple[Site, str]) -> list[dict[str, Any]]:
    base = site[1]
    return [
        {"name": "web-counts", "kind": "stock_snapshot", "source": f"{base}/counts.csv",
         "format": "csv", "location": "DC-1", "every_seconds": 60},
        {"name": "web-down", "kind": "stock_delta", "format": "ndjson",
         "source": f"http://127.0.0.1:{_closed_port()}/deltas.ndjson"},
    ]


def test_a_url_body_is_applied_and_an_unchanged_one_is_not_fetched_again(small_network, site):
    served, _ = site
    served.body, served.etag = csv_text("sku,on_hand,as_of", f"A,5,{T1}").encode(), '"v1"'
    [run] = run_feed(small_network, "web-counts")
    assert run["status"] == "ok" and run["source"].endswith("/counts.csv")
    assert run_feed(small_network, "web-counts") == []
    assert served.requests[-1]["If-None-Match"] == '"v1"'
    assert stock(small_network, "DC-1") == {"A": 5}


def test_a_body_served_again_without_an_etag_is_not_applied_twice(small_network, site):
    served, _ = site
    served.body = csv_text("sku,on_hand", "A,5", "B,6").encode()
    assert len(run_feed(small_network, "web-counts")) == 1
    assert run_feed(small_network, "web-counts") == []
    assert len(served.requests) == 2 and "If-None-Match" not in served.requests[-1]


def test_a_changed_body_is_applied(small_network, site):
    served, _ = site
    served.body, served.etag = csv_text("sku,on_hand,as_of", f"A,5,{T1}").encode(), '"v1"'
    run_feed(small_network, "web-counts")
    served.body, served.etag = csv_text("sku,on_hand,as_of", f"A,8,{T2}").encode(), '"v2"'
    [run] = run_feed(small_network, "web-counts")
    assert run["applied"] == 1 and stock(small_network, "DC-1") == {"A": 8}


def test_as_of_defaults_to_the_last_modified_header(small_network, site):
    served, _ = site
    served.body = csv_text("sku,on_hand", "A,5").encode()
    served.last_modified = datetime(2026, 3, 1, 8, 15, tzinfo=UTC)
    run_feed(small_network, "web-counts")
    with small_network.sessions() as session:
        as_of = session.scalar(select(StockPosition.as_of).where(StockPosition.sku == "A"))
    assert as_of.replace(tzinfo=as_of.tzinfo or UTC) == served.last_modified


def test_a_server_error_is_a_failed_run_with_the_reason(small_network, site):
    served, _ = site
    served.status, served.body = 500, b"oops"
    [run] = run_feed(small_network, "web-counts")
    assert run["status"] == "failed" and "HTTP 500" in run["message"]
    served.status, served.body = 200, csv_text("sku,on_hand", "A,5").encode()
    assert [r["status"] for r in run_feed(small_network, "web-counts")] == ["ok"]


def test_an_unreachable_server_is_a_failed_run(small_network):
    [run] = run_feed(small_network, "web-down")
    assert run["status"] == "failed" and "cannot fetch" in run["message"]


def test_a_slow_server_times_out_as_a_failed_run(small_network, site, monkeypatch):
    monkeypatch.setattr(sources, "HTTP_TIMEOUT_SECONDS", 0.1)
    served, _ = site
    served.body, served.delay = b"sku,on_hand\nA,1\n", 0.5
    [run] = run_feed(small_network, "web-counts")
    assert run["status"] == "failed" and "timed out" in run["message"]

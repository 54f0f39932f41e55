"""Feed payloads know their size, and reading one through its meter counts bytes and rows."""

from __future__ import annotations

import io
import time
from email.message import Message

import pytest

from service.cli.progress import BYTES, ProgressBar
from service.feeds import sources
from service.feeds.readers import read_batch
from service.services.feeds import running as feeds

ROWS = 2500
TEXT = "sku,on_hand\n" + "".join(f"S{i},{i % 9}\n" for i in range(ROWS))


class Response(io.BytesIO):
    """What urlopen returns: the body, with headers."""

    def __init__(self, body: bytes) -> None:
        super().__init__(body)
        self.headers = Message()


def test_a_folder_file_is_sized_when_listed(tmp_path):
    (tmp_path / "a.csv").write_text(TEXT)
    [payload] = sources.directory_payloads(str(tmp_path / "*.csv"), now=time.time() + 60)
    assert payload.size == len(TEXT)


def test_an_http_body_is_sized_once_fetched(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sources.urllib.request, "urlopen",
                        lambda request, timeout: Response(TEXT.encode()))
    payload = sources.fetch_url("http://feeds.example/counts.csv")
    try:
        assert payload.size == len(TEXT)
        assert payload.open().read() == TEXT.encode()
    finally:
        payload.release()


def test_a_payload_read_through_its_meter_counts_every_byte_once_and_every_row(tmp_path):
    (tmp_path / "a.csv").write_text(TEXT)
    [payload] = sources.directory_payloads(str(tmp_path / "*.csv"), now=time.time() + 60)
    bar = ProgressBar("feed counts, a.csv", total=payload.size, unit=BYTES)
    with feeds._metered(payload, bar).open() as stream:
        batch = read_batch(stream, "csv", bar.add_rows)
    assert (bar.done, bar.rows, batch.rows_read) == (len(TEXT), ROWS, ROWS)
    assert stream.closed

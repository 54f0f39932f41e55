"""The request log line, written straight to the log's stream while the log is as
install_log set it, is the text logging itself writes; any other set-up goes through
logging (its handlers, filters and propagation decide)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from service.api import boundary


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    boundary.install_log()
    handler = boundary._HANDLER[0]
    assert handler is not None
    kept = handler.stream
    text = io.StringIO()
    handler.setStream(text)
    try:
        yield text
    finally:
        handler.setStream(kept)


def _lines(text: io.StringIO) -> list[str]:
    return text.getvalue().splitlines(keepends=True)


def test_the_line_written_directly_is_the_line_logging_writes(stream: io.StringIO) -> None:
    boundary.write_log_line("GET", "/v1/availability", 200, None, "r-1", 'oms_"\\é')
    direct = _lines(stream)
    stream.seek(0)
    stream.truncate()
    boundary.log.addFilter(lambda record: True)  # no longer as installed: through logging
    try:
        boundary.write_log_line("GET", "/v1/availability", 200, None, "r-1", 'oms_"\\é')
    finally:
        boundary.log.filters.clear()
    assert direct == _lines(stream) == [
        '{"method": "GET", "path": "/v1/availability", "status": 200, "duration_ms": null, '
        '"request_id": "r-1", "key_id": "oms_\\"\\\\é"}\n']


def test_a_filter_or_another_handler_still_decides(stream: io.StringIO) -> None:
    seen: list[str] = []
    boundary.log.addFilter(lambda record: False)
    try:
        boundary.write_log_line("GET", "/x", 200, None, "r-2", None)
    finally:
        boundary.log.filters.clear()
    other = logging.Handler()
    other.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    boundary.log.addHandler(other)
    try:
        boundary.write_log_line("GET", "/x", 200, None, "r-3", None)
    finally:
        boundary.log.removeHandler(other)
    assert stream.getvalue().count("\n") == 1 and '"r-3"' in stream.getvalue()
    assert len(seen) == 1 and '"r-3"' in seen[0]

"""Where feed content comes from: files matching a glob, or the body of an HTTP(S) URL.

Each piece of content is a `Payload` named by its SHA-256, so the use case can tell what it
has already applied before reading a single row. A file is hashed in chunks and read again
only if it is new; an HTTP body is streamed once into a spooled temporary file while hashed.
"""

from __future__ import annotations

import glob
import hashlib
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO

CHUNK = 1 << 20
# A file modified this recently may still be being written: it waits for the next run.
SETTLE_SECONDS = 2.0
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".swp")
HTTP_TIMEOUT_SECONDS = 30.0
MAX_HTTP_BYTES = 2 << 30
SPOOL_IN_MEMORY_BYTES = 8 << 20


class FeedSourceFailed(Exception):
    """The source could not be read (a missing folder, an HTTP error, a timeout)."""


@dataclass
class Payload:
    """One file or HTTP body: where it came from, its checksum, when it was written and its
    size in bytes (None when unknown)."""

    source: str
    checksum: str
    modified: datetime | None
    open: Callable[[], IO[bytes]]
    validators: dict[str, str] = field(default_factory=dict)
    release: Callable[[], None] = lambda: None
    size: int | None = None


def directory_payloads(pattern: str, now: float | None = None) -> Iterator[Payload]:
    """Settled files matching the glob, in name order, each with its checksum."""
    now = time.time() if now is None else now
    folder = _fixed_prefix(pattern)
    if not folder.is_dir():
        raise FeedSourceFailed(f"the folder {folder} does not exist")
    for name in sorted(glob.glob(pattern, recursive=True)):
        path = Path(name)
        if not path.is_file() or path.name.startswith(".") or name.endswith(IGNORED_SUFFIXES):
            continue
        try:
            stat = path.stat()
            if now - stat.st_mtime < SETTLE_SECONDS:
                continue
            checksum = file_checksum(path)
        except FileNotFoundError:
            continue  # moved away (archived by another reader) since the listing
        yield Payload(str(path), checksum, datetime.fromtimestamp(stat.st_mtime, UTC),
                      lambda p=path: open(p, "rb"), size=stat.st_size)


def _fixed_prefix(pattern: str) -> Path:
    """The folder part of a glob, before its first wildcard."""
    fixed = []
    for part in Path(pattern).parts[:-1]:
        if any(c in part for c in "*?["):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def file_checksum(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_url(url: str, validators: dict[str, str] | None = None,
              timeout: float | None = None) -> Payload | None:
    """GET url (conditional when validators hold an ETag or Last-Modified); None if 304."""
    request = urllib.request.Request(url, headers=_conditional_headers(validators or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout or HTTP_TIMEOUT_SECONDS) as response:
            body, checksum = _spool(response)
            headers = response.headers
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return None
        raise FeedSourceFailed(f"HTTP {exc.code} {exc.reason} from {url}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FeedSourceFailed(f"cannot fetch {url}: {reason}") from exc
    modified = _http_time(headers.get("Last-Modified")) or _http_time(headers.get("Date"))
    kept = {k: headers[k] for k in ("ETag", "Last-Modified") if headers.get(k)}

    def reopen() -> IO[bytes]:
        body.seek(0)
        return body

    return Payload(url, checksum, modified, reopen, kept, release=body.close,
                   size=body.tell())


def _conditional_headers(validators: dict[str, str]) -> dict[str, str]:
    headers = {"User-Agent": "oms-feeds/1", "Accept-Encoding": "identity"}
    if validators.get("ETag"):
        headers["If-None-Match"] = validators["ETag"]
    if validators.get("Last-Modified"):
        headers["If-Modified-Since"] = validators["Last-Modified"]
    return headers


def _spool(response: IO[bytes]) -> tuple[IO[bytes], str]:
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)
    digest, size = hashlib.sha256(), 0
    while chunk := response.read(CHUNK):
        size += len(chunk)
        if size > MAX_HTTP_BYTES:
            body.close()
            raise FeedSourceFailed(f"the body is larger than {MAX_HTTP_BYTES} bytes")
        digest.update(chunk)
        body.write(chunk)
    return body, digest.hexdigest()


def _http_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

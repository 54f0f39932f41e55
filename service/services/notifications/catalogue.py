"""The version of an event type, from the event catalogue (schemas/events/<type>.schema.json,
`properties.version.const`); 1 for a type the catalogue does not describe."""

from __future__ import annotations

import functools
import json
import logging

from service.settings import SCHEMAS_DIR

DEFAULT_VERSION = 1
log = logging.getLogger(__name__)


@functools.cache
def event_version(event_type: str) -> int:
    """The catalogue's version of event_type (read once per process)."""
    path = SCHEMAS_DIR / "events" / f"{event_type}.schema.json"
    if not path.is_file():
        return DEFAULT_VERSION
    try:
        version = json.loads(path.read_text(encoding="utf-8"))["properties"]["version"]["const"]
    except (ValueError, KeyError, TypeError):
        log.warning("%s names no properties.version.const; sending version %s", path,
                    DEFAULT_VERSION)
        return DEFAULT_VERSION
    return version if isinstance(version, int) else DEFAULT_VERSION

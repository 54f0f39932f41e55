"""SQLite connection setup the SQL compiled from rules relies on."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _regexp(pattern: str | None, value: str | None) -> int | None:
    if pattern is None or value is None:
        return None
    return 1 if _compiled(pattern).search(value) else 0


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def install_sqlite_functions(dbapi_connection: Any, connection_record: Any = None) -> None:
    """Configure a sqlite3 connection: case-sensitive LIKE, ``regexp`` and ``rules_lower``.

    Usable directly as a SQLAlchemy ``connect`` event listener.
    """
    dbapi_connection.create_function("regexp", 2, _regexp, deterministic=True)
    dbapi_connection.create_function("rules_lower", 1, _lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA case_sensitive_like = ON")
    finally:
        cursor.close()

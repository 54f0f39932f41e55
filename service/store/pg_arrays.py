"""PostgreSQL array parameters as their text (`{...}`), cast to the array type in the SQL.

psycopg dumps a Python list element by element through its generic adapters, which cost
about 0.2 ms for the few dozen SKUs and locations of an order's reads; the array's text,
built here, goes as one parameter and PostgreSQL parses it (`CAST(%s AS text[])`), so the
statement and its plan are the same.
"""

from __future__ import annotations

from collections.abc import Iterable


def text_array(values: Iterable[str]) -> str:
    """`{"a","b"}`: every element quoted (so NULL, commas, braces and spaces stay text), its
    backslashes and double quotes escaped."""
    return "{" + ",".join(['"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
                           for value in values]) + "}"


def int_array(values: Iterable[int]) -> str:
    """`{1,2,3}`."""
    return "{" + ",".join([str(int(value)) for value in values]) + "}"

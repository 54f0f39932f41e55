"""A fast acceptance check of a JSON Schema (draft 7) for the usual, valid payload.

`compile_accepts(schema)` gives a function that returns True only when jsonschema would find
no problem in the payload, and False whenever it is unsure (any payload it does not accept
goes through jsonschema, which names every problem). A schema using a keyword this module does
not know compiles to None: jsonschema alone checks it. Formats are annotations here, as for
service.payloads' validators (no format checker).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Accepts = Callable[[Any], bool]
ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "format", "examples",
                         "default", "$comment", "readOnly", "writeOnly"})
_NUMBER = (int, float)
# the exact types json.loads gives; a value of any other type (a subclass, a Decimal): unsure
_PLAIN = frozenset({str, int, float, bool, type(None), list, dict})
_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int or (type(v) is float and v.is_integer()),
    "number": lambda v: type(v) in _NUMBER,
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
}


class Unknown(Exception):
    """A keyword (or form of one) the fast check leaves to jsonschema."""


def compile_accepts(schema: Any) -> Accepts | None:
    """The fast check of schema, or None when only jsonschema can check it."""
    try:
        return _compile(schema)
    except Unknown:
        return None


def _compile(schema: Any) -> Accepts:
    if not isinstance(schema, dict):
        raise Unknown(schema)
    checks = [_keyword(name, value, schema) for name, value in schema.items()
              if name not in ANNOTATIONS]
    checks = [c for c in checks if c is not None]
    return lambda value: type(value) in _PLAIN and all(check(value) for check in checks)


def _keyword(name: str, value: Any, schema: dict[str, Any]) -> Accepts | None:
    if name == "type":
        kinds = [value] if isinstance(value, str) else value
        if not isinstance(kinds, list) or not all(k in _TYPES for k in kinds):
            raise Unknown(value)
        tests = [_TYPES[k] for k in kinds]
        return lambda v: any(t(v) for t in tests)
    if name in _STRINGS:
        return _STRINGS[name](value)
    if name in ("minimum", "maximum"):
        if type(value) not in _NUMBER:
            raise Unknown(value)
        if name == "minimum":
            return lambda v: type(v) not in _NUMBER or not v < value
        return lambda v: type(v) not in _NUMBER or not v > value
    if name in ("minItems", "maxItems", "items"):
        return _array(name, value)
    if name in ("properties", "required", "additionalProperties"):
        return _object(name, value, schema)
    if name == "enum" and isinstance(value, list):
        texts = frozenset(e for e in value if type(e) is str)
        return lambda v: type(v) is str and v in texts  # anything else: jsonschema decides
    raise Unknown(name)


def _length(limit: Any, longest: bool) -> Accepts:
    if type(limit) is not int:
        raise Unknown(limit)
    if longest:
        return lambda v: type(v) is not str or len(v) <= limit
    return lambda v: type(v) is not str or len(v) >= limit


def _pattern(text: Any) -> Accepts:
    pattern = re.compile(text)
    return lambda v: type(v) is not str or pattern.search(v) is not None


_STRINGS: dict[str, Callable[[Any], Accepts]] = {
    "minLength": lambda n: _length(n, longest=False),
    "maxLength": lambda n: _length(n, longest=True),
    "pattern": _pattern,
}


def _array(name: str, value: Any) -> Accepts:
    if name == "items":
        each = _compile(value)  # a list of schemas (tuple validation) is Unknown
        return lambda v: type(v) is not list or all(each(item) for item in v)
    if type(value) is not int:
        raise Unknown(value)
    if name == "minItems":
        return lambda v: type(v) is not list or len(v) >= value
    return lambda v: type(v) is not list or len(v) <= value


def _object(name: str, value: Any, schema: dict[str, Any]) -> Accepts | None:
    if name == "properties":
        subs = {key: _compile(sub) for key, sub in value.items()}
        return lambda v: type(v) is not dict or all(
            subs[key](item) for key, item in v.items() if key in subs)
    if name == "required":
        names = list(value)
        return lambda v: type(v) is not dict or all(key in v for key in names)
    if value is True:
        return None
    if value is not False or "patternProperties" in schema:
        raise Unknown(value)
    known = frozenset(schema.get("properties", {}))
    return lambda v: type(v) is not dict or known.issuperset(v)

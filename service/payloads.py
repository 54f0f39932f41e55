"""Payload validation against the JSON Schemas in schemas/api (one source with OpenAPI)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema import Draft7Validator

from service.errors import ValidationFailed, problem
from service.payload_checks import Accepts, compile_accepts
from service.settings import load_schema


@lru_cache(maxsize=64)
def validator(name: str) -> Draft7Validator:
    """A cached validator for schemas/api/<name>.schema.json."""
    return Draft7Validator(load_schema(f"api/{name}.schema.json"))


@lru_cache(maxsize=64)
def fast_accepts(name: str) -> Accepts | None:
    """The fast acceptance check of schemas/api/<name>.schema.json (None: jsonschema only)."""
    return compile_accepts(load_schema(f"api/{name}.schema.json"))


def check(name: str, payload: Any, prefix: str = "") -> list[dict[str, Any]]:
    """Every problem of payload against schema name, each with its JSON pointer (a payload
    the fast check accepts has none; any other goes through jsonschema)."""
    accepts = fast_accepts(name)
    if accepts is not None and accepts(payload):
        return []
    found = []
    for error in validator(name).iter_errors(payload):
        pointer = prefix + "".join(f"/{p}" for p in error.absolute_path)
        found.append(problem(pointer, _message(error)))
    return sorted(found, key=lambda p: p["pointer"])


def require(name: str, payload: Any, prefix: str = "") -> None:
    """Raise ValidationFailed naming every problem, if there is any."""
    problems = check(name, payload, prefix)
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in the request.", problems)


def _message(error: Any) -> str:
    if error.validator == "required":
        return error.message.replace("is a required property", "is required")
    if error.validator == "additionalProperties":
        return error.message + " (unknown field)"
    return error.message


def coerce_text_row(name: str, row: dict[str, Any]) -> dict[str, Any]:
    """Turn CSV text values into the schema's types (numbers, booleans, '|'-separated lists)."""
    props = load_schema(f"api/{name}.schema.json").get("properties", {})
    return {key: _coerce(props.get(key, {}), value) for key, value in row.items()}


def _coerce(spec: dict[str, Any], value: Any) -> Any:
    if not isinstance(value, str):
        return value
    kind = spec.get("type")
    converters = {
        "integer": int,
        "number": float,
        "boolean": _boolean,
        "array": lambda v: [x for x in v.split("|") if x],
    }
    try:
        return converters[kind](value) if kind in converters else value
    except ValueError:
        return value  # left as text: the schema check then names the field


def _boolean(value: str) -> bool | str:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    return value

"""JSON Schema (draft-07) validation of rule documents, as located findings."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

from service.rules.source import pointer_join
from service.rules.validation import Finding
from service.settings import load_schema


@lru_cache(maxsize=1)
def ruleset_schema() -> dict[str, Any]:
    """The ruleset JSON Schema shipped in ``schemas/``."""
    return load_schema("ruleset.schema.json")


@lru_cache(maxsize=1)
def _validator() -> Draft7Validator:
    return Draft7Validator(ruleset_schema())


def schema_findings(doc: Any) -> Iterator[Finding]:
    """Every schema violation of ``doc``, pointed at the offending node."""
    return validator_findings(_validator(), doc)


def validator_findings(validator: Draft7Validator, doc: Any) -> Iterator[Finding]:
    """Every violation of ``doc`` against one validator's schema, as located findings."""
    for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        pointer = ""
        for part in error.absolute_path:
            pointer = pointer_join(pointer, part)
        yield from _describe(error, pointer)


def _describe(error: ValidationError, pointer: str) -> Iterator[Finding]:
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        for key in error.instance:
            if key not in known:
                expected = ", ".join(known) or "nothing"
                yield Finding(
                    pointer_join(pointer, key),
                    f"unknown key '{key}' (expected: {expected})",
                    code="unknown-key",
                )
        return
    code = "unknown-action" if pointer.endswith("/name") and "/actions/" in pointer else "schema"
    yield Finding(pointer, error.message, code=code)

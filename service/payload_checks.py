"""A fast acceptance check of a JSON Schema (draft 7) for the usual, valid payload.

`compile_accepts(schema)` gives a function that is True when the payload is valid, by
fastjsonschema's validator generated from the schema as Python code (several times faster
than jsonschema's interpreted walk). It only ever says "valid": a payload it refuses goes
through jsonschema, which names every problem with its pointer (fastjsonschema stops at the
first). Defaults are not filled in (the payload is never changed) and formats stay
annotations, as for service.payloads' jsonschema validators (no format checker). A schema it
cannot compile gives None: jsonschema alone checks it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fastjsonschema

Accepts = Callable[[Any], bool]


def compile_accepts(schema: Any) -> Accepts | None:
    """The fast check of schema, or None when only jsonschema can check it."""
    try:
        validate = fastjsonschema.compile(schema, use_default=False, use_formats=False)
    except fastjsonschema.JsonSchemaDefinitionException:
        return None

    def accepts(payload: Any) -> bool:
        try:
            validate(payload)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return True

    return accepts

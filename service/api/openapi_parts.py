"""The shared pieces of the OpenAPI document: roles, query parameters and headers by name,
the problem responses, request bodies (JSON, CSV, NDJSON) and the rules the service enforces
in code that JSON Schema can still state (so a client and the fuzzer know them)."""

from __future__ import annotations

from typing import Any

INFO_DESCRIPTION = (
    "Per-channel availability, sourcing, orders and fulfilment driven by versioned rule "
    "files. Every error is RFC 9457 application/problem+json with a stable `code`, the "
    "request's `request_id` and, for validation, each problem with its JSON pointer (and "
    "line, for CSV and NDJSON bodies). A NUL character (U+0000) in any text is refused "
    "with 422. Every response carries `X-Request-Id`.")

ROLE_TEXT = {
    "admin": "`admin`",
    "channel": "`channel:<name>` for its own channel",
    "location": "`location:<id>` for its own location",
    "erp": "`erp` (the ERP's key: what leaves for the ERP)",
    "any": "any valid key",
}

PATH_ID = {"type": "string", "minLength": 1}
_LIMIT = {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 64}
_TIME = {"type": "string", "format": "date-time"}
_SEARCH_TEXT = {"type": "string", "minLength": 1, "maxLength": 128}
_ZONED_TIME = {"type": "string", "format": "date-time", "pattern": (
    r"^\d{4}-\d\d-\d\dT([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?"
    r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$")}


def _query(name: str, schema: dict[str, Any], description: str, required: bool = False,
           **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": description, **extra}


PARAMETERS: dict[str, Any] = {
    "channel": _query("channel", _TEXT, "the channel (a channel key: its own)", True),
    "skus": _query("sku", {"type": "array", "minItems": 1, "maxItems": 200, "items": _TEXT},
                   "one or more skus, repeated: sku=A&sku=B", True, style="form",
                   explode=True),
    "detail": _query("detail", {"enum": ["locations"]},
                     "locations: every location's stock, ATS and the rules that shaped it"),
    "pickup_location": _query("location", _TEXT, "one store: its pickup availability"),
    "availability_unit": _query("unit", _TEXT,
                                "the experiment unit (e.g. the customer id): in a running "
                                "experiment of the channel, its variant's ruleset's figures"),
    "limit": _query("limit", _LIMIT, "page size"),
    "after": _query("after", {"type": "string"},
                    "the cursor: the previous page's last id (`next`, or the Link header's)"),
    "search": _query("q", {"type": "string", "maxLength": 64},
                     "only those whose key or name holds this text (any case)"),
    "queue_status": _query("status", {"enum": ["created", "accepted", "picked", "packed",
                                               "shipped", "delivered", "rejected",
                                               "cancelled"]},
                           "only fulfilments in this status (default: the open ones)"),
    "push_location": _query("location", _TEXT,
                            "the location of CSV/NDJSON rows without a location column (a "
                            "JSON body's `location` wins)"),
    "push_as_of": _query("as_of", _TIME, "when the rows were true (a JSON body's `as_of` "
                                         "wins); deltas default to the time received"),
    "force": _query("force", {"enum": ["true", "false", "1", "0", "yes", "no"],
                              "default": "false"},
                    "true: apply a snapshot that breaks the zeroing limit"),
    "feed": _query("feed", {"type": "string"},
                   "only this feed's runs (a push is push:snapshot:<location> or "
                   "push:deltas)"),
    "runs_limit": _query("limit", {"type": "integer", "minimum": 1, "maximum": 500,
                                   "default": 50}, "how many runs, newest first"),
    "filename": _query("filename", {"type": "string"},
                       "the name to check the text as (rulesets/<name>/v<N>.yaml checks "
                       "name and version against it)"),
    "order_status": _query("status", {"enum": ["created", "in_progress", "partially_shipped",
                                               "shipped", "delivered", "backordered",
                                               "partially_backordered", "cancelled",
                                               "partially_returned", "returned"]},
                           "only orders in this status"),
    "order_channel": _query("channel", _SEARCH_TEXT,
                            "only this channel's orders (a channel key: its own, else 403)"),
    "customer_id": _query("customer_id", _SEARCH_TEXT, "only this customer's orders"),
    "order_ref": _query("order_ref", _SEARCH_TEXT, "only orders with this reference"),
    "order_sku": _query("sku", _SEARCH_TEXT, "only orders with a line of this sku"),
    "order_location": _query("location", _SEARCH_TEXT,
                             "only orders with a fulfilment at this location"),
    "created_from": _query("created_from", _ZONED_TIME,
                           "only orders created at or after this time (ISO 8601 with a zone)"),
    "created_to": _query("created_to", _ZONED_TIME,
                         "only orders created before this time (ISO 8601 with a zone)"),
    "order_after": _query("after", {"type": "string"},
                          "the cursor: the previous page's last order id (the Link header's); "
                          "an unknown one is a 422"),
    "experiment_unit": _query("unit", {"type": "string", "minLength": 1, "maxLength": 128},
                              "the unit to assign: a customer_id, or a request's `unit`; "
                              "without one the answer is the active ruleset"),
    "experiment_channel": _query("channel", _TEXT,
                                 "the channel asking (a channel key: its own, the default)"),
    "settlements_since": _query("since", {"type": "string", "pattern": "^[0-9]{1,18}$"},
                                "the cursor: a settlement record id, the list starts after it "
                                "(the previous page's `next`, or the Link header's); default 0, "
                                "from the first record; anything else is a 422"),
    "journal_location": _query("location", _TEXT, "the position's location (a location "
                               "key: its own)", True),
    "journal_sku": _query("sku", _TEXT, "the position's sku", True),
    "journal_since": _query("since", _ZONED_TIME, "only changes at or after this time"),
    "journal_order": _query("order", {"enum": ["newest", "oldest"], "default": "newest"},
                            "newest first (default) or oldest first"),
    "journal_after": _query("after", {"type": "string", "pattern": r"^\d{1,18}$"},
                            "the cursor: the previous page's last id (the Link header's)"),
    "as_of_at": _query("at", _ZONED_TIME, "the time (ISO 8601 with a zone)", True),
    "as_of_skus": _query("sku", {"type": "array", "minItems": 1, "maxItems": 200,
                                 "items": _TEXT},
                         "one or more skus, repeated: sku=A&sku=B", True, style="form",
                         explode=True),
    "as_of_location": _query("location", _TEXT, "one location (a location key: its own; "
                             "default: every location)"),
    "delivery_status": _query("status", {"enum": ["queued", "pending", "in_flight",
                                                  "delivered", "failed", "dead"]},
                              "only deliveries in this status (queued: behind an earlier "
                              "event of its order; failed: retrying; dead: dead letters)"),
    "Idempotency-Key": {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"\S"},
        "description": "makes retries safe: the same key and body answer as the first time; "
                       "the same key with another body is a 422"},
    "OMS-Consistency-Token": {
        "name": "OMS-Consistency-Token", "in": "header", "required": False,
        "schema": {"type": "string", "maxLength": 64,
                   "pattern": "^pg:[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$"},
        "description": "with read replicas (database.read_urls): a write's token; the lookup "
                       "is then served by a replica that has replayed past it, or by the "
                       "primary, so it shows that write (a malformed token is a 422). Without "
                       "it a replica at most database.read_max_lag_ms behind may answer. "
                       "Ignored without read replicas"},
}

HEADERS: dict[str, Any] = {
    "X-Request-Id": {"description": "the request's id (the caller's X-Request-Id when sane, "
                                    "else a new one); also in every problem and log line",
                     "required": True, "schema": {"type": "string"}},
    "Location": {"description": "the URL of what was created", "required": True,
                 "schema": {"type": "string"}},
    "Link": {"description": 'the next page, `<url>; rel="next"`, when there may be one',
             "required": False, "schema": {"type": "string"}},
    "Retry-After": {"description": "seconds to wait before retrying", "required": True,
                    "schema": {"type": "string"}},
    "OMS-Consistency-Token": {
        "description": "with read replicas (database.read_urls) only: the primary's commit "
                       "position after this write (pg:<hex>/<hex>); send it back on an "
                       "availability read to see this write",
        "required": False, "schema": {"type": "string"}},
    "WWW-Authenticate": {"description": "the scheme to authenticate with", "required": True,
                         "schema": {"type": "string"}},
}

_PROBLEMS = {
    400: "The body cannot be read (not JSON, not UTF-8, empty)",
    401: "No key, or an unknown or revoked one",
    403: "The key's role may not do this",
    404: "Not found (or not visible to this key)",
    409: "Conflict with the current state",
    413: "The body is larger than server.max_request_bytes",
    422: "The request breaks the contract: every problem with its JSON pointer",
    503: "The database cannot be reached; nothing was done; retry after Retry-After",
}


def problem_responses() -> dict[str, Any]:
    """One reusable problem+json response per status."""
    out = {}
    for status, text in _PROBLEMS.items():
        answer: dict[str, Any] = {
            "description": text,
            "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/problem"}}},
            "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}}
        if status in (401, 503):
            name = "WWW-Authenticate" if status == 401 else "Retry-After"
            answer["headers"][name] = {"$ref": f"#/components/headers/{name}"}
        out[str(status)] = answer
    out["414"] = {"description": "The request line is longer than the server takes (8,190 "
                                 "bytes): ask for many skus with POST instead",
                  "content": {"text/html": {"schema": {"type": "string"}}}}
    return out


TEXT_BODY = {"type": "string", "minLength": 1}
OTHER_RESPONSES = {"metrics": {"type": "string"}, "openapi": {"type": "object"}}


def request_body(schema: str, array: bool, text_bodies: bool, required: bool) -> dict:
    """A request body: JSON of the schema (or an array of it), and CSV/NDJSON text when the
    operation takes rows."""
    ref: dict[str, Any] = {"$ref": f"#/components/schemas/{schema}"}
    if array:
        ref = {"type": "array", "items": ref, "minItems": 1, "maxItems": 100_000}
    content: dict[str, Any] = {"application/json": {"schema": ref}}
    if schema == "ruleset_text":
        content = {"text/plain": {"schema": TEXT_BODY}}  # YAML or JSON text, any type
    if text_bodies:
        content["text/csv"] = {"schema": TEXT_BODY}
        content["application/x-ndjson"] = {"schema": TEXT_BODY}
    return {"required": required, "content": content}


# Enforced by the service's code (with messages that say more than a schema error would);
# stated here so that the document describes every request the service accepts.
ENFORCED_IN_CODE: dict[str, dict[str, Any]] = {
    "plan_request": {"allOf": [
        {"if": {"properties": {"attributes": {"properties": {
            "delivery_method": {"const": "pickup"}}, "required": ["delivery_method"]}},
            "required": ["attributes"]},
         "then": {"required": ["pickup_location"]},
         "else": {"required": ["ship_to"]}},
        {"properties": {"ship_to": {
            "dependentRequired": {"lat": ["lon"], "lon": ["lat"]},
            "anyOf": [{"required": ["lat", "lon"]}, {"required": ["postal_code"]}]}}},
    ]},
    "transfer_event": {"if": {"properties": {"type": {"const": "received"}}},
                       "then": {"required": ["lines"]},
                       "else": {"not": {"anyOf": [{"required": ["lines"]},
                                                  {"required": ["discrepancy"]}]}}},
}

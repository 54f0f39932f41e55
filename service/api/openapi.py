"""OpenAPI 3.1 generated from the routes, the facts each view declares with @documented, and
the payload schemas in schemas/api (the same files the service validates with)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask

from service.api import openapi_parts as parts
from service.api import openapi_webhooks
from service.api.consistency import TOKEN_HEADER, is_write
from service.settings import SCHEMAS_DIR, load_schema

F = TypeVar("F", bound=Callable[..., Any])


def documented(
    summary: str,
    request: str | None = None,
    response: str | None = None,
    array: bool = False,
    status: int = 200,
    *,
    also: tuple[int, ...] = (),
    roles: tuple[str, ...] | None = None,
    errors: tuple[int, ...] = (),
    query: tuple[str, ...] = (),
    headers: tuple[str, ...] = (),
    text_bodies: bool = False,
    body_optional: bool = False,
    response_array: bool = False,
    response_headers: tuple[str, ...] = (),
    links: dict[str, dict[str, Any]] | None = None,
    public: bool = False,
) -> Callable[[F], F]:
    """Attach OpenAPI facts to a view: summary, who may call it (roles, or public), its
    request (schema name, an array of it, CSV/NDJSON too), query parameters and headers by
    name (openapi_parts), response schema and status, the error statuses it can answer and
    the links from its response to the next operations; `also`: other success statuses
    answering the same schema (a publish that finds the text published: 200). Without
    `roles`, they follow the view's auth decorator: admin_only is admin, authenticated is
    any valid key."""

    def decorate(view: F) -> F:
        view._oms_doc = {  # type: ignore[attr-defined]
            "summary": summary, "request": request, "response": response, "array": array,
            "status": status, "also": also, "roles": () if public else roles, "errors": errors,
            "query": query, "headers": headers, "text_bodies": text_bodies,
            "body_optional": body_optional, "response_array": response_array,
            "response_headers": response_headers, "links": links or {}, "public": public,
        }
        return view

    return decorate


def build_spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI document for every documented route of app."""
    paths: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        doc = getattr(view, "_oms_doc", None)
        if doc is None:
            continue
        path = "".join(_strip_converter(part) for part in
                       rule.rule.replace("<", "{").replace(">", "}").split("{"))
        integers = {name for name, conv in rule._converters.items()  # noqa: SLF001
                    if type(conv).__name__ == "IntegerConverter"}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if doc["roles"] is None:
                doc = doc | {"roles": _roles_of(view)}
            written = doc
            if is_write(method, rule.endpoint):  # with read replicas: its consistency token
                written = doc | {"response_headers": (*doc["response_headers"], TOKEN_HEADER)}
            paths.setdefault(path, {})[method.lower()] = _operation(
                view.__name__, written, sorted(rule.arguments), integers)
    return {
        "openapi": "3.1.0",
        "info": {"title": "OMS rules service", "version": "1",
                 "description": parts.INFO_DESCRIPTION},
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "paths": paths,
        "webhooks": openapi_webhooks.webhooks(),  # what subscribers receive (event catalogue)
        "components": {
            "schemas": _component_schemas(),
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "An API key (`oms keys create --role ROLE`); the security "
                               "requirement of an operation lists the roles it admits"}},
            "responses": parts.problem_responses(),
            "parameters": parts.PARAMETERS,
            "headers": parts.HEADERS,
        },
        "security": [{"bearer": []}],
    }


def _roles_of(view: Any) -> tuple[str, ...]:
    return ("admin",) if getattr(view, "_oms_auth", None) == "admin" else ("any",)


def _strip_converter(part: str) -> str:
    if "}" not in part:
        return part
    name, _, rest = part.partition("}")
    return "{" + name.split(":")[-1] + "}" + rest


def _operation(name: str, doc: dict[str, Any], arguments: list[str],
               integers: set[str]) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": name, "summary": doc["summary"],
                          "description": _who(doc), "responses": _responses(doc)}
    parameters = [{"name": a, "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647}
                   if a in integers else parts.PATH_ID} for a in arguments]
    parameters += [{"$ref": f"#/components/parameters/{q}"} for q in doc["query"]]
    parameters += [{"$ref": f"#/components/parameters/{h}"} for h in doc["headers"]]
    if parameters:
        op["parameters"] = parameters
    if doc["request"]:
        op["requestBody"] = parts.request_body(doc["request"], doc["array"], doc["text_bodies"],
                                               not doc["body_optional"])
    op["security"] = [] if doc["public"] else [{"bearer": list(doc["roles"])}]
    return op


def _who(doc: dict[str, Any]) -> str:
    if doc["public"]:
        return "Open to anyone: no key needed."
    return "Roles allowed: " + "; ".join(parts.ROLE_TEXT[r] for r in doc["roles"]) + "."


def _responses(doc: dict[str, Any]) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": {200: "OK", 204: "No Content"}.get(
        doc["status"], "Created")}
    schema = doc["response"]
    if schema:
        ref: dict[str, Any] = parts.OTHER_RESPONSES.get(schema) or {
            "$ref": f"#/components/schemas/{schema}"}
        if doc["response_array"]:
            ref = {"type": "array", "items": ref}
        media = "text/plain" if schema == "metrics" else "application/json"
        ok["content"] = {media: {"schema": ref}}
    ok["headers"] = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}} | {
        h: {"$ref": f"#/components/headers/{h}"} for h in doc["response_headers"]}
    if doc["links"]:
        ok["links"] = doc["links"]
    statuses = set(doc["errors"])
    if not doc["public"]:
        statuses |= {401, 503}
    if doc["request"]:
        statuses |= {400, 413, 422}
    answers = {str(doc["status"]): ok}
    for other in doc["also"]:
        answers[str(other)] = ok | {"description": "OK"}
        answers[str(other)]["headers"] = {k: v for k, v in ok["headers"].items()
                                          if k != "Location"}
    answers |= {str(s): {"$ref": f"#/components/responses/{s}"} for s in sorted(statuses)}
    if schema == "health":  # down is an answer too, not a problem
        answers["503"] = ok | {"description": "The database cannot be reached"}
    return answers


def _component_schemas() -> dict[str, Any]:
    schemas = {}
    for path in sorted((SCHEMAS_DIR / "api").glob("*.schema.json")):
        name = path.name.removesuffix(".schema.json")
        schema = load_schema(f"api/{name}.schema.json")
        schemas[name] = {k: v for k, v in schema.items() if not k.startswith("$")}
        schemas[name] |= parts.ENFORCED_IN_CODE.get(name, {})
    return schemas

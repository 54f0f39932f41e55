"""OpenAPI 3.0 generated from the routes and the payload schemas in schemas/api."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask

from service.settings import SCHEMAS_DIR, load_schema

F = TypeVar("F", bound=Callable[..., Any])


def documented(
    summary: str,
    request: str | None = None,
    response: str | None = None,
    array: bool = False,
    status: int = 200,
) -> Callable[[F], F]:
    """Attach OpenAPI facts to a view: summary, request and response schema names."""

    def decorate(view: F) -> F:
        view._oms_doc = {  # type: ignore[attr-defined]
            "summary": summary,
            "request": request,
            "response": response,
            "array": array,
            "status": status,
        }
        return view

    return decorate


def build_spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI document for every documented route of app."""
    paths: dict[str, Any] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        doc = getattr(view, "_oms_doc", None)
        if doc is None:
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        path = "".join(_strip_converter(part) for part in path.split("{"))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(view, doc, rule.arguments)
    return {
        "openapi": "3.0.3",
        "info": {"title": "OMS rules service", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": _component_schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _strip_converter(part: str) -> str:
    if "}" not in part:
        return part
    name, _, rest = part.partition("}")
    return "{" + name.split(":")[-1] + "}" + rest


def _operation(view: Any, doc: dict[str, Any], arguments: set[str]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": doc["summary"],
        "responses": {
            str(doc["status"]): _content(doc["response"], False, "OK"),
            "default": _content("problem", False, "Problem (RFC 9457)", "application/problem+json"),
        },
    }
    if arguments:
        op["parameters"] = [
            {"name": a, "in": "path", "required": True, "schema": {"type": "string"}}
            for a in sorted(arguments)
        ]
    if doc["request"]:
        op["requestBody"] = {"required": True, **_content(doc["request"], doc["array"], "")}
    auth = getattr(view, "_oms_auth", None)
    if auth:
        op["description"] = f"Requires a key with role: {auth}."
    return op


def _content(
    schema: str | None, array: bool, description: str, mimetype: str = "application/json"
) -> dict[str, Any]:
    if schema is None:
        return {"description": description}
    ref: dict[str, Any] = {"$ref": f"#/components/schemas/{schema}"}
    if array:
        ref = {"type": "array", "items": ref}
    return {"description": description, "content": {mimetype: {"schema": ref}}}


def _component_schemas() -> dict[str, Any]:
    schemas = {}
    for path in sorted((SCHEMAS_DIR / "api").glob("*.schema.json")):
        name = path.name.removesuffix(".schema.json")
        schema = load_schema(f"api/{name}.schema.json")
        schemas[name] = {k: v for k, v in schema.items() if not k.startswith("$")}
    return schemas

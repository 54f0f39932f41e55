"""Parse rule-file text into plain data plus the line and column of every node.

YAML goes through PyYAML's safe composer; we build the data ourselves from the node tree so
that each JSON pointer maps to a position, duplicate keys are caught, and anchors/aliases
(the alias-bomb vector) are refused outright. JSON is decoded by ``json`` (exact numbers,
no NaN) and located with the same composer, since JSON's syntax is YAML flow syntax.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from service.rules.model import Problem

Position = tuple[int, int]


class RuleSyntaxError(Exception):
    """The text cannot be turned into data; carries one located problem."""

    def __init__(self, code: str, message: str, line: int = 1, col: int = 1) -> None:
        super().__init__(message)
        self.code, self.message, self.line, self.col = code, message, line, col

    def problem(self, path: str) -> Problem:
        """This error as a Problem of ``path``."""
        return Problem(path, self.line, self.col, "", self.message, "error", self.code)


@dataclass
class Source:
    """Parsed data and where each pointer sits in the text."""

    data: Any
    positions: dict[str, Position] = field(default_factory=dict)

    def position(self, pointer: str) -> Position:
        """Line and column of ``pointer``, or of its nearest located ancestor."""
        while pointer not in self.positions and pointer:
            pointer = pointer.rsplit("/", 1)[0]
        return self.positions.get(pointer, (1, 1))


def pointer_join(base: str, key: str | int) -> str:
    """Append one RFC 6901 reference token."""
    return f"{base}/{str(key).replace('~', '~0').replace('/', '~1')}"


class _NoAliasLoader(yaml.SafeLoader):
    """Safe loader that refuses anchors and aliases instead of expanding them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            mark = event.start_mark
            raise RuleSyntaxError(
                "yaml-alias",
                "YAML anchors and aliases (&, *) are not allowed in rule files",
                mark.line + 1,
                mark.column + 1,
            )
        return super().compose_node(parent, index)


_SCALAR_TAGS = {"tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null")}


class _Builder:
    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.positions: dict[str, Position] = {}

    def build(self, node: yaml.Node, pointer: str) -> Any:
        self.positions[pointer] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, pointer)
        if isinstance(node, yaml.SequenceNode):
            return [
                self.build(child, pointer_join(pointer, i)) for i, child in enumerate(node.value)
            ]
        if node.tag in _SCALAR_TAGS:
            return self.loader.construct_object(node)
        return node.value

    def mapping(self, node: yaml.MappingNode, pointer: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            mark = key_node.start_mark
            if not isinstance(key_node, yaml.ScalarNode):
                raise RuleSyntaxError(
                    "yaml-key", "mapping keys must be plain text", mark.line + 1, mark.column + 1
                )
            key = key_node.value
            if key in out:
                raise RuleSyntaxError(
                    "duplicate-key", f"duplicate key '{key}'", mark.line + 1, mark.column + 1
                )
            out[key] = self.build(value_node, pointer_join(pointer, key))
        return out


def _compose(text: str) -> tuple[yaml.Node | None, _NoAliasLoader]:
    try:
        loader = _NoAliasLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character YAML does not allow
        before = text[: exc.position]
        raise RuleSyntaxError(
            "yaml-syntax", f"malformed YAML: {exc.reason} (#x{exc.character:04x})",
            before.count("\n") + 1, exc.position - before.rfind("\n")) from None
    try:
        return loader.get_single_node(), loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise RuleSyntaxError(
            "yaml-syntax", f"malformed YAML: {exc.problem or exc}", line, col
        ) from None
    except RecursionError:
        raise RuleSyntaxError("yaml-depth", "document nested too deeply") from None
    finally:
        loader.dispose()


def parse_yaml(text: str) -> Source:
    """Parse YAML text; raise RuleSyntaxError with a position on anything unacceptable."""
    node, loader = _compose(text)
    if node is None:
        raise RuleSyntaxError(
            "not-mapping", "the file is empty: expected a mapping with name, version and rules"
        )
    builder = _Builder(loader)
    try:
        data = builder.build(node, "")
    except RecursionError:
        raise RuleSyntaxError("yaml-depth", "document nested too deeply") from None
    return Source(data, builder.positions)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key '{key}'")
        out[key] = value
    return out


def parse_json(text: str) -> Source:
    """Parse JSON text exactly (json module) and locate its nodes with the YAML composer."""
    try:
        data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_pairs)
    except json.JSONDecodeError as exc:
        raise RuleSyntaxError(
            "json-syntax", f"malformed JSON: {exc.msg}", exc.lineno, exc.colno
        ) from None
    except (ValueError, RecursionError) as exc:
        raise RuleSyntaxError("json-syntax", f"malformed JSON: {exc}") from None
    try:
        # JSON strings cannot hold raw tabs, so this keeps every column and satisfies YAML.
        located = parse_yaml(text.replace("\t", " "))
    except RuleSyntaxError:
        return Source(data, {"": (1, 1)})
    return Source(data, located.positions)


def decode(raw: bytes) -> str:
    """UTF-8 text of a file, or RuleSyntaxError naming the first bad byte's line and column."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = raw[: exc.start].decode("utf-8")
        line = good.count("\n") + 1
        col = exc.start - (good.rfind("\n") + 1 if "\n" in good else 0) + 1
        raise RuleSyntaxError(
            "encoding", f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})", line, col
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def looks_like_json(path: str, text: str) -> bool:
    """JSON by extension, or by content for text without a path."""
    return path.lower().endswith(".json")

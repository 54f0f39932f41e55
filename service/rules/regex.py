"""The regular-expression subset rule files may use.

``matches_regex`` runs as Python ``re.search`` (reference, compiled predicates, SQLite) and as
PostgreSQL ``~`` (ARE). Only a subset means the same in both and cannot backtrack
catastrophically in Python: literals, escaped punctuation, ``\\n \\t \\r \\f \\v``, ``.``,
``^``, ``$``, bracket classes with ASCII ranges (``[a-z0-9_]``, ``[^x]``), groups ``( )`` and
``(?: )``, alternation ``|`` and quantifiers ``* + ? {m} {m,} {m,n}`` (optionally lazy), where
a repeated group may contain neither a quantifier nor ``|``. Not allowed: ``\\d \\w \\s \\b``
(their meaning differs), backreferences, lookaround, inline flags, named groups.

For PostgreSQL the pattern is rewritten so that ``.`` and ``$`` keep Python's meaning
(``.`` does not match a newline; ``$`` also matches before a final newline).
"""

from __future__ import annotations

import re
import string
import warnings
from dataclasses import dataclass

MAX_PATTERN_LENGTH = 200
MAX_REPEAT = 255
_SPECIAL = set("\\.^$*+?{}[]()|")
_PUNCT = set(string.punctuation)
_CHAR_ESCAPES = set("ntrfv")
_QUANT_START = set("*+?{")
_ADVICE = {
    "d": "use [0-9]: \\d means different things in Python and PostgreSQL",
    "w": "use a class such as [A-Za-z0-9_]: \\w differs between Python and PostgreSQL",
    "s": "use a class such as [ \\t]: \\s differs between Python and PostgreSQL",
    "b": "word boundaries are not allowed: \\b is a backspace in PostgreSQL",
    "A": "use ^ instead of \\A",
    "Z": "use $ instead of \\Z",
}


class RegexRejected(ValueError):
    """The pattern is outside the portable, backtracking-safe subset."""


@dataclass
class _Group:
    quantified_inside: bool = False
    alternation: bool = False
    empty: bool = True


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.src = pattern
        self.pos = 0
        self.out: list[str] = []

    def peek(self) -> str | None:
        return self.src[self.pos] if self.pos < len(self.src) else None

    def take(self) -> str:
        ch = self.src[self.pos]
        self.pos += 1
        return ch

    def fail(self, message: str) -> RegexRejected:
        return RegexRejected(f"{message}, pattern character {self.pos}")

    def parse(self) -> str:
        self.alternation()
        if self.peek() is not None:
            raise self.fail("unbalanced ')'")
        return "".join(self.out)

    def alternation(self) -> _Group:
        info = _Group()
        while True:
            self.branch(info)
            if self.peek() != "|":
                return info
            info.alternation = True
            self.out.append(self.take())

    def branch(self, info: _Group) -> None:
        while self.peek() not in (None, "|", ")"):
            self.piece(info)

    def piece(self, info: _Group) -> None:
        start = self.pos
        group = self.atom()
        info.empty = False
        if self.peek() in _QUANT_START:
            if group is None and self.src[start] in "^$":
                raise self.fail("an anchor cannot be repeated")
            if group is not None and (group.quantified_inside or group.alternation):
                raise self.fail(
                    "a repeated group may not contain a quantifier or '|' "
                    "(catastrophic backtracking)"
                )
            self.quantifier()
            info.quantified_inside = True
        if group is not None and group.quantified_inside:
            info.quantified_inside = True

    def atom(self) -> _Group | None:
        ch = self.take()
        if ch == "(":
            return self.group()
        if ch == "[":
            self.bracket()
        elif ch == "\\":
            self.out.append(self.escape(in_class=False))
        elif ch == ".":
            self.out.append("[^\\n]")
        elif ch == "$":
            self.out.append("(?=\\n?$)")
        elif ch == "^":
            self.out.append(ch)
        elif ch in "*+?{":
            raise self.fail(f"nothing to repeat before '{ch}'")
        elif ch in "}]":
            raise self.fail(f"escape a literal '{ch}' as '\\{ch}'")
        else:
            self.out.append(self.literal(ch))
        return None

    def literal(self, ch: str) -> str:
        if ch == "\x00":
            raise self.fail("NUL characters are not allowed")
        return ch

    def group(self) -> _Group:
        if self.src.startswith("?:", self.pos):
            self.pos += 2
            self.out.append("(?:")
        elif self.peek() == "?":
            raise self.fail(
                "lookaround, named groups and inline flags are not allowed "
                "(only ( ) and (?: ) groups)"
            )
        else:
            self.out.append("(")
        info = self.alternation()
        if self.peek() != ")":
            raise self.fail("missing ')'")
        if info.empty and not info.alternation:
            raise self.fail("empty group")
        self.out.append(self.take())
        return info

    def escape(self, in_class: bool) -> str:
        if self.peek() is None:
            raise self.fail("pattern ends with a lone backslash")
        ch = self.take()
        if ch in _PUNCT or ch in _CHAR_ESCAPES:
            return "\\" + ch
        if ch.isdigit():
            raise self.fail("backreferences and numeric escapes are not allowed")
        advice = _ADVICE.get(ch) or _ADVICE.get(ch.lower())
        raise self.fail(f"escape '\\{ch}' is not allowed" + (f": {advice}" if advice else ""))

    def quantifier(self) -> None:
        ch = self.take()
        if ch == "{":
            self.out.append("{" + self.bounds() + "}")
        else:
            self.out.append(ch)
        if self.peek() == "?":
            self.out.append(self.take())
        if self.peek() in _QUANT_START:
            raise self.fail("a quantifier cannot follow another quantifier")

    def bounds(self) -> str:
        end = self.src.find("}", self.pos)
        text = self.src[self.pos : end] if end >= 0 else ""
        match = re.fullmatch(r"(\d{1,3})(,(\d{1,3})?)?", text)
        if not match:
            raise self.fail("'{' must start a bound {m}, {m,} or {m,n} (escape a literal '{')")
        low = int(match.group(1))
        high = int(match.group(3)) if match.group(3) else low
        if high > MAX_REPEAT or low > high:
            raise self.fail(f"bounds must satisfy m <= n <= {MAX_REPEAT}")
        self.pos = end + 1
        return text

    def bracket(self) -> None:
        parts = ["["]
        if self.peek() == "^":
            parts.append(self.take())
        first = True
        while self.peek() != "]":
            parts.append(self.class_item(first))
            first = False
        if first:
            raise self.fail("empty character class")
        self.take()
        parts.append("]")
        self.out.append("".join(parts))

    def class_item(self, first: bool) -> str:
        ch = self.peek()
        if ch is None:
            raise self.fail("missing ']'")
        self.take()
        if ch == "\\":
            return self.escape(in_class=True)
        if ch == "[":
            raise self.fail("escape '[' inside a class as '\\[' (POSIX classes are not portable)")
        if ch == "-" and not first and self.peek() != "]":
            raise self.fail("a literal '-' inside a class goes first, last or escaped")
        if ch in "&~|" and self.peek() == ch:
            raise self.fail(f"escape a doubled '{ch}' inside a class")
        if self.peek() == "-" and self.src[self.pos + 1 : self.pos + 2] not in ("]", ""):
            return self.class_range(ch)
        return self.literal(ch)

    def class_range(self, low: str) -> str:
        self.take()
        high = self.take()
        kinds = (string.digits, string.ascii_lowercase, string.ascii_uppercase)
        if not any(low in k and high in k for k in kinds) or low > high:
            raise self.fail(
                f"range {low}-{high} is not portable: use ranges within 0-9, a-z or A-Z"
            )
        return f"{low}-{high}"


def check_regex(pattern: str) -> tuple[str, str] | None:
    """None when the pattern is fine, else (code, message) saying what is wrong."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(pattern)
    except re.error as exc:
        return "regex-invalid", f"regular expression does not compile: {exc}"
    if len(pattern) > MAX_PATTERN_LENGTH:
        return "regex-unsupported", f"regular expression longer than {MAX_PATTERN_LENGTH}"
    try:
        _Parser(pattern).parse()
    except RegexRejected as exc:
        return "regex-unsupported", (
            f"regular expression outside the subset that means the "
            f"same in Python and PostgreSQL: {exc}"
        )
    return None


def postgres_pattern(pattern: str) -> str:
    """The PostgreSQL ARE with the meaning Python ``re.search`` gives ``pattern``."""
    return _Parser(pattern).parse()

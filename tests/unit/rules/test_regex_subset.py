"""The regex subset: portable between Python re.search and PostgreSQL ~, and safe."""

from __future__ import annotations

import pytest

from service.rules.regex import check_regex, postgres_pattern


@pytest.mark.parametrize("pattern", [
    "", "^SKU-[0-9]{4}$", "a.c", "(?:ab)+", "[A-Za-z_]+", "x|y|", "\\.json$", "[^,]*",
    "colou?r", "a{2,}", "a*?b", "[\\]\\-]",
])
def test_portable_patterns_are_accepted(pattern):
    assert check_regex(pattern) is None


@pytest.mark.parametrize(("pattern", "says"), [
    ("(a+)+", "catastrophic backtracking"),
    ("(a|aa)*", "catastrophic backtracking"),
    ("(a)\\1", "backreferences"),
    ("(?<=a)b", "lookaround"),
    ("(?i)abc", "inline flags"),
    ("\\d+", "[0-9]"),
    ("\\w", "\\w differs"),
    ("\\bword", "word boundaries"),
    ("[[:alpha:]]", "POSIX classes"),
    ("[a-Z]", "not compile"),
    ("[0-z]", "not portable"),
    ("a{,3}", "bound"),
    ("a{300}", "<= 255"),
    ("\\x41", "not allowed"),
])
def test_unportable_or_dangerous_patterns_are_rejected_with_the_reason(pattern, says):
    problem = check_regex(pattern)
    assert problem is not None and says in problem[1]


def test_patterns_that_do_not_compile_are_regex_invalid():
    assert check_regex("[unclosed")[0] == "regex-invalid"
    assert check_regex("(a+)+")[0] == "regex-unsupported"


def test_postgres_pattern_keeps_pythons_meaning_of_dot_and_dollar():
    assert postgres_pattern("^a.b$") == "^a[^\\n]b(?=\\n?$)"
    assert postgres_pattern("[.$]") == "[.$]"

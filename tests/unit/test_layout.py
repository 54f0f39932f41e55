"""The layout docs/architecture.md describes, checked where import contracts cannot see:
use cases never reach a session, and modules stay small enough to read."""

import ast
from pathlib import Path

import service

ROOT = Path(service.__file__).parent
SESSION_ATTRIBUTES = {"session", "sessions", "execute", "scalars", "scalar", "connection"}
MAX_LINES = 320  # "about 300": a module past this is two modules


def test_no_use_case_reaches_a_session_or_runs_a_statement():
    offenders = []
    context = ROOT / "services" / "context.py"  # it opens the units of work
    for path in sorted(p for p in (ROOT / "services").rglob("*.py") if p != context):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in SESSION_ATTRIBUTES:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
    assert offenders == []


def test_no_module_of_the_service_is_longer_than_about_three_hundred_lines():
    long = [f"{path.relative_to(ROOT)}: {lines} lines"
            for path in sorted(ROOT.rglob("*.py")) if "migrations" not in path.parts
            and (lines := len(path.read_text().splitlines())) > MAX_LINES]
    assert long == []

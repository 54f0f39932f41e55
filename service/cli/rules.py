"""`oms rules ...`: validate, show, diff, activate, vocabulary."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from service.rules.diff import diff
from service.rules.loader import load_directory, load_file
from service.rules.model import Problem, format_problem
from service.rules.vocabulary import export_vocabulary

ContextFactory = Callable[[argparse.Namespace], object]


def add_rules_commands(sub: argparse._SubParsersAction, context: ContextFactory) -> None:
    """Register the rules subcommands."""
    rules = sub.add_parser("rules", help="rule files").add_subparsers(metavar="ACTION")
    validate = rules.add_parser("validate", help="check rule files; non-zero exit on any error")
    validate.add_argument("paths", nargs="*", help="files or folders (default: the rulesets)")
    validate.set_defaults(handler=lambda a: _validate(a, context))
    show = rules.add_parser("show", help="print a loaded version, normalised")
    show.add_argument("spec", help="name@version (or name for its latest)")
    show.set_defaults(handler=lambda a: _show(a, context))
    compare = rules.add_parser("diff", help="what changed in meaning between two versions")
    compare.add_argument("old", help="name@version")
    compare.add_argument("new", help="name@version")
    compare.set_defaults(handler=lambda a: _diff(a, context))
    activate = rules.add_parser("activate",
                                help="make a version active (recomputes every channel's ATS)")
    activate.add_argument("spec", help="name@version, or name for its latest version")
    activate.set_defaults(handler=lambda a: _activate(a, context))
    vocab = rules.add_parser("vocabulary", help="variables, operators and actions (JSON)")
    vocab.set_defaults(handler=lambda _a: _vocabulary())


def _problems_of(paths: list[Path]) -> tuple[int, list[Problem]]:
    files, problems = 0, []
    for path in paths:
        if path.is_dir():
            load = load_directory(path)
            files += len(load.results)
            problems += list(load.problems)
        else:
            files += 1
            problems += list(load_file(path).problems)
    return files, problems


def _validate(args: argparse.Namespace, context: ContextFactory) -> int:
    if args.paths:
        paths = [Path(p) for p in args.paths]
    else:
        from service.settings import load_settings

        paths = [load_settings(args.config).rulesets_dir]
    missing = [p for p in paths if not p.exists()]
    for path in missing:
        print(f"{path}: error: no such file or folder", file=sys.stderr)
    files, problems = _problems_of([p for p in paths if p.exists()])
    for problem in sorted(problems, key=lambda p: (p.path, p.line, p.col)):
        print(format_problem(problem))
    errors = sum(1 for p in problems if p.severity == "error") + len(missing)
    warnings = sum(1 for p in problems if p.severity == "warning")
    print(f"{files} file(s): {errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if errors else 0


def _show(args: argparse.Namespace, context: ContextFactory) -> int:
    ruleset = context(args).rules.resolve(args.spec)  # type: ignore[attr-defined]
    print(f"# {ruleset.ref} from {ruleset.path} (sha256 {ruleset.content_hash[:12]})")
    print(yaml.safe_dump(ruleset.to_dict(), sort_keys=False, allow_unicode=True), end="")
    return 0


def _diff(args: argparse.Namespace, context: ContextFactory) -> int:
    rules = context(args).rules  # type: ignore[attr-defined]
    print(diff(rules.resolve(args.old), rules.resolve(args.new)).format_text())
    return 0


def _activate(args: argparse.Namespace, context: ContextFactory) -> int:
    from service.rules.registry import parse_spec
    from service.services.rulesets import governance

    name, version = parse_spec(args.spec)
    done = governance.activate(context(args), {"name": name, "version": version}, _who())
    print(f"{done.ref} is active (was {done.previous}); every channel's ATS recomputed")
    return 0


def _vocabulary() -> int:
    print(json.dumps(export_vocabulary(), indent=2))
    return 0


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"

"""`oms rules ...`: validate, show, diff, activate, export, vocabulary."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from service.cli.experiments import experiment_problems, folder_experiments
from service.cli.simulate import add_simulate_command
from service.errors import ValidationFailed
from service.rules.diff import diff
from service.rules.loader import (
    SUFFIXES,
    LoadResult,
    is_experiments_file,
    load_directory,
    load_file,
    rule_files,
)
from service.rules.model import Problem, Ruleset, format_problem
from service.rules.vocabulary import export_vocabulary
from service.settings import Settings

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
    compare.add_argument("old", help="name@version (or a rule file's path)")
    compare.add_argument("new", help="name@version (or a rule file's path, not published yet)")
    compare.set_defaults(handler=lambda a: _diff(a, context))
    activate = rules.add_parser("activate",
                                help="make a version active (recomputes every channel's ATS)")
    activate.add_argument("spec", help="name@version, or name for its latest version")
    activate.set_defaults(handler=lambda a: _activate(a, context))
    export = rules.add_parser("export", help="write a published version (one from the "
                              "console or the API) as a rule file, for review in git")
    export.add_argument("spec", help="name@version, or name for its latest version")
    export.add_argument("--dir", type=Path, help="the folder (default: the rulesets folder)")
    export.set_defaults(handler=lambda a: _export(a, context))
    add_simulate_command(rules, context)
    vocab = rules.add_parser("vocabulary", help="variables, operators and actions (JSON)")
    vocab.set_defaults(handler=lambda _a: _vocabulary())


Checker = Callable[[LoadResult], list[Problem]]


def _problems_of(paths: list[Path], known: list[Path], published: Checker,
                 published_ref: Callable[[str], bool]) -> tuple[int, list[Problem]]:
    files, problems = 0, []
    for path in paths:
        if path.is_dir():
            load = load_directory(path)
            files += len(load.results)
            problems += [p for r in load.results for p in (*r.problems, *published(r))]
            found, more = folder_experiments(path, known, published_ref)
            files, problems = files + found, problems + more
        elif is_experiments_file(path):
            files += 1
            problems += experiment_problems(path, known, published_ref)
        else:
            files += 1
            problems += _file_problems(path, known, published)
    return files, problems


def _file_problems(path: Path, known: list[Path], published: Checker) -> list[Problem]:
    """One file's problems, and a clash with a version another file already defines (in
    its own folder, or the configured rules folder) or the database already publishes."""
    result = load_file(path)
    ruleset = result.ruleset
    if ruleset is None:
        return list(result.problems)
    others = {p.resolve() for p in path.parent.iterdir()
              if p.suffix.lower() in SUFFIXES and not is_experiments_file(p)}
    for folder in known:
        others |= {p.resolve() for p in rule_files(folder)}
    for other in sorted(others - {path.resolve()}):
        found = load_file(other).ruleset
        if found is not None and found.ref == ruleset.ref:
            return [*result.problems, Problem(
                str(path), *result.version_position, "/version",
                f"{ruleset.ref} is already defined by {other}: give this file a new version",
                "error", "version-clash")]
    return [*result.problems, *published(result)]


def _database(settings: Settings | None) -> Any:
    """A context on the configured database, or None when it cannot be read (validating
    files needs no database)."""
    from service.bootstrap import build_context

    if settings is None or _missing_sqlite_file(settings.database_url):
        return None
    ctx = build_context(settings, import_files=False)
    try:
        with ctx.reading() as uow:
            uow.ruleset_versions.find("", 0)
    except Exception as exc:  # not reachable, or not migrated: say so, check the rest
        print(f"published versions not checked: {type(exc).__name__}", file=sys.stderr)
        return None
    return ctx


def _published_checker(ctx: Any) -> Checker:
    """Problems of a file against the database's published versions."""
    from service.services.rulesets import library

    if ctx is None:
        return lambda _result: []

    def check(result: LoadResult) -> list[Problem]:
        with ctx.reading() as uow:
            return library.clashes(uow, result)

    return check


def _published_ref(ctx: Any) -> Callable[[str], bool]:
    """Whether the database publishes a ruleset version (name@version) that loads."""
    from service.services.rulesets.experiment_file import known_ref

    if ctx is None:
        return lambda _ref: False

    def known(ref: str) -> bool:
        with ctx.reading() as uow:
            return known_ref(ctx, uow, ref)

    return known


def _missing_sqlite_file(url: str) -> bool:
    """A SQLite database that does not exist yet holds no versions (and is not created)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and not (
        parsed.database and Path(parsed.database).is_file())


def _validate(args: argparse.Namespace, context: ContextFactory) -> int:
    from service.settings import ConfigError, load_settings

    try:
        settings: Settings | None = load_settings(args.config)
    except ConfigError:
        if not args.paths:
            raise
        settings = None  # checking files needs no config; the configured folder is unknown
    known = [settings.rulesets_dir] if settings else []
    paths = [Path(p) for p in args.paths] if args.paths else known
    missing = [p for p in paths if not p.exists()]
    for path in missing:
        print(f"{path}: error: no such file or folder", file=sys.stderr)
    database = _database(settings)
    files, problems = _problems_of([p for p in paths if p.exists()],
                                   [k for k in known if k.is_dir()],
                                   _published_checker(database), _published_ref(database))
    for problem in sorted(problems, key=lambda p: (p.path, p.line, p.col)):
        print(format_problem(problem))
    errors = sum(1 for p in problems if p.severity == "error") + len(missing)
    warnings = sum(1 for p in problems if p.severity == "warning")
    print(f"{files} file(s): {errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if errors else 0


def _published(args: argparse.Namespace, context: ContextFactory) -> tuple[object, Callable]:
    """The context (rule files imported first) and a resolver of name@version specs."""
    from service.services.rulesets import library

    ctx = context(args)
    library.import_files(ctx)  # type: ignore[arg-type]

    def resolve(spec: str) -> Ruleset:
        with ctx.reading() as uow:  # type: ignore[attr-defined]
            return ctx.rules.resolve(uow, spec)  # type: ignore[attr-defined]

    return ctx, resolve


def _show(args: argparse.Namespace, context: ContextFactory) -> int:
    _ctx, resolve = _published(args, context)
    ruleset = resolve(args.spec)
    print(f"# {ruleset.ref} from {ruleset.path} (sha256 {ruleset.content_hash[:12]})")
    print(yaml.safe_dump(ruleset.to_dict(), sort_keys=False, allow_unicode=True), end="")
    return 0


def _diff(args: argparse.Namespace, context: ContextFactory) -> int:
    _ctx, resolve = _published(args, context)
    print(diff(_ruleset(args.old, resolve), _ruleset(args.new, resolve)).format_text())
    return 0


def _ruleset(spec: str, resolve: Callable[[str], Ruleset]) -> Ruleset:
    """A published version (name@version), or a file not published yet (a path)."""
    if not spec.lower().endswith(SUFFIXES):
        return resolve(spec)
    result = load_file(spec)
    if result.ruleset is None:
        raise ValidationFailed(f"{spec} is not valid: run `oms rules validate {spec}`.")
    return result.ruleset


def _activate(args: argparse.Namespace, context: ContextFactory) -> int:
    from service.rules.registry import parse_spec
    from service.services.rulesets import governance

    ctx, _resolve = _published(args, context)
    name, version = parse_spec(args.spec)
    done = governance.activate(ctx, {"name": name, "version": version}, _who())  # type: ignore
    print(f"{done.ref} is active (was {done.previous}); every channel's ATS recomputed")
    return 0


def _export(args: argparse.Namespace, context: ContextFactory) -> int:
    from service.rules.registry import parse_spec
    from service.services.rulesets import exporting

    name, version = parse_spec(args.spec)
    path = exporting.export(context(args), name, version, args.dir)  # type: ignore[arg-type]
    print(f"wrote {path}")
    return 0


def _vocabulary() -> int:
    print(json.dumps(export_vocabulary(), indent=2))
    return 0


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"

"""`oms experiments report KEY [--plot FILE.png]`, and the experiments file's part of
`oms rules validate`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from service.rules.experiments import experiments_file, load_experiments_file
from service.rules.loader import load_directory
from service.rules.model import Problem

ContextFactory = Callable[[argparse.Namespace], object]
PLOT_HINT = "--plot needs matplotlib: pip install 'oms-rules-service[bench]'"


def add_experiments_commands(sub: argparse._SubParsersAction, context: ContextFactory) -> None:
    """Register the experiments subcommands."""
    experiments = sub.add_parser("experiments", help="A/B experiments between rulesets"
                                 ).add_subparsers(metavar="ACTION")
    report = experiments.add_parser("report", help="an experiment's results per variant")
    report.add_argument("key", help="the experiment's key")
    report.add_argument("--plot", metavar="FILE.png", help="also draw the differences")
    report.set_defaults(handler=lambda a: _report(a, context))


def experiment_problems(path: Path, folders: Iterable[Path],
                        published: Callable[[str], bool]) -> list[Problem]:
    """The problems of an experiments file; a ruleset counts as known when a rule file of
    its folder or of ``folders`` defines it, or the database publishes it."""
    refs = {rs.ref for folder in {path.parent, *folders} if folder.is_dir()
            for rs in load_directory(folder).rulesets}
    return list(load_experiments_file(path, lambda ref: ref in refs or published(ref)).problems)


def folder_experiments(folder: Path, folders: Iterable[Path],
                       published: Callable[[str], bool]) -> tuple[int, list[Problem]]:
    """(1, its problems) for a folder holding an experiments file, else (0, [])."""
    found = experiments_file(folder)
    return (0, []) if found is None else (1, experiment_problems(found, folders, published))


def _report(args: argparse.Namespace, context: ContextFactory) -> int:
    from service.domain.roles import Role
    from service.services.experiments import results
    from service.services.rulesets import experiment_file, library

    if args.plot:
        _pyplot()  # say at once when it is missing, before any work
    ctx: Any = context(args)
    library.import_files(ctx)
    experiment_file.import_file(ctx)
    found = results.results(ctx, Role("admin", None), args.key)
    print(format_report(found))
    if args.plot:
        plot(found, args.plot)
        print(f"plot written to {args.plot}")
    return 0


def _fmt(value: float) -> str:
    return f"{value:,.3f}"


def _interval(pair: list[float] | None) -> str:
    return "n/a" if pair is None else f"[{_fmt(pair[0])}, {_fmt(pair[1])}]"


def format_report(found: dict[str, Any]) -> str:
    """The results as text tables: variants, differences against control, SRM."""
    lines = [f"experiment {found['experiment']} ({found['status']}): {found['orders']} orders, "
             f"{found['units']} units; control {found['control']}", ""]
    variants = found["variants"]
    lines.append(f"{'':<22}" + "".join(f"{v['name']:>16}" for v in variants))
    lines.append(f"{'units':<22}" + "".join(f"{v['units']:>16}" for v in variants))
    lines.append(f"{'orders':<22}" + "".join(f"{v['orders']:>16}" for v in variants))
    for metric in variants[0]["metrics"] if variants else ():
        lines.append(f"{metric:<22}" + "".join(f"{_fmt(v['metrics'][metric]):>16}"
                                              for v in variants))
    for comparison in found["comparisons"]:
        lines += ["", f"{comparison['variant']} - {comparison['against']} "
                  f"(always-valid {1 - found['alpha']:.0%} interval; fixed-horizon for "
                  "comparison):"]
        for metric, d in comparison["metrics"].items():
            mark = "  *" if d["significant"] else ""
            lines.append(f"  {metric:<22}{_fmt(d['difference']):>12}  "
                         f"{_interval(d['sequential_interval']):<28}"
                         f"{_interval(d['fixed_interval'])}{mark}")
    srm = found["srm"]
    verdict = "MISMATCH: the split is broken, do not trust the results" if srm["mismatch"] \
        else "ok"
    lines += ["", f"sample ratio: observed {srm['observed']} expected "
              f"{[round(e, 1) for e in srm['expected']]} p={srm['p_value']:.4g} ({verdict})"]
    return "\n".join(lines)


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(PLOT_HINT, file=sys.stderr)
        raise SystemExit(2) from None
    return plt


def plot(found: dict[str, Any], path: str) -> None:
    """Each metric's difference against control with both intervals, as a PNG."""
    plt = _pyplot()
    metrics = list(found["variants"][0]["metrics"])
    figure, axes = plt.subplots(len(metrics), 1, figsize=(8, 1.4 * len(metrics) + 1),
                                squeeze=False)
    for axis, metric in zip(axes[:, 0], metrics, strict=True):
        for row, comparison in enumerate(found["comparisons"]):
            d = comparison["metrics"][metric]
            for pair, width, colour in ((d["fixed_interval"], 6, "#c7d7ea"),
                                        (d["sequential_interval"], 2, "#1f4e79")):
                if pair is not None:
                    axis.plot(pair, [row, row], linewidth=width, color=colour)
            axis.plot([d["difference"]], [row], "o", color="black")
        axis.axvline(0, color="grey", linewidth=0.8)
        axis.set_yticks(range(len(found["comparisons"])),
                        [c["variant"] for c in found["comparisons"]])
        axis.set_title(metric, fontsize=9, loc="left")
    figure.suptitle(f"{found['experiment']}: difference against {found['control']} "
                    "(dark: always-valid interval, light: fixed-horizon)", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)

"""Rules: load → validate → compile → evaluate rule files; registry of versions; diff."""

from service.rules.diff import RulesetDiff, diff
from service.rules.evaluate import (
    ChannelOutcome,
    ReturnOutcome,
    RuleHit,
    SourcingOutcome,
    evaluate_channel,
    evaluate_channel_reference,
    evaluate_return,
    evaluate_sourcing,
)
from service.rules.loader import DirectoryLoad, LoadResult, load_directory, load_file, load_text
from service.rules.model import (
    Action,
    Problem,
    ReturnsPolicy,
    Rule,
    Ruleset,
    SourcingPolicy,
    SplitPolicy,
    format_problem,
)
from service.rules.registry import Registry, ReloadReport, RulesetNotFound
from service.rules.vocabulary import export_vocabulary

__all__ = [
    "Action", "ChannelOutcome", "DirectoryLoad", "LoadResult", "Problem", "Registry",
    "ReloadReport", "ReturnOutcome", "ReturnsPolicy", "Rule", "RuleHit", "Ruleset",
    "RulesetDiff", "RulesetNotFound", "SourcingOutcome", "SourcingPolicy", "SplitPolicy",
    "diff", "evaluate_channel", "evaluate_channel_reference", "evaluate_return",
    "evaluate_sourcing", "export_vocabulary", "format_problem", "load_directory", "load_file",
    "load_text",
]

"""Replay: past orders re-planned under rulesets against stock as it was."""

"""Experiments: which variant (and so which ruleset) a unit gets, and the statistics of the
results. Pure: no I/O; the assignment is GrowthBook's published v2 hashing."""

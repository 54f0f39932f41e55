"""Use cases: the only place that joins domain, rules and store."""

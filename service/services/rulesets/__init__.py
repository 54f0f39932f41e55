"""Rulesets: which version of the rules is live, and changing it safely.

Owns the active version (`active`: read from the database by every process, inside each
transaction), switching and rolling back (`governance.activate`, which recomputes every
channel's ATS under the switch lock), following new files when configured to, reloading the
rule files, and what `GET /v1/rulesets` and `/healthz` say about them.
"""

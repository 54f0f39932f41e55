"""Rulesets: which version of the rules is live, and changing it safely.

Owns the published versions (`library`: rule files imported into the database, versions
published through the API, load problems any process found), the active version (`active`:
loaded from the database by every process, read inside each transaction), switching and
rolling back (`governance.activate`, which recomputes every channel's ATS under the switch
lock), following the latest version when config opts in, and what `GET /v1/rulesets` and
`/healthz` say about them (`listing`).
"""

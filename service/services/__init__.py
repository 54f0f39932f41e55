"""The use cases: the only place that joins the domain, the rules and the store.

One package per capability: `inventory`, `ats`, `availability`, `orders`, `rulesets`,
`masterdata`, `feeds`, `access`, `operations`, `demo`. A use case is `verb(ctx, ...)` and opens
its own unit of work; a function that works inside a caller's transaction takes the `uow`.
No statement, session or SQL lives here: every table is reached through a repository of
`service.store`.
"""

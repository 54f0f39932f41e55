"""The business users' console at /console: server-rendered pages over the API's use cases
(signing in with an API key; rules, availability, sourcing, orders, work queues, feeds)."""

from service.api.console import explore_pages, rules_pages, signing, work_pages  # noqa: F401
from service.api.console.web import bp

__all__ = ["bp"]

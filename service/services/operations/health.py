"""Health: the database answers, and whether rule files failed to load."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.services.rulesets.listing import load_health
from service.store.db import ping_engine

if TYPE_CHECKING:
    from service.services.context import Context


def health(ctx: Context) -> tuple[bool, dict[str, Any]]:
    """(up, report). Up while the database answers; degraded when rule files have errors."""
    report: dict[str, Any] = {"status": "ok", "checks": {}}
    try:
        ping_engine(ctx.engine)
        report["checks"]["database"] = {"status": "ok", "dialect": ctx.engine.dialect.name}
    except Exception as exc:  # any driver error means the database is not reachable
        report["checks"]["database"] = {"status": "down", "error": type(exc).__name__}
        report["status"] = "down"
        return False, report
    rulesets = load_health(ctx)
    report["checks"]["rulesets"] = rulesets
    if rulesets["status"] != "ok":
        report["status"] = "degraded"
    if ctx.replicas is not None:
        replicas = ctx.replicas.report()
        serving = sum(r["status"] == "healthy" for r in replicas)
        # the primary serves every read while no replica can: degraded, not down
        report["checks"]["replicas"] = {"status": "ok" if serving else "degraded",
                                        "serving": serving, "replicas": replicas}
        if not serving:
            report["status"] = "degraded"
    return True, report

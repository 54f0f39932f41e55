"""Health: the database answers, and whether rule files failed to load."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from service.context import Context


def health(ctx: Context) -> tuple[bool, dict[str, Any]]:
    """(up, report). Up while the database answers; degraded when rule files have errors."""
    report: dict[str, Any] = {"status": "ok", "checks": {}}
    try:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        report["checks"]["database"] = {"status": "ok", "dialect": ctx.engine.dialect.name}
    except Exception as exc:  # any driver error means the database is not reachable
        report["checks"]["database"] = {"status": "down", "error": type(exc).__name__}
        report["status"] = "down"
        return False, report
    for name, check in ctx.extras.get("health_checks", {}).items():
        result = check(ctx)
        report["checks"][name] = result
        if result.get("status") != "ok" and report["status"] == "ok":
            report["status"] = "degraded"
    return True, report

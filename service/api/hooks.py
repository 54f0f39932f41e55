"""The app's request hooks, installed as one step before and one after every view (each
hook Flask runs costs a dispatch of its own): the ruleset refresh, the boundary's checks,
the request metrics, the consistency token (read replicas only) and the request log."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, request

from service import metrics
from service.api import boundary, consistency, fast_reads, fast_search
from service.services.context import Context
from service.services.rulesets import governance


def install(app: Flask, ctx: Context) -> None:
    """Before a view: reload the rulesets when due, then the boundary's checks (request id,
    auth, NUL). After it, in this order: count and time the request, the consistency token,
    the X-Request-Id header and the log line. The clock starts in the WSGI call."""
    boundary.install_log()
    token = consistency.token_hook(ctx)  # read replicas only: tokens on writes
    record, count = _request_metrics()
    handle = app.wsgi_app
    # the plain availability lookup and the plain order search answered without Flask's
    # request machinery (read replicas: always through Flask, where the consistency token
    # is handled)
    fast_paths: dict[str, fast_reads.FastAvailability | fast_search.FastSearch] = {}
    if token is None:
        keys = app.extensions["oms.keys"]
        fast_paths = {fast_reads.PATH: fast_reads.FastAvailability(ctx, keys, count),
                      fast_search.PATH: fast_search.FastSearch(ctx, keys, count)}
    app.extensions["oms.fast_reads"] = fast_paths.get(fast_reads.PATH)
    app.extensions["oms.fast_search"] = fast_paths.get(fast_search.PATH)

    def timed(environ: dict[str, Any], start_response: Any) -> Any:
        environ["oms.started"] = time.perf_counter()
        answerer = fast_paths.get(environ.get("PATH_INFO"))
        if answerer is not None and answerer.enabled:
            answer = answerer.answer(environ, start_response)
            if answer is not None:
                return answer
        return handle(environ, start_response)

    def before() -> None:
        governance.refresh_if_due(ctx)
        boundary.check_request()

    def after(response: Response) -> Response:
        record(response)
        if token is not None:
            response = token(response)
        return boundary.answered(response)

    app.wsgi_app = timed  # type: ignore[method-assign]
    app.before_request(before)
    app.after_request(after)


def _request_metrics() -> tuple[Any, Any]:
    """Count and time every request; each label set's series is looked up once, not on
    every request. (record(response) after a Flask view; count(endpoint, method, status,
    started) for an answer given without Flask.)"""
    series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def count(endpoint: str, method: str, status: int, started: float | None) -> None:
        key = (endpoint, method, status)
        found = series.get(key)
        if found is None:
            found = series[key] = (metrics.REQUESTS.labels(endpoint, method, str(status)),
                                   metrics.LATENCY.labels(endpoint))
        found[0].inc()
        if started is not None:
            found[1].observe(time.perf_counter() - started)

    def record(response: Response) -> None:
        req = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup
        rule = req.url_rule
        count(rule.rule if rule is not None else "unmatched", req.method,
              response.status_code, req.environ.get("oms.started"))
    return record, count

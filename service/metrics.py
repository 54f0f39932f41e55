"""Prometheus metrics; multi-process aware when PROMETHEUS_MULTIPROC_DIR is set (gunicorn)."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("oms_http_requests_total", "HTTP requests", ["endpoint", "method", "status"])
LATENCY = Histogram(
    "oms_http_request_seconds",
    "HTTP request latency",
    ["endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
FEED_ROWS = Counter("oms_feed_rows_total", "Feed rows by outcome", ["feed", "outcome"])
ORDERS = Counter("oms_orders_total", "Orders by outcome", ["channel", "outcome"])
JOB_RUNS = Counter("oms_job_runs_total", "Scheduler job runs", ["job", "outcome"])
# read replicas (database.read_urls): which server answered each availability lookup
REPLICA_READS = Counter("oms_availability_reads_total",
                        "Availability lookups by the server that answered (primary or replica)",
                        ["server"])
REPLICA_LAG = Gauge("oms_replica_lag_seconds", "How far behind the primary a replica may be",
                    ["replica"], multiprocess_mode="liveall")
REPLICA_HEALTHY = Gauge("oms_replica_healthy", "1 while a replica serves reads, else 0",
                        ["replica"], multiprocess_mode="liveall")
WEBHOOK_ATTEMPTS = Counter("oms_webhook_attempts_total", "Webhook attempts by outcome",
                           ["outcome"])  # delivered | failed | dead


def render() -> tuple[bytes, str]:
    """The exposition text of every metric (all workers' when multi-process)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST

"""Two `oms serve` processes (two workers each) and a scheduler on one database: a rule file
dropped into the folder, or a version published through one server's API, is listed by the
other within reload_seconds; a version activated through one server is what every worker of
the other serves, with and without per-location detail, in plans too; a broken file makes
every process's /healthz degraded."""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from service.services.access.keys import create_key
from tests.processes import Answer, Served, call, serve, start
from tests.support import FIXTURES, T1, snapshot

RELOAD_SECONDS = 1
SLACK_SECONDS = 4  # a process start, a busy machine: the check runs on the next request due
REQUESTS = 12  # enough to reach both workers of a server


def version(n: int, percent: int) -> str:
    """default@2 with another marketplace buffer, as version n."""
    return (FIXTURES / "rulesets" / "default" / "v2.yaml").read_text().replace(
        "version: 2", f"version: {n}").replace("percent: 20", f"percent: {percent}")


def write_config(folder: Path, db_url: str, rules: Path) -> Path:
    path = folder / "config.yaml"
    path.write_text(f"database_url: {db_url}\nrulesets:\n  directory: {rules}\n"
                    f"  active: default@2\n  reload_seconds: {RELOAD_SECONDS}\n"
                    "logging: {level: INFO}\n")
    return path


def until(check, what: str, seconds: float = RELOAD_SECONDS + SLACK_SECONDS):
    """Poll check() until it answers something true; fail naming what never happened."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.1)


def published(server: Served, key: str) -> set[str]:
    return {v["ref"] for v in call("GET", server.base + "/v1/rulesets", key).body["versions"]}


def served_everywhere(server: Served, key: str, ref: str, available: int) -> None:
    """Every worker answers ref, and the same figure with and without detail."""
    for _ in range(REQUESTS):
        plain = call("GET", server.base + "/v1/availability?channel=marketplace&sku=A", key)
        detail = call("GET", server.base +
                      "/v1/availability?channel=marketplace&sku=A&detail=locations", key)
        plan = call("POST", server.base + "/v1/sourcing/plan", key, {
            "channel": "marketplace", "ship_to": {"lat": 40.7, "lon": -74.0},
            "lines": [{"sku": "A", "quantity": 1}]})
        assert (plain.body["ruleset"], detail.body["ruleset"], plan.body["ruleset"]) == (
            ref, ref, ref)
        assert plain.body["items"][0]["available"] == available
        assert detail.body["items"][0]["available"] == available


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(FIXTURES / "rulesets" / "default", folder / "default")
    return folder


def test_every_process_serves_the_version_activated_through_any_of_them(
        small_network, ctx, db_url, tmp_path, rules):
    key = create_key(ctx, "admin")
    config = write_config(tmp_path, db_url, rules)
    a, b = serve(config, "serve-a"), serve(config, "serve-b")
    scheduler = start("scheduler", ["scheduler"], config)
    try:
        assert call("POST", a.base + "/v1/inventory/snapshots", key,
                    snapshot("DC-1", T1, {"A": 20})).status == 200
        served_everywhere(b, key, "default@2", 16)  # 20 less 20 %

        (rules / "default" / "v3.yaml").write_text(version(3, 50))
        until(lambda: "default@3" in published(a, key), "a dropped file listed by A")
        assert "default@3" in published(b, key)
        assert call("POST", b.base + "/v1/rulesets/activate", key,
                    {"name": "default", "version": 3}).status == 200
        served_everywhere(a, key, "default@3", 10)

        answer = publish(a, key, "v4.yaml", version(4, 25))
        assert answer.status == 201, answer.body
        assert "default@4" in published(b, key)
        assert call("POST", a.base + "/v1/rulesets/activate", key,
                    {"name": "default", "version": 4}).status == 200
        served_everywhere(b, key, "default@4", 15)

        (rules / "default" / "v5.yaml").write_text(version(5, 130))
        health = until(lambda: _degraded(b), "a broken file reported by B's /healthz")
        assert health["checks"]["rulesets"]["failing_files"] == [str(rules / "default" /
                                                                     "v5.yaml")]
        assert _degraded(a) and "default@5" not in published(a, key)
        assert all(p.popen.poll() is None for p in (a.process, b.process, scheduler))
    finally:
        for process in (a.process, b.process, scheduler):
            process.stop()


def publish(server: Served, key: str, filename: str, text: str) -> Answer:
    """POST /v1/rulesets with a rule file's text (YAML, not JSON: processes.call sends JSON)."""
    request = urllib.request.Request(f"{server.base}/v1/rulesets?filename={filename}",
                                     data=text.encode(), method="POST",
                                     headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, json.loads(response.read()))
    except urllib.error.HTTPError as error:
        return Answer(error.code, json.loads(error.read()))


def _degraded(server: Served):
    answer = call("GET", server.base + "/healthz")
    return answer.body if answer.body and answer.body.get("status") == "degraded" else None

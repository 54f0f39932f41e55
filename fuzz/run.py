"""Fuzz the running service against its own /openapi.json with schemathesis.

Starts the real service (`oms serve`, gunicorn) on a fresh database seeded with the demo
network (SQLite in a temporary folder, or a schema of its own in the PostgreSQL of
--database-url), creates an admin, a channel and a location key, and runs `schemathesis run`
once per key: every operation, every check, every phase (examples, coverage, fuzzing, and
stateful runs that follow the document's links from placing an order to reading, cancelling
and shipping it), with the demo's skus, locations and channels offered as realistic values.
Exits non-zero on any failure.

    python fuzz/run.py [--database-url URL] [--max-time SECONDS] [--max-examples N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OMS = [sys.executable, "-m", "service.cli"]
BIN = Path(sys.executable).parent
ROLES = ("admin", "channel:web", "location")  # the location key is for a demo location
CONFIG = ROOT / "fuzz" / "schemathesis.toml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL URL (a schema of its own is made and dropped); "
                             "default: SQLite in a temporary folder")
    parser.add_argument("--max-time", type=int, default=600,
                        help="seconds of schemathesis per key (default 600)")
    parser.add_argument("--max-examples", type=int, default=100,
                        help="test cases per operation and phase (default 100)")
    parser.add_argument("--workers", default="1", help="schemathesis workers")
    args = parser.parse_args(argv)
    return run(args.database_url, args.max_time, args.max_examples, args.workers)


def run(database_url: str | None, max_time: int, max_examples: int, workers: str = "1") -> int:
    """Seed, serve and fuzz with each key; the number of keys whose run failed."""
    folder = Path(tempfile.mkdtemp(prefix="oms-fuzz-"))
    try:
        with _database(database_url, folder) as url:
            config = _config(folder, url)
            _oms(config, "db", "upgrade")
            _oms(config, "demo", "seed", "--locations", "12", "--skus", "40")
            with _served(config, folder) as base:
                admin = _oms(config, "keys", "create", "--role", "admin").strip()
                values = _demo_values(base, admin)
                keys = {"admin": admin, "channel:web": _oms(
                    config, "keys", "create", "--role", "channel:web").strip()}
                keys["location"] = _oms(config, "keys", "create", "--role",
                                        f"location:{values['locations'][0]}").strip()
                toml = _schemathesis_config(folder, values)
                failed = 0
                for role in ROLES:
                    print(f"== schemathesis as {role} on {url.split('?')[0]}", flush=True)
                    failed += _fuzz(base, keys[role], toml, max_time, max_examples, workers,
                                    values)
                return failed
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fuzz(base: str, key: str, toml: Path, max_time: int, max_examples: int,
          workers: str, values: dict[str, list]) -> int:
    command = [str(BIN / "schemathesis"), "--config-file", str(toml), "run",
               f"{base}/openapi.json", "--url", base, "--checks", "all",
               "--continue-on-failure", "--max-time", str(max_time),
               "--max-examples", str(max_examples), "--workers", workers,
               "--seed", "13", "-H", f"Authorization: Bearer {key}",
               "--suppress-health-check", "all", "--warnings", "off"]
    hooks = {"SCHEMATHESIS_HOOKS": str(ROOT / "fuzz" / "hooks.py"),
             "OMS_FUZZ_VALUES": json.dumps(values)}
    done = subprocess.run(command, cwd=toml.parent, check=False, env={**os.environ, **hooks})
    return 0 if done.returncode == 0 else 1


@contextmanager
def _database(url: str | None, folder: Path) -> Iterator[str]:
    if not url:
        yield f"sqlite:///{folder / 'oms.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"oms_fuzz_{uuid.uuid4().hex[:10]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(url).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _config(folder: Path, url: str) -> Path:
    path = folder / "config.yaml"
    path.write_text(json.dumps({
        "database_url": url,
        "rulesets": {"directory": str(ROOT / "rulesets"), "active": "default@2",
                     "reload_seconds": 10},
        "server": {"workers": 2, "max_request_bytes": 1048576},
        "logging": {"level": "WARNING"}}))
    return path


def _oms(config: Path, *args: str) -> str:
    done = subprocess.run([*OMS, *args], cwd=ROOT, capture_output=True, text=True, check=False,
                          env={**os.environ, "OMS_CONFIG": str(config)})
    if done.returncode != 0:
        raise RuntimeError(f"oms {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@contextmanager
def _served(config: Path, folder: Path) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (folder / "serve.log").open("w")
    popen = subprocess.Popen([*OMS, "serve", "--port", str(port)], cwd=ROOT, stdout=log,
                             stderr=subprocess.STDOUT,
                             env={**os.environ, "OMS_CONFIG": str(config),
                                  "PROMETHEUS_MULTIPROC_DIR": str(_fresh(folder / "prom"))})
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/healthz", popen)
        yield base
    finally:
        popen.terminate()
        popen.wait(timeout=30)
        log.close()
        kept = ROOT / "var" / "fuzz" / f"serve-{time.strftime('%Y%m%dT%H%M%S')}.log"
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / "serve.log", kept)
        if "Traceback" in kept.read_text(errors="replace"):
            print(f"the service logged errors: see {kept}", file=sys.stderr)


def _fresh(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _wait_for(url: str, popen: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError("oms serve stopped before answering")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within 60 s")


def _get(url: str, key: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _demo_values(base: str, admin: str) -> dict[str, list]:
    """Skus, locations and channels of the seeded demo, for realistic requests."""
    skus = [p["sku"] for p in _get(f"{base}/v1/products?limit=40", admin)["items"]]
    found = _get(f"{base}/v1/locations?limit=12", admin)["items"]
    return {"skus": skus, "locations": [loc["id"] for loc in found],
            "postal_codes": sorted({loc["postal_code"] for loc in found if loc["postal_code"]}),
            "channels": _channels(base, admin), "quantities": [1, 2, 3]}


def _channels(base: str, admin: str) -> list[str]:
    """The channels of the active ruleset."""
    name, _, version = _get(f"{base}/v1/rulesets", admin)["active"].partition("@")
    document = _get(f"{base}/v1/rulesets/{name}/{version}", admin)["document"]
    return sorted(document["channels"])


def _schemathesis_config(folder: Path, values: dict[str, list]) -> Path:
    """The checked-in settings (fuzz/schemathesis.toml) plus the demo's values."""
    lines = [CONFIG.read_text()]
    for name, found in values.items():
        lines.append(f"\n[dictionaries.{name}]\nvalues = {json.dumps(found)}\n")
    path = folder / "schemathesis.toml"
    path.write_text("".join(lines))
    return path


if __name__ == "__main__":
    sys.exit(main())

"""Real `oms` processes for the tests that run the service as an operator does.

`serve`, `scheduler` and `oms` start the console command's processes on a config file the
test writes; `call` speaks HTTP to them; `PrivatePostgres` is a PostgreSQL cluster of the
test's own (initdb into a temporary folder, pg_ctl on a free port), which a test may stop and
start without touching the shared server other tests use.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import FIXTURES

OMS = [sys.executable, "-m", "service.cli"]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(folder: Path, db_url: str, extra: str = "", name: str = "config.yaml") -> Path:
    """A config file on db_url with the test rulesets (strict@1) and a 1 s reload."""
    path = folder / name
    path.write_text(f"database_url: {db_url}\nrulesets:\n  directory: {FIXTURES / 'rulesets'}\n"
                    "  active: strict@1\n  reload_seconds: 1\n" + extra)
    return path


@dataclass
class Process:
    """A started `oms` process and the file its output goes to."""

    name: str
    popen: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def children(self) -> list[int]:
        """The pids of its child processes (gunicorn's workers)."""
        path = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def start(name: str, args: list[str], config: Path, **env: str) -> Process:
    """Start `oms ARGS` on config, its output in a log file beside the config."""
    log = config.parent / f"{name}.log"
    with log.open("w") as out:
        popen = subprocess.Popen([*OMS, *args], stdout=out, stderr=subprocess.STDOUT,
                                 env={**os.environ, "OMS_CONFIG": str(config), **env})
    return Process(name, popen, log)


def oms(args: list[str], config: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run an `oms` command to its end."""
    return subprocess.run([*OMS, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "OMS_CONFIG": str(config)})


@dataclass
class Served:
    """An `oms serve` process and its base URL."""

    process: Process
    base: str


def serve(config: Path, name: str = "serve", workers: int = 2, **env: str) -> Served:
    """Start `oms serve` and wait until /healthz answers."""
    port = free_port()
    process = start(name, ["serve", "--port", str(port), "--workers", str(workers)], config,
                    **env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if call("GET", base + "/healthz").status:
            return Served(process, base)
        time.sleep(0.1)
    process.stop()
    raise AssertionError(f"{name} never answered:\n{process.output()}")


@dataclass
class Answer:
    """An HTTP answer: status (0 when there was none), headers and the JSON body."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def call(method: str, url: str, key: str | None = None, body: Any = None,
         timeout: float = 30, **headers: str) -> Answer:
    """One request; a refused connection or a reset is an Answer with status 0."""
    sent = {"Content-Type": "application/json", **headers}
    if key:
        sent["Authorization"] = f"Bearer {key}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, _json(response.read()), dict(response.headers))
    except urllib.error.HTTPError as error:
        return Answer(error.code, _json(error.read()), dict(error.headers))
    except (OSError, urllib.error.URLError):
        return Answer(0)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def freeze(pid: int) -> None:
    """SIGSTOP: the process stops where it is (its transactions stay open)."""
    os.kill(pid, signal.SIGSTOP)


def thaw(pid: int) -> None:
    """SIGCONT: the process runs on (one killed meanwhile may already be reaped: nothing to
    do)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGCONT)


def as_postgres(argv: list[str]) -> list[str]:
    """argv run as the postgres OS user when we are root (PostgreSQL refuses root)."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of the test's own, on a free port."""

    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/oms"

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c max_connections=60")
        subprocess.run(as_postgres(["pg_ctl", "-D", str(self.data), "-o", options, "-w",
                                    "-l", str(self.data / "server.log"), "start"]),
                       check=True, capture_output=True, timeout=60)

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(as_postgres(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop"]),
                       check=True, capture_output=True, timeout=60)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """initdb a cluster into a temporary folder, start it, create database `oms`; remove
    everything afterwards."""
    data = Path(tempfile.mkdtemp(prefix="oms-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    cluster = PrivatePostgres(data, free_port())
    try:
        subprocess.run(as_postgres(["initdb", "-D", str(data), "-A", "trust", "-U", "postgres",
                                    "--no-sync", "-E", "UTF8"]),
                       check=True, capture_output=True, timeout=120)
        cluster.start()
        subprocess.run(as_postgres(["createdb", "-h", "127.0.0.1", "-p", str(cluster.port),
                                    "-U", "postgres", "oms"]),
                       check=True, capture_output=True, timeout=60)
        yield cluster
    finally:
        subprocess.run(as_postgres(["pg_ctl", "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(data, ignore_errors=True)


def postgres_tools() -> bool:
    """Whether initdb and pg_ctl are on PATH."""
    return bool(shutil.which("initdb") and shutil.which("pg_ctl"))

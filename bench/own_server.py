"""A private PostgreSQL 15 server for benchmarks that need server settings of their own.

`own_server(overrides)` initdbs a cluster into a temporary folder, gives it every setting
that the reference server (the system's, `common.PG_ADMIN`) takes from its configuration
file or command line (fsync, synchronous_commit, max_connections, max_wal_size, autovacuum,
jit, ...: read from its pg_settings, so "everything else equal" holds by construction), then
`overrides` on top (e.g. shared_buffers=4GB), starts it on a free port, yields its admin URL,
and stops and removes it. `differences(a, b)` lists the settings (SHOW ALL) two servers do
not share, to check that only the overrides and the paths and ports differ.

Benchmarks reach it through `common.use_server(url)`, or, as child processes, through
OMS_BENCH_PG (bench/common.py reads it at import):

    python bench/own_server.py -c shared_buffers=4GB -- python bench/bench_orders.py ...

Run as root, the server runs as the `postgres` OS user (PostgreSQL refuses root), as
tests/processes.py's PrivatePostgres does; its few lines are copied here rather than
imported, so that bench/ does not depend on the test helpers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
import psycopg  # noqa: E402
from bench_http import free_port  # noqa: E402

# where each server keeps its own files, its address and its name: never copied
LOCAL = {"config_file", "data_directory", "hba_file", "ident_file", "external_pid_file",
         "port", "listen_addresses", "unix_socket_directories", "cluster_name"}


def as_postgres(argv: list[str]) -> list[str]:
    """argv run as the postgres OS user when we are root."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def configured(admin_url: str) -> dict[str, str]:
    """The settings a server takes from its configuration file or command line (not its
    compiled-in defaults), paths and ports left out: what a copy of it must be given."""
    with psycopg.connect(common._libpq(admin_url)) as conn:
        rows = conn.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE source IN "
            "('configuration file', 'command line', 'environment variable')").fetchall()
    return {name: f"{setting}{_unit(unit)}" for name, setting, unit in rows if name not in LOCAL}


def _unit(unit: str | None) -> str:
    """pg_settings' unit as a suffix the configuration file reads: 8kB pages stay pages."""
    return "" if unit in (None, "8kB") else unit


def show_all(admin_url: str) -> dict[str, str]:
    """SHOW ALL of a server."""
    with psycopg.connect(common._libpq(admin_url)) as conn:
        return {name: value for name, value, _ in conn.execute("SHOW ALL").fetchall()}


def differences(url_a: str, url_b: str) -> dict[str, tuple[str, str]]:
    """The settings of SHOW ALL whose values differ between two servers."""
    a, b = show_all(url_a), show_all(url_b)
    return {k: (a.get(k, "-"), b.get(k, "-")) for k in sorted(a.keys() | b.keys())
            if a.get(k) != b.get(k)}


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@contextmanager
def own_server(overrides: Mapping[str, str], like: str | None = None) -> Iterator[str]:
    """A started private server with `like`'s settings (default: the bench server's) and
    `overrides`; its admin URL. Stopped and removed afterwards."""
    settings = {**configured(like or common.PG_ADMIN), **overrides}
    data = Path(tempfile.mkdtemp(prefix="oms-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    settings |= {"port": str(port), "listen_addresses": "127.0.0.1",
                 "unix_socket_directories": str(data)}
    ctl = ["pg_ctl", "-D", str(data), "-w", "-t", "120"]
    try:
        subprocess.run(as_postgres(["initdb", "-D", str(data), "-A", "trust", "-U", "postgres",
                                    "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8"]),
                       check=True, capture_output=True, timeout=120)
        with (data / "postgresql.conf").open("a") as conf:  # later lines win
            conf.write("\n# bench/own_server.py\n" + "".join(
                f"{name} = {_quoted(value)}\n" for name, value in sorted(settings.items())))
        subprocess.run(as_postgres([*ctl, "-l", str(data / "server.log"), "start"]),
                       check=True, capture_output=True, timeout=180)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        stopped = subprocess.run(as_postgres([*ctl, "-m", "fast", "stop"]),
                                 capture_output=True, timeout=180)
        if stopped.returncode != 0:
            subprocess.run(as_postgres([*ctl, "-m", "immediate", "stop"]),
                           capture_output=True, timeout=60)
        shutil.rmtree(data, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Start a server, print how it differs from the reference, run a command against it
    (OMS_BENCH_PG set) and stop it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", dest="settings", action="append", default=[],
                        metavar="NAME=VALUE", help="a setting over the reference's")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- command to run")
    args = parser.parse_args(argv)
    overrides = dict(s.split("=", 1) for s in args.settings)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    with own_server(overrides) as url:
        for name, (ours, theirs) in differences(url, common.PG_ADMIN).items():
            print(f"{name}: {ours} (reference {theirs})", flush=True)
        if not command:
            print(url, flush=True)
            return 0
        return subprocess.run(command, env={**os.environ, "OMS_BENCH_PG": url}).returncode


if __name__ == "__main__":
    raise SystemExit(main())

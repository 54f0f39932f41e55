"""A real PostgreSQL primary and streaming replica on this machine, for the read-replica tests.

`replicated_postgres()` initdbs a tiny primary into a temporary folder (fsync off, small
buffers), starts it on a free port, `pg_basebackup -R` a replica from it into another
temporary folder and starts that on another free port; the system's PostgreSQL is never
touched. The replica can pause and resume its replay (lag on demand) and be stopped and
started (an outage). Run as root, the servers run as the `postgres` OS user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from tests.processes import PrivatePostgres, as_postgres, free_port, postgres_tools

SERVER_OPTIONS = "-c shared_buffers=16MB -c wal_level=replica -c max_wal_senders=4"


@dataclass
class Replicated:
    """The primary and its replica (each a PrivatePostgres: its folder and port)."""

    primary: PrivatePostgres
    replica: PrivatePostgres

    @property
    def primary_url(self) -> str:
        return self.primary.url

    @property
    def replica_url(self) -> str:
        return self.replica.url

    def replica_sql(self, sql: str) -> Any:
        """The first column of the first row of sql on the replica."""
        with psycopg.connect(_conninfo(self.replica.port), autocommit=True) as conn:
            return conn.execute(sql).fetchone()[0]

    def pause_replay(self) -> None:
        """The replica stops replaying (it keeps receiving): it falls behind."""
        self.replica_sql("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + 10
        while self.replica_sql("SELECT pg_get_wal_replay_pause_state()") != "paused":
            if time.monotonic() > deadline:
                raise TimeoutError("replay did not pause")
            time.sleep(0.01)

    def resume_replay(self) -> None:
        self.replica_sql("SELECT pg_wal_replay_resume()")

    def wait_caught_up(self, timeout: float = 10) -> None:
        """Until the replica has replayed everything the primary has written."""
        with psycopg.connect(_conninfo(self.primary.port), autocommit=True) as conn:
            target = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
        deadline = time.monotonic() + timeout
        while not self.replica_sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
            if time.monotonic() > deadline:
                raise TimeoutError("the replica did not catch up")
            time.sleep(0.01)


def _conninfo(port: int) -> str:
    return f"host=127.0.0.1 port={port} user=postgres dbname=oms"


def _start(cluster: PrivatePostgres) -> None:
    options = (f"-p {cluster.port} -k {cluster.data} -c listen_addresses=127.0.0.1 "
               f"-c fsync=off -c max_connections=60 {SERVER_OPTIONS}")
    subprocess.run(as_postgres(["pg_ctl", "-D", str(cluster.data), "-o", options, "-w",
                                "-l", str(cluster.data / "server.log"), "start"]),
                   check=True, capture_output=True, timeout=60)


class ReplicaServer(PrivatePostgres):
    """A PrivatePostgres started with the replication settings (also after a stop)."""

    def start(self) -> None:
        _start(self)


def _folder(prefix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    return folder


def _run(argv: list[str]) -> None:
    subprocess.run(as_postgres(argv), check=True, capture_output=True, timeout=120)


@contextmanager
def replicated_postgres() -> Iterator[Replicated]:
    """A primary with database `oms` and a streaming replica of it; removed afterwards."""
    primary = ReplicaServer(_folder("oms-primary-"), free_port())
    replica = ReplicaServer(_folder("oms-replica-"), free_port())
    try:
        _run(["initdb", "-D", str(primary.data), "-A", "trust", "-U", "postgres",
              "--no-sync", "-E", "UTF8"])
        primary.start()
        _run(["createdb", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "oms"])
        os.rmdir(replica.data)  # pg_basebackup makes the folder itself (mode 0700)
        _run(["pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
              "-D", str(replica.data), "-R", "-X", "stream", "-c", "fast", "--no-sync"])
        replica.start()
        yield Replicated(primary, replica)
    finally:
        for cluster in (replica, primary):
            subprocess.run(as_postgres(["pg_ctl", "-D", str(cluster.data), "-m", "immediate",
                                        "stop"]), capture_output=True, timeout=60)
            shutil.rmtree(cluster.data, ignore_errors=True)


def replication_tools() -> bool:
    """Whether initdb, pg_ctl and pg_basebackup are on PATH."""
    return postgres_tools() and bool(shutil.which("pg_basebackup"))

"""Webhook delivery on PostgreSQL: events/s to a local receiver against a bare loop posting the
same bodies to the same receiver, and commit-to-delivered latency under load.

Three processes: a receiver (asyncio, HTTP/1.1 keep-alive, records each webhook-id's first
arrival), the delivery worker (the scheduler job's code, `delivery.run`, in a loop) and this
one, which writes the events. Throughput: N events committed at once, timed from their commit
to the last arrival (routing, claiming, signing, sending and recording included). Baseline:
the same N signed bodies posted by a bare loop with the same HTTP client and concurrency, no
database. Latency: events committed in small transactions at a steady rate for a while; each
event's arrival minus its commit. Targets: >= 1,000 events/s; p50 <= 1 s, p99 <= 3 s.

Usage: python bench/bench_webhooks.py [--events N] [--rate R] [--seconds S] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import Figure  # noqa: E402

from service.services.notifications import delivery, subscriptions  # noqa: E402
from service.services.notifications.sending import Message, Sender, body_of  # noqa: E402
from service.store.migrate import upgrade  # noqa: E402
from service.store.models import Event  # noqa: E402

DATABASE = "oms_bench_webhooks"
LANES = 2000  # orders the events belong to (one in flight per order and subscriber)
CONCURRENCY, BATCH = 8, 500
TARGET_RATE, TARGET_P50, TARGET_P99 = 1000.0, 1.0, 3.0


# -- the receiver: its own process, so its work does not share the worker's interpreter --

def receive(port_out: Any, control: Any) -> None:
    """Serve until told to stop; answer 'dump' with {webhook-id: first arrival}."""
    arrivals: dict[str, float] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length, webhook_id = 0, ""
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"webhook-id":
                        webhook_id = value.strip().decode()
                await reader.readexactly(length)
                arrivals.setdefault(webhook_id, time.time())
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, _ctx: None)  # at exit
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512)
        port_out.send(server.sockets[0].getsockname()[1])
        while True:
            await asyncio.sleep(0.05)
            if control.poll():
                command = control.recv()
                if command == "stop":
                    return
                control.send(dict(arrivals))
                arrivals.clear()

    asyncio.run(main())


def work(url: str, stop: Any) -> None:
    """The delivery job's loop (route, claim, send, record; woken by NOTIFY) until stop."""
    ctx = context(url)
    while not stop.is_set():
        delivery.run(ctx)


def context(url: str) -> Any:
    ctx = common.bench_context(url)
    raw = {**ctx.settings.raw, "webhooks": {"run_seconds": 2, "concurrency": CONCURRENCY,
                                           "batch": BATCH, "timeout_seconds": 10}}
    return common.build_context(common.settings_from_dict(raw, base_dir=common.ROOT,
                                                          source="bench"))


# -- this process: events in, figures out --

def write_events(ctx: Any, count: int, start: int = 0) -> tuple[list[int], float]:
    """Commit count fulfilment-like events in one transaction; their ids and commit time."""
    now = datetime.now(UTC)
    rows = [Event(aggregate_type="fulfilment", aggregate_id=f"F{(start + i) % LANES}",
                  type="fulfilment.requested",
                  payload={"order_id": f"O{(start + i) % LANES}", "location": "DC-1",
                           "lines": [{"sku": f"K{i % 97}", "quantity": 1}]}, created_at=now)
            for i in range(count)]
    with ctx.transaction() as uow:
        uow.session.add_all(rows)
        uow.session.flush()
        ids = [r.id for r in rows]
    return ids, time.time()


def arrivals(control: Any) -> dict[str, float]:
    control.send("dump")
    return control.recv()


def wait_for(control: Any, ids: list[int], seconds: float) -> dict[str, float]:
    """The arrivals of ids (waiting until all are in, or seconds pass)."""
    wanted, got = {str(i) for i in ids}, {}
    deadline = time.monotonic() + seconds
    while not wanted <= got.keys() and time.monotonic() < deadline:
        time.sleep(0.05)
        got.update(arrivals(control))
    return got


def bare_loop(url: str, secret: str, count: int) -> float:
    """events/s of the same signed bodies posted by a pooled client, no database."""
    sender = Sender(CONCURRENCY, 10)
    now = datetime.now(UTC)
    messages = [Message(i, f"bare-{i}", url, secret,
                        body_of("fulfilment.requested", {"order_id": f"O{i % LANES}",
                                                         "location": "DC-1"}, now))
                for i in range(count)]
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        answers = sender.send_all(messages[start:start + BATCH])
        if any(a.status_code != 204 for a in answers):
            raise SystemExit("the bare loop got an error answer")
    elapsed = time.perf_counter() - started
    sender.close()
    return count / elapsed


def steady_load(ctx: Any, control: Any, rate: float, seconds: float) -> list[float]:
    """Commit events at rate for seconds (20 per transaction); each one's latency."""
    per_tx = 20
    commits: dict[str, float] = {}
    started, written = time.monotonic(), 0
    while time.monotonic() - started < seconds:
        ids, at = write_events(ctx, per_tx, written)
        commits.update({str(i): at for i in ids})
        written += per_tx
        ahead = written / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)
    got = wait_for(control, [int(i) for i in commits], 60)
    missing = commits.keys() - got.keys()
    if missing:
        raise SystemExit(f"{len(missing)} events never arrived")
    return [got[i] - commits[i] for i in commits]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=TARGET_RATE,
                        help="events/s of the latency phase")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    url = common.create_pg_database(DATABASE)
    spawn = mp.get_context("spawn")
    port_in, port_out = spawn.Pipe()
    control, control_child = spawn.Pipe()
    stop = spawn.Event()
    receiver = spawn.Process(target=receive, args=(port_out, control_child), daemon=True)
    worker = None
    try:
        upgrade(url)
        receiver.start()
        hook = f"http://127.0.0.1:{port_in.recv()}/hook"
        ctx = context(url)
        secret = subscriptions.create(ctx, {"url": hook, "events": ["fulfilment.*"]},
                                      "bench")["secret"]
        bare = bare_loop(hook, secret, args.events)
        arrivals(control)  # forget the bare loop's
        worker = spawn.Process(target=work, args=(url, stop), daemon=True)
        worker.start()
        warm, _ = write_events(ctx, 50)  # the worker is up and listening
        wait_for(control, warm, 60)
        ids, committed = write_events(ctx, args.events, 50)
        got = wait_for(control, ids, 300)
        if len(got) < len(ids):
            raise SystemExit(f"only {len(got)} of {len(ids)} events arrived")
        rate = len(ids) / (max(got.values()) - committed)
        load = min(args.rate, 0.8 * rate)
        latencies = steady_load(ctx, control, load, args.seconds)
        failed = failed_attempts(ctx)
        ctx.close()
    finally:
        stop.set()
        if worker is not None:
            worker.join(10)
            worker.terminate()
        control.send("stop")
        receiver.join(5)
        receiver.terminate()
        common.drop_pg_database(DATABASE)
    return report(args, rate, bare, load, latencies, failed)


def failed_attempts(ctx: Any) -> dict[str, int]:
    """Attempts that did not deliver, by error (a sign of an overloaded receiver or machine)."""
    with ctx.reading() as uow:
        return uow.deliveries.failures()


def report(args: Any, rate: float, bare: float, load: float, latencies: list[float],
           failed: dict[str, int]) -> int:
    p50, p99 = common.percentile(latencies, 50), common.percentile(latencies, 99)
    print(f"PostgreSQL, {args.events} events, concurrency {CONCURRENCY}, batch {BATCH}")
    print(f"delivered by the job        {rate:9.0f} events/s")
    print(f"bare loop, same bodies      {bare:9.0f} events/s  (ratio {rate / bare:.2f})")
    print(f"commit -> delivered at {load:.0f} events/s for {args.seconds:g} s: "
          f"p50 {p50:.3f} s, p99 {p99:.3f} s")
    print(f"attempts that failed (retried with backoff): {sum(failed.values())} {failed}")
    figures = [
        Figure("webhooks", "webhook delivery to a local receiver (PostgreSQL)", rate,
               "events/s", baseline=bare, baseline_what="bare loop posting the same bodies, "
               "events/s", target=f">= {TARGET_RATE:g} events/s", passed=rate >= TARGET_RATE,
               note=f"ratio {rate / bare:.2f} of the bare loop"),
        Figure("webhooks", f"commit to delivered p50 at {load:.0f} events/s", p50, "s",
               target=f"<= {TARGET_P50:g} s", passed=p50 <= TARGET_P50),
        Figure("webhooks", f"commit to delivered p99 at {load:.0f} events/s", p99, "s",
               target=f"<= {TARGET_P99:g} s", passed=p99 <= TARGET_P99),
    ]
    for figure in figures:
        common.print_figure(figure)
    common.write_json(args.json, figures, latencies=latencies)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

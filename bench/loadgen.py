"""HTTP load generator: client processes, each an asyncio loop of keep-alive connections.

A minimal HTTP/1.1 client on raw asyncio streams instead of httpx: on a 2-core machine the
load generator shares the CPU with the API, the worker, PostgreSQL and Redis, and httpx
costs several hundred microseconds of client CPU per request, which would be taken from the
service being measured. Requests are pre-encoded; responses are read by Content-Length
(uvicorn always sends it for JSON responses).

Two modes: ``rate`` (open loop: request *i* of a process is sent at ``start + i / rate``,
by whichever connection is free) and ``saturate`` (every connection sends back to back).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

from bench import corpus

ARTICLE = "ketamine-infusion-therapy"
REQUEST_TIMEOUT = 10.0  # seconds; a slower response counts as an error (TimeoutError)


@dataclass(frozen=True)
class ClientPlan:
    host: str
    port: int
    mode: str  # "rate" or "saturate"
    rate: float  # requests per second for this process (rate mode)
    connections: int
    start_at: float  # wall-clock (time.time) start, shared by all client processes
    duration: float
    seed: int


def requests(host: str, port: int, n: int, seed: int) -> list[bytes]:
    out = []
    for i, body in enumerate(corpus.mixed_lengths(n, seed=seed)):
        payload = json.dumps({"author_name": f"reader{seed}-{i % 97}", "body": body}).encode()
        head = (
            f"POST /api/v1/articles/{ARTICLE}/comments HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"User-Agent: moderation-bench\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode()
        out.append(head + payload)
    return out


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = None
    close = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
    if length is None:
        raise RuntimeError("response without Content-Length")
    await reader.readexactly(length)
    return status, close


class _State:
    def __init__(self, plan: ClientPlan, bodies: list[bytes]) -> None:
        self.plan = plan
        self.bodies = bodies
        self.next = 0
        self.statuses: dict[str, int] = {}
        self.exceptions: dict[str, int] = {}
        self.latencies_ms: list[float] = []
        self.late = 0  # rate mode: requests sent more than 50 ms after their slot
        self.t0 = 0.0

    def take(self) -> tuple[int, float] | None:
        """The next request index and its send time (monotonic), or None when done."""
        i = self.next
        self.next += 1
        if self.plan.mode == "rate":
            at = self.t0 + i / self.plan.rate
            return (i, at) if at < self.t0 + self.plan.duration else None
        return (i, 0.0) if time.monotonic() < self.t0 + self.plan.duration else None


async def _connection(state: _State) -> None:
    plan = state.plan
    reader, writer = await asyncio.open_connection(plan.host, plan.port)
    try:
        while (slot := state.take()) is not None:
            i, at = slot
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif plan.mode == "rate" and delay < -0.05:
                state.late += 1
            sent = time.monotonic()
            try:
                writer.write(state.bodies[i % len(state.bodies)])
                status, close = await asyncio.wait_for(_read_response(reader), REQUEST_TIMEOUT)
            except (OSError, asyncio.IncompleteReadError, RuntimeError, TimeoutError) as exc:
                key = type(exc).__name__
                state.exceptions[key] = state.exceptions.get(key, 0) + 1
                writer.close()
                reader, writer = await asyncio.open_connection(plan.host, plan.port)
                continue
            state.latencies_ms.append((time.monotonic() - sent) * 1000)
            state.statuses[str(status)] = state.statuses.get(str(status), 0) + 1
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(plan.host, plan.port)
    finally:
        writer.close()


async def _main(plan: ClientPlan) -> dict[str, Any]:
    bodies = requests(plan.host, plan.port, 1500, plan.seed)
    state = _State(plan, bodies)
    await asyncio.sleep(max(0.0, plan.start_at - time.time()))
    state.t0 = time.monotonic()
    await asyncio.gather(*(_connection(state) for _ in range(plan.connections)))
    elapsed = time.monotonic() - state.t0
    return {
        "cpu": time.process_time(),
        "statuses": state.statuses,
        "exceptions": state.exceptions,
        "latencies_ms": state.latencies_ms,
        "late": state.late,
        "elapsed": elapsed,
    }


def run_client(plan: ClientPlan) -> dict[str, Any]:
    """Entry point of one client process."""
    return asyncio.run(_main(plan))

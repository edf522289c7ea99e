"""A small keep-alive HTTP/1.1 load generator: N concurrent clients for a fixed duration.

Written on raw asyncio streams because a full client library (httpx) would spend more CPU
than the servers we measure on a 2-core machine; every benchmark uses the same generator,
so the ratios between servers are fair.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    def summary(self) -> dict[str, float]:
        return {
            "rps": round(self.rps, 1),
            "p50_ms": round(self.percentile(0.50), 2),
            "p95_ms": round(self.percentile(0.95), 2),
            "errors": self.errors,
            "requests": self.requests,
        }


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def _client(
    host: str, port: int, request: bytes, stop_at: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            if status >= 400:
                errors.append(status)
    finally:
        writer.close()


async def run_load(
    host: str,
    port: int,
    path: str,
    *,
    clients: int,
    seconds: float,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(
        *(_client(host, port, request, stop_at, latencies, errors) for _ in range(clients))
    )
    return LoadResult(len(latencies), len(errors), time.perf_counter() - started, latencies)


def median_of(results: list[LoadResult]) -> LoadResult:
    """The run with the median throughput (noisy machines: report the middle, not the best)."""
    return sorted(results, key=lambda r: r.rps)[len(results) // 2]


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0

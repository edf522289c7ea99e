"""Chat delivery across two web workers, against Redis pub/sub alone, in the same run.

Qingyuan: two `uvicorn --factory qingyuan.web.app:create_app` processes (A and B) on
PostgreSQL and Redis. `--pairs` connected members: each sender sends messages to worker A in
a closed loop, each recipient holds a WebSocket on worker B. `--send socket` (the default):
`send` frames on the sender's own WebSocket, each waiting for its `sent` reply; `--send post`:
POSTs, one keep-alive connection each. `--spread` puts every other sender on B (and its
recipient on A), as a load balancer would; every message still crosses workers. Latency is
from the send to the WebSocket frame on the recipient's worker: validation, the scam check,
the rate limit, the INSERT, the publish, the hub's fan-out and the socket write.

Reference: the same number of publishers and subscribers on Redis pub/sub directly (one
channel per recipient, the same JSON payload), from the same client process — the floor the
delivery path is built on.

    python -m bench.chat [--pairs 20] [--seconds 10] [--send socket|post] [--spread]
                         [--redis redis://127.0.0.1:6379/14]
                         [--postgres postgres://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from redis.asyncio import Redis
from websockets.asyncio.client import connect

from bench.load import LoadResult
from bench.ports import free_port, port_open


@dataclass
class Pair:
    connection_id: int
    sender: tuple[str, str]  # phone, password (every demo login has its own)
    recipient: tuple[str, str]


@dataclass
class Timings:
    sent: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def received(self, token: str) -> None:
        started = self.sent.pop(token, None)
        if started is not None:
            self.latencies.append(time.perf_counter() - started)


# --- set-up ----------------------------------------------------------------------------------


async def _create_database(server_url: str) -> str:
    import asyncpg

    name = f"qy_bench_chat_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


async def _drop_database(server_url: str, database_url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(
            f'DROP DATABASE IF EXISTS "{database_url.rsplit("/", 1)[1]}" WITH (FORCE)'
        )
    finally:
        await conn.close()


async def _seed(env: dict[str, str], pairs: int) -> list[Pair]:
    """Demo members (verified through the mock departments), connected two by two."""
    from qingyuan import demo
    from qingyuan.connections import ConnectionSource
    from qingyuan.connections.pairs import open_connection
    from qingyuan.matching import Profile
    from qingyuan.parts import build_kernel, connected, migrate
    from qingyuan.platform import accounts
    from qingyuan.settings import load_settings

    settings = load_settings(env, env_file=None)
    await migrate(settings)
    logins = await demo.seed(settings, members=2 * pairs + 4)
    kernel = build_kernel(settings)
    verified = []
    async with connected(settings):
        for login in (item for item in logins if item.role == "member"):
            user = await accounts.find_by_phone(kernel.cipher, login.phone)
            if await Profile.exists(user_id=user.id):
                verified.append((user, login))
        result = []
        for (a, login_a), (b, login_b) in zip(verified[0::2], verified[1::2], strict=False):
            connection = await open_connection(a.id, b.id, ConnectionSource.MATCH)
            result.append(
                Pair(
                    connection.id,
                    (login_a.phone, login_a.password),
                    (login_b.phone, login_b.password),
                )
            )
    await kernel.close()
    return result[:pairs]


def _start_worker(env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "qingyuan.web.app:create_app"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 60
    while not port_open(port):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("a web worker did not start")
        time.sleep(0.1)
    return process, port


async def _session(port: int, login: tuple[str, str]) -> tuple[str, str]:
    phone, password = login
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        response = await client.post("/api/v1/session", json={"phone": phone, "password": password})
        response.raise_for_status()
        return response.cookies["qy_session"], response.json()["csrf_token"]


# --- Qingyuan: POST on A, WebSocket on B ---------------------------------------------------------


async def _post_loop(
    port: int, pair: Pair, session: tuple[str, str], stop_at: float, timings: Timings
) -> int:
    """One sender: keep-alive HTTP/1.1 POSTs in a closed loop (raw streams, as bench.load)."""
    cookie, csrf = session
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    try:
        while time.perf_counter() < stop_at:
            token = f"{pair.connection_id}:{sent}"
            body = json.dumps({"text": f"bench {token} 周末一起去爬山吗？"}).encode()
            request = (
                f"POST /api/v1/connections/{pair.connection_id}/messages HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                f"Cookie: qy_session={cookie}\r\nX-CSRF-Token: {csrf}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            timings.sent[token] = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 201"):
                timings.errors += 1
                timings.sent.pop(token, None)
            sent += 1
    finally:
        writer.close()
    return sent


async def _socket_send_loop(
    port: int, pair: Pair, session: tuple[str, str], stop_at: float, timings: Timings
) -> int:
    """One sender on its own WebSocket: a `send` frame, then its reply, in a closed loop (the
    sender's copies of its messages arrive on the same socket and are skipped)."""
    url, origin = f"ws://127.0.0.1:{port}/ws/chat", f"http://127.0.0.1:{port}"
    cookie = {"Cookie": f"qy_session={session[0]}"}
    sent = 0
    async with connect(url, origin=origin, additional_headers=cookie) as ws:
        while time.perf_counter() < stop_at:
            token = f"{pair.connection_id}:{sent}"
            text = f"bench {token} 周末一起去爬山吗？"
            frame = {"type": "send", "connection_id": pair.connection_id, "text": text}
            timings.sent[token] = time.perf_counter()
            await ws.send(json.dumps({**frame, "ref": sent}))
            while (reply := json.loads(await ws.recv()))["type"] not in ("sent", "refused"):
                pass
            if reply["type"] != "sent":
                timings.errors += 1
                timings.sent.pop(token, None)
            sent += 1
    return sent


async def _socket_reader(port: int, cookie: str, timings: Timings, ready: asyncio.Event) -> None:
    url, origin = f"ws://127.0.0.1:{port}/ws/chat", f"http://127.0.0.1:{port}"
    async with connect(
        url, origin=origin, additional_headers={"Cookie": f"qy_session={cookie}"}
    ) as ws:
        ready.set()
        async for frame in ws:
            event = json.loads(frame)
            if event["type"] == "message":
                timings.received(event["message"]["text"].split(" ")[1])


async def measure_qingyuan(
    ports: tuple[int, int], pairs: list[Pair], seconds: float, via: str, spread: bool
) -> LoadResult:
    """Every message crosses workers. Senders on A and recipients on B; with `spread`, every
    other pair the other way round (as a load balancer spreads connections)."""
    sides = [ports if not spread or i % 2 == 0 else ports[::-1] for i in range(len(pairs))]
    on_sides = list(zip(pairs, sides, strict=True))
    senders = [await _session(side[0], p.sender) for p, side in on_sides]
    recipients = [await _session(side[1], p.recipient) for p, side in on_sides]
    timings = Timings()
    readies = [asyncio.Event() for _ in pairs]
    readers = [
        asyncio.create_task(_socket_reader(side[1], cookie, timings, ready))
        for (cookie, _), ready, side in zip(recipients, readies, sides, strict=True)
    ]
    await asyncio.gather(*(ready.wait() for ready in readies))
    started = time.perf_counter()
    stop_at = started + seconds
    loop = _socket_send_loop if via == "socket" else _post_loop
    await asyncio.gather(
        *(
            loop(side[0], pair, session, stop_at, timings)
            for pair, session, side in zip(pairs, senders, sides, strict=True)
        )
    )
    elapsed = time.perf_counter() - started
    await asyncio.sleep(2)  # frames still in flight
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    lost = len(timings.sent)
    return LoadResult(len(timings.latencies), timings.errors + lost, elapsed, timings.latencies)


# --- reference: Redis pub/sub alone ----------------------------------------------------------


async def measure_redis(url: str, pairs: int, seconds: float) -> LoadResult:
    timings = Timings()
    publisher_clients = [Redis.from_url(url, decode_responses=True) for _ in range(pairs)]
    subscriber = Redis.from_url(url, decode_responses=True)
    channels = [f"bench:chat:{uuid.uuid4().hex}:{i}" for i in range(pairs)]
    pubsubs = [subscriber.pubsub() for _ in range(pairs)]
    for pubsub, channel in zip(pubsubs, channels, strict=True):
        await pubsub.subscribe(channel)

    async def listen(pubsub) -> None:
        async for item in pubsub.listen():
            if item["type"] == "message":
                event = json.loads(item["data"])
                timings.received(event["message"]["text"].split(" ")[1])

    async def publish(index: int, stop_at: float) -> None:
        client, channel, sent = publisher_clients[index], channels[index], 0
        while time.perf_counter() < stop_at:
            token = f"{index}:{sent}"
            event = {
                "type": "message",
                "message": {"id": sent, "connection_id": index, "sender_id": 1,
                            "recipient_id": 2, "text": f"bench {token} 周末一起去爬山吗？",
                            "risk": None, "created_at": "2026-11-27T12:00:00+00:00",
                            "read_at": None},
            }  # fmt: skip
            timings.sent[token] = time.perf_counter()
            await client.publish(channel, json.dumps(event, ensure_ascii=False))
            sent += 1

    listeners = [asyncio.create_task(listen(p)) for p in pubsubs]
    started = time.perf_counter()
    await asyncio.gather(*(publish(i, started + seconds) for i in range(pairs)))
    elapsed = time.perf_counter() - started
    await asyncio.sleep(1)
    for task in listeners:
        task.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    for pubsub in pubsubs:
        await pubsub.aclose()
    for client in [*publisher_clients, subscriber]:
        await client.aclose()
    return LoadResult(len(timings.latencies), len(timings.sent), elapsed, timings.latencies)


def _summary(result: LoadResult) -> dict[str, float]:
    return {
        "messages_per_s": round(result.rps, 1),
        "p50_ms": round(result.percentile(0.50), 2),
        "p95_ms": round(result.percentile(0.95), 2),
        "delivered": result.requests,
        "errors_or_lost": result.errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--send", choices=("socket", "post"), default="socket")
    parser.add_argument(
        "--spread", action="store_true", help="senders on both workers, not only on A"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    database = asyncio.run(_create_database(args.postgres))
    workers = []
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            env = {
                **os.environ,
                "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
                "QINGYUAN_ENV": "development",
                "QINGYUAN_DATA_DIR": data_dir,
                "QINGYUAN_DATABASE_URL": database,
                "QINGYUAN_REDIS_URL": args.redis,
                # the bench measures delivery, not the message and login limits
                "QINGYUAN_RATE_CHAT_NEW": "100000000/3600",
                "QINGYUAN_RATE_LOGIN_IP": "100000/900",
            }
            pairs = asyncio.run(_seed(env, args.pairs))
            workers = [_start_worker(env), _start_worker(env)]
            ports = (workers[0][1], workers[1][1])
            qingyuan = asyncio.run(
                measure_qingyuan(ports, pairs, args.seconds, args.send, args.spread)
            )
            redis_only = asyncio.run(measure_redis(args.redis, len(pairs), args.seconds))
    finally:
        for process, _ in workers:
            process.terminate()
            process.wait(timeout=20)
        asyncio.run(_drop_database(args.postgres, database))
    report = {
        "pairs": len(pairs),
        "seconds": args.seconds,
        "send": args.send,
        "senders_on": "both workers" if args.spread else "worker A",
        "qingyuan_two_workers": _summary(qingyuan),
        "redis_pubsub_alone": _summary(redis_only),
        "ratio_messages_per_s": round(qingyuan.rps / redis_only.rps, 4),
        "p95_ratio": round(qingyuan.percentile(0.95) / redis_only.percentile(0.95), 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

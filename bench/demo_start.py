"""How long `qingyuan demo` takes to serve: a first start on a fresh data directory, then a
second start on the data the first one left.

Each start runs `qingyuan demo --port <free port>` as a new user would (its own process, its
own imports), and is timed from launch to the banner's "running at" line and to the first
HTTP 200 from `/healthz`; the server is then stopped with Ctrl-C (SIGINT). The load average
and the process's CPU seconds are printed with the figures, because these 2 cores are shared
and wall times grow with the load.

    python -m bench.demo_start                 # a fresh temporary data directory
    python -m bench.demo_start --members 200 --data-dir /tmp/demo-var
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.ports import free_port

BANNER = "Qingyuan demo is running at "


@dataclass(frozen=True)
class Start:
    banner_s: float
    healthz_s: float
    cpu_s: float  # user + system CPU of the demo process, start to shutdown
    progress: list[str]


def start_once(data_dir: Path, members: int, timeout: float) -> Start:
    """Launch the demo, wait for its banner and a 200 on /healthz, stop it; the times."""
    port = free_port()
    env = {**os.environ, "QINGYUAN_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("QINGYUAN_PASSWORD_PROFILE", None)  # the default (production) cost, as for a user
    command = [sys.executable, "-m", "qingyuan", "demo", "--port", str(port)]
    cpu_before = _children_cpu()
    launched = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--members", str(members)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    banner_seen = threading.Event()
    assert process.stdout is not None
    stdout = process.stdout

    def read() -> None:
        for line in stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith(BANNER):
                banner_seen.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not banner_seen.wait(timeout):
            raise RuntimeError(f"no banner after {timeout} s:\n" + "\n".join(lines))
        banner_s = time.perf_counter() - launched
        healthz_s = _wait_healthz(port, launched, timeout)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    cpu_s = _children_cpu() - cpu_before
    return Start(banner_s, healthz_s, cpu_s, [line for line in lines if line.startswith("[")])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wait_healthz(port: int, launched: float, timeout: float) -> float:
    url = f"http://127.0.0.1:{port}/healthz"
    while time.perf_counter() - launched < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - launched
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"/healthz did not answer 200 within {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--data-dir", type=Path, help="default: a fresh temporary directory")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    scratch = None if args.data_dir else Path(tempfile.mkdtemp(prefix="qingyuan-demo-"))
    data_dir = args.data_dir or scratch / "var"
    if data_dir.exists() and any(data_dir.iterdir()):
        parser.error(f"{data_dir} is not empty: the first start must be a fresh one")
    try:
        print(f"load average before: {_load()}")
        first = start_once(data_dir, args.members, args.timeout)
        print(f"load average after the first start: {_load()}")
        second = start_once(data_dir, args.members, args.timeout)
        print(f"load average after the second start: {_load()}")
    finally:
        if scratch:
            shutil.rmtree(scratch)
    print("first start, progress:")
    print("\n".join(f"  {line}" for line in first.progress))
    for name, start in (("first", first), ("second", second)):
        print(
            f"{name} start: banner after {start.banner_s:.1f} s, "
            f"/healthz 200 after {start.healthz_s:.1f} s, {start.cpu_s:.1f} CPU s"
        )


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()

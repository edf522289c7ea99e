"""Web throughput: Qingyuan's login page and /healthz against a bare Starlette app.

The reference is the same framework serving the same `login.html` template (and a JSON
`/healthz`) with none of our middleware, sessions, CSRF, i18n or database: the ratio is what
our request pipeline costs. Both servers run as one uvicorn worker in their own process, in
turn, under the same load generator (50 keep-alive clients).

    python -m bench.web [--seconds 8] [--clients 50] [--rounds 3]
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
from pathlib import Path

from bench.load import median_of, run_load
from bench.ports import free_port, port_open

PATHS = {"login page": "/login", "healthz": "/healthz"}


def bare_app():
    """The reference: Starlette + the same Jinja template, a fixed context, nothing else."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.templating import Jinja2Templates

    from qingyuan.web.templating import templates as ours

    templates = Jinja2Templates(env=ours.env)
    context = {
        "locale": "zh_CN",
        "html_lang": "zh-CN",
        "large_text": False,
        "csrf_token": "x" * 64,
        "user": None,
        "path": "/login",
        "next": "",
        "error": None,
        "phone": "",
        "local_time": str,
    }

    async def login(request):
        return templates.TemplateResponse(request, "login.html", context)

    async def healthz(request):
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/login", login), Route("/healthz", healthz)])


def _start(target: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        target,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if port_open(port):
            return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{target} did not start")


def measure(target: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, dict]:
    port = free_port()
    process = _start(target, port, env)
    try:
        figures = {}
        for label, path in PATHS.items():
            asyncio.run(run_load("127.0.0.1", port, path, clients=args.clients, seconds=1))
            runs = [
                asyncio.run(
                    run_load("127.0.0.1", port, path, clients=args.clients, seconds=args.seconds)
                )
                for _ in range(args.rounds)
            ]
            figures[label] = median_of(runs).summary()
        return figures
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "QINGYUAN_DATA_DIR": data_dir, "QINGYUAN_ENV": "development"}
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
        subprocess.run(
            [sys.executable, "-m", "qingyuan", "migrate"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        ours = measure("qingyuan.web.app:create_app", env, args)
        bare = measure("bench.web:bare_app", env, args)
    report = {
        "clients": args.clients,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "qingyuan": ours,
        "bare_starlette": bare,
        "ratio_rps": {k: round(ours[k]["rps"] / bare[k]["rps"], 3) for k in PATHS},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

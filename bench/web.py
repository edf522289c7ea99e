"""Web throughput: Qingyuan's pages against a bare Starlette + Tortoise + Jinja2 app.

One run measures, under the same load generator (50 keep-alive clients), one uvicorn worker
each, in turn, on the same demo database (`qingyuan demo`'s population: 200 verified members
with profiles, a month of activities, today's match run for real):

- the bare reference: Starlette and the same Jinja environment with none of our middleware,
  sessions, CSRF, i18n or queries — `landing.html` and `login.html` with a fixed context,
  and `landing.html` for a user read by **one query** through Tortoise (the page a framework
  gives for free: what a logged-in page of ours is compared with);
- ours: the landing page, the login page, and a logged-in member's `/matches` (today's
  proposals) and `/home`.

Ratios: landing → bare landing, login → bare login, `/matches` and `/home` → bare one-query.

    python -m bench.web [--seconds 8] [--clients 50] [--rounds 3] [--members 200]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.load import median_of, run_load
from bench.ports import free_port, port_open

# label → (our path, the bare app's path it is compared with, logged in?)
PATHS = {
    "landing page": ("/", "/landing", False),
    "login page": ("/login", "/login", False),
    "/matches (member)": ("/matches", "/query", True),
    "/home (member)": ("/home", "/query", True),
}
BARE_PATHS = ("/landing", "/login", "/query")


def bare_app() -> Any:
    """The reference: Starlette + Tortoise + the same Jinja templates, nothing else."""
    import contextlib

    from starlette.applications import Starlette
    from starlette.routing import Route
    from starlette.templating import Jinja2Templates
    from tortoise.contrib.starlette import RegisterTortoise

    from qingyuan.parts import tortoise_config
    from qingyuan.platform.models import User
    from qingyuan.settings import load_settings
    from qingyuan.web.templating import templates as ours

    settings = load_settings()
    templates = Jinja2Templates(env=ours.env)
    context = {
        "locale": "zh_CN",
        "html_lang": "zh-CN",
        "large_text": False,
        "csrf_token": "x" * 64,
        "user": None,
        "path": "/",
        "next": "",
        "error": None,
        "phone": "",
        "local_time": str,
        "unread_notices": 0,
        "unread_messages": 0,
    }

    async def landing(request):
        return templates.TemplateResponse(request, "landing.html", context)

    async def login(request):
        return templates.TemplateResponse(request, "login.html", {**context, "path": "/login"})

    async def query(request):
        user = await User.filter(is_active=True).order_by("-id").first()
        return templates.TemplateResponse(request, "landing.html", {**context, "user": user})

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            yield

    routes = [Route("/landing", landing), Route("/login", login), Route("/query", query)]
    return Starlette(routes=routes, lifespan=lifespan)


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


def _log_in(port: int, login: dict[str, str]) -> dict[str, str]:
    """Log the member in over the JSON API; the headers that carry their session."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = json.dumps({"phone": login["phone"], "password": login["password"]})
    connection.request("POST", "/api/v1/session", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"member login failed: {response.status}")
    cookie = response.getheader("set-cookie", "").split(";", 1)[0]
    return {"Cookie": cookie}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of the server process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load(
    process: subprocess.Popen, port: int, path: str, headers: dict, args: argparse.Namespace
) -> dict:
    """The median round's figures, and the server's CPU per request over all rounds (a
    figure the other jobs on a shared machine disturb less than requests per second)."""
    asyncio.run(run_load("127.0.0.1", port, path, clients=args.clients, seconds=1, headers=headers))
    started = _cpu_seconds(process.pid)
    runs = [
        asyncio.run(
            run_load(
                "127.0.0.1", port, path, clients=args.clients, seconds=args.seconds, headers=headers
            )
        )
        for _ in range(args.rounds)
    ]
    cpu = _cpu_seconds(process.pid) - started
    requests = sum(run.requests for run in runs)
    return {**median_of(runs).summary(), "cpu_ms_per_request": round(cpu / requests * 1000, 2)}


def measure_ours(env: dict[str, str], login: dict[str, str], args: argparse.Namespace) -> dict:
    port = free_port()
    process = _start("qingyuan.web.app:create_app", port, env)
    try:
        member = _log_in(port, login)
        return {
            label: _load(process, port, ours, member if logged_in else {}, args)
            for label, (ours, _bare, logged_in) in PATHS.items()
        }
    finally:
        process.terminate()
        process.wait(timeout=10)


def measure_bare(env: dict[str, str], args: argparse.Namespace) -> dict:
    port = free_port()
    process = _start("bench.web:bare_app", port, env)
    try:
        return {path: _load(process, port, path, {}, args) for path in BARE_PATHS}
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _seed(env: dict[str, str], members: int) -> dict[str, str]:
    """The demo population; returns the login of a member who has a proposal today."""
    from qingyuan import demo
    from qingyuan.matching.models import Proposal
    from qingyuan.parts import build_kernel, connected
    from qingyuan.platform.accounts import phone_of
    from qingyuan.platform.models import User
    from qingyuan.settings import load_settings

    settings = load_settings(env, env_file=None)
    logins = await demo.seed(settings, members=members)
    kernel = build_kernel(settings)
    async with connected(settings):
        try:
            proposal = await Proposal.filter(day=settings.local_today()).order_by("id").first()
            if proposal is None:
                raise RuntimeError("the demo's match run proposed nobody today")
            phone = phone_of(kernel.cipher, await User.get(id=proposal.a_id))
            proposals = await Proposal.filter(day=settings.local_today()).count()
        finally:
            await kernel.close()
    [login] = [entry for entry in logins if entry.phone == phone]
    return {"phone": login.phone, "password": login.password, "proposals": str(proposals)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--members", type=int, default=200)
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
        login = asyncio.run(_seed(env, args.members))
        ours = measure_ours(env, login, args)
        bare = measure_bare(env, args)
    report = {
        "clients": args.clients,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "members": args.members,
        "proposals_today": int(login["proposals"]),
        "qingyuan": ours,
        "bare_starlette": bare,
        "ratio_rps": {
            f"{label} / bare {bare_path}": round(ours[label]["rps"] / bare[bare_path]["rps"], 3)
            for label, (_ours, bare_path, _logged_in) in PATHS.items()
        },
        "ratio_cpu_per_request": {
            f"bare {bare_path} / {label}": round(
                bare[bare_path]["cpu_ms_per_request"] / ours[label]["cpu_ms_per_request"], 3
            )
            for label, (_ours, bare_path, _logged_in) in PATHS.items()
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""`qingyuan …`: run, migrate, seed and check the platform from a terminal."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import ipaddress
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from qingyuan.platform.database import DatabaseNotMigrated, connected, ensure_migrated, migrate
from qingyuan.platform.encryption import BATCH_SIZE
from qingyuan.platform.settings import Settings, deploy_problems, load_settings

if TYPE_CHECKING:
    import uvicorn

    from qingyuan.platform.kernel import Kernel
    from qingyuan.platform.models import User

Command = Callable[[argparse.Namespace, Settings], int]


class CommandError(Exception):
    """A problem the operator must fix; printed without a traceback, exit status 2."""


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(migrate(settings))
    print(f"Database is up to date: {_redacted(settings.database_url)}")
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    problems = deploy_problems(settings) if args.deploy else []
    for problem in problems:
        print(f"- {problem}")
    print(f"{len(problems)} problem(s) found." if problems else "No problems found.")
    return 1 if problems else 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    _check_servable(settings, args.workers)
    if args.workers > 1:
        prepare_metrics_dir(settings)
    from qingyuan.web import server

    server.run(
        server.server_config(
            settings,
            "qingyuan.web.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
        )
    )
    return 0


def prepare_metrics_dir(settings: Settings) -> Path:
    """Point prometheus-client's multiprocess mode at an emptied directory (the workers
    inherit the variable and write their samples there; /metrics sums them). Files from an
    earlier run would add its counts to this one's."""
    directory = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.data_dir / "metrics")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate, seed (saying what it does) and serve; the logins once HTTP answers."""
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:5.1f} s] {message}", flush=True)

    from qingyuan import demo

    if _reachable_from_network(args.host):
        print(DEMO_HOST_WARNING, file=sys.stderr)
    if args.reset:
        try:
            removed = demo.reset(settings)
        except demo.ResetRefused as exc:
            raise CommandError(str(exc)) from exc
        print(f"Removed the demo data in {settings.data_dir} ({len(removed)} entries).")
        settings = load_settings()  # the removed development keys are generated anew
    progress("Migrating the database…")
    asyncio.run(migrate(settings))
    logins = asyncio.run(demo.seed(settings, members=args.members, progress=progress))
    progress("Starting the web app…")
    from qingyuan.web import server as web_server
    from qingyuan.web.app import create_app

    config = web_server.server_config(
        settings, create_app(settings), host=args.host, port=args.port, log_level="warning"
    )
    url = f"http://{_reachable_host(args.host)}:{args.port}/"

    def serving() -> None:
        progress("Serving.")
        print(demo.banner(url, logins, settings), flush=True)

    import uvicorn

    if not asyncio.run(_serve(uvicorn.Server(config), serving)):
        raise CommandError(f"Could not serve on {args.host}:{args.port} (see above).")
    return 0


DEMO_HOST_WARNING = (
    "Warning: `qingyuan demo --host` makes the demo reachable from your network, for trying it "
    "on a phone only. It is not a deployment: development keys kept in the data directory, "
    "SQLite, in-memory Redis, no TLS (passwords cross the network in clear), and printed demo "
    "passwords. Use it on a network you trust, and stop it when done."
)


async def _serve(server: uvicorn.Server, on_started: Callable[[], None]) -> bool:
    """Run `server` until it stops; `on_started` once it listens. False if it never did."""
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():  # noqa: ASYNC110 (a flag, no event)
        await asyncio.sleep(0.05)
    if server.started:
        on_started()
    await serving
    return server.started


def _reachable_from_network(host: str) -> bool:
    """Anything but a loopback address (a host name is assumed to be the machine's)."""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def _reachable_host(host: str) -> str:
    """What to type on another device: this machine's address when bound to every interface."""
    if host not in ("0.0.0.0", "::", ""):  # noqa: S104 (comparing, not binding)
        return f"[{host}]" if ":" in host else host
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP: chooses the outgoing interface, sends nothing
            return probe.getsockname()[0]
        except OSError:
            return socket.gethostname()


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    if settings.uses_memory_redis:
        raise CommandError(
            "`qingyuan worker` needs a Redis server: set QINGYUAN_REDIS_URL "
            "(with memory:// the worker runs inside `qingyuan serve`)."
        )
    _check_servable(settings, 1)
    from qingyuan.worker import run_worker

    asyncio.run(run_worker(settings))
    return 0


def cmd_createuser(args: argparse.Namespace, settings: Settings) -> int:
    password = args.password or getpass.getpass("Password: ")
    user_id = asyncio.run(_create_staff(settings, args.role, args.phone, password, args.name))
    print(f"Created {args.role} account #{user_id}.")
    return 0


async def _create_staff(settings: Settings, role: str, phone: str, password: str, name: str) -> int:
    from qingyuan.platform import accounts
    from qingyuan.platform.crypto import PIICipher
    from qingyuan.platform.errors import UserError
    from qingyuan.platform.models import Role

    cipher = PIICipher(settings.pii_keys, settings.blind_index_key)
    async with connected(settings):
        try:
            user = await accounts.do_create_staff(
                cipher,
                phone=phone,
                password=password,
                role=Role(role),
                display_name=name,
                actor=None,
                reason="qingyuan createuser",
                **_operator(),
            )
        except UserError as exc:
            raise CommandError(" ".join([exc.message, *exc.fields.values()])) from exc
    return user.id


def cmd_departments(args: argparse.Namespace, settings: Settings) -> int:
    """The six mock departments as their own HTTP service (one process: keys live in memory)."""
    import uvicorn

    from qingyuan.verification.settings import verification_settings
    from qingyuan.verification.wiring import mock_departments_app

    app = mock_departments_app(verification_settings(settings))
    print(
        f"Mock departments on http://{args.host}:{args.port}/{{department}}/ — set "
        f"QINGYUAN_DEPARTMENTS_URL=http://{args.host}:{args.port} for the platform."
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_model_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    """The live model on the latest stored decisions, or the Speed Dating protocol."""
    import json

    if args.speed_dating:
        from qingyuan.matching.speed_dating import evaluate_speed_dating

        if not args.speed_dating.is_file():
            raise CommandError(f"No such file: {args.speed_dating}")
        print(json.dumps(evaluate_speed_dating(args.speed_dating), indent=2))
        return 0
    from qingyuan.matching.training import evaluate_live

    print(json.dumps(asyncio.run(_on_decisions(settings, evaluate_live)), indent=2))
    return 0


def cmd_model_train(args: argparse.Namespace, settings: Settings) -> int:
    """Train on stored decisions; the new version goes live only if it is not worse."""
    import json

    from qingyuan.matching.training import train_model

    print(json.dumps(asyncio.run(_on_decisions(settings, train_model)), indent=2))
    return 0


async def _on_decisions(settings: Settings, action: Callable) -> dict:
    from qingyuan.matching.training import model_dir

    async with connected(settings):
        return await action(model_dir(settings), settings.local_today())


def cmd_match_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the daily match now (for `--date`, default today) and print its figures as JSON."""
    import json

    print(json.dumps(asyncio.run(_match_run(settings, args.date))))
    return 0


async def _match_run(settings: Settings, day: str | None) -> dict[str, object]:
    from datetime import date

    from qingyuan.matching.daily import run_day
    from qingyuan.platform.kernel import build_kernel

    kernel = build_kernel(settings)
    try:
        when = date.fromisoformat(day) if day else kernel.settings.local_today()
    except ValueError as exc:
        raise CommandError(f"--date must look like 2026-11-27, not {day!r}") from exc
    async with connected(settings):
        try:
            return await run_day(kernel, when)
        finally:
            await kernel.close()


def _check_servable(settings: Settings, workers: int) -> None:
    if workers > 1 and settings.uses_memory_redis:
        raise CommandError(
            "QINGYUAN_REDIS_URL is memory://, which lives inside one process: "
            "run one worker, or set QINGYUAN_REDIS_URL=redis://host:6379/0."
        )
    if settings.is_production and (problems := deploy_problems(settings)):
        raise CommandError("Refusing to start in production:\n- " + "\n- ".join(problems))
    try:
        asyncio.run(ensure_migrated(settings))
    except DatabaseNotMigrated as exc:
        raise CommandError(str(exc)) from exc


def _redacted(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}" if "@" in rest else url


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    """Re-encrypt every declared encrypted column under the newest QINGYUAN_PII_KEYS key."""
    from qingyuan.platform.crypto import PIICipher
    from qingyuan.platform.encryption import UnreadableValue, rotate

    if not settings.pii_keys:
        raise CommandError("QINGYUAN_PII_KEYS is empty: list the new key first, then the old.")
    cipher = PIICipher(settings.pii_keys, settings.blind_index_key)
    try:
        asyncio.run(ensure_migrated(settings))
    except DatabaseNotMigrated as exc:
        raise CommandError(str(exc)) from exc

    async def run() -> dict[str, int]:
        async with connected(settings):
            return await rotate(cipher, batch_size=args.batch_size)

    try:
        changed = asyncio.run(run())
    except UnreadableValue as exc:
        raise CommandError(
            f"{exc}. Is its key still listed in QINGYUAN_PII_KEYS? Rows done so far stay "
            "re-encrypted; run the command again once the key is listed."
        ) from exc
    for column, count in changed.items():
        print(f"{column}: {count} re-encrypted")
    print(
        f"Every encrypted value is now under key {cipher.current_key_id}; "
        "older keys can be removed from QINGYUAN_PII_KEYS."
    )
    return 0


def cmd_account(args: argparse.Namespace, settings: Settings) -> int:
    """Suspend an account or lift its suspension: the action an admin's report decision runs
    (sessions end, open sockets close), audit-logged with the reason and the operator."""
    from qingyuan.connections import safety

    async def act(kernel: Kernel, user: User) -> bool:
        if args.action == "suspend":
            return await safety.do_suspend_account(
                kernel, user, actor=None, reason=args.reason, **_operator()
            )
        return await safety.do_unsuspend_account(
            user, actor=None, reason=args.reason, **_operator()
        )

    changed = asyncio.run(_on_user(settings, args.user_id, act))
    done = {"suspend": "suspended; its sessions ended", "unsuspend": "active again"}
    already = {"suspend": "was already suspended", "unsuspend": "was not suspended"}
    print(f"Account #{args.user_id} {(done if changed else already)[args.action]}.")
    return 0


def cmd_consent_withdraw(args: argparse.Namespace, settings: Settings) -> int:
    """Record a member's withdrawal of consent that reached us another way (a letter, a call):
    the action the member's own button runs, audit-logged with the reason and the operator."""
    from qingyuan.verification.review import do_withdraw_consent, member_of

    async def act(kernel: Kernel, user: User) -> bool:
        member = await member_of(user)
        if member is None:
            raise CommandError(f"Account #{user.id} is not a registered member.")
        return await do_withdraw_consent(
            kernel.cipher, member, actor=None, reason=args.reason, **_operator()
        )

    changed = asyncio.run(_on_user(settings, args.user_id, act))
    state = "withdrawn" if changed else "was already withdrawn"
    print(f"Consent of account #{args.user_id} {state}.")
    return 0


def _operator() -> dict[str, str]:
    """Who ran the command, for the audit row (its actor is the system: no account runs it)."""
    return {"via": "cli", "operator": getpass.getuser()}


async def _on_user(
    settings: Settings, user_id: int, act: Callable[[Kernel, User], Awaitable[bool]]
) -> bool:
    """Run an action on one account with a kernel of its own; its side effects (sessions,
    sockets) have run when this returns."""
    from qingyuan.platform.errors import UserError
    from qingyuan.platform.kernel import build_kernel
    from qingyuan.platform.models import User

    kernel = build_kernel(settings)
    try:
        async with connected(settings):
            user = await User.get_or_none(id=user_id)
            if user is None:
                raise CommandError(f"There is no account #{user_id}.")
            try:
                return await act(kernel, user)
            except UserError as exc:
                raise CommandError(" ".join([exc.message, *exc.fields.values()])) from exc
    finally:
        await kernel.close()


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {text}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qingyuan", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    check = sub.add_parser("check", help="check the settings")
    check.add_argument("--deploy", action="store_true", help="list what is unsafe for production")
    check.set_defaults(func=cmd_check)
    serve = sub.add_parser("serve", help="run the web app (and, embedded, the worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)
    demo = sub.add_parser("demo", help="migrate, seed demo data and serve on 127.0.0.1")
    demo.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on, e.g. 0.0.0.0 to try it on a phone on the same network",
    )
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--members", type=int, default=200)
    demo.add_argument(
        "--reset",
        action="store_true",
        help="remove the demo's database, keys and logins from the data directory first",
    )
    demo.set_defaults(func=cmd_demo)
    sub.add_parser("worker", help="run background jobs").set_defaults(func=cmd_worker)
    create = sub.add_parser("createuser", help="create a staff account")
    create.add_argument("--role", choices=["admin", "matchmaker"], required=True)
    create.add_argument("--phone", required=True)
    create.add_argument("--name", default="")
    create.add_argument("--password", help="prompted for when omitted")
    create.set_defaults(func=cmd_createuser)
    model = sub.add_parser("model", help="the scoring model of the daily matcher")
    model_sub = model.add_subparsers(dest="action", required=True)
    evaluate = model_sub.add_parser("evaluate", help="print evaluation metrics as JSON")
    evaluate.add_argument(
        "--speed-dating", type=Path, help="speed_dating.csv of the Columbia speed-dating experiment"
    )
    evaluate.set_defaults(func=cmd_model_evaluate)
    model_sub.add_parser(
        "train", help="train on stored decisions; promote if not worse"
    ).set_defaults(func=cmd_model_train)
    match = sub.add_parser("match", help="the daily matcher")
    match_sub = match.add_subparsers(dest="action", required=True)
    match_run = match_sub.add_parser("run", help="run the daily match now (idempotent)")
    match_run.add_argument("--date", help="the day to run, YYYY-MM-DD (default: today)")
    match_run.set_defaults(func=cmd_match_run)
    keys = sub.add_parser("keys", help="the PII encryption keys")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    rotate = keys_sub.add_parser(
        "rotate", help="re-encrypt everything under the newest key (idempotent, resumable)"
    )
    rotate.add_argument(
        "--batch-size", type=_positive, default=BATCH_SIZE, help="rows per transaction"
    )
    rotate.set_defaults(func=cmd_keys_rotate)
    account = sub.add_parser("account", help="suspend an account or lift its suspension")
    account_sub = account.add_subparsers(dest="action", required=True)
    for action, text in (
        ("suspend", "suspend: no login, no matches; its sessions and sockets end"),
        ("unsuspend", "lift a suspension"),
    ):
        command = account_sub.add_parser(action, help=text)
        command.add_argument("user_id", type=_positive, help="the account's id")
        command.add_argument("--reason", required=True, help="why (goes to the audit log)")
        command.set_defaults(func=cmd_account)
    consent = sub.add_parser("consent", help="members' consent to verification")
    consent_sub = consent.add_subparsers(dest="action", required=True)
    withdraw = consent_sub.add_parser(
        "withdraw", help="record a withdrawal the member sent another way (letter, call)"
    )
    withdraw.add_argument("user_id", type=_positive, help="the member's account id")
    withdraw.add_argument("--reason", required=True, help="how it reached us (audit log)")
    withdraw.set_defaults(func=cmd_consent_withdraw)
    departments = sub.add_parser("departments", help="the mock government departments")
    departments_sub = departments.add_subparsers(dest="action", required=True)
    departments_serve = departments_sub.add_parser("serve", help="serve them over HTTP")
    departments_serve.add_argument("--host", default="127.0.0.1")
    departments_serve.add_argument("--port", type=int, default=8100)
    departments_serve.set_defaults(func=cmd_departments)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ValueError as exc:  # a malformed setting: the message names the variable
        print(f"qingyuan: {exc}", file=sys.stderr)
        return 2
    try:
        return args.func(args, settings)
    except CommandError as exc:
        print(f"qingyuan: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

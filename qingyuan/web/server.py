"""How `qingyuan serve` and `qingyuan demo` run uvicorn: which proxies are believed, how long
a client may take, and what the access log may show.

- Proxy headers (`X-Forwarded-For`, `-Proto`) are believed only from the addresses in
  `QINGYUAN_TRUSTED_PROXIES` (comma-separated IPs or networks, default none). Trusting them
  from anyone, loopback included, would let a client pick its own address and so reset every
  per-address rate limit with one header.
- A request's headers must arrive within `QINGYUAN_HTTP_HEADER_TIMEOUT` seconds (10) and in at
  most `MAX_HEADER_BYTES`; uvicorn itself has no header-read timeout, so a client that sends
  headers slowly (slowloris) would otherwise hold its connection forever. Idle keep-alive
  connections close after `KEEP_ALIVE_SECONDS`, and one worker serves at most
  `QINGYUAN_HTTP_MAX_CONCURRENCY` (2000) connections and tasks at once (then 503).
- The access log never shows the secret token of a calendar feed URL.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from qingyuan.platform.settings import PlatformSettings
from qingyuan.web.settings import web_settings

KEEP_ALIVE_SECONDS = 5
MAX_HEADER_BYTES = 64 * 1024
_CALENDAR_TOKEN = re.compile(r"(/calendar/)[^/?#\s]+(\.ics)")


class ServerConfig(uvicorn.Config):
    """uvicorn's configuration plus the header limits that its protocols do not have."""

    def __init__(
        self, app: Any, *, header_timeout: float, max_header_bytes: int, **options: Any
    ) -> None:
        super().__init__(app, **options)
        self.header_timeout = header_timeout
        self.max_header_bytes = max_header_bytes


class BoundedHeadersProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size limit on each request's
    headers, counted from the connection (or the request's first byte) to the blank line."""

    def __init__(self, config: ServerConfig, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.header_timeout = config.header_timeout
        self.max_header_bytes = config.max_header_bytes
        self.header_deadline: asyncio.TimerHandle | None = None
        self.header_bytes = 0
        self.in_headers = True

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_headers()

    def data_received(self, data: bytes) -> None:
        if self.in_headers:
            self.header_bytes += len(data)
            if self.header_bytes > self.max_header_bytes:
                self._give_up("Request headers too large.")
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self.in_headers:  # the next request on a kept-alive connection
            self._start_headers()

    def on_headers_complete(self) -> None:
        self._stop_headers()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_headers()
        super().connection_lost(exc)

    def _start_headers(self) -> None:
        self.in_headers, self.header_bytes = True, 0
        if self.header_deadline is None:
            self.header_deadline = self.loop.call_later(
                self.header_timeout, self._give_up, "Request headers took too long."
            )

    def _stop_headers(self) -> None:
        self.in_headers = False
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def _give_up(self, reason: str) -> None:
        self.header_deadline = None
        if not self.transport.is_closing():
            self.logger.info("Closing a connection: %s", reason)
            self.transport.close()


class RedactSecrets(logging.Filter):
    """Replace the calendar feed token in access-log lines (the feed URL is the member's
    secret: whoever reads it can follow their calendar)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) > 2:
            args = list(record.args)
            args[2] = redact_path(str(args[2]))
            record.args = tuple(args)
        return True


def redact_path(path: str) -> str:
    return _CALENDAR_TOKEN.sub(r"\1…\2", path)


def log_config() -> dict[str, Any]:
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": f"{__name__}.RedactSecrets"}}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact"]
    return config


def server_config(settings: PlatformSettings, app: Any, **options: Any) -> ServerConfig:
    """The uvicorn configuration for `app` (an app or an import string) under `settings`;
    `options` are uvicorn's own (host, port, workers, log_level, factory)."""
    config = web_settings(settings)
    proxies = list(config.trusted_proxies)
    return ServerConfig(
        app,
        header_timeout=config.http_header_timeout,
        max_header_bytes=MAX_HEADER_BYTES,
        http=BoundedHeadersProtocol,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        limit_concurrency=config.http_max_concurrency,
        log_config=log_config(),
        **options,
    )


def run(config: ServerConfig) -> None:
    """Serve until interrupted: in this process, or in `config.workers` spawned workers."""
    if config.workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    uvicorn.Server(config).run()

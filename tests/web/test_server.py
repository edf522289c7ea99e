"""The HTTP server as `qingyuan serve` and `qingyuan demo` configure it, over real sockets:
which proxy headers it believes, how long a client may take with its headers, and what its
access log writes."""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn

from qingyuan.parts import migrate
from qingyuan.web import server
from qingyuan.web.app import create_app
from tests.conftest import free_port, wait_for_port


@pytest.fixture
def serve(make_settings) -> Iterator[Callable[..., int]]:
    """Start the app under `server.server_config` in a thread; returns its port."""
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(**overrides: str) -> int:
        settings = make_settings(**overrides)
        asyncio.run(migrate(settings))
        port = free_port()
        config = server.server_config(
            settings, create_app(settings), host="127.0.0.1", port=port, log_level="info"
        )
        instance = uvicorn.Server(config)
        thread = threading.Thread(target=lambda: asyncio.run(instance.serve()), daemon=True)
        thread.start()
        wait_for_port(port)
        running.append((instance, thread))
        return port

    yield start
    for instance, thread in running:
        instance.should_exit = True
        thread.join(timeout=10)


def log_in_attempt(port: int, forwarded_for: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"phone": "13800009999", "password": "wrong-password-1"})
    headers = {"Content-Type": "application/json", "X-Forwarded-For": forwarded_for}
    connection.request("POST", "/api/v1/session", body=body, headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


def test_a_forwarded_for_header_does_not_reset_per_address_limits(serve):
    port = serve(QINGYUAN_RATE_LOGIN_IP="2/600")
    statuses = [log_in_attempt(port, f"198.51.100.{n}") for n in range(1, 4)]
    assert 429 not in statuses[:2] and statuses[2] == 429


def test_forwarded_for_is_believed_from_a_configured_proxy(serve):
    port = serve(QINGYUAN_RATE_LOGIN_IP="2/600", QINGYUAN_TRUSTED_PROXIES="127.0.0.1")
    statuses = [log_in_attempt(port, f"198.51.100.{n}") for n in range(1, 4)]
    assert 429 not in statuses  # three clients behind the proxy, one attempt each


def test_a_connection_with_unfinished_headers_is_closed(serve):
    port = serve(QINGYUAN_HTTP_HEADER_TIMEOUT="1")
    with socket.create_connection(("127.0.0.1", port), timeout=6) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        slow.sendall(b"X-Slow: 1\r\n")  # trickling headers does not extend the deadline
        assert slow.recv(1024) == b""  # closed by the server, not by our 6 s timeout
        assert time.monotonic() - started < 4


def test_oversized_headers_close_the_connection(serve):
    port = serve()
    headers = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 100_000 + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=6) as greedy:
        try:
            greedy.sendall(headers)
            answer = greedy.recv(1024)
        except (ConnectionResetError, BrokenPipeError):
            answer = b""
        assert answer == b""


def test_a_kept_alive_connection_still_serves_requests(serve):
    port = serve(QINGYUAN_HTTP_HEADER_TIMEOUT="1")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(2):
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        assert response.status == 200 and response.read()
        time.sleep(1.2)  # longer than the header timeout, between requests
    connection.close()


def test_the_access_log_never_shows_a_calendar_token(serve):
    port = serve()
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    keep = Keep()
    logging.getLogger("uvicorn.access").addHandler(keep)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/calendar/SeCrEtFeedToken0123456789.ics?x=1")
        connection.getresponse().read()
        connection.close()
    finally:
        logging.getLogger("uvicorn.access").removeHandler(keep)
    assert any("/calendar/" in line for line in lines), lines
    assert not any("SeCrEtFeedToken" in line for line in lines), lines

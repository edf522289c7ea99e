"""Asking the six departments: OAuth2 client credentials, attestation requests, public keys.

Each department gets its own authlib ``AsyncOAuth2Client``: it fetches an access token with
the client-credentials grant on first use and fetches a new one when it is about to expire.
The transport is injectable, so the embedded mode talks to the in-process mock app through
:func:`asgi_transport` and the scaled mode to a real base URL.

Failures are sorted by what the verification pipeline does with them — and none of them is a
reason to reject a member:

* :class:`DepartmentUnavailable` — timeout, refused connection, 5xx, 429, an unreadable
  answer: the department may answer later, so the member stays pending and is retried.
* :class:`DepartmentRefused` — the department refused *our* request (4xx such as
  ``invalid_client``): a configuration problem for an operator; retrying alone will not help.
* :class:`~qingyuan.verification.attestations.AttestationInvalid` — an answer that must not be
  believed (forged, replayed, expired…).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from starlette.types import ASGIApp

from qingyuan.verification.attestations import Attestation, AttestationInvalid, AttestationVerifier
from qingyuan.verification.protocol import ALGORITHM, DEPARTMENTS, issuer_for

# authlib's httpx integration runs on httpx2 when it is installed and falls back to httpx
# otherwise.  Transports and exceptions must come from the library its client really is, so
# choose by the same rule (an httpx transport inside an httpx2 client fails on the first call).
try:
    import httpx2 as httpx
except ImportError:
    import httpx  # type: ignore[no-redef]  # the same API under its older name


def asgi_transport(app: ASGIApp) -> httpx.AsyncBaseTransport:
    """A transport that calls an in-process ASGI app (the embedded mode's mock departments)."""
    return httpx.ASGITransport(app=app)


class DepartmentError(Exception):
    """A department gave no usable answer; ``detail`` never holds personal data."""

    def __init__(self, department: str, detail: str) -> None:
        super().__init__(f"{department}: {detail}")
        self.department = department
        self.detail = detail


class DepartmentUnavailable(DepartmentError):
    """Down, slow or broken for now: keep the member pending and retry with backoff."""


class DepartmentRefused(DepartmentError):
    """The department refused our request (4xx): our configuration needs an operator."""


@dataclass(frozen=True)
class DepartmentEndpoint:
    """Where and as whom to ask one department; ``url`` is its base (``…/justice``)."""

    key: str
    url: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)


def mock_endpoints(
    base_url: str, *, issuer_base: str, client_id: str, client_secret: str
) -> list[DepartmentEndpoint]:
    """The six departments served under one base URL, as the mock departments app serves them."""
    base = base_url.rstrip("/")
    return [
        DepartmentEndpoint(
            key=key,
            url=f"{base}/{key}",
            issuer=issuer_for(issuer_base, key),
            client_id=client_id,
            client_secret=client_secret,
        )
        for key in DEPARTMENTS
    ]


class JwksCache:
    """One department's public keys by ``kid``, refetched when stale or when a new kid appears.

    A department that rotates its key starts signing with a kid we have not seen: fetching its
    JWKS again then picks the new key up without a restart.  A kid still missing after a fetch
    is remembered for ``refetch_interval`` seconds, so a stream of tokens with a bogus kid costs
    one fetch per interval, not one per token.  A failed fetch is not remembered: an outage
    during a rotation must not turn into refusals.

    A fetch runs as a task of its own: a caller that gives up (its attestation call timed out)
    does not cut it off, so the keys of a slow department are cached once they arrive, and
    concurrent callers share one fetch.
    """

    def __init__(
        self,
        fetch: Callable[[], Awaitable[dict[str, OKPKey]]],
        *,
        refetch_interval: float = 30.0,
        max_age: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._refetch_interval = refetch_interval
        self._max_age = max_age
        self._clock = clock
        self._keys: dict[str, OKPKey] = {}
        self._fetched_at: float | None = None
        self._missed: dict[str, float] = {}  # kid → when a fetch last came back without it
        self._fetching: asyncio.Task[None] | None = None

    async def key_for(self, kid: str) -> OKPKey:
        if self._stale() or self._worth_refetching(kid):
            await asyncio.shield(self._refresh())
            if kid not in self._keys and self._fetched_at is not None:
                self._missed[kid] = self._fetched_at
        key = self._keys.get(kid)
        if key is None:
            raise AttestationInvalid("unknown_kid")
        return key

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at > self._max_age

    def _worth_refetching(self, kid: str) -> bool:
        if kid in self._keys:
            return False
        now = self._clock()
        self._missed = {k: t for k, t in self._missed.items() if now - t < self._refetch_interval}
        return kid not in self._missed

    def _refresh(self) -> asyncio.Task[None]:
        """The fetch under way, or a new one."""
        if self._fetching is None or self._fetching.done():
            self._fetching = asyncio.ensure_future(self._store_fetched())
            # Its callers may all have given up: an outage must not log "never retrieved".
            self._fetching.add_done_callback(lambda task: task.cancelled() or task.exception())
        return self._fetching

    async def _store_fetched(self) -> None:
        self._keys = await self._fetch()
        self._fetched_at = self._clock()


_EXPIRED_TOKEN = {"access_token": "", "token_type": "Bearer", "expires_at": 0}


class DepartmentClient:
    """One department: its OAuth2 client, its key cache, and the attestation call."""

    def __init__(
        self,
        endpoint: DepartmentEndpoint,
        *,
        verifier: AttestationVerifier,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.endpoint = endpoint
        self._verifier = verifier
        self._timeout = timeout
        self._http = AsyncOAuth2Client(
            endpoint.client_id,
            endpoint.client_secret,
            token_endpoint=f"{endpoint.url}/oauth/token",
            grant_type="client_credentials",
            # An already expired token: authlib then fetches the first one the way it renews
            # every later one, under its own lock, instead of raising MissingTokenError.
            token=_EXPIRED_TOKEN,
            base_url=endpoint.url,
            transport=transport,
            timeout=timeout,
        )
        self._keys = JwksCache(self._fetch_keys)

    @property
    def department(self) -> str:
        return self.endpoint.key

    async def attest(self, id_number: str, name: str) -> Attestation:
        """Ask about the holder of ``id_number`` presented as ``name`` and check the answer.

        Each call (token, attestation, keys) has its own deadline: httpx's own timeouts do not
        apply to in-process ASGI transports, and a department that takes most of the timeout
        for each call must still be heard.
        """
        with _department_errors(self.department):
            async with asyncio.timeout(self._timeout):
                await self._http.ensure_active_token(self._http.token)
            token = await self._request_attestation(id_number, name)
            return await self._verifier.verify(
                token,
                department=self.department,
                issuer=self.endpoint.issuer,
                key_for=self._keys.key_for,
                id_number=id_number,
            )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request_attestation(self, id_number: str, name: str) -> str:
        # Names and numbers travel only in the POST body, never in the URL.
        body = {"id_number": id_number, "name": name}
        # The token is already active (attest), so authlib is told not to check it again: a
        # short-lived token would otherwise be fetched twice, once outside its own deadline.
        async with asyncio.timeout(self._timeout):
            response = await self._http.post("/attestations", json=body, auth=self._http.token_auth)
        if response.status_code == 401:
            # The department forgot our token (a restart) or expired it early: one new token.
            async with asyncio.timeout(self._timeout):
                await self._http.fetch_token()
            async with asyncio.timeout(self._timeout):
                response = await self._http.post(
                    "/attestations", json=body, auth=self._http.token_auth
                )
        _check_status(self.department, response)
        return _attestation_token(response)

    async def _fetch_keys(self) -> dict[str, OKPKey]:
        async with asyncio.timeout(self._timeout):
            response = await self._http.request(
                "GET", "/.well-known/jwks.json", withhold_token=True
            )
        _check_status(self.department, response)
        try:
            return _signing_keys(response.json())
        except (ValueError, TypeError, KeyError, JoseError) as error:
            raise DepartmentUnavailable(self.department, "unreadable JWKS") from error


class DepartmentClients(Mapping[str, DepartmentClient]):
    """The department clients by key, sharing one verifier and transport; close when done."""

    def __init__(
        self,
        endpoints: Iterable[DepartmentEndpoint],
        *,
        verifier: AttestationVerifier,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._clients = {
            endpoint.key: DepartmentClient(
                endpoint, verifier=verifier, transport=transport, timeout=timeout
            )
            for endpoint in endpoints
        }

    def __getitem__(self, department: str) -> DepartmentClient:
        return self._clients[department]

    def __iter__(self) -> Iterator[str]:
        return iter(self._clients)

    def __len__(self) -> int:
        return len(self._clients)

    async def aclose(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients.values()))

    async def __aenter__(self) -> DepartmentClients:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


@dataclass(frozen=True)
class DepartmentAnswer:
    """One department's outcome: a believed attestation or why there is none."""

    department: str
    outcome: Attestation | DepartmentError | AttestationInvalid


async def ask_all(
    clients: Iterable[DepartmentClient], id_number: str, name: str
) -> AsyncIterator[DepartmentAnswer]:
    """Ask the departments concurrently and yield each answer as soon as it arrives.

    The caller stores each answer as it comes (``async for answer in ask_all(...)``), so a
    slow department delays nobody else's result.  Leaving the loop early cancels the calls
    still running.  Errors other than the three expected kinds (a bug, Redis down) propagate.
    """
    tasks = [asyncio.ensure_future(_answer(client, id_number, name)) for client in clients]
    try:
        for next_answer in asyncio.as_completed(tasks):
            yield await next_answer
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _answer(client: DepartmentClient, id_number: str, name: str) -> DepartmentAnswer:
    try:
        outcome: Attestation | DepartmentError | AttestationInvalid = await client.attest(
            id_number, name
        )
    except (DepartmentError, AttestationInvalid) as error:
        outcome = error
    return DepartmentAnswer(client.department, outcome)


@contextmanager
def _department_errors(department: str) -> Iterator[None]:
    """Translate transport and OAuth failures into the department errors above."""
    try:
        yield
    except TimeoutError as error:
        raise DepartmentUnavailable(department, "timed out") from error
    except httpx.RequestError as error:
        raise DepartmentUnavailable(department, type(error).__name__) from error
    except httpx.HTTPStatusError as error:  # authlib raises it for a 5xx token endpoint
        raise _status_error(department, error.response.status_code) from error
    except OAuthError as error:
        raise DepartmentRefused(department, f"token endpoint said {error.error}") from error
    except ValueError as error:  # authlib: a token response that is not a JSON object
        raise DepartmentUnavailable(department, "unreadable token response") from error


def _check_status(department: str, response: httpx.Response) -> None:
    if not response.is_success:
        raise _status_error(department, response.status_code)


def _status_error(department: str, status: int) -> DepartmentError:
    if status >= 500 or status == 429:
        return DepartmentUnavailable(department, f"HTTP {status}")
    return DepartmentRefused(department, f"HTTP {status}")


def _attestation_token(response: httpx.Response) -> str:
    try:
        token = response.json()["attestation"]
    except (ValueError, TypeError, KeyError):
        raise AttestationInvalid("malformed") from None
    if not isinstance(token, str):
        raise AttestationInvalid("malformed")
    return token


def _signing_keys(document: Any) -> dict[str, OKPKey]:
    """The Ed25519 signing keys of a JWK Set by kid; keys for anything else are ignored."""
    entries = document["keys"]
    if not isinstance(entries, list):
        raise TypeError("a JWK Set holds a list of keys")
    return {entry["kid"]: OKPKey.import_key(entry) for entry in entries if _is_signing_key(entry)}


def _is_signing_key(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and entry.get("kty") == "OKP"
        and entry.get("crv") == "Ed25519"
        and isinstance(entry.get("kid"), str)
        and entry.get("alg", ALGORITHM) == ALGORITHM
        and entry.get("use", "sig") == "sig"
    )

"""The six mock government departments as one Starlette app, each under ``/{key}/``.

Every department is a small OAuth 2.0 resource server with its own Ed25519 key:

* ``GET  /{key}/.well-known/jwks.json`` — its public keys (current, and retired ones in grace)
* ``POST /{key}/oauth/token`` — client credentials grant (RFC 6749 §4.4); the client
  authenticates with HTTP Basic or ``client_id``/``client_secret`` form fields
* ``POST /{key}/attestations`` — with the bearer token and a JSON body
  ``{"id_number", "name"}``, answers ``{"attestation": "<compact JWS JWT>"}`` (the claims are
  described in :mod:`qingyuan.verification.protocol`)
* ``GET|PUT /{key}/_knobs`` — read or change the fault knobs (:mod:`.knobs`)
* ``POST /{key}/_rotate`` — rotate the signing key, answers the new ``{"kid"}``

The knobs act on the first three routes; "down" answers 503 (a refused connection is what a
stopped server gives).  Names and ID numbers arrive only in POST bodies and are never logged.
The two admin routes have no authentication: this is a mock for development, tests and demos,
never a service to expose.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus

from joserfc import jwt
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from qingyuan.verification.departments.claims import attested_claims
from qingyuan.verification.departments.keys import SigningKeys
from qingyuan.verification.departments.knobs import Knobs
from qingyuan.verification.departments.registry import NAME_MAX_LENGTH, Registry
from qingyuan.verification.idnumber import parse_id_number
from qingyuan.verification.protocol import ALGORITHM, DEPARTMENTS, issuer_for, subject_for

Endpoint = Callable[[Request], Awaitable[Response]]

_MAX_BODY = 16 * 1024
# RFC 6749 §5.1: token responses must not be cached; attestations neither.
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True)
class DepartmentSettings:
    """What the six departments share.

    ``clients`` maps OAuth client ids to secrets; ``subject_key`` is the HMAC key for ``sub``
    (the platform holds the same one); lifetimes are in seconds, ``key_grace`` being how long a
    rotated-out key stays in the JWKS.
    """

    audience: str
    issuer_base: str
    clients: Mapping[str, str]
    subject_key: bytes
    token_ttl: int = 3600
    attestation_ttl: int = 600
    key_grace: float = 86400.0


class Department:
    """One mock department: its key, the access tokens it issued, its knobs and its routes."""

    def __init__(self, key: str, registry: Registry, settings: DepartmentSettings) -> None:
        self.key = key
        self.issuer = issuer_for(settings.issuer_base, key)
        self.knobs = Knobs()
        self.keys = SigningKeys(grace=settings.key_grace)
        self.registry = registry  # tests change a person's records between checks
        self._settings = settings
        self._tokens: dict[str, float] = {}  # access token → expiry, in time.time() seconds

    def attestation_for(self, id_number: str, name: str) -> str:
        """The signed attestation about the holder of ``id_number``, presented as ``name``."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self._settings.audience,
            "sub": subject_for(self._settings.subject_key, id_number),
            "iat": now,
            "nbf": now,
            "exp": now + self._settings.attestation_ttl,
            "jti": secrets.token_urlsafe(16),
            **attested_claims(self.key, self.registry.get(id_number), name),
        }
        key = self.keys.current
        return jwt.encode({"alg": ALGORITHM, "kid": key.kid}, claims, key, algorithms=[ALGORITHM])

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/.well-known/jwks.json", self._with_knobs(self._jwks)),
            Route("/oauth/token", self._with_knobs(self._token), methods=["POST"]),
            Route("/attestations", self._with_knobs(self._attest), methods=["POST"]),
            Route("/_knobs", self._knobs, methods=["GET", "PUT"]),
            Route("/_rotate", self._rotate, methods=["POST"]),
        ]

    def _with_knobs(self, endpoint: Endpoint) -> Endpoint:
        async def disturbed(request: Request) -> Response:
            if await self.knobs.interfere():
                return _error("temporarily_unavailable", 503, {"Retry-After": "1"})
            return await endpoint(request)

        return disturbed

    async def _jwks(self, request: Request) -> Response:
        return JSONResponse(self.keys.jwks())

    async def _token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        try:
            credentials = _client_credentials(request.headers.get("authorization"), form)
        except ValueError:
            return _error("invalid_request", 400)
        if credentials is None or not self._authenticates(*credentials):
            return _error("invalid_client", 401, {"WWW-Authenticate": 'Basic realm="department"'})
        if form.get("grant_type") != "client_credentials":
            return _error("unsupported_grant_type", 400)
        ttl = self._settings.token_ttl
        body = {"access_token": self._issue_token(ttl), "token_type": "Bearer", "expires_in": ttl}
        return JSONResponse(body, headers=_NO_STORE)

    def _authenticates(self, client_id: str, secret: str) -> bool:
        expected = self._settings.clients.get(client_id)
        return expected is not None and hmac.compare_digest(expected.encode(), secret.encode())

    def _issue_token(self, ttl: int) -> str:
        now = time.time()
        self._tokens = {token: until for token, until in self._tokens.items() if until > now}
        token = secrets.token_urlsafe(32)
        self._tokens[token] = now + ttl
        return token

    async def _attest(self, request: Request) -> Response:
        if not self._bearer_valid(request.headers.get("authorization", "")):
            challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            return _error("invalid_token", 401, challenge)
        try:
            id_number, name = _attestation_request(await request.body())
        except ValueError:
            return _error("invalid_request", 400)
        return JSONResponse(
            {"attestation": self.attestation_for(id_number, name)}, headers=_NO_STORE
        )

    def _bearer_valid(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        expiry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        return expiry is not None and expiry > time.time()

    async def _knobs(self, request: Request) -> Response:
        if request.method == "PUT":
            try:
                self.knobs.update(_json_object(await request.body()))
            except ValueError as error:
                return _error("invalid_request", 400, description=str(error))
        return JSONResponse(dataclasses.asdict(self.knobs))

    async def _rotate(self, request: Request) -> Response:
        return JSONResponse({"kid": self.keys.rotate()})


def _client_credentials(
    authorization: str | None, form: Mapping[str, str]
) -> tuple[str, str] | None:
    """Client id and secret from HTTP Basic (RFC 6749 §2.3.1) or the form; ``None`` if unreadable.

    ``ValueError`` when both are used: RFC 6749 §2.3 allows one method per request.
    """
    if authorization is None:
        return (form["client_id"], form.get("client_secret", "")) if "client_id" in form else None
    if "client_id" in form or "client_secret" in form:
        raise ValueError("client authenticated twice")
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    # The id and secret are form-encoded before Base64 (RFC 6749 §2.3.1).
    return (unquote_plus(client_id), unquote_plus(secret)) if colon else None


def _attestation_request(body: bytes) -> tuple[str, str]:
    """The canonical number and the trimmed name of a request; ``ValueError`` if malformed."""
    data = _json_object(body)
    id_number, name = data.get("id_number"), data.get("name")
    if not (isinstance(id_number, str) and isinstance(name, str)):
        raise ValueError("id_number and name must be strings")
    name = name.strip()
    if not 0 < len(name) <= NAME_MAX_LENGTH:
        raise ValueError("name malformed")
    return parse_id_number(id_number).value, name  # InvalidIdNumber is a ValueError


def _json_object(body: bytes) -> dict[str, object]:
    try:
        data = json.loads(body)
    except ValueError:  # also covers bytes that are not UTF-8
        raise ValueError("the body must be JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _error(
    code: str, status: int, headers: Mapping[str, str] | None = None, description: str = ""
) -> Response:
    """An RFC 6749 §5.2 shaped error body: ``{"error": code[, "error_description": …]}``."""
    body = {"error": code, **({"error_description": description} if description else {})}
    return JSONResponse(body, status, headers={**_NO_STORE, **(headers or {})})


def create_departments_app(registry: Registry, settings: DepartmentSettings) -> Starlette:
    """The six departments in one ASGI app; reach each from Python with :func:`departments_of`."""
    departments = {key: Department(key, registry, settings) for key in DEPARTMENTS}
    app = Starlette(
        routes=[Mount(f"/{key}", routes=dept.routes()) for key, dept in departments.items()],
        middleware=[Middleware(RequestBodyLimitMiddleware, max_body_size=_MAX_BODY)],
    )
    app.state.departments = departments
    return app


def departments_of(app: Starlette) -> Mapping[str, Department]:
    """The departments of an app made by :func:`create_departments_app`, by key."""
    departments: Mapping[str, Department] = app.state.departments
    return departments

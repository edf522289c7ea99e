"""The platform's department clients against the mock departments, in process and over TCP."""

import socket
import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from joserfc.jwk import OKPKey
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from qingyuan.verification.attestations import Attestation, AttestationInvalid, AttestationVerifier
from qingyuan.verification.client import (
    DepartmentAnswer,
    DepartmentClients,
    DepartmentRefused,
    DepartmentUnavailable,
    JwksCache,
    asgi_transport,
    ask_all,
)
from qingyuan.verification.departments import (
    DepartmentSettings,
    Registry,
    create_departments_app,
    departments_of,
)
from qingyuan.verification.departments.claims import attested_claims
from qingyuan.verification.protocol import DEPARTMENTS
from tests.verification.support import CLIENT_SECRET, IN_PROCESS_URL, EndpointsAt

CHEN = ("330106199603140012", "陈志远")
ClientsFor = Callable[..., DepartmentClients]


@pytest.fixture
def clients_for(endpoints_at: EndpointsAt, verifier: AttestationVerifier) -> ClientsFor:
    """Clients that call ``app`` (any ASGI callable) in process, optionally with another secret."""

    def clients(
        app: ASGIApp, *, secret: str = CLIENT_SECRET, timeout: float = 2.0
    ) -> DepartmentClients:
        transport = asgi_transport(app)
        endpoints = endpoints_at(IN_PROCESS_URL, secret)
        return DepartmentClients(endpoints, verifier=verifier, transport=transport, timeout=timeout)

    return clients


def _recording(app: ASGIApp, paths: list[str]) -> ASGIApp:
    async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
        paths.append(scope.get("path", ""))
        await app(scope, receive, send)

    return recorded


def _overriding(app: ASGIApp, path: str, response: Response) -> ASGIApp:
    async def overridden(scope: Scope, receive: Receive, send: Send) -> None:
        await (response if scope.get("path") == path else app)(scope, receive, send)

    return overridden


async def _answers(
    clients: DepartmentClients, id_number: str, name: str
) -> dict[str, DepartmentAnswer]:
    return {
        answer.department: answer async for answer in ask_all(clients.values(), id_number, name)
    }


def _claims(answer: DepartmentAnswer) -> dict[str, object]:
    assert isinstance(answer.outcome, Attestation), answer.outcome
    return dict(answer.outcome.claims)


# --- the key cache ---------------------------------------------------------------------------


class FakeJwks:
    def __init__(self, *kids: str) -> None:
        self.keys = {kid: OKPKey.generate_key("Ed25519", parameters={"kid": kid}) for kid in kids}
        self.fetches = 0
        self.failing = False
        self.now = 0.0

    async def fetch(self) -> dict[str, OKPKey]:
        self.fetches += 1
        if self.failing:
            raise DepartmentUnavailable("justice", "HTTP 503")
        return dict(self.keys)

    def cache(self) -> JwksCache:
        return JwksCache(self.fetch, refetch_interval=30, max_age=3600, clock=lambda: self.now)


@pytest.mark.asyncio
async def test_keys_are_fetched_once_and_cached() -> None:
    jwks = FakeJwks("a")
    cache = jwks.cache()

    assert await cache.key_for("a") is jwks.keys["a"]
    assert await cache.key_for("a") is jwks.keys["a"]
    assert jwks.fetches == 1


@pytest.mark.asyncio
async def test_a_new_kid_is_fetched_once_then_known() -> None:
    jwks = FakeJwks("a")
    cache = jwks.cache()
    await cache.key_for("a")

    jwks.keys["b"] = OKPKey.generate_key(
        "Ed25519", parameters={"kid": "b"}
    )  # the department rotated

    assert await cache.key_for("b") is jwks.keys["b"]
    assert jwks.fetches == 2


@pytest.mark.asyncio
async def test_a_truly_unknown_kid_costs_one_fetch_per_interval() -> None:
    jwks = FakeJwks("a")
    cache = jwks.cache()
    await cache.key_for("a")

    for _ in range(3):
        with pytest.raises(AttestationInvalid, match="unknown_kid"):
            await cache.key_for("bogus")
    assert jwks.fetches == 2

    jwks.now += 31
    with pytest.raises(AttestationInvalid, match="unknown_kid"):
        await cache.key_for("bogus")
    assert jwks.fetches == 3


@pytest.mark.asyncio
async def test_a_kid_missing_from_the_first_fetch_is_not_fetched_again_at_once() -> None:
    jwks = FakeJwks("a")
    cache = jwks.cache()

    for _ in range(2):
        with pytest.raises(AttestationInvalid, match="unknown_kid"):
            await cache.key_for("bogus")
    assert jwks.fetches == 1


@pytest.mark.asyncio
async def test_stale_keys_are_refetched() -> None:
    jwks = FakeJwks("a")
    cache = jwks.cache()
    await cache.key_for("a")

    jwks.now += 3601
    await cache.key_for("a")

    assert jwks.fetches == 2


@pytest.mark.asyncio
async def test_a_failed_fetch_is_an_outage_not_a_refusal() -> None:
    jwks = FakeJwks("a")
    cache = jwks.cache()
    await cache.key_for("a")
    jwks.keys["b"] = OKPKey.generate_key("Ed25519", parameters={"kid": "b"})
    jwks.failing = True

    with pytest.raises(DepartmentUnavailable):
        await cache.key_for("b")
    jwks.failing = False

    assert await cache.key_for("b") is jwks.keys["b"]  # the failure was not remembered as a miss


# --- asking the departments in process -------------------------------------------------------


def test_clients_are_a_mapping_of_the_six(clients: DepartmentClients) -> None:
    assert list(clients) == list(DEPARTMENTS) and len(clients) == 6
    assert clients["justice"].department == "justice"


@pytest.mark.asyncio
async def test_every_bundled_persona_is_attested_as_registered(
    clients: DepartmentClients, registry: Registry
) -> None:
    for person in registry:
        answers = await _answers(clients, person.id_number, person.name)

        assert set(answers) == set(DEPARTMENTS)
        for department, answer in answers.items():
            assert _claims(answer) == attested_claims(department, person, person.name)


@pytest.mark.parametrize(
    ("id_number", "name", "department", "claims", "gate"),
    [
        (
            "330106199603140012",
            "陈志远",
            "public_security",
            {"identity": "match", "hukou_region": "330106"},
            None,
        ),
        (
            "330110200002290672",
            "黄宇航",
            "public_security",
            {"identity": "match", "hukou_region": "330106"},
            None,
        ),
        ("330106199012010718", "孙明轩", "civil_affairs", {"marital_status": "divorced"}, None),
        ("330102199204090825", "吴婉清", "civil_affairs", {"marital_status": "widowed"}, None),
        ("330106198806160932", "郑国强", "civil_affairs", {"marital_status": "married"}, "married"),
        ("310101199311050132", "王浩然", "education", {"degree": "doctorate"}, None),
        ("110105200201180247", "赵雅琪", "human_resources", {"employment": "student"}, None),
        (
            "440305199208081155",
            "冯涛",
            "justice",
            {"disqualifying_record": True},
            "disqualifying_record",
        ),
        (
            "110105199310101266",
            "何静",
            "development_reform",
            {"dishonest_debtor": True},
            "dishonest_debtor",
        ),
        (
            "330106199603140012",
            "周志远",
            "public_security",
            {"identity": "mismatch"},
            "identity_mismatch",
        ),
    ],
)
@pytest.mark.asyncio
async def test_documented_personas(
    clients: DepartmentClients,
    id_number: str,
    name: str,
    department: str,
    claims: dict[str, object],
    gate: str | None,
) -> None:
    attestation = await clients[department].attest(id_number, name)

    assert dict(attestation.claims) == {"person": "known", **claims}
    assert attestation.gate_failure == gate


@pytest.mark.asyncio
async def test_an_unknown_person_is_unknown_everywhere(clients: DepartmentClients) -> None:
    answers = await _answers(clients, "330106199704014998", "陈志远")

    assert len(answers) == 6
    for answer in answers.values():
        assert isinstance(answer.outcome, Attestation)
        assert dict(answer.outcome.claims) == {"person": "unknown"}
        assert answer.outcome.gate_failure == "person_unknown"


@pytest.mark.asyncio
async def test_answers_arrive_as_they_come(
    departments_app: Starlette, clients: DepartmentClients
) -> None:
    departments_of(departments_app)["education"].knobs.delay = 0.6  # on each of its 3 requests
    started = time.monotonic()

    arrivals = {
        answer.department: time.monotonic() - started
        async for answer in ask_all(clients.values(), *CHEN)
    }

    assert list(arrivals)[-1] == "education" and set(arrivals) == set(DEPARTMENTS)
    assert arrivals["education"] >= 1.8
    assert max(seconds for key, seconds in arrivals.items() if key != "education") < 0.6


@pytest.mark.asyncio
async def test_leaving_early_cancels_the_calls_still_running(
    departments_app: Starlette, clients: DepartmentClients
) -> None:
    departments_of(departments_app)["education"].knobs.delay = 1.5
    started = time.monotonic()

    async for _ in ask_all(clients.values(), *CHEN):
        break

    assert time.monotonic() - started < 1.0


@pytest.mark.asyncio
async def test_a_department_down_is_unavailable_and_the_others_answer(
    departments_app: Starlette, clients: DepartmentClients
) -> None:
    departments_of(departments_app)["justice"].knobs.down = True

    answers = await _answers(clients, *CHEN)

    assert isinstance(answers["justice"].outcome, DepartmentUnavailable)
    assert answers["justice"].outcome.detail == "HTTP 503"  # the token endpoint already failed
    assert all(
        isinstance(answers[key].outcome, Attestation) for key in DEPARTMENTS if key != "justice"
    )


@pytest.mark.asyncio
async def test_a_503_on_the_attestation_is_unavailable(
    departments_app: Starlette, clients: DepartmentClients
) -> None:
    await clients["education"].attest(*CHEN)  # token and keys fetched
    departments_of(departments_app)["education"].knobs.failure_rate = 1.0

    with pytest.raises(DepartmentUnavailable, match="HTTP 503"):
        await clients["education"].attest(*CHEN)


@pytest.mark.asyncio
async def test_a_slow_department_times_out_as_unavailable(
    departments_app: Starlette, clients_for: ClientsFor
) -> None:
    departments_of(departments_app)["justice"].knobs.delay = 2.0
    started = time.monotonic()

    async with clients_for(departments_app, timeout=0.2) as clients:
        with pytest.raises(DepartmentUnavailable, match="timed out"):
            await clients["justice"].attest(*CHEN)

    assert time.monotonic() - started < 1.0


@pytest.mark.asyncio
async def test_a_department_slower_than_half_the_timeout_still_attests(
    departments_app: Starlette, clients_for: ClientsFor
) -> None:
    # Token, attestation and keys each take 0.5 s: every call fits its own 1 s timeout, though
    # the three together do not fit one.
    departments_of(departments_app)["justice"].knobs.delay = 0.5
    paths: list[str] = []

    async with clients_for(_recording(departments_app, paths), timeout=1.0) as clients:
        attestation = await clients["justice"].attest(*CHEN)

    assert attestation.claims["person"] == "known"
    assert paths.count("/justice/.well-known/jwks.json") == 1


@pytest.mark.asyncio
async def test_wrong_client_credentials_are_refused_not_unavailable(
    departments_app: Starlette, clients_for: ClientsFor
) -> None:
    async with clients_for(departments_app, secret="wrong") as clients:
        with pytest.raises(DepartmentRefused, match="invalid_client"):
            await clients["justice"].attest(*CHEN)


@pytest.mark.parametrize(
    ("response", "error", "detail"),
    [
        (JSONResponse({"error": "slow_down"}, 429), DepartmentUnavailable, "HTTP 429"),
        (JSONResponse({"error": "invalid_request"}, 400), DepartmentRefused, "HTTP 400"),
        (JSONResponse({"error": "forbidden"}, 403), DepartmentRefused, "HTTP 403"),
        (JSONResponse({"attestation": 42}), AttestationInvalid, "malformed"),
        (JSONResponse({"something": "else"}), AttestationInvalid, "malformed"),
        (Response("<html>gateway</html>", 200), AttestationInvalid, "malformed"),
    ],
)
@pytest.mark.asyncio
async def test_odd_attestation_responses(
    departments_app: Starlette,
    clients_for: ClientsFor,
    response: Response,
    error: type[Exception],
    detail: str,
) -> None:
    app = _overriding(departments_app, "/justice/attestations", response)

    async with clients_for(app) as clients:
        with pytest.raises(error, match=detail):
            await clients["justice"].attest(*CHEN)


@pytest.mark.parametrize(
    "response",
    [
        JSONResponse({"keys": "none"}),
        JSONResponse({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "x", "x": "not a key"}]}),
        Response("not json"),
    ],
)
@pytest.mark.asyncio
async def test_an_unreadable_jwks_is_an_outage(
    departments_app: Starlette, clients_for: ClientsFor, response: Response
) -> None:
    app = _overriding(departments_app, "/justice/.well-known/jwks.json", response)

    async with clients_for(app) as clients:
        with pytest.raises(DepartmentUnavailable, match="unreadable JWKS"):
            await clients["justice"].attest(*CHEN)


@pytest.mark.asyncio
async def test_keys_for_other_algorithms_are_ignored(
    departments_app: Starlette, clients_for: ClientsFor
) -> None:
    published = departments_of(departments_app)["justice"].keys.jwks()["keys"]
    relabelled = [{**key, "alg": "EdDSA"} for key in published]
    app = _overriding(
        departments_app, "/justice/.well-known/jwks.json", JSONResponse({"keys": relabelled})
    )

    async with clients_for(app) as clients:
        with pytest.raises(AttestationInvalid, match="unknown_kid"):
            await clients["justice"].attest(*CHEN)


@pytest.mark.asyncio
async def test_the_access_token_is_reused_until_it_nears_expiry(
    registry: Registry,
    department_settings: DepartmentSettings,
    clients_for: ClientsFor,
) -> None:
    token_requests = {}
    for token_ttl in (3600, 30):  # authlib renews a token 60 s before it expires
        paths: list[str] = []
        app = _recording(
            create_departments_app(registry, replace(department_settings, token_ttl=token_ttl)),
            paths,
        )
        async with clients_for(app) as clients:
            for _ in range(3):
                await clients["justice"].attest(*CHEN)
        token_requests[token_ttl] = paths.count("/justice/oauth/token")

    assert token_requests == {3600: 1, 30: 3}


@pytest.mark.asyncio
async def test_rotation_is_picked_up_without_restart(
    departments_app: Starlette, clients_for: ClientsFor
) -> None:
    paths: list[str] = []
    async with clients_for(_recording(departments_app, paths)) as clients:
        await clients["justice"].attest(*CHEN)
        departments_of(departments_app)["justice"].keys.rotate()

        attestation = await clients["justice"].attest(*CHEN)

    assert attestation.claims["person"] == "known"
    assert paths.count("/justice/.well-known/jwks.json") == 2


@pytest.mark.asyncio
async def test_a_restarted_department_is_picked_up_without_restart(
    registry: Registry,
    department_settings: DepartmentSettings,
    clients_for: ClientsFor,
) -> None:
    # A restart forgets the access tokens (401) and brings a new signing key (unknown kid).
    current = {"app": create_departments_app(registry, department_settings)}

    async def department(scope: Scope, receive: Receive, send: Send) -> None:
        await current["app"](scope, receive, send)

    async with clients_for(department) as clients:
        await clients["justice"].attest(*CHEN)
        current["app"] = create_departments_app(registry, department_settings)

        assert (await clients["justice"].attest(*CHEN)).claims["person"] == "known"


@pytest.mark.asyncio
async def test_a_key_that_is_never_published_is_refused(
    registry: Registry,
    department_settings: DepartmentSettings,
    clients_for: ClientsFor,
) -> None:
    # The attestations come from a signer whose key the published JWKS does not hold.
    published, signer = (
        create_departments_app(registry, department_settings),
        create_departments_app(registry, department_settings),
    )
    paths: list[str] = []

    async def department(scope: Scope, receive: Receive, send: Send) -> None:
        paths.append(scope.get("path", ""))
        await (published if scope.get("path", "").endswith("jwks.json") else signer)(
            scope, receive, send
        )

    async with clients_for(department) as clients:
        for _ in range(3):
            with pytest.raises(AttestationInvalid, match="unknown_kid"):
                await clients["justice"].attest(*CHEN)

    assert paths.count("/justice/.well-known/jwks.json") == 1


@pytest.mark.asyncio
async def test_a_refused_connection_is_unavailable(
    endpoints_at: EndpointsAt, verifier: AttestationVerifier
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async with DepartmentClients(
        endpoints_at(f"http://127.0.0.1:{port}"), verifier=verifier
    ) as clients:
        with pytest.raises(DepartmentUnavailable, match="ConnectError"):
            await clients["justice"].attest(*CHEN)


# --- over real HTTP --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_asking_a_real_server(
    departments_app: Starlette,
    live_departments: str,
    endpoints_at: EndpointsAt,
    verifier: AttestationVerifier,
) -> None:
    departments_of(departments_app)["education"].knobs.delay = 1.0

    async with DepartmentClients(
        endpoints_at(live_departments), verifier=verifier, timeout=0.4
    ) as clients:
        answers = await _answers(clients, "330106198806160932", "郑国强")

    assert isinstance(answers["education"].outcome, DepartmentUnavailable)
    assert _claims(answers["civil_affairs"]) == {"person": "known", "marital_status": "married"}
    assert _claims(answers["public_security"])["identity"] == "match"
    assert sum(isinstance(answer.outcome, Attestation) for answer in answers.values()) == 5

import base64
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
import pytest_asyncio
from joserfc import jws, jwt
from joserfc.jwk import KeySet
from starlette.applications import Starlette

from qingyuan.verification.departments import (
    DepartmentSettings,
    Registry,
    create_departments_app,
    departments_of,
)
from qingyuan.verification.protocol import DEPARTMENTS, subject_for
from tests.verification.support import CLIENT_ID, CLIENT_SECRET

CHEN = {"id_number": "330106199603140012", "name": "陈志远"}


@pytest_asyncio.fixture
async def http(departments_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=departments_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://departments") as client:
        yield client


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def _token(http: httpx.AsyncClient, department: str = "justice") -> str:
    response = await http.post(
        f"/{department}/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=_basic(CLIENT_ID, CLIENT_SECRET),
    )
    assert response.status_code == 200
    return response.json()["access_token"]


async def _attest(http: httpx.AsyncClient, department: str, body: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {await _token(http, department)}"}
    return await http.post(f"/{department}/attestations", json=body, headers=headers)


async def _claims(http: httpx.AsyncClient, department: str, body: object) -> dict[str, object]:
    response = await _attest(http, department, body)
    assert response.status_code == 200
    jwks = (await http.get(f"/{department}/.well-known/jwks.json")).json()
    return jwt.decode(
        response.json()["attestation"], KeySet.import_key_set(jwks), algorithms=["Ed25519"]
    ).claims


@pytest.mark.asyncio
async def test_six_departments_each_publish_their_own_key(http: httpx.AsyncClient) -> None:
    kids = set()
    for department in DEPARTMENTS:
        (key,) = (await http.get(f"/{department}/.well-known/jwks.json")).json()["keys"]
        assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and "d" not in key
        kids.add(key["kid"])

    assert len(kids) == 6


@pytest.mark.asyncio
async def test_token_with_basic_credentials(
    http: httpx.AsyncClient, department_settings: DepartmentSettings
) -> None:
    response = await http.post(
        "/justice/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=_basic(CLIENT_ID, CLIENT_SECRET),
    )

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == department_settings.token_ttl
    assert len(body["access_token"]) >= 32


@pytest.mark.asyncio
async def test_token_with_form_credentials(http: httpx.AsyncClient) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }

    assert (await http.post("/education/oauth/token", data=form)).status_code == 200


@pytest.mark.asyncio
async def test_basic_credentials_are_form_decoded(
    departments_app: Starlette, http: httpx.AsyncClient
) -> None:
    # RFC 6749 §2.3.1: id and secret are form-encoded before Base64, so "+" stands for a space.
    response = await http.post(
        "/justice/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=_basic(CLIENT_ID, CLIENT_SECRET.replace(" ", "+")),
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        _basic(CLIENT_ID, "wrong secret"),
        _basic("somebody-else", CLIENT_SECRET),
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Bearer something"},
        {},
    ],
)
@pytest.mark.asyncio
async def test_wrong_client_is_invalid_client(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await http.post(
        "/justice/oauth/token", data={"grant_type": "client_credentials"}, headers=headers
    )

    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client"}
    assert response.headers["www-authenticate"].startswith("Basic")


@pytest.mark.asyncio
async def test_two_client_authentications_are_an_invalid_request(http: httpx.AsyncClient) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    response = await http.post(
        "/justice/oauth/token", data=form, headers=_basic(CLIENT_ID, CLIENT_SECRET)
    )

    assert (response.status_code, response.json()) == (400, {"error": "invalid_request"})


@pytest.mark.parametrize("form", [{"grant_type": "password"}, {}])
@pytest.mark.asyncio
async def test_other_grants_are_unsupported(http: httpx.AsyncClient, form: dict[str, str]) -> None:
    response = await http.post(
        "/justice/oauth/token", data=form, headers=_basic(CLIENT_ID, CLIENT_SECRET)
    )

    assert (response.status_code, response.json()) == (400, {"error": "unsupported_grant_type"})


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic abc", "Bearer"])
@pytest.mark.asyncio
async def test_attestations_need_a_valid_bearer_token(
    http: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await http.post("/justice/attestations", json=CHEN, headers=headers)

    assert (response.status_code, response.json()) == (401, {"error": "invalid_token"})
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.asyncio
async def test_a_token_is_good_for_its_department_only(http: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {await _token(http, 'justice')}"}

    assert (await http.post("/justice/attestations", json=CHEN, headers=headers)).status_code == 200
    assert (
        await http.post("/education/attestations", json=CHEN, headers=headers)
    ).status_code == 401


@pytest.mark.asyncio
async def test_an_expired_token_is_refused(
    registry: Registry, department_settings: DepartmentSettings
) -> None:
    app = create_departments_app(registry, replace(department_settings, token_ttl=0))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://d"
    ) as http:
        response = await _attest(http, "justice", CHEN)

    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"id_number": "330106199603140012"},
        {"name": "陈志远"},
        {"id_number": 330106199603140012, "name": "陈志远"},
        {"id_number": "33010619960314001", "name": "陈志远"},
        {"id_number": "330106199603140013", "name": "陈志远"},  # check character
        {"id_number": "330106199603140012", "name": " "},
        {"id_number": "330106199603140012", "name": "陈" * 65},
        ["330106199603140012", "陈志远"],
        "330106199603140012",
    ],
)
@pytest.mark.asyncio
async def test_bad_attestation_requests_are_invalid_requests(
    http: httpx.AsyncClient, body: object
) -> None:
    response = await _attest(http, "public_security", body)

    assert (response.status_code, response.json()) == (400, {"error": "invalid_request"})


@pytest.mark.asyncio
async def test_a_body_that_is_not_json_is_an_invalid_request(http: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {await _token(http)}", "Content-Type": "application/json"}
    response = await http.post("/justice/attestations", content=b"\xff{", headers=headers)

    assert response.status_code == 400


@pytest.mark.asyncio
async def test_oversized_bodies_are_refused(http: httpx.AsyncClient) -> None:
    response = await http.post("/justice/oauth/token", content=b"x" * 20_000)

    assert response.status_code == 413


@pytest.mark.asyncio
async def test_attestation_claims(
    http: httpx.AsyncClient, department_settings: DepartmentSettings
) -> None:
    claims = await _claims(http, "public_security", CHEN)

    assert claims["iss"] == "https://departments.gov.test/public_security"
    assert claims["aud"] == department_settings.audience
    assert claims["sub"] == subject_for(department_settings.subject_key, CHEN["id_number"])
    assert (
        claims["iat"] == claims["nbf"]
        and claims["exp"] == claims["iat"] + department_settings.attestation_ttl
    )
    assert len(claims["jti"]) >= 16
    own = {
        k: v
        for k, v in claims.items()
        if k not in {"iss", "aud", "sub", "iat", "nbf", "exp", "jti"}
    }
    assert own == {"person": "known", "identity": "match", "hukou_region": "330106"}


@pytest.mark.asyncio
async def test_the_token_holds_neither_number_nor_name(http: httpx.AsyncClient) -> None:
    response = await _attest(http, "public_security", CHEN)
    token = response.json()["attestation"]
    payload = base64.urlsafe_b64decode(token.split(".")[1] + "==").decode()

    assert CHEN["id_number"] not in payload and CHEN["name"] not in payload
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.asyncio
async def test_typed_forms_of_the_number_are_the_same_person(http: httpx.AsyncClient) -> None:
    claims = await _claims(
        http, "civil_affairs", {"id_number": "330106 19960314 0012", "name": "陈志远"}
    )

    assert claims["marital_status"] == "unmarried"


@pytest.mark.asyncio
async def test_an_unknown_number_is_an_unknown_person(http: httpx.AsyncClient) -> None:
    claims = await _claims(
        http, "public_security", {"id_number": "330106199704014998", "name": "陈志远"}
    )

    assert claims["person"] == "unknown" and "identity" not in claims


@pytest.mark.asyncio
async def test_a_wrong_name_is_a_mismatch(http: httpx.AsyncClient) -> None:
    claims = await _claims(http, "public_security", {**CHEN, "name": "周志远"})

    assert (claims["identity"], "hukou_region" in claims) == ("mismatch", False)


@pytest.mark.asyncio
async def test_knobs_over_http(http: httpx.AsyncClient) -> None:
    assert (await http.get("/justice/_knobs")).json() == {
        "delay": 0.0,
        "failure_rate": 0.0,
        "down": False,
    }

    response = await http.put("/justice/_knobs", json={"down": True})
    assert response.json()["down"] is True

    for path in ("/.well-known/jwks.json", "/oauth/token", "/attestations"):
        down = await http.request("GET" if "jwks" in path else "POST", f"/justice{path}")
        assert (down.status_code, down.json()) == (503, {"error": "temporarily_unavailable"})
        assert down.headers["retry-after"] == "1"
    assert (await http.get("/education/.well-known/jwks.json")).status_code == 200

    await http.put("/justice/_knobs", json={"down": False})
    assert (await http.get("/justice/.well-known/jwks.json")).status_code == 200


@pytest.mark.asyncio
async def test_failure_rate_over_http(http: httpx.AsyncClient) -> None:
    await http.put("/education/_knobs", json={"failure_rate": 1})

    assert (await http.get("/education/.well-known/jwks.json")).status_code == 503


@pytest.mark.parametrize("body", [{"delay": -1}, {"colour": "red"}, [1], "down"])
@pytest.mark.asyncio
async def test_bad_knobs_are_refused(http: httpx.AsyncClient, body: object) -> None:
    response = await http.put("/justice/_knobs", json=body)

    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert (await http.get("/justice/_knobs")).json()["delay"] == 0.0


@pytest.mark.asyncio
async def test_knobs_from_python(departments_app: Starlette, http: httpx.AsyncClient) -> None:
    departments_of(departments_app)["civil_affairs"].knobs.down = True

    assert (await http.get("/civil_affairs/.well-known/jwks.json")).status_code == 503
    assert (await http.get("/civil_affairs/_knobs")).json()["down"] is True


@pytest.mark.asyncio
async def test_rotation_over_http(http: httpx.AsyncClient) -> None:
    (old,) = (await http.get("/justice/.well-known/jwks.json")).json()["keys"]

    new_kid = (await http.post("/justice/_rotate")).json()["kid"]

    published = [
        key["kid"] for key in (await http.get("/justice/.well-known/jwks.json")).json()["keys"]
    ]
    assert published == [new_kid, old["kid"]]
    token = (await _attest(http, "justice", CHEN)).json()["attestation"]
    assert jws.extract_compact(token.encode()).headers()["kid"] == new_kid


def test_departments_of_gives_the_six(departments_app: Starlette) -> None:
    departments = departments_of(departments_app)

    assert list(departments) == list(DEPARTMENTS)
    assert departments["justice"].issuer == "https://departments.gov.test/justice"


def test_uvicorn_serves_the_departments(live_departments: str) -> None:
    with httpx.Client(base_url=live_departments) as http:
        assert http.get("/justice/.well-known/jwks.json").status_code == 200
        token = http.post(
            "/justice/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(CLIENT_ID, CLIENT_SECRET),
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        response = http.post("/justice/attestations", json=CHEN, headers=headers)

    assert response.status_code == 200 and response.json()["attestation"].count(".") == 2

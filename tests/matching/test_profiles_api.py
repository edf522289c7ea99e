"""Profiles over HTTP: verified members only, every field validated, facts read-only, photos
cleaned of EXIF and GPS."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.verification.platform_support import CHEN, ZHENG_MARRIED, register, verify

PROFILE = {
    "nickname": "南风",
    "city": 3301,
    "height_cm": 178,
    "bio": "喜欢周末去爬山。",
    "interests": ["films", "hiking"],
    "seek_gender": "female",
    "age_min": 22,
    "age_max": 32,
    "cities": [3301, 3302],
    "min_degree": 3,
}


@pytest.fixture
def member(client):
    created = register(client, CHEN)
    verify(client, created["member_id"])
    return {"X-CSRF-Token": created["csrf_token"]}


def test_unverified_members_are_told_why(client):
    created = register(client, ZHENG_MARRIED)
    verify(client, created["member_id"])
    response = client.get("/api/v1/me/profile")
    assert response.status_code == 403 and "核验未通过" in response.json()["error"]["message"]


def test_profile_round_trip_with_verified_facts(client, member):
    response = client.put("/api/v1/me/profile", json=PROFILE, headers=member)
    assert response.status_code == 200, response.text
    body = client.get("/api/v1/me/profile").json()
    assert {k: body[k] for k in PROFILE} == PROFILE
    assert body["verified"]["gender"] == "male" and body["verified"]["degree"] == "bachelor"
    assert body["verified"]["age"] >= 30


def test_verified_facts_cannot_be_edited(client, member):
    client.put(
        "/api/v1/me/profile",
        json={**PROFILE, "verified": {"age": 18, "degree": "doctorate"}},
        headers=member,
    )
    assert client.get("/api/v1/me/profile").json()["verified"]["degree"] == "bachelor"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"nickname": ""}, "nickname"),
        ({"nickname": "加我微信abc"}, "nickname"),
        ({"bio": "电话 13812345678"}, "bio"),
        ({"city": 9999}, "city"),
        ({"height_cm": 300}, "height_cm"),
        ({"interests": ["skydiving"]}, "interests"),
        ({"interests": [{"tag": "hiking"}]}, "interests"),  # was a 500 (found by schemathesis)
        ({"cities": [[3301]]}, "cities"),
        ({"seek_gender": "any"}, "seek_gender"),
        ({"age_min": 40, "age_max": 30}, "age_min"),
        ({"cities": [1]}, "cities"),
        ({"min_degree": 9}, "min_degree"),
    ],
)
def test_invalid_profile_fields(client, member, change, field):
    response = client.put("/api/v1/me/profile", json={**PROFILE, **change}, headers=member)
    assert response.status_code == 422 and field in response.json()["error"]["fields"]


def test_questionnaire_answers(client, member):
    answers = {
        "children": {"answer": 0, "acceptable": [0, 2], "importance": 3},
        "smoking": {"answer": 0, "acceptable": [0], "importance": 4},
    }
    response = client.put("/api/v1/me/questionnaire", json=answers, headers=member)
    assert response.status_code == 200 and response.json() == answers
    bad = client.put(
        "/api/v1/me/questionnaire",
        headers=member,
        json={"children": {"answer": 7, "acceptable": [], "importance": 9}},
    )
    assert bad.status_code == 422 and "children" in bad.json()["error"]["fields"]
    unknown = client.put(
        "/api/v1/me/questionnaire",
        headers=member,
        json={"nope": {"answer": 0, "acceptable": [0], "importance": 1}},
    )
    assert unknown.status_code == 422


def test_a_superscript_digit_is_a_422_not_a_crash(client, member):
    """ "¹" passes str.isdigit but not int(): the fuzz test found it as a 500."""
    for field in ("answer", "acceptable", "importance"):
        item = {"answer": 0, "acceptable": [0], "importance": 1}
        item[field] = ["¹"] if field == "acceptable" else "¹"
        response = client.put("/api/v1/me/questionnaire", json={"children": item}, headers=member)
        assert response.status_code == 422, field
    assert client.get("/api/v1/me/questionnaire", headers=member).json() == {}


def test_an_acceptable_answer_given_twice_counts_once(client, member):
    """ "1" and 1 name the same option: the stored set is {0, 1}, not option 2."""
    answers = {"children": {"answer": 0, "acceptable": [0, "1", 1], "importance": 3}}
    response = client.put("/api/v1/me/questionnaire", json=answers, headers=member)
    assert response.status_code == 200
    assert response.json()["children"]["acceptable"] == [0, 1]


def test_answering_again_replaces_only_the_answers_given(client, member):
    first = {
        "children": {"answer": 0, "acceptable": [0, 2], "importance": 3},
        "smoking": {"answer": 0, "acceptable": [0], "importance": 4},
    }
    assert client.put("/api/v1/me/questionnaire", json=first, headers=member).status_code == 200
    changed = {"children": {"answer": 1, "acceptable": [1], "importance": 2}}
    assert client.put("/api/v1/me/questionnaire", json=changed, headers=member).status_code == 200
    assert client.put("/api/v1/me/questionnaire", json={}, headers=member).status_code == 200
    stored = client.get("/api/v1/me/questionnaire", headers=member).json()
    assert stored == {**first, **changed}


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (2000, 1500), (200, 120, 80))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (30.0, 15.0, 0.0), 3: "E", 4: (120.0, 10.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_photo_is_reencoded_without_exif_or_gps(client, member):
    client.put("/api/v1/me/profile", json=PROFILE, headers=member)
    original = _jpeg_with_gps()
    assert b"SecretCam" in original
    response = client.post(
        "/api/v1/me/photo", files={"photo": ("me.jpg", original, "image/jpeg")}, headers=member
    )
    assert response.status_code == 201, response.text
    stored = client.get(response.json()["photo_url"])
    assert stored.status_code == 200 and stored.headers["content-type"] == "image/jpeg"
    assert b"SecretCam" not in stored.content and b"Exif" not in stored.content
    with Image.open(io.BytesIO(stored.content)) as image:
        assert max(image.size) == 1280 and not image.getexif()


@pytest.mark.parametrize("payload", [b"not an image", b"GIF89a" + b"\0" * 100, b""])
def test_non_photos_are_refused(client, member, payload):
    client.put("/api/v1/me/profile", json=PROFILE, headers=member)
    response = client.post(
        "/api/v1/me/photo", files={"photo": ("x.jpg", payload, "image/jpeg")}, headers=member
    )
    assert response.status_code == 422 and "photo" in response.json()["error"]["fields"]


def test_photos_are_for_logged_in_verified_members_only(client, member):
    client.put("/api/v1/me/profile", json=PROFILE, headers=member)
    url = client.post(
        "/api/v1/me/photo",
        files={"photo": ("me.jpg", _jpeg_with_gps(), "image/jpeg")},
        headers=member,
    ).json()["photo_url"]
    client.cookies.clear()
    assert client.get(url, follow_redirects=False).status_code in (303, 401)


def test_profile_pages_render(client, member):
    assert "南风" not in client.get("/profile").text
    client.put("/api/v1/me/profile", json=PROFILE, headers=member)
    page = client.get("/profile").text
    assert 'value="南风"' in page and "本科" in page
    assert "孩子" in client.get("/questionnaire").text

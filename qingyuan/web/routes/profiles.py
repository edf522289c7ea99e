"""Profile, preferences, questionnaire and photo: pages and API for verified members."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from qingyuan.matching import photos, profiles
from qingyuan.matching.models import Profile
from qingyuan.matching.questions import IMPORTANCE_LABELS, INTEREST_TAGS, QUESTIONS
from qingyuan.platform import ratelimit
from qingyuan.platform.errors import NotFound, RateLimited, UserError, ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import User
from qingyuan.verification.facts import verified_facts
from qingyuan.verification.status import ensure_verified
from qingyuan.web.bodies import BodyRules, body_rules, read_form, read_json
from qingyuan.web.openapi import ApiRoute
from qingyuan.web.security import guard, kernel_of, logged_in_user
from qingyuan.web.templating import render

PROFILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "nickname": {"type": "string", "maxLength": 24},
        "bio": {"type": "string"},
        "city": {"type": "integer"},
        "height_cm": {"type": ["integer", "null"]},
        "interests": {"type": "array", "items": {"type": "string"}},
        "seek_gender": {"type": "string", "enum": ["male", "female"]},
        "age_min": {"type": "integer"},
        "age_max": {"type": "integer"},
        "cities": {"type": "array", "items": {"type": "integer"}},
        "min_degree": {"type": "integer", "minimum": 0, "maximum": 5},
        "opted_in": {"type": "boolean"},
        "personalised": {"type": "boolean"},
        "verified": {"type": "object", "description": "Attested facts, read-only"},
        "photo_url": {"type": ["string", "null"]},
    },
}
ANSWERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "required": ["answer", "acceptable", "importance"],
        "properties": {
            "answer": {"type": "integer"},
            "acceptable": {"type": "array", "items": {"type": "integer"}},
            "importance": {"type": "integer", "minimum": 0, "maximum": 4},
        },
    },
}


async def _verified_user(request: Request) -> User:
    user = await logged_in_user(request)
    await ensure_verified(user)
    return user


async def profile_json(request: Request, user: User, profile: Profile | None) -> dict[str, Any]:
    facts = (await verified_facts([user.id]))[user.id]
    body: dict[str, Any] = {
        "verified": {
            "age": facts.age(kernel_of(request).settings.local_today()),
            "gender": facts.gender,
            "degree": facts.degree,
            "employment": facts.employment,
        }
    }
    if profile is not None:
        body.update(
            {
                field: getattr(profile, field)
                for field in (
                    "nickname",
                    "bio",
                    "city",
                    "height_cm",
                    "interests",
                    "seek_gender",
                    "age_min",
                    "age_max",
                    "cities",
                    "min_degree",
                    "opted_in",
                    "personalised",
                )
            }
        )
        body["photo_url"] = f"/photos/{profile.photo}" if profile.photo else None
    return body


@guard(login=True)
async def get_profile_api(request: Request) -> Response:
    user = await _verified_user(request)
    return JSONResponse(await profile_json(request, user, await Profile.get_or_none(user=user)))


@guard(login=True)
async def put_profile_api(request: Request) -> Response:
    user = await _verified_user(request)
    profile = await profiles.save_profile(user, await read_json(request))
    return JSONResponse(await profile_json(request, user, profile))


@guard(login=True)
async def put_answers_api(request: Request) -> Response:
    user = await _verified_user(request)
    await profiles.save_answers(user, await read_json(request))
    return JSONResponse(await profiles.answers_of(user))


@guard(login=True)
async def get_answers_api(request: Request) -> Response:
    return JSONResponse(await profiles.answers_of(await _verified_user(request)))


PHOTO_UPLOAD = BodyRules(max_bytes=photos.MAX_BYTES + 64 * 1024, max_files=1, max_fields=5)


async def _upload(request: Request, user: User) -> str:
    """Each upload costs a decode: limited per member (QINGYUAN_RATE_PHOTO_UPLOAD, default
    20 an hour), counted before the body is read."""
    kernel = kernel_of(request)
    limit = ratelimit.rule(kernel.settings, "QINGYUAN_RATE_PHOTO_UPLOAD", "20/3600")
    verdict = await ratelimit.hit(kernel.redis, f"photo-upload:{user.id}", limit)
    if not verdict.allowed:
        raise RateLimited(verdict.retry_after)
    form = await read_form(request)
    upload = form.get("photo")
    if upload is None or isinstance(upload, str):
        raise ValidationFailed(fields={"photo": _("Choose a photo to upload.")})
    data = await upload.read(photos.MAX_BYTES + 1)
    return await photos.do_change_photo(kernel.settings.data_dir, user, data)


@guard(login=True)
@body_rules(PHOTO_UPLOAD)
async def photo_api(request: Request) -> Response:
    name = await _upload(request, await _verified_user(request))
    return JSONResponse({"photo_url": f"/photos/{name}"}, status_code=201)


@guard(login=True)
async def photo_file(request: Request) -> Response:
    """Photos are seen by logged-in, verified members only, and never cached by proxies."""
    await _verified_user(request)
    path = photos.photo_path(kernel_of(request).settings.data_dir, request.path_params["name"])
    if path is None:
        raise NotFound()
    return FileResponse(
        path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
    )


def _form_profile(form: Any) -> dict[str, Any]:
    return {
        "nickname": form.get("nickname", ""),
        "bio": form.get("bio", ""),
        "city": form.get("city"),
        "height_cm": form.get("height_cm") or None,
        "interests": form.getlist("interests"),
        "seek_gender": form.get("seek_gender"),
        "age_min": form.get("age_min"),
        "age_max": form.get("age_max"),
        "cities": form.getlist("cities"),
        "min_degree": form.get("min_degree", 0),
        "opted_in": form.get("opted_in") == "yes",
        "personalised": form.get("personalised") == "yes",
    }


async def _profile_page(request: Request, user: User, **extra: Any) -> Response:
    profile = await Profile.get_or_none(user=user)
    context = {
        "profile": await profile_json(request, user, profile),
        "has_profile": bool(profile),
        "cities": profiles.city_names(),
        "interest_tags": INTEREST_TAGS,
        "error": None,
        "saved": False,
        **extra,
    }
    status = extra["error"].status if extra.get("error") else 200
    return await render(request, "profile.html", context, status_code=status)


@guard(login=True)
async def profile_page(request: Request) -> Response:
    return await _profile_page(
        request, await _verified_user(request), saved=request.query_params.get("saved") == "1"
    )


@guard(login=True)
async def profile_submit(request: Request) -> Response:
    user = await _verified_user(request)
    form = await read_form(request)
    try:
        await profiles.save_profile(user, _form_profile(form))
    except UserError as error:
        return await _profile_page(request, user, error=error)
    return RedirectResponse("/profile?saved=1", status_code=303)


@guard(login=True)
@body_rules(PHOTO_UPLOAD)
async def photo_submit(request: Request) -> Response:
    user = await _verified_user(request)
    try:
        await _upload(request, user)
    except UserError as error:
        return await _profile_page(request, user, error=error)
    return RedirectResponse("/profile?saved=1", status_code=303)


@guard(login=True)
async def questionnaire_page(request: Request) -> Response:
    user = await _verified_user(request)
    context = {
        "questions": QUESTIONS,
        "answers": await profiles.answers_of(user),
        "importance_labels": IMPORTANCE_LABELS,
        "error": None,
        "saved": request.query_params.get("saved") == "1",
    }
    return await render(request, "questionnaire.html", context)


@guard(login=True)
async def questionnaire_submit(request: Request) -> Response:
    user = await _verified_user(request)
    form = await read_form(request)
    data = {
        q.key: {
            "answer": form.get(f"{q.key}-answer"),
            "acceptable": form.getlist(f"{q.key}-acceptable"),
            "importance": form.get(f"{q.key}-importance"),
        }
        for q in QUESTIONS
        if form.get(f"{q.key}-answer") is not None
    }
    try:
        await profiles.save_answers(user, data)
    except UserError as error:
        context = {
            "questions": QUESTIONS,
            "answers": await profiles.answers_of(user),
            "importance_labels": IMPORTANCE_LABELS,
            "error": error,
            "saved": False,
        }
        return await render(request, "questionnaire.html", context, status_code=error.status)
    return RedirectResponse("/questionnaire?saved=1", status_code=303)


routes = [
    ApiRoute(
        "/api/v1/me/profile",
        get_profile_api,
        method="GET",
        summary="My profile",
        errors=(403,),
        responses={200: PROFILE_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/me/profile",
        put_profile_api,
        method="PUT",
        summary="Save my profile and preferences",
        body=PROFILE_SCHEMA,
        responses={200: PROFILE_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/me/questionnaire",
        get_answers_api,
        method="GET",
        summary="My questionnaire answers",
        errors=(403,),
        responses={200: ANSWERS_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/me/questionnaire",
        put_answers_api,
        method="PUT",
        summary="Answer questions",
        body=ANSWERS_SCHEMA,
        responses={200: ANSWERS_SCHEMA},
    ),
    ApiRoute(
        "/api/v1/me/photo",
        photo_api,
        method="POST",
        summary="Upload a profile photo (multipart field 'photo')",
        errors=(413, 422, 429),
        responses={201: {"type": "object", "properties": {"photo_url": {"type": "string"}}}},
    ),
    Route("/photos/{name:str}", photo_file),
    Route("/profile", profile_page, methods=["GET"]),
    Route("/profile", profile_submit, methods=["POST"]),
    Route("/profile/photo", photo_submit, methods=["POST"]),
    Route("/questionnaire", questionnaire_page, methods=["GET"]),
    Route("/questionnaire", questionnaire_submit, methods=["POST"]),
]

"""Profiles, preferences and questionnaire answers: validated, saved, shown.

Only what the member states lives here. Age, gender, degree and employment are verified
facts (verification.facts) and appear next to the profile with a badge; there is no field a
member could use to change them.
"""

from __future__ import annotations

import re
from typing import Any

from qingyuan.matching.models import Answer, Profile
from qingyuan.matching.questions import INTEREST_TAGS, QUESTIONS
from qingyuan.platform.errors import ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.models import User

MAX_INTERESTS = 10
AGE_BOUNDS = (20, 60)
_CONTACT_LIKE = re.compile(r"\d{5,}|微信|vx|wechat|qq|https?://|www\.", re.IGNORECASE)


def city_names() -> dict[int, str]:
    """Supported cities (GB/T 2260 city codes); names in the reader's language."""
    return {
        3301: _("Hangzhou"),
        3302: _("Ningbo"),
        3303: _("Wenzhou"),
        3304: _("Jiaxing"),
        3305: _("Huzhou"),
        3306: _("Shaoxing"),
        3307: _("Jinhua"),
        3308: _("Quzhou"),
        3309: _("Zhoushan"),
        3310: _("Taizhou"),
        3311: _("Lishui"),
        3101: _("Shanghai"),
        1101: _("Beijing"),
        4403: _("Shenzhen"),
    }


class _Errors(dict[str, str]):
    def check(self, field: str, ok: bool, message: str) -> None:
        if not ok and field not in self:
            self[field] = message


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    # isdecimal, not isdigit: "¹" is a digit that int() refuses (a 500 found by the fuzz test)
    if isinstance(value, str) and value.strip().lstrip("-").isdecimal():
        return int(value)
    return None


def validate_profile(data: dict[str, Any]) -> dict[str, Any]:
    """Every profile field checked at once; ValidationFailed names each faulty one."""
    errors = _Errors()
    nickname = value.strip() if isinstance(value := data.get("nickname"), str) else ""
    errors.check(
        "nickname", 1 <= len(nickname) <= 24, _("Choose a nickname of 1 to 24 characters.")
    )
    errors.check(
        "nickname",
        not _CONTACT_LIKE.search(nickname),
        _("Please keep contact details out of your nickname."),
    )
    bio = data.get("bio", "") if isinstance(data.get("bio", ""), str) else None
    errors.check(
        "bio",
        bio is not None and len(bio) <= 500,
        _("Keep your introduction under 500 characters."),
    )
    errors.check(
        "bio",
        not _CONTACT_LIKE.search(bio or ""),
        _("Please keep contact details out of your introduction."),
    )
    city = _int(data.get("city"))
    errors.check("city", city in city_names(), _("Choose a city from the list."))
    height = data.get("height_cm")
    height = None if height in (None, "") else _int(height)
    errors.check(
        "height_cm",
        height is None or 140 <= height <= 220,
        _("Height must be between 140 and 220 cm."),
    )
    interests = data.get("interests", [])
    errors.check(
        "interests",
        isinstance(interests, list)
        and all(isinstance(tag, str) and tag in INTEREST_TAGS for tag in interests)
        and len(interests) <= MAX_INTERESTS,
        _("Choose up to %(n)d interests from the list.", n=MAX_INTERESTS),
    )
    seek = data.get("seek_gender")
    errors.check(
        "seek_gender", seek in ("male", "female"), _("Choose whom you would like to meet.")
    )
    age_min, age_max = _int(data.get("age_min")), _int(data.get("age_max"))
    errors.check(
        "age_min",
        age_min is not None
        and age_max is not None
        and AGE_BOUNDS[0] <= age_min <= age_max <= AGE_BOUNDS[1],
        _("Give an age range between 20 and 60, youngest first."),
    )
    cities = data.get("cities", [])
    errors.check(
        "cities",
        isinstance(cities, list) and all(_int(c) in city_names() for c in cities),
        _("Choose cities from the list."),
    )
    min_degree = _int(data.get("min_degree", 0))
    errors.check(
        "min_degree",
        min_degree is not None and 0 <= min_degree <= 5,
        _("Choose a degree from the list."),
    )
    if errors:
        raise ValidationFailed(fields=errors)
    return {
        "nickname": nickname,
        "bio": bio,
        "city": city,
        "height_cm": height,
        "interests": sorted(set(interests)),
        "seek_gender": seek,
        "age_min": age_min,
        "age_max": age_max,
        "cities": sorted({_int(c) for c in cities}),
        "min_degree": min_degree,
        "opted_in": data.get("opted_in", True) is not False,
        "personalised": data.get("personalised", True) is not False,
    }


async def profiles_of(user_ids: list[int]) -> dict[int, Profile]:
    """The profiles of these members, by user id (members without one are left out)."""
    return {p.user_id: p for p in await Profile.filter(user_id__in=user_ids)}


async def save_profile(user: User, data: dict[str, Any]) -> Profile:
    values = validate_profile(data)
    profile = await Profile.get_or_none(user=user)
    if profile is None:
        return await Profile.create(user=user, **values)
    await profile.update_from_dict(values).save()
    return profile


def _answer(item: Any, options: int) -> tuple[int, int, int] | None:
    """(answer, mask of acceptable answers, importance) of one well-formed answer to a question
    with `options` options, else None. The mask is built from the parsed numbers, so "1" and 1
    are one option."""
    if not isinstance(item, dict) or not isinstance(item.get("acceptable"), list):
        return None
    answer, importance = _int(item.get("answer")), _int(item.get("importance"))
    parsed = [_int(a) for a in item["acceptable"]]
    accepted = {a for a in parsed if a is not None and 0 <= a < options}
    if answer is None or not 0 <= answer < options or importance is None:
        return None
    if not 0 <= importance <= 4 or not parsed or len(accepted) < len(set(parsed)):
        return None
    return answer, sum(1 << a for a in accepted), importance


def validate_answers(data: Any) -> dict[str, tuple[int, int, int]]:
    """`{key: {"answer": i, "acceptable": [i…], "importance": 0–4}}` → (answer, mask, level)."""
    if not isinstance(data, dict):
        raise ValidationFailed(_("Send the answers as an object keyed by question."))
    errors, answers = _Errors(), {}
    known = {question.key: question for question in QUESTIONS}
    for key, item in data.items():
        question = known.get(key)
        parsed = _answer(item, len(question.options) if question else 0)
        errors.check(
            key,
            parsed is not None,
            _("Choose your answer, the answers you accept, and how much it matters."),
        )
        if parsed is not None:
            answers[key] = parsed
    if errors:
        raise ValidationFailed(fields=errors)
    return answers


async def save_answers(user: User, data: Any) -> int:
    """Insert or replace the answers given, in one upsert (not one transaction per answer)."""
    answers = validate_answers(data)
    await Answer.bulk_create(
        [
            Answer(user=user, question=key, answer=answer, acceptable=mask, importance=importance)
            for key, (answer, mask, importance) in answers.items()
        ],
        on_conflict=["user_id", "question"],
        update_fields=["answer", "acceptable", "importance"],
    )
    return len(answers)


async def answers_of(user: User) -> dict[str, dict[str, Any]]:
    rows = await Answer.filter(user=user)
    return {
        row.question: {
            "answer": row.answer,
            "importance": row.importance,
            "acceptable": [i for i in range(8) if row.acceptable >> i & 1],
        }
        for row in rows
    }

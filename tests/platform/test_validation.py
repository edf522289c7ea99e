"""The typed boundary: pydantic errors in our words, and limits from settings in the document."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal, Self

import pytest
from pydantic import Field, model_validator

from qingyuan.connections.settings import connection_settings
from qingyuan.platform.errors import ValidationFailed
from qingyuan.platform.i18n import use_locale
from qingyuan.platform.settings import PlatformSettings
from qingyuan.platform.validation import (
    FieldProblem,
    Schema,
    Text,
    configured,
    refined,
    validate,
)
from qingyuan.web.openapi import ApiRoute, build_schema


class Ask(Schema):
    title: Annotated[Text, Field(min_length=1, max_length=5)]
    size: Annotated[int, Field(ge=1, le=9)] = 1
    kind: Literal["a", "b"] = "a"
    low: int = 0
    high: int = 0

    @model_validator(mode="after")
    def ordered(self) -> Self:
        if self.low > self.high:
            raise FieldProblem("high", "high below low")
        return self


class Note(Schema):
    """A model whose limit is a setting, as chat's QINGYUAN_CHAT_MAX_LENGTH."""

    text: Annotated[Text, Field(min_length=1)]

    @classmethod
    def configured(cls, settings: PlatformSettings) -> type[Self]:
        return _note(connection_settings(settings).chat_max_length)


@cache
def _note(limit: int) -> type[Note]:
    return refined(Note, text=(Annotated[Text, Field(min_length=1, max_length=limit)], ...))


def fields_of(model: type[Schema], data: object, *, strict: bool = True) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as raised:
        validate(model, data, strict=strict)
    assert raised.value.status == 422 and raised.value.code == "validation_failed"
    return raised.value.fields


def test_each_field_gets_its_first_problem_in_the_readers_language():
    with use_locale("en"):
        fields = fields_of(Ask, {"title": "", "size": 12, "kind": "c"})
        assert fields == {
            "title": "This field is required.",
            "size": "Enter 9 or less.",
            "kind": "Choose one of: 'a' or 'b'.",
        }
        assert fields_of(Ask, {"title": "toolong"}) == {"title": "Enter at most 5 characters."}
    with use_locale("zh_CN"):
        assert fields_of(Ask, {"title": "toolong"}) == {"title": "最多输入 5 个字符。"}
        assert fields_of(Ask, {}) == {"title": "此项为必填项。"}


def test_json_is_strict_and_forms_are_lax():
    with use_locale("en"):
        assert fields_of(Ask, {"title": "x", "size": "5"}) == {"size": "Enter a whole number."}
    assert validate(Ask, {"title": "x", "size": "5"}, strict=False).size == 5


def test_a_cross_field_problem_is_pinned_on_its_field():
    assert fields_of(Ask, {"title": "x", "low": 3, "high": 1}) == {"high": "high below low"}


def test_nul_is_not_text(make_settings):
    with use_locale("en"):
        assert fields_of(Ask, {"title": "a\x00"}) == {
            "title": "The request contains characters that are not text."
        }


@pytest.mark.parametrize("limit", [7, 30])
def test_a_limit_from_settings_is_in_the_document_and_the_validator(make_settings, limit):
    settings = make_settings(QINGYUAN_CHAT_MAX_LENGTH=str(limit))

    async def endpoint(request):  # never called: only described
        raise AssertionError

    route = ApiRoute("/api/v1/notes", endpoint, method="POST", summary="x", body=Note, responses={})
    document = build_schema([route], settings)
    text = document["components"]["schemas"]["Note"]["properties"]["text"]
    assert text["maxLength"] == limit
    model = configured(Note, settings)
    assert validate(model, {"text": "x" * limit}, strict=True).text == "x" * limit
    with use_locale("en"):
        assert fields_of(model, {"text": "x" * (limit + 1)}) == {
            "text": f"Enter at most {limit} characters."
        }


def test_an_api_error_is_localised_per_field(client):
    response = client.post(
        "/api/v1/session", json={"phone": "", "password": 5}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "phone": "This field is required.",
        "password": "Enter text.",
    }
    response = client.post("/api/v1/session", json={}, headers={"Accept-Language": "zh-CN"})
    assert response.json()["error"]["fields"]["password"] == "此项为必填项。"

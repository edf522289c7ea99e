"""The typed boundary: pydantic models describe every request and response, once.

A part's `schemas.py` declares its models on `Schema`. The same class validates a JSON body,
a form post or a query string (`qingyuan.web.bodies.parse_json/parse_form/parse_query`), and
its JSON Schema is what `/api/v1/openapi.json` serves, so the document cannot disagree with the
validator. Services take the validated model (or plain typed arguments), never `Any`.

Pydantic's errors become our `ValidationFailed` (422, `{"error": {"code", "message",
"fields"}}`) through one translation map, `MESSAGES`: error type (+ its ctx, e.g. the
`min_length`) → a message in the reader's language. A field's first problem is the one shown.

JSON bodies are validated strictly (an integer field refuses "5", as the document says);
forms and query strings, where everything arrives as text, laxly ("5" is 5, "yes" is true).

Limits that come from settings (say `QINGYUAN_CHAT_MAX_LENGTH`) are built into the model:
a model overrides `configured(settings)` to return a subclass with the configured bounds
(cached per value). The validator and the document both use that subclass, so the document
shows the configured value; a validator reading settings at validation time would not appear
in the JSON Schema at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self, TypeVar, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    ValidationError,
    create_model,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from qingyuan.platform.errors import ValidationFailed
from qingyuan.platform.i18n import gettext as _

if TYPE_CHECKING:
    from qingyuan.platform.settings import PlatformSettings

INT_BOUND = 2**31
"""Every integer a client sends is an id, a count or a size held in a 32-bit column."""

NO_NUL = r"^[^\x00]*$"
"""PostgreSQL refuses NUL in text; the document says so with this pattern."""

Text = Annotated[str, Field(pattern=NO_NUL)]
"""Any text a client sends: a string without NUL."""


def _trimmed(text: str) -> str:
    trimmed = text.strip()
    if not trimmed:
        raise PydanticCustomError(
            "string_too_short", "String should have at least 1 character", {"min_length": 1}
        )
    return trimmed


Trimmed = AfterValidator(_trimmed)
"""Marks text kept without surrounding spaces, where spaces only are as good as nothing:
`Annotated[Text, Field(min_length=1, max_length=n), Trimmed]` (limits as sent, as the
document says). JSON Schema cannot say "not blank": list the field in `beyond_schema`."""
BLANKS = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""What `str.strip()` removes, as a regex class: the blanks around a title or a place."""

NOT_BLANK = rf"^[^\x00]*[^\x00{BLANKS}][^\x00]*$"
"""Text without NUL that is not only blanks (the services keep it stripped)."""

Id = Annotated[int, Field(ge=1, lt=INT_BOUND)]
"""A row id (the `{name:id}` path convertor's range, and a 32-bit column)."""

Count = Annotated[int, Field(ge=0, lt=INT_BOUND)]


def _iso_text(value: object) -> object:
    if not isinstance(value, str | datetime):  # a number is not a date, as the document says
        raise PydanticCustomError("datetime_type", "Input should be a valid datetime")
    return value


DateTime = Annotated[datetime, BeforeValidator(_iso_text), Field(strict=False)]
"""A point in time, sent as ISO 8601 text (strict JSON validation would want an instance)."""


Timestamp = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str)]
"""A point in time in a response, as `isoformat()` writes it (`+00:00`, as before the models)."""


class Schema(BaseModel):
    """Base of every request and response model.

    Strict (JSON types are what they say); unknown fields are ignored, as every route did
    before the models. `beyond_schema` names the fields with rules JSON Schema cannot say —
    checked by the model's own validators or by the service (an ID number's checksum, an age
    range in order, no contact details in a nickname): a refusal on those fields alone is
    not the document disagreeing with the validator (tests/web/test_schema_agreement.py).
    `shown_on` moves a field's problem onto another field, where the form shows it.
    """

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    beyond_schema: ClassVar[frozenset[str]] = frozenset()
    shown_on: ClassVar[Mapping[str, str]] = {}
    field_messages: ClassVar[Mapping[str, object]] = {}
    """Field → the message for any problem of its type or range (a `gettext_lazy`), where the
    field's meaning says more than the generic one ("Give the id of a notification."); a
    validator's own message (`ValueError`, `FieldProblem`) is kept."""

    @classmethod
    def configured(cls, settings: PlatformSettings) -> type[Self]:
        """This model with its settings-dependent limits; most have none."""
        return cls


def _min_length(ctx: Mapping[str, Any]) -> str:
    if ctx["min_length"] == 1:
        return _("This field is required.")
    return _("Enter at least %(min)d characters.", min=ctx["min_length"])


def _pattern(ctx: Mapping[str, Any]) -> str:
    if ctx.get("pattern") == NO_NUL:
        return _("The request contains characters that are not text.")
    if ctx.get("pattern") == NOT_BLANK:
        return _("This field is required.")
    return _("This is not in the expected format.")


def _value_error(ctx: Mapping[str, Any]) -> str:
    return str(ctx.get("error") or _("This value is not valid."))


MESSAGES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda ctx: _("This field is required."),
    "string_type": lambda ctx: _("Enter text."),
    "string_too_short": _min_length,
    "string_too_long": lambda ctx: _("Enter at most %(max)d characters.", max=ctx["max_length"]),
    "string_pattern_mismatch": _pattern,
    "int_type": lambda ctx: _("Enter a whole number."),
    "int_parsing": lambda ctx: _("Enter a whole number."),
    "int_from_float": lambda ctx: _("Enter a whole number."),
    "float_type": lambda ctx: _("Enter a number."),
    "float_parsing": lambda ctx: _("Enter a number."),
    "greater_than_equal": lambda ctx: _("Enter %(ge)s or more.", ge=ctx["ge"]),
    "greater_than": lambda ctx: _("Enter more than %(gt)s.", gt=ctx["gt"]),
    "less_than_equal": lambda ctx: _("Enter %(le)s or less.", le=ctx["le"]),
    "less_than": lambda ctx: _("Enter less than %(lt)s.", lt=ctx["lt"]),
    "bool_type": lambda ctx: _("Choose yes or no."),
    "bool_parsing": lambda ctx: _("Choose yes or no."),
    "literal_error": lambda ctx: _("Choose one of: %(expected)s.", expected=ctx["expected"]),
    "enum": lambda ctx: _("Choose one of: %(expected)s.", expected=ctx["expected"]),
    "list_type": lambda ctx: _("Send a list."),
    "too_short": lambda ctx: _("Choose at least %(min)d.", min=ctx["min_length"]),
    "too_long": lambda ctx: _("Choose at most %(max)d.", max=ctx["max_length"]),
    "dict_type": lambda ctx: _("Send an object."),
    "model_type": lambda ctx: _("Send an object."),
    "model_attributes_type": lambda ctx: _("Send an object."),
    "datetime_type": lambda ctx: _("Enter a date and time."),
    "datetime_parsing": lambda ctx: _("Enter a date and time."),
    "datetime_from_date_parsing": lambda ctx: _("Enter a date and time."),
    "date_type": lambda ctx: _("Enter a date."),
    "date_parsing": lambda ctx: _("Enter a date."),
    "date_from_datetime_parsing": lambda ctx: _("Enter a date."),
    "value_error": _value_error,
    "assertion_error": _value_error,
}


class FieldProblem(ValueError):
    """Raised in a model validator to pin a cross-field problem on one field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def message_of(error: ErrorDetails) -> str:
    """One pydantic error in the reader's language: the one translation map."""
    translate = MESSAGES.get(error["type"])
    if translate is None:
        return _("This value is not valid.")
    return translate(error.get("ctx") or {})


def _field_of(error: ErrorDetails) -> str:
    exc = (error.get("ctx") or {}).get("error")
    if isinstance(exc, FieldProblem):
        return exc.field
    loc = [part for part in error["loc"] if isinstance(part, str)]
    return loc[0] if loc else ""


def problems(error: ValidationError, model: type[BaseModel]) -> dict[str, str]:
    """Field → message, each field's first problem."""
    overrides: Mapping[str, object] = getattr(model, "field_messages", {})
    moved: Mapping[str, str] = getattr(model, "shown_on", {})
    fields: dict[str, str] = {}
    for detail in error.errors():
        field = _field_of(detail)
        field = moved.get(field, field)
        if field in fields:
            continue
        own = detail["type"] in ("value_error", "assertion_error")
        fields[field] = (
            str(overrides[field]) if field in overrides and not own else message_of(detail)
        )
    return fields


Model = TypeVar("Model", bound=BaseModel)


def validate(
    model: type[Model],
    data: object,
    *,
    strict: bool,
    context: Mapping[str, Any] | None = None,
) -> Model:
    """`data` as `model`, or ValidationFailed naming each faulty field in the reader's words."""
    try:
        # strict: the models' own config (strict, with per-field exceptions such as enums
        # given by value); passing strict=True would override those exceptions too.
        return model.model_validate(data, strict=None if strict else False, context=context)
    except ValidationError as error:
        fields = problems(error, model)
        general = fields.pop("", None)
        raise ValidationFailed(general, fields=fields) from error


def refined(model: type[Model], **fields: Any) -> type[Model]:
    """`model` with some fields declared again — `name=(Annotated[...], default)` — under the
    same name in the document: what a `configured(settings)` returns (cache it per value)."""
    return create_model(model.__name__, __base__=model, __module__=model.__module__, **fields)


def configured(model: type[Model], settings: PlatformSettings) -> type[Model]:
    """`model` with the limits `settings` give it (itself, for models that are not `Schema`)."""
    if issubclass(model, Schema):
        return model.configured(settings)
    return model


def list_fields(model: type[BaseModel]) -> Sequence[str]:
    """Fields that a form or query string sends repeated (`getlist`), by their names."""
    return [
        name
        for name, info in model.model_fields.items()
        if _is_list(info.annotation) and not issubclass(model, RootModel)
    ]


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    return any(_is_list(arg) for arg in get_args(annotation))

"""Request bodies: read within a size limit, then parsed with limits on shape and numbers.

Every route reads its body through here, so no body of any shape
reaches a service as something it cannot handle: nesting that would exhaust the parser's
recursion, numbers no column holds (or infinity), strings the database refuses (lone
surrogates, NUL), files where none belong. The byte limit is enforced while the body
streams in (`BodyLimitMiddleware`), before anything is buffered: an oversized post costs
one chunk of memory and a 413, whatever its Content-Length says.

Routes take small bodies unless marked otherwise with `@body_rules(...)` (photo uploads).

`parse_json`, `parse_form` and `parse_query` read the request into the route's pydantic model
(`qingyuan.platform.validation`): the model is the one description of what the route takes,
and the OpenAPI document is generated from it. `read_json` / `read_form` are the raw readers
underneath, still called by routes not yet converted to models.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, RootModel
from starlette.datastructures import FormData, ImmutableMultiDict
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qingyuan.platform.errors import UserError, ValidationFailed
from qingyuan.platform.i18n import gettext as _
from qingyuan.platform.validation import INT_BOUND, configured, list_fields, validate

MAX_DEPTH = 32
"""Deepest nesting of arrays and objects a JSON body may have; ours need three."""


class PayloadTooLarge(UserError):
    status = 413
    code = "payload_too_large"

    def default_message(self) -> str:
        return _("The request is too large.")


@dataclass(frozen=True)
class BodyRules:
    """What one route accepts: total bytes, and for forms the multipart part limits."""

    max_bytes: int = 64 * 1024
    max_files: int = 0
    max_fields: int = 500
    max_part_size: int = 64 * 1024


SMALL = BodyRules()
"""JSON bodies and ordinary forms: a questionnaire is the largest, at a few KB."""

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
Model = TypeVar("Model", bound=BaseModel)


class BodyReader(Protocol):
    """`parse_json` or `parse_form`: for a handler shared by an API route and a page, which
    reads the body only after checks that must come first (say a 404 for what is not yours)."""

    async def __call__(self, request: Request, model: type[Model], /) -> Model: ...


def body_rules(rules: BodyRules) -> Callable[[Endpoint], Endpoint]:
    """Give an endpoint other limits than SMALL (kept through `guard`'s functools.wraps)."""

    def mark(endpoint: Endpoint) -> Endpoint:
        endpoint.body_rules = rules  # type: ignore[attr-defined]
        return endpoint

    return mark


def rules_for(scope: Scope) -> BodyRules:
    """The routed endpoint's rules; known once routing has run, which is before any read."""
    rules = getattr(scope.get("endpoint"), "body_rules", SMALL)
    return rules if isinstance(rules, BodyRules) else SMALL


class BodyLimitMiddleware:
    """Refuse (413) a body beyond its route's limit, by Content-Length or while it streams."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            limit = rules_for(scope).max_bytes
            if received == 0 and _declared_length(scope) > limit:
                raise PayloadTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge()
            return message

        await self.app(scope, limited, send)


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


async def parse_json(request: Request, model: type[Model]) -> Model:
    """The request's JSON body as `model` (configured from the app's settings), or a 422."""
    _require_json(request)
    return decode_json(await request.body(), _configured(request, model))


def decode_json(raw: bytes, model: type[Model]) -> Model:
    """A JSON body as `model`: what `parse_json` runs once the bytes are in.

    Only the fields the model declares are read (it ignores the others), and they are
    validated strictly: a JSON body has JSON's types, as the document says.
    """
    return validate(model, load_object(raw, declared=_declared(model)), strict=True)


async def parse_form(request: Request, model: type[Model]) -> Model:
    """The request's form as `model`, or a 422 with one message per faulty field.

    Form values are text, so they are validated laxly ("5" is 5, "yes" is true); an empty
    value counts as not given, so that a required field left blank says it is required.
    """
    return validate(
        _configured(request, model), _values(await read_form(request), model), strict=False
    )


async def parse_query(request: Request, model: type[Model]) -> Model:
    """The query string as `model`, like a form."""
    return validate(_configured(request, model), _values(request.query_params, model), strict=False)


def model_response(model: BaseModel, status_code: int = 200) -> JSONResponse:
    """A response model as JSON: what the document describes is what is sent."""
    return JSONResponse(model.model_dump(mode="json"), status_code=status_code)


def _configured(request: Request, model: type[Model]) -> type[Model]:
    return configured(model, request.app.state.kernel.settings)


def _declared(model: type[BaseModel]) -> set[str] | None:
    if issubclass(model, RootModel):
        return None
    return {info.alias or name for name, info in model.model_fields.items()}


def _values(form: ImmutableMultiDict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    repeated = set(list_fields(model))
    names = _declared(model)
    values: dict[str, Any] = {}
    for name in set(form.keys()) if names is None else names:
        if name in repeated:
            values[name] = [v for v in form.getlist(name) if v != ""]
        elif form.get(name) not in (None, ""):
            values[name] = form.get(name)
    return values


async def read_json(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a 422 that says what is wrong with it."""
    _require_json(request)
    return load_object(await request.body())


def _require_json(request: Request) -> None:
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise ValidationFailed(_("Send the request body as JSON."))


def load_object(raw: bytes, *, declared: set[str] | None = None) -> dict[str, Any]:
    """A JSON object within our limits on shape and numbers, or a 422.

    With `declared`, only those keys are kept and checked: the others are ignored anyway.
    """
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_number)
    except RecursionError as exc:
        raise _too_deep() from exc
    except ValueError as exc:  # also UnicodeDecodeError, and integers of over 4300 digits
        raise ValidationFailed(_("The request body is not valid JSON.")) from exc
    if not isinstance(body, dict):
        raise ValidationFailed(_("The request body must be a JSON object."))
    if declared is not None:
        body = {key: value for key, value in body.items() if key in declared}
    refused: dict[str, str] = {}
    for key, value in body.items():  # said per field, as the routes' own checks do
        try:
            _check(key, 1)
            _check(value, 2)
        except ValidationFailed as error:
            refused[key if key.isprintable() else "?"] = error.message
    if refused:
        raise ValidationFailed(fields=refused)
    return body


def _number(text: str) -> float | int:
    """1.0 is the integer 1 in JSON (and JSON Schema): an integer field accepts it."""
    number = float(text)
    return int(number) if number.is_integer() else number


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON


def _too_deep() -> ValidationFailed:
    return ValidationFailed(_("The request body is nested too deeply."))


def _check(value: Any, depth: int) -> None:
    """Refuse what no route accepts and the database would choke on, wherever it sits."""
    if isinstance(value, dict | list):
        if depth > MAX_DEPTH:
            raise _too_deep()
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str):
                _check(key, depth)
            _check(item, depth + 1)
    elif isinstance(value, str):
        _check_text(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValidationFailed(_("A number in the request is out of range."))
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= INT_BOUND:
        raise ValidationFailed(_("A number in the request is out of range."))


def _check_text(text: str) -> None:
    """NUL and lone surrogates (a JSON "\\ud800" escape) are not text: PostgreSQL refuses NUL,
    and no driver can encode a surrogate."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _not_text() from exc
    if "\x00" in text:
        raise _not_text()


def _not_text() -> ValidationFailed:
    return ValidationFailed(_("The request contains characters that are not text."))


async def read_form(request: Request) -> FormData:
    """The request's form (urlencoded or multipart) within its route's part limits."""
    rules = rules_for(request.scope)
    try:
        form = await request.form(
            max_files=rules.max_files,
            max_fields=rules.max_fields,
            max_part_size=rules.max_part_size,
        )
    except HTTPException as exc:  # Starlette's words for a multipart problem, in English
        raise UserError(
            _("The form could not be read: it is malformed or has too many or too large parts.")
        ) from exc
    for _name, value in form.multi_items():
        if isinstance(value, str):
            _check_text(value)
    return form

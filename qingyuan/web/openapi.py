"""The OpenAPI document, built from the API routes and their pydantic models.

Each API route is an `ApiRoute`: a Starlette `Route` for one method that carries its summary,
its request model (`body`, `query`) and response models. `/api/v1/openapi.json` walks the
routing table and puts every model's JSON Schema (`model_json_schema`, configured from the
app's settings) under `components/schemas`: the document is the validators' own description.

Routes not yet converted may still give a hand-written JSON Schema dict; it is inlined.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.routing import BaseRoute, Route

import qingyuan
from qingyuan.platform.schemas import Error
from qingyuan.platform.settings import PlatformSettings
from qingyuan.platform.validation import configured

REF_TEMPLATE = "#/components/schemas/{model}"
Described = type[BaseModel] | dict[str, Any] | None
"""A model (converted routes), a hand-written JSON Schema (the others), or nothing."""

_ERROR_DESCRIPTIONS = {
    400: "Bad request",
    401: "Not logged in",
    403: "CSRF token or Origin refused",
    404: "Not found (also: not yours)",
    409: "Conflict",
    413: "Body over the route's size limit",
    422: "Invalid input",
    429: "Rate limited; see Retry-After",
    503: "A dependency is down",
}


class ApiRoute(Route):
    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        method: str,
        summary: str,
        body: Described = None,
        responses: dict[int, Described],
        errors: Iterable[int] = (),
        query: type[BaseModel] | dict[str, dict[str, Any]] | None = None,
        authenticated: bool = True,
        csrf: bool = True,
    ) -> None:
        super().__init__(path, endpoint, methods=[method])
        self.method = method.lower()
        self.summary = summary
        self.body = body
        self.responses = responses
        self.errors = tuple(errors)
        self.query = query
        self.authenticated = authenticated
        self.csrf = csrf and method not in ("GET", "HEAD")

    def body_model(self, settings: PlatformSettings) -> type[BaseModel] | None:
        """The model that validates this route's JSON body, with the app's limits."""
        return configured(self.body, settings) if isinstance(self.body, type) else None

    def models(
        self, settings: PlatformSettings
    ) -> Iterator[tuple[type[BaseModel], JsonSchemaMode]]:
        """Every model this route's description needs, and in which direction."""
        described_as: list[tuple[Any, JsonSchemaMode]] = [
            (self.body, "validation"),
            (self.query, "validation"),
            *((schema, "serialization") for schema in self.responses.values()),
        ]
        for described, mode in described_as:
            if isinstance(described, type):
                yield configured(described, settings), mode

    def operation(self, settings: PlatformSettings, refs: Refs) -> dict[str, Any]:
        operation: dict[str, Any] = {
            "summary": self.summary,
            "operationId": getattr(self.endpoint, "__name__", self.path),
            "responses": {
                str(status): _response("OK", refs.of(schema, settings, "serialization"))
                for status, schema in self.responses.items()
            },
        }
        error = refs.of(Error, settings, "serialization")
        for status in sorted({*self.errors, *self._implied_errors()}):
            operation["responses"][str(status)] = _response(
                _ERROR_DESCRIPTIONS.get(status, "Error"), error
            )
        if self.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": refs.of(self.body, settings, "validation")}
                },
            }
        if self.authenticated:
            operation["security"] = [{"session": []}]
        parameters = self._parameters(settings)
        if parameters:
            operation["parameters"] = parameters
        return operation

    def _implied_errors(self) -> list[int]:
        implied = [401] if self.authenticated else []
        if self.csrf:
            implied.append(403)
        if self.body is not None:
            implied += [413, 422]
        if isinstance(self.query, type):
            implied.append(422)
        return implied

    def _parameters(self, settings: PlatformSettings) -> list[dict[str, Any]]:
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
            for name in self.param_convertors
        ]
        parameters += _query_parameters(self.query, settings)
        if self.csrf:
            parameters.append(
                {
                    "name": "X-CSRF-Token",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string"},
                }
            )
        return parameters


def _query_parameters(
    query: type[BaseModel] | dict[str, dict[str, Any]] | None, settings: PlatformSettings
) -> list[dict[str, Any]]:
    if query is None:
        return []
    if isinstance(query, dict):
        return [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in query.items()
        ]
    schema = configured(query, settings).model_json_schema(ref_template=REF_TEMPLATE)
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in prop.items() if k != "description"},
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema["properties"].items()
    ]


class Refs:
    """Every model's JSON Schema, generated together so that shared models are defined once."""

    def __init__(self, models: Iterable[tuple[type[BaseModel], JsonSchemaMode]]) -> None:
        unique = list(dict.fromkeys(models))
        refs, definitions = models_json_schema(unique, ref_template=REF_TEMPLATE)
        self._refs = refs
        self.components: dict[str, Any] = definitions.get("$defs", {})

    def of(self, described: Described, settings: PlatformSettings, mode: JsonSchemaMode) -> Any:
        if isinstance(described, type):
            return self._refs[(configured(described, settings), mode)]
        return described


def _response(description: str, schema: dict[str, Any] | None) -> dict[str, Any]:
    if schema is None:
        return {"description": description}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[ApiRoute]:
    """The API routes of a routing table, mounts included."""
    for route in routes:
        if isinstance(route, ApiRoute):
            yield route
        yield from api_routes(getattr(route, "routes", ()))


def build_schema(routes: Iterable[BaseRoute], settings: PlatformSettings) -> dict[str, Any]:
    api = list(api_routes(routes))
    refs = Refs(
        [(Error, "serialization"), *(model for route in api for model in route.models(settings))]
    )
    paths: dict[str, dict[str, Any]] = {}
    for route in api:
        paths.setdefault(route.path_format, {})[route.method] = route.operation(settings, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Qingyuan API",
            "version": qingyuan.__version__,
            "description": "JSON API of Qingyuan (青缘). Log in with POST /api/v1/session; "
            "send the returned csrf_token as X-CSRF-Token on every unsafe call.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "qy_session",
                    "description": "Named __Host-qy_session (Secure) outside development",
                },
            },
            "schemas": refs.components,
        },
    }

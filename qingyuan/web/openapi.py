"""The OpenAPI document, built from the API routes themselves so it cannot drift from them.

Each API route is an `ApiRoute`: a Starlette `Route` for one method that carries its summary,
request body schema and responses. `/api/v1/openapi.json` walks the routing table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from starlette.routing import BaseRoute, Route

import qingyuan

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string", "description": "Localised, for people"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}

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
        body: dict[str, Any] | None = None,
        responses: dict[int, dict[str, Any] | None],
        errors: Iterable[int] = (),
        query: dict[str, dict[str, Any]] | None = None,
        authenticated: bool = True,
        csrf: bool = True,
    ) -> None:
        super().__init__(path, endpoint, methods=[method])
        self.method = method.lower()
        self.summary = summary
        self.body = body
        self.responses = responses
        self.errors = tuple(errors)
        self.query = query or {}
        self.authenticated = authenticated
        self.csrf = csrf and method not in ("GET", "HEAD")

    def operation(self) -> dict[str, Any]:
        operation: dict[str, Any] = {
            "summary": self.summary,
            "operationId": getattr(self.endpoint, "__name__", self.path),
            "responses": {
                str(status): _response("OK", schema) for status, schema in self.responses.items()
            },
        }
        for status in sorted({*self.errors, *self._implied_errors()}):
            operation["responses"][str(status)] = _response(
                _ERROR_DESCRIPTIONS.get(status, "Error"), ERROR_SCHEMA
            )
        if self.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": self.body}},
            }
        if self.authenticated:
            operation["security"] = [{"session": []}]
        parameters = self._parameters()
        if parameters:
            operation["parameters"] = parameters
        return operation

    def _implied_errors(self) -> list[int]:
        implied = [401] if self.authenticated else []
        if self.csrf:
            implied.append(403)
        if self.body is not None:
            implied += [413, 422]
        return implied

    def _parameters(self) -> list[dict[str, Any]]:
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
            for name in self.param_convertors
        ]
        parameters += [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in self.query.items()
        ]
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


def _response(description: str, schema: dict[str, Any] | None) -> dict[str, Any]:
    if schema is None:
        return {"description": description}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _api_routes(routes: Iterable[BaseRoute]) -> Iterable[ApiRoute]:
    for route in routes:
        if isinstance(route, ApiRoute):
            yield route
        yield from _api_routes(getattr(route, "routes", ()))


def build_schema(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in _api_routes(routes):
        paths.setdefault(route.path_format, {})[route.method] = route.operation()
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
            "schemas": {"Error": ERROR_SCHEMA},
        },
    }

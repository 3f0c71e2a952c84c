"""The OpenAPI description (``/openapi.json``, ``/docs``) of the application.

FastAPI describes the endpoints it routes; /recommend and /score are plain Starlette
routes that parse their own bodies (`schemas`), so `describe` adds them, with the request
and answer schemas of `schemas`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from netcfg.serving.schemas import (
    ErrorAnswer,
    Recommendation,
    RecommendRequest,
    ScoreAnswer,
    ScoreRequest,
)

__all__ = ["describe"]

_JSON = "application/json"
ERROR_PHRASES = {
    400: "not JSON",
    401: "no or wrong bearer token",
    404: "unknown model, user or item",
    413: "body too large",
    422: "a field breaks a rule",
}


def _operation(summary: str, request: str, answer: str, many: bool = False) -> dict:
    """The OpenAPI operation of an endpoint that parses its own body: a ``request`` (or a
    list of them when ``many``) in, an ``answer`` (or a list) out, errors as `ErrorAnswer`."""

    def ref(name: str) -> dict:
        return {"$ref": f"#/components/schemas/{name}"}

    def one_or_many(name: str) -> dict:
        return {"anyOf": [ref(name), {"type": "array", "items": ref(name)}]} if many else ref(name)

    errors = {
        str(status): {"description": phrase, "content": {_JSON: {"schema": ref("ErrorAnswer")}}}
        for status, phrase in ERROR_PHRASES.items()
    }
    return {
        "post": {
            "summary": summary,
            "requestBody": {"required": True, "content": {_JSON: {"schema": one_or_many(request)}}},
            "responses": {
                "200": {"description": "OK", "content": {_JSON: {"schema": one_or_many(answer)}}},
                **errors,
            },
        }
    }


def describe(app: FastAPI) -> dict:
    """The application's OpenAPI description: FastAPI's, with the endpoints that parse
    their own bodies (computed once)."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        _, defs = models_json_schema(
            [
                (RecommendRequest, "validation"),
                (ScoreRequest, "validation"),
                (Recommendation, "serialization"),
                (ScoreAnswer, "serialization"),
                (ErrorAnswer, "serialization"),
            ],
            ref_template="#/components/schemas/{model}",
        )
        schema.setdefault("components", {}).setdefault("schemas", {}).update(defs["$defs"])
        schema["paths"]["/recommend"] = _operation(
            "top-K items for one user, or for a list of requests",
            "RecommendRequest",
            "Recommendation",
            many=True,
        )
        schema["paths"]["/score"] = _operation(
            "scores of (user, item) pairs", "ScoreRequest", "ScoreAnswer"
        )
        app.openapi_schema = schema
    return app.openapi_schema

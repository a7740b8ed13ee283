"""The OpenAPI 3.1 description of the merchant API, served at /api/v1/openapi.json.

Generated from `routes.ENDPOINTS` and the pydantic models the handlers validate and
answer with; nothing here describes a route or a field by hand, so it cannot drift.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from bot.api.auth import MAX_AGE, MAX_AHEAD, SIGNATURE_HEADER, TIMESTAMP_HEADER
from bot.services.merchant.webhook_payloads import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    PAYLOAD_MODELS,
)
from storage.types import ROW_ID_MAX

if TYPE_CHECKING:
    from bot.api.routes import Endpoint

_PARAMETER = re.compile(r"\{(\w+)(?::([^}]+))?\}")
_REF = "#/components/schemas/{model}"
_ANY_OBJECT: dict[str, Any] = {"type": "object"}

DESCRIPTION = f"""\
Report refund events, cancel orders and load orders from your systems; read back
refunds and orders with their history, poll the cancellation requests and the vouchers
issued, and redeem a voucher at your checkout.

**Signing.** Every request except this description carries
`{TIMESTAMP_HEADER}: <Unix seconds>` and
`{SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`
keyed with `MERCHANT_API_SECRET` (a GET signs an empty body: `"<timestamp>."`).
Requests older than {MAX_AGE} s, or more than {MAX_AHEAD} s ahead of the server's
clock, are refused with 401. Without a configured secret the API answers 503.

**Errors** are `{{"error": {{"code", "message", "details": [{{"field", "message",
"record"}}]}}}}`: 400 malformed JSON, 401 signature, 404 unknown refund, order or route,
409 not possible now or event id reused for something else, 413 too large, 422 invalid
body (each field named), 503 disabled.

**Idempotency.** Events carry your `event_id`; sending one again returns the first
answer, status and body alike, with `X-Cancelbot-Replayed: true`, and changes nothing.

**Money** is a string with the currency's decimals (`"314.00"`) next to its currency;
send amounts as such strings or integers, never floats. Times are ISO 8601 with a time
zone; answers use UTC.

**Webhook.** With `MERCHANT_WEBHOOK_URL` set, the bot POSTs the events under `webhooks`
there, signed with the same two headers and secret (a fresh timestamp per attempt), with
`{EVENT_ID_HEADER}` and `{EVENT_TYPE_HEADER}`. Answer 2xx to take an event; anything
else, or no answer in time, is retried with backoff. Delivery is at least once: the
event's `id` is the same on every retry, so deduplicate on it.
"""


def openapi_path(prefix: str, path: str) -> str:
    """`/refunds/{refund_id:\\d+}` (aiohttp) → `/api/v1/refunds/{refund_id}` (OpenAPI)."""
    return prefix + _PARAMETER.sub(r"{\1}", path)


def openapi_document(endpoints: Iterable[Endpoint], prefix: str) -> dict[str, Any]:
    endpoints = tuple(endpoints)
    events: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (model, "serialization") for model in PAYLOAD_MODELS
    ]
    refs, schema = models_json_schema(_models(endpoints) + events, ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        operation: dict[str, Any] = {
            "operationId": endpoint.name,
            "summary": endpoint.summary,
            "responses": {
                str(status): _response(description, refs[(model, "serialization")])
                if model is not None
                else _response(description, _ANY_OBJECT)
                for status, (model, description) in sorted(endpoint.all_responses().items())
            },
        }
        if endpoint.description:
            operation["description"] = endpoint.description
        parameters = _parameters(endpoint.path)
        if endpoint.query is not None:
            parameters += _query_parameters(schema, refs[(endpoint.query, "validation")])
        if parameters:
            operation["parameters"] = parameters
        if endpoint.request is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(endpoint.request, "validation")]}},
            }
        if endpoint.public:
            operation["security"] = []
        paths.setdefault(openapi_path(prefix, endpoint.path), {})[endpoint.method.lower()] = (
            operation
        )
    return {
        "openapi": "3.1.0",
        "info": {"title": "cancelbot merchant API", "version": "1", "description": DESCRIPTION},
        "paths": paths,
        "webhooks": {
            model.model_fields["type"].default: _webhook(model, refs[(model, "serialization")])
            for model, _ in events
        },
        "components": {
            "schemas": schema.get("$defs", {}),
            "securitySchemes": {
                "timestamp": {"type": "apiKey", "in": "header", "name": TIMESTAMP_HEADER},
                "signature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": SIGNATURE_HEADER,
                    "description": 'sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">',
                },
            },
        },
        "security": [{"timestamp": [], "signature": []}],
    }


def _models(endpoints: tuple[Endpoint, ...]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    """Request bodies and query strings as they are validated, responses as they are
    serialised; each once."""
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for endpoint in endpoints:
        for given in (endpoint.request, endpoint.query):
            if given is not None:
                wanted[(given, "validation")] = None
        for model, _ in endpoint.all_responses().values():
            if model is not None:
                wanted[(model, "serialization")] = None
    return list(wanted)


def _parameters(path: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": ROW_ID_MAX}
            if pattern == r"\d+"
            else {"type": "string"},
        }
        for name, pattern in _PARAMETER.findall(path)
    ]


def _query_parameters(schema: dict[str, Any], ref: dict[str, Any]) -> list[dict[str, Any]]:
    """One `in: query` parameter per field of the query model; a list may repeat."""
    model = schema["$defs"][ref["$ref"].rsplit("/", 1)[1]]
    parameters = []
    for name, field in model["properties"].items():
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in model.get("required", []),
            "schema": {key: value for key, value in field.items() if key != "description"},
        }
        if "description" in field:
            parameter["description"] = field["description"]
        if field.get("type") == "array":
            parameter |= {"style": "form", "explode": True}
        parameters.append(parameter)
    return parameters


def _webhook(model: type[BaseModel], schema: dict[str, Any]) -> dict[str, Any]:
    """What MERCHANT_WEBHOOK_URL receives for one event type (bot.channels.merchant_webhook)."""
    headers = (TIMESTAMP_HEADER, SIGNATURE_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER)
    return {
        "post": {
            "summary": (model.__doc__ or "").split("\n\n")[0].replace("\n", " "),
            "parameters": [
                {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
                for name in headers
            ],
            "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
            "responses": {
                "2XX": {"description": "Taken in. Any other answer, or none, is retried."}
            },
        }
    }


def _response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}

"""The HTTP face of the fake: `/bot<token>/<method>`, run like Telegram runs it, recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiogram.methods
from aiohttp import web

from . import methods_chats, methods_messages, methods_updates
from .backend import Backend, Handler
from .errors import ApiError
from .faults import FaultPlan, RateLimiter
from .params import Params, decode_params, read_params
from .records import ApiCall
from .webhook import is_reply_method_allowed

HANDLERS: dict[str, Handler] = {
    **methods_messages.HANDLERS,
    **methods_chats.HANDLERS,
    **methods_updates.HANDLERS,
}
IMPLEMENTED = {name.lower(): name for name in HANDLERS}
"""Lower-cased method name -> canonical name, for every method the fake simulates."""
TELEGRAM_METHODS = {
    name.lower(): name
    for obj in vars(aiogram.methods).values()
    if isinstance(name := getattr(obj, "__api_method__", None), str)
}
"""Every real Bot API method aiogram knows, so unsimulated ones can be told from typos."""


class ApiEndpoint:
    """Looks up the method, applies scripted faults and rate limits, runs it, records it."""

    def __init__(
        self,
        token: str,
        backend: Backend,
        faults: FaultPlan,
        limiter: RateLimiter | None,
        rate_clock: Callable[[], float] | None = None,
    ) -> None:
        self.token = token
        self.backend = backend
        self.faults = faults
        self.limiter = limiter
        self._rate_now = rate_clock or backend.clock.now

    async def handle(self, request: web.Request) -> web.Response:
        """aiohttp handler for `/bot{token}/{method}` (any HTTP verb, any body encoding)."""
        if request.match_info["token"] != self.token:
            return _json_response(401, ApiError(401, "Unauthorized").payload())
        try:
            params = await read_params(request)
        except ApiError as error:
            return _json_response(error.error_code, error.payload())
        status, body = await self.execute(request.match_info["method"], params)
        return _json_response(status, body)

    async def execute(
        self, method: str, params: dict[str, Any], *, via_webhook_reply: bool = False
    ) -> tuple[int, dict[str, Any]]:
        """Run one API call as Telegram would, record it, and return (status, body)."""
        name = IMPLEMENTED.get(method.lower()) or TELEGRAM_METHODS.get(method.lower(), method)
        at = self.backend.clock.now()
        try:
            result = await self._run(name, params)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as error:
            status, body = error.error_code, error.payload()
        except Exception as bug:  # a bug in the fake must not look like a network problem
            error = ApiError(500, f"Internal Server Error: fake_telegram bug: {bug!r}")
            status, body = error.error_code, error.payload()
        snapshot = json.loads(json.dumps(body))  # later edits must not change the record
        call = ApiCall(name, params, status, snapshot, at, via_webhook_reply)
        self.backend.log.record(call, self._touched_chat(params))
        return status, snapshot

    async def webhook_reply(self, fields: dict[str, Any]) -> None:
        """Execute an API call the bot put in its webhook response, as Telegram does."""
        method = str(fields.pop("method", ""))
        if is_reply_method_allowed(method):
            await self.execute(method, decode_params(fields), via_webhook_reply=True)

    async def _run(self, name: str, params: dict[str, Any]) -> Any:
        handler = HANDLERS.get(name)
        if handler is None:
            if name.lower() in TELEGRAM_METHODS:
                raise ApiError(404, f"Not Found: method {name} is not implemented by fake_telegram")
            raise ApiError(404, "Not Found: method not found")
        hold = self.faults.take_hold(name, params)
        if hold is not None:
            hold.arrived.set()
            self.backend.log.touch()
            await hold.released.wait()
        fault = self.faults.take(name, params)
        if fault is not None:
            raise fault
        chat_id = params.get("chat_id")
        if self.limiter is not None:
            self.limiter.check(name, chat_id, self._rate_now())
        result = await handler(self.backend, Params(params))
        if self.limiter is not None:
            sent = len(result) if isinstance(result, list) else 1
            self.limiter.count(name, chat_id, self._rate_now(), sent)
        return result

    def _touched_chat(self, params: dict[str, Any]) -> int | None:
        """The chat a call concerns, so `settle()` can tell when a chat went quiet."""
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int):
            return chat_id
        query = self.backend.world.queries.get(str(params.get("callback_query_id")))
        return query.chat_id if query else None


def _json_response(status: int, body: dict[str, Any]) -> web.Response:
    text = json.dumps(body, ensure_ascii=False)
    return web.Response(text=text, status=status, content_type="application/json")

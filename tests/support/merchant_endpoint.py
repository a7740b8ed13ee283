"""A merchant's webhook endpoint on 127.0.0.1: checks each POST as a merchant's code would
(the signature, with the very function that checks the merchant's requests to us), keeps
what arrived, and answers as scripted (200 by default; a status, or "hang" until the
sender gives up waiting).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.api.auth import verify
from bot.api.errors import ApiError
from bot.services.merchant.webhook_payloads import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    payload_adapter,
)

HANG = "hang"
WAIT_LIMIT = 30.0
"""A guard against a hung test, never an expectation: events normally arrive at once."""


@dataclass(frozen=True)
class Received:
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def id(self) -> str:
        return str(self.body["id"])

    @property
    def type(self) -> str:
        return str(self.body["type"])

    @property
    def data(self) -> dict[str, Any]:
        data = self.body["data"]
        assert isinstance(data, dict)
        return data


@dataclass
class MerchantEndpoint:
    secret: bytes
    now: Callable[[], datetime]
    script: list[int | str] = field(default_factory=list)
    """Answers for the next POSTs, in order; then `default`."""
    default: int | str = 200
    received: list[Received] = field(default_factory=list)
    """Every POST that carried a valid signature, whatever was answered."""
    accepted: list[Received] = field(default_factory=list)
    """The POSTs answered 2xx: what the merchant's systems took in."""
    unsigned: int = 0
    invalid: list[str] = field(default_factory=list)
    """What was wrong with POSTs that did not match the documented shape (tests want none)."""
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _server: TestServer | None = None
    _hung: asyncio.Event = field(default_factory=asyncio.Event)

    async def __aenter__(self) -> MerchantEndpoint:
        app = web.Application()
        app.router.add_post("/hooks/cancelbot", self._handle)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._hung.set()
        assert self._server is not None
        await self._server.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("/hooks/cancelbot"))

    async def wait_for(self, count: int, *, answered: bool = True) -> list[Received]:
        """The first `count` accepted events (any POSTs, `answered=False`), once arrived."""
        seen = self.accepted if answered else self.received
        async with asyncio.timeout(WAIT_LIMIT), self._changed:
            await self._changed.wait_for(lambda: len(seen) >= count)
        return seen[:count]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            verify(self.secret, request.headers, raw, self.now().timestamp())
        except ApiError:
            self.unsigned += 1
            return web.Response(status=401)
        body = json.loads(raw)
        try:
            payload_adapter.validate_python(body)  # the documented shape
        except ValueError as error:
            self.invalid.append(str(error))
            return web.Response(status=400)
        if (request.headers.get(EVENT_ID_HEADER), request.headers.get(EVENT_TYPE_HEADER)) != (
            body["id"],
            body["type"],
        ):
            self.invalid.append(f"headers do not name event {body['id']} ({body['type']})")
            return web.Response(status=400)
        got = Received(body, dict(request.headers))
        answer = self.script.pop(0) if self.script else self.default
        async with self._changed:
            self.received.append(got)
            if answer == HANG:
                self._changed.notify_all()
        if answer == HANG:
            await self._hung.wait()
            return web.Response(status=504)
        async with self._changed:
            if isinstance(answer, int) and 200 <= answer < 300:
                self.accepted.append(got)
            self._changed.notify_all()
        headers = {"Retry-After": "120"} if answer == 503 else {}
        return web.Response(status=int(answer), headers=headers)

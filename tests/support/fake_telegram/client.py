"""An aiogram session for talking to the fake over loopback."""

from __future__ import annotations

from typing import Any

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import TCPConnector


class LoopbackSession(AiohttpSession):
    """AiohttpSession aimed at the fake: plain HTTP, and closing without aiogram's 250 ms
    SSL grace sleep.

    The sleep exists for TLS connections to real Telegram; over plain loopback HTTP it would
    only make every test slower. So would the TLS context `AiohttpSession.__init__` builds
    from certifi's CA bundle (~65 ms per session on a slow 2-core machine, one per test's
    bot): this sets up the same fields without it.
    """

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        BaseSession.__init__(self, api=TelegramAPIServer.from_base(base_url), **kwargs)
        self._session = None
        self._connector_type = TCPConnector
        self._connector_init = {"ssl": False, "limit": 100}
        self._should_reset_connector = True
        self._proxy = None

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

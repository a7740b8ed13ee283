"""An aiogram session for talking to the fake over loopback."""

from __future__ import annotations

from typing import Any

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer


class LoopbackSession(AiohttpSession):
    """AiohttpSession aimed at the fake, closing without aiogram's 250 ms SSL grace sleep.

    The sleep exists for TLS connections to real Telegram; over plain loopback HTTP it would
    only make every test slower.
    """

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(api=TelegramAPIServer.from_base(base_url), **kwargs)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

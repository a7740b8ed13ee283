"""The aiohttp application keys shared by the HTTP routes."""

from __future__ import annotations

from aiohttp import web

from bot.wiring import AppDeps

DEPS = web.AppKey("deps", AppDeps)

"""Bot API methods for receiving updates: getUpdates and the webhook trio."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any
from urllib.parse import urlsplit

from .backend import Backend, Handler
from .errors import bad_request, conflict
from .params import Params
from .updates import BY_SET_WEBHOOK
from .webhook import WebhookConfig

MAX_LONG_POLL_TIMEOUT = 50
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]*$")
WEBHOOK_IS_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)


async def get_updates(api: Backend, params: Params) -> list[dict[str, Any]]:
    if api.webhook.active:
        raise conflict(WEBHOOK_IS_ACTIVE)
    limit = min(max(params.integer("limit", 100), 1), 100)
    timeout = min(max(params.integer("timeout"), 0), MAX_LONG_POLL_TIMEOUT)
    api.updates.set_allowed(params.json("allowed_updates"))
    api.updates.confirm(params.integer("offset"))
    if not api.updates.pending and timeout and not api.updates.closed:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await api.updates.wait_for_updates()
    return api.updates.take(limit)


async def set_webhook(api: Backend, params: Params) -> bool:
    """Any http(s) URL is accepted (real Telegram insists on HTTPS on ports 443/80/88/8443)."""
    url = params.text("url")
    if not url:
        return await delete_webhook(api, params)
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise bad_request("invalid webhook URL specified")
    secret = params.text("secret_token")
    if len(secret) > 256:
        raise bad_request("secret token is too long")
    if not _SECRET_TOKEN.match(secret):
        raise bad_request("secret token contains unallowed characters")
    if params.flag("drop_pending_updates"):
        api.updates.clear()
    api.updates.set_allowed(params.json("allowed_updates"))
    api.updates.abort_poll(BY_SET_WEBHOOK)
    max_connections = params.integer("max_connections", 40)
    await api.webhook.set(WebhookConfig(url, secret or None, max_connections))
    return True


async def delete_webhook(api: Backend, params: Params) -> bool:
    if params.flag("drop_pending_updates"):
        api.updates.clear()
    await api.webhook.delete()
    return True


async def get_webhook_info(api: Backend, params: Params) -> dict[str, Any]:
    return api.webhook.info()


HANDLERS: dict[str, Handler] = {
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
}

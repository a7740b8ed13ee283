"""Signed requests: HMAC-SHA256 over `"{timestamp}.{raw body}"` with MERCHANT_API_SECRET
(bot.services.merchant.signing; the merchant's webhook is signed the same way).

    X-Cancelbot-Timestamp: 1795428000            (Unix seconds)
    X-Cancelbot-Signature: sha256=<hex digest>

The timestamp is inside the signature, so a captured request cannot be replayed once
it is older than `MAX_AGE`; a little clock drift ahead of ours (`MAX_AHEAD`) is
forgiven. Digests are compared in constant time. Without a secret the API is off
(503), never open.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Collection
from datetime import datetime

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from multidict import CIMultiDictProxy
from pydantic import SecretStr

from bot.api.errors import ApiError
from bot.api.schemas import ErrorCode
from bot.services.merchant.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

__all__ = [
    "MAX_AGE",
    "MAX_AHEAD",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "hmac_auth",
    "signature",
    "verify",
]

MAX_AGE = 300  # seconds
MAX_AHEAD = 30  # seconds
MAX_TIMESTAMP_DIGITS = 12  # Unix seconds have 10 digits until the year 2286


def verify(secret: bytes, headers: CIMultiDictProxy[str], body: bytes, now: float) -> None:
    """Raise a 401 ApiError saying what is wrong, or return: the request is the merchant's."""
    timestamp = headers.get(TIMESTAMP_HEADER)
    sent = headers.get(SIGNATURE_HEADER)
    if timestamp is None or sent is None:
        missing = TIMESTAMP_HEADER if timestamp is None else SIGNATURE_HEADER
        raise ApiError(401, ErrorCode.MISSING_SIGNATURE, f"{missing} header is missing")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > MAX_TIMESTAMP_DIGITS:
        raise ApiError(
            401,
            ErrorCode.BAD_TIMESTAMP,
            f"{TIMESTAMP_HEADER} must be Unix seconds, e.g. 1795428000",
        )
    if not hmac.compare_digest(sent.encode(), signature(secret, timestamp, body).encode()):
        raise ApiError(
            401,
            ErrorCode.BAD_SIGNATURE,
            f'{SIGNATURE_HEADER} does not match: expected "sha256=" and the hex HMAC-SHA256 '
            f'of "<timestamp>.<body>"',
        )
    age = now - int(timestamp)
    if age > MAX_AGE:
        raise ApiError(
            401, ErrorCode.STALE_TIMESTAMP, f"request is {int(age)} s old; at most {MAX_AGE} s"
        )
    if -age > MAX_AHEAD:
        raise ApiError(
            401,
            ErrorCode.FUTURE_TIMESTAMP,
            f"request is {int(-age)} s in the future; check your clock",
        )


def hmac_auth(
    secret: SecretStr | None, clock: Callable[[], datetime], public: Collection[str]
) -> Middleware:
    """Refuse unsigned requests, except to the routes named in `public`."""

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.match_info.route.name in public:
            return await handler(request)
        if secret is None:
            raise ApiError(
                503, ErrorCode.API_DISABLED, "merchant API disabled: MERCHANT_API_SECRET is not set"
            )
        body = await request.read()
        verify(secret.get_secret_value().encode(), request.headers, body, clock().timestamp())
        return await handler(request)

    return authenticate

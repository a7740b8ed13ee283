"""The merchant's HMAC scheme, both ways: requests the merchant sends us are verified with
it (bot.api.auth), and the events we POST to the merchant's webhook are signed with it,
so one piece of code on their side checks both.

    X-Cancelbot-Timestamp: 1795428000            (Unix seconds)
    X-Cancelbot-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Cancelbot-Timestamp"
SIGNATURE_HEADER = "X-Cancelbot-Signature"
SCHEME = "sha256="


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The `X-Cancelbot-Signature` value for this timestamp and body."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return SCHEME + digest


def signed_headers(secret: bytes, timestamp: int, body: bytes) -> dict[str, str]:
    """The two headers that sign `body` at `timestamp` (Unix seconds)."""
    stamp = str(timestamp)
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature(secret, stamp, body)}

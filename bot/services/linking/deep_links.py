"""Signed `/start` payloads that link a Telegram account to a customer.

Telegram passes at most 64 characters of [A-Za-z0-9_-] after `/start`, so a token
is base64url("<customer id>|<expiry, hex seconds>") followed by a fixed 16-character
base64url tag (HMAC-SHA256 truncated to 96 bits). Only the bot can mint one, and
each links an account once (`LinkingService.link_by_token` records its digest).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_PAYLOAD_CHARS = 64
_SIGNATURE_BYTES = 12  # 16 base64url characters, 96 bits
_SIGNATURE_CHARS = 16


class InvalidLinkToken(ValueError):
    pass


class ExpiredLinkToken(InvalidLinkToken):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class LinkTokens:
    secret: bytes

    def issue(self, customer_external_id: str, expires_at: datetime) -> str:
        payload = f"{customer_external_id}|{int(expires_at.timestamp()):x}".encode()
        token = _b64(payload) + _b64(self._sign(payload))
        if len(token) > MAX_PAYLOAD_CHARS:
            raise ValueError("customer id too long for a Telegram deep link (64 characters)")
        return token

    def verify(self, token: str, now: datetime) -> str:
        """Return the customer's external id, or raise InvalidLinkToken / ExpiredLinkToken."""
        if len(token) <= _SIGNATURE_CHARS or len(token) > MAX_PAYLOAD_CHARS:
            raise InvalidLinkToken("malformed token")
        body, signature = token[:-_SIGNATURE_CHARS], token[-_SIGNATURE_CHARS:]
        try:
            payload = _unb64(body)
            given = _unb64(signature)
        except (ValueError, TypeError):
            raise InvalidLinkToken("malformed token") from None
        if not hmac.compare_digest(given, self._sign(payload)):
            raise InvalidLinkToken("bad signature")
        customer_id, _, expiry_hex = payload.decode(errors="replace").rpartition("|")
        try:
            expires_at = datetime.fromtimestamp(int(expiry_hex, 16), tz=UTC)
        except ValueError:
            raise InvalidLinkToken("malformed token") from None
        if not customer_id:
            raise InvalidLinkToken("malformed token")
        if expires_at <= now:
            raise ExpiredLinkToken("token expired")
        return customer_id

    def deep_link(self, bot_username: str, token: str) -> str:
        return f"https://t.me/{bot_username}?start={token}"

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self.secret, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def token_digest(token: str) -> str:
    """What is stored of a used token: its SHA-256, so the table holds no usable link."""
    return hashlib.sha256(token.encode()).hexdigest()


def default_expiry(now: datetime, days: int) -> datetime:
    return now + timedelta(days=days)

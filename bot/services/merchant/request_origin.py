"""Who started a cancellation request: the customer in the chat, or the merchant's API.

A leaf module, so the merchant's views and webhook events can ask without importing
the merchant cancellation service (which itself stages webhook events).
"""

from __future__ import annotations

from storage.models import MERCHANT_REQUEST_PREFIX, CancellationRequest


def is_merchant_request(request: CancellationRequest) -> bool:
    return request.idempotency_key.startswith(MERCHANT_REQUEST_PREFIX)

"""Bot API error answers, shaped exactly like Telegram's so aiogram maps them to its exceptions."""

from __future__ import annotations

from typing import Any

_PREFIXES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class ApiError(Exception):
    """A failed Bot API call: raised by method handlers, answered as `{"ok": false, ...}`."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters or {}

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error; its HTTP status equals `error_code`."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def default_description(error_code: int) -> str:
    """Telegram's bare description for a status code, e.g. 403 -> "Forbidden"."""
    return _PREFIXES.get(error_code, "Bad Request")


def bad_request(message: str) -> ApiError:
    """400 with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {message}")


def forbidden(message: str) -> ApiError:
    """403 with Telegram's "Forbidden: " prefix."""
    return ApiError(403, f"Forbidden: {message}")


def conflict(message: str) -> ApiError:
    """409; `message` already carries Telegram's "Conflict: " prefix."""
    return ApiError(409, message)


def too_many_requests(retry_after: int) -> ApiError:
    """429 that aiogram turns into TelegramRetryAfter via `parameters.retry_after`."""
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def chat_not_found() -> ApiError:
    """The answer for any chat the bot has never seen."""
    return bad_request("chat not found")

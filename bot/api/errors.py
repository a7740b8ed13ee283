"""Every failure of the merchant API answers `{"error": {"code", "message", "details"}}`.

Handlers and the signature check raise `ApiError`; the services' own errors are mapped
here, each to one status, so a merchant's code can branch on the status and the code.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.api.schemas import ErrorBody, ErrorCode, ErrorResponse, FieldError
from bot.services.erasure import UnknownCustomer
from bot.services.imports.sources import dotted_path
from bot.services.merchant.errors import (
    EventIdConflict,
    MerchantRequestError,
    OrderNotCancellable,
    OutOfOrder,
    UnknownOrder,
    UnknownRefund,
    UnknownVoucher,
    VoucherExpired,
    VoucherRedeemed,
)
from bot.services.refunds.states import IllegalTransition

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        details: Sequence[FieldError] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details)

    def response(self) -> web.Response:
        body = ErrorResponse(
            error=ErrorBody(code=self.code, message=self.message, details=self.details)
        )
        return web.json_response(text=body.model_dump_json(), status=self.status)


def invalid_body(error: ValidationError) -> ApiError:
    """422 naming every field at fault, by its path in the body."""
    details = [
        FieldError(field=dotted_path(tuple(item["loc"])) or "(body)", message=_message(item))
        for item in error.errors(include_url=False)
    ]
    fields = ", ".join(detail.field for detail in details)
    return ApiError(422, ErrorCode.VALIDATION_FAILED, f"invalid request body: {fields}", details)


def _message(error: ErrorDetails) -> str:
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "is not a known field (check the spelling)"
    if error["type"] == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    return error["msg"]


def from_service(error: MerchantRequestError | IllegalTransition) -> ApiError:
    """The status and code a service's refusal means to the caller."""
    message = str(error)
    if isinstance(error, UnknownRefund | UnknownOrder | UnknownVoucher | UnknownCustomer):
        return ApiError(404, ErrorCode.NOT_FOUND, message)
    if code := _CONFLICTS.get(type(error)):
        return ApiError(409, code, message)
    if isinstance(error, IllegalTransition):
        return ApiError(409, ErrorCode.ILLEGAL_TRANSITION, message)
    if isinstance(error, EventIdConflict):
        return ApiError(409, ErrorCode.EVENT_ID_CONFLICT, message)
    if isinstance(error, OrderNotCancellable):
        return ApiError(409, ErrorCode.ORDER_NOT_CANCELLABLE, message)
    field = error.field or "(body)"
    return ApiError(
        422,
        ErrorCode.VALIDATION_FAILED,
        f"invalid request body: {field}",
        [FieldError(field=field, message=message)],
    )


# Refusals that are the state of things, not the request's shape (409).
_CONFLICTS: dict[type[Exception], ErrorCode] = {
    OutOfOrder: ErrorCode.OUT_OF_ORDER,
    VoucherRedeemed: ErrorCode.VOUCHER_REDEEMED,
    VoucherExpired: ErrorCode.VOUCHER_EXPIRED,
}

_HTTP_CODES = {
    404: (ErrorCode.NOT_FOUND, "no such route"),
    405: (ErrorCode.METHOD_NOT_ALLOWED, "method not allowed on this route"),
    413: (ErrorCode.TOO_LARGE, "request body too large"),
}


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The outermost middleware of the API: whatever fails answers in the one JSON shape."""
    try:
        return await handler(request)
    except ApiError as error:
        return error.response()
    except (MerchantRequestError, IllegalTransition) as error:
        return from_service(error).response()
    except web.HTTPException as error:
        code, message = _HTTP_CODES.get(error.status, (ErrorCode.INTERNAL_ERROR, error.reason))
        response = ApiError(error.status, code, message).response()
        if error.status == 405 and "Allow" in error.headers:
            response.headers["Allow"] = error.headers["Allow"]
        return response
    except Exception:
        log.exception("merchant API: %s %s failed", request.method, request.path)
        return ApiError(500, ErrorCode.INTERNAL_ERROR, "internal error").response()

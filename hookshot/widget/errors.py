"""The widget API's errors: hookshot's `{errcode, error}` bodies and their HTTP statuses.

Connection routes use hookshot's `HS_*` codes (src/api/error.ts); the session and OpenID routes,
which hookshot inherits from matrix-appservice-bridge's ProvisioningApi, use its `M_AS_*` codes.
Statuses follow hookshot except where hookshot answers 500 for a client's mistake
(`HS_DISABLED_FEATURE`, `M_AS_BAD_OPENID`): those carry a 4xx/502 status chosen at the raise site.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from hookshot.errors import HookshotError


class ErrCode(StrEnum):
    """Every errcode the widget API answers with."""

    UNKNOWN = "HS_UNKNOWN"
    NOT_FOUND = "HS_NOTFOUND"
    UNSUPPORTED_OPERATION = "HS_UNSUPPORTED_OPERATION"
    FORBIDDEN_USER = "HS_FORBIDDEN_USER"
    FORBIDDEN_BOT = "HS_FORBIDDEN_BOT"
    NOT_IN_ROOM = "HS_NOT_IN_ROOM"
    BAD_VALUE = "HS_BAD_VALUE"
    BAD_TOKEN = "HS_BAD_TOKEN"
    DISABLED_FEATURE = "HS_DISABLED_FEATURE"
    ADDITIONAL_ACTION_REQUIRED = "HS_ADDITIONAL_ACTION_REQUIRED"
    CONFLICTING_CONNECTION = "HS_CONFLICTING_CONNECTION"
    METHOD_NOT_ALLOWED = "HS_METHOD_NOT_ALLOWED"
    # matrix-appservice-bridge's provisioning codes (exchange_openid and session routes).
    AS_UNKNOWN = "M_AS_UNKNOWN"
    AS_UNSUPPORTED_OPERATION = "M_AS_UNSUPPORTED_OPERATION"
    AS_BAD_VALUE = "M_AS_BAD_VALUE"
    AS_BAD_TOKEN = "M_AS_BAD_TOKEN"
    AS_BAD_OPENID = "M_AS_BAD_OPENID"


DEFAULT_STATUS: Mapping[ErrCode, int] = {
    ErrCode.UNKNOWN: 500,
    ErrCode.NOT_FOUND: 404,
    ErrCode.UNSUPPORTED_OPERATION: 400,
    ErrCode.FORBIDDEN_USER: 403,
    ErrCode.FORBIDDEN_BOT: 403,
    ErrCode.NOT_IN_ROOM: 403,
    ErrCode.BAD_VALUE: 400,
    ErrCode.BAD_TOKEN: 401,
    ErrCode.DISABLED_FEATURE: 404,
    ErrCode.ADDITIONAL_ACTION_REQUIRED: 400,
    ErrCode.CONFLICTING_CONNECTION: 409,
    ErrCode.METHOD_NOT_ALLOWED: 405,
    ErrCode.AS_UNKNOWN: 500,
    ErrCode.AS_UNSUPPORTED_OPERATION: 400,
    ErrCode.AS_BAD_VALUE: 400,
    ErrCode.AS_BAD_TOKEN: 401,
    ErrCode.AS_BAD_OPENID: 401,
}


class ApiError(HookshotError):
    """A widget API request is refused: `status`, `errcode`, a message and optional extras."""

    def __init__(
        self,
        message: str,
        errcode: ErrCode = ErrCode.UNKNOWN,
        status: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{errcode}: {message}")
        self.message = message
        self.errcode = errcode
        self.status = status if status is not None else DEFAULT_STATUS[errcode]
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        return {"errcode": str(self.errcode), "error": self.message, **self.extra}


class OpenIdError(HookshotError):
    """An OpenID token could not be verified; `status` says whose fault it is."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

"""The errors the fake X API answers, in X's shapes and words.

An endpoint raises `ApiError`; the dispatcher turns it into the reply. Where this fake stops
short of X, `not_implemented` answers a 400 of type `NOT_IMPLEMENTED_TYPE`, so a gap fails
loudly instead of passing quietly.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from tests.fakes.x_exchange import JsonObject

NOT_IMPLEMENTED_TYPE = "https://fake-x-api.invalid/problems/not-implemented"

DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
REPLY_REFUSED_DETAIL = (
    "Reply to this conversation is not allowed because you have not been mentioned or "
    "otherwise engaged by the author of the post you are replying to."
)
REPLY_TARGET_MISSING_DETAIL = (
    "You attempted to reply to a Tweet that is deleted or not visible to you."
)
NOT_PERMITTED_DETAIL = "You are not permitted to perform this action."

CLIENT_FORBIDDEN: JsonObject = {
    "client_id": "28374615",
    "detail": (
        "When authenticating requests to the Twitter API v2 endpoints, you must use keys and "
        "tokens from a Twitter developer App that is attached to a Project. You can create a "
        "project via the developer portal."
    ),
    "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
    "title": "Client Forbidden",
    "required_enrollment": "Appropriate Level of API Access",
    "reason": "client-not-enrolled",
    "type": "https://api.twitter.com/2/problems/client-forbidden",
}
USAGE_CAPPED: JsonObject = {
    "title": "UsageCapExceeded",
    "detail": "Usage cap exceeded: Monthly product cap",
    "type": "https://api.twitter.com/2/problems/usage-capped",
    "status": 429,
    "period": "Monthly",
    "scope": "Product",
}
PAGE_NOT_FOUND: JsonObject = {
    "errors": [{"message": "Sorry, that page does not exist", "code": 34}]
}


class ApiError(Exception):
    def __init__(
        self, status: int, body: JsonObject, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def problem(status: int, detail: str | None = None) -> JsonObject:
    """X's generic problem body ("about:blank" type) for a status."""
    phrase = HTTPStatus(status).phrase
    return {"title": phrase, "detail": detail or phrase, "type": "about:blank", "status": status}


def invalid(parameter: str, value: str, message: str) -> ApiError:
    return ApiError(
        400,
        {
            "errors": [{"parameters": {parameter: [value]}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )


def not_implemented(what: str) -> ApiError:
    return ApiError(
        400,
        {
            "title": "Not Implemented By Fake",
            "detail": f"The fake X API does not implement {what}.",
            "type": NOT_IMPLEMENTED_TYPE,
            "status": 400,
        },
    )


def not_found(kind: str, parameter: str, resource_id: str) -> JsonObject:
    return {
        "value": resource_id,
        "detail": f"Could not find {kind} with {parameter}: [{resource_id}].",
        "title": "Not Found Error",
        "resource_type": kind,
        "parameter": parameter,
        "resource_id": resource_id,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }

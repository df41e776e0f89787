"""The fake X API's user endpoint: GET /2/users/me, which is always the bot."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.contracts import x_openapi
from tests.fakes.x_exchange import Call, Reply
from tests.fakes.x_params import check_params, list_param
from tests.fakes.x_render import USER_FIELDS, user_json

if TYPE_CHECKING:
    from tests.fakes.x_api import FakeXApi

ME_PARAMS = x_openapi.parameter_names("GET /2/users/me")
ME_IMPLEMENTED = frozenset({"post.fields", "user.fields"})


def users_me(api: FakeXApi, call: Call) -> Reply:
    check_params(call.params, ME_PARAMS, ME_IMPLEMENTED)
    fields = list_param(call.params, "user.fields", USER_FIELDS, api.refused_values)
    bot = api.store.users[api.bot_user_id]
    return Reply(200, {"data": user_json(api.store, bot, fields)})

"""X's OpenAPI description of v2, as far as the bot and the fake X API use it.

``x_openapi.json`` holds the facts (rebuilt by ``extract_x_openapi.py``; its ``source`` and
``version`` say from which description). The fake X API takes its vocabulary from here, and
the contract tests check requests and answers against it with ``request_problems`` and
``answer_problems``: each returns what breaks the description, in words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

EXTRACT = Path(__file__).with_name("x_openapi.json")
# Spec paths as the fake and the adapter name their endpoints ("/2/users/:id/tweets").
_PLACEHOLDER = re.compile(r"\{[^}]+\}")


@cache
def description() -> dict[str, Any]:
    loaded = json.loads(EXTRACT.read_text("utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def version() -> str:
    return str(description()["version"])


def operation(key: str) -> dict[str, Any]:
    """``key``: "GET /2/users/{id}/tweets" (or with ":id")."""
    operations: dict[str, Any] = description()["operations"]
    for name, found in operations.items():
        if _generic(name) == _generic(key):
            return dict(found)
    raise KeyError(f"X's description {version()} has no operation {key}")


def _generic(key: str) -> str:
    return re.sub(r":\w+", ":x", _PLACEHOLDER.sub(":x", key))


def parameter_names(key: str) -> frozenset[str]:
    params = operation(key)["parameters"]
    return frozenset(name for name, spec in params.items() if spec["in"] == "query")


def values(key: str, parameter: str) -> frozenset[str]:
    """The values a list parameter (``post.fields``, ``expansions``...) allows."""
    return frozenset(operation(key)["parameters"][parameter]["values"])


def schema_keys(name: str) -> frozenset[str]:
    return frozenset(description()["schemas"][name]["keys"])


def match(method: str, path: str) -> str | None:
    """The operation a concrete request path is an instance of, if any."""
    for name in description()["operations"]:
        spec_method, spec_path = name.split(" ", 1)
        pattern = _PLACEHOLDER.sub(r"[0-9]{1,19}", spec_path)
        if spec_method == method and re.fullmatch(pattern, path):
            return str(name)
    return None


def request_problems(
    method: str, path: str, params: Mapping[str, str], body: Mapping[str, Any] | None
) -> list[str]:
    """How a request breaks the description: unknown operation, parameter or value, a number
    out of its limits, a value not matching its pattern, a missing or unknown body key."""
    key = match(method, path)
    if key is None:
        return [f"{method} {path}: no such operation in X's description {version()}"]
    spec = operation(key)
    declared = spec["parameters"]
    problems = [
        f"{key}: required {name} missing"
        for name, param in declared.items()
        if param["required"] and param["in"] == "query" and name not in params
    ]
    for name, value in params.items():
        param = declared.get(name)
        if param is None or param["in"] != "query":
            problems.append(f"{key}: unknown parameter {name}")
            continue
        problems += [f"{key}: {name}={value}: {p}" for p in _value_problems(param, value)]
    body_spec = spec.get("body")
    if body_spec is None:
        if body:
            problems.append(f"{key}: takes no body, got {sorted(body)}")
        return problems
    body = body or {}
    problems += [f"{key}: body key {k} unknown" for k in body if k not in body_spec["keys"]]
    problems += [f"{key}: body key {k} missing" for k in body_spec["required"] if k not in body]
    reply = body.get("reply")
    if isinstance(reply, Mapping):
        allowed = schema_keys("create_reply")
        problems += [f"{key}: reply.{k} unknown" for k in reply if k not in allowed]
    return problems


def _value_problems(param: Mapping[str, Any], value: str) -> list[str]:
    kind = param.get("type")
    if kind == "array":
        wrong = sorted(set(value.split(",")) - set(param["values"]))
        return [f"{w} is not one of its values" for w in wrong]
    if kind == "integer":
        if not value.isdigit():
            return ["not an integer"]
        low, high = param.get("minimum"), param.get("maximum")
        if (low is not None and int(value) < low) or (high is not None and int(value) > high):
            return [f"outside {low}..{high}"]
        return []
    problems = []
    if "enum" in param and value not in param["enum"]:
        problems.append("not one of its values")
    if "pattern" in param and not re.search(param["pattern"], value):
        problems.append(f"does not match {param['pattern']}")
    if len(value) < param.get("minLength", 0) or len(value) > param.get("maxLength", 1 << 30):
        problems.append("of a length outside its limits")
    return problems


def answer_problems(method: str, path: str, status: int, body: Mapping[str, Any]) -> list[str]:
    """How a successful answer breaks the description: a key, a post's, a user's or a metric's
    field, or an include that the description does not name; a required one missing."""
    key = match(method, path)
    if key is None or not 200 <= status < 300:
        return []
    answer = operation(key)["response"]
    problems = (
        [] if status == answer["status"] else [f"{key}: status {status}, not {answer['status']}"]
    )
    problems += [f"{key}: answer key {k} unknown" for k in body if k not in answer["keys"]]
    data = body.get("data")
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    for item in items:
        problems += _object_problems(f"{key}: data", item, answer["data_keys"])
        problems += [f"{key}: data lacks {k}" for k in answer["data_required"] if k not in item]
        metrics = item.get("public_metrics")
        if isinstance(metrics, Mapping):
            name = "post_public_metrics" if "text" in item else "user_public_metrics"
            problems += _object_problems(f"{key}: public_metrics", metrics, schema_keys(name))
    includes = body.get("includes")
    if isinstance(includes, Mapping):
        problems += _object_problems(f"{key}: includes", includes, schema_keys("includes"))
        for user in includes.get("users", []):
            problems += _object_problems(f"{key}: included user", user, schema_keys("user"))
        for post in includes.get("posts", []):
            problems += _object_problems(f"{key}: included post", post, schema_keys("post"))
    meta = body.get("meta")
    if isinstance(meta, Mapping):
        problems += _object_problems(f"{key}: meta", meta, answer.get("meta_keys", []))
    return problems


def _object_problems(where: str, value: Any, allowed: Any) -> list[str]:
    if not isinstance(value, Mapping):
        return [f"{where} is not an object"]
    return [f"{where} field {k} unknown" for k in value if k not in allowed]

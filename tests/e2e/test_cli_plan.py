"""`tweetchat plan` and `tweetchat schema`, run as a host runs them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.chat_files import run_tweetchat, tweetchat_env

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "example.yaml"
SLOTS = ["reminder-1d", "reminder-1h", "intro", "q1", "q2", "q3", "q4", "q5", "q6", "closing"]
# The example's chat: Wednesday 2 December 2026, 20:00 in London (GMT, so UTC is the same).
LOCAL_TIMES = [
    "Tue 2026-12-01 20:00:00 GMT",
    "Wed 2026-12-02 19:00:00 GMT",
    "Wed 2026-12-02 20:00:00 GMT",
    "Wed 2026-12-02 20:05:00 GMT",
    "Wed 2026-12-02 20:13:00 GMT",
    "Wed 2026-12-02 20:21:00 GMT",
    "Wed 2026-12-02 20:29:00 GMT",
    "Wed 2026-12-02 20:37:00 GMT",
    "Wed 2026-12-02 20:45:00 GMT",
    "Wed 2026-12-02 20:55:00 GMT",
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return tweetchat_env(database=tmp_path / "ledger.sqlite3", token=None)


def test_plan_json_lists_every_post(env: dict[str, str]) -> None:
    result = run_tweetchat("plan", str(EXAMPLE), "--json", env=env)

    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["key"] for row in rows] == [f"hexichat/2026-12-02/{s}/mastodon" for s in SLOTS]
    assert [row["local_time"] for row in rows] == LOCAL_TIMES
    assert [row["utc_time"] for row in rows] == [
        re.sub(r"^\w{3} (.*) GMT$", r"\1Z", local) for local in LOCAL_TIMES
    ]
    assert {row["platform"] for row in rows} == {"mastodon"}
    assert {row["limit"] for row in rows} == {500}
    # The example has no URL or remote mention: Mastodon counts every character.
    assert [row["length"] for row in rows] == [len(row["text"]) for row in rows]
    questions = [row["text"] for row in rows if row["kind"] == "question"]
    assert [text.split(":")[0] for text in questions] == [f"Q{n}" for n in range(1, 7)]
    assert all(row["text"].count("#HEXIchat") >= 1 for row in rows)
    assert rows[3]["text"] == (
        "Q1: How does your practice gather patient experience data today: surveys, comments, "
        "complaints, conversations? #HEXIchat"
    )


def test_plan_table_shows_the_keys_and_lengths(env: dict[str, str]) -> None:
    result = run_tweetchat("plan", str(EXAMPLE), env=env)

    assert result.returncode == 0, result.stderr
    for slot in SLOTS:
        assert f"hexichat/2026-12-02/{slot}/mastodon" in result.stdout
    for header in ("key", "local time", "UTC", "platform", "length", "text"):
        assert header in result.stdout
    assert "Wed 2026-12-02 20:05:00 GMT" in result.stdout
    assert re.search(r"\b\d{2,3}/500\b", result.stdout)


def test_plan_refuses_a_bad_file(env: dict[str, str]) -> None:
    bad = ROOT / "tests" / "config_corpus" / "bad_timezone.yaml"

    result = run_tweetchat("plan", str(bad), "--json", env=env)

    assert result.returncode == 2
    assert "bad_timezone.yaml:6: chat.timezone" in result.stderr
    assert result.stdout == ""


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    return node


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def _schema_errors(node: dict[str, Any], value: Any, defs: dict[str, Any], at: str) -> list[str]:
    """What of JSON Schema the chat schema uses: $ref, anyOf, type, required,
    additionalProperties, properties, items, pattern, enum."""
    node = _resolve(node, defs)
    if "anyOf" in node:
        branches = [_schema_errors(sub, value, defs, at) for sub in node["anyOf"]]
        return [] if any(not b for b in branches) else [f"{at}: matches no branch: {branches}"]
    types = node.get("type")
    if types is not None:
        allowed = tuple(
            t for name in ([types] if isinstance(types, str) else types) for t in _TYPES[name]
        )
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            return [f"{at}: {value!r} is not {types}"]
    errors = []
    if isinstance(value, dict):
        properties = node.get("properties", {})
        errors += [
            f"{at}: {key} is required" for key in node.get("required", []) if key not in value
        ]
        if node.get("additionalProperties") is False:
            errors += [f"{at}.{key}: not allowed" for key in value if key not in properties]
        for key, item in value.items():
            if key in properties:
                errors += _schema_errors(properties[key], item, defs, f"{at}.{key}")
    if isinstance(value, list) and "items" in node:
        for i, item in enumerate(value):
            errors += _schema_errors(node["items"], item, defs, f"{at}[{i}]")
    if isinstance(value, str) and "pattern" in node and not re.search(node["pattern"], value):
        errors.append(f"{at}: {value!r} does not match {node['pattern']}")
    if "enum" in node and value not in node["enum"]:
        errors.append(f"{at}: {value!r} is not one of {node['enum']}")
    return errors


def test_schema_is_json_schema_that_the_example_satisfies(env: dict[str, str]) -> None:
    result = run_tweetchat("schema", env=env)

    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert set(schema["required"]) == {"chat", "platforms", "posts"}
    defs = schema["$defs"]
    assert all(d.get("additionalProperties") is False for d in defs.values() if "properties" in d)
    example = yaml.safe_load(EXAMPLE.read_text())
    assert _schema_errors(schema, example, defs, "") == []
    # The schema does refuse what the bot refuses (so the check above can fail).
    example["chat"]["hashtg"] = example["chat"].pop("hashtag")
    example["posts"]["questions"][0]["at"] = "5 minutes"
    assert _schema_errors(schema, example, defs, "") == [
        ".chat: hashtag is required",
        ".chat.hashtg: not allowed",
        ".posts.questions[0].at: '5 minutes' does not match ^(\\d+(\\.\\d+)?[smhd])+$",
    ]

"""Rebuild ``x_openapi.json`` from X's own OpenAPI description of API v2.

Only the facts the bot and the fake X API depend on are kept: for each operation the bot (or
the fake) serves, its parameters with their limits and allowed values, the request body's keys
and the field names of the answer. Run it when X publishes a new description:

    git clone https://github.com/xdevplatform/xdk && \\
    python -m tests.contracts.extract_x_openapi xdk/specs/openapi.json <commit>
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
EXTRACT = HERE / "x_openapi.json"
SOURCE = "https://github.com/xdevplatform/xdk/blob/{commit}/specs/openapi.json"
OPERATIONS = (
    ("GET", "/2/tweets/search/recent"),
    ("GET", "/2/users/me"),
    ("GET", "/2/users/{id}/tweets"),
    ("GET", "/2/tweets"),
    ("GET", "/2/tweets/{id}"),
    ("POST", "/2/tweets"),
    ("POST", "/2/users/{id}/retweets"),
    ("DELETE", "/2/users/{id}/retweets/{source_tweet_id}"),
)
# The schemas of what comes back, by the names the extract gives them.
SCHEMAS = {
    "post": "Post",
    "post_public_metrics": "PostPublicMetrics",
    "user": "User",
    "user_public_metrics": "UserPublicMetrics",
    "includes": "Expansions",
    "create_reply": "CreatePostsReply",
}


class Spec:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def parameter(self, node: Any) -> tuple[str, dict[str, Any]]:
        param = self.resolve(node)
        schema = self.resolve(param.get("schema", {}))
        out: dict[str, Any] = {"in": param["in"], "required": bool(param.get("required"))}
        for key in ("type", "minimum", "maximum", "minLength", "maxLength", "pattern", "enum"):
            if key in schema:
                out[key] = schema[key]
        if schema.get("type") == "array":
            out["values"] = sorted(self.resolve(schema["items"]).get("enum", []))
        return param["name"], out

    def properties(self, name: str) -> dict[str, Any]:
        schema = self.resolve({"$ref": f"#/components/schemas/{name}"})
        return {
            "keys": sorted(schema.get("properties", {})),
            "required": schema.get("required", []),
        }

    def response(self, operation: dict[str, Any]) -> dict[str, Any]:
        status = next(code for code in operation["responses"] if code.startswith("2"))
        content = self.resolve(operation["responses"][status])["content"]["application/json"]
        schema = self.resolve(content["schema"])
        props = schema.get("properties", {})
        out: dict[str, Any] = {"status": int(status), "keys": sorted(props)}
        data = self.resolve(props.get("data", {}))
        if data.get("type") == "array":
            out["data"] = "list"
            data = self.resolve(data["items"])
        else:
            out["data"] = "object"
        out["data_keys"] = sorted(data.get("properties", {}))
        out["data_required"] = data.get("required", [])
        meta = self.resolve(props.get("meta", {}))
        if meta:
            out["meta_keys"] = sorted(meta.get("properties", {}))
        return out

    def operation(self, method: str, path: str) -> dict[str, Any]:
        operation = self.document["paths"][path][method.lower()]
        out: dict[str, Any] = {
            "operation_id": operation.get("operationId"),
            "parameters": dict(self.parameter(p) for p in operation.get("parameters", [])),
            "response": self.response(operation),
        }
        if "requestBody" in operation:
            body = self.resolve(operation["requestBody"])["content"]["application/json"]
            schema = self.resolve(body["schema"])
            out["body"] = {
                "keys": sorted(schema.get("properties", {})),
                "required": schema.get("required", []),
            }
        return out


def extract(document: dict[str, Any], commit: str) -> dict[str, Any]:
    spec = Spec(document)
    return {
        "source": SOURCE.format(commit=commit),
        "title": document["info"]["title"],
        "version": document["info"]["version"],
        "operations": {f"{m} {p}": spec.operation(m, p) for m, p in OPERATIONS},
        "schemas": {name: spec.properties(schema) for name, schema in SCHEMAS.items()},
    }


def main(argv: list[str]) -> None:
    path, commit = argv
    document = json.loads(Path(path).read_text("utf-8"))
    EXTRACT.write_text(json.dumps(extract(document, commit), indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Reading a chat file's text into a ChatConfig, or every problem with its line.

Pure: it takes text and a name for messages; opening the file is the caller's job.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.core.checks import check
from bot.core.config import ChatConfig
from bot.core.problems import ConfigError, Loc, Problem


class _ChatLoader(yaml.SafeLoader):
    """Safe YAML, minus the surprises of YAML 1.1 for hosts.

    Timestamps stay strings (the model reads them in the chat's own zone), and only
    true/false are booleans, so `mode: off` or a country code `NO` stays text.
    """


_ChatLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ChatLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse_config(text: str, *, filename: str) -> ChatConfig:
    """The validated config; raises ConfigError naming every problem it found."""
    data, lines, problems = _read_yaml(text)
    if problems:
        raise ConfigError(filename, problems)
    try:
        config = ChatConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(filename, _problems_from(exc, lines)) from None
    semantic = [_with_line(p, lines) for p in check(config)]
    if semantic:
        raise ConfigError(filename, semantic)
    return config


def _read_yaml(text: str) -> tuple[Any, dict[Loc, int], list[Problem]]:
    try:
        node = yaml.compose(text, Loader=_ChatLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = f"the YAML cannot be read: {exc.problem or exc.context}"
        hint = "check the indentation and quotes here (a text with ': ' or '#' needs quotes)"
        return None, {}, [Problem((), message, hint, line)]
    if node is None:
        return None, {}, [Problem((), "the file is empty", "start from config/example.yaml")]
    lines: dict[Loc, int] = {}
    problems: list[Problem] = []
    loader = _ChatLoader("")
    data = _build(node, (), lines, problems, loader)
    return data, lines, problems


def _build(
    node: yaml.Node, loc: Loc, lines: dict[Loc, int], problems: list[Problem], loader: Any
) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node)
            if not isinstance(key, str | int):
                key = str(key)
            child = (*loc, key)
            if key in out:
                problems.append(
                    Problem(
                        child,
                        "this key is given twice",
                        "keep one of them",
                        key_node.start_mark.line + 1,
                    )
                )
            lines[child] = key_node.start_mark.line + 1
            out[key] = _build(value_node, child, lines, problems, loader)
            lines[child] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*loc, i), lines, problems, loader) for i, item in enumerate(node.value)
        ]
    return loader.construct_object(node)


def _with_line(problem: Problem, lines: dict[Loc, int]) -> Problem:
    loc = problem.loc
    while loc and loc not in lines:
        loc = loc[:-1]
    return Problem(problem.loc, problem.message, problem.hint, lines.get(loc))


def _problems_from(exc: ValidationError, lines: dict[Loc, int]) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = _clean_loc(tuple(err["loc"]))
        kind = err["type"]
        ctx = err.get("ctx") or {}
        hint = ctx.get("hint")
        message = err["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            message = f"unknown key {loc[-1]!r}"
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
            if close:
                hint = f"did you mean {close[0]!r}?"
            elif allowed:
                hint = "allowed here: " + ", ".join(allowed)
        elif kind == "missing":
            message = f"{loc[-1]!r} is required here"
            hint = hint or "see config/example.yaml, or `tweetchat schema`"
        problems.append(_with_line(Problem(loc, message, hint), lines))
    return problems


def _clean_loc(loc: tuple[Any, ...]) -> Loc:
    # pydantic adds the names of union members and validators to locations; a host's
    # file has none of them.
    return tuple(part for part in loc if isinstance(part, int) or not _is_internal(part))


def _is_internal(part: str) -> bool:
    return part.startswith(("function-", "nullable", "union[")) or "[" in part


def _allowed_keys(loc: Loc) -> list[str]:
    model: Any = ChatConfig
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        field = model.model_fields.get(part)
        if field is None:
            return []
        model = _model_in(field.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside Optional[...], list[...] or Annotated[...], if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None

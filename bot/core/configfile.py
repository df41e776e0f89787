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
from pydantic_core import ErrorDetails

from bot.core.checks import check
from bot.core.config import ChatConfig
from bot.core.config_fields import from_environment_hint
from bot.core.problems import ConfigError, Loc, Problem, field_name

# A chat file is a few hundred values, five or six levels deep. Far past that, a file is
# hostile or broken: aliases of aliases grow exponentially once expanded (a few KB can
# stand for billions of values), and deep nesting exhausts Python's stack.
MAX_DEPTH = 50
MAX_VALUES = 10_000


class _TooComplex(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _too_deep(line: int | None) -> Problem:
    return Problem(
        (),
        f"the YAML nests deeper than {MAX_DEPTH} levels",
        "a chat file needs a few levels: check the indentation and brackets",
        line,
    )


class _ChatLoader(yaml.SafeLoader):
    """Safe YAML, minus the surprises of YAML 1.1 for hosts, and bounded.

    Timestamps stay strings (the model reads them in the chat's own zone), and only
    true/false are booleans, so `mode: off` or a country code `NO` stays text.
    Nodes are counted as composed, each alias by the size of what it names, so an alias
    bomb is refused before anything is expanded.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._values = 0  # of the document once every alias is expanded
        self._sizes: dict[str, int] = {}  # anchor: values it expands to

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        # Refused as scanned: PyYAML's scanner works quadratically through a run of brackets,
        # long before the composer would see how deep they go.
        if self.flow_level >= MAX_DEPTH:
            raise _TooComplex(_too_deep(self.line + 1))
        super().fetch_flow_collection_start(TokenClass)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.NodeEvent = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            if event.anchor not in self._sizes:
                raise _TooComplex(
                    Problem(
                        (),
                        f"the alias *{event.anchor} is inside the value it names",
                        "a value cannot contain itself: write it out",
                        line,
                    )
                )
            self._count(self._sizes[event.anchor], f"the alias *{event.anchor}", line)
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _TooComplex(_too_deep(line))
        before = self._values
        self._count(1, "this value", line)
        node = super().compose_node(parent, index)
        self._depth -= 1
        if event.anchor is not None:
            self._sizes[event.anchor] = self._values - before
        return node

    def _count(self, values: int, what: str, line: int | None) -> None:
        self._values += values
        if self._values > MAX_VALUES:
            raise _TooComplex(
                Problem(
                    (),
                    f"{what} makes the file more than {MAX_VALUES} values long once aliases "
                    "are expanded",
                    "a chat file needs a few hundred: use fewer aliases (*name), or write "
                    "the values out",
                    line,
                )
            )


_ChatLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ChatLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)\Z"), list("tTfF")
)

_EXAMPLE = "see config/example.yaml, or `tweetchat schema`"


def parse_config(text: str, *, filename: str) -> ChatConfig:
    """The validated config; raises ConfigError naming every problem it found."""
    data, lines, problems = _read_yaml(text)
    if not isinstance(data, dict):
        if not problems:
            problems.append(
                Problem(
                    (),
                    "the file must hold the sections chat, platforms and posts (key: value)",
                    _EXAMPLE,
                    lines.get(()),
                )
            )
        raise ConfigError(filename, problems)
    try:
        config = ChatConfig.model_validate(data)
    except ValidationError as exc:
        problems += _problems_from(exc, lines, text.splitlines())
        raise ConfigError(filename, _in_file_order(problems)) from None
    problems += [_with_line(p, lines) for p in check(config)]
    if problems:
        raise ConfigError(filename, _in_file_order(problems))
    return config


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.line or 0)


def _read_yaml(text: str) -> tuple[Any, dict[Loc, int], list[Problem]]:
    """The plain data, the line of every key and item, and the problems of the YAML itself.

    A duplicate key is a problem but not a reason to stop: the rest is still checked.
    """
    try:
        node = yaml.compose(text, Loader=_ChatLoader)
    except yaml.MarkedYAMLError as exc:
        return None, {}, [_syntax_problem(exc)]
    except _TooComplex as exc:
        return None, {}, [exc.problem]
    if node is None:
        return None, {}, [Problem((), "the file is empty", "start from config/example.yaml")]
    reader = _Reader(text.splitlines())
    data = reader.build(node, ())
    # After a runaway quote the keys are not where the host put them: anything said about
    # them would mislead.
    return None if reader.broken else data, reader.lines, reader.problems


def _syntax_problem(exc: yaml.MarkedYAMLError) -> Problem:
    problem = exc.problem or "it is not valid YAML"
    context = exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    start = exc.context_mark.line + 1 if exc.context_mark else None
    hint = "check the indentation and quotes here (a text with ': ' or ' #' needs quotes)"
    if "quoted scalar" in context and start is not None:
        return Problem(
            (),
            f"the YAML cannot be read: the quoted text that starts on line {start} is not closed",
            'end it with the same quote; inside "..." write \\" for a quote, '
            "inside '...' write ''",
            start,
        )
    if "flow" in context and start is not None:
        return Problem(
            (),
            f"the YAML cannot be read: {problem} in the [...] or {{...}} that starts on "
            f"line {start}",
            "close the bracket, and quote every text that holds ':' or ','",
            line,
        )
    if "'\\t'" in problem:
        hint = "indent with spaces, not tabs"
    elif "cannot start any token" in problem:
        hint = 'a text that starts with @ or ` must be quoted, e.g. "@host@example.social"'
    elif "mapping values are not allowed" in problem:
        hint = "a text that holds ': ' needs quotes, e.g. text: \"Q1: ...\"; else check indentation"
    return Problem((), f"the YAML cannot be read: {problem}", hint, line)


class _Reader:
    """Plain data from YAML nodes, noting where each key and item stands."""

    def __init__(self, source: list[str]) -> None:
        self.source = source
        self.lines: dict[Loc, int] = {}
        self.problems: list[Problem] = []
        self.broken = False
        self._loader = _ChatLoader("")

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.lines[loc] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.ScalarNode) and node.style in ('"', "'"):
            self._runaway_quote(node, loc)
        return self._loader.construct_object(node)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        self._loader.flatten_mapping(node)  # YAML merge keys (<<: *defaults)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self._loader.construct_object(key_node)
            if not isinstance(key, str | int):
                key = str(key)
            child = (*loc, key)
            key_line = key_node.start_mark.line + 1
            if key in out:
                self.problems.append(
                    Problem(
                        child,
                        f"the key {key!r} is given twice (first on line {self.lines[child]})",
                        "keep one of them",
                        key_line,
                    )
                )
            out[key] = self.build(value_node, child)
            self.lines[child] = key_line
        return out

    def _runaway_quote(self, node: yaml.ScalarNode, loc: Loc) -> None:
        """A quote left open swallows the lines after it, keys and all, into one text."""
        first, last = node.start_mark.line, node.end_mark.line
        swallowed = [
            n + 1
            for n in range(first + 1, min(last + 1, len(self.source)))
            if re.match(r"^\s*-?\s*[\w-]+:(\s|$)", self.source[n])
        ]
        if swallowed:
            self.broken = True
            self.problems.append(
                Problem(
                    loc,
                    f"the quoted text that starts on line {first + 1} runs on to line "
                    f"{last + 1}, taking in the key on line {swallowed[0]}",
                    "close the quote at the end of the line it starts on",
                    first + 1,
                )
            )


def _with_line(problem: Problem, lines: dict[Loc, int]) -> Problem:
    loc = problem.loc
    while loc and loc not in lines:
        loc = loc[:-1]
    return Problem(problem.loc, problem.message, problem.hint, lines.get(loc))


def _problems_from(exc: ValidationError, lines: dict[Loc, int], source: list[str]) -> list[Problem]:
    errors = [(_located(err), err) for err in exc.errors()]
    # `questons:` is reported once, as an unknown key with "did you mean 'questions'?",
    # not a second time as a missing `questions`.
    misspelt = {
        (*loc[:-1], suggestion)
        for loc, err in errors
        if err["type"] == "extra_forbidden"
        for suggestion in _close_keys(loc)
    }
    problems = []
    for loc, err in errors:
        if err["type"] == "missing" and loc in misspelt:
            continue
        message, hint = _explain(err, loc)
        problem = _with_line(Problem(loc, message, hint), lines)
        if err.get("input", ...) is None and problem.line is not None:
            problem = _swallowed_by_comment(problem, source)
        problems.append(problem)
    return problems


def _located(err: ErrorDetails) -> Loc:
    loc = _clean_loc(tuple(err["loc"]))
    ctx = err.get("ctx") or {}
    return (*loc, ctx["field"]) if "field" in ctx else loc


def _close_keys(loc: Loc) -> list[str]:
    """The keys allowed beside an unknown one that it may be a misspelling of."""
    key = str(loc[-1])
    allowed = _allowed_keys(loc[:-1])
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    return close or [a for a in allowed if a.lower() == key.lower()]


# Where the chat file says something no model field can take, in a host's words.
_TYPE_NAMES = {
    "string_type": "a text",
    "dict_type": "a section of keys (key: value)",
    "model_type": "a section of keys (key: value)",
    "model_attributes_type": "a section of keys (key: value)",
    "list_type": "a list",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
}
_TYPE_HINTS = {
    "string_type": "put the text in quotes",
    "list_type": "write each item on its own line, starting with '- '",
    "bool_parsing": "write true or false",
}
# What to add when a required key is missing, by its name.
_MISSING_EXAMPLES = {
    "chat": "add a chat: section with id, title, hashtag, timezone and start (or every)",
    "platforms": "add platforms: with mastodon: {instance: https://example.social}",
    "posts": "add a posts: section with an intro and questions",
    "id": "e.g. id: hexichat (lower-case letters, digits and -)",
    "title": "e.g. title: Patient experience in primary care",
    "hashtag": 'e.g. hashtag: "#HEXIchat" (quoted, with the #)',
    "timezone": "e.g. timezone: Europe/London",
    "instance": "e.g. instance: https://example.social",
    "intro": 'e.g. intro: {text: "Welcome to {hashtag}! Introduce yourself."}',
    "questions": 'e.g. questions: [{at: 5m, text: "How do you...?"}]',
    "text": 'e.g. text: "..."',
    "at": "e.g. at: 5m (the time from the start of the chat)",
    "before": "e.g. before: 1d (how long before the start)",
}
_SECRET_WORDS = ("token", "secret", "password", "passwd", "api_key", "apikey", "bearer")


def _explain(err: ErrorDetails, loc: Loc) -> tuple[str, str | None]:
    """A message and a hint for one pydantic error, in the words of the chat file."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    name = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        return _unknown_key(loc)
    if kind == "missing":
        return f"{name!r} is required here", _MISSING_EXAMPLES.get(name, _EXAMPLE)
    if value is None and kind in _TYPE_NAMES:
        return "this key has no value", _MISSING_EXAMPLES.get(name, _EXAMPLE)
    if kind in _TYPE_NAMES:
        return (
            f"expected {_TYPE_NAMES[kind]} here, not {_describe(value)}",
            _TYPE_HINTS.get(kind, _EXAMPLE),
        )
    if kind == "string_too_short":
        return "this text is empty", "write the text, or remove the key"
    if kind == "too_short":
        if loc == ("posts", "questions"):
            return "a chat needs at least one question", _MISSING_EXAMPLES["questions"]
        return "this list is empty", _EXAMPLE
    if kind == "literal_error":
        return f"{value!r} is not allowed here", f"write one of: {ctx.get('expected')}"
    if kind in ("greater_than_equal", "greater_than"):
        return (
            f"{value!r} is too small",
            f"give a number of at least {ctx.get('ge', ctx.get('gt'))}",
        )
    hint = ctx.get("hint")
    return err["msg"].removeprefix("Value error, "), str(hint) if hint else None


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return "a section of keys"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value)


def _unknown_key(loc: Loc) -> tuple[str, str]:
    key = str(loc[-1])
    message = f"unknown key {key!r}"
    allowed = _allowed_keys(loc[:-1])
    known = {str(path[-1]) for path in _field_paths(ChatConfig, ())}
    # A misspelt token_env is a typo; any other key named like a secret (`token` beside
    # `token_env`) holds one.
    typo = f"{key}_env" not in allowed and difflib.get_close_matches(key, allowed, cutoff=0.8)
    if key not in known and not typo and any(w in key.lower() for w in _SECRET_WORDS):
        # Point to the *_env key of this section that fits best, else Mastodon's.
        env_keys = [a for a in allowed if a.endswith("_env")]
        best = difflib.get_close_matches(f"{key}_env", env_keys, n=1, cutoff=0)
        field = best[0] if best else "platforms.mastodon.token_env"
        return (
            f"{message}: a secret never goes in the chat file",
            "delete it from this file (and revoke it if the file was shared); "
            + from_environment_hint(field),
        )
    close = _close_keys(loc)
    if close:
        return message, f"did you mean {close[0]!r}?"
    elsewhere = [path for path in _field_paths(ChatConfig, ()) if str(path[-1]) == key]
    if elsewhere:
        return message, f"{key!r} belongs in {field_name(elsewhere[0][:-1])}, not here"
    if allowed:
        return message, "allowed here: " + ", ".join(allowed)
    return message, _EXAMPLE


def _swallowed_by_comment(problem: Problem, source: list[str]) -> Problem:
    """An unquoted ``#`` starts a YAML comment: ``hashtag: #chat`` has no value at all."""
    assert problem.line is not None
    line = source[problem.line - 1] if problem.line <= len(source) else ""
    match = re.match(r"^\s*-?\s*([\w-]+):\s+(#.*?)\s*$", line)
    if not match:
        return problem
    key, comment = match.groups()
    return Problem(
        problem.loc,
        f"{problem.message}: in YAML an unquoted # starts a comment",
        f'put the value in quotes: {key}: "{comment}"',
        problem.line,
    )


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


def _field_paths(model: type[BaseModel], loc: Loc) -> list[Loc]:
    """Every key the chat file may hold, as paths from the top."""
    paths: list[Loc] = []
    for name, field in model.model_fields.items():
        paths.append((*loc, name))
        inner = _model_in(field.annotation)
        if inner is not None:
            paths += _field_paths(inner, (*loc, name))
    return paths


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

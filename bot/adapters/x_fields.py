"""The fields and expansions a read asks X for, as X currently accepts them.

X's OpenAPI description of v2 (2.167, July 2026) renamed the fields parameter of the post reads
``post.fields`` (it was ``tweet.fields``), dropped ``author_id`` and ``referenced_tweets`` from
its values (the expansions ``author_id`` and ``referenced_posts`` add them to each post) and
calls the reference list ``referenced_posts``. Whether production X still takes the old names
cannot be tried from here, so the bot sends what the description allows and, when X answers
400 naming a parameter or a value, drops that one (or falls back to its older name) and asks
again: the capture carries on with what X accepts, and the log says what was refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# A parameter, or a value of one, refused by X -> what to ask for instead (if anything).
OLDER_PARAMETERS = {"post.fields": "tweet.fields"}
OLDER_VALUES = {("expansions", "referenced_posts"): "referenced_tweets.id"}
# X's error for a parameter it does not know at all (rather than one of its values).
_UNKNOWN_PARAMETER = "The query parameter ["


@dataclass(frozen=True)
class Refusal:
    """X answered 400 to a read: the parameters it named, with the values it named."""

    named: Mapping[str, tuple[str, ...]]
    whole: frozenset[str]  # parameters refused as such, whatever their values

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Refusal:
        """X's 400 lists ``errors[].parameters`` ({name: [values]}) with a message; the
        problem type of the description has a single ``parameter`` and ``value``."""
        named: dict[str, tuple[str, ...]] = {}
        whole: set[str] = set()
        errors = body.get("errors")
        problems = [e for e in errors if isinstance(e, Mapping)] if isinstance(errors, list) else []
        for problem in [body, *problems]:
            found = _named(problem)
            for name, values in found.items():
                named[name] = named.get(name, ()) + values
                message = problem.get("message", problem.get("detail"))
                if isinstance(message, str) and message.startswith(_UNKNOWN_PARAMETER):
                    whole.add(name)
        return cls(named, frozenset(whole))


def _named(problem: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    parameters = problem.get("parameters")
    if isinstance(parameters, Mapping):
        for name, values in list(parameters.items())[:16]:
            if isinstance(name, str) and isinstance(values, list):
                out[name] = tuple(str(v) for v in values[:64])
    name, value = problem.get("parameter"), problem.get("value")
    if isinstance(name, str):
        out[name] = out.get(name, ()) + ((value,) if isinstance(value, str) else ())
    return out


@dataclass
class FieldRequest:
    """The list parameters of one kind of read (``post.fields``, ``expansions``, ...)."""

    lists: dict[str, list[str]] = field(default_factory=dict)

    def query(self) -> dict[str, str]:
        return {name: ",".join(values) for name, values in self.lists.items() if values}

    def refuse(self, refusal: Refusal) -> list[str]:
        """Stop asking for what X refused; returns what changed, one line each (empty: X named
        nothing this request asked for, so asking again would not help)."""
        changes: list[str] = []
        for name, values in refusal.named.items():
            sent = self.lists.get(name)
            if sent is None:
                continue
            if name in refusal.whole:
                changes.append(self._rename(name))
                continue
            named = {v.strip() for value in values for v in value.split(",")}
            wrong = [v for v in sent if v in named]
            if not wrong or (len(wrong) == len(sent) > 1):
                continue  # which value X means cannot be told: the error stands
            for value in wrong:
                sent.remove(value)
                older = OLDER_VALUES.get((name, value))
                if older is not None and older not in sent:
                    sent.append(older)
                    changes.append(f"{name}: {value} refused, asking for {older}")
                else:
                    changes.append(f"{name}: {value} refused, left out")
        return changes

    def _rename(self, name: str) -> str:
        values = self.lists.pop(name)
        older = OLDER_PARAMETERS.get(name)
        if older is None or older in self.lists:
            return f"{name} refused, left out"
        self.lists[older] = values
        return f"{name} refused, asking for {older}"

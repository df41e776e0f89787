"""The subset of X's search query syntax that the fake X API understands.

An operator X knows but this fake does not is a `not_implemented` 400, never a quiet miss.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.fakes.x_errors import ApiError, invalid, not_implemented
from tests.fakes.x_store import Tweet

Predicate = Callable[[Tweet], bool]

_WORD = re.compile(r"\w+")
_QUERY_TOKEN = re.compile(r'-?\(|\)|-?"[^"]*"|[^\s()]+')


class QueryParser:
    """Recursive descent over X's query syntax: AND by juxtaposition, OR, (groups), -negation.

    X applies AND before OR, so `a b OR c` means `(a b) OR c`.
    """

    def __init__(self, query: str, resolve_user: Callable[[str], str | None]) -> None:
        self._query = query
        self._tokens: list[str] = _QUERY_TOKEN.findall(query)
        self._pos = 0
        self._resolve_user = resolve_user

    def parse(self) -> Predicate:
        predicate = self._disjunction()
        if self._peek() is not None:
            raise self._error(f"unexpected '{self._peek()}'")
        return predicate

    def _peek(self) -> str | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise self._error("the query ends too early")
        self._pos += 1
        return token

    def _error(self, reason: str) -> ApiError:
        return invalid("query", self._query, f"There were errors processing your request: {reason}")

    def _disjunction(self) -> Predicate:
        options = [self._conjunction()]
        while self._peek() == "OR":
            self._pos += 1
            options.append(self._conjunction())
        return options[0] if len(options) == 1 else (lambda t: any(o(t) for o in options))

    def _conjunction(self) -> Predicate:
        terms: list[Predicate] = []
        while self._peek() not in (None, ")", "OR"):
            terms.append(self._term())
        if not terms:
            raise self._error("expected a term")
        return lambda t: all(term(t) for term in terms)

    def _term(self) -> Predicate:
        token = self._take()
        if token in ("(", "-("):
            inner = self._disjunction()
            if self._take() != ")":
                raise self._error("missing ')'")
            return _negate(inner) if token == "-(" else inner
        if token.startswith("-") and len(token) > 1:
            return _negate(self._atom(token[1:]))
        return self._atom(token)

    def _atom(self, token: str) -> Predicate:
        if token.startswith('"'):
            phrase = token.strip('"').casefold()
            return lambda t: phrase in t.text.casefold()
        if token.startswith("#") and len(token) > 1:
            tag = token[1:].casefold()
            return lambda t: tag in t.hashtags
        if token.startswith("@") and len(token) > 1:
            name = token[1:].casefold()
            return lambda t: name in t.mentions
        operator, colon, value = token.partition(":")
        if colon and operator.isidentifier():
            return self._operator(operator, value)
        return _keyword(token)

    def _operator(self, operator: str, value: str) -> Predicate:
        if operator == "is":
            return _is_operator(value)
        if operator == "conversation_id":
            return lambda t: t.conversation_id == value
        if operator == "in_reply_to_tweet_id":
            return lambda t: t.replied_to == value
        if operator in ("from", "to"):
            user_id = self._resolve_user(value)
            if operator == "from":
                return lambda t: user_id is not None and t.author_id == user_id
            return lambda t: user_id is not None and t.in_reply_to_user_id == user_id
        raise not_implemented(f"the search operator {operator}:")


def _negate(predicate: Predicate) -> Predicate:
    return lambda t: not predicate(t)


def _keyword(token: str) -> Predicate:
    word = token.casefold()
    if _WORD.fullmatch(word):
        return lambda t: word in _WORD.findall(t.text.casefold())
    return lambda t: word in t.text.casefold()


def _is_operator(value: str) -> Predicate:
    if value == "retweet":
        return lambda t: t.retweet_of is not None
    if value == "reply":
        return lambda t: t.replied_to is not None
    if value == "quote":
        return lambda t: False
    raise not_implemented(f"the search operator is:{value}")

"""Issue 12 item 16: what the bot sends X and what our fake X API answers, held to X's own
OpenAPI description of v2 (the extract in tests/contracts/x_openapi.json, version 2.167).

The real adapter, publisher and follower run a chat's worth of requests against the fake; the
fake records each request as it came over HTTP and its answer. Both are checked against the
description: paths and methods, query parameter names and values (``post.fields``, not
``tweet.fields``), limits such as ``max_results`` 10-100, body keys, answer field names.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.contracts import x_openapi
from tests.support.x_rig import START, XRig, events, running_rig

# Every operation the bot calls on X.
BOT_OPERATIONS = {
    "POST /2/tweets",
    "GET /2/tweets/search/recent",
    "GET /2/users/me",
    "GET /2/users/{id}/tweets",
    "POST /2/users/{id}/retweets",
}


@pytest.fixture
def rig(tmp_path: Path, logs: list[dict[str, Any]]) -> Iterator[XRig]:
    with running_rig(tmp_path, "ann", "bob") as built:
        yield built


def run_a_small_chat(rig: XRig) -> None:
    """Posting (a thread), both searches with pages, the bot's timeline, who the bot is, and a
    repost: every kind of request the bot makes."""
    fake, capture = rig.fake, rig.capture()
    rig.publish("intro")
    rig.publish("q1")
    q1 = rig.remote_id("q1")
    answer = fake.post_as("ann", "A1 mornings #hexichat")
    fake.post_as("bob", "Evenings for me", reply_to=q1)
    for n in range(12):  # more than a page at the smallest page size
        fake.post_as("bob", f"A1 and another thing, {n} #hexichat")
    capture.poll()
    capture.poll()
    assert rig.platform.find_own_post("Q1 nothing like it", since=START) is None
    rig.platform.own_author()
    rig.platform.boost(answer)


def test_every_request_of_the_bot_is_one_x_describes(rig: XRig) -> None:
    """Issue 12 item 16: each request the adapter sent (as the fake received it over HTTP)
    names an operation, parameters, values, limits and body keys of the description."""
    run_a_small_chat(rig)

    exchanges = rig.fake.exchanges
    problems = [
        problem
        for e in exchanges
        for problem in x_openapi.request_problems(e.method, e.path, e.params, e.body)
    ]
    assert problems == []
    called = {x_openapi.match(e.method, e.path) for e in exchanges}
    assert called == BOT_OPERATIONS
    assert {e.reply.status for e in exchanges} <= {200, 201}
    searches = [e.params for e in exchanges if e.path == "/2/tweets/search/recent"]
    assert all("post.fields" in p and "tweet.fields" not in p for p in searches)
    assert all(10 <= int(p["max_results"]) <= 100 for p in searches)


def test_every_answer_of_the_fake_is_one_x_describes(rig: XRig) -> None:
    """Issue 12 item 16: each answer the fake gave the bot uses only the field names of the
    description (``referenced_posts``, ``repost_count``, ``edit_history_post_ids``...)."""
    run_a_small_chat(rig)
    fake = rig.fake
    # The reads the fake serves other tests, with every field the description allows.
    some = list(fake.tweets)[-3:]
    everything = {
        "post.fields": ",".join(sorted(x_openapi.values("GET /2/tweets", "post.fields"))),
        "user.fields": ",".join(sorted(x_openapi.values("GET /2/tweets", "user.fields"))),
        "expansions": "author_id,referenced_posts,in_reply_to_user_id",
    }
    with requests.Session() as http:
        http.headers["Authorization"] = "Bearer test"
        for path, params in (
            ("/2/tweets", {"ids": ",".join(some), **everything}),
            (f"/2/tweets/{some[-1]}", everything),
            ("/2/users/me", {"user.fields": everything["user.fields"]}),
        ):
            http.get(fake.base_url + path, params=params, timeout=5).raise_for_status()
        unrepost = f"/2/users/{fake.bot_user_id}/retweets/{fake.retweets[0][1]}"
        http.delete(fake.base_url + unrepost, timeout=5).raise_for_status()

    problems = [
        problem
        for e in fake.exchanges
        for problem in x_openapi.answer_problems(e.method, e.path, e.reply.status, e.reply.body)
    ]
    assert problems == []
    assert x_openapi.version() == "2.167"
    # The answers checked include what the bot reads: references, included posts and users.
    searched = [e.reply.body for e in fake.exchanges if e.path == "/2/tweets/search/recent"]
    assert any("posts" in b.get("includes", {}) for b in searched)
    assert any("referenced_posts" in p for b in searched for p in b.get("data", []))


def test_a_field_x_refuses_is_logged_and_reading_carries_on(
    rig: XRig, logs: list[dict[str, Any]]
) -> None:
    """Issue 12 item 16: X answers 400 naming one value of ``post.fields`` (an X that does not
    know it): the bot says which, asks again without it, captures the posts, and does not
    send it again."""
    fake, capture = rig.fake, rig.capture()
    fake.refused_values = {"post.fields": frozenset({"lang"})}
    rig.publish("intro")
    rig.publish("q1")
    tagged = fake.post_as("ann", "A1 mornings #hexichat")
    untagged = fake.post_as("bob", "Evenings for me", reply_to=rig.remote_id("q1"))

    capture.poll()
    capture.poll()

    archived = {p.id: p.question for p in rig.archive.posts(rig.occurrence.id) if not p.is_own}
    assert archived == {tagged: 1, untagged: 1}
    [refused] = events(logs, "x.fields_refused")
    assert refused["endpoint"] == "GET /2/tweets/search/recent"
    assert refused["changes"] == ["post.fields: lang refused, left out"]
    searches = [e for e in fake.exchanges if e.path == "/2/tweets/search/recent"]
    assert [e.reply.status for e in searches].count(400) == 1
    assert all("lang" not in e.params.get("post.fields", "") for e in searches[1:])

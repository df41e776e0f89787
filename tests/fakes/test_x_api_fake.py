"""The fake X API, driven over real HTTP by a real tweepy Client, as the bot's adapter will be."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import tweepy

from tests.fakes.x_api import (
    CLIENT_FORBIDDEN,
    DUPLICATE_DETAIL,
    NOT_IMPLEMENTED_TYPE,
    REPLY_REFUSED_DETAIL,
    FakeXApi,
    RedirectAdapter,
    mount_redirect,
)

START = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
TAG_QUERY = "#hexichat -is:retweet"
# The names of X's OpenAPI description 2.167: tweepy 4.17 knows only `tweet.fields`.
POST_FIELDS = ["created_at", "conversation_id", "public_metrics"]
USER_FIELDS = ["description", "public_metrics", "protected"]


class ManualClock:
    """Time that moves only when a test says so."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def x(clock: ManualClock) -> Iterator[FakeXApi]:
    with FakeXApi(bot_username="chatbot", clock=clock) as fake:
        yield fake


def make_client(fake: FakeXApi, **options: Any) -> Any:
    # OAuth 1.0a access tokens start with the user id; tweepy takes the id for
    # /2/users/:id/... routes from that prefix instead of asking the server.
    client = tweepy.Client(
        consumer_key="consumer-key",
        consumer_secret="consumer-secret",
        access_token=f"{fake.bot_user_id}-access-token",
        access_token_secret="access-token-secret",
        wait_on_rate_limit=False,
        **options,
    )
    mount_redirect(client.session, fake.base_url, timeout=5)
    return client


@pytest.fixture
def client(x: FakeXApi) -> Any:
    return make_client(x)


@pytest.fixture
def raw_client(x: FakeXApi) -> Any:
    """A client that hands back the requests.Response, to check X's exact JSON and headers."""
    return make_client(x, return_type=requests.Response)


def search(client: Any, query: str = TAG_QUERY, **params: Any) -> Any:
    return client.search_recent_tweets(query, user_auth=True, **params)


def ids_of(response: Any) -> list[str]:
    return [str(tweet.id) for tweet in response.data or []]


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


# -- posting -----------------------------------------------------------------------------------


def test_post_answers_201_with_id_text_and_is_stored(x: FakeXApi, raw_client: Any) -> None:
    response = raw_client.create_tweet(text="Q1 What brought you here? #hexichat")

    assert response.status_code == 201
    body = response.json()
    post_id = body["data"]["id"]
    assert body == {
        "data": {
            "id": post_id,
            "text": "Q1 What brought you here? #hexichat",
            "edit_history_post_ids": [post_id],
        }
    }
    [stored] = x.created_posts
    assert stored["id"] == post_id
    assert stored["author_id"] == x.bot_user_id
    assert stored["conversation_id"] == post_id
    assert stored["created_at"] == "2026-12-02T20:00:00.000Z"
    assert stored["entities"]["hashtags"] == [{"start": 26, "end": 35, "tag": "hexichat"}]


def test_ids_are_increasing_numeric_strings(x: FakeXApi, client: Any) -> None:
    first = client.create_tweet(text="one").data["id"]
    second = x.post_as("chatbot", "two")

    assert first.isdigit()
    assert second.isdigit()
    assert int(second) > int(first) >= 1_860_000_000_000_000_000


def test_thread_reply_links_to_its_parent(x: FakeXApi, client: Any) -> None:
    first = client.create_tweet(text="Wrap-up 1/2").data["id"]
    second = client.create_tweet(text="Wrap-up 2/2", in_reply_to_tweet_id=first).data["id"]

    reply = x.tweets[second]
    assert reply["conversation_id"] == first
    assert reply["referenced_posts"] == [{"type": "replied_to", "id": first}]
    assert reply["in_reply_to_user_id"] == x.bot_user_id
    assert x.tweets[first]["public_metrics"]["reply_count"] == 1


def test_refused_reply_is_forbidden_and_a_standalone_post_still_works(
    x: FakeXApi, client: Any
) -> None:
    question = client.create_tweet(text="Q1 #hexichat").data["id"]
    x.refuse_replies = True

    with pytest.raises(tweepy.Forbidden) as refused:
        client.create_tweet(text="Q1 follow-up", in_reply_to_tweet_id=question)
    client.create_tweet(text="Q1 follow-up (standalone)")

    assert refused.value.response.status_code == 403
    assert refused.value.api_messages == [REPLY_REFUSED_DETAIL]
    assert refused.value.response.json()["type"] == "about:blank"
    assert [p["text"] for p in x.created_posts] == ["Q1 #hexichat", "Q1 follow-up (standalone)"]


def test_duplicate_content_is_forbidden(x: FakeXApi, client: Any) -> None:
    client.create_tweet(text="Welcome to #hexichat!")

    with pytest.raises(tweepy.Forbidden) as duplicate:
        client.create_tweet(text="Welcome to #hexichat!")

    assert str(duplicate.value) == f"403 Forbidden\n{DUPLICATE_DETAIL}"
    assert duplicate.value.response.json() == {
        "detail": DUPLICATE_DETAIL,
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
    }
    assert len(x.created_posts) == 1


def test_length_is_weighted_like_x(x: FakeXApi, client: Any) -> None:
    client.create_tweet(text="😀" * 140)  # 140 emoji weigh 280: the limit exactly

    with pytest.raises(tweepy.BadRequest):
        client.create_tweet(text="😀" * 141)

    assert len(x.created_posts) == 1


def test_urls_are_stored_as_tco_links(x: FakeXApi, client: Any) -> None:
    url = "https://example.org/hexichat/2026-12-02"
    answer = client.create_tweet(text=f"Transcript: {url} #hexichat")

    assert answer.data["text"].startswith("Transcript: https://t.co/")
    [stored] = x.created_posts
    assert stored["text"] == answer.data["text"]
    assert stored["entities"]["urls"][0]["expanded_url"] == url


def test_user_limit_of_24_hours_answers_429_with_its_own_reset(clock: ManualClock) -> None:
    with FakeXApi(clock=clock, daily_post_limit=2) as fake:
        client = make_client(fake)
        client.create_tweet(text="one")
        client.create_tweet(text="two")

        with pytest.raises(tweepy.TooManyRequests) as limited:
            client.create_tweet(text="three")
        clock.advance(hours=24)
        client.create_tweet(text="three")

    headers = limited.value.response.headers
    assert headers["x-user-limit-24hour-remaining"] == "0"
    assert headers["x-user-limit-24hour-reset"] == str(epoch(START + timedelta(hours=24)))
    # tweepy's reset_time reads only the 15-minute window, which is not the one exhausted.
    assert limited.value.reset_time == epoch(START + timedelta(minutes=15))
    assert [p["text"] for p in fake.created_posts] == ["one", "two", "three"]


# -- reading -----------------------------------------------------------------------------------


def test_search_pages_newest_first_with_authors(x: FakeXApi, client: Any) -> None:
    x.add_user("ann", name="Ann", followers=120, description="teacher")
    x.add_user("bob")
    answers = [x.post_as("ann" if i % 2 else "bob", f"A1 answer {i} #HexiChat") for i in range(15)]
    x.post_as("ann", "not part of the chat")
    options: dict[str, Any] = {
        "max_results": 10,
        "post.fields": POST_FIELDS,
        "expansions": ["author_id"],
        "user_fields": USER_FIELDS,
    }

    first = search(client, **options)
    second = search(client, next_token=first.meta["next_token"], **options)

    newest_first = answers[::-1]
    assert ids_of(first) == newest_first[:10]
    assert first.meta == {
        "result_count": 10,
        "newest_id": newest_first[0],
        "oldest_id": newest_first[9],
        "next_token": first.meta["next_token"],
    }
    assert ids_of(second) == newest_first[10:]
    assert "next_token" not in second.meta
    authors = {user.username: user for user in first.includes["users"]}
    assert set(authors) == {"ann", "bob"}
    assert authors["ann"].name == "Ann"
    assert authors["ann"].description == "teacher"
    assert authors["ann"].public_metrics["followers_count"] == 120
    assert authors["ann"].protected is False


def test_since_id_returns_only_newer_posts(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    seen = x.post_as("ann", "A1 first #hexichat")
    newer = x.post_as("ann", "A1 second #hexichat")

    assert ids_of(search(client, since_id=seen)) == [newer]
    assert search(client, since_id=newer).data is None


def test_start_time_leaves_out_older_posts(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    x.post_as("ann", "A1 last night #hexichat", created_at=START - timedelta(hours=20))
    today = x.post_as("ann", "A1 tonight #hexichat")

    found = search(client, start_time=START - timedelta(minutes=10))

    assert ids_of(found) == [today]
    with pytest.raises(tweepy.BadRequest):
        search(client, start_time="yesterday")


def test_empty_search_has_only_meta(x: FakeXApi, raw_client: Any) -> None:
    body = raw_client.search_recent_tweets(TAG_QUERY, user_auth=True).json()

    assert body == {"meta": {"result_count": 0}}


def test_reads_count_every_returned_post_once(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    for i in range(12):
        x.post_as("ann", f"A{i} #hexichat")
    client.create_tweet(text="Q1 #hexichat")  # posting is not reading

    first = search(client)
    second = search(client, next_token=first.meta["next_token"], since_id=None)
    newest = first.meta["newest_id"]
    late = x.post_as("ann", "late #hexichat")
    third = search(client, since_id=newest)

    assert ids_of(third) == [late]
    assert x.reads == 14 == len(ids_of(first)) + len(ids_of(second)) + 1
    assert set(x.reads_by_id.values()) == {1}


def test_reading_a_post_twice_is_counted_twice(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    answer = x.post_as("ann", "A1 #hexichat")

    search(client)
    search(client)

    assert x.reads_by_id[answer] == 2
    assert x.reads == 2


def test_only_requested_post_fields_are_returned(x: FakeXApi, raw_client: Any) -> None:
    x.add_user("ann")
    question = x.post_as("chatbot", "Q1 #hexichat")
    x.post_as("ann", "A1 yes #hexichat", reply_to=question)

    bare = raw_client.search_recent_tweets(TAG_QUERY, user_auth=True).json()["data"][0]
    body = raw_client.search_recent_tweets(
        TAG_QUERY,
        user_auth=True,
        expansions=["author_id", "referenced_posts"],
        **{"post.fields": POST_FIELDS},
    ).json()
    rich = body["data"][0]

    assert set(bare) == {"id", "text", "edit_history_post_ids"}
    # The author and the references come with their expansions only.
    expanded = {"author_id", "referenced_posts"}
    assert set(rich) == {"id", "text", "edit_history_post_ids", *POST_FIELDS, *expanded}
    assert rich["created_at"] == "2026-12-02T20:00:00.000Z"
    assert rich["referenced_posts"] == [{"type": "replied_to", "id": question}]
    assert [p["id"] for p in body["includes"]["posts"]] == [question]
    assert rich["public_metrics"] == {
        "repost_count": 0,
        "reply_count": 0,
        "like_count": 0,
        "quote_count": 0,
        "bookmark_count": 0,
        "impression_count": 0,
    }


def test_conversation_query_finds_untagged_replies(x: FakeXApi, client: Any) -> None:
    ann_id = x.add_user("ann")
    x.add_user("bob")
    question = client.create_tweet(text="Q1 What brought you here? #hexichat").data["id"]
    answer = x.post_as("ann", "A1 curiosity", reply_to=question)
    nested = x.post_as("bob", "same here", reply_to=answer)
    x.post_as("ann", "another conversation")

    found = search(
        client,
        f"conversation_id:{question}",
        expansions=["referenced_posts", "in_reply_to_user_id"],
        **{"post.fields": ["conversation_id"]},
    )

    assert ids_of(found) == [nested, answer, question]  # the root is in its own conversation
    newest = found.data[0].data
    assert newest["conversation_id"] == question
    assert newest["in_reply_to_user_id"] == ann_id
    assert newest["referenced_posts"] == [{"type": "replied_to", "id": answer}]


def test_fields_outside_the_description_are_refused_as_x_does(x: FakeXApi, raw_client: Any) -> None:
    """The older names are a 400 naming them: `tweet.fields` is no parameter of search/recent
    in X's description 2.167, and `author_id` no value of `post.fields`."""

    def refusal(**params: Any) -> dict[str, Any]:
        with pytest.raises(tweepy.BadRequest) as refused:
            raw_client.search_recent_tweets(TAG_QUERY, user_auth=True, **params)
        error: dict[str, Any] = refused.value.response.json()["errors"][0]
        return error

    old_parameter = refusal(tweet_fields=["created_at"])
    old_value = refusal(**{"post.fields": ["created_at", "author_id"]})
    x.refused_values = {"post.fields": frozenset({"lang"})}
    refused = refusal(**{"post.fields": ["lang"]})

    assert old_parameter["parameters"] == {"tweet.fields": ["created_at"]}
    assert old_parameter["message"].startswith("The query parameter [")
    assert old_value["parameters"] == {"post.fields": ["author_id"]}
    assert refused["parameters"] == {"post.fields": ["lang"]}


def test_query_operators(x: FakeXApi, client: Any, clock: ManualClock) -> None:
    x.add_user("ann")
    x.add_user("carol", protected=True)
    old = x.post_as("ann", "A1 last week #hexichat", created_at=START - timedelta(days=8))
    upper = x.post_as("ann", "A1 shouting #HEXICHAT")
    other = x.post_as("ann", "A1 #otherchat")
    x.post_as("carol", "A1 private #hexichat")
    repost = x.retweet_as("ann", upper)

    assert ids_of(search(client, "#hexichat")) == [repost, upper]
    assert ids_of(search(client, "#hexichat -is:retweet")) == [upper]
    assert ids_of(search(client, "(#hexichat OR #otherchat) -is:retweet")) == [other, upper]
    assert ids_of(search(client, "from:ann shouting -is:retweet")) == [upper]
    assert old not in ids_of(search(client, "from:ann"))


def test_unimplemented_operator_fails_loudly(x: FakeXApi, client: Any) -> None:
    with pytest.raises(tweepy.BadRequest) as refused:
        search(client, "#hexichat lang:en")

    assert refused.value.response.json()["type"] == NOT_IMPLEMENTED_TYPE


def test_max_results_outside_10_to_100_is_a_bad_request(x: FakeXApi, client: Any) -> None:
    with pytest.raises(tweepy.BadRequest) as refused:
        search(client, max_results=5)

    assert refused.value.api_messages == [
        "The `max_results` query parameter value [5] is not between 10 and 100"
    ]


def test_user_timeline_finds_the_bots_own_posts(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    mine = [client.create_tweet(text=f"Q{i} #hexichat").data["id"] for i in range(1, 4)]
    x.post_as("ann", "A1 #hexichat", reply_to=mine[0])

    timeline = client.get_users_tweets(x.bot_user_id, user_auth=True, max_results=5)
    newer = client.get_users_tweets(x.bot_user_id, user_auth=True, since_id=mine[1])

    assert ids_of(timeline) == mine[::-1]
    assert [t.text for t in timeline.data] == ["Q3 #hexichat", "Q2 #hexichat", "Q1 #hexichat"]
    assert ids_of(newer) == [mine[2]]
    assert x.reads == 4


def test_lookups_return_posts_and_not_found_errors(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    answer = x.post_as("ann", "A1 #hexichat")
    gone = x.post_as("ann", "A1 oops #hexichat")
    x.delete_tweet(gone)

    one = client.get_tweet(answer, user_auth=True, expansions=["author_id"])
    many = client.get_tweets([answer, gone], user_auth=True)
    missing = client.get_tweet(gone, user_auth=True)

    assert one.data.author_id == int(x.user_id("ann"))
    assert ids_of(many) == [answer]
    assert [e["resource_id"] for e in many.errors] == [gone]
    assert missing.data is None
    assert missing.errors[0]["title"] == "Not Found Error"
    assert x.reads_by_id == {answer: 2}


def test_me_is_the_bot(x: FakeXApi, client: Any) -> None:
    me = client.get_me().data

    assert (str(me.id), me.username, me.name) == (x.bot_user_id, "chatbot", "chatbot")


# -- reposting ---------------------------------------------------------------------------------


def test_retweet_is_recorded_once(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    answer = x.post_as("ann", "A1 a great answer #hexichat")

    first = client.retweet(answer)
    again = client.retweet(answer)

    assert first.data == again.data == {"retweeted": True, "rest_id": first.data["rest_id"]}
    assert x.retweets == [(x.bot_user_id, answer)]
    assert x.tweets[answer]["public_metrics"]["repost_count"] == 1


def test_unretweet_removes_the_repost(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    answer = x.post_as("ann", "A1 #hexichat")
    client.retweet(answer)

    assert client.unretweet(answer).data == {"retweeted": False}
    assert x.retweets == []
    assert ids_of(search(client, "#hexichat")) == [answer]


# -- faults ------------------------------------------------------------------------------------


def test_scripted_429_carries_its_reset_time(x: FakeXApi, client: Any) -> None:
    x.fail_next("/2/tweets/search/recent", 429, reset_in=90)

    with pytest.raises(tweepy.TooManyRequests) as limited:
        search(client)
    search(client)  # the fault was for one request only

    headers = limited.value.response.headers
    assert limited.value.reset_time == epoch(START) + 90
    assert headers["x-rate-limit-reset"] == str(epoch(START) + 90)
    assert headers["x-rate-limit-remaining"] == "0"
    assert limited.value.response.json() == {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
    }


def test_scripted_503_hits_only_the_matching_method(x: FakeXApi, client: Any) -> None:
    x.fail_next("/2/tweets", 503, times=2, method="POST")

    search(client)  # a GET under the same prefix is untouched
    for _ in range(2):
        with pytest.raises(tweepy.TwitterServerError) as unavailable:
            client.create_tweet(text="Q1 #hexichat")
    client.create_tweet(text="Q1 #hexichat")

    assert unavailable.value.response.status_code == 503
    assert unavailable.value.api_messages == ["Service Unavailable"]
    assert [p["text"] for p in x.created_posts] == ["Q1 #hexichat"]


def test_forbidden_search_leaves_posting_working(x: FakeXApi, client: Any) -> None:
    x.search_forbidden = True

    with pytest.raises(tweepy.Forbidden) as forbidden:
        search(client)
    client.create_tweet(text="Q1 #hexichat")

    assert forbidden.value.response.json() == CLIENT_FORBIDDEN
    assert forbidden.value.api_messages == [CLIENT_FORBIDDEN["detail"]]
    assert len(x.created_posts) == 1


def test_usage_cap_blocks_reads_not_posts(x: FakeXApi, client: Any) -> None:
    x.add_user("ann")
    x.post_as("ann", "A1 #hexichat")
    x.usage_cap_exceeded = True

    with pytest.raises(tweepy.TooManyRequests) as capped:
        search(client)
    with pytest.raises(tweepy.TooManyRequests):
        client.get_users_tweets(x.bot_user_id, user_auth=True)
    client.create_tweet(text="Q1 #hexichat")

    body = capped.value.response.json()
    assert body["type"] == "https://api.twitter.com/2/problems/usage-capped"
    assert (body["period"], body["scope"]) == ("Monthly", "Product")
    assert x.reads == 0


def test_lost_answer_creates_the_post_and_drops_the_connection(x: FakeXApi, client: Any) -> None:
    x.lose_next_post_answer = True

    with pytest.raises(requests.exceptions.ConnectionError):
        client.create_tweet(text="Q3 What surprised you? #hexichat")
    found = client.get_users_tweets(x.bot_user_id, user_auth=True, max_results=5)
    client.create_tweet(text="Q4 #hexichat")  # only the next answer was lost

    assert [p["text"] for p in x.created_posts] == [
        "Q3 What surprised you? #hexichat",
        "Q4 #hexichat",
    ]
    assert found.data[0].text == "Q3 What surprised you? #hexichat"


def test_rate_limit_headers_on_every_answer(x: FakeXApi, raw_client: Any) -> None:
    posted = raw_client.create_tweet(text="Q1 #hexichat")
    searched = raw_client.search_recent_tweets(TAG_QUERY, user_auth=True)

    assert posted.headers["x-rate-limit-limit"] == "100"
    assert posted.headers["x-rate-limit-remaining"] == "99"
    assert posted.headers["x-rate-limit-reset"] == str(epoch(START + timedelta(minutes=15)))
    assert posted.headers["x-user-limit-24hour-limit"] == "100"
    assert posted.headers["x-user-limit-24hour-remaining"] == "99"
    assert posted.headers["x-user-limit-24hour-reset"] == str(epoch(START + timedelta(hours=24)))
    assert searched.headers["x-rate-limit-remaining"] == "299"
    assert "x-user-limit-24hour-limit" not in searched.headers


# -- authentication and lifecycle --------------------------------------------------------------


def test_request_without_authorization_is_401(x: FakeXApi) -> None:
    response = requests.get(f"{x.base_url}/2/users/me", timeout=5)

    assert response.status_code == 401
    assert response.json() == {
        "title": "Unauthorized",
        "detail": "Unauthorized",
        "type": "about:blank",
        "status": 401,
    }


def test_app_only_call_without_bearer_token_is_401(x: FakeXApi, client: Any) -> None:
    # tweepy defaults reads to user_auth=False and then sends "Bearer None".
    with pytest.raises(tweepy.Unauthorized):
        client.search_recent_tweets(TAG_QUERY)


def test_stop_is_prompt_and_closes_pooled_connections(clock: ManualClock) -> None:
    fake = FakeXApi(clock=clock).start()
    client = make_client(fake)
    client.get_me()  # leaves a keep-alive connection in the pool

    started = time.monotonic()
    fake.stop()
    elapsed = time.monotonic() - started

    assert elapsed < 1.0
    with pytest.raises(requests.exceptions.ConnectionError):
        client.get_me()


def test_redirect_adapter_reaches_the_fake_from_either_host(x: FakeXApi) -> None:
    session = requests.Session()
    mount_redirect(session, x.base_url)
    auth = {"Authorization": "Bearer token"}

    answers = [
        session.get(f"{host}/2/tweets", params={"ids": "1,2"}, headers=auth, timeout=5)
        for host in ("https://api.twitter.com", "https://api.x.com")
    ]

    for answer in answers:
        assert answer.url.startswith(x.base_url)
        assert [e["resource_id"] for e in answer.json()["errors"]] == ["1", "2"]


def test_redirect_adapter_keeps_a_base_path() -> None:
    adapter = RedirectAdapter("http://127.0.0.1:9/x-api/")
    request = requests.Request("GET", "https://api.x.com/2/tweets?ids=1").prepare()

    with pytest.raises(requests.exceptions.ConnectionError) as refused:
        adapter.send(request, timeout=1)

    assert request.url == "http://127.0.0.1:9/x-api/2/tweets?ids=1"
    assert refused.value.request is request


def test_unknown_path_and_malformed_body_get_errors_with_rate_headers(x: FakeXApi) -> None:
    auth = {"Authorization": "Bearer token"}

    unknown = requests.get(f"{x.base_url}/2/spaces", headers=auth, timeout=5)
    malformed = requests.post(
        f"{x.base_url}/2/tweets",
        data=b"[not json",
        headers={**auth, "Content-Type": "application/json"},
        timeout=5,
    )

    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["code"] == 34
    assert malformed.status_code == 400
    assert x.created_posts == []
    for answer in (unknown, malformed):
        assert "x-rate-limit-remaining" in answer.headers

"""What the fake X API holds: its users, their posts and reposts, and what was read of them.

Not locked on its own: `FakeXApi` holds its lock around every use.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from tests.fakes.x_exchange import JsonObject
from tests.fakes.x_text import entities, wrap_urls

FIRST_TWEET_ID = 1_860_000_000_000_000_000
# Snowflake ids of posts made a millisecond apart differ by 2**22 (the sequence bits): a step that
# size keeps ids increasing but not contiguous, so nothing can rely on "next id = id + 1".
TWEET_ID_STEP = 1 << 22
FIRST_USER_ID = 1_500_000_001


@dataclass
class User:
    id: str
    username: str
    name: str
    followers: int
    description: str
    protected: bool
    created_at: datetime


@dataclass
class Tweet:
    id: str
    text: str
    author_id: str
    created_at: datetime
    conversation_id: str
    entities: JsonObject
    replied_to: str | None = None
    in_reply_to_user_id: str | None = None
    retweet_of: str | None = None
    repost_count: int = 0
    reply_count: int = 0
    like_count: int = 0
    quote_count: int = 0

    @property
    def hashtags(self) -> frozenset[str]:
        return frozenset(tag["tag"].casefold() for tag in self.entities.get("hashtags", []))

    @property
    def mentions(self) -> frozenset[str]:
        return frozenset(m["username"].casefold() for m in self.entities.get("mentions", []))


class XStore:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.user_ids: dict[str, str] = {}  # casefolded username -> id
        self.tweets: dict[str, Tweet] = {}
        self.api_created: list[str] = []  # posted through POST /2/tweets, in order
        self.retweets: dict[tuple[str, str], str] = {}  # (user id, tweet id) -> its repost id
        self.reads: Counter[str] = Counter()  # post id -> times a read endpoint returned it
        self._next_user_id = FIRST_USER_ID
        self._next_tweet_id = FIRST_TWEET_ID

    def add_user(
        self,
        username: str,
        *,
        name: str | None,
        followers: int,
        description: str,
        protected: bool,
        created_at: datetime,
    ) -> str:
        if username.casefold() in self.user_ids:
            raise ValueError(f"user @{username} already exists")
        user_id = str(self._next_user_id)
        self._next_user_id += 1
        self.users[user_id] = User(
            user_id, username, name or username, followers, description, protected, created_at
        )
        self.user_ids[username.casefold()] = user_id
        return user_id

    def user(self, username: str) -> User:
        user_id = self.user_ids.get(username.casefold())
        if user_id is None:
            raise KeyError(f"no user @{username}: add_user() it first")
        return self.users[user_id]

    def tweet(self, tweet_id: str) -> Tweet:
        try:
            return self.tweets[tweet_id]
        except KeyError:
            raise KeyError(f"no post {tweet_id}") from None

    def resolve_user(self, name_or_id: str) -> str | None:
        if name_or_id in self.users:
            return name_or_id
        return self.user_ids.get(name_or_id.lstrip("@").casefold())

    def _allocate_tweet_id(self) -> str:
        tweet_id = str(self._next_tweet_id)
        self._next_tweet_id += TWEET_ID_STEP
        return tweet_id

    def new_tweet(
        self, author: User, text: str, parent: Tweet | None, created_at: datetime
    ) -> Tweet:
        tweet_id = self._allocate_tweet_id()
        stored, links = wrap_urls(text)
        tweet = Tweet(
            id=tweet_id,
            text=stored,
            author_id=author.id,
            created_at=created_at,
            conversation_id=parent.conversation_id if parent else tweet_id,
            entities=entities(stored, links, self.user_ids),
        )
        if parent is not None:
            tweet.replied_to, tweet.in_reply_to_user_id = parent.id, parent.author_id
            parent.reply_count += 1
        self.tweets[tweet_id] = tweet
        return tweet

    def repost(self, user: User, original: Tweet, now: datetime) -> str:
        existing = self.retweets.get((user.id, original.id))
        if existing is not None:
            return existing
        tweet_id = self._allocate_tweet_id()
        author = self.users[original.author_id]
        text = f"RT @{author.username}: {original.text}"
        links = [(u["url"], u["expanded_url"]) for u in original.entities.get("urls", [])]
        self.tweets[tweet_id] = Tweet(
            id=tweet_id,
            text=text,
            author_id=user.id,
            created_at=now,
            conversation_id=tweet_id,
            entities=entities(text, links, self.user_ids),
            retweet_of=original.id,
        )
        original.repost_count += 1
        self.retweets[(user.id, original.id)] = tweet_id
        return tweet_id

    def newest_first(self) -> list[Tweet]:
        return sorted(self.tweets.values(), key=lambda t: int(t.id), reverse=True)

"""Bluesky through the AT Protocol SDK (MarshalX's ``atproto``): posting, threads, and what
`doctor` reads. Following lives in bluesky_follow, curation in bluesky_curation.

Exactly once: every post carries a record key derived from its ledger key (a valid TID), so
a retry after a lost answer asks for a key the repository holds already and cannot make a
second record (checked on the local network: the PDS refuses the repeat). When a create
fails, the record at that key is looked up before the error counts: if it is there, it is
the post. A post claimed by a worker that died is found in the bot's own feed, by its text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from atproto import models

from bot.adapters.bluesky_ids import (
    POST,
    post_uri,
    record_id,
    split_uri,
    tid_for,
    web_url,
)
from bot.adapters.bluesky_notifications import NotificationReader, replies_batch
from bot.adapters.bluesky_posts import has_label, record_time
from bot.adapters.bluesky_session import BlueskySession
from bot.adapters.untrusted_fields import Malformed, utc_time
from bot.core.config_platforms import BlueskySettings
from bot.core.durations import format_duration
from bot.core.html_text import same_text
from bot.core.model import Author
from bot.core.text import BLUESKY_MAX_GRAPHEMES
from bot.ports.clock import Clock
from bot.ports.curation import Mention, PostState
from bot.ports.errors import NoStreaming, PermanentError, PlatformError
from bot.ports.following import EventStream, Fetched, ReplyBatch, TagPage
from bot.ports.operations import AccountFacts, Capability, ServerFact
from bot.ports.posting import Published

# How many of its own latest posts the bot reads to recover a post after a crash.
_RECOVERY_WINDOW = 50


class BlueskyPlatform:
    name = "bluesky"

    def __init__(self, settings: BlueskySettings, *, session: BlueskySession, clock: Clock) -> None:
        self.settings = settings
        self.session = session
        self.clock = clock
        # A reply that also mentions the bot is notified as a mention only.
        self.replies_read = NotificationReader(self, ("reply", "mention"))
        self.mentions_read = NotificationReader(self, ("mention",))
        # Reply refs of the posts this process made: uri -> (cid, root uri, root cid).
        self._refs: dict[str, tuple[str, str, str]] = {}

    def max_characters(self) -> int:
        return BLUESKY_MAX_GRAPHEMES

    # -- posting -------------------------------------------------------------------------

    def post(self, text: str, *, key: str, in_reply_to: str | None) -> Published:
        rkey = tid_for(key)
        reply = self._reply_ref(in_reply_to) if in_reply_to else None
        facets = self.session.call(lambda c: c.detect_facets(text))
        record = models.AppBskyFeedPost.Record(
            text=text,
            created_at=record_time(self.clock.now()),
            facets=facets or None,
            reply=reply,
            langs=None,
        )
        did = self.session.did
        try:
            created = self.session.call(
                lambda c: c.com.atproto.repo.create_record(
                    models.ComAtprotoRepoCreateRecord.Data(
                        repo=did, collection=POST, record=record, rkey=rkey
                    )
                )
            )
        except PlatformError:
            # The answer was lost, or the key is taken because an earlier attempt succeeded:
            # the record at the key, if any, is this post.
            existing = self.own_record(POST, rkey)
            if existing is None:
                raise
            uri, cid, value = existing
            if not same_text(str(_field(value, "text") or ""), text):
                raise PermanentError(f"the record key {rkey} of {key} holds another post") from None
            created_uri, created_cid = uri, cid
        else:
            created_uri, created_cid = str(created.uri), str(created.cid)
        root_uri, root_cid = (
            (str(reply.root.uri), str(reply.root.cid))
            if reply is not None
            else (created_uri, created_cid)
        )
        self._refs[created_uri] = (created_cid, root_uri, root_cid)
        return Published(record_id(did, rkey), self._url(rkey), self.clock.now())

    def find_own_post(self, text: str, *, since: datetime) -> Published | None:
        did = self.session.did
        feed = self.session.query(
            "app.bsky.feed.getAuthorFeed",
            models.AppBskyFeedGetAuthorFeed.Params(
                actor=did, limit=_RECOVERY_WINDOW, filter="posts_with_replies"
            ),
        ).get("feed")
        for item in feed if isinstance(feed, list) else []:
            post = item.get("post") if isinstance(item, dict) else None
            if not isinstance(post, dict) or item.get("reason") is not None:
                continue  # a repost
            record = post.get("record")
            uri = post.get("uri")
            if not isinstance(record, dict) or not isinstance(uri, str):
                continue
            created = _parse_time(record.get("createdAt"))
            if created is not None and created < since:
                continue
            if same_text(str(record.get("text") or ""), text):
                author, _, rkey = split_uri(uri)
                if author == did:
                    return Published(record_id(did, rkey), self._url(rkey), created)
        return None

    def _reply_ref(self, parent_id: str) -> models.AppBskyFeedPost.ReplyRef:
        """Root and parent (uri and cid each) of a reply: from this process's memory, else
        for the bot's own post from its repository (which answers at once, unlike the
        AppView, which indexes later), else from the AppView."""
        uri = post_uri(parent_id)
        known = self._refs.get(uri)
        if known is None:
            did, _, rkey = split_uri(uri)
            found = self.own_record(POST, rkey) if did == self.session.did else self._view(uri)
            if found is None:
                raise PermanentError(f"the post to reply to is gone: {parent_id}")
            _, cid, value = found
            root = _field(value, "reply")
            root_ref = _field(root, "root") if root is not None else None
            known = (
                (cid, str(_field(root_ref, "uri")), str(_field(root_ref, "cid")))
                if root_ref is not None
                else (cid, uri, cid)
            )
            self._refs[uri] = known
        cid, root_uri, root_cid = known
        return models.AppBskyFeedPost.ReplyRef(
            parent=models.ComAtprotoRepoStrongRef.Main(uri=uri, cid=cid),
            root=models.ComAtprotoRepoStrongRef.Main(uri=root_uri, cid=root_cid),
        )

    def _view(self, uri: str) -> tuple[str, str, Any] | None:
        from bot.adapters.bluesky_follow import get_posts

        views = get_posts(self, [uri])
        if not views or not isinstance(views[0].get("cid"), str):
            return None
        return uri, str(views[0]["cid"]), views[0].get("record")

    def own_record(self, collection: str, rkey: str) -> tuple[str, str, Any] | None:
        """uri, cid and value of a record of the bot's repository; None if it has none."""
        found = self.session.query(
            "com.atproto.repo.getRecord",
            models.ComAtprotoRepoGetRecord.Params(
                repo=self.session.did, collection=collection, rkey=rkey
            ),
            missing_ok=True,
        )
        uri, cid = found.get("uri"), found.get("cid")
        if not isinstance(uri, str) or not isinstance(cid, str):
            return None
        return uri, cid, found.get("value")

    def _url(self, rkey: str) -> str:
        return web_url(self.settings.handle, rkey)

    # -- doctor: what the account is and may do, found out without writing anything -------

    def account_facts(self) -> AccountFacts:
        """The account as others see it: its handle must resolve to the account that logs
        in (a handle moved to another account would post there), and a "bot" self-label."""
        did = self.session.did
        resolved = self.session.query(
            "com.atproto.identity.resolveHandle",
            models.ComAtprotoIdentityResolveHandle.Params(handle=self.settings.handle),
            missing_ok=True,
        ).get("did")
        if resolved != did:
            raise PermanentError(
                f"the handle {self.settings.handle} does not resolve to the account that logged in"
                if resolved
                else f"the handle {self.settings.handle} does not resolve"
            )
        profile = self.session.query(
            "app.bsky.actor.getProfile", models.AppBskyActorGetProfile.Params(actor=did)
        )
        return AccountFacts(
            username=str(profile.get("handle") or self.settings.handle),
            bot=has_label(profile, "bot"),
            max_characters=BLUESKY_MAX_GRAPHEMES,
            server=(
                ServerFact("handle", True, f"{self.settings.handle} resolves to {did}"),
                ServerFact("session", True, self.session.how),
                ServerFact("rate limit", True, self.session.limits.describe()),
            ),
            differences=(
                "Bluesky has no hashtag stream: the search is polled every "
                "follow.poll_interval, and the hashtag and the replies are read "
                f"{format_duration(self.settings.index_delay)} behind the present "
                "(platforms.bluesky.index_delay), each post once",
                "the confirmation of a stop is a public reply (Bluesky has no private posts)",
                "the bot sends no direct messages: in boost.mode approve the hosts approve "
                "each question's candidates in the console (tweetchat console)",
            ),
        )

    def allows(self, capability: Capability) -> bool | None:
        # An app password may read, post and repost: all the bot does. (Only direct messages
        # need a further grant, and the bot sends none on Bluesky.)
        return True

    # -- following and curation: in bluesky_follow and bluesky_curation -------------------

    def tag_page(
        self, tag: str, *, newer_than: str | None = None, older_than: str | None = None
    ) -> TagPage:
        from bot.adapters.bluesky_follow import tag_page

        return tag_page(
            self,
            tag,
            newer_than=newer_than,
            older_than=older_than,
            delay=self.settings.index_delay,
        )

    def tag_rest(self, tag: str, *, newer_than: str) -> TagPage:
        from bot.adapters.bluesky_follow import tag_page

        return tag_page(self, tag, newer_than=newer_than, delay=timedelta(0))

    @property
    def notified_depth(self) -> int:
        from bot.adapters.bluesky_notifications import NOTIFIED_DEPTH

        return NOTIFIED_DEPTH

    def new_replies(self, *, after: str | None, since: datetime, last: bool) -> ReplyBatch:
        delay = timedelta(0) if last else self.settings.index_delay
        batch = self.replies_read.read(after=after, since=since, delay=delay)
        return replies_batch(batch, own_did=self.session.did)

    def replies(self, post_id: str) -> list[Fetched]:
        from bot.adapters.bluesky_follow import replies

        return replies(self, post_id)

    def fetch(self, post_id: str) -> Fetched | None:
        from bot.adapters.bluesky_follow import fetch

        return fetch(self, post_id)

    def existing(self, ids: Sequence[str]) -> set[str]:
        from bot.adapters.bluesky_follow import existing

        return existing(self, ids)

    def open_stream(self, tag: str) -> EventStream:
        # Bluesky's live path is the firehose of the whole network: far too much for one
        # hashtag. The follower polls the search instead, and stops asking.
        raise NoStreaming("Bluesky has no hashtag stream: the search is polled")

    def home(self) -> str:
        return "bsky.social"

    def own_author(self) -> Author:
        from bot.adapters.bluesky_curation import own_author

        return own_author(self)

    def fetch_posts(self, ids: Sequence[str]) -> list[PostState]:
        from bot.adapters.bluesky_curation import fetch_posts

        return fetch_posts(self, ids)

    def boost(self, post_id: str) -> Published:
        from bot.adapters.bluesky_curation import repost

        return repost(self, post_id)

    def mentions(self, *, after: str | None) -> tuple[list[Mention], str | None]:
        from bot.adapters.bluesky_curation import mentions

        return mentions(self, after=after)

    def send_direct(self, text: str, *, key: str, in_reply_to: str | None) -> Published:
        # Every Bluesky post is public, and direct messages are a service of their own that
        # app passwords reach only when allowed to. An answer to someone's own mention (a
        # confirmation of "stop") goes as a reply: they asked. Nothing is sent unasked.
        if in_reply_to is None:
            raise PermanentError("the bot sends no direct messages on Bluesky")
        return self.post(text, key=key, in_reply_to=in_reply_to)


def _parse_time(value: Any) -> datetime | None:
    try:
        return utc_time(value, "createdAt")
    except Malformed:
        return None


def _field(value: Any, name: str) -> Any:
    """A field of a record the SDK may hand back as a model or as a plain dict."""
    if value is None:
        return None
    if isinstance(value, dict):
        camel = "".join(p if i == 0 else p.title() for i, p in enumerate(name.split("_")))
        return value.get(name, value.get(camel))
    return getattr(value, name, None)

"""Curating on Bluesky: re-reading candidates with their authors' profiles, reposting, and
the mentions that say "stop" or "forget me". Never a like or a follow.

Consent, beyond the curator's own rules (``#nobot`` in the description, a bot): a post is
not offered at all when its author blocks the bot, or carries ``!no-unauthenticated`` (they
asked not to be shown to logged-out viewers). An author who self-labels ``bot`` is a bot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from atproto import models

from bot.adapters.bluesky_follow import BATCH, get_posts
from bot.adapters.bluesky_ids import REPOST, post_id, record_id, tid_for
from bot.adapters.bluesky_posts import (
    NO_UNAUTHENTICATED,
    has_label,
    record_time,
    to_author,
    to_post,
)
from bot.adapters.bluesky_slices import Slice
from bot.adapters.untrusted_fields import Malformed, count_or_zero, utc_time
from bot.core.model import ArchivedPost, Author
from bot.ports.curation import Mention, PostState
from bot.ports.errors import PermanentError, PlatformError
from bot.ports.posting import Published

if TYPE_CHECKING:
    from bot.adapters.bluesky import BlueskyPlatform

# Mentions read at the first start: those of the last week ("stop" is for good).
FIRST_LOOK_BACK = timedelta(days=7)


def own_author(platform: BlueskyPlatform) -> Author:
    profiles = _profiles(platform, [platform.session.did])
    profile = profiles.get(platform.session.did)
    if profile is None:
        raise PermanentError("the bot's own profile is not found")
    try:
        return to_author(profile)
    except Malformed as exc:
        raise PermanentError(f"the bot's profile is unreadable: {exc}") from None


def fetch_posts(platform: BlueskyPlatform, ids: Sequence[str]) -> list[PostState]:
    states = []
    for start in range(0, len(ids), BATCH):
        views = get_posts(platform, list(ids[start : start + BATCH]))
        dids = list(dict.fromkeys(_did(v) for v in views if _did(v)))
        profiles = _profiles(platform, dids)
        for view in views:
            state = _state(view, profiles.get(_did(view)))
            if state is not None:
                states.append(state)
    return states


def _state(view: Mapping[str, Any], profile: Mapping[str, Any] | None) -> PostState | None:
    author = view.get("author")
    if profile is None or not isinstance(author, Mapping):
        return None  # no profile: deleted, suspended or hidden; never a candidate
    if _blocks_bot(author) or _blocks_bot(profile):
        return None
    if has_label(author, NO_UNAUTHENTICATED) or has_label(profile, NO_UNAUTHENTICATED):
        return None
    uri = view.get("uri")
    try:
        pid = post_id(uri) if isinstance(uri, str) else None
        who = to_author({**profile, "labels": [*_labels(author), *_labels(profile)]})
    except (Malformed, ValueError):
        return None
    if pid is None:
        return None
    return PostState(
        post_id=pid,
        visibility="public",  # every Bluesky post is public
        replies=count_or_zero(view.get("replyCount")),
        boosts=count_or_zero(view.get("repostCount")) + count_or_zero(view.get("quoteCount")),
        favourites=count_or_zero(view.get("likeCount")),
        author=who,
    )


def repost(platform: BlueskyPlatform, target: str) -> Published:
    """One repost per post, whatever retries: its record key derives from the post."""
    views = get_posts(platform, [target])
    if not views or not isinstance(views[0].get("cid"), str):
        raise PermanentError(f"the post to repost is gone: {target}")
    view = views[0]
    rkey = tid_for(f"repost:{view['uri']}")
    did = platform.session.did
    record = models.AppBskyFeedRepost.Record(
        subject=models.ComAtprotoRepoStrongRef.Main(uri=view["uri"], cid=view["cid"]),
        created_at=record_time(datetime.now(UTC)),
    )
    reposted = to_post(view, own_did=None)
    url = reposted.url if isinstance(reposted, ArchivedPost) else ""
    try:
        platform.session.call(
            lambda c: c.com.atproto.repo.create_record(
                models.ComAtprotoRepoCreateRecord.Data(
                    repo=did, collection=REPOST, record=record, rkey=rkey
                )
            )
        )
    except PlatformError:
        if platform.own_record(REPOST, rkey) is None:
            raise
    return Published(record_id(did, rkey), url, datetime.now(UTC))


def mentions(platform: BlueskyPlatform, *, after: str | None) -> tuple[list[Mention], str | None]:
    """The mentions notified after the cursor ``after`` (without one, those of the last
    week), oldest first, each read once (bluesky_notifications). Each carries the cursor to
    read on from it: a crash between two re-reads at most that one."""
    batch = platform.mentions_read.read(
        after=after,
        since=platform.clock.now() - FIRST_LOOK_BACK,
        delay=platform.settings.index_delay,
    )
    found = [m for m in (_mention(n.note, n.at) for n in batch.notes) if m is not None]
    return found, batch.cursor


def _mention(note: Mapping[str, Any], at: datetime) -> Mention | None:
    record, uri = note.get("record"), note.get("uri")
    if not isinstance(record, Mapping) or not isinstance(uri, str):
        return None
    try:
        author = to_author(note.get("author"))
        pid = post_id(uri)
        created = utc_time(record.get("createdAt"), "createdAt")
        reply = record.get("reply")
        parent = reply.get("parent") if isinstance(reply, Mapping) else None
        parent_uri = parent.get("uri") if isinstance(parent, Mapping) else None
        in_reply_to = post_id(parent_uri) if isinstance(parent_uri, str) else None
    except (Malformed, ValueError):
        return None
    text = record.get("text")
    return Mention(
        cursor=Slice(at).encode(),
        status_id=pid,
        author=author,
        text=text if isinstance(text, str) else "",
        visibility="public",
        in_reply_to=in_reply_to,
        created_at=created,
    )


def _profiles(platform: BlueskyPlatform, dids: list[str]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for start in range(0, len(dids), BATCH):
        params = models.AppBskyActorGetProfiles.Params(actors=dids[start : start + BATCH])
        body = platform.session.query("app.bsky.actor.getProfiles", params)
        for profile in body.get("profiles") or []:
            if isinstance(profile, Mapping) and isinstance(profile.get("did"), str):
                found[profile["did"]] = profile
    return found


def _blocks_bot(actor: Mapping[str, Any]) -> bool:
    viewer = actor.get("viewer")
    return isinstance(viewer, Mapping) and viewer.get("blockedBy") is True


def _labels(actor: Mapping[str, Any]) -> list[Any]:
    labels = actor.get("labels")
    return labels if isinstance(labels, list) else []


def _did(view: Mapping[str, Any]) -> str:
    author = view.get("author")
    did = author.get("did") if isinstance(author, Mapping) else None
    return did if isinstance(did, str) else ""

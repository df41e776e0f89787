"""A rehearsal's in-memory server behaves as Mastodon does where the bot can tell, prints
what the bot does, and its crowd plays a plan into it."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.agenda import Occurrence
from bot.core.model import ArchivedPost
from bot.ports.errors import PermanentError
from bot.ports.following import DeleteEvent, PostEvent, Skipped, StreamEvent
from bot.rehearsal.crowd import CrowdPlan, CrowdPost, Delete, Edit, Favourite, Persona
from bot.rehearsal.crowd_player import CrowdPlayer
from bot.rehearsal.platform import RehearsalPlatform, Show
from bot.rehearsal.world import RehearsalServer
from bot.runtime.logs import get_logger
from tests.support.clock import ManualClock

ORIGIN = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
TAG = "HEXIchat"


class World:
    def __init__(self) -> None:
        self.clock = ManualClock(ORIGIN)
        self.out = io.StringIO()
        self.server = RehearsalServer(platform="mastodon", home="example.social", epoch=ORIGIN)
        self.bot = self.server.account("hexichat", display_name="HEXI chat", bot=True)
        self.platform = RehearsalPlatform(
            server=self.server,
            account=self.bot,
            clock=self.clock,
            show=Show(clock=self.clock, zone=UTC, stream=self.out),
            max_characters=500,
            planned={"hexichat/2026-12-02/q1/mastodon": ORIGIN + timedelta(seconds=5)},
        )
        self.ana = self.server.account("ana", server="care.example", display_name="Ana")

    def say(
        self,
        text: str,
        *,
        seconds: float,
        in_reply_to: str | None = None,
        visibility: str = "public",
    ) -> str:
        status, _ = self.server.publish(
            self.ana,
            text,
            created_at=ORIGIN + timedelta(seconds=seconds),
            in_reply_to=in_reply_to,
            visibility=visibility,
        )
        return status.id


@pytest.fixture
def world() -> World:
    return World()


def test_tag_pages_come_newest_first_and_page_by_opaque_cursors(world: World) -> None:
    ids = [world.say(f"A1 answer {n} #hexichat", seconds=n) for n in range(45)]
    world.say("no tag at all", seconds=50)
    world.say("A1 unlisted #HEXIchat", seconds=51, visibility="unlisted")

    newest = world.platform.tag_page(TAG)
    assert [p.id for p in newest.items] == ids[::-1][:40]
    assert newest.full
    assert newest.newer == ids[-1]
    assert newest.older == ids[5]
    below = world.platform.tag_page(TAG, older_than=newest.older)
    assert [p.id for p in below.items] == ids[4::-1]
    assert not below.full
    # Right above a cursor: the 40 oldest there, newest first, as Mastodon's min_id.
    above = world.platform.tag_page(TAG, newer_than=ids[0])
    assert [p.id for p in above.items] == ids[40:0:-1]
    assert world.platform.tag_page(TAG, newer_than=ids[-1]).items == []
    post = newest.items[0]
    assert isinstance(post, ArchivedPost)
    assert post.author.handle == "@ana@care.example"
    assert post.url == f"https://care.example/@ana/{post.id}"
    assert post.created_at == ORIGIN + timedelta(seconds=44)
    with pytest.raises(PermanentError):
        world.platform.tag_page(TAG, newer_than="no-such-id")


def test_ids_follow_the_stamps_not_the_order_of_arrival(world: World) -> None:
    later = world.say("later #hexichat", seconds=2)
    earlier = world.say("earlier #hexichat", seconds=1)
    assert int(earlier) < int(later)
    assert world.say("same moment #hexichat", seconds=1) != earlier


def test_replies_come_parents_first_and_only_what_the_bot_may_see(world: World) -> None:
    question = world.platform.post(
        "Q1: How? #HEXIchat", key="hexichat/2026-12-02/q1/mastodon", in_reply_to=None
    ).remote_id
    first = world.say("@hexichat A1 first", seconds=6, in_reply_to=question)
    deep = world.say("@ana and more", seconds=7, in_reply_to=first)
    hidden = world.say(
        "@hexichat A1 unlisted", seconds=8, in_reply_to=question, visibility="unlisted"
    )
    world.say("@hexichat private", seconds=9, in_reply_to=question, visibility="private")
    gone = world.say("@hexichat deleted", seconds=10, in_reply_to=question)
    world.server.delete(gone)

    replies = world.platform.replies(question)
    assert [r.id for r in replies] == [first, deep, hidden]
    assert isinstance(replies[2], Skipped)
    assert "unlisted" in replies[2].reason
    assert world.platform.fetch(gone) is None
    state = world.platform.fetch_posts([question, gone])
    assert [(s.post_id, s.replies) for s in state] == [(question, 2)]


def test_the_stream_carries_posts_edits_and_deletions_of_public_tagged_posts(
    world: World,
) -> None:
    stream = world.platform.open_stream(TAG)
    events: list[StreamEvent] = []
    reader = threading.Thread(target=lambda: events.extend(stream.events()))
    reader.start()
    post = world.say("A1 hello #HEXIchat", seconds=1)
    world.say("A1 hidden #HEXIchat", seconds=2, visibility="unlisted")
    world.say("untagged", seconds=3)
    world.server.edit(post, "A1 hello, edited #HEXIchat", at=ORIGIN + timedelta(seconds=4))
    world.server.delete(post)
    stream.close()
    reader.join(timeout=5)

    assert not reader.is_alive()
    assert [type(e).__name__ for e in events] == ["PostEvent", "PostEvent", "DeleteEvent"]
    first, edit, deletion = events
    assert isinstance(first, PostEvent)
    assert isinstance(edit, PostEvent)
    assert isinstance(edit.item, ArchivedPost)
    assert edit.edited
    assert edit.item.text == "A1 hello, edited #HEXIchat"
    assert edit.item.edited_at == ORIGIN + timedelta(seconds=4)
    assert deletion == DeleteEvent(post)


def test_the_bot_posts_once_per_key_at_the_planned_time_and_it_is_shown(world: World) -> None:
    world.clock.advance(seconds=7)
    key = "hexichat/2026-12-02/q1/mastodon"
    first = world.platform.post("Q1: How? #HEXIchat", key=key, in_reply_to=None)
    again = world.platform.post("Q1: How? #HEXIchat", key=key, in_reply_to=None)
    thanks = world.platform.post(
        "Thanks #HEXIchat", key="hexichat/2026-12-02/closing/mastodon", in_reply_to=first.remote_id
    )

    assert again == first
    assert first.created_at == ORIGIN + timedelta(seconds=5)
    assert thanks.created_at == ORIGIN + timedelta(seconds=7)  # not planned: when it went out
    assert world.out.getvalue() == (
        "[20:00:07 UTC] mastodon q1\n    Q1: How? #HEXIchat\n"
        "[20:00:07 UTC] mastodon closing (reply to q1)\n    Thanks #HEXIchat\n"
    )
    found = world.platform.find_own_post("Q1:  How? #HEXIchat", since=ORIGIN)
    assert found == first


def test_a_boost_is_made_once_counted_and_shown(world: World) -> None:
    post = world.say("A1 a good answer #HEXIchat", seconds=1)
    first = world.platform.boost(post)
    assert world.platform.boost(post) == first
    (state,) = world.platform.fetch_posts([post])
    assert state.boosts == 1
    assert world.out.getvalue() == (
        "[20:00:00 UTC] mastodon boost: @ana@care.example: A1 a good answer #HEXIchat\n"
    )
    # A boost is no post of the hashtag.
    assert [p.id for p in world.platform.tag_page(TAG).items] == [post]
    world.server.delete(post)
    with pytest.raises(PermanentError):
        world.platform.boost(post)


def test_mentions_come_oldest_first_after_the_cursor(world: World) -> None:
    first = world.say("@hexichat stop", seconds=1)
    world.say("no mention", seconds=2)
    second = world.say("@hexichat@example.social hello", seconds=3)

    mentions, cursor = world.platform.mentions(after=None)
    assert [m.status_id for m in mentions] == [first, second]
    assert mentions[0].author.handle == "@ana@care.example"
    assert mentions[0].text.endswith("stop")
    assert world.platform.mentions(after=cursor) == ([], cursor)
    third = world.say("@hexichat again", seconds=4)
    later, _ = world.platform.mentions(after=cursor)
    assert [m.status_id for m in later] == [third]


def test_a_direct_message_reaches_whom_it_mentions_and_no_timeline(world: World) -> None:
    sent = world.platform.send_direct(
        "@ana@care.example Understood.", key="hexichat/optout/mastodon/2", in_reply_to=None
    )
    assert world.server.directs_to([world.ana])[0].id == sent.remote_id
    assert world.platform.tag_page(TAG).items == []
    assert world.platform.fetch(sent.remote_id) is None
    assert "mastodon direct message\n    @ana@care.example Understood." in world.out.getvalue()


def test_the_crowd_plays_its_plan_into_the_server(world: World) -> None:
    people = (
        Persona("ben", "Ben B.", None, 10, "", "regular"),
        Persona("cy", "Cy C.", "town.example", 20, "#nobot", "nobot"),
    )
    plan = CrowdPlan(
        people,
        (
            CrowdPost(timedelta(seconds=60), "c1", "ben", "A1 yes #HEXIchat", answers=1),
            CrowdPost(
                timedelta(seconds=61),
                "c2",
                "cy",
                "A1 no",
                mentions_bot=True,
                reply_to_bot="q1",
                answers=1,
            ),
            CrowdPost(
                timedelta(seconds=62),
                "c3",
                "cy",
                "why? #HEXIchat",
                mentions=("ben",),
                reply_to="c1",
            ),
            Favourite(timedelta(seconds=63), "cy", "c1"),
            Edit(timedelta(seconds=64), "c1", "A1 yes! #HEXIchat"),
            CrowdPost(timedelta(seconds=65), "c4", "ben", "oops #HEXIchat"),
            Delete(timedelta(seconds=66), "c4"),
            CrowdPost(timedelta(seconds=67), "c5", "ben", "to a gone post", reply_to="c4"),
        ),
    )
    occurrence = Occurrence("hexichat", "2026-12-02", ORIGIN, ORIGIN + timedelta(seconds=1))
    question = world.platform.post(
        "Q1 #HEXIchat", key="hexichat/2026-12-02/q1/mastodon", in_reply_to=None
    )
    player = CrowdPlayer(
        plan=plan,
        servers=[world.server],
        bots={"mastodon": world.bot},
        speed=60,
        clock=world.clock,
        stop_event=threading.Event(),
        log=get_logger(),
    )
    world.clock.advance(seconds=2)  # past every action: the player acts at once

    player.run(occurrence, [])

    posts = {
        p.author.handle: p
        for p in world.platform.tag_page(TAG).items
        if isinstance(p, ArchivedPost)
    }
    ben = posts["@ben@example.social"]
    assert ben.text == "A1 yes! #HEXIchat"
    assert ben.favourites == 1
    assert ben.replies == 1
    assert ben.created_at == ORIGIN + timedelta(seconds=1)  # 60 s of chat at 60x
    assert ben.edited_at == ORIGIN + timedelta(seconds=64 / 60)
    assert posts["@cy@town.example"].text == "@ben why? #HEXIchat"
    (answer,) = world.platform.replies(question.remote_id)
    assert isinstance(answer, ArchivedPost)
    assert answer.text == "@hexichat A1 no"
    assert answer.author.bio == "#nobot"
    assert "oops" not in str(world.platform.tag_page(TAG).items)
    assert player.skipped == 1  # the reply to the deleted post


def test_a_boost_taken_back_is_gone_and_a_later_boost_is_new(world: World) -> None:
    post = world.say("A1 a good answer #HEXIchat", seconds=1)
    first = world.platform.boost(post)
    world.platform.unboost(post)
    world.platform.unboost(post)  # twice: nothing more happens
    (state,) = world.platform.fetch_posts([post])
    assert state.boosts == 0
    assert world.out.getvalue().splitlines()[1:] == [
        "[20:00:00 UTC] mastodon unboost: @ana@care.example: A1 a good answer #HEXIchat"
    ]
    assert world.platform.boost(post).remote_id != first.remote_id

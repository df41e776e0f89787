"""The database schema, in one place: every table the store uses.

Alembic migrations under bot/migrations describe how a database reaches this shape.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
)

metadata = MetaData()

ledger_table = Table(
    "ledger",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("occurrence", String(255), nullable=False, index=True),
    Column("platform", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("planned_at", DateTime(timezone=True), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("remote_id", String(64)),
    Column("url", Text),
    Column("published_at", DateTime(timezone=True)),
    Column("error", Text),
)

# Which worker acts for a chat occurrence: a lease it renews; another worker may take it
# over once ``expires_at`` has passed.
leases_table = Table(
    "leases",
    metadata,
    Column("occurrence", String(255), primary_key=True),
    Column("owner", String(255), nullable=False),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# One row per running worker, rewritten every few seconds: `tweetchat health` reads it.
workers_table = Table(
    "workers",
    metadata,
    Column("worker_id", String(255), primary_key=True),
    Column("host", String(255), nullable=False, index=True),
    Column("pid", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("beat_at", DateTime(timezone=True), nullable=False),
)

# -- curation (issue 4) ---------------------------------------------------------------------

# People who told the bot "stop" (or "forget me"): never boosted, mentioned or named again.
optouts_table = Table(
    "optouts",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("author_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # stop | forget
    Column("status_id", String(64), nullable=False),  # the mention that asked
    Column("at", DateTime(timezone=True), nullable=False),
)

# The latest decision about each post of an occurrence, for the wrap-up: its score and why,
# or the rule that rejected it, or the boost made. Authors are ids, never names.
boost_decisions_table = Table(
    "boost_decisions",
    metadata,
    Column("occurrence", String(255), primary_key=True),
    Column("platform", String(32), primary_key=True),
    Column("post_id", String(64), primary_key=True),
    Column("author", String(128), nullable=False),
    Column("question", Integer, nullable=False),  # 0: the intro
    Column("state", String(16), nullable=False),
    Column("rule", String(32)),
    Column("reason", Text),
    Column("score", Float),
    Column("breakdown", Text),  # JSON: points per rule
    Column("always", Boolean, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("boosted_at", DateTime(timezone=True)),
)

# Candidates sent to the hosts in approve mode, one list per question, and their answer.
approval_rounds_table = Table(
    "approval_rounds",
    metadata,
    Column("occurrence", String(255), primary_key=True),
    Column("platform", String(32), primary_key=True),
    Column("question", Integer, primary_key=True),
    Column("post_ids", Text, nullable=False),  # JSON list: number n is post_ids[n-1]
    Column("state", String(16), nullable=False),  # open | answered
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("message_id", String(64)),
    Column("answer", Text),
)

# Where reading the bot's notifications stopped, per platform.
notification_cursors_table = Table(
    "notification_cursors",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("cursor", String(64), nullable=False),
)

# -- the archive (issue 3) ------------------------------------------------------------------

# Every public post of a chat, once per platform id. Text is plain; html is sanitized.
archive_posts_table = Table(
    "archive_posts",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("id", String(64), primary_key=True),  # opaque: never compared as a number
    Column("occurrence", String(255), nullable=False),
    Column("url", Text, nullable=False),
    Column("author_id", String(64), nullable=False),
    Column("author_handle", String(255), nullable=False),
    Column("author_name", String(255), nullable=False),
    Column("author_followers", Integer, nullable=False),
    Column("author_is_bot", Boolean, nullable=False),
    Column("author_bio", Text, nullable=False),
    Column("author_noindex", Boolean, nullable=False, server_default=false()),  # 0006
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("edited_at", DateTime(timezone=True)),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("in_reply_to", String(64)),
    Column("conversation_id", String(64)),
    Column("language", String(16)),
    Column("replies", Integer, nullable=False),
    Column("boosts", Integer, nullable=False),
    Column("favourites", Integer, nullable=False),
    Column("question", Integer),
    Column("rule", String(16)),  # reply | prefix | window
    Column("is_own", Boolean, nullable=False),
    Column("captured_at", DateTime(timezone=True), nullable=False),  # first seen
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_archive_posts_occurrence", "occurrence", "created_at"),
)

# Deleted posts, by id only: a deletion is final, even if an older copy turns up later.
archive_deleted_table = Table(
    "archive_deleted",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("occurrence", String(255), nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=False),
)

# Where reading stopped, per occurrence and stream (the hashtag timeline of a platform).
read_cursors_table = Table(
    "read_cursors",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("value", String(255), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# -- X spending (issue 5) ---------------------------------------------------------------------

# What each request to a paying API cost, per occurrence. A row is written ("held", at the
# worst case) before the request and settled at the real cost after: a crash in between
# over-counts, never under-counts, so the cap holds across restarts.
spending_table = Table(
    "spending",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("occurrence", String(255), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # read | post | repost
    Column("state", String(16), nullable=False),  # held | settled
    Column("reads", Integer, nullable=False),
    Column("users", Integer, nullable=False),
    Column("posts", Integer, nullable=False),
    Column("reposts", Integer, nullable=False),
    Column("micros", Integer, nullable=False),  # micro-dollars
    Column("held_at", DateTime(timezone=True), nullable=False),
    Column("settled_at", DateTime(timezone=True)),
    Index("ix_spending_occurrence", "occurrence", "platform"),
)

# -- the hosts' console (issue 14) ------------------------------------------------------------

# What the hosts asked for from the console, for the worker that owns the occurrence to do.
# The console only inserts; the worker finishes each row once (a conditional update), and a
# command that acts on a platform does so under its ``ledger_key``, exactly once.
host_commands_table = Table(
    "host_commands",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("occurrence", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("platform", String(32)),  # None: every platform of the chat
    Column("post_id", String(64)),
    Column("slot", String(32)),
    Column("text", Text),
    Column("minutes", Float),
    Column("by", String(64), nullable=False),  # the host who asked, as they signed in
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("state", String(16), nullable=False),  # pending | done | refused | failed
    Column("reason", Text),  # why it was refused or failed
    Column("url", Text),  # what it made: the boost, the host's post
    Column("done_at", DateTime(timezone=True)),
    Index("ix_host_commands_occurrence", "occurrence", "state"),
)

# -- Bluesky (issue 13) -----------------------------------------------------------------------

# The account's session (the SDK's export: tokens and the PDS address), per service and
# handle: a restart refreshes it instead of logging in again. Never printed or logged.
bluesky_sessions_table = Table(
    "bluesky_sessions",
    metadata,
    Column("service", String(255), primary_key=True),
    Column("handle", String(255), primary_key=True),
    Column("session", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# What the worker last knew of each platform during an occurrence (bot.core.health): one row
# per occurrence and platform, rewritten on a change, at most every few seconds.
health_table = Table(
    "platform_health",
    metadata,
    Column("occurrence", String(255), primary_key=True),
    Column("platform", String(32), primary_key=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("mode", String(16)),  # stream | polling
    Column("mode_reason", Text),
    Column("mode_since", DateTime(timezone=True)),
    Column("rate_limited_until", DateTime(timezone=True)),
    Column("rate_limit_reason", Text),
    Column("rate_limit_waits", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("last_error", Text),
    Column("last_error_at", DateTime(timezone=True)),
)

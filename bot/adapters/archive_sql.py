"""The archive on SQLAlchemy Core, in the same database (and engine) as the ledger."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from bot.adapters.sql_schema import (
    archive_deleted_table,
    archive_posts_table,
    read_cursors_table,
)
from bot.core.model import ArchivedPost, Author
from bot.ports.following import SaveOutcome

_posts = archive_posts_table
_deleted = archive_deleted_table
_cursors = read_cursors_table


class SqlArchive:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, post: ArchivedPost, *, now: datetime) -> SaveOutcome:
        # Two workers may race to insert the same post during a hand-over: the loser
        # reads the winner's row and compares against it.
        for _ in range(2):
            try:
                with self.engine.begin() as conn:
                    return self._save(conn, post, now)
            except IntegrityError:
                continue
        return "unchanged"

    def _save(self, conn: Connection, post: ArchivedPost, now: datetime) -> SaveOutcome:
        key = (_posts.c.platform == post.platform, _posts.c.id == post.id)
        if _is_deleted(conn, post.platform, post.id):
            return "deleted"
        row = conn.execute(select(_posts).where(*key)).first()
        if row is None:
            earlier = _same_post(conn, post)
            if earlier is not None:
                # The server gave the post a new id (an edit, on some servers): the new copy
                # takes the old one's place, and the old id stays gone.
                _remove(conn, post.platform, str(earlier.id), earlier.occurrence, now)
                post = replace(post, occurrence=earlier.occurrence)
            conn.execute(
                insert(_posts).values(
                    **_values(post),
                    captured_at=earlier.captured_at if earlier is not None else now,
                    updated_at=now,
                )
            )
            return "new" if earlier is None else "edited"
        stored = _post(row._mapping)
        # The first occurrence that captured a post keeps it.
        post = replace(post, occurrence=stored.occurrence)
        if stored.edited_at is not None and (
            post.edited_at is None or post.edited_at < stored.edited_at
        ):
            return "stale"
        if post == stored:
            return "unchanged"
        conn.execute(update(_posts).where(*key).values(**_values(post), updated_at=now))
        edited = (post.text, post.html, post.edited_at) != (
            stored.text,
            stored.html,
            stored.edited_at,
        )
        return "edited" if edited else "updated"

    def delete(self, platform: str, post_id: str, *, occurrence: str, now: datetime) -> bool:
        with self.engine.begin() as conn:
            return _remove(conn, platform, post_id, occurrence, now)

    def get(self, platform: str, post_id: str) -> ArchivedPost | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_posts).where(_posts.c.platform == platform, _posts.c.id == post_id)
            ).first()
        return _post(row._mapping) if row is not None else None

    def posts(self, occurrence: str) -> list[ArchivedPost]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_posts)
                .where(_posts.c.occurrence == occurrence)
                # Ids only break ties, as text: never compared as numbers.
                .order_by(_posts.c.created_at, _posts.c.platform, _posts.c.id)
            ).all()
        return [_post(row._mapping) for row in rows]

    def ids(self, occurrence: str, platform: str) -> set[str]:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(_posts.c.id).where(
                    _posts.c.occurrence == occurrence, _posts.c.platform == platform
                )
            ).scalars()
            return set(found)

    def window_posts(
        self,
        occurrence: str,
        platform: str,
        *,
        question: int,
        start: datetime,
        end: datetime,
        limit: int,
    ) -> list[ArchivedPost]:
        # SQLite compares the stored UTC times as text: the bounds must be UTC too.
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        answering = or_(
            _posts.c.question == question,
            and_(
                _posts.c.question.is_(None),
                _posts.c.created_at >= start,
                _posts.c.created_at < end,
            ),
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_posts)
                .where(_posts.c.occurrence == occurrence, _posts.c.platform == platform, answering)
                .order_by(_posts.c.created_at.desc(), _posts.c.id)
                .limit(limit)
            ).all()
        return [_post(row._mapping) for row in rows]

    def author_posts(
        self, occurrence: str, platform: str, author_ids: Collection[str]
    ) -> list[ArchivedPost]:
        if not author_ids:
            return []
        return self._select(occurrence, platform, _posts.c.author_id.in_(author_ids))

    def own_posts(self, occurrence: str, platform: str) -> list[ArchivedPost]:
        return self._select(occurrence, platform, _posts.c.is_own.is_(True))

    def containing(self, occurrence: str, platform: str, text: str) -> list[ArchivedPost]:
        return self._select(
            occurrence,
            platform,
            and_(_posts.c.is_own.is_(False), _posts.c.text.icontains(text, autoescape=True)),
        )

    def others_texts(self, occurrence: str, platform: str) -> Iterator[str]:
        with self.engine.connect() as conn:
            yield from conn.execute(
                select(_posts.c.text).where(
                    _posts.c.occurrence == occurrence,
                    _posts.c.platform == platform,
                    _posts.c.is_own.is_(False),
                )
            ).scalars()

    def _select(
        self, occurrence: str, platform: str, condition: ColumnElement[bool]
    ) -> list[ArchivedPost]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_posts)
                .where(_posts.c.occurrence == occurrence, _posts.c.platform == platform, condition)
                .order_by(_posts.c.created_at, _posts.c.id)
            ).all()
        return [_post(row._mapping) for row in rows]

    def cursor(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            value = conn.execute(select(_cursors.c.value).where(_cursors.c.name == name)).scalar()
        return str(value) if value is not None else None

    def set_cursor(self, name: str, value: str, *, now: datetime) -> None:
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(_cursors).where(_cursors.c.name == name).values(value=value, updated_at=now)
            ).rowcount
            if not changed:
                conn.execute(insert(_cursors).values(name=name, value=value, updated_at=now))


def _remove(conn: Connection, platform: str, post_id: str, occurrence: str, now: datetime) -> bool:
    removed = conn.execute(
        delete(_posts).where(_posts.c.platform == platform, _posts.c.id == post_id)
    ).rowcount
    if not _is_deleted(conn, platform, post_id):
        conn.execute(
            insert(_deleted).values(
                platform=platform, id=post_id, occurrence=occurrence, deleted_at=now
            )
        )
    return bool(removed)


def _same_post(conn: Connection, post: ArchivedPost) -> Any:
    """The row of this post under another id: same author, same address, same occurrence.
    The author must match: a remote server chooses its posts' addresses, not their authors'
    ids on the bot's server."""
    if not post.url:
        return None
    return conn.execute(
        select(_posts.c.id, _posts.c.occurrence, _posts.c.captured_at).where(
            _posts.c.platform == post.platform,
            _posts.c.occurrence == post.occurrence,
            _posts.c.url == post.url,
            _posts.c.author_id == post.author.id,
            _posts.c.id != post.id,
        )
    ).first()


def _is_deleted(conn: Connection, platform: str, post_id: str) -> bool:
    found = conn.execute(
        select(_deleted.c.id).where(_deleted.c.platform == platform, _deleted.c.id == post_id)
    ).first()
    return found is not None


def _values(post: ArchivedPost) -> dict[str, Any]:
    author = post.author
    return {
        "platform": post.platform,
        "id": post.id,
        "occurrence": post.occurrence,
        "url": post.url,
        "author_id": author.id,
        "author_handle": author.handle,
        "author_name": author.display_name,
        "author_followers": author.followers,
        "author_is_bot": author.is_bot,
        "author_bio": author.bio,
        "author_noindex": author.noindex,
        "created_at": post.created_at,
        "edited_at": post.edited_at,
        "text": post.text,
        "html": post.html,
        "in_reply_to": post.in_reply_to,
        "conversation_id": post.conversation_id,
        "language": post.language,
        "replies": post.replies,
        "boosts": post.boosts,
        "favourites": post.favourites,
        "question": post.question,
        "rule": post.rule,
        "is_own": post.is_own,
    }


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands datetimes back naive; everything stored is UTC.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _post(row: Any) -> ArchivedPost:
    created_at = _aware(row["created_at"])
    assert created_at is not None  # NOT NULL column
    return ArchivedPost(
        platform=row["platform"],
        id=row["id"],
        occurrence=row["occurrence"],
        url=row["url"],
        author=Author(
            platform=row["platform"],
            id=row["author_id"],
            handle=row["author_handle"],
            display_name=row["author_name"],
            followers=row["author_followers"],
            is_bot=bool(row["author_is_bot"]),
            bio=row["author_bio"],
            noindex=bool(row["author_noindex"]),
        ),
        created_at=created_at,
        text=row["text"],
        html=row["html"],
        in_reply_to=row["in_reply_to"],
        conversation_id=row["conversation_id"],
        language=row["language"],
        replies=row["replies"],
        boosts=row["boosts"],
        favourites=row["favourites"],
        question=row["question"],
        rule=row["rule"],
        is_own=bool(row["is_own"]),
        edited_at=_aware(row["edited_at"]),
    )

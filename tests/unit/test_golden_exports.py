"""Golden tests on the stored synthetic archive: the exact wrap-up texts and export files.

The archive (tests/data/chat_archive.json) was made once by tests/support/synthetic_chat.py
and is checked in, so it never changes under the tests. After an intended change of output,
rewrite the golden files with ``UPDATE_GOLDEN=1 .venv/bin/python -m pytest
tests/unit/test_golden_exports.py`` and review their diff before committing.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from bot.core.agenda import Occurrence, occurrence_at
from bot.core.config import ChatConfig
from bot.core.configfile import parse_config
from bot.core.stats import compute_stats
from bot.core.transcript import build_transcript
from bot.core.wrapup import wrapup_thread
from bot.export_data import CSV_COLUMNS
from bot.exports import ExportContext, export_context, render
from tests.support.synthetic_chat import SyntheticChat, load_chat

DATA = Path(__file__).resolve().parent.parent / "data"
GOLDEN = DATA / "golden"


def matches_golden(name: str, actual: str) -> bool:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8", newline="")
    return actual == path.read_bytes().decode("utf-8")


@pytest.fixture(scope="module")
def chat() -> SyntheticChat:
    return load_chat(DATA / "chat_archive.json")


@pytest.fixture(scope="module")
def config() -> ChatConfig:
    path = DATA / "golden_chat.yaml"
    return parse_config(path.read_text(encoding="utf-8"), filename=str(path))


@pytest.fixture(scope="module")
def occurrence(config: ChatConfig) -> Occurrence:
    assert config.chat.start is not None
    return occurrence_at(config, config.chat.start)


@pytest.fixture(scope="module")
def context(chat: SyntheticChat, config: ChatConfig, occurrence: Occurrence) -> ExportContext:
    transcript = build_transcript(
        chat.occurrence, chat.posts, chat.questions, opted_out=chat.opted_out
    )
    stats = compute_stats(transcript, earlier_authors=chat.earlier_authors)
    return export_context(config, occurrence, transcript, stats, boosted=chat.boosted)


@pytest.mark.parametrize("platform", ["mastodon", "x"])
def test_wrapup_texts(
    platform: str, config: ChatConfig, occurrence: Occurrence, context: ExportContext
) -> None:
    thread = wrapup_thread(config, occurrence, context.stats, platforms=[platform])

    listing = "".join(
        f"--- {p.key} (replies to: {', '.join(p.replies_to) or '-'})\n{p.text}\n" for p in thread
    )
    assert matches_golden(f"wrapup-{platform}.txt", listing)


def test_csv(context: ExportContext) -> None:
    text = render(context, "csv")

    assert matches_golden("transcript.csv", text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == len(load_chat(DATA / "chat_archive.json").posts)


def test_json(context: ExportContext) -> None:
    text = render(context, "json")

    assert matches_golden("transcript.json", text)
    document = json.loads(text)
    # A withheld person's posts keep no id: the platform would name them (issue 12 item 13).
    assert [p["id"] for p in document["posts"]] == [
        r.post.id if r.named else "" for r in context.rows
    ]
    assert document["statistics"]["participants"] == context.stats.participants


def test_markdown(context: ExportContext) -> None:
    assert matches_golden("transcript.md", render(context, "md"))


def test_the_opted_out_person_is_named_nowhere(chat: SyntheticChat, context: ExportContext) -> None:
    (key,) = chat.opted_out
    handle = next(
        p.author.handle for p in chat.posts if f"{p.author.platform}:{p.author.id}" == key
    )
    user = handle.lstrip("@").split("@")[0]

    for fmt in ("html", "md", "csv", "json"):
        output = render(context, fmt)
        assert user not in output, fmt
        assert "(name withheld)" in output, fmt

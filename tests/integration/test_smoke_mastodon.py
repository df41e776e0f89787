from bot.core.html_text import html_to_text
from tests.support.mastodon_server import MastodonServer


def test_the_server_fixture_keeps_what_is_posted(mastodon: MastodonServer) -> None:
    bot = mastodon.account("chatbot")
    mastodon.post(bot, "hello #tag")
    assert [html_to_text(s["content"]) for s in mastodon.statuses_of(bot)] == ["hello #tag"]

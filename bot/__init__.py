"""tweetchat: a bot that hosts hashtag chats on Mastodon and X."""

__version__ = "0.1.0"

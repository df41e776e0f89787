"""The `tweetchat` commands by concept, each module registering its own on ``bot.cli.app``:
planning a chat, running it, operating the worker, and after the chat."""

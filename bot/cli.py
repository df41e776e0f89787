"""The `tweetchat` command: parse, call below, print. No logic lives here.

The commands are in ``bot.commands``, one module per concept, each registering its own on
``app``; what they need beyond typer is imported inside them, so that `validate` and
`plan` start fast.
"""

from __future__ import annotations

import sys

import typer

from bot.commands import after_chat, operations, planning, running

app = typer.Typer(
    help="Host hashtag chats on Mastodon and X: post on time, capture, curate, wrap up.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _mask_output() -> None:
    # Before any command: whatever it prints (messages, tables, logs, a traceback) goes
    # through a stream that masks the secrets the process learns (see bot.core.masking).
    from bot.core.masking import MaskingStream

    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, MaskingStream):
            setattr(sys, name, MaskingStream(stream))


# In the order `tweetchat --help` lists them (the `db` group comes last there).
for commands in (planning, running, operations, after_chat):
    commands.register(app)

if __name__ == "__main__":
    app()

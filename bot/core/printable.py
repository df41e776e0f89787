"""Text from strangers made safe to show: no control characters, no direction overrides.

A post, a name or a server's message may carry terminal escape sequences (colours, cursor
moves, OSC 8 hyperlinks, a window title), a bell, or a right-to-left override that reorders
what a reader sees around it. Whatever shows such text (a terminal, a transcript) takes
it through here.
"""

from __future__ import annotations

import unicodedata

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def printable(value: str, *, newlines: bool = False) -> str:
    """``value`` with every control character and direction override removed; a space for
    each control that spaces text (tab, carriage return...), and line breaks kept only when
    ``newlines`` (for a table cell or a message of several lines)."""
    return "".join(_shown(c, newlines) for c in value)


def _shown(c: str, newlines: bool) -> str:
    if c == "\n" and newlines:
        return c
    if unicodedata.category(c) == "Cc":
        return " " if c.isspace() else ""
    return "" if c in BIDI_CONTROLS else c

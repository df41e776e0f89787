"""The settling pass when the window closes: the whole tag timeline and the replies once more,
and every archived post that neither shows looked up, so an edit or a deletion made while the
bot was down is not missed."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from bot.ports.errors import PlatformError
from bot.ports.following import Fetched, Skipped
from bot.runtime.follow_reads import Reading
from bot.runtime.retry import ShutdownRequested, call_with_retry

# Runs an action, retrying what fails for a while; raises what still fails.
Retried = Callable[[Callable[[], Any]], Any]
# The settling pass walks the tag timeline down to the window's start, at most this far.
MAX_SETTLE_PAGES = 500


def says_gone(looked_up: Fetched | None) -> bool:
    """Whether a lookup's answer takes a post out of the archive. Only the server's word
    does: gone (404, 410: None) or no longer public; never an answer of unexpected shape."""
    return looked_up is None or (isinstance(looked_up, Skipped) and looked_up.hidden)


class Settling(Reading):
    """The final pass over one occurrence."""

    def settle_once(self) -> None:
        """The final pass, once per occurrence (a restart after it does not repeat it)."""
        if self.archive.cursor(self.settled_name) is not None:
            return
        log = self.log.bind(activity="settle")

        def retried(action: Callable[[], Any]) -> Any:
            return call_with_retry(action, stop_event=self.stop, log=log, attempts=8)

        try:
            counts = self.settle(retried, log)
        except (ShutdownRequested, PlatformError) as exc:
            reason = exc.reason if isinstance(exc, PlatformError) else "shutdown"
            log.warning("follow.unsettled", reason=reason)
            return
        self.archive.set_cursor(self.settled_name, "done", now=self.clock.now())
        log.info("follow.settled", **counts)

    def settle(self, retried: Retried, log: Any) -> dict[str, int]:
        """The whole timeline and the replies once more, then every archived post neither
        showed, looked up. Returns what to log of it."""
        # What the archive holds that neither the timeline nor the replies show any more.
        # Read before them: whatever is archived from here on was just seen on the server.
        unseen = self.archive.ids(self.occurrence.id, self.platform)
        retried(lambda: self.walk_down(via="settle", limit=MAX_SETTLE_PAGES, unseen=unseen))
        unseen -= retried(self.read_all_replies)
        checked = gone = 0
        for post_id in unseen:
            checked += 1
            now_item = retried(partial(self.source.fetch, post_id))
            if says_gone(now_item):
                gone += 1
                self.delete(post_id, reason="gone from the server")
            elif isinstance(now_item, Skipped):
                log.warning("follow.kept", id=post_id, reason=now_item.reason)
            else:
                self.file(now_item, "settle")
                if now_item.id != post_id:
                    # The lookup answered with another id: the same post, renamed (an
                    # edit on some servers). The new copy replaces the old one.
                    self.delete(post_id, reason=f"the server now calls it {now_item.id}")
        return {"looked_up": checked, "gone": gone}

"""What the runtime needs from the world, as small Protocols. Adapters implement them.

One module per concept; import from the module that defines a name:

- ``clock``: the clock;
- ``errors``: what platforms raise (PlatformError and its kinds);
- ``posting``: a platform to post to, and the ledger (exactly once);
- ``following``: hashtag sources, live streams, and the archive;
- ``curation``: boosting, mentions, direct messages, and curation's store;
- ``spending``: X's paid search, its meter and spending log;
- ``operations``: ownership of occurrences, heartbeats, and `doctor`'s account facts;
- ``console``: the hosts' commands and the platforms' health.
"""

"""The hosts' web console (issue 14): a process of its own over the store."""

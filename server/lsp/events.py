"""What happened to the server's world, for the modules that care: the core says an event
happened, features subscribe to the ones they react to (the core never imports a feature).

Events and their arguments (settings changes reach features as index-changed: what documents
see may have changed):
- ``index-changed``: papers came, went or changed, or what documents see did (no arguments);
- ``index-rebuilt``: the index was found damaged and rebuilt empty (no arguments; the lost
  sources are indexed again by the core);
- ``scope-outdated``: a document's bibliographies were served from before its last edits (uri);
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

INDEX_CHANGED = "index-changed"
INDEX_REBUILT = "index-rebuilt"
SCOPE_OUTDATED = "scope-outdated"
EVENTS = (INDEX_CHANGED, INDEX_REBUILT, SCOPE_OUTDATED)


class Events:
    """Subscribers called in the order they subscribed, on the event loop thread."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[Callable[..., None]]] = defaultdict(list)

    def subscribe(self, event: str, subscriber: Callable[..., None]) -> None:
        if event not in EVENTS:
            raise ValueError(f"no event named {event!r}")
        self._subscribers[event].append(subscriber)

    def emit(self, event: str, *args) -> None:
        for subscriber in self._subscribers[event]:
            subscriber(*args)

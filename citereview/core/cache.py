"""Bounded caches keyed by content, and the one place that empties them all.

Engines build one Markdown extension per page, and ``mkdocs serve`` / ``zensical serve``
rebuild in the same process, so what outlives a page (the parsed bibliography, formatted
references, tokenised page texts, page plans) is cached by content. Every such cache is a
:class:`BoundedCache` registered here, so :func:`clear_all` (called by the build state's
``clear()``) empties every one, and the eviction rule is written once.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_registry: list[BoundedCache] = []


class BoundedCache(dict[K, V], Generic[K, V]):
    """A dict that empties itself when full: bounds memory over a long ``serve`` session.

    Emptying (rather than evicting one entry) is enough: keys are content, so a full cache
    means most entries belong to old versions of the content.
    """

    def __init__(self, name: str, limit: int = 4096) -> None:
        super().__init__()
        self.name = name
        self.limit = limit
        _registry.append(self)

    def remember(self, key: K, value: V) -> V:
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


def clear_all() -> None:
    """Empty every registered cache (a fresh build state; tests that need a cold start)."""
    for cache in _registry:
        cache.clear()

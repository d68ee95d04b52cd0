"""Bounded caches keyed by content, and the one place that empties them all.

Engines build one Markdown extension per page, and ``mkdocs serve`` / ``zensical serve``
rebuild in the same process, so what outlives a page (the parsed bibliography, formatted
references, tokenised page texts, page plans) is cached by content. Every such cache is a
:class:`BoundedCache` registered here, so :func:`clear_all` (called by the build state's
``clear()``) empties every one, and the eviction rule is written once.

Some caches pay off only *between* builds (``rebuild_only``): a page's tokenised text and
its rendered citations are looked up again only when the same page is converted again,
which happens in the ``serve`` loop and never within one build. Kept during a one-off
build they held a copy of every page's text and citation markup until the process ended
(about a quarter of the benchmark build's peak memory), so they keep nothing unless
:func:`keep_between_builds` was switched on: by the MkDocs plugin under ``mkdocs serve``,
or by the extension's ``rebuild_cache`` option (Zensical runs no plugin, so its ``serve``
cannot be recognised).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_registry: list[BoundedCache] = []
#: Whether ``rebuild_only`` caches keep what they are given (see the module docstring).
_between_builds = [False]


class BoundedCache(dict[K, V], Generic[K, V]):
    """A dict that empties itself when full: bounds memory over a long ``serve`` session.

    Emptying (rather than evicting one entry) is enough: keys are content, so a full cache
    means most entries belong to old versions of the content. A ``rebuild_only`` cache
    keeps nothing unless :func:`keep_between_builds` is on.
    """

    def __init__(self, name: str, limit: int = 4096, rebuild_only: bool = False) -> None:
        super().__init__()
        self.name = name
        self.limit = limit
        self.rebuild_only = rebuild_only
        _registry.append(self)

    def remember(self, key: K, value: V) -> V:
        if self.rebuild_only and not _between_builds[0]:
            return value
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


def keep_between_builds(on: bool) -> None:
    """Let ``rebuild_only`` caches keep entries (a ``serve`` session), or empty them."""
    _between_builds[0] = on
    if not on:
        for cache in _registry:
            if cache.rebuild_only:
                cache.clear()


def clear_all() -> None:
    """Empty every registered cache (a fresh build state; tests that need a cold start)."""
    for cache in _registry:
        cache.clear()

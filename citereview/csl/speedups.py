"""Memoised look-ups for citeproc-py: the same references, formatted with less work.

citeproc-py walks the CSL style tree for every reference it formats and, on the way, asks
lxml the same XPath questions again and again: which macro is called ``author``, which
``<layout>`` encloses this element, which locale term is ``et-al``. The answers depend only on
the style and locale files, which do not change while a build runs, yet evaluating them is
about a third of citeproc-py's time (py-spy, 400 references, AMA style). Formatting every
reference is most of what citations add to a cold build, so we remember those answers.

Only queries whose answer cannot change are remembered. citeproc-py changes its trees in two
ways only: it inserts a ``<name>`` into a ``<names>`` that lacks one (before first using it),
and it copies the attributes of a style's ``<date-part>`` onto the one with the same
``name`` it is rendering. Against that, the query sites of citeproc-py 0.11.1 are:

- ``./ancestor…`` and ``./parent::…`` (layout, locale, citation or bibliography, enclosing
  names): no element is ever moved, and adding a child changes no other element's ancestors;
- ``cs:macro[@name=…]`` from the style root: macros are never added or removed;
- ``./cs:term[…]`` and ``./cs:date[…]`` on a locale: terms and dates are never changed;
- ``./cs:date-part[@name=…]`` on a ``<date>``: no ``<date-part>`` is added, and the copied
  attributes carry the same ``name``;
- ``./cs:substitute[1]`` on a ``<names>`` and ``./following-sibling::cs:et-al[1]`` on a
  ``<name>``: a ``<name>`` is only ever inserted where there was none, so it changes neither.

The one other query (``./cs:locale[…]``, run once when a style is loaded) is left alone.
Two more look-ups are remembered: a locale's ``<style-options>`` (``Locale.get_option``), which
nothing changes, and each element's tree root (``get_root``, called about 250 times a
reference), once that root is a style or a locale: the inserted ``<name>`` is created
outside any tree, and its own root is not remembered. The memo keeps the element proxies it
is keyed on alive, so lxml hands out the same proxy for the same node and the key stays valid.

One more change is a shortcut, not a memo. citeproc-py formats every piece of text through
``Formatted.format``, which applies five font properties in turn, each after fetching the
output formatter (two walks to the tree root) and reading its attribute. Almost every element
sets none of them; for those the shortcut reads the five attributes and returns the text
unchanged, exactly what the five steps return. Any element that sets one goes the original
way. That was a seventh of what remained of citeproc-py's time.

And one repair. Formatting names, citeproc-py gives a ``<names>`` without a ``<name>`` child
a fresh, empty one, inserted first, but creates it outside the CSL namespace, so its own
look-up (``cs:name``) never finds it again: every formatted reference added one more element
to the style (400 references, 400 elements, each also a key in the memo above) and made the
next look-ups longer. :func:`prepare_style` inserts that same empty element once, in the
namespace, where citeproc-py would; the names render as before (the element has no
attributes either way, and sits first). A ``<names>`` directly in a ``<substitute>`` is left
alone: citeproc-py lets it borrow the enclosing ``<names>``' ``<name>`` only while it has
none of its own.

This leans on citeproc-py's internals, so it is applied only to the versions it was checked
against (``CHECKED_VERSIONS``); any other version formats exactly as before, only slower.
And it is scoped: :func:`active` puts the replacements in place for the duration of our
formatter's calls only and then restores citeproc-py's own methods, so another user of
citeproc-py in the same process never runs them.
``tests/test_citeproc_memo.py`` formats every reference of the site and of the benchmark with
and without it, in several CSL styles, and requires identical output.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from ..core.cache import BoundedCache

#: citeproc-py versions whose query sites were read and tested against this module.
CHECKED_VERSIONS = frozenset({"0.11.1"})

#: XPath expressions (by prefix) whose result depends only on unchanging parts of the trees.
STABLE_PREFIXES = ("./ancestor", "./parent::", "cs:macro[", "./cs:term[", "./cs:date[",
                   "./cs:date-part[", "./cs:substitute[", "./following-sibling::cs:et-al[")

#: Entries beyond which the memo starts afresh (a style has a few hundred distinct queries).
MAX_ENTRIES = 50_000

_queries: BoundedCache[tuple[Any, str], list[Any]] = BoundedCache("citeproc-queries", MAX_ENTRIES)
_options: BoundedCache[tuple[Any, str], Any] = BoundedCache("citeproc-options", MAX_ENTRIES)
_roots: BoundedCache[Any, Any] = BoundedCache("citeproc-roots", MAX_ENTRIES)
#: citeproc-py's own methods and ours, by (class, name), once built.
_swaps: list[tuple[Any, str, Any, Any]] = []
_depth = 0
_depth_lock = threading.RLock()
_RAISES = object()  # a locale without <style-options>: citeproc-py raises IndexError


def supported() -> bool:
    """Whether the installed citeproc-py is one this module was checked against."""
    try:
        import citeproc
    except ImportError:
        return False
    return getattr(citeproc, "__version__", None) in CHECKED_VERSIONS


def installed() -> bool:
    """Whether citeproc-py runs with the speed-ups right now (only inside :func:`active`)."""
    return _depth > 0


@contextlib.contextmanager
def active(enabled: bool = True) -> Iterator[bool]:
    """Run citeproc-py with the speed-ups for the duration of the block, then put its own
    methods back: nothing outside our formatter's calls ever sees them.

    Yields whether they are in force (only for a checked citeproc-py version). Re-entrant.
    """
    global _depth
    if not enabled or not supported():
        yield False
        return
    with _depth_lock:
        if not _swaps:
            _build()
        if _depth == 0:
            for owner, name, _, ours in _swaps:
                setattr(owner, name, ours)
        _depth += 1
        try:
            yield True
        finally:
            _depth -= 1
            if _depth == 0:
                for owner, name, theirs, _ in _swaps:
                    setattr(owner, name, theirs)


def _build() -> None:
    """Make the replacement methods (once), closing over citeproc-py's own."""
    from citeproc import model

    xpath_search = model.CitationStylesElement.xpath_search
    locale_option = model.Locale.get_option
    get_root = model.CitationStylesElement.get_root
    fmt = model.Formatted.format
    tree_roots = (model.Style, model.Locale)

    def memo_xpath_search(self: Any, expression: str) -> list[Any]:
        if not expression.startswith(STABLE_PREFIXES):
            return xpath_search(self, expression)
        key = (self, expression)
        found = _queries.get(key)
        if found is None:
            found = _queries.remember(key, xpath_search(self, expression))
        return list(found)  # callers get their own list, as from lxml

    def memo_locale_option(self: Any, name: str) -> Any:
        key = (self, name)
        value = _options.get(key, _options)
        if value is _options:
            try:
                value = locale_option(self, name)
            except IndexError:
                value = _RAISES
            _options.remember(key, value)
        if value is _RAISES:
            raise IndexError(name)
        return value

    def memo_get_root(self: Any) -> Any:
        root = _roots.get(self)
        if root is None:
            root = get_root(self)
            if isinstance(root, tree_roots):
                _roots.remember(self, root)
        return root

    def plain_format(self: Any, string: Any) -> Any:
        get = self.get
        if (get("font-style", "normal") == "normal" and get("font-variant", "normal") == "normal"
                and get("font-weight", "normal") == "normal" and get("text-decoration", "none") == "none"
                and get("vertical-align", "baseline") == "baseline"):
            return str(string) if isinstance(string, (int, float)) else string
        return fmt(self, string)

    _swaps.extend([
        (model.CitationStylesElement, "xpath_search", xpath_search, memo_xpath_search),
        (model.Locale, "get_option", locale_option, memo_locale_option),
        (model.CitationStylesElement, "get_root", get_root, memo_get_root),
        (model.Formatted, "format", fmt, plain_format),
    ])


CSL_NS = "{http://purl.org/net/xbiblio/csl}"


def prepare_style(style: Any) -> int:
    """Give each ``<names>`` that lacks a ``<name>`` the empty one citeproc-py would insert on
    first use, in the CSL namespace so that it is found again. Returns how many were added;
    does nothing unless citeproc-py is a checked version. Changes only ``style``, our own."""
    if not supported():
        return 0
    added = 0
    for names in list(style.root.iter(CSL_NS + "names")):
        parent = names.getparent()
        if names.find(CSL_NS + "name") is not None or (parent is not None
                                                       and parent.tag == CSL_NS + "substitute"):
            continue
        names.insert(0, names.makeelement(CSL_NS + "name"))
        added += 1
    return added


def clear_memo() -> None:
    """Forget every remembered answer (tests that count queries start from nothing)."""
    _queries.clear()
    _options.clear()
    _roots.clear()

"""Memoised look-ups for citeproc-py: the same references, formatted with less work.

citeproc-py walks the CSL style tree for every reference it formats and, on the way, asks
lxml the same XPath questions again and again: which macro is called ``author``, which
``<layout>`` encloses this element, which locale term is ``et-al``. The answers depend only on
the style and locale files, which do not change while a build runs, yet evaluating them is
about a third of citeproc-py's time (py-spy, 400 references, AMA style). Formatting every
reference is most of what citations add to a cold build, so we remember those answers.

Where the replacements live. citeproc-py gives each element of a parsed style the Python
class named after its tag (``<text>`` is ``citeproc.model.Text``). Our formatter loads its
style with :func:`style_class`: the style and its locales are parsed with classes derived from
citeproc-py's own, one per tag, with citeproc-py's class name, each overriding exactly the
methods listed below that it would otherwise inherit, and nothing else. citeproc-py's classes
are never changed, so any other style in the process (another user of citeproc-py, or our
formatter with the speed-ups off) runs citeproc-py's code alone. (An earlier version put
replacements onto citeproc-py's classes for the duration of each formatted reference and
took them off again; every assignment to a class attribute empties CPython's attribute caches
for the class and its subclasses, and that alone cost a tenth of the formatting time.)

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
Three more look-ups are remembered: a locale's ``<style-options>`` (``Locale.get_option``) and
its terms by name and form (``Locale.get_term``), which nothing changes (a look-up that fails
fails again, with the same ``IndexError``), and each element's tree root (``get_root``,
called about 250 times a reference), once that root is a style or a locale: the inserted
``<name>`` is created outside any tree, and its own root is not remembered. The memo keeps
the element proxies it is keyed on alive, so lxml hands out the same proxy for the same node
and the key stays valid.

Elements that have no class of their own in citeproc-py (``<terms>``, ``<info>``,
``<style-options>``…) keep its base class ``CitationStylesElement``: a class derived from it
would be one of its direct subclasses, and citeproc-py's own loader maps every one of those
to a tag. That is why terms are remembered per locale rather than by their XPath query,
which runs on ``<terms>``.

One more change is a shortcut, not a memo. citeproc-py formats every piece of text through
``Formatted.format``, which applies five font properties in turn, each after fetching the
output formatter (two walks to the tree root) and reading its attribute. Almost every element
sets none of them; for those the shortcut reads the five attributes and returns the text
unchanged, exactly what the five steps return. Any element that sets one goes the original
way. That was a seventh of what remained of citeproc-py's time.

A style's locales are chosen by citeproc-py's own ``Style.set_locale_list``; it loads the
locale files it picks with citeproc-py's classes, so our ``<style>`` class then parses each
of those files again with ours (well under a millisecond each, once per style).

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
against (``CHECKED_VERSIONS``); with any other version :func:`style_class` is citeproc-py's
own, and references format exactly as before, only slower. :func:`active` is kept for what
is not a method of a style's elements: the functions it replaces are put in place for the
duration of our formatter's calls only, then citeproc-py's own are restored, so another user
of citeproc-py in the same process never runs them.
``tests/test_citeproc_memo.py`` formats every reference of the site and of the benchmark with
and without the speed-ups, in several CSL styles, and requires identical output.
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

CSL_URI = "http://purl.org/net/xbiblio/csl"
CSL_NS = "{" + CSL_URI + "}"

_queries: BoundedCache[tuple[Any, str], list[Any]] = BoundedCache("citeproc-queries", MAX_ENTRIES)
_options: BoundedCache[tuple[Any, str], Any] = BoundedCache("citeproc-options", MAX_ENTRIES)
_roots: BoundedCache[Any, Any] = BoundedCache("citeproc-roots", MAX_ENTRIES)
_locale_terms: BoundedCache[tuple[Any, ...], Any] = BoundedCache("citeproc-locale-terms", MAX_ENTRIES)
#: Once built: our style class ("style") and element classes by CSL tag ("elements").
_built: dict[str, Any] = {}
_build_lock = threading.Lock()
#: citeproc-py's own module-level functions and ours, as (module, name, theirs, ours), once built.
_swaps: list[tuple[Any, str, Any, Any]] = []
_depth = 0
_depth_lock = threading.RLock()


class _Raises:
    """A remembered ``IndexError`` (a locale without ``<style-options>``, or without the term):
    raised again with the same arguments, so its message is citeproc-py's."""

    __slots__ = ("args",)

    def __init__(self, args: tuple[Any, ...]) -> None:
        self.args = args


def supported() -> bool:
    """Whether the installed citeproc-py is one this module was checked against."""
    try:
        import citeproc
    except ImportError:
        return False
    return getattr(citeproc, "__version__", None) in CHECKED_VERSIONS


def style_class() -> Any:
    """The class to load a style with (as ``CitationStylesStyle(path, validate=False)``): for a
    checked citeproc-py, one whose style and locale elements are our classes; else citeproc-py's."""
    from citeproc import CitationStylesStyle

    if not supported():
        return CitationStylesStyle
    _ensure_built()
    return _built["style"]


def _ensure_built() -> None:
    with _build_lock:
        if not _built:
            _build()


def installed() -> bool:
    """Whether citeproc-py runs with the speed-ups right now (only inside :func:`active`)."""
    return _depth > 0


@contextlib.contextmanager
def active(enabled: bool = True) -> Iterator[bool]:
    """Run citeproc-py with our module-level functions for the duration of the block, then
    put its own back: nothing outside our formatter's calls ever sees them.

    Yields whether they are in force (only for a checked citeproc-py version). Re-entrant.
    """
    global _depth
    if not enabled or not supported():
        yield False
        return
    _ensure_built()
    with _depth_lock:
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
    """Make our element classes and style class (once), closing over citeproc-py's methods."""
    from citeproc import SCHEMA_PATH, model
    from citeproc.frontend import CitationStylesStyle, CitationStylesXML
    from lxml import etree

    xpath_search = model.CitationStylesElement.xpath_search
    locale_option = model.Locale.get_option
    locale_term = model.Locale.get_term
    get_root = model.CitationStylesElement.get_root
    fmt = model.Formatted.format
    set_locale_list = model.Style.set_locale_list
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
            except IndexError as exc:
                value = _Raises(exc.args)
            _options.remember(key, value)
        if type(value) is _Raises:
            raise IndexError(*value.args)
        return value

    def memo_locale_term(self: Any, name: str, form: Any = None, zero_padded: bool = False) -> Any:
        key = (self, name, form, zero_padded)
        term = _locale_terms.get(key)
        if term is None:
            try:
                term = locale_term(self, name, form, zero_padded)
            except IndexError as exc:
                term = _Raises(exc.args)
            _locale_terms.remember(key, term)
        if type(term) is _Raises:
            raise IndexError(*term.args)
        return term

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

    def our_locale_list(self: Any, output_locale: str, validate: bool = True) -> None:
        set_locale_list(self, output_locale, validate)  # citeproc-py's choice of locales
        for i, locale in enumerate(self.locales):
            url = locale.getroottree().docinfo.URL
            if type(locale) is model.Locale and locale.getparent() is None and url:
                ours = _Tree(url, validate=False).root  # the same file, with our classes
                ours.style = self
                self.locales[i] = ours

    #: (method name, citeproc-py's function, ours): a class gets ours where it would inherit theirs.
    replaced = [
        ("xpath_search", xpath_search, memo_xpath_search),
        ("get_option", locale_option, memo_locale_option),
        ("get_term", locale_term, memo_locale_term),
        ("get_root", get_root, memo_get_root),
        ("format", fmt, plain_format),
        ("set_locale_list", set_locale_list, our_locale_list),
    ]
    classes = {}
    for cls in model.CitationStylesElement.__subclasses__():
        body = {name: ours for name, theirs, ours in replaced if getattr(cls, name, None) is theirs}
        classes[cls.__name__.replace("_", "-").lower()] = type(cls.__name__, (cls,), body) if body else cls
    lookup = etree.ElementNamespaceClassLookup()
    namespace = lookup.get_namespace(CSL_URI)
    namespace[None] = model.CitationStylesElement
    namespace.update(classes)

    class _Tree(CitationStylesXML):
        """A style or locale file parsed as citeproc-py's ``CitationStylesXML`` does, with our classes."""

        def __init__(self, f: Any, validate: bool = True) -> None:
            self.parser = etree.XMLParser(remove_comments=True, encoding="UTF-8", no_network=True)
            self.parser.set_element_class_lookup(lookup)
            self.xml = etree.parse(f, self.parser)
            if validate:
                from warnings import warn

                self.schema = etree.RelaxNG(etree.parse(SCHEMA_PATH))
                if not self.schema.validate(self.xml):
                    warn(f"XML file didn't pass schema validation:\n{self.schema.error_log}", stacklevel=2)
            self.root = self.xml.getroot()

    class Style(CitationStylesStyle, _Tree):
        """citeproc-py's ``CitationStylesStyle`` (finding the file, choosing the locales), parsed
        by ``_Tree``: ``CitationStylesStyle.__init__`` calls the next ``__init__`` in this order."""

    _built["elements"] = classes
    _built["style"] = Style


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
    _locale_terms.clear()


def _reset() -> None:
    """Forget our classes and memos (a test that wraps citeproc-py's own methods rebuilds them)."""
    with _build_lock:
        _built.clear()
        _swaps.clear()
        clear_memo()

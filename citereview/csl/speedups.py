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

Rendering itself re-reads the style at every element for every reference: it splits an
``<if>``'s ``type`` attribute, asks each child of a ``<group>`` whether it calls a variable,
reads a ``<text>``'s ten attributes. What it reads depends on attributes and children, which
citeproc-py never changes for any element but a ``<date-part>`` (its attributes) and a
``<names>`` (the inserted ``<name>``); none of the following touches either, so each is read
once per element and kept. What depends on the reference is computed afresh every time.

- child look-ups (``SomewhatObjectifiedElement.__getattr__``: ``names.name``, ``style.
  bibliography``…): the first child with that tag; the ``<name>`` citeproc-py inserts has a
  tag outside the CSL namespace, so it is never one of them;
- ``<if>``/``<else-if>`` (``If.render``) and ``<choose>`` (``Choose.render``): an ``<if>``'s
  tests are split and normalised once; the choice evaluates them on every reference, the
  same tests in the same order, and renders the first branch that holds, as citeproc-py
  does, without raising and catching ``ConditionFailed`` for every branch that does not;
  ``<choose>``'s children are kept;
- ``<group>`` (``Group.process``): its children, and whether each calls a variable (which
  follows from their attributes, children and macros; if a child cannot tell, citeproc-py's
  own code runs, and raises, every time). The children are rendered and the outcome decided
  as in citeproc-py;
- ``<text>`` (``Text.process`` and ``Text.markup``): which attribute it renders, its style's
  default language, whether it strips periods, changes case, sets a font property or quotes,
  and its affixes. The reference's language is looked up without raising when it has none;
  ``Quoted.quote`` reads (and ignores) the locale option ``punctuation-in-quote`` on every
  call, which fails the same way every time if it fails, so that is tried once and
  citeproc-py's own markup runs every time if it failed;
- ``<name>`` options (``Name.get_option``, 15 a name list): the ``<name>``'s attribute, or the
  enclosing ``<citation>``'s or ``<bibliography>``'s, or the style's, or the default; not
  remembered when sorting passes options of its own;
- a term's text (``get_single_term``, ``get_plural_term``), by the root of the element asking
  (a style or a locale; the term is looked up from there), the term's name, form and
  options, and the output formatter that escapes it (the style's, for a term in the style
  and in its locale files alike); a new ``String`` every time, as from citeproc-py.

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

Two changes are not methods of a style's elements. References are read by
:func:`source_class`, a subclass of citeproc-py's ``CiteProcJSON`` whose ``parse_string``
returns what citeproc-py's makes of a text without a ``<span class="nocase">`` (a
``MixedString`` holding one ``String``, or an empty one) without searching it in a loop that
ends on a ``ValueError`` for every field. And :func:`active` replaces ``normalize_seam`` in
``citeproc.string`` and ``citeproc.model`` (module functions, cheap to swap, unlike class
attributes) for the duration of our formatter's calls only, then restores citeproc-py's own,
so another user of citeproc-py in the same process never runs it. citeproc-py calls it some
80 times a reference to join two pieces of text, and each time turns both whole pieces into
strings to look at the last character of one and the first of the other; ours finds those two
characters from the pieces' ends, as they are in the joined string, and decides as before.

This leans on citeproc-py's internals, so it is applied only to the versions it was checked
against (``CHECKED_VERSIONS``); with any other version :func:`style_class` and
:func:`source_class` are citeproc-py's own, :func:`active` changes nothing, and references
format exactly as before, only slower. Every memo here is a ``BoundedCache`` keyed on style
and locale elements (never on a reference), and :func:`clear_memo` empties them all.
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
#: The five font properties ``Formatted.format`` applies, and the values that leave text as it is.
FONT_DEFAULTS = (("font-style", "normal"), ("font-variant", "normal"), ("font-weight", "normal"),
                 ("text-decoration", "none"), ("vertical-align", "baseline"))
CSL_NS = "{" + CSL_URI + "}"

_queries: BoundedCache[tuple[Any, str], list[Any]] = BoundedCache("citeproc-queries", MAX_ENTRIES)
_options: BoundedCache[tuple[Any, str], Any] = BoundedCache("citeproc-options", MAX_ENTRIES)
_roots: BoundedCache[Any, Any] = BoundedCache("citeproc-roots", MAX_ENTRIES)
_locale_terms: BoundedCache[tuple[Any, ...], Any] = BoundedCache("citeproc-locale-terms", MAX_ENTRIES)
_children: BoundedCache[tuple[Any, str], Any] = BoundedCache("citeproc-children", MAX_ENTRIES)
_kids: BoundedCache[Any, tuple[Any, ...]] = BoundedCache("citeproc-kids", MAX_ENTRIES)
_conditions: BoundedCache[Any, tuple[Any, ...]] = BoundedCache("citeproc-conditions", MAX_ENTRIES)
_name_options: BoundedCache[tuple[Any, str, Any], Any] = BoundedCache("citeproc-name-options", MAX_ENTRIES)
_term_texts: BoundedCache[tuple[Any, str, Any], Any] = BoundedCache("citeproc-term-texts", MAX_ENTRIES)
_groups: BoundedCache[Any, Any] = BoundedCache("citeproc-groups", MAX_ENTRIES)
_markups: BoundedCache[Any, Any] = BoundedCache("citeproc-text-markups", MAX_ENTRIES)
_text_plans: BoundedCache[Any, Any] = BoundedCache("citeproc-text-plans", MAX_ENTRIES)
_MEMOS = (_queries, _options, _roots, _locale_terms, _children, _kids, _conditions, _name_options,
          _term_texts, _groups, _markups, _text_plans)
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


def _recall(memo: BoundedCache[Any, Any], key: Any, compute: Any) -> Any:
    """``compute()``, remembered in ``memo`` under ``key``; an ``IndexError`` it raised is
    remembered too, and raised again on every look-up."""
    value = memo.get(key, memo)
    if value is memo:
        try:
            value = compute()
        except IndexError as exc:
            value = _Raises(exc.args)
        memo.remember(key, value)
    if type(value) is _Raises:
        raise IndexError(*value.args)
    return value


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
    if not _built:  # filled last, once everything is made
        with _build_lock:
            if not _built:
                _build()


def source_class() -> Any:
    """The class to read CSL-JSON references with: for a checked citeproc-py, citeproc-py's
    ``CiteProcJSON`` with a shortcut for text without a ``nocase`` span; else citeproc-py's own."""
    from citeproc.source.json import CiteProcJSON

    if not supported():
        return CiteProcJSON
    _ensure_built()
    return _built["source"]


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
    branches: list[type] = []  # our <if> and <else-if> classes, once made

    def memo_xpath_search(self: Any, expression: str) -> list[Any]:
        if not expression.startswith(STABLE_PREFIXES):
            return xpath_search(self, expression)
        key = (self, expression)
        found = _queries.get(key)
        if found is None:
            found = _queries.remember(key, xpath_search(self, expression))
        return list(found)  # callers get their own list, as from lxml

    def memo_locale_option(self: Any, name: str) -> Any:
        return _recall(_options, (self, name), lambda: locale_option(self, name))

    def memo_locale_term(self: Any, name: str, form: Any = None, zero_padded: bool = False) -> Any:
        return _recall(_locale_terms, (self, name, form, zero_padded),
                       lambda: locale_term(self, name, form, zero_padded))

    def memo_get_root(self: Any) -> Any:
        root = _roots.get(self)
        if root is None:
            root = get_root(self)
            if isinstance(root, tree_roots):
                _roots.remember(self, root)
        return root

    def plain_format(self: Any, string: Any) -> Any:
        get = self.get
        if all(get(name, default) == default for name, default in FONT_DEFAULTS):
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
        *_style_answers(model, branches),
    ]
    classes = {}
    for cls in model.CitationStylesElement.__subclasses__():
        body = {name: ours for name, theirs, ours in replaced if getattr(cls, name, None) is theirs}
        classes[cls.__name__.replace("_", "-").lower()] = type(cls.__name__, (cls,), body) if body else cls
    branches.extend([classes["if"], classes["else-if"]])
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

    _swaps.extend(_string_functions())
    _built.update(elements=classes, style=Style, source=_source_class())


def _style_answers(model: Any, branches: list[type]) -> list[tuple[str, Any, Any]]:
    """Replacements whose answers depend on the style alone, as (name, theirs, ours)."""
    from citeproc import string as cs_string
    from citeproc.source import Reference, VariableError

    child = model.SomewhatObjectifiedElement.__getattr__
    tree_roots = (model.Style, model.Locale)

    def memo_child(self: Any, name: str) -> Any:
        key = (self, name)
        found = _children.get(key, _children)
        if found is _children:
            found = _children.remember(key, child(self, name))
        return found

    names_class, choose_class = model.Names, model.Choose
    condition_failed = model.ConditionFailed
    string_class = cs_string.String
    choose_render = model.Choose.render
    if_render = model.If.render
    text_process = model.Text.process
    name_option = model.Name.get_option

    def kids(element: Any) -> tuple[Any, ...]:
        found = _kids.get(element)
        if found is None:
            found = tuple(element.iterchildren())
            if not isinstance(element, names_class):  # the only element that gains a child
                _kids.remember(element, found)
        return found

    def condition_of(element: Any) -> tuple[Any, ...]:
        """An <if>'s tests, split and normalised as citeproc-py does on every evaluation."""
        get = element.get

        def words(test: str, normal: Any) -> tuple[str, ...]:
            return tuple(normal(word) for word in (get(test) or "").split())

        return (words("type", str.lower), words("variable", lambda var: var.replace("-", "_")),
                words("is-numeric", lambda var: var.replace("-", "_")),
                tuple(test for test in ("is-uncertain-date", "locator", "position") if get(test) is not None),
                get("match"))

    def holds(self: Any, item: Any, context: Any) -> bool:
        condition = _conditions.get(self)
        if condition is None:
            condition = _conditions.remember(self, condition_of(self))
        types, variables, numeric, others, match = condition
        results: list[Any] = []
        if types:
            kind = item.reference.type
            results += [typ == kind for typ in types]
        for var in variables:
            results.append(("locator" in item) if var == "locator" else (var in item.reference))
        if numeric:
            numeric_match = self.re_numeric.match
            results += [var in item.reference and numeric_match(str(item.reference[var])) for var in numeric]
        for test in others:
            if test == "is-uncertain-date":
                results += self._is_uncertain_date(item)
            elif test == "locator":
                results += self._locator(item)
            else:
                results += self._position(item, context)
        if match == "any":
            return any(results)
        if match == "none":
            return not any(results)
        return all(results)

    def fast_if_render(self: Any, item: Any, context: Any = None, delimiter: str = "", **kwargs: Any) -> Any:
        if not holds(self, item, context):
            raise condition_failed
        return self.render_children(item, context=context, delimiter=delimiter, **kwargs)

    def fast_choose_render(self: Any, item: Any, context: Any = None, delimiter: str = "",
                           **kwargs: Any) -> Any:
        for child in kids(self):
            try:
                if type(child) in branches:
                    if not holds(child, item, context):
                        continue
                    return child.render_children(item, context=context, delimiter=delimiter, **kwargs)
                return child.render(item, context=context, delimiter=delimiter, **kwargs)
            except condition_failed:
                continue
        return None

    def text_plan(self: Any) -> tuple[Any, Any, str]:
        """Which of its attributes a <text> renders, and its style's default language."""
        get = self.get
        kind = next((name for name in ("variable", "macro", "term", "value") if get(name) is not None), None)
        return kind, kind and get(kind), self.get_root().get("default-locale", "en")[:2]

    def fast_text_process(self: Any, item: Any, context: Any = None, **kwargs: Any) -> Any:
        if context is None:
            context = self
        plan = _text_plans.get(self)
        if plan is None:
            plan = _text_plans.remember(self, text_plan(self))
        kind, value, default_language = plan
        reference = item.reference
        if type(reference) is Reference and "language" not in reference:
            language = default_language
        else:
            try:
                language = reference.language[:2]
            except VariableError:
                language = default_language
        if kind == "variable":
            text = self._variable(item, context)
        elif kind == "macro":
            text = self.get_macro(value).render(item, context)
        elif kind == "term":
            text = self._term(item)
        elif kind == "value":
            text = string_class(self.preformat(value))
        return text, language  # unbound without any of those attributes, as in citeproc-py

    def memo_name_option(self: Any, name: str, context: Any = None, sort_options: Any = None) -> Any:
        if sort_options is not None:
            return name_option(self, name, context, sort_options)
        key = (self, name, context)
        value = _name_options.get(key, _name_options)
        if value is _name_options:
            value = _name_options.remember(key, name_option(self, name, context))
        return value

    single_term = model.CitationStylesElement.get_single_term
    plural_term = model.CitationStylesElement.get_plural_term

    def term_text(self: Any, theirs: Any, name: str, form: Any, fallback_locale: bool, zero_padded: bool) -> Any:
        root = self.get_root()
        if not isinstance(root, tree_roots):
            return theirs(self, name, form, fallback_locale, zero_padded)
        key = (root, theirs, name, form, fallback_locale, zero_padded, self.get_formatter())
        text = _term_texts.get(key)
        if text is None:
            text = _term_texts.remember(key, theirs(self, name, form, fallback_locale, zero_padded))
        return string_class(text)  # a new String, as citeproc-py returns

    def memo_single_term(self: Any, name: str, form: Any = None, fallback_locale: bool = True,
                         zero_padded: bool = False) -> Any:
        return term_text(self, single_term, name, form, fallback_locale, zero_padded)

    def memo_plural_term(self: Any, name: str, form: Any = None, fallback_locale: bool = True,
                         zero_padded: bool = False) -> Any:
        return term_text(self, plural_term, name, form, fallback_locale, zero_padded)

    group_process = model.Group.process

    def group_plan(self: Any) -> Any:
        """Each child with whether it is a <choose> and calls a variable; False if a child
        cannot say (citeproc-py's own code then raises, each time)."""
        try:
            return tuple((child, isinstance(child, choose_class), child.calls_variable()) for child in kids(self))
        except Exception:
            return False

    def fast_group_process(self: Any, item: Any, context: Any = None, **kwargs: Any) -> Any:
        plan = _groups.get(self)
        if plan is None:
            plan = _groups.remember(self, group_plan(self))
        if plan is False:
            return group_process(self, item, context=context, **kwargs)
        output = []
        variable_called = False
        variable_rendered = False
        delimiter = self.get("delimiter", "")
        for child, is_choose, calls in plan:
            variable_called = variable_called or calls
            try:
                if is_choose:
                    child_text = child.render(item, context=context, delimiter=delimiter, **kwargs)
                else:
                    child_text = child.render(item, context=context, **kwargs)
                if child_text is not None:
                    output.append(child_text)
                    variable_rendered = variable_rendered or calls
            except VariableError:
                pass
        if output and (not variable_called or variable_rendered):
            return self.join(output)
        raise VariableError

    text_markup = model.Text.markup
    formatted_format = model.Formatted.format

    def markup_plan(self: Any) -> Any:
        """What a <text>'s attributes ask of its markup, or False if citeproc-py's own code raises."""
        get = self.get
        try:
            self.get_locale_option("punctuation-in-quote").lower()  # read (and unused) by Quoted.quote
        except Exception:
            return False
        return (get("strip-periods", "false").lower() == "true", get("text-case") is not None,
                all(get(name, default) == default for name, default in FONT_DEFAULTS),
                get("quotes", "false").lower() == "true", get("prefix", ""), get("suffix", ""))

    def fast_text_markup(self: Any, text: Any, language: Any) -> Any:
        if not text:
            return None
        plan = _markups.get(self)
        if plan is None:
            plan = _markups.remember(self, markup_plan(self))
        if plan is False:
            return text_markup(self, text, language)
        strip_periods, cased, plain, quoted, prefix, suffix = plan
        if strip_periods:
            text = text.replace(".", "")
        if cased:
            text = self.case(text, language)
        if not plain:
            text = formatted_format(self, text)
        elif isinstance(text, (int, float)):
            text = str(text)
        if quoted:
            open_quote = self.get_single_term(name="open-quote")
            close_quote = self.get_single_term(name="close-quote")
            text = open_quote + text + close_quote
        if text is None:
            return None
        seam = model.normalize_seam  # citeproc-py's, or ours inside active()
        text = prefix + seam(prefix, text)
        return text + seam(text, suffix)

    return [
        ("markup", text_markup, fast_text_markup),
        ("process", group_process, fast_group_process),
        ("get_single_term", single_term, memo_single_term),
        ("get_plural_term", plural_term, memo_plural_term),
        ("__getattr__", child, memo_child),
        ("render", if_render, fast_if_render),
        ("render", choose_render, fast_choose_render),
        ("process", text_process, fast_text_process),
        ("get_option", name_option, memo_name_option),
    ]


def _source_class() -> type:
    from citeproc.source.json import CiteProcJSON
    from citeproc.string import MixedString, String

    class Source(CiteProcJSON):
        """citeproc-py's ``CiteProcJSON``; text without a ``nocase`` span becomes what
        ``parse_string`` makes of it (one ``String`` in a ``MixedString``, or an empty one)
        without its search loop, which ends on a ``ValueError`` for every field."""

        def parse_string(self, string: Any) -> Any:
            string = str(string)
            if self.start_tag in string.lower():
                return super().parse_string(string)
            return MixedString([String(string)]) if string else MixedString()

    return Source


def _string_functions() -> list[tuple[Any, str, Any, Any]]:
    """citeproc-py's module-level functions and ours, as (module, name, theirs, ours)."""
    from citeproc import model
    from citeproc import string as cs_string

    mixed_string = cs_string.MixedString
    seam_punctuation = cs_string.SEAM_PUNCTUATION
    strip_first_char = cs_string._strip_first_char
    normalize_seam = cs_string.normalize_seam

    plain_strings = frozenset({str, cs_string.String, cs_string.NoCase})  # str() is the text itself

    def last_char(text: Any) -> str:
        kind = type(text)
        if kind in plain_strings:
            return text[-1:]
        if kind is mixed_string:
            for piece in reversed(text):
                found = last_char(piece)
                if found:
                    return found
            return ""
        return str(text)[-1:]

    def first_char(text: Any) -> str:
        kind = type(text)
        if kind in plain_strings:
            return text[:1]
        if kind is mixed_string:
            for piece in text:
                found = first_char(piece)
                if found:
                    return found
            return ""
        return str(text)[:1]

    def edge_normalize_seam(left: Any, other: Any) -> Any:
        last = last_char(left)
        first = first_char(other)
        if not last or not first:
            return other
        if (last == " " and first == " ") or (last == first and first in seam_punctuation):
            return strip_first_char(other)
        return other

    return [
        (cs_string, "normalize_seam", normalize_seam, edge_normalize_seam),
        (model, "normalize_seam", normalize_seam, edge_normalize_seam),
    ]


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
    for memo in _MEMOS:
        memo.clear()


def _reset() -> None:
    """Forget our classes and memos (a test that wraps citeproc-py's own methods rebuilds them).
    Not inside :func:`active`, which must put back what it swapped."""
    if _depth:
        raise RuntimeError("speedups._reset() inside speedups.active()")
    with _build_lock:
        _built.clear()
        _swaps.clear()
        clear_memo()

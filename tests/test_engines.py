"""The same sources build with MkDocs, Zensical and ProperDocs, with the same citations.

MkDocs 1.x is in maintenance, so the site must not depend on it alone: Zensical and ProperDocs
must publish every page, and Zensical (which ignores MkDocs hooks) must render citations and
reference lists exactly as MkDocs does, since all citation logic lives in the Markdown
extension. Each engine builds a fresh copy of the project: Zensical (0.0.73) writes into
``site_dir`` and creates a ``.cache`` folder in its working directory, neither of which may
land in the working tree.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import build_site, site_pages
from tests.sitetools import Element, content_pages, copy_project, parse_html

pytestmark = pytest.mark.engines

# Search-indexer directives: Material's search plugin leaves ``data-search-exclude`` in the
# HTML, Zensical's indexer consumes it and removes it. Not part of the citation markup.
INDEXER_ATTRS = {"data-search-exclude"}

Shape = tuple[str, tuple[tuple[str, str], ...], tuple["Shape | str", ...]]


@pytest.fixture(scope="module")
def properdocs_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("properdocs") / "project")
    out = project.parent / "out"
    proc = build_site(out, engine="properdocs", cwd=project)
    assert proc.returncode == 0, proc.stdout
    assert "WARNING" not in proc.stdout, proc.stdout
    return out


def shape(node: Element | str) -> Shape | str:
    """A comparable form of a subtree: tags, attributes, whitespace-normalised text."""
    if isinstance(node, str):
        return re.sub(r"\s+", " ", node)
    attrs = tuple(sorted(
        (k, " ".join(sorted(v.split())) if k == "class" else v)
        for k, v in node.attrs.items() if k not in INDEXER_ATTRS))
    children: list[Shape | str] = []
    for child in node.children:
        item = shape(child)
        if isinstance(item, str) and children and isinstance(children[-1], str):
            children[-1] = re.sub(r"\s+", " ", children[-1] + item)
        else:
            children.append(item)
    stripped = tuple(c.strip() if isinstance(c, str) else c for c in children)
    return node.tag, attrs, tuple(c for c in stripped if c != "")


def citation_markup(path: Path) -> tuple[list[Shape | str], list[Shape | str]]:
    """The page's in-text citations (``sup.ke-cite``, with the author names of in-text ones,
    ``span.ke-intext-author``, and dated-fact labels, ``span.ke-fact``) and its reference list(s)
    (``ol.ke-references``) and notice (``div.ke-flags``)."""
    doc = parse_html(path.read_text(encoding="utf-8"))
    return ([shape(e) for tag, cls in (("sup", "ke-cite"), ("span", "ke-intext-author"), ("span", "ke-fact"))
             for e in doc.find_all(tag, cls=cls)],
            [shape(e) for tag, cls in (("ol", "ke-references"), ("div", "ke-flags"))
             for e in doc.find_all(tag, cls=cls)])


@pytest.mark.parametrize("engine", ["zensical", "properdocs"])
def test_every_page_exists_in_other_engines(engine: str, built_site: Path,
                                            request: pytest.FixtureRequest) -> None:
    other: Path = request.getfixturevalue(f"{engine}_site")
    expected = {p.as_posix() for p in site_pages(built_site)}
    assert expected, "MkDocs built no pages"
    missing = expected - {p.as_posix() for p in site_pages(other)}
    assert not missing, f"{engine} lacks {sorted(missing)}"


def test_citations_identical_under_zensical(built_site: Path, zensical_site: Path) -> None:
    """Same ``sup.ke-cite`` and ``ol.ke-references`` markup, page by page."""
    cited = 0
    for page in content_pages(built_site):
        mkdocs_cites, mkdocs_refs = citation_markup(built_site / page)
        zensical_cites, zensical_refs = citation_markup(zensical_site / page)
        assert zensical_cites == mkdocs_cites, f"{page}: in-text citations differ"
        assert zensical_refs == mkdocs_refs, f"{page}: reference lists differ"
        cited += len(mkdocs_cites)
    assert cited > 0, "no citations found: the comparison would prove nothing"


FORMS = ("narrative", "identifiers", "facts")
FORMS_CONFIG = """\
site_name: Forms
theme: {name: material}
plugins: [citereview]
markdown_extensions:
  - toc
  - tables
  - citereview:
      bibliography: docs/bibliography.yaml
      docs_dir: docs
      class_prefix: ke-
      evidence: true
      today: 2026-12-03
exclude_docs: bibliography.yaml
"""


def test_new_citation_forms_and_dated_facts_identical_under_zensical(tmp_path: Path) -> None:
    """In-text citations, citations by DOI/PMID and dated facts (the golden fixtures, which the
    site itself does not all use) render the same under MkDocs and Zensical."""
    fixtures = Path(__file__).parent / "fixtures" / "citations"
    built = {}
    for engine in ("mkdocs", "zensical"):
        root = tmp_path / engine
        (root / "docs").mkdir(parents=True)
        (root / "mkdocs.yml").write_text(FORMS_CONFIG)
        for name in (*FORMS, "bibliography"):
            suffix = ".yaml" if name == "bibliography" else ".md"
            (root / "docs" / f"{name}{suffix}").write_bytes((fixtures / f"{name}{suffix}").read_bytes())
        proc = build_site(root / "site", engine=engine, cwd=root)
        assert proc.returncode == 0, proc.stdout
        built[engine] = root / "site"
    counts = {}
    for name in FORMS:
        page = Path(name) / "index.html"
        mkdocs_markup = citation_markup(built["mkdocs"] / page)
        assert citation_markup(built["zensical"] / page) == mkdocs_markup, f"{name}: markup differs"
        counts[name] = len(mkdocs_markup[0])
    assert all(counts.values()), counts  # every page had something to compare


def test_zensical_uses_classic_variant_without_google_fonts(zensical_site: Path) -> None:
    """theme.variant: classic and font: false are honoured (no fonts.googleapis.com)."""
    for page in site_pages(zensical_site):
        doc = parse_html((zensical_site / page).read_text(encoding="utf-8"))
        hrefs = [link.attrs.get("href", "") for link in doc.find_all("link")]
        assert not [h for h in hrefs if "fonts.g" in h], f"{page}: Google Fonts linked"
        sheets = [link.attrs.get("href", "") for link in doc.find_all("link")
                  if link.attrs.get("rel") == "stylesheet"]
        assert any("/classic/main." in s for s in sheets), f"{page}: not the classic variant"
    for css in zensical_site.rglob("*.css"):
        assert "fonts.gstatic" not in css.read_text(encoding="utf-8"), css


def _stylesheets(site: Path, page: Path) -> list[Path]:
    """The local stylesheets a page links, as files of the built site."""
    doc = parse_html((site / page).read_text(encoding="utf-8"))
    hrefs = [link.attrs.get("href", "") for link in doc.find_all("link") if link.attrs.get("rel") == "stylesheet"]
    return [(site / page).parent.joinpath(h).resolve() for h in hrefs if "://" not in h]


def test_zensical_pages_get_the_packages_citation_styles(built_site: Path, zensical_site: Path) -> None:
    """Without the plugin, the stylesheet written by ``citereview stylesheet`` is linked on
    page, before the site's extra.css, and is the one MkDocs publishes (the 404 page links
    by site_url, so it is left out here)."""
    published = (built_site / "assets/citereview/citereview.css").read_text(encoding="utf-8")
    assert ".md-typeset sup.ke-cite" in published and "--ke-flag:" in published
    pages = content_pages(zensical_site)
    assert pages
    for page in pages:
        sheets = [p.relative_to(zensical_site.resolve()).as_posix() for p in _stylesheets(zensical_site, page)
                  if p.is_relative_to(zensical_site.resolve() / "assets")]
        ours = sheets.index("assets/citereview/citereview.css")
        assert ours < sheets.index("assets/stylesheets/extra.css"), f"{page}: {sheets}"
    assert (zensical_site / "assets/citereview/citereview.css").read_text(encoding="utf-8") == published

"""Every shape a CSL value comes in, hand-written or exported: no traceback, and the checker
and the build agree (issue #15).

Hypothesis writes bibliography entries whose names, dates, numbers and titles take each
shape Pandoc, citeproc and Zotero produce (and odd ones people type), as YAML text. For
each, ``citereview check`` and a build of three pages (a citing page, the References page,
the review queue) through the Markdown extension must report the same errors, and neither
may raise. A few shapes also go through a real ``mkdocs build --strict``.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import markdown
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citereview.cli.check import Project, run_check
from citereview.core.queue import outline, project_queue
from citereview.mdext.state import STATE, current_page

from .conftest import build_site

# -- the shapes ---------------------------------------------------------------------------
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
_odd = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False),
                 st.lists(st.integers(), max_size=2), st.dictionaries(_text, st.integers(), max_size=2))
_name_dict = st.fixed_dictionaries({}, optional={
    "family": _text, "given": _text, "literal": _text, "suffix": _text,
    "non-dropping-particle": st.sampled_from(["van", "de"]), "parse-names": st.booleans()})
NAMES = st.one_of(
    st.lists(_name_dict, max_size=3),                     # canonical CSL
    st.lists(st.sampled_from(["Berman RM", "Doe, Jane", "World Health Organization"]) | _text, max_size=3),
    st.sampled_from(["Berman, Robert M.", "Anonymous"]) | _text,   # one string
    _name_dict,                                          # one mapping
    st.lists(st.one_of(_name_dict, _text, _odd), max_size=3),  # mixed, odd items
    _odd,
)
_year = st.integers(-50, 3000)
_parts_row = st.lists(st.one_of(st.integers(-2, 40), st.sampled_from(["2000", "02", "x"])), min_size=0, max_size=4)
DATES = st.one_of(
    _year,                                                                   # issued: 2000
    st.sampled_from(["2000", "2000-02", "2000-02-15", "2000/2001", "2000-13-01", "Spring 2000", ""]),
    st.builds(lambda y, m, d: f"{y}-{m:02d}-{d:02d}", _year, st.integers(0, 14), st.integers(0, 33)),
    st.fixed_dictionaries({"date-parts": st.lists(_parts_row, max_size=2)},
                          optional={"season": st.integers(1, 4) | _text, "circa": st.booleans()}),
    st.fixed_dictionaries({"raw": _text}),
    st.fixed_dictionaries({"literal": _text}),
    st.fixed_dictionaries({"date-parts": st.just([[2000, 1], [2001, 2]])}),    # a range
    _odd,
)
NUMBERS = st.one_of(st.integers(-5, 5000), st.sampled_from(["12", "12-15", "e1234", "iv"]), _text, _odd)
TITLES = st.one_of(_text.filter(str.strip), st.integers(), _odd)

ENTRY = st.fixed_dictionaries(
    {"id": st.just("shape2020"), "type": st.sampled_from(["article-journal", "book", "chapter"]),
     "title": TITLES},
    optional={"author": NAMES, "editor": NAMES, "container-author": NAMES,
              "issued": DATES, "accessed": DATES, "original-date": DATES,
              "volume": NUMBERS, "issue": NUMBERS, "page": NUMBERS, "number-of-pages": NUMBERS,
              "container-title": TITLES, "DOI": st.sampled_from(["10.1000/x", "doi:10.1/x", 7])},
)

PAGES = {
    "index.md": "# Home\n\nA claim [@shape2020]. Another [see @shape2020, p. 3].\n",
    "references.md": "# References\n\n[bibliography]\n",
    "review-queue.md": "# Review queue\n\n[review-queue]\n",
}
CONFIG = """\
site_name: Shapes
theme: {name: mkdocs}
plugins: [citereview]
markdown_extensions:
  - toc
  - citereview:
      bibliography: docs/bibliography.yaml
      docs_dir: docs
exclude_docs: bibliography.yaml
"""


def write_project(root: Path, entry: dict) -> None:
    docs = root / "docs"
    docs.mkdir(exist_ok=True)
    (root / "mkdocs.yml").write_text(CONFIG, encoding="utf-8")
    (docs / "bibliography.yaml").write_text(yaml.safe_dump({"references": [entry]}, allow_unicode=True),
                                            encoding="utf-8")
    for name, text in PAGES.items():
        (docs / name).write_text(text, encoding="utf-8")


class _Errors(logging.Handler):
    """The build's errors: the extension logs them as warnings (``--strict`` fails on them)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.add(record.getMessage())


def build_errors(root: Path) -> set[str]:
    """Convert every page with the extension, as an engine would; the errors it logged."""
    STATE.clear()
    STATE.base_dir = str(root)
    handler = _Errors()
    logger = logging.getLogger("mkdocs.extensions.citereview")
    logger.addHandler(handler)
    try:
        for name, text in PAGES.items():
            token = current_page.set(name)
            try:
                md = markdown.Markdown(extensions=["toc", "citereview"], extension_configs={"citereview": {
                    "bibliography": "docs/bibliography.yaml", "docs_dir": "docs"}})
                md.convert(text)
            finally:
                current_page.reset(token)
    finally:
        logger.removeHandler(handler)
        STATE.clear()
    # The build names the bibliography by its absolute path (MkDocs resolves it against
    # mkdocs.yml); the checker relative to the working directory: compare the same text.
    return {line.replace(f"{root}{os.sep}", "") for line in handler.lines}


def check_errors(root: Path) -> set[str]:
    return {str(d) for d in run_check(Project.load(root / "mkdocs.yml")).diagnostics if d.level == "error"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ENTRY)
def test_every_csl_shape_check_and_build_agree(entry: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_project(root, entry)
        cwd = os.getcwd()
        os.chdir(root)  # both report paths relative to the working directory, as users run them
        try:
            checked = check_errors(root)
            built = build_errors(root)
            outline(project_queue(Project.load(root / "mkdocs.yml")))  # `citereview queue` must not raise
        finally:
            os.chdir(cwd)
    assert checked == built, f"check: {sorted(checked)}\nbuild: {sorted(built)}"


# -- a few through a real strict build ----------------------------------------------------
REAL = [
    {"issued": 2000, "author": ["Berman RM", "Cappiello A"], "page": 351},
    {"issued": "2000-02-15", "author": "Berman, Robert M.", "volume": "47"},
    {"issued": {"date-parts": [[2000, 2]], "season": 1}, "editor": {"literal": "WHO"}},
    {"issued": {"raw": "Spring 2000"}, "author": [{"family": "Doe"}, "Roe, R."]},
    {"issued": "2000-13-45", "author": [{"nickname": "X"}], "title": ["a", "list"]},
    {"issued": 3.5, "author": 42},
]


@pytest.mark.parametrize("extra", REAL, ids=[f"shape{i}" for i in range(len(REAL))])
def test_real_strict_build_agrees_with_check(tmp_path: Path, extra: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = {"id": "shape2020", "type": "article-journal", "title": "A title", **extra}
    write_project(tmp_path, entry)
    monkeypatch.chdir(tmp_path)
    checked = check_errors(tmp_path)
    proc = build_site(tmp_path / "site", cwd=tmp_path)
    assert "Traceback" not in proc.stdout, proc.stdout
    assert (proc.returncode != 0) == bool(checked), f"check: {sorted(checked)}\n{proc.stdout}"
    for line in checked:
        assert line in proc.stdout, f"{line!r} not reported by the build:\n{proc.stdout}"

"""The package as a stranger gets it: a wheel, installed alone into a new virtualenv, building a
new Material site outside this repository with ``mkdocs build --strict``.

Nothing here reaches the internet: the wheel is built with ``--no-index`` against a
wheelhouse repacked from this virtualenv's pinned distributions (:mod:`tests.wheelhouse`),
and the new virtualenv installs from that wheelhouse only. No pip configuration of this
machine (extra indexes, find-links) is read. The site uses a plain CSL-JSON bibliography as
Zotero exports it: no ``review`` and no ``evidence`` fields.
"""

from __future__ import annotations

import configparser
import email
import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests import wheelhouse
from tests.conftest import ROOT
from tests.sitetools import parse_html

# Two real papers, copied from the site's bibliography as a Zotero CSL-JSON export would
# carry them (identifiers only where the site has confirmed them).
ZOTERO_EXPORT = [
    {
        "id": "berman2000antidepressant", "type": "article-journal",
        "title": "Antidepressant effects of ketamine in depressed patients",
        "container-title": "Biological Psychiatry", "volume": "47", "issue": "4", "page": "351-354",
        "PMID": "10686270",
        "author": [{"family": "Berman", "given": "Robert M."}, {"family": "Cappiello", "given": "Angela"},
                   {"family": "Anand", "given": "Amit"}, {"family": "Oren", "given": "Dan A."},
                   {"family": "Heninger", "given": "George R."}, {"family": "Charney", "given": "Dennis S."},
                   {"family": "Krystal", "given": "John H."}],
        "issued": {"date-parts": [[2000, 2, 15]]},
    },
    {
        "id": "zarate2006randomized", "type": "article-journal",
        "title": "A randomized trial of an N-methyl-D-aspartate antagonist in treatment-resistant major depression",
        "container-title": "Archives of General Psychiatry", "volume": "63", "issue": "8", "page": "856-864",
        "author": [{"family": "Zarate", "given": "Carlos A.", "suffix": "Jr."},
                   {"family": "Singh", "given": "Jaskaran B."}, {"family": "Carlson", "given": "Paul J."}],
        "issued": {"date-parts": [[2006, 8]]},
    },
]

MKDOCS_YML = """\
site_name: Elsewhere
theme:
  name: material
plugins:
  - search
  - citereview
markdown_extensions:
  - citereview:
      bibliography: docs/library.json
exclude_docs: |
  library.json
"""

PAGE = """\
# Ketamine

An early trial [@berman2000antidepressant]. A larger one [see @zarate2006randomized, p. 858].
Both [@berman2000antidepressant; @zarate2006randomized].
"""


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without this machine's pip settings or this repository's paths."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV"))}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "NO_MKDOCS_2_WARNING": "1", **extra}


def _run(cmd: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=300, check=False)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout}"
    return proc.stdout


@pytest.fixture(scope="module")
def houses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The wheelhouse of the pinned requirements (plus setuptools, to build), and our wheel."""
    tmp = tmp_path_factory.mktemp("wheel")
    house = tmp / "wheelhouse"
    try:
        wheelhouse.build(ROOT / "requirements.txt", house, extra=("setuptools",))
    except LookupError as exc:
        pytest.fail(f"this virtualenv does not match requirements.txt ({exc}); run `make test` to update it")
    # From a copy of what the source distribution holds: setuptools writes build/ and
    # *.egg-info next to pyproject.toml, which must not land in the working tree.
    src = tmp / "src"
    shutil.copytree(ROOT / "citereview", src / "citereview",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy2(ROOT / "pyproject.toml", src / "pyproject.toml")
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-index", "--find-links", house,
          "-w", dist], cwd=src, env=_clean_env())
    return {"house": house, "dist": dist, "tmp": tmp}


@pytest.fixture(scope="module")
def wheel(houses: dict[str, Path]) -> Path:
    (found,) = houses["dist"].glob("citereview-*.whl")
    return found


def test_wheel_metadata_is_the_packages_own(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        info = next(n.split("/")[0] for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_string(zf.read(f"{info}/METADATA").decode("utf-8"))
        entry_points = configparser.ConfigParser()
        entry_points.read_string(zf.read(f"{info}/entry_points.txt").decode())
        names = set(zf.namelist())
    assert meta["Name"] == "citereview"
    assert meta["Version"] == "0.2.0" and wheel.name == "citereview-0.2.0-py3-none-any.whl"
    assert meta["Description-Content-Type"] == "text/markdown"
    readme = (ROOT / "citereview" / "README.md").read_text(encoding="utf-8")
    assert meta.get_payload().strip() == readme.strip()
    assert "ketamine" not in readme.lower(), "the package README must not be about this site"
    assert entry_points["mkdocs.plugins"]["citereview"] == "citereview.mkdocs.plugin:CiteReviewPlugin"
    assert entry_points["markdown.extensions"]["citereview"] == "citereview.mdext.extension:CiteReviewExtension"
    assert entry_points["console_scripts"]["citereview"] == "citereview.cli:main"
    assert "citereview/assets/citereview.css" in names
    assert not [n for n in names if n.startswith(("tests/", "docs/", "bench/"))]


@pytest.fixture(scope="module")
def stranger_env(houses: dict[str, Path], wheel: Path) -> Path:
    """A new virtualenv holding only the wheel, MkDocs and Material (with their dependencies)."""
    env_dir = houses["tmp"] / "venv"
    try:
        venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(env_dir)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot create a virtualenv here ({exc}); the wheel was not tried in a new site")
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    if not python.exists():
        pytest.skip(f"venv created no interpreter at {python}; the wheel was not tried in a new site")
    # This virtualenv's pip installs into the new one (--python): no ensurepip needed there.
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-index",
          "--find-links", houses["house"], wheel, "mkdocs", "mkdocs-material"],
         cwd=houses["tmp"], env=_clean_env())
    return python


@pytest.fixture(scope="module")
def stranger_site(stranger_env: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("elsewhere")
    (project / "docs").mkdir()
    (project / "mkdocs.yml").write_text(MKDOCS_YML, encoding="utf-8")
    (project / "docs" / "index.md").write_text(PAGE, encoding="utf-8")
    (project / "docs" / "library.json").write_text(json.dumps(ZOTERO_EXPORT, indent=2), encoding="utf-8")
    env = _clean_env()
    where = _run([stranger_env, "-c", "import citereview, mkdocs, material; print(citereview.__file__)"],
                 cwd=project, env=env)
    assert Path(where.strip()).is_relative_to(stranger_env.parent.parent), where
    out = _run([stranger_env, "-m", "mkdocs", "build", "--strict"], cwd=project, env=env)
    assert "WARNING" not in out, out
    return project / "site"


def test_new_site_renders_numbered_citations_with_previews(stranger_site: Path) -> None:
    doc = parse_html((stranger_site / "index.html").read_text(encoding="utf-8"))
    cites = doc.find_all("sup", cls="cr-cite")
    assert len(cites) == 3
    numbers = [[a.text() for a in c.find_all("a", cls="cr-cite__num")] for c in cites]
    assert numbers == [["1"], ["2"], ["1", "2"]]
    tips = [tip.text() for tip in doc.find_all("span", cls="cr-cite__tip")]
    assert "Antidepressant effects of ketamine in depressed patients" in tips[0]
    assert tips[0].endswith("Not yet reviewed")  # no review field: unreviewed
    assert "(p. 858)" in cites[1].text() and cites[1].text().startswith("see")
    entries = doc.find_all("li", cls="cr-ref")
    assert [e.attrs["id"] for e in entries] == ["ref-berman2000antidepressant", "ref-zarate2006randomized"]
    assert all("cr-status--unreviewed" in e.classes for e in entries)


def test_new_site_links_the_packages_stylesheet(stranger_site: Path) -> None:
    css = stranger_site / "assets" / "citereview" / "citereview.css"
    assert css.is_file()
    shipped = (ROOT / "citereview" / "assets" / "citereview.css").read_text(encoding="utf-8")
    assert css.read_text(encoding="utf-8") == shipped
    doc = parse_html((stranger_site / "index.html").read_text(encoding="utf-8"))
    sheets = [link.attrs.get("href", "") for link in doc.find_all("link")
              if link.attrs.get("rel") == "stylesheet"]
    assert "assets/citereview/citereview.css" in sheets


def test_new_site_has_no_trace_of_this_sites_prefix(stranger_site: Path) -> None:
    html = (stranger_site / "index.html").read_text(encoding="utf-8")
    doc = parse_html(html)
    prefixed = {c for e in doc.iter() for c in e.classes if c.startswith("ke-")}
    assert not prefixed
    assert "data-ke-" not in html and "kecite" not in html
    assert "\x02" not in html and "\x03" not in html

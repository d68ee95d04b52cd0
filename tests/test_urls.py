"""Page URLs computed by the extension agree with MkDocs' own, both URL styles."""

from __future__ import annotations

import pytest
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

from citereview.core.urls import page_url, relative_url

PAGES = ["index.md", "README.md", "risks.md", "topic/index.md", "topic/README.md", "topic/page one.md",
         "a/b/c.md", "a/b/index.md", "über.md"]


@pytest.mark.parametrize("directory_urls", [True, False])
@pytest.mark.parametrize("src", PAGES)
def test_page_url_matches_mkdocs(src: str, directory_urls: bool) -> None:
    expected = File(src, "docs", "site", use_directory_urls=directory_urls).url
    assert page_url(src, directory_urls) == expected


@pytest.mark.parametrize("directory_urls", [True, False])
@pytest.mark.parametrize("target", PAGES)
@pytest.mark.parametrize("origin", ["references.md", "index.md", "topic/index.md", "a/b/c.md"])
def test_relative_url_matches_mkdocs(origin: str, target: str, directory_urls: bool) -> None:
    url, here = page_url(target, directory_urls), page_url(origin, directory_urls)
    assert relative_url(url, here) == get_relative_url(url, here)

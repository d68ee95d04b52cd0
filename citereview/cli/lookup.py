"""Metadata for one DOI or PMID, as a CSL item, for ``citereview import --doi/--pmid``.

Why these sources: doi.org content negotiation (``Accept:
application/vnd.citationstyles.csl+json``) answers CSL-JSON for DOIs of every registration
agency that supports it (Crossref, DataCite, mEDRA), so one request covers them all; doi.org
redirects to the agency and urllib keeps the Accept and User-Agent headers on the way. For
PubMed, E-utilities ``efetch`` (XML) is used rather than ``esummary`` because only efetch gives
authors' full given names (esummary has "Zarate CA Jr") and the journal's full title.

Everything here only reads and converts; deciding the key and writing the bibliography is
:mod:`.importer`'s job, so that both import paths write entries the same way.
"""

from __future__ import annotations

import html
import re
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from ..core.bibliography import CSL_TYPES, DOI_RE, PMID_RE
from .online import PoliteClient

DOI_URL = "https://doi.org"
EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
CSL_JSON = "application/vnd.citationstyles.csl+json"
MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
#: PubMed publication types worth a warning when importing (verify reports them as findings).
PUBMED_WARN = ("retracted publication", "retraction of publication", "expression of concern",
               "withdrawn publication")


class NotFoundError(Exception):
    """The identifier does not exist at the service (HTTP 404, empty efetch answer)."""


class UnusableRecordError(Exception):
    """The service answered, but with nothing that can become a bibliography entry."""


@dataclass
class Fetched:
    """A CSL item ready for :func:`citereview.cli.importer.plan_import`, and what to warn about."""

    item: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- identifiers


def normalise_doi(value: str) -> str | None:
    """``10.x/y`` from a DOI, ``doi:10.x/y`` or a resolver URL; None if it is not a DOI."""
    doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", value.strip(), flags=re.I)
    doi = urllib.parse.unquote(doi) if "%" in doi else doi
    return doi if DOI_RE.match(doi) else None


def normalise_pmid(value: str) -> str | None:
    """``123`` from ``123`` or ``PMID: 123``; None if it is not a PMID."""
    pmid = re.sub(r"^pmid:?\s*", "", value.strip(), flags=re.I)
    return pmid if PMID_RE.match(pmid) else None


# --------------------------------------------------------------------------- DOI


def fetch_doi(client: PoliteClient, doi: str, doi_url: str = DOI_URL) -> Fetched:
    """CSL item for ``doi`` by content negotiation; raises NotFoundError or LookupFailedError."""
    url = f"{doi_url.rstrip('/')}/{urllib.parse.quote(doi, safe='/()')}"
    status, body = client.get_json(url, {}, {}, accept=CSL_JSON)
    if status == 404:
        raise NotFoundError(f"DOI {doi} is not registered (doi.org answered 404 Not Found)")
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, dict) or not (body.get("title") or body.get("author")):
        raise UnusableRecordError(f"doi.org answered for DOI {doi}, but not with CSL-JSON metadata")
    return Fetched(csl_from_doi(body, doi))


def _first(value: Any) -> Any:
    """Crossref gives some CSL strings as one-element lists (``container-title``)."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _plain(text: Any) -> str:
    """Titles may carry JATS/HTML markup (``<i>``, ``<scp>``) and entities."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", str(text))).split())


def _names(people: Any) -> list[dict[str, str]]:
    out = []
    for person in people if isinstance(people, list) else []:
        if not isinstance(person, dict):
            continue
        name = {k: _plain(person[k]) for k in ("family", "given", "suffix", "non-dropping-particle",
                                               "dropping-particle", "literal") if person.get(k)}
        if not name.get("family") and not name.get("literal") and person.get("name"):
            name = {"literal": _plain(person["name"])}  # organisations: {"name": "..."}
        if name.get("family") or name.get("literal"):
            out.append(name)
    return out


def _date(value: Any) -> dict[str, Any] | None:
    parts = value.get("date-parts") if isinstance(value, dict) else None
    if not parts or not isinstance(parts, list) or not parts[0] or parts[0][0] in (None, ""):
        return None
    try:
        return {"date-parts": [[int(p) for p in parts[0][:3]]]}
    except (TypeError, ValueError):
        return None


def csl_from_doi(body: dict[str, Any], doi: str) -> dict[str, Any]:
    """Keep the fields the bibliography uses, as plain strings, in CSL's own names."""
    item: dict[str, Any] = {"type": body.get("type") if body.get("type") in CSL_TYPES else "document"}
    for role in ("author", "editor"):
        if names := _names(body.get(role)):
            item[role] = names
    for name in ("title", "container-title", "publisher", "publisher-place", "volume", "issue", "page",
                 "edition"):
        value = _first(body.get(name))
        if value not in (None, ""):
            item[name] = _plain(value)
    for name in ("issued", "published-print", "published-online", "published", "created"):
        if date := _date(body.get(name)):
            item["issued"] = date
            break
    # As the author wrote it (DOIs are case-insensitive): the page's [@doi:...] then matches it verbatim.
    item["DOI"] = doi
    url = str(body.get("URL") or "")
    if url and not re.match(r"^https?://(dx\.)?doi\.org/", url, re.I):
        item["URL"] = url
    return item


# --------------------------------------------------------------------------- PMID


def fetch_pmid(client: PoliteClient, pmid: str, eutils_url: str = EUTILS_URL) -> Fetched:
    """CSL item for ``pmid`` from efetch XML; raises NotFoundError, UnusableRecordError or
    LookupFailedError."""
    status, text = client.get_text(f"{eutils_url.rstrip('/')}/efetch.fcgi",
                                   {"db": "pubmed", "id": pmid, "retmode": "xml"},
                                   {"tool": "citereview", "email": client.contact}, accept="application/xml")
    if status == 404 or not text:
        raise NotFoundError(f"PMID {pmid} is not in PubMed (efetch answered 404)")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise UnusableRecordError(f"E-utilities answered for PMID {pmid} with malformed XML ({exc})") from None
    article = root.find("PubmedArticle")
    if article is None:
        if root.find("PubmedBookArticle") is not None:
            raise UnusableRecordError(f"PMID {pmid} is a book or chapter record: import it from a CSL-JSON "
                                      "or BibTeX export instead (citereview import FILE)")
        raise NotFoundError(f"PMID {pmid} is not in PubMed (efetch returned no article)")
    return csl_from_pubmed(article, pmid)


def _text(node: ET.Element | None) -> str:
    return " ".join("".join(node.itertext()).split()) if node is not None else ""


def _given(fore: str) -> str:
    """PubMed writes initials without periods ("Carlos A"); CSL entries here have them."""
    return re.sub(r"\b([A-Z])(?=\s|$)", r"\1.", fore)


def _pubmed_date(pub: ET.Element | None) -> list[int]:
    if pub is None:
        return []
    year = _text(pub.find("Year"))
    if not year:  # <MedlineDate>2006 Aug-Sep</MedlineDate>
        medline = _text(pub.find("MedlineDate"))
        match = re.match(r"(\d{4})(?:\s+([A-Za-z]{3}))?", medline)
        if not match:
            return []
        month = MONTHS.get((match.group(2) or "").lower())
        return [int(match.group(1))] + ([month] if month else [])
    parts = [int(year)]
    month = _text(pub.find("Month"))
    number = int(month) if month.isdigit() else MONTHS.get(month[:3].lower())
    if number:
        parts.append(number)
        day = _text(pub.find("Day"))
        if day.isdigit():
            parts.append(int(day))
    return parts


def _pages(medline: str) -> str:
    """"856-64" -> "856-864": MEDLINE abbreviates the last page."""
    match = re.fullmatch(r"(\d+)-(\d+)", medline)
    if match and len(match.group(2)) < len(match.group(1)):
        first, last = match.groups()
        return f"{first}-{first[: len(first) - len(last)]}{last}"
    return medline


def csl_from_pubmed(article: ET.Element, pmid: str) -> Fetched:
    """One ``<PubmedArticle>`` as a CSL item, plus warnings from its publication types."""
    art = article.find("MedlineCitation/Article")
    if art is None:
        raise UnusableRecordError(f"E-utilities answered for PMID {pmid} without an <Article>")
    item: dict[str, Any] = {"type": "article-journal"}
    authors = []
    for author in art.findall("AuthorList/Author"):
        if author.get("ValidYN") == "N":
            continue
        if author.find("CollectiveName") is not None:
            authors.append({"literal": _text(author.find("CollectiveName"))})
            continue
        name = {"family": _text(author.find("LastName"))}
        if fore := _text(author.find("ForeName")) or _text(author.find("Initials")):
            name["given"] = _given(fore)
        if suffix := _text(author.find("Suffix")):
            name["suffix"] = suffix
        if name["family"]:
            authors.append(name)
    if authors:
        item["author"] = authors
    title = _text(art.find("ArticleTitle")) or _text(art.find("VernacularTitle"))
    if title.startswith("[") and title.rstrip(".").endswith("]"):  # translated titles: "[...]."
        title = title.rstrip(".")[1:-1]
    item["title"] = title
    journal = _text(art.find("Journal/Title")) or _text(article.find("MedlineCitation/MedlineJournalInfo/MedlineTA"))
    if journal:
        item["container-title"] = journal
    issued = _pubmed_date(art.find("Journal/JournalIssue/PubDate")) or _pubmed_date(art.find("ArticleDate"))
    if issued:
        item["issued"] = {"date-parts": [issued]}
    for tag, name in (("Journal/JournalIssue/Volume", "volume"), ("Journal/JournalIssue/Issue", "issue")):
        if value := _text(art.find(tag)):
            item[name] = value
    if pages := _text(art.find("Pagination/MedlinePgn")):
        item["page"] = _pages(pages)
    ids = {i.get("IdType"): _text(i) for i in article.findall("PubmedData/ArticleIdList/ArticleId")}
    doi = ids.get("doi") or next((_text(e) for e in art.findall("ELocationID") if e.get("EIdType") == "doi"), "")
    if doi and DOI_RE.match(doi):
        item["DOI"] = doi
    item["PMID"] = pmid
    if ids.get("pmc"):
        item["PMCID"] = ids["pmc"]
    pubtypes = [_text(t) for t in art.findall("PublicationTypeList/PublicationType")]
    warnings = [f"PubMed marks PMID {pmid} as {t!r}: record its status when you review it"
                for t in pubtypes if t.lower() in PUBMED_WARN]
    return Fetched(item, warnings)

"""Loose text comparison and citation-key building shared by ``import`` and ``verify``.

Bibliographic metadata differs between sources in ways that do not matter (case, accents,
punctuation, HTML markup in Crossref titles, PubMed's trailing period and ``[...]`` around
translated titles). Both commands normalise through :func:`normalize` so that a reviewer is
only shown differences a human would call differences.
"""

from __future__ import annotations

import html
import re
import unicodedata

_TAG_RE = re.compile(r"<[^>]+>")
_NON_WORD_RE = re.compile(r"[\W_]+")
#: Words skipped when picking the "first significant title word" of the key convention.
STOPWORDS = frozenset(
    """a an the of on in at to for and or but with from by as into about via vs versus is are
    was were be its it this that these those de la le les el los las der die das und""".split()
)
#: Name suffixes PubMed appends after the initials ("Zarate CA Jr").
_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "2nd", "3rd"})
_INITIALS_RE = re.compile(r"^[A-Z]{1,4}$")


def ascii_fold(text: str) -> str:
    """Drop accents (NFKD, then remove combining marks) so ``Müller`` equals ``Muller``."""
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Letters NFKD does not decompose.
    return folded.translate(str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
                                           "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "đ": "d",
                                           "Đ": "D", "ı": "i"}))


def normalize(text: str | None) -> str:
    """Comparable form: no HTML tags/entities, accents, case or punctuation, single spaces."""
    if not text:
        return ""
    text = html.unescape(_TAG_RE.sub(" ", str(text)))
    text = ascii_fold(text).casefold()
    return " ".join(_NON_WORD_RE.sub(" ", text).split())


def titles_match(ours: str | None, theirs: str | None, subtitle: str | None = None) -> bool:
    """True when the titles are the same text, allowing a split title/subtitle in theirs."""
    a, b = normalize(ours), normalize(theirs)
    if a == b:
        return True
    return bool(subtitle) and a == normalize(f"{theirs} {subtitle}")


def family_from_pubmed(name: str) -> str:
    """``"Zarate CA Jr"`` -> ``"Zarate"``; ``"De Feyter HM"`` -> ``"De Feyter"``.

    PubMed's summary gives "Family Initials [Suffix]" with no separate family field.
    """
    tokens = name.split()
    while len(tokens) > 1 and tokens[-1].rstrip(".").casefold() in _NAME_SUFFIXES:
        tokens.pop()
    if len(tokens) > 1 and _INITIALS_RE.match(tokens[-1]):
        tokens.pop()
    return " ".join(tokens)


def key_part(text: str) -> str:
    """Lowercase ASCII letters only, as the site's key convention wants."""
    return re.sub(r"[^a-z]", "", ascii_fold(text).casefold())


def first_significant_word(title: str) -> str:
    """The first title word that is not a stopword, reduced to lowercase ASCII letters."""
    for word in re.split(r"[\s\-–—/:;,.()\[\]'\"?!]+", ascii_fold(html.unescape(_TAG_RE.sub(" ", title)))):
        part = key_part(word)
        if part and part not in STOPWORDS:
            return part
    return "untitled"


def literal_key_part(literal: str) -> str:
    """Organisation authors: acronym of the significant words ("Advisory Council on the
    Misuse of Drugs" -> ``acmd``), or the single word itself."""
    words = [key_part(w) for w in re.split(r"[\s\-/]+", literal)]
    words = [w for w in words if w and w not in STOPWORDS]
    if not words:
        return "anonymous"
    if len(words) == 1:
        return words[0]
    return "".join(w[0] for w in words)

"""Dated facts: ``[as of 2026-11-24]`` and ``[as of 2026-11-24, until 2026-12-31]``.

A medical reference goes wrong mostly by ageing: a rule expires, a label is revised. An
author puts a marker after a time-sensitive statement to record when it was last checked
against a source (and, if known, when it is expected to change). The marker is read here,
once, for every consumer: the Markdown extension renders it as a date label that turns into
a "may be out of date" flag, and :mod:`citereview.core.findings` reports the same facts as
``fact-expired`` / ``fact-overage`` warnings and malformed markers as ``fact-malformed``
errors, so the build, ``citereview check`` and the review queue agree.

"Today" is injectable, so that builds and tests are reproducible: the extension's ``today``
option, else the ``CITEREVIEW_TODAY`` environment variable (``YYYY-MM-DD``), else the
current UTC date.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as _dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .syntax import FACT_RE, mask_code, sentence_around

#: Environment variable that fixes "today" for builds, ``check`` and the queue.
TODAY_ENV = "CITEREVIEW_TODAY"
#: Default of the ``fact_max_age`` option: months after which a fact is flagged.
DEFAULT_MAX_AGE = 12

_DATE_RE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
_BODY_RE = re.compile(r"^(?P<as_of>[^,]+?)\s*(?:,\s*(?P<word>\S+)\s+(?P<until>.+?))?\s*$")
SYNTAX_HINT = "write [as of YYYY-MM-DD] or [as of YYYY-MM-DD, until YYYY-MM-DD] (YYYY-MM allowed)"


# -- "today" ------------------------------------------------------------------------------
def parse_iso_date(value: str, what: str) -> _dt.date:
    """``YYYY-MM-DD`` as a date, or a ``ValueError`` naming ``what`` and the value."""
    try:
        return _dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{what} '{value}' is not a date (YYYY-MM-DD)") from None


def today(option: Any = None) -> _dt.date:
    """The date the build treats as today: ``option``, else ``$CITEREVIEW_TODAY``, else now (UTC).

    Raises ``ValueError`` with a readable message for a malformed value.
    """
    if isinstance(option, _dt.date):
        return option
    if option not in (None, ""):
        return parse_iso_date(str(option), "today option")
    env = os.environ.get(TODAY_ENV, "").strip()
    if env:
        return parse_iso_date(env, TODAY_ENV)
    return _dt.datetime.now(_dt.UTC).date()


def max_age_option(value: Any) -> int:
    """The ``fact_max_age`` option (months; 0 switches age flags off), validated."""
    if value in (None, ""):
        return DEFAULT_MAX_AGE
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"fact_max_age must be a whole number of months (0 or more), not {value!r}")
    return value


@dataclass(frozen=True)
class FactPolicy:
    """When a fact counts as out of date: today's date and the maximum age in months."""

    today: _dt.date
    max_age: int = DEFAULT_MAX_AGE

    @classmethod
    def from_options(cls, options: dict[str, Any], today_value: _dt.date | None = None) -> FactPolicy:
        """From the extension's options (``today``, ``fact_max_age``); ``ValueError`` if bad."""
        return cls(today(today_value or options.get("today")), max_age_option(options.get("fact_max_age")))


# -- the marker ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DatedFact:
    """A parsed marker. ``*_month`` is true for a year-month date (``2026-11``).

    A year-month ``as_of`` counts from the 1st (the earliest it can have been checked); a
    year-month ``until`` runs to the last day of that month.
    """

    as_of: _dt.date
    as_of_month: bool = False
    until: _dt.date | None = None
    until_month: bool = False

    def state(self, policy: FactPolicy) -> str:
        """``expired`` (past ``until``), ``overage`` (older than the maximum age) or ``current``."""
        if self.until is not None and policy.today > self.until:
            return "expired"
        if policy.max_age and policy.today > add_months(self.as_of, policy.max_age):
            return "overage"
        return "current"

    @property
    def as_of_text(self) -> str:
        return human_date(self.as_of, self.as_of_month)

    @property
    def until_text(self) -> str:
        return human_date(self.until, self.until_month) if self.until else ""

    def describe(self, state: str, max_age: int) -> str:
        """The accessible description: when it was checked, and why it may be out of date."""
        checked = (f"This statement was last checked in {self.as_of_text}" if self.as_of_month
                   else f"This statement was last checked on {self.as_of_text}")
        if state == "expired":
            return f"{checked}. It was expected to change after {self.until_text}, so it may be out of date."
        if state == "overage":
            months = f"{max_age} month{'s' if max_age != 1 else ''}"
            return f"{checked}, more than {months} ago, so it may be out of date."
        if self.until:
            return f"{checked}; it may change after {self.until_text}."
        return f"{checked}."


def human_date(day: _dt.date, month_only: bool = False) -> str:
    """``24 November 2026`` (or ``November 2026``), as readers write dates, not ISO."""
    month = calendar.month_name[day.month]
    return f"{month} {day.year}" if month_only else f"{day.day} {month} {day.year}"


def add_months(day: _dt.date, months: int) -> _dt.date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return _dt.date(year, month + 1, min(day.day, last))


def _parse_date(text: str, *, end_of_month: bool) -> tuple[_dt.date, bool]:
    m = _DATE_RE.match(text.strip())
    if not m:
        raise ValueError(f"'{text.strip()}' is not a date")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"'{text.strip()}' has no month {month:02d} (months are 01-12)")
    if m.group(3) is None:
        day = calendar.monthrange(year, month)[1] if end_of_month else 1
        return _dt.date(year, month, day), True
    try:
        return _dt.date(year, month, int(m.group(3))), False
    except ValueError:
        raise ValueError(f"'{text.strip()}' is not a day of {calendar.month_name[month]} {year}") from None


def parse_fact(body: str) -> DatedFact:
    """The text after ``as of``; ``ValueError`` with the reason when it is malformed."""
    m = _BODY_RE.match(body)
    if not m:
        raise ValueError("empty date")
    if m.group("word") is not None and m.group("word").lower() != "until":
        raise ValueError(f"expected 'until' after the comma, found '{m.group('word')}'")
    as_of, as_of_month = _parse_date(m.group("as_of"), end_of_month=False)
    if m.group("until") is None:
        return DatedFact(as_of, as_of_month)
    until, until_month = _parse_date(m.group("until"), end_of_month=True)
    if until < as_of:
        raise ValueError(f"'until' date {m.group('until').strip()} is before the 'as of' date "
                         f"{m.group('as_of').strip()}")
    return DatedFact(as_of, as_of_month, until, until_month)


# -- finding markers in a page --------------------------------------------------------------
@dataclass(frozen=True)
class FactOccurrence:
    """A marker in a source file: the fact (``None`` if malformed, with ``problem``), its
    1-based line and column, the marker text, the sentence it dates and its number on the
    page (valid markers only, in source order: the ``fact-N`` id of the rendered label)."""

    fact: DatedFact | None
    line: int
    col: int
    text: str
    sentence: str = ""
    number: int = 0
    problem: str = ""


def might_have_facts(text: str) -> bool:
    """Cheap test before scanning: most pages have no marker at all."""
    return "[as of" in text.lower()


def scan_facts(text: str, front_matter: bool = True) -> Iterator[FactOccurrence]:
    """Every marker outside code, comments and front matter, in source order."""
    if not might_have_facts(text):
        return
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    number = 0
    for m in FACT_RE.finditer(mask_code(text, front_matter)):
        line_idx = bisect.bisect_right(line_starts, m.start()) - 1
        try:
            fact, problem = parse_fact(m.group("fact")), ""
            number += 1
        except ValueError as exc:
            fact, problem = None, str(exc)
        yield FactOccurrence(fact, line_idx + 1, m.start() - line_starts[line_idx] + 1, m.group(0),
                             sentence_around(text, m.start(), m.end()), number if fact else 0, problem)


def malformed_message(occ: FactOccurrence) -> str:
    return f"malformed dated-fact marker '{occ.text}': {occ.problem}; {SYNTAX_HINT}"

"""A page's review metadata: who wrote it, who last reviewed it, and when it is due again.

Pages carry their own review dates in YAML front matter::

    ---
    authors: [Ketamine Evidence editorial team]
    reviewed_by: Jane Doe
    last_reviewed: 2026-01-15
    review_interval: 12 months     # or: next_review: 2027-01-15
    ---

This module is the one place that reads and validates those fields, so that the checker,
the review queue and the Markdown extension (every engine) report the same problems, each
naming the file and the line of the offending field. The date arithmetic here is mirrored
by ``overrides/partials/page-review.html`` (templates cannot import Python under Zensical).
"""

from __future__ import annotations

import calendar
import datetime as _dt
import difflib
import re
from dataclasses import dataclass
from typing import Any

import yaml

from .model import Diagnostic
from .yamlnodes import duplicate_keys

#: The front-matter keys this module owns.
REVIEW_KEYS: tuple[str, ...] = ("authors", "reviewed_by", "last_reviewed", "next_review", "review_interval")

_INTERVAL_RE = re.compile(r"^\s*(?P<n>\d+)\s*(?P<unit>days?|weeks?|months?|years?)\s*$", re.I)


@dataclass(frozen=True)
class PageReview:
    """The validated review fields of one page (``None`` where absent or invalid)."""

    authors: tuple[str, ...] = ()
    reviewed_by: str | None = None
    last_reviewed: _dt.date | None = None
    next_review: _dt.date | None = None
    review_interval: str | None = None
    #: 1-based source lines of each field present, for diagnostics about the page.
    lines: tuple[tuple[str, int], ...] = ()

    @property
    def reviewed(self) -> bool:
        return self.last_reviewed is not None

    @property
    def due(self) -> _dt.date | None:
        """When the next review is due: ``next_review``, else last review plus the interval."""
        if self.next_review is not None:
            return self.next_review
        if self.last_reviewed is not None and self.review_interval:
            return add_interval(self.last_reviewed, self.review_interval)
        return None

    def overdue(self, today: _dt.date) -> bool:
        due = self.due
        return due is not None and today > due

    def line_of(self, key: str, default: int = 1) -> int:
        return dict(self.lines).get(key, default)


def parse_interval(text: str) -> tuple[int, str] | None:
    """``"12 months"`` -> ``(12, "month")``; ``None`` when it is not ``N days|weeks|months|years``."""
    m = _INTERVAL_RE.match(str(text))
    if not m or int(m.group("n")) <= 0:
        return None
    return int(m.group("n")), m.group("unit").lower().rstrip("s")


def add_interval(start: _dt.date, interval: str) -> _dt.date | None:
    """Calendar arithmetic: months keep the day of month, clamped to the month's last day."""
    parsed = parse_interval(interval)
    if parsed is None:
        return None
    n, unit = parsed
    if unit == "day":
        return start + _dt.timedelta(days=n)
    if unit == "week":
        return start + _dt.timedelta(weeks=n)
    months = n * 12 if unit == "year" else n
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return _dt.date(year, month, day)


def front_matter_lines(text: str) -> int:
    """How many lines the front matter takes, fences included (0: none, or never closed)."""
    if not text.startswith("---"):
        return 0
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return 0
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return i + 1
    return 0


def front_matter_block(text: str) -> tuple[str, int] | None:
    """The YAML between the ``---`` fences and the number of lines before it (always 1)."""
    n = front_matter_lines(text)
    if not n:
        return None
    return "\n".join(text.split("\n", n)[1 : n - 1]), 1


#: Marks a field whose YAML value could not be constructed (already reported).
_INVALID = object()


def _construct(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _as_date(value: Any) -> _dt.date | None:
    if isinstance(value, _dt.datetime):
        return None  # a timestamp, not a calendar date; templates compare YYYY-MM-DD strings
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return _dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def read_front_matter(path: str, text: str, today: _dt.date | None = None
                      ) -> tuple[PageReview, list[Diagnostic]]:
    """Parse and validate a page's review fields; never raises on bad content."""
    diags: list[Diagnostic] = []
    found = front_matter_block(text)
    if found is None:
        return PageReview(), diags
    block, offset = found

    def diag(line: int, message: str, level: str = "error", col: int = 1, code: str = "front-matter") -> None:
        diags.append(Diagnostic(path, line, message, level=level, col=col, code=code))

    try:
        root = yaml.compose(block, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 + offset if mark else 1 + offset
        col = mark.column + 1 if mark else 1
        diag(line, f"malformed front matter: {getattr(exc, 'problem', None) or exc}", col=col)
        return PageReview(), diags
    if root is None:
        return PageReview(), diags
    if not isinstance(root, yaml.MappingNode):
        diag(root.start_mark.line + 1 + offset, "front matter must be a mapping of 'key: value' lines")
        return PageReview(), diags

    for dup in duplicate_keys(root, line_offset=offset):
        diag(dup.line, dup.message(), col=dup.col, code="front-matter-duplicate-key")

    # Construct value by value: PyYAML raises ValueError (not YAMLError) for dates such as
    # 2025-13-45, and one bad field must not hide the others.
    data: dict[str, Any] = {}
    positions: dict[str, tuple[int, int]] = {}
    for key_node, value_node in root.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        key = str(key_node.value)
        positions[key] = (key_node.start_mark.line + 1 + offset, key_node.start_mark.column + 1)
        try:
            data[key] = _construct(value_node)
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            diag(positions[key][0], f"cannot read '{key}': {getattr(exc, 'problem', None) or exc}",
                 col=positions[key][1])
            data[key] = _INVALID

    def at(key: str) -> tuple[int, int]:
        return positions.get(key, (1 + offset, 1))

    # Keys that look like review fields but are not ours (typos would be ignored silently).
    present = set(positions)
    for key in positions:
        if key in REVIEW_KEYS:
            continue
        close = difflib.get_close_matches(key, REVIEW_KEYS, n=1, cutoff=0.75)
        if "review" in key.lower() or close:
            hint = f"; did you mean '{close[0]}'?" if close else f" (review keys: {', '.join(REVIEW_KEYS)})"
            line, col = at(key)
            diag(line, f"unknown review key '{key}'{hint}", col=col, code="front-matter-key")

    data = {k: v for k, v in data.items() if v is not _INVALID}
    authors: tuple[str, ...] = ()
    if "authors" in data:
        raw = data["authors"]
        line, col = at("authors")
        if isinstance(raw, list) and raw and all(isinstance(a, str) and a.strip() for a in raw):
            authors = tuple(a.strip() for a in raw)
        else:
            diag(line, "'authors' must be a list of names, e.g. 'authors: [Jane Doe]'", col=col)

    reviewed_by: str | None = None
    if "reviewed_by" in data:
        raw = data["reviewed_by"]
        line, col = at("reviewed_by")
        if isinstance(raw, str) and raw.strip():
            reviewed_by = raw.strip()
        else:
            diag(line, "'reviewed_by' must be the reviewer's name", col=col)

    dates: dict[str, _dt.date | None] = {}
    for key in ("last_reviewed", "next_review"):
        if key not in data:
            dates[key] = None
            continue
        value = _as_date(data[key])
        line, col = at(key)
        if value is None:
            diag(line, f"'{key}' is not a date: '{data[key]}' (write YYYY-MM-DD)", col=col)
        dates[key] = value
    last, nxt = dates["last_reviewed"], dates["next_review"]

    interval: str | None = None
    if "review_interval" in data:
        raw = str(data["review_interval"])
        line, col = at("review_interval")
        if parse_interval(raw) is None:
            diag(line, f"'review_interval' is not an interval: '{raw}' "
                 "(write e.g. '12 months', '26 weeks' or '180 days')", col=col)
        else:
            interval = raw.strip()
            if "next_review" in present:
                diag(line, "both 'next_review' and 'review_interval' are set; 'next_review' wins",
                     level="warning", col=col)

    if reviewed_by and "last_reviewed" not in present:
        line, col = at("reviewed_by")
        diag(line, "'reviewed_by' is set but 'last_reviewed' is missing: add the date of the review", col=col)
    if last is not None and not reviewed_by:
        line, col = at("last_reviewed")
        diag(line, "'last_reviewed' is set but 'reviewed_by' is missing: name the reviewer",
             level="warning", col=col)
    if last is not None and nxt is not None and nxt < last:
        line, col = at("next_review")
        diag(line, f"'next_review' ({nxt.isoformat()}) is before 'last_reviewed' ({last.isoformat()})", col=col)
    today = today or _dt.datetime.now(_dt.UTC).date()
    if last is not None and last > today:
        line, col = at("last_reviewed")
        diag(line, f"'last_reviewed' ({last.isoformat()}) is in the future", level="warning", col=col)

    review = PageReview(
        authors=authors, reviewed_by=reviewed_by, last_reviewed=last, next_review=nxt,
        review_interval=interval,
        lines=tuple((k, at(k)[0]) for k in REVIEW_KEYS if k in present),
    )
    return review, diags


def validate_front_matter(path: str, text: str) -> list[Diagnostic]:
    """Every problem in a page's front matter, as ``file:line:col`` diagnostics.

    ``path`` is the name to report (e.g. ``docs/mechanism.md``); ``text`` the page source.
    Shared by the checker and the Markdown extension so every engine reports the same.
    """
    return sorted(read_front_matter(path, text)[1], key=lambda d: (d.line, d.col))

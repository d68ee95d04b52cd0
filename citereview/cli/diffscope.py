"""What a pull request touches: the lines it adds or edits, from ``git diff``.

GitHub shows ten annotations of each kind per step; a one-sentence edit must not drown in
notices about the rest of the page. ``check --changed … --base REF`` annotates only what
the change touches (errors anywhere in the changed files, claims on changed lines, reviews
the change invalidates) and ``queue --base REF`` leads the job summary with the same.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

from ..core.findings import Finding

_HUNK_RE = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class DiffError(Exception):
    """``git diff`` could not run (not a repository, unknown base)."""


def parse_diff(text: str) -> dict[str, set[int]]:
    """Added or changed line numbers (new side) per file, from ``git diff --unified=0``."""
    out: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            name = line[4:].strip()
            if name == "/dev/null":
                current = None
                continue
            name = name[2:] if name.startswith("b/") else name
            current = out.setdefault(name, set())
        elif current is not None and (m := _HUNK_RE.match(line)):
            start, count = int(m.group(1)), int(m.group(2) if m.group(2) is not None else 1)
            current.update(range(start, start + count))
    return out


def changed_lines(base: str, paths: Iterable[str] = (), cwd: str | Path | None = None) -> dict[str, set[int]]:
    """Lines added or changed since ``base`` (working tree included), paths relative to ``cwd``."""
    cmd = ["git", "diff", "--unified=0", "--no-color", "--no-ext-diff", "--relative", base, "--", *paths]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        raise DiffError(f"cannot run git diff: {exc}") from exc
    if done.returncode != 0:
        raise DiffError(f"git diff {base} failed: {done.stderr.strip() or done.returncode}")
    return parse_diff(done.stdout)


def touched(f: Finding, lines: dict[str, set[int]]) -> bool:
    """Whether the change touches this finding: errors in changed files, reviews the change
    invalidates (a sentence changed since its review), and anything on a changed line."""
    if f.level == "error":
        return True
    if f.code == "cite" and f.status == "stale":
        return True
    return f.line in lines.get(f.file, ())

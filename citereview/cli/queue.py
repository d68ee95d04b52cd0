"""The review queue as text: plain for a terminal, Markdown for a pull request's job summary.

The queue and its outline come from :mod:`citereview.core.queue`; the site page renders the
same outline (:mod:`citereview.mdext.queuepage`).
"""

from __future__ import annotations

import html
from typing import Any

from ..core.claims import plain_diff, word_diff
from ..core.queue import FOLD_AFTER, Entry, Queue, change_items, outline
from ..core.urls import page_url

#: GitHub's limit for one step's summary is 1 MiB; stay well inside it.
SUMMARY_BUDGET = 1_000_000


def render_text(q: Queue, lines: dict[str, set[int]] | None = None) -> str:
    """Plain text for a terminal: counts, then every item with its file:line:col."""
    out = [f"Review queue ({q.today.isoformat()}): {q.total} item(s)"]
    if lines is not None:
        invalidated, new = change_items(q, lines)
        for title, items in (("Reviews this change invalidates", invalidated), ("New claims needing review", new)):
            out += ["", f"== {title} ({len(items)}) =="]
            for i in items:
                out.append(f"- {q.ref_short(i.key or '')}  [{i.file}:{i.line}:{i.col}]")
                out.append(f"    “{i.sentence}”")
                if i.before:
                    out.append(f"    was: “{i.before}” (checked {i.reviewed})")
        out.append("")
    out += [f"  {n:5d}  {label}" for _, label, n in q.counts()]

    def entry(e: Entry, indent: str) -> None:
        head = f"{indent}- {e.label}"
        if e.where:
            head += f"  [{e.where}]"
        out.append(head)
        if e.quote:
            out.append(f"{indent}    “{e.quote}”")
        if e.before:
            out.append(f"{indent}    was: “{e.before}”")
            out.append(f"{indent}    diff: {plain_diff(e.before, e.quote)}")
        if e.note:
            out.append(f"{indent}    Reviewer note: {e.note}")
        for child in e.children:
            entry(child, indent + "  ")

    for section in outline(q):
        out += ["", f"== {section.title} =="]
        if section.intro:
            out.append(section.intro)
        for group in section.groups:
            if group.title:
                out += ["", f"-- {group.title}" + (f" ({q.file(group.target)})" if group.target else "")]
            if group.intro:
                out.append(group.intro)
            for e in group.entries:
                entry(e, "")
    return "\n".join(out) + "\n"


def _site_url(config: dict[str, Any] | None, target: str | None) -> str | None:
    """Absolute URL of a docs-relative ``page.md#anchor`` on the published site."""
    if not target or not config or not config.get("site_url"):
        return None
    path, _, anchor = target.partition("#")
    url = page_url(path, bool(config.get("use_directory_urls", True)))
    url = "" if url == "./" else url
    base = str(config["site_url"]).rstrip("/") + "/"
    return base + url + (f"#{anchor}" if anchor else "")


def render_markdown(q: Queue, config: dict[str, Any] | None = None, lines: dict[str, set[int]] | None = None,
                    budget: int = SUMMARY_BUDGET) -> str:
    """GitHub-flavoured Markdown (for ``$GITHUB_STEP_SUMMARY``), large groups folded.

    With ``lines`` (what a pull request changed), it leads with the reviews the change
    invalidates and the new claims it adds. The text is cut to ``budget`` bytes (GitHub
    rejects a step summary over 1 MiB), saying where the rest is.
    """
    esc = lambda s: html.escape(s, quote=False).replace("|", "\\|").replace("[", "\\[")  # noqa: E731
    out: list[str] = []
    if lines is not None:
        invalidated, new = change_items(q, lines)
        out += [f"## Reviews this change invalidates ({len(invalidated)})", ""]
        out += [] if invalidated else ["None: no reviewed sentence was changed.", ""]
        for i in invalidated:
            out.append(f"- **{esc(q.ref_short(i.key or ''))}** `{i.file}:{i.line}` (checked {i.reviewed})")
            out.append("  Changes: " + " ".join(
                {"=": esc(text), "-": f"~~{esc(text)}~~", "+": f"**{esc(text)}**"}[op]
                for op, text in word_diff(i.before, i.sentence)))
        out += ["", f"## New claims needing review ({len(new)})", ""]
        out += [] if new else ["None on the changed lines.", ""]
        for i in new:
            out.append(f"- {esc(q.ref_short(i.key or ''))} `{i.file}:{i.line}`")
            out.append(f"  > {esc(i.sentence)}")
        out.append("")
    out += ["## Citation review queue", "", f"As of {q.today.isoformat()}:", "",
            "| Flag | Count |", "| --- | ---: |"]
    out += [f"| {esc(label)} | {n} |" for _, label, n in q.counts()]

    def link(text: str, target: str | None) -> str:
        url = _site_url(config, target)
        return f"[{esc(text)}]({url})" if url else esc(text)

    def entry(e: Entry, indent: str) -> None:
        line = f"{indent}- {link(e.label, e.target)}"
        if e.where:
            line += f" `{e.where}`"
        if e.edit:
            line += f" · [edit]({e.edit})"
        out.append(line)
        if e.quote:
            out.append(f"{indent}  > {esc(e.quote)}")
        if e.before:
            out.append(f"{indent}  Before: {esc(e.before)}")
            out.append(f"{indent}  Changes: " + " ".join(
                {"=": esc(text), "-": f"~~{esc(text)}~~", "+": f"**{esc(text)}**"}[op]
                for op, text in word_diff(e.before, e.quote)))
        if e.note:
            out.append(f"{indent}  Reviewer note: {esc(e.note)}")
        if e.children:
            folded = len(e.children) > FOLD_AFTER
            if folded:
                out.extend(["", f"{indent}  <details><summary>Show {len(e.children)}</summary>", ""])
            for child in e.children:
                entry(child, indent + "  ")
            if folded:
                out.extend(["", f"{indent}  </details>", ""])

    for section in outline(q):
        out += ["", f"### {section.title}", ""]
        if section.intro:
            out.append(esc(section.intro))
        for group in section.groups:
            folded = len(group.entries) > FOLD_AFTER
            title = link(group.title, group.target) if group.title else ""
            if folded:
                summary = html.escape(group.title or f"{len(group.entries)} references")
                out += ["", f"<details><summary>{summary} ({len(group.entries)} items)</summary>", ""]
            elif title:
                out += ["", f"#### {title}", ""]
            if group.intro:
                out += [esc(group.intro), ""]
            for e in group.entries:
                entry(e, "")
            if folded:
                out += ["", "</details>"]
    return _fit("\n".join(out) + "\n", budget)


def _fit(text: str, budget: int) -> str:
    """``text`` cut at a line end to fit ``budget`` bytes, open folds closed, with a note."""
    data = text.encode("utf-8")
    if len(data) <= budget:
        return text
    note = ("\n\n**The rest of the queue is not shown here** (GitHub limits a job summary to 1 MiB): "
            "run `python -m citereview queue` for all of it.\n")
    cut = data[: budget - 4096].decode("utf-8", "ignore")
    cut = cut[: cut.rfind("\n") + 1]
    opened = cut.count("<details>") - cut.count("</details>")
    return cut + "\n</details>\n" * max(opened, 0) + note



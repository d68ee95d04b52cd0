"""Citation benchmark: what does ``citereview`` cost on top of a plain Material build?

Generates a synthetic site in a temporary directory (pages of realistic prose with Pandoc
citations, a CSL-YAML bibliography in our format and an equivalent BibTeX file) and builds
it with plain ``mkdocs build`` three ways:

  (a) plain Material, citations left as text (the baseline),
  (b) with our ``citereview`` extension and plugin,
  (c) with mkdocs-bibtex in its default pybtex mode (no pandoc), the usual reference point.

It prints each build's time and its ratio to (a), cold and warm, the peak memory of the
cold builds and its ratio to (a), then the scaling of (b) against (a) from ``--pages`` to
ten times as many. The targets are printed as PASS/FAIL words, never asserted: timings
depend on the machine, so they belong in a benchmark report, not in a test that could fail
on a busy CI runner.

Measurements
------------
All time ratios compare CPU time (user + system of the build process): MkDocs builds on one
thread, so CPU time is the work done whatever else a shared machine is running; wall time
is printed alongside. Peak memory is measured on the cold builds.

cold
    A fresh ``python -m mkdocs build`` process per run: interpreter start, imports,
    bibliography parsing and formatting all included, no in-process cache survives.
bytecode
    Every module of every variant is imported from compiled bytecode, as from an
    installation: pip compiles a wheel's modules when it installs them (MkDocs, Material,
    citeproc-py and the rest here, and citereview from its wheel). A checkout installed in
    editable mode has no bytecode until Python writes it on first import, and where writing
    is off (``PYTHONDONTWRITEBYTECODE``, set on this machine and in many CI images) every
    build would compile citereview's sources again: about 80 ms of a 7 s build, charged to
    (b) alone. So the benchmark first compiles the citereview package the builds import
    (:func:`compile_package`; ``__pycache__`` is ignored by Git), like pip would have.
peak memory
    The peak resident set size of each cold build's process, reported by the process itself
    at exit (``VmHWM`` from ``/proc/self/status``; ``ru_maxrss`` where there is no /proc),
    through a few lines of wrapper that run ``mkdocs`` as ``python -m`` does. Not
    ``ru_maxrss`` of the child seen from here: subprocess starts children with vfork and
    exec, and Linux carries the parent's peak into the child's ``ru_maxrss`` (a parent
    holding 500 MiB made a 10 MiB child report 511 MiB); ``getrusage(RUSAGE_CHILDREN)``
    is the largest child's peak so far, not this child's.
warm
    The ``mkdocs serve`` edit loop, reproduced in one worker process exactly as
    ``mkdocs.commands.serve`` does it: load the config, call the plugins' ``on_startup``
    once, build once (not timed), then per run *edit one page* (append a cited sentence),
    reload the config and call ``mkdocs.commands.build.build`` again. We edit a page rather
    than rebuilding an unchanged tree because that is what triggers a rebuild in
    ``mkdocs serve``, and because caches keyed on file content or mtime (ours are) must not
    be able to skip work a real edit would cause. For each of ``--runs``, every variant
    starts one such worker; the workers rebuild in turn, one at a time, 2 rebuilds each,
    and the median of all rebuilds is reported. (This machine's speed drifts by several per
    cent within minutes: workers run one after the other measured that drift as much as the
    extension. And a process keeps its own speed while it lives: one pair of workers for
    all rounds measured their difference as the extension's, hence a new pair per run.)
scaling
    The same workers at ``--pages`` and at 10 × ``--pages`` for (a) and (b), with
    ``--scaling-runs`` (default 2) for the big site, which takes minutes a build. Linearity
    is judged on the per-page phases where a Markdown extension and the search indexer work
    (Markdown conversion and the ``page_context`` event, clocked inside the worker): the
    extension's overhead per page there (b − a) should stay flat. The overhead is the
    median over rounds of each round's difference (the two workers rebuild in turn, so a
    round's pair shares the machine's speed at that moment): a difference of medians mixed
    that drift into a signal of under 1 ms a page. Whole builds are printed too, but Material renders the whole nav into
    every page, so their cost per page grows with the site in every variant.

ratios and their spread
    Each ratio is printed as the median of (b) over the median of (a), and for the targets
    also as the median of the per-pair ratios (cold run r of (a) and (b) run back to back;
    warm round r likewise) with a bootstrap 95 % confidence interval. A target whose
    interval straddles it is not settled by that run: add ``--runs``.
instructions (``--instructions``)
    The same cold build and serve-loop rebuild, counted in instructions executed with
    valgrind's cachegrind instead of timed. On a shared virtual machine the CPU time of one
    and the same build varies by ±15 % from run to run (a pure-Python loop does too), so a
    5 % target drowns in noise unless hundreds of builds are timed; the instruction count
    of a build is the same to within 0.1 % every time. It is a proxy, not CPU time (cache
    misses and memory stalls are not counted), and builds run about 20 times slower, so it
    is a separate mode. A rebuild is counted as (first build + 2 rebuilds) minus (first
    build alone), divided by 2.

Usage: ``python bench/build_bench.py [--pages 200] [--runs 3] [--skip-bibtex]
[--skip-scaling] [--scaling-runs 2] [--profile] [--instructions]``. mkdocs-bibtex is optional: ``pip install -r
bench/requirements.txt``; without it, variant (c) is reported as skipped.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import logging
import os
import pstats
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
TARGET_COLD = 1.15
TARGET_WARM = 1.05
#: Peak resident memory of a cold build of (b), as a multiple of the plain build's.
TARGET_MEMORY = 1.3
#: Overhead per page at 10x the pages may grow by this factor and still count as linear
#: (timing noise on a shared machine; a quadratic cost would show as ~10x).
LINEAR_TOLERANCE = 1.25
#: Warm rebuilds per variant for each of ``--runs``.
REBUILDS_PER_WORKER = 2
VARIANTS = {"plain": "(a) plain Material", "ours": "(b) citereview", "bibtex": "(c) mkdocs-bibtex"}

# ---------------------------------------------------------------------------------------
# Synthetic content
# ---------------------------------------------------------------------------------------

FAMILIES = """Abdallah Berman Carhart Daly Fava Gomez Hashimoto Ionescu Jansen Krystal Lener
Murrough Nemeroff Olsen Popova Quinn Rosenblat Sanacora Thase Usman Vollenweider Wilkinson
Xu Yamada Zarate Andrade Bahji Coyle Duman Esterlis Fond Grunebaum Hess Iadarola Kishimoto
Lally McIntyre Newport Ostadhadi Phillips Rodrigues Singh Trivedi Vande Weber Zanos""".split()
GIVENS = "Anna Ben Carla David Elena Farid Grace Hiro Ines Jonas Kemal Lena Maria Noor Oskar".split()
JOURNALS = """Am J Psychiatry|JAMA Psychiatry|Lancet Psychiatry|Biol Psychiatry|Mol Psychiatry
|Neuropsychopharmacology|J Affect Disord|Br J Psychiatry|Psychol Med|Anesth Analg
|Int J Neuropsychopharmacol|J Clin Psychiatry|Nature|N Engl J Med|BMJ""".replace("\n", "").split("|")
TITLE_WORDS = """ketamine esketamine depression infusion intranasal randomized trial efficacy safety
treatment-resistant suicidal ideation glutamate NMDA receptor antagonist rapid antidepressant
effects adults adolescents placebo-controlled meta-analysis systematic review cohort outcomes
dissociation bladder toxicity abuse liability maintenance dosing remission relapse""".split()
SUBJECTS = ["Ketamine", "Esketamine", "A single subanaesthetic infusion", "Intranasal esketamine",
            "Repeated dosing", "The racemic mixture", "Oral ketamine", "Maintenance treatment",
            "NMDA receptor blockade", "The active metabolite"]
VERBS = ["reduced", "was associated with", "did not change", "modestly improved", "increased",
         "rapidly lowered", "was compared with", "predicted", "was linked to", "outperformed"]
OBJECTS = ["depressive symptoms", "suicidal ideation", "relapse rates", "blood pressure",
           "dissociative effects", "urinary tract symptoms", "remission at four weeks",
           "response rates", "cognitive test scores", "plasma BDNF levels"]
SETTINGS = ["in adults with treatment-resistant depression", "in a placebo-controlled trial",
            "in an open-label extension", "in outpatients", "in emergency department patients",
            "in older adults", "in a naturalistic cohort", "compared with midazolam",
            "over 24 hours", "within one week"]
LOCATORS = ["p. 33", "pp. 210-214", "table 2", "fig. 3", "chap. 4", "suppl. S1"]


@dataclass
class Site:
    """Paths of one generated site."""

    root: Path
    docs: Path
    pages: int
    configs: dict[str, Path] = field(default_factory=dict)
    #: Each variant builds its own copy of the pages, so that workers can run side by side
    #: and edit a page without touching another variant's input.
    docs_for: dict[str, Path] = field(default_factory=dict)
    edit_rel: str = ""
    edit_key: str = ""
    md_files: int = 0

    def edit_page(self, variant: str) -> Path:
        return self.docs_for[variant] / self.edit_rel


def make_references(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """CSL items in our format: mostly journal articles, some books and web pages."""
    refs: list[dict[str, Any]] = []
    seen: set[str] = set()
    evidence = ["meta-analysis", "systematic-review", "randomised-trial", "observational-study",
                "case-report", "animal-or-cell-study", "narrative-review", "guideline"]
    for i in range(count):
        authors = [{"family": rng.choice(FAMILIES), "given": rng.choice(GIVENS)}
                   for _ in range(rng.randint(1, 6))]
        year = rng.randint(1995, 2025)
        words = rng.sample(TITLE_WORDS, rng.randint(5, 11))
        key = f"{authors[0]['family'].lower()}{year}{words[0].lower().split('-')[0]}"
        while key in seen:
            key += "x"
        seen.add(key)
        title = " ".join(words).capitalize()
        kind = "article-journal" if i % 20 not in (7, 13) else ("book" if i % 20 == 7 else "webpage")
        ref: dict[str, Any] = {"id": key, "type": kind, "author": authors, "title": title}
        if kind == "article-journal":
            first = rng.randint(1, 2400)
            ref.update({
                "container-title": rng.choice(JOURNALS), "issued": {"date-parts": [[year]]},
                "volume": str(rng.randint(1, 190)), "issue": str(rng.randint(1, 12)),
                "page": f"{first}-{first + rng.randint(4, 14)}", "DOI": f"10.{1000 + i}/bench.{year}.{i}",
            })
        elif kind == "book":
            ref.update({"publisher": "Oxford University Press", "publisher-place": "Oxford",
                        "issued": {"date-parts": [[year]]}})
        else:
            ref.update({"URL": f"https://example.org/ketamine/{key}", "issued": {"date-parts": [[year]]}})
        ref["evidence"] = rng.choice(evidence)
        ref["review"] = {"status": "unreviewed"}
        refs.append(ref)
    return refs


def bibtex_entry(ref: dict[str, Any]) -> str:
    """The same reference as BibTeX, for mkdocs-bibtex (pybtex's plain style)."""
    authors = " and ".join(f"{a['family']}, {a['given']}" for a in ref["author"])
    year = ref["issued"]["date-parts"][0][0]
    fields = {"author": authors, "title": "{" + ref["title"] + "}", "year": str(year)}
    if ref["type"] == "article-journal":
        kind = "article"
        fields.update({"journal": ref["container-title"], "volume": ref["volume"],
                       "number": ref["issue"], "pages": ref["page"].replace("-", "--"), "doi": ref["DOI"]})
    elif ref["type"] == "book":
        kind = "book"
        fields.update({"publisher": ref["publisher"], "address": ref["publisher-place"]})
    else:
        kind = "misc"
        fields.update({"howpublished": "\\url{" + ref["URL"] + "}"})
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@{kind}{{{ref['id']},\n{body}\n}}\n"


def citation(rng: random.Random, keys: list[str]) -> str:
    """One citation group: mostly single keys, some multi-citations, locators and prefixes."""
    roll = rng.random()
    if roll < 0.15:
        return "[" + "; ".join(f"@{k}" for k in rng.sample(keys, rng.randint(2, 3))) + "]"
    if roll < 0.27:
        return f"[@{rng.choice(keys)}, {rng.choice(LOCATORS)}]"
    if roll < 0.32:
        return f"[see @{rng.choice(keys)}, {rng.choice(LOCATORS)}]"
    return f"[@{rng.choice(keys)}]"


def sentence(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(SETTINGS)}"


def make_page(rng: random.Random, title: str, keys: list[str], cites: int) -> str:
    """A page of prose, lists, a table and an admonition carrying ``cites`` citation groups."""
    # Draw a page's keys from a local pool so references repeat on a page, as they do.
    pool = rng.sample(keys, min(len(keys), max(3, cites * 2 // 3)))
    sentences = max(cites * 2, 30)
    cited = set(rng.sample(range(sentences), min(cites, sentences)))
    out = [f"# {title}", "", f"{sentence(rng)}. This page is synthetic benchmark text.", ""]
    for i in range(sentences):
        if i % 8 == 0:
            out += ["", f"## {rng.choice(OBJECTS).capitalize()} {i // 8 + 1}", ""]
        text = sentence(rng)
        if i in cited:
            text += " " + citation(rng, pool)
        if i % 8 == 5:
            out.append(f"- {text}.")
        elif i % 16 == 6:
            out += ["", "| Outcome | Finding |", "| --- | --- |", f"| {rng.choice(OBJECTS)} | {text} |", ""]
        elif i % 24 == 7:
            out += ["", '!!! note "Evidence"', "", f"    {text}.", ""]
        else:
            out.append(f"{text}.")
            if i % 4 == 3:
                out.append("")
    return "\n".join(out) + "\n"


def generate(root: Path, pages: int, n_refs: int, cites: int, seed: int = 1) -> Site:
    """Write docs, bibliographies and the three mkdocs configs below ``root``."""
    rng = random.Random(seed)
    docs = root / "docs"
    bib_dir = root / "bib"
    docs.mkdir(parents=True)
    bib_dir.mkdir()
    refs = make_references(rng, n_refs)
    keys = [r["id"] for r in refs]
    header = "# Synthetic benchmark bibliography (CSL-YAML + evidence + review).\n"
    (bib_dir / "bibliography.yaml").write_text(
        header + yaml.safe_dump({"references": refs}, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (bib_dir / "refs.bib").write_text("\n".join(bibtex_entry(r) for r in refs), encoding="utf-8")

    site = Site(root=root, docs=docs, pages=pages)
    (docs / "index.md").write_text("# Benchmark site\n\nSynthetic pages with citations.\n", encoding="utf-8")
    per_section = 25
    for i in range(pages):
        section = docs / f"topic-{i // per_section + 1:02d}"
        section.mkdir(exist_ok=True)
        path = section / f"page-{i + 1:04d}.md"
        path.write_text(make_page(rng, f"Topic page {i + 1}", keys, cites), encoding="utf-8")
        if not site.edit_rel:
            site.edit_rel = path.relative_to(docs).as_posix()
    site.edit_key = keys[0]
    # The site-wide list: our `[bibliography]` marker, mkdocs-bibtex's `\full_bibliography`.
    (docs / "references.md").write_text("# References\n\n[bibliography]\n", encoding="utf-8")
    site.md_files = pages + 2
    for variant in VARIANTS:
        site.docs_for[variant] = root / f"docs-{variant}"
        shutil.copytree(docs, site.docs_for[variant])
    (site.docs_for["bibtex"] / "references.md").write_text(
        "# References\n\n\\full_bibliography\n", encoding="utf-8")
    write_configs(site, bib_dir)
    return site


def repo_extensions() -> list[Any]:
    """The repo's ``markdown_extensions`` minus ours, with snippet paths made absolute."""
    data = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    result: list[Any] = []
    for item in data.get("markdown_extensions", []):
        name = item if isinstance(item, str) else next(iter(item))
        if name == "citereview":
            continue
        if name == "pymdownx.snippets" and isinstance(item, dict):
            opts = dict(item[name] or {})
            opts["base_path"] = [str(REPO)]
            item = {name: opts}
        result.append(item)
    return result


def write_configs(site: Site, bib_dir: Path) -> None:
    """Three configs that differ only in how citations are processed."""
    base: dict[str, Any] = {
        "site_name": "Citation benchmark",
        "theme": {"name": "material", "font": False},
        "plugins": ["search"],
        "markdown_extensions": repo_extensions(),
    }
    plain = dict(base, docs_dir=str(site.docs_for["plain"]))
    # As the site runs it: the plugin (search trimming and compact pages on, its own
    # stylesheet) and the extension with the site's prefix and evidence kinds.
    ours = dict(base, docs_dir=str(site.docs_for["ours"]),
                plugins=["search", {"citereview": {"search_trim": True, "compact_pages": True}}])
    ours["markdown_extensions"] = [*base["markdown_extensions"], {"citereview": {
        "bibliography": str(bib_dir / "bibliography.yaml"), "docs_dir": str(site.docs_for["ours"]),
        "class_prefix": "ke-", "evidence": True}}]
    # mkdocs-bibtex: default SimpleRegistry (pybtex "plain" style); with `csl_file` it would
    # shell out to pandoc instead. It needs the footnotes extension (already in the list).
    bibtex = dict(base, docs_dir=str(site.docs_for["bibtex"]),
                  plugins=["search", {"bibtex": {"bib_file": str(bib_dir / "refs.bib")}}])
    for name, cfg in (("plain", plain), ("ours", ours), ("bibtex", bibtex)):
        path = site.root / f"mkdocs-{name}.yml"
        path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
        site.configs[name] = path


# ---------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------


def env() -> dict[str, str]:
    return dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONHASHSEED="0")


def compile_package() -> Path:
    """Compile the citereview package that the builds import to bytecode, as installing its
    wheel does (see "bytecode" in the module docstring); returns its folder."""
    import compileall

    where = subprocess.run([sys.executable, "-c", "import citereview, os; print(os.path.dirname(citereview.__file__))"],
                           env=env(), capture_output=True, text=True, check=True).stdout.strip()
    compileall.compile_dir(where, quiet=1)
    return Path(where)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


#: ``python -c`` program: ``python -m mkdocs ARGS…`` that writes its own peak resident set
#: size (KiB) to the file named first, at exit. Standard library only, so that it adds
#: nothing to the memory it measures (see "peak memory" in the module docstring).
PEAK_WRAPPER = """\
import atexit, runpy, sys
out = sys.argv[1]
def _peak():
    kib = 0
    try:
        with open('/proc/self/status') as fh:
            kib = next((int(line.split()[1]) for line in fh if line.startswith('VmHWM:')), 0)
    except OSError:
        pass
    if not kib:
        import resource
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        kib = kib // 1024 if sys.platform == 'darwin' else kib
    with open(out, 'w') as fh:
        fh.write(str(kib))
atexit.register(_peak)
sys.argv = ['mkdocs', *sys.argv[2:]]
runpy.run_module('mkdocs', run_name='__main__', alter_sys=True)
"""


def cold_build(site: Site, variant: str) -> tuple[float, float, int, float]:
    """One fresh ``mkdocs build`` process; returns (wall s, CPU s, warning lines, peak MiB).

    CPU time (user + system of the child) is the figure we compare: MkDocs builds on one
    thread, so it is the work done, whatever else the machine is running; wall time is
    printed alongside. The peak is the child's own high-water mark of resident memory.
    """
    out = site.root / f"site-{variant}"
    peak_file = site.root / f"peak-{variant}.kib"
    peak_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-c", PEAK_WRAPPER, str(peak_file),
           "build", "-f", str(site.configs[variant]), "-d", str(out)]
    cpu0 = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=site.root, env=env(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    cpu = _children_cpu() - cpu0
    if proc.returncode != 0:
        raise SystemExit(f"{variant}: mkdocs build failed:\n{proc.stderr[-3000:]}")
    try:
        peak = int(peak_file.read_text(encoding="utf-8")) / 1024
    except (OSError, ValueError):
        peak = float("nan")
    warnings = sum(1 for line in proc.stderr.splitlines() if line.startswith("WARNING"))
    return elapsed, cpu, warnings, peak


def _worker_cmd(site: Site, variant: str, runs: int, profile: Path | None = None) -> list[str]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(site.configs[variant]),
           "--site-dir", str(site.root / f"site-{variant}-warm"), "--runs", str(runs),
           "--edit-page", str(site.edit_page(variant)), "--edit-key", site.edit_key]
    return cmd + (["--profile-out", str(profile)] if profile else [])


def _worker_result(variant: str, proc: subprocess.CompletedProcess[str] | subprocess.Popen[str],
                   out: str, err: str) -> dict[str, Any]:
    if proc.returncode != 0:
        raise SystemExit(f"{variant}: warm worker failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def warm_builds(site: Site, variant: str, runs: int, profile: Path | None = None) -> dict[str, Any]:
    """Run the serve-loop worker in a fresh process; returns its JSON result."""
    proc = subprocess.run(_worker_cmd(site, variant, runs, profile), cwd=site.root, env=env(),
                          capture_output=True, text=True, check=False)
    return _worker_result(variant, proc, proc.stdout, proc.stderr)


class Stepper:
    """A serve-loop worker kept alive and told to rebuild once at a time.

    The machine's speed drifts by several per cent within minutes, so workers run one
    after the other measured that drift as much as the extension. Kept-alive workers of
    every variant rebuild in turn instead, each alone on the machine, a few seconds apart.
    """

    def __init__(self, site: Site, variant: str):
        self.variant = variant
        # stderr to a file: a chatty worker must not block on a full pipe nobody reads.
        self.err = site.root / f"worker-{variant}.err"
        with self.err.open("w") as err:
            self.proc = subprocess.Popen([*_worker_cmd(site, variant, 0), "--stepwise"], cwd=site.root,
                                         env=env(), text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err)
        self.start = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=60)
            err = self.err.read_text(encoding="utf-8", errors="replace")
            raise SystemExit(f"{self.variant}: warm worker failed:\n{err[-3000:]}")
        return json.loads(line)

    def step(self) -> dict[str, float]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("build\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=120)


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class _GCTimer:
    """Seconds spent in the cyclic garbage collector: it grows with everything kept alive."""

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0
        gc.callbacks.append(self)

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.process_time()
        else:
            self.total += time.process_time() - self._start


def worker(config_file: str, site_dir: str, runs: int, edit_page: str, edit_key: str,
           profile_out: str | None, stepwise: bool = False) -> None:
    """The ``mkdocs serve`` rebuild loop, in this process (see the module docstring)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.plugins import PluginCollection
    from mkdocs.structure.pages import Page

    # CPU time of the per-page phases where a Markdown extension and the search plugin work
    # (Markdown conversion, the page_context event), apart from template rendering, whose
    # cost per page grows with the size of the nav in every variant.
    phases = [0.0]

    def clocked(func):
        def wrapper(*args, **kwargs):
            start = time.process_time()
            try:
                return func(*args, **kwargs)
            finally:
                phases[0] += time.process_time() - start
        return wrapper

    Page.render = clocked(Page.render)  # type: ignore[method-assign]
    PluginCollection.on_page_context = clocked(PluginCollection.on_page_context)  # type: ignore[method-assign]

    counter = _Count()
    mk_log = logging.getLogger("mkdocs")
    mk_log.addHandler(counter)
    mk_log.propagate = False
    mk_log.setLevel(logging.WARNING)
    gc_timer = _GCTimer()

    def get_config():
        return load_config(config_file=config_file, site_dir=site_dir)

    def timed(config, profile_path: str | None) -> dict[str, float]:
        profiler = cProfile.Profile() if profile_path else None
        gc0, cpu0, wall0, phase0 = gc_timer.total, time.process_time(), time.perf_counter(), phases[0]
        if profiler:
            profiler.enable()
        build(config)
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile_path)
        return {"wall": time.perf_counter() - wall0, "cpu": time.process_time() - cpu0,
                "gc": gc_timer.total - gc0, "pages": phases[0] - phase0}

    page = Path(edit_page)
    original = page.read_text(encoding="utf-8")
    edits = [0]

    def rebuild(profile_path: str | None = None) -> dict[str, float]:
        edits[0] += 1
        with page.open("a", encoding="utf-8") as fh:
            fh.write(f"\nAn edited sentence, revision {edits[0]} [@{edit_key}].\n")
        return timed(get_config(), profile_path)

    try:
        config = get_config()
        config.plugins.on_startup(command="serve", dirty=False)
        first = timed(config, profile_out)
        first_warnings = counter.count
        if stepwise:
            # Driven by the parent one rebuild at a time, in turn with the other variants.
            print(json.dumps({"first": first, "warnings_first_build": first_warnings}), flush=True)
            for line in sys.stdin:
                if line.strip() != "build":
                    break
                print(json.dumps(rebuild()), flush=True)
        else:
            rebuilds = [rebuild(f"{profile_out}.warm" if profile_out and i == runs - 1 else None)
                        for i in range(runs)]
            print(json.dumps({"first": first, "warm": rebuilds, "warnings_first_build": first_warnings}))
        config.plugins.on_shutdown()
    finally:
        page.write_text(original, encoding="utf-8")


def floor_worker(bib_path: str, mode: str) -> None:
    """One fresh process: the fixed costs every cold build of (b) pays, printed as JSON.

    ``mode`` is ``shipped`` (citeproc-py with citereview's memo, as builds run it) or
    ``stock`` (citeproc-py's own code throughout, for comparison).
    """
    sys.path.insert(0, str(REPO))
    cpu = time.process_time
    start = cpu()
    from citereview.core import bibliography
    from citereview.csl.formatter import DEFAULT_STYLE, Formatter

    imported = cpu()
    bib = bibliography.load(bib_path, evidence=True)  # as builds read it: hashed, parsed, validated
    parsed = cpu()
    formatter = Formatter(DEFAULT_STYLE, speed_ups=mode != "stock")
    formatter.style  # noqa: B018 - load the style now, to time it apart
    styled = cpu()
    for ref in bib.references.values():
        formatter.format(ref, digest=bib.digest)
    formatted = cpu()
    print(json.dumps({"import": imported - start, "parse": parsed - imported, "style": styled - parsed,
                      "format": formatted - styled, "refs": len(bib.references)}))


def cold_floor(site: Site, runs: int) -> dict[str, dict[str, float]]:
    """Medians of :func:`floor_worker` for both modes, alternating, one process per run."""
    bib = site.root / "bib" / "bibliography.yaml"
    samples: dict[str, list[dict[str, float]]] = {"shipped": [], "stock": []}
    for i in range(runs):
        for mode in (("shipped", "stock") if i % 2 == 0 else ("stock", "shipped")):
            proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--floor-worker", str(bib),
                                   "--floor-mode", mode], env=env(), capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise SystemExit(f"floor worker ({mode}) failed:\n{proc.stderr[-3000:]}")
            samples[mode].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {mode: {k: _median([s[k] for s in rows]) for k in rows[0]} for mode, rows in samples.items()}


def floor_table(floor: dict[str, dict[str, float]], results: dict[str, Result]) -> list[str]:
    """The fixed part of a cold build's extra cost, against the plain build and the budget."""
    plain = results["plain"].cold
    extra = results["ours"].cold - plain
    shipped, stock = floor["shipped"], floor["stock"]
    refs = int(shipped["refs"])

    def row(label: str, seconds: float) -> str:
        return f"| {label} | {seconds:.3f} | {100 * seconds / plain:.1f} % |"

    fixed = shipped["import"] + shipped["parse"] + shipped["style"] + shipped["format"]
    return [
        "### Where the cold overhead goes (fresh processes, CPU, median)", "",
        "| Step | s | of the plain cold build |", "| --- | ---: | ---: |",
        row("Cold overhead of (b), measured above", extra),
        row(f"Budget at the ≤ {TARGET_COLD}× target", (TARGET_COLD - 1) * plain),
        row("Import citereview", shipped["import"]),
        row(f"Parse and validate the {refs}-entry bibliography", shipped["parse"]),
        row("Load the CSL style (imports citeproc-py and lxml)", shipped["style"]),
        row(f"Format {refs} references with citeproc-py, as shipped (memoised look-ups)", shipped["format"]),
        row("… the same with citeproc-py's own code, for comparison", stock["format"]),
        row("Rest: every page's citations, the References page, bigger pages to index and write",
            extra - fixed),
    ]


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def paired_ratios(plain: list[float], ours: list[float]) -> list[float]:
    """(b)/(a) of each pair of runs made one right after the other (cold run r, warm round r)."""
    return [o / p for p, o in zip(plain, ours, strict=False) if p > 0]


def median_interval(values: list[float], level: float = 0.95, resamples: int = 4000) -> tuple[float, float]:
    """A bootstrap confidence interval of the median (fixed seed: the same runs give the
    same interval). How far the measured ratio can be trusted on a noisy machine."""
    if len(values) < 2:
        return float("nan"), float("nan")
    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples))
    tail = (1 - level) / 2
    return medians[int(tail * resamples)], medians[min(resamples - 1, int((1 - tail) * resamples))]


def spread(plain: list[float], ours: list[float]) -> str:
    """``paired 1.031×, 95 % CI 1.004–1.058×, 10 pairs``: the figure to judge a target by."""
    ratios = paired_ratios(plain, ours)
    if len(ratios) < 2:
        return f"paired {_median(ratios):.3f}×, {len(ratios)} pair, no interval"
    low, high = median_interval(ratios)
    return f"paired {_median(ratios):.3f}×, 95 % CI {low:.3f}–{high:.3f}×, {len(ratios)} pairs"


@dataclass
class Result:
    """Timings of one variant on one site: CPU seconds are compared, wall shown."""

    cold_wall: list[float] = field(default_factory=list)
    cold_cpu: list[float] = field(default_factory=list)
    #: Peak resident memory of each cold build, MiB.
    cold_peak: list[float] = field(default_factory=list)
    first: dict[str, float] = field(default_factory=dict)
    warm: list[dict[str, float]] = field(default_factory=list)
    warnings: int = 0

    @property
    def cold(self) -> float:
        return _median(self.cold_cpu)

    @property
    def peak(self) -> float:
        return _median(self.cold_peak)

    def warm_median(self, key: str = "cpu") -> float:
        return _median([w[key] for w in self.warm])


def measure(site: Site, variants: list[str], runs: int, with_cold: bool = True) -> dict[str, Result]:
    """Cold runs interleaved across variants (drift hits all alike), then the warm worker."""
    results = {v: Result() for v in variants}
    if with_cold:
        for r in range(runs):
            for v in variants:
                wall, cpu, warnings, peak = cold_build(site, v)
                results[v].cold_wall.append(wall)
                results[v].cold_cpu.append(cpu)
                results[v].cold_peak.append(peak)
                results[v].warnings = warnings
                print(f"  cold run {r + 1}/{runs} {VARIANTS[v]}: {cpu:.2f} s CPU, {wall:.2f} s wall, "
                      f"{peak:.1f} MiB peak", flush=True)
    # Warm: kept-alive workers, one per variant, rebuilding in turn, the order reversed every
    # round so that no variant always follows the same one. A fresh pair of workers for
    # every run: a process keeps its own speed for its lifetime (two workers of the *same*
    # variant differed by up to 3 % over six rounds), so one pair for all rounds measured
    # that difference as if it were the extension's.
    for run in range(runs):
        workers: dict[str, Stepper] = {}
        try:
            for v in (variants if run % 2 == 0 else variants[::-1]):
                workers[v] = Stepper(site, v)
                if run == 0:
                    results[v].first = workers[v].start["first"]
                    if not with_cold:
                        results[v].warnings = workers[v].start["warnings_first_build"]
            for r in range(REBUILDS_PER_WORKER):
                for v in (variants if (run + r) % 2 == 0 else variants[::-1]):
                    results[v].warm.append(workers[v].step())
        finally:
            for w in workers.values():
                w.close()
    for v in variants:
        print(f"  in-process {VARIANTS[v]}: first build {results[v].first['cpu']:.2f} s CPU; warm "
              "rebuilds " + ", ".join(f"{w['cpu']:.2f}" for w in results[v].warm) + " s CPU", flush=True)
    return results


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_table(title: str, results: dict[str, Result], pages: int) -> list[str]:
    """Markdown table (printed, and reused in the report)."""
    plain = results["plain"]
    lines = [f"### {title}", "",
             "| Build | Cold CPU (s) | Cold × plain | Cold wall (s) | Warm CPU (s) | Warm × plain | "
             "Warm wall (s) | Cold ms/page | Warnings |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for v, res in results.items():
        lines.append(
            f"| {VARIANTS[v]} | {res.cold:.2f} | {res.cold / plain.cold:.3f}× | {_median(res.cold_wall):.2f} | "
            f"{res.warm_median():.2f} | {res.warm_median() / plain.warm_median():.3f}× | "
            f"{res.warm_median('wall'):.2f} | {1000 * res.cold / pages:.1f} | {res.warnings} |")
    return lines


def memory_table(results: dict[str, Result]) -> list[str]:
    """Peak resident memory of the cold builds (each its own process), against (a)."""
    plain = results["plain"].peak
    lines = ["### Peak memory (cold builds, resident set of the build process, median)", "",
             "| Build | Peak (MiB) | × plain |", "| --- | ---: | ---: |"]
    for v, res in results.items():
        lines.append(f"| {VARIANTS[v]} | {res.peak:.1f} | {res.peak / plain:.3f}× |")
    return lines


def _short(func: tuple[str, int, str]) -> str:
    path, line, name = func
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line}({name})"


def profile_delta(site: Site, rows: int = 22) -> dict[str, list[str]]:
    """cProfile builds (a) and (b) the same way; list functions by extra cumulative time in (b).

    A plain profile of (b) mixes our cost with MkDocs' and Material's; the difference per
    function shows where the extra seconds go, including costs we cause elsewhere (a bigger
    page for the search plugin to parse, more stashed HTML for Markdown to restore).
    """
    stats: dict[str, dict[str, pstats.Stats]] = {}
    for v in ("plain", "ours"):
        prof = site.root / f"{v}.prof"
        warm_builds(site, v, 1, profile=prof)
        stats[v] = {"first build": pstats.Stats(str(prof)), "warm rebuild": pstats.Stats(f"{prof}.warm")}
    result: dict[str, list[str]] = {}
    for phase in ("first build", "warm rebuild"):
        ours = {k: v[3] for k, v in stats["ours"][phase].stats.items()}  # type: ignore[attr-defined]
        plain = {k: v[3] for k, v in stats["plain"][phase].stats.items()}  # type: ignore[attr-defined]
        calls = {k: v[1] for k, v in stats["ours"][phase].stats.items()}  # type: ignore[attr-defined]
        delta = sorted(((ours[k] - plain.get(k, 0.0), k) for k in ours), reverse=True)
        lines = [f"{'extra s':>8} {'(b) s':>8} {'(a) s':>8} {'calls (b)':>10}  function"]
        for extra, key in delta[:rows]:
            lines.append(f"{extra:8.3f} {ours[key]:8.3f} {plain.get(key, 0.0):8.3f} {calls[key]:10d}  {_short(key)}")
        result[phase] = lines
    return result


def paired_overhead(plain: Result, ours: Result, key: str = "pages") -> float:
    """Median over rounds of (b) − (a): warm rebuild r of each worker ran in the same round."""
    return _median([o[key] - p[key] for p, o in zip(plain.warm, ours.warm, strict=True)])


def scaling_table(site: Site, small: dict[str, Result], big: Site,
                  large: dict[str, Result]) -> tuple[list[str], bool, str]:
    """Per-page CPU cost at both sizes; our overhead per page must not grow with pages.

    Linearity is judged on the per-page phases (Markdown conversion and the page_context
    event, where the extension and the search indexer work). Whole builds are shown too,
    but their cost per page grows with the nav in every variant (each page renders the
    whole nav), and at 2,000 pages that growth and the machine's drift dwarf our share.
    """
    lines = [f"### Scaling ({site.md_files} vs {big.md_files} pages, in-process builds, CPU time)", "",
             "| Pages | Build | First build (s) | Warm rebuild (s) | Warm ms/page | Markdown + indexing, "
             "warm (ms/page) | of which GC (s) |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    overhead: list[float] = []
    for s, res in ((site, small), (big, large)):
        for v in ("plain", "ours"):
            r = res[v]
            lines.append(f"| {s.md_files} | {VARIANTS[v]} | {r.first['cpu']:.2f} | {r.warm_median():.2f} | "
                         f"{1000 * r.warm_median() / s.md_files:.1f} | "
                         f"{1000 * r.warm_median('pages') / s.md_files:.2f} | {r.warm_median('gc'):.2f} |")
        overhead.append(1000 * paired_overhead(res["plain"], res["ours"]) / s.md_files)
    growth = overhead[1] / overhead[0] if overhead[0] > 0 else float("nan")
    lines += ["", "Extension overhead per page in Markdown conversion and indexing, warm (median of each "
              "round's (b) − (a)): "
              f"{overhead[0]:.2f} → {overhead[1]:.2f} ms/page (×{growth:.2f})."]
    linear = growth <= LINEAR_TOLERANCE
    detail = f"overhead per page ×{growth:.2f} at 10× the pages; limit ×{LINEAR_TOLERANCE}"
    return lines, linear, detail


# ---------------------------------------------------------------------------------------
# Instruction counts (valgrind)
# ---------------------------------------------------------------------------------------

#: valgrind's summary line: ``==123== I   refs:      69,288,929,373`` (spacing varies by version).
_IREFS_RE = re.compile(r"I\s+refs:\s+([\d,]+)")
#: Rebuilds in the counted serve loop; the first build is counted alone and subtracted.
INSTRUCTION_REBUILDS = 2


def count_instructions(cmd: list[str], cwd: Path) -> int:
    """Instructions executed by ``cmd`` (and nothing else), counted by valgrind's cachegrind.

    CPU time on a shared virtual machine varies by ±15 % from one build to the next, more
    than the overhead being measured; the instruction count of the same build varies by
    less than 0.1 %. It is a proxy (an instruction is not a fixed amount of time: cache
    misses are not counted), so the timing figures stay the reference; see the module
    docstring.
    """
    full = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", *cmd]
    proc = subprocess.run(full, cwd=cwd, env=env(), capture_output=True, text=True, check=False)
    found = _IREFS_RE.findall(proc.stderr)
    if proc.returncode != 0 or not found:
        raise SystemExit(f"valgrind {' '.join(cmd[:4])} … failed:\n{proc.stderr[-3000:]}")
    return int(found[-1].replace(",", ""))


def measure_instructions(site: Site, variants: list[str]) -> dict[str, dict[str, int]]:
    """Per variant: a cold ``mkdocs build`` and a serve-loop rebuild, in instructions.

    Cold is a fresh ``python -m mkdocs build``. Warm is the worker of the timed benchmark
    (first build, then edit a page and rebuild) run twice, with no rebuild and with
    :data:`INSTRUCTION_REBUILDS`; the difference divided by the rebuilds is one rebuild.
    Variants run side by side (their pages are separate copies); a variant's two workers run
    one after the other, because the second edits the page the first reads.
    """
    import concurrent.futures

    def cold(variant: str) -> int:
        return count_instructions([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(site.configs[variant]),
                                   "-d", str(site.root / f"site-{variant}-instr")], site.root)

    def warm(variant: str) -> tuple[int, int]:
        counts = []
        for runs in (0, INSTRUCTION_REBUILDS):
            counts.append(count_instructions(_worker_cmd(site, variant, runs), site.root))
        return counts[0], counts[1]

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        colds = {v: pool.submit(cold, v) for v in variants}
        warms = {v: pool.submit(warm, v) for v in variants}
        result: dict[str, dict[str, int]] = {}
        for v in variants:
            first, with_rebuilds = warms[v].result()
            result[v] = {"cold": colds[v].result(), "first": first,
                         "warm": (with_rebuilds - first) // INSTRUCTION_REBUILDS}
    return result


def instruction_table(counts: dict[str, dict[str, int]]) -> tuple[list[str], list[str]]:
    """The table and the target lines, as ratios to the plain build."""
    plain = counts["plain"]
    lines = ["### Instructions (valgrind cachegrind; deterministic, a proxy for CPU time)", "",
             "| Build | Cold (10⁹ instr.) | Cold × plain | Warm rebuild (10⁹ instr.) | Warm × plain |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for v, c in counts.items():
        lines.append(f"| {VARIANTS[v]} | {c['cold'] / 1e9:.2f} | {c['cold'] / plain['cold']:.3f}× | "
                     f"{c['warm'] / 1e9:.2f} | {c['warm'] / plain['warm']:.3f}× |")
    ours = counts["ours"]
    cold_ratio, warm_ratio = ours["cold"] / plain["cold"], ours["warm"] / plain["warm"]
    checks = [f"- instructions, cold ≤ {TARGET_COLD}× plain: **{verdict(cold_ratio <= TARGET_COLD)}** "
              f"({cold_ratio:.3f}×)",
              f"- instructions, warm ≤ {TARGET_WARM}× plain: **{verdict(warm_ratio <= TARGET_WARM)}** "
              f"({warm_ratio:.3f}×)"]
    return lines, checks


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=200, help="content pages (default 200)")
    parser.add_argument("--refs", type=int, default=400, help="bibliography entries (default 400)")
    parser.add_argument("--cites-per-page", type=int, default=20, help="citation groups per page (default 20)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; medians reported (default 3)")
    parser.add_argument("--skip-bibtex", action="store_true", help="do not build with mkdocs-bibtex")
    parser.add_argument("--skip-scaling", action="store_true", help="skip the 10x pages scaling run")
    parser.add_argument("--scaling-runs", type=int, default=2,
                        help="runs for the 10x pages site (2 warm rebuilds each; default 2)")
    parser.add_argument("--profile", action="store_true", help="cProfile build (b) and print citereview hot spots")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions with valgrind instead of timing (deterministic; slow)")
    parser.add_argument("--keep", action="store_true", help="keep the generated sites (path printed)")
    parser.add_argument("--report", type=Path, help="also write the tables as Markdown to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--site-dir", help=argparse.SUPPRESS)
    parser.add_argument("--edit-page", help=argparse.SUPPRESS)
    parser.add_argument("--edit-key", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    parser.add_argument("--stepwise", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--floor-worker", help=argparse.SUPPRESS)
    parser.add_argument("--floor-mode", default="shipped", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.floor_worker:
        floor_worker(args.floor_worker, args.floor_mode)
        return 0

    if args.worker:
        worker(args.worker, args.site_dir, args.runs, args.edit_page, args.edit_key, args.profile_out,
               args.stepwise)
        return 0

    variants = ["plain", "ours"]
    bibtex_note = ""
    if not args.skip_bibtex:
        try:
            from importlib.metadata import PackageNotFoundError, version

            bibtex_note = f"mkdocs-bibtex {version('mkdocs-bibtex')} (pybtex plain style, no pandoc)"
            variants.append("bibtex")
        except PackageNotFoundError:  # optional: report it and go on
            bibtex_note = "mkdocs-bibtex not installed (pip install -r bench/requirements.txt): skipped"

    compile_package()
    root = Path(tempfile.mkdtemp(prefix="citebench-"))
    report: list[str] = []
    try:
        print(f"Generating {args.pages} pages x {args.cites_per_page} citations, {args.refs} references "
              f"in {root}", flush=True)
        site = generate(root / "small", args.pages, args.refs, args.cites_per_page)
        if args.instructions:
            if shutil.which("valgrind") is None:
                raise SystemExit("--instructions needs valgrind (Debian: apt-get install valgrind)")
            print("Counting instructions with valgrind (each build runs about 20 times slower)", flush=True)
            lines, checks = instruction_table(measure_instructions(site, variants))
            report += [f"Setup: {site.md_files} pages, {args.cites_per_page} citation groups/page, "
                       f"{args.refs} references; Python {sys.version.split()[0]}.", "", *lines, "",
                       "### Targets for (b) citereview", "", *checks]
            print("\n" + "\n".join(report))
            if args.report:
                args.report.write_text("\n".join(report) + "\n", encoding="utf-8")
            return 0
        print(f"Measuring (median of {args.runs}); {bibtex_note or 'mkdocs-bibtex skipped'}", flush=True)
        small = measure(site, variants, args.runs)

        head = (f"{site.md_files} pages ({args.pages} content + index + references list), "
                f"{args.cites_per_page} citation groups/page, {args.refs} references, median of {args.runs}; "
                f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
        report += [f"Setup: {head}.", ""]
        report += print_table("Build times", small, site.md_files)
        report += ["", *memory_table(small)]
        print("Measuring the fixed costs of a cold build", flush=True)
        report += ["", *floor_table(cold_floor(site, args.runs), small)]
        cold_ratio = small["ours"].cold / small["plain"].cold
        warm_ratio = small["ours"].warm_median() / small["plain"].warm_median()
        memory_ratio = small["ours"].peak / small["plain"].peak
        cold_spread = spread(small["plain"].cold_cpu, small["ours"].cold_cpu)
        warm_spread = spread([w["cpu"] for w in small["plain"].warm], [w["cpu"] for w in small["ours"].warm])
        checks = [
            f"- cold ≤ {TARGET_COLD}× plain: **{verdict(cold_ratio <= TARGET_COLD)}** ({cold_ratio:.3f}×; "
            f"{cold_spread})",
            f"- warm ≤ {TARGET_WARM}× plain: **{verdict(warm_ratio <= TARGET_WARM)}** ({warm_ratio:.3f}×; "
            f"{warm_spread})",
            f"- peak memory ≤ {TARGET_MEMORY}× plain: **{verdict(memory_ratio <= TARGET_MEMORY)}** "
            f"({memory_ratio:.3f}×: {small['ours'].peak:.1f} vs {small['plain'].peak:.1f} MiB)",
        ]

        if not args.skip_scaling:
            big_pages = args.pages * 10
            print(f"Scaling: generating {big_pages} pages ({args.scaling_runs} runs)", flush=True)
            big = generate(root / "big", big_pages, args.refs, args.cites_per_page)
            large = measure(big, ["plain", "ours"], args.scaling_runs, with_cold=False)
            lines, linear, detail = scaling_table(site, small, big, large)
            report += ["", *lines]
            checks.append(f"- linear in pages: **{verdict(linear)}** ({detail})")
        report += ["", "### Targets for (b) citereview", "", *checks]

        if args.profile:
            print("Profiling build (b) ...", flush=True)
            for label, lines in profile_delta(site).items():
                report += ["", f"### cProfile, {label}: extra cumulative time of (b) over (a), per function",
                           "", "```", *lines, "```"]

        print("\n" + "\n".join(report))
        if args.report:
            args.report.write_text("\n".join(report) + "\n", encoding="utf-8")
    finally:
        if args.keep:
            print(f"\nSites kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The citation benchmark still runs end to end (on a tiny site; no timing is asserted).

``bench/build_bench.py`` drives MkDocs in worker processes over a line protocol; a change
to the extension or to MkDocs could break it silently until someone needs the figures.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_benchmark_runs_on_a_tiny_site() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "build_bench.py"), "--pages", "4", "--refs", "12",
         "--cites-per-page", "3", "--runs", "1", "--skip-bibtex", "--scaling-runs", "1"],
        cwd=ROOT, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True, text=True,
        timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "| (b) citereview |" in out and "| (a) plain Material |" in out
    assert "cold ≤ 1.15× plain" in out and "warm ≤ 1.05× plain" in out
    # Peak memory of every cold build, its table and its target (reported, never asserted).
    cold_runs = [line for line in out.splitlines() if line.strip().startswith("cold run ")]
    assert len(cold_runs) == 2 and all(re.search(r", \d+\.\d MiB peak$", line) for line in cold_runs), cold_runs
    assert "### Peak memory (cold builds" in out
    assert re.search(r"^\| \(b\) citereview \| \d+\.\d \| \d+\.\d{3}× \|$", out, re.M), out
    assert re.search(r"peak memory ≤ 1\.3× plain: \*\*(PASS|FAIL)\*\* \(\d+\.\d{3}×: \d+\.\d vs \d+\.\d MiB\)", out)
    # The fixed costs of a cold build, with citeproc-py as shipped and as stock.
    assert "Where the cold overhead goes" in out
    assert "Format 12 references with citeproc-py, as shipped" in out and "own code, for comparison" in out
    # Two warm rebuilds per variant, from the kept-alive workers.
    rebuilds = [line for line in out.splitlines() if line.strip().startswith("in-process (b)")]
    assert rebuilds and rebuilds[0].count(",") == 1, rebuilds
    # The scaling section, at 10x the pages (40), with its linearity verdict.
    assert "### Scaling (6 vs 42 pages" in out and "linear in pages:" in out
    assert "median of each round's (b) − (a)" in out


def _bench():
    spec = importlib.util.spec_from_file_location("build_bench", ROOT / "bench" / "build_bench.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_bench"] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


def test_scaling_overhead_is_taken_round_by_round() -> None:
    """Each round's pair shares the machine's speed: the median of the differences is used,
    not the difference of the medians (here 0.5 against 0.1)."""
    bench = _bench()
    plain = bench.Result(warm=[{"pages": 1.0}, {"pages": 2.0}, {"pages": 3.0}])
    ours = bench.Result(warm=[{"pages": 1.5}, {"pages": 2.1}, {"pages": 3.6}])
    assert bench.paired_overhead(plain, ours) == pytest.approx(0.5)

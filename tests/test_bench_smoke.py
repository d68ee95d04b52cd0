"""The citation benchmark still runs end to end (on a tiny site; no timing is asserted).

``bench/build_bench.py`` drives MkDocs in worker processes over a line protocol; a change
to the extension or to MkDocs could break it silently until someone needs the figures.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
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
    # Each target with the paired ratio and, from two pairs on, its confidence interval.
    assert re.search(r"cold ≤ 1\.15× plain: \*\*(PASS|FAIL)\*\* \(\d\.\d{3}×; paired \d\.\d{3}×, 1 pair, "
                     r"no interval\)", out), out
    assert re.search(r"warm ≤ 1\.05× plain: \*\*(PASS|FAIL)\*\* \(\d\.\d{3}×; paired \d\.\d{3}×, 95 % CI "
                     r"\d\.\d{3}–\d\.\d{3}×, 2 pairs\)", out), out
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


def test_the_interval_of_a_paired_ratio_narrows_with_runs_and_holds_its_median() -> None:
    bench = _bench()
    noisy = [1.0, 1.2, 0.9, 1.1, 1.05, 0.95, 1.15, 1.0]
    low, high = bench.median_interval(noisy)
    assert low <= bench.statistics.median(noisy) <= high and high - low > 0.05
    many_low, many_high = bench.median_interval(noisy * 8)
    assert low <= many_low <= many_high <= high and many_high - many_low < high - low
    assert bench.median_interval(noisy) == (low, high)  # fixed seed: the same runs, the same interval
    assert bench.spread([2.0, 2.0], [2.2, 2.1]).startswith("paired 1.075×, 95 % CI ")


def test_instruction_counts_run_on_a_tiny_site() -> None:
    """``--instructions`` counts a cold build and a serve rebuild of each variant with
    valgrind and reports the ratios (never asserted: they are the benchmark's output).
    Skipped without valgrind, except under CI (``.ci/run`` installs it), as browser tests are."""
    if shutil.which("valgrind") is None:
        if os.environ.get("CI"):
            pytest.fail("valgrind is not installed (CI is set: .ci/run installs it)", pytrace=False)
        pytest.skip("valgrind is not installed (Debian: apt-get install valgrind)")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "build_bench.py"), "--pages", "2", "--refs", "6",
         "--cites-per-page", "2", "--skip-bibtex", "--instructions"],
        cwd=ROOT, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True, text=True,
        timeout=1800, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    rows = {m.group(1): m.groups()[1:] for m in re.finditer(
        r"^\| \((a|b)\) [^|]+ \| (\d+\.\d\d) \| (\d\.\d{3})× \| (\d+\.\d\d) \| (\d\.\d{3})× \|$", out, re.M)}
    assert set(rows) == {"a", "b"}, out
    assert rows["a"][1] == "1.000" and rows["a"][3] == "1.000"
    # A build executes billions of instructions; a rebuild fewer than a fresh process.
    assert float(rows["b"][0]) > 0.1 and 0 < float(rows["b"][2]) < float(rows["b"][0]), rows
    assert re.search(r"instructions, cold ≤ 1\.15× plain: \*\*(PASS|FAIL)\*\* \(\d\.\d{3}×\)", out)
    assert re.search(r"instructions, warm ≤ 1\.05× plain: \*\*(PASS|FAIL)\*\* \(\d\.\d{3}×\)", out)

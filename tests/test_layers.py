"""The package's layers (``.importlinter``): each imports only from the layers below it, and
the core and the CSL layer import no Markdown and no MkDocs. Checked with import-linter, on
the package as it is and on a copy with one upward import added (the contract must catch it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run([str(LINT), "--config", str(root / ".importlinter"), "--no-cache"], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300)


def test_every_layer_imports_only_downwards() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "citereview", tmp_path / "citereview", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    model = tmp_path / "citereview" / "core" / "model.py"
    model.write_text(model.read_text(encoding="utf-8") + "\nfrom ..mdext import state  # noqa\n", encoding="utf-8")
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "citereview.core.model -> citereview.mdext.state" in result.stdout

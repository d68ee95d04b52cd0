"""The command line: ``citereview check | queue | import | verify`` (see :mod:`.commands`)."""

from __future__ import annotations

from .commands import main

__all__ = ["main"]

"""Reading ``mkdocs.yml`` outside MkDocs: one loader for the checker, queue, import and verify.

The command-line tools run without building, so they read the config themselves, the way
MkDocs would: ``!ENV`` resolves from the environment (as pyyaml-env-tag does), and other tags
(``!!python/name:``, ``!relative``) are read as plain values instead of failing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

DEFAULT_BIBLIOGRAPHY = "docs/bibliography.yaml"


class ConfigError(Exception):
    """mkdocs.yml is unreadable or malformed: a usage problem (exit 2), not a content one."""

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader with MkDocs' ``!ENV`` and a plain reading of every other tag."""


def _env_tag(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """``!ENV VAR`` or ``!ENV [VAR1, VAR2, default]``: the first variable set, else the default."""
    if isinstance(node, yaml.ScalarNode):
        names, default = [loader.construct_scalar(node)], None
    elif isinstance(node, yaml.SequenceNode):
        items = loader.construct_sequence(node)
        names, default = (items[:-1], items[-1]) if len(items) > 1 else (items, None)
    else:
        return None
    for name in names:
        value = os.environ.get(str(name))
        if value is not None:
            return yaml.safe_load(value) if value.strip() else value
    return default


def _other_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


_ConfigLoader.add_constructor("!ENV", _env_tag)
_ConfigLoader.add_multi_constructor("", _other_tag)


def read_mkdocs_config(path: str | Path, *, missing_ok: bool = False) -> dict[str, Any]:
    """``mkdocs.yml`` as a dict; ``{}`` for a missing file when ``missing_ok``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        if missing_ok:
            return {}
        raise ConfigError(str(path), f"cannot read config: {exc.strerror or exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"cannot read config: {getattr(exc, 'strerror', None) or exc}") from exc
    try:
        config = yaml.load(text, Loader=_ConfigLoader) or {}  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(where, f"malformed YAML: {getattr(exc, 'problem', None) or exc}") from exc
    if not isinstance(config, dict):
        raise ConfigError(f"{path}:1:1", "config must be a mapping")
    return config


def extension_options(config: dict[str, Any]) -> dict[str, Any]:
    """The ``citereview`` entry of ``markdown_extensions`` (list or mapping form)."""
    exts = config.get("markdown_extensions") or []
    items = exts.items() if isinstance(exts, dict) else (
        next(iter(e.items())) if isinstance(e, dict) and e else (e, None) for e in exts)
    for name, options in items:
        if name == "citereview":
            return dict(options) if isinstance(options, dict) else {}
    return {}


def bibliography_path(config_path: str | Path, config: dict[str, Any]) -> Path:
    """The extension's ``bibliography`` option, relative to mkdocs.yml's folder."""
    option = Path(str(extension_options(config).get("bibliography") or DEFAULT_BIBLIOGRAPHY))
    return option if option.is_absolute() else Path(config_path).resolve().parent / option

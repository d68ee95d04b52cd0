"""Checks on composed YAML nodes that PyYAML's constructors do not make.

YAML says keys of one mapping are unique, but PyYAML keeps the last of two ``title:`` lines
without a word, so an entry edited twice silently loses the first value. The bibliography
and front-matter readers compose nodes anyway (for line numbers), so they look for
duplicates here, on the nodes, and report the second occurrence with its line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import yaml

#: libyaml's C loader is about ten times faster and keeps line marks; fall back to Python's.
_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class TextDatesLoader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader that keeps dates as text: YAML's date parsing raises on ``2026-13-01``
    instead of letting us report it with its line, and CSL wants strings anyway."""


TextDatesLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class DuplicateKey:
    """A key seen again in the same mapping: 1-based positions of both occurrences."""

    key: str
    line: int
    col: int
    first_line: int

    def message(self) -> str:
        return (f"duplicate key '{self.key}' (first on line {self.first_line}); "
                "YAML would silently keep only the last value: remove one")


def duplicate_keys(node: yaml.Node | None, *, deep: bool = True, line_offset: int = 0) -> Iterator[DuplicateKey]:
    """Every repeated scalar key in ``node``'s mappings (nested ones too, when ``deep``).

    ``line_offset``: lines before the YAML text in its file (front matter's ``---``).
    """
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                line = key_node.start_mark.line + 1 + line_offset
                if key_node.value in seen:
                    yield DuplicateKey(key_node.value, line, key_node.start_mark.column + 1, seen[key_node.value])
                else:
                    seen[key_node.value] = line
            if deep:
                yield from duplicate_keys(value_node, line_offset=line_offset)
    elif deep and isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from duplicate_keys(item, line_offset=line_offset)

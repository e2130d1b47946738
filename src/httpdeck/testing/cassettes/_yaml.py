"""Cassette YAML: vcrpy's safe loader and dumper, without anchors or aliases.

vcrpy never writes YAML anchors (`&a`) or aliases (`*a`), and an alias can make
a 500-byte file expand into gigabytes ("billion laughs"), so the loader refuses
them and the dumper never writes them. Every reader of cassette files
(replay, `httpdeck cassette show|lint|redact|stats`) comes through `load_yaml`,
by way of `cassettes._format.parse`.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from vcr.serializers import yamlserializer  # type: ignore[import-untyped]

# vcrpy's own safe loader (it also builds the few benign python/* tags old
# cassettes hold: tuples, BytesIO bodies); libyaml's safe loader otherwise.
_Loader: Any = getattr(yamlserializer, "_CassetteLoader", yaml.CSafeLoader)
# Where an anchor (&a) or an alias (*a) may start a node. Without one, the
# text holds no alias and loads directly; with one (or a look-alike inside a
# string), the node graph is checked first.
_ANCHOR = re.compile(r"(?:^|[\s\[{,])[&*][^\s\[\]{},]", re.MULTILINE)
OLD_TAGS = ("python/object:vcr.request.Request", "frozenset")  # what vcrpy < 1.0 wrote


class AliasError(Exception):
    """The YAML repeats a node through an alias; `line` is where its anchor is."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _refuse_aliases(root: yaml.Node) -> None:
    """Raise `AliasError` at the first node reached twice: an alias. One
    pass over the nodes, so an alias bomb is refused before it expands."""
    seen: set[int] = set()
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise AliasError(int(node.start_mark.line) + 1)
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))


def load_yaml(text: str) -> Any:
    """Parse cassette YAML with the safe loader, refusing anchors and aliases:
    vcrpy never writes them, and an alias can make a 500-byte file expand into
    gigabytes ("billion laughs"). Every reader of cassette files comes here."""
    if _ANCHOR.search(text) is None:
        return yaml.load(text, Loader=_Loader)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _refuse_aliases(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


_BaseDumper: Any = getattr(yamlserializer, "_CassetteDumper", yaml.CDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """vcrpy's dumper, without anchors: an object shared by two interactions
    is written twice (the loader refuses aliases)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(document: Any) -> str:
    """`document` as vcrpy's dumper writes it (keys sorted), never with anchors."""
    text: str = yaml.dump(document, Dumper=_Dumper)
    return text

"""Manifest files read as kubectl reads them before it sends them to the API server.

kubectl reads YAML with go-yaml v2 and sends JSON. Where PyYAML reads the same text differently, the
offline validator would judge another object than the API server does: `y` is a boolean, `0o17` and
`1e1` are numbers, `12.0` arrives as the integer 12, `1:20` and `2024-01-01` stay strings, a number as a
key becomes a string. A duplicate key, which kubectl silently resolves to the last value, is an error here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any, ClassVar, Final

import yaml
from yaml.constructor import ConstructorError

# The API server refuses larger requests, so a larger file cannot be one object anyway.
MAX_FILE_BYTES: Final = 3 * 1024 * 1024
_MERGE_TAG: Final = "tag:yaml.org,2002:merge"
_BOOL_TAG: Final = "tag:yaml.org,2002:bool"
_INT_TAG: Final = "tag:yaml.org,2002:int"
_FLOAT_TAG: Final = "tag:yaml.org,2002:float"
# Plain scalars as go-yaml v2 (which kubectl reads YAML with) resolves them, where PyYAML differs: y and n
# are booleans; 0o17, 09 and 1e1 are numbers; 1:20 (base 60 to PyYAML) and 2024-01-01 are strings.
_GO_YAML_SCALARS: Final = (
    (
        _BOOL_TAG,
        r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
        "yYnNtTfFoO",
    ),
    (_INT_TAG, r"^[-+]?(?:0[bB][01_]+|0[oO][0-7_]+|0[xX][0-9a-fA-F_]+|[0-9][0-9_]*)$", "-+0123456789"),
    (
        _FLOAT_TAG,
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
)
_REPLACED_TAGS: Final = frozenset({_BOOL_TAG, _INT_TAG, _FLOAT_TAG, "tag:yaml.org,2002:timestamp"})


class UnreadableFile(Exception):
    """The file is not a YAML stream of documents: it cannot be read, is not UTF-8, or not YAML."""


class ManifestLoader(yaml.SafeLoader):
    """YAML as kubectl reads it (sigs.k8s.io/yaml on go-yaml v2) and sends it on as JSON, where that
    differs from PyYAML: a duplicate key is an error, a scalar key a string, a whole number an integer."""

    bool_values: ClassVar = {**yaml.SafeLoader.bool_values, "y": True, "n": False}

    def construct_go_int(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node)).replace("_", "")
        sign, digits = (-1, text[1:]) if text[0] == "-" else (1, text.lstrip("+"))
        if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
            # Go reads 017 as octal; 09, which is not, as the float 9.
            return sign * int(digits, 8 if set(digits) <= set("01234567") else 10)
        return sign * int(digits, 0)

    def construct_go_float(self, node: yaml.ScalarNode) -> float | int:
        value = self.construct_yaml_float(node)
        # JSON has one kind of number: 12.0 reaches the API server as 12, an integer.
        return int(value) if math.isfinite(value) and value.is_integer() and abs(value) < 2**63 else value

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        explicit = sum(1 for key_node, _ in node.value if key_node.tag != _MERGE_TAG)
        self.flatten_mapping(node)  # merged pairs first, then the explicit ones, which override them
        first_explicit = len(node.value) - explicit
        mapping: dict[Hashable, Any] = {}
        explicit_keys: set[Hashable] = set()
        for i, (key_node, value_node) in enumerate(node.value):
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found unhashable key",
                    key_node.start_mark,
                )
            key = _json_key(key)
            if i >= first_explicit:
                if key in explicit_keys:
                    raise ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key!r}",
                        key_node.start_mark,
                    )
                explicit_keys.add(key)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


ManifestLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _REPLACED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _pattern, _first in _GO_YAML_SCALARS:
    ManifestLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))
ManifestLoader.add_constructor(_INT_TAG, ManifestLoader.construct_go_int)
ManifestLoader.add_constructor(_FLOAT_TAG, ManifestLoader.construct_go_float)


def _json_key(key: Hashable) -> Hashable:
    """A key as it is in JSON, where sigs.k8s.io/yaml turns scalar keys into strings: 1 -> "1"."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int | float):
        return str(key)
    return key


def read_documents(path: Path) -> list[object]:
    """The documents of a file; UnreadableFile saying why there are none to check."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UnreadableFile(f"{size} bytes, larger than the API server accepts ({MAX_FILE_BYTES})")
        data = path.read_bytes()
    except OSError as e:
        raise UnreadableFile(f"cannot read: {e.strerror or e}") from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UnreadableFile(f"not UTF-8: byte 0x{data[e.start]:02x} at offset {e.start}") from e
    try:
        return [d for d in yaml.load_all(text, Loader=ManifestLoader) if d is not None]
    except yaml.YAMLError as e:
        raise UnreadableFile(f"not YAML: {e}") from e
    except RecursionError as e:
        raise UnreadableFile("not YAML that can be read: nested too deeply") from e

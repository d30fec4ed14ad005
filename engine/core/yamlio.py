"""YAML reading for forms, rulesets and force files: line numbers kept, no YAML 1.1 surprises.

PyYAML's default resolver turns ``yes``/``no``/``on``/``off`` into booleans, which would silently
change QA answers such as ``answers: [yes, no]``. Here they stay strings; only ``true``/``false``
are booleans. Every mapping is a :class:`LineDict` that remembers the line of each key.
"""

from __future__ import annotations

import os
import pickle
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import yaml

from engine.core.errors import ConfigError, Location
from engine.core.files import input_file_problem


class LineDict(dict[str, Any]):
    """A dict that remembers the 1-based line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A list that remembers the 1-based line of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


# libyaml's parser when PyYAML was built with it (about ten times faster); constructors and resolvers
# stay the Python ones below, so the results and the marks are the same either way.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc]
    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # a node met a second time was reached through an alias (*name): refused, since a few lines
        # of aliases can stand for billions of items ("billion laughs") that every check would walk
        if node in self.constructed_objects or node in self.recursive_objects:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "anchors and aliases (&name, *name) are not allowed: write the value out",
                node.start_mark,
            )
        return super().construct_object(node, deep=deep)


# Only true/false are booleans (YAML 1.2 core schema), so "yes"/"no" answers stay strings.
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


#: how deeply a form, ruleset, catalogue or force file may nest (the bundled ones: under 10 levels).
#: Checked first, from the parser's events: building nested values recurses (100,000 brackets crashed
#: the interpreter), and libyaml slows with the square of the depth (10,000 took seconds)
MAX_YAML_DEPTH = 64
_OPENS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSES = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _too_deep(source: str, line: int | None, column: str = "") -> ConfigError:
    return ConfigError(
        f"nested more than {MAX_YAML_DEPTH} levels deep{column}: no QAM file nests so far; "
        "is this the right file?",
        location=Location(source, line),
    )


def _check_depth(text: str, source: str) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=_Base):
        if isinstance(event, _OPENS):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                mark = event.start_mark
                column = f" (column {mark.column + 1})" if mark else ""
                raise _too_deep(source, mark.line + 1 if mark else None, column)
        elif isinstance(event, _CLOSES):
            depth -= 1


#: parsed texts kept (pickled) per process: a weekly run, a publish and a run context each read the
#: same forms, rulesets and registry texts again, and unpickling is ~25 times cheaper than parsing.
#: Bounded by count and by size (characters of text plus bytes of pickle; bundled files are ~20 KB);
#: a text taking more than an eighth of the size is parsed every time
_CACHE_ENTRIES = 512
_CACHE_SIZE = 32 * 2**20
_cache: OrderedDict[str, bytes] = OrderedDict()
_cache_size = 0
_cache_lock = threading.Lock()


def _new_cache_lock() -> None:
    # a child forked while another thread held the lock would wait on it forever: it gets its own
    global _cache_lock
    _cache_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_cache_lock)


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text; a syntax error becomes a ConfigError naming ``source`` and the line.

    Each text is parsed once per process: later calls get a fresh copy of the value (callers may
    change what they get). The value does not depend on ``source``, so the text alone is the key;
    failures are not kept, so an invalid text raises the same error, naming its source, every time.
    """
    global _cache_size
    with _cache_lock:
        pickled = _cache.get(text)
        if pickled is not None:
            _cache.move_to_end(text)
    if pickled is not None:
        return pickle.loads(pickled)  # noqa: S301 - pickled by this process, just below
    value = _parse_yaml(text, source)
    pickled = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    size = len(text) + len(pickled)
    if size <= _CACHE_SIZE // 8:
        with _cache_lock:
            if text not in _cache:
                _cache[text] = pickled
                _cache_size += size
            while len(_cache) > _CACHE_ENTRIES or _cache_size > _CACHE_SIZE:
                old_text, old_pickled = _cache.popitem(last=False)
                _cache_size -= len(old_text) + len(old_pickled)
    return value


def _parse_yaml(text: str, source: str) -> Any:
    try:
        _check_depth(text, source)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # libyaml puts an error at the end of a file without a final newline on the line after it
        last_line = max(1, len(text.splitlines()))
        line = min(mark.line + 1, last_line) if mark else None
        if "maximum nesting depth" in str(exc.problem):  # libyaml 0.2.5's own limit (PyYAML 6.0.4)
            raise _too_deep(source, line) from None
        raise ConfigError(
            f"invalid YAML: {exc.problem or exc.context}", location=Location(source, line)
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", location=Location(source)) from None


#: the largest form, ruleset, catalogue or force file read (the biggest bundled one is ~20 KB)
MAX_YAML_BYTES = 5 * 2**20


def load_yaml(path: Path) -> Any:
    """Read and parse a YAML file (UTF-8); unreadable files raise ConfigError naming the file."""
    unsafe = input_file_problem(path, MAX_YAML_BYTES, "configuration file")
    if unsafe is not None:
        raise ConfigError(unsafe, location=Location(str(path)))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read file: {exc.strerror or exc}", location=Location(str(path))) from None
    except UnicodeDecodeError:
        raise ConfigError("file is not UTF-8 text", location=Location(str(path))) from None
    return parse_yaml(text, str(path))

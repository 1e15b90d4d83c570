"""Reading YAML the project's users write (catalog, stack files) with errors fit to show.

PyYAML's messages quote the offending line; in a stack file that line can hold a credential. The
errors here name the file position and the problem only, and keys only when they look like keys
(:func:`policies.contract.redact.key`).

Bounded: the document is composed first (linear in its text) and measured before any Python object
is built. Aliases share one node, so a 605-byte document of nested aliases can stand for billions of
values ("billion laughs"); such a document is refused when its expanded size is out of proportion
to its text (:data:`EXPANSION_RATIO` nodes per character, at least :data:`EXPANSION_FLOOR`).
Recursive aliases and nesting deeper than :data:`MAX_DEPTH` are refused there too, numbers longer
than :data:`~policies.contract.redact.MAX_INT_DIGITS` digits are refused instead of failing inside CPython, and
a key given twice in one mapping is an error, as it is for the Pulumi CLI (keys brought in by a
``<<`` merge may still be overridden).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from policies.contract import redact

MAX_DEPTH: Final = 64
#: Expanded nodes allowed per character of text, and at least this many in any document.
EXPANSION_RATIO: Final = 10
EXPANSION_FLOOR: Final = 10_000


class YamlProblem(ValueError):
    """Unreadable YAML, described without quoting the document."""


def _line(node: Node) -> str:
    mark = node.start_mark
    return f"line {mark.line + 1}" if mark is not None else "somewhere"


# libyaml's parser when PyYAML was built with it (the wheels are), else PyYAML's own: the same
# nodes, marks and errors, ten times faster (the catalog is read at every plan).
if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    """SafeLoader refusing duplicate keys and over-long integers."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Node] = {}
        for key_node, _value in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node)
            try:
                first = seen.get(key)
            except TypeError:  # unhashable: the base class reports it
                continue
            if first is not None:
                raise YamlProblem(
                    f"not valid YAML ({_line(key_node)}: key {redact.key(key)} is given twice, "
                    f"first at {_line(first)}; Pulumi refuses duplicate keys)"
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: ScalarNode) -> int:
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > redact.MAX_INT_DIGITS:
            raise YamlProblem(
                f"not valid YAML ({_line(node)}: a number of {digits} digits; at most "
                f"{redact.MAX_INT_DIGITS} are read)"
            )
        return super().construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def measure(root: Node, budget: int) -> tuple[int, int]:
    """(expanded size in nodes, depth) of a composed document, each shared (aliased) node counted
    as often as it is used, computed once per node. Raises YamlProblem for a recursive alias,
    nesting deeper than MAX_DEPTH, or an expanded size over ``budget``."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_: set[int] = set()  # nodes entered and not left: the path from the root
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        nid = id(node)
        if leaving:
            kids = _children(node)
            open_.discard(nid)
            size[nid] = 1 + sum(size[id(k)] for k in kids)
            depth[nid] = 1 + max((depth[id(k)] for k in kids), default=-1)
            if depth[nid] > MAX_DEPTH:
                raise YamlProblem(f"nested more than {MAX_DEPTH} levels deep")
            if size[nid] > budget:
                raise YamlProblem(
                    f"aliases expand it to more than {budget:,} values, out of proportion to its "
                    f"text (at most {EXPANSION_RATIO} per character): refused unread"
                )
            continue
        if nid in size:
            continue
        if nid in open_:
            raise YamlProblem("an alias refers to itself (recursive structure)")
        open_.add(nid)
        stack.append((node, True))
        for kid in _children(node):
            if id(kid) in open_:
                raise YamlProblem("an alias refers to itself (recursive structure)")
            if id(kid) not in size:
                stack.append((kid, False))
    return size[id(root)], depth[id(root)]


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` with errors that never quote the document, bounded as the module says."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        measure(node, max(EXPANSION_FLOOR, EXPANSION_RATIO * len(text)))
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise YamlProblem(
            f"not valid YAML ({where}{exc.problem or exc.context or 'syntax error'})"
        ) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML ({type(exc).__name__})") from None
    except RecursionError:
        raise YamlProblem(f"nested more than {MAX_DEPTH} levels deep") from None
    except YamlProblem:
        raise
    except (ValueError, OverflowError) as exc:
        # A scalar PyYAML could not convert (a date such as 2024-13-01); the exception text is not
        # shown: it may quote the value.
        raise YamlProblem(
            f"not valid YAML (a value cannot be read: {type(exc).__name__})"
        ) from None
    finally:
        loader.dispose()

"""Reading YAML the project's users write (catalog, stack files) with errors fit to show.

PyYAML's messages quote the offending line; in a stack file that line can hold a credential. The
errors here name the file position and the problem only. Recursive aliases and absurd nesting are
refused instead of overflowing the stack later.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_DEPTH = 64


class YamlProblem(ValueError):
    """Unreadable YAML, described without quoting the document."""


def _check_depth(value: Any, depth: int = 0, seen: frozenset[int] = frozenset()) -> None:
    if depth > MAX_DEPTH:
        raise YamlProblem(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, (dict, list)):
        if id(value) in seen:
            raise YamlProblem("an alias refers to itself (recursive structure)")
        inner = seen | {id(value)}
        for item in value.values() if isinstance(value, dict) else value:
            _check_depth(item, depth + 1, inner)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` with errors that never quote the document."""
    try:
        data = yaml.safe_load(text)
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
    _check_depth(data)
    return data
